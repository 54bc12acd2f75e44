package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/customerhub/customerhub/internal/tenant"
)

const requestIDKey = "request_id"

// HeaderRequestID carries the request ID in and out.
const HeaderRequestID = "X-Request-ID"

// RequestID returns the request's ID.
func RequestID(c *fiber.Ctx) string {
	id, _ := c.Locals(requestIDKey).(string)
	return id
}

// AssignRequestID keeps a well-formed incoming X-Request-ID (from a proxy)
// or makes one, and echoes it on the response.
func AssignRequestID() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id := c.Get(HeaderRequestID)
		if !validRequestID(id) {
			id = uuid.NewString()
		} else {
			id = string([]byte(id)) // copy out of Fiber's buffer
		}
		c.Locals(requestIDKey, id)
		c.Set(HeaderRequestID, id)
		c.SetUserContext(tenant.WithRequestID(c.UserContext(), id))
		return c.Next()
	}
}

func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

// Metrics are the HTTP server's Prometheus collectors.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the HTTP collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "customerhub_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "customerhub_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// Observe is the outermost middleware after the request ID: it turns a
// returned error into its problem+json response right away (so the status
// is final), then writes one structured access-log line and the metrics.
func Observe(logger *slog.Logger, m *Metrics) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		if err != nil {
			if herr := c.App().Config().ErrorHandler(c, err); herr != nil {
				logger.Error("error handler failed", "err", herr)
				c.Status(fiber.StatusInternalServerError)
			}
		}
		status := c.Response().StatusCode()
		route := "unmatched"
		if r := c.Route(); r != nil && r.Path != "" && r.Path != "/" {
			route = r.Path
		}
		elapsed := time.Since(start)
		method := methodLabel(c.Method())
		if m != nil {
			m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
			m.duration.WithLabelValues(method, route).Observe(elapsed.Seconds())
		}
		if !logger.Enabled(c.UserContext(), slog.LevelInfo) {
			return nil
		}
		attrs := []slog.Attr{
			slog.String("request_id", RequestID(c)),
			slog.String("method", method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Float64("latency_ms", float64(elapsed.Microseconds())/1000),
			slog.String("ip", c.IP()),
		}
		if p, ok := tenant.FromContext(c.UserContext()); ok {
			attrs = append(attrs, slog.String("tenant_id", p.TenantID.String()), slog.String("user_id", p.UserID.String()))
		}
		logger.LogAttrs(c.UserContext(), slog.LevelInfo, "request", attrs...)
		return nil
	}
}

// methodLabel maps a request method to a constant of a fixed set. Metric
// label values live as long as the process: they must not alias request
// memory (Fiber reuses it), and an unusual method must not mint a series of
// its own.
func methodLabel(m string) string {
	switch m {
	case fiber.MethodGet:
		return fiber.MethodGet
	case fiber.MethodHead:
		return fiber.MethodHead
	case fiber.MethodPost:
		return fiber.MethodPost
	case fiber.MethodPut:
		return fiber.MethodPut
	case fiber.MethodPatch:
		return fiber.MethodPatch
	case fiber.MethodDelete:
		return fiber.MethodDelete
	case fiber.MethodOptions:
		return fiber.MethodOptions
	}
	return "OTHER"
}

// Recover turns a panic in a handler into an error (a 500 problem), logging
// the stack; the process keeps serving.
func Recover(logger *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) (err error) {
		defer func() {
			if r := recover(); r != nil {
				logger.Error("panic in handler", "panic", fmt.Sprint(r), "request_id", RequestID(c), "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return c.Next()
	}
}

// Deadline gives every request a context with a deadline, which handlers
// pass to PostgreSQL, Redis and River (Fiber's own context has none).
func Deadline(timeout time.Duration) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx, cancel := context.WithTimeout(c.UserContext(), timeout)
		defer cancel()
		c.SetUserContext(ctx)
		return c.Next()
	}
}

// CloseUnreadBody closes the connection after a response when the
// request's body was streamed and not read to its end (the request was
// answered before its body mattered: authentication, the rate limit, an
// unknown route, a refused upload). fasthttp leaves the rest of such a
// body in the connection's buffer and would parse it as the client's
// next request: a request hidden in a body would be served (request
// smuggling past a front that inspects requests), and a client's real
// next request would meet a 400. A body a handler read (c.Body(), a
// streamed upload read to its end by fasthttp's own Body) leaves no
// stream behind, and the connection is kept. It must be the outermost
// middleware.
func CloseUnreadBody() fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := c.Next()
		if c.Request().IsBodyStream() {
			c.Context().SetConnectionClose()
		}
		return err
	}
}

// LimitBody enforces the body limit once request bodies are streamed
// (fiber.Config.StreamRequestBody: fasthttp then buffers a body up to its
// BodyLimit and hands a larger or chunked one over as an unchecked
// stream, which c.Body() would read whole): a body over limit is a 413.
// The streaming routes ("METHOD /path") read their stream themselves,
// under limits of their own.
func LimitBody(limit int, streaming map[string]bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if streaming[c.Method()+" "+strings.TrimSuffix(c.Path(), "/")] {
			return c.Next()
		}
		req := c.Request()
		cl := req.Header.ContentLength()
		if cl > limit {
			return bodyTooLarge(limit)
		}
		if cl < 0 && req.IsBodyStream() {
			b, err := io.ReadAll(io.LimitReader(req.BodyStream(), int64(limit)+1))
			if err != nil {
				return BadRequest("", "unreadable_body", "the request body could not be read")
			}
			if len(b) > limit {
				return bodyTooLarge(limit)
			}
			req.SetBody(b)
		}
		return c.Next()
	}
}

func bodyTooLarge(limit int) *Error {
	return &Error{Status: fiber.StatusRequestEntityTooLarge, Code: "body_too_large",
		Message: "the request body is larger than " + strconv.Itoa(limit) + " bytes"}
}
