package console

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/httpapi"
)

// TestNotBuilt: a binary built without the console (a fresh checkout's
// go run, before scripts/build-console.sh) starts, and answers /app with
// a 503 problem that says how to build it.
func TestNotBuilt(t *testing.T) {
	app := fiber.New(fiber.Config{ErrorHandler: httpapi.NewErrorHandler(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	var f files
	app.Get(Path+"/*", func(c *fiber.Ctx) error { return f.serve(c) })
	resp, err := app.Test(httptest.NewRequest("GET", "/app/customers", nil), -1)
	require.NoError(t, err)
	require.Equal(t, fiber.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
}
