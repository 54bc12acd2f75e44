package httpapi

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
)

// BenchmarkImmutable measures what Fiber's Immutable setting costs one
// request through our middleware (request ID, access log and metrics,
// recover, deadline, query check) and a handler reading a path parameter,
// a query parameter and a header, without the network or a database, so
// that the difference is not lost in their noise.
func BenchmarkImmutable(b *testing.B) {
	for _, immutable := range []bool{false, true} {
		name := "Off"
		if immutable {
			name = "On"
		}
		b.Run(name, func(b *testing.B) {
			logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
			app := fiber.New(fiber.Config{Immutable: immutable, ErrorHandler: NewErrorHandler(logger), DisableStartupMessage: true})
			app.Use(AssignRequestID(), Observe(logger, NewMetrics(prometheus.NewRegistry())), Recover(logger), Deadline(time.Second))
			r := NewRouter(app, "/v1", func(string) []fiber.Handler {
				return []fiber.Handler{func(c *fiber.Ctx) error {
					if c.Get(fiber.HeaderAuthorization) == "" {
						return Unauthorized("token required")
					}
					return c.Next()
				}}
			}, 0)
			r.Handle(Route{Method: fiber.MethodGet, Path: "/customers/:id", Permission: "customers:read", Query: PageParams,
				Handler: func(c *fiber.Ctx) error {
					id, err := UUIDParam(c, "id")
					if err != nil {
						return err
					}
					limit, err := Limit(c)
					if err != nil {
						return err
					}
					return c.JSON(map[string]any{"id": id, "limit": limit})
				}})
			handler := app.Handler()
			var req fasthttp.Request
			req.Header.SetMethod(fiber.MethodGet)
			req.SetRequestURI("/v1/customers/0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7a?limit=20")
			req.Header.Set(fiber.HeaderAuthorization, "Bearer chub_0123456789abcdef")
			var fctx fasthttp.RequestCtx
			b.ReportAllocs()
			for b.Loop() {
				fctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1234}, nil)
				handler(&fctx)
				if fctx.Response.StatusCode() != fiber.StatusOK {
					b.Fatalf("status %d: %s", fctx.Response.StatusCode(), fctx.Response.Body())
				}
				// What fasthttp's server does between two requests on a
				// connection.
				fctx.ResetUserValues()
				fctx.Response.Reset()
			}
		})
	}
}
