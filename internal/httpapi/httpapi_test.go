package httpapi

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/database"
)

// TestClassifyDatabaseUnavailable: a database that restarts, drops or
// refuses connections, or a transaction that loses a conflict, is the
// server's passing trouble, not a bug: 503 with Retry-After, never 500.
func TestClassifyDatabaseUnavailable(t *testing.T) {
	t.Parallel()
	pg := func(code string) error {
		return fmt.Errorf("list customers: %w", &pgconn.PgError{Severity: "FATAL", Code: code, Message: "test"})
	}
	unavailable := []struct {
		name string
		err  error
	}{
		{"AdminShutdown", pg("57P01")},
		{"CrashShutdown", pg("57P02")},
		{"CannotConnectNow", pg("57P03")},
		{"ConnectionException", pg("08000")},
		{"ConnectionDoesNotExist", pg("08003")},
		{"ConnectionFailure", pg("08006")},
		{"CannotEstablish", pg("08001")},
		{"SerializationFailure", pg("40001")},
		{"Deadlock", pg("40P01")},
		{"TooManyConnections", pg("53300")},
		{"ConnClosed", fmt.Errorf("get customer: %w", pgconn.ErrConnClosed)},
		{"UnexpectedEOF", fmt.Errorf("commit: %w", io.ErrUnexpectedEOF)},
		{"MarkedByTheTransaction", fmt.Errorf("begin transaction: %w: %w", database.ErrUnavailable, errors.New("anything"))},
	}
	for _, tc := range unavailable {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			he := classify(tc.err)
			require.Equal(t, fiber.StatusServiceUnavailable, he.Status)
			require.Equal(t, "unavailable", he.Code)
			require.Equal(t, "1", he.Headers[fiber.HeaderRetryAfter])
			require.ErrorIs(t, he.Internal, tc.err, "logged, not sent")
		})
	}
	for _, code := range []string{"23505", "42P01", "22P02", "XX000"} {
		t.Run("Internal"+code, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, fiber.StatusInternalServerError, classify(pg(code)).Status)
		})
	}
}
