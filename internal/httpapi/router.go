package httpapi

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
)

// Permission markers for routes that need no particular permission.
const (
	// Public routes need no credentials (signup, login, health).
	Public = "public"
	// Authenticated routes need a valid token but no permission (the
	// caller's own profile and tokens).
	Authenticated = "authenticated"
)

// Route is one entry of the route table: the handler, the permission it
// needs, and what the OpenAPI description says of it.
type Route struct {
	Method string
	// Path in Fiber syntax, relative to the router's prefix: /customers/:id.
	Path string
	// Permission is a permission name, Public or Authenticated. Required.
	Permission string
	Summary    string
	// Description is prose for the OpenAPI operation, for the routes that
	// need more than their Summary; what the route table already says
	// (permission, If-Match, paging, idempotency) is added to it.
	Description string
	Tag         string
	// Request and Response are zero values of the body types, for the
	// OpenAPI description (nil when there is no body).
	Request  any
	Response any
	// RequestMedia is the media type of a request body that is not JSON
	// (multipart/form-data, application/x-www-form-urlencoded): Request
	// then describes its fields, one member a field, under that type.
	RequestMedia string
	// Produces lists the media types of a success body that is not JSON
	// (a file download, an event stream); Response stays nil for them.
	Produces []string
	// Status is the success status; 200 when zero.
	Status int
	// Also lists the route's other success answers, status → a zero value
	// of the body's type: a dry run's 200 beside the job's 202, say.
	Also map[int]any
	// Query lists the accepted query parameters; any other is a 400. A name
	// ending in ".*" accepts every parameter with that prefix.
	Query []Param
	// IfMatch marks an update that needs an If-Match header (read with
	// IfMatch): 428 without one, 412 when it names no current version.
	IfMatch bool
	// StreamBody marks a route that reads its body as a stream (an
	// upload) under its own limit: the server's body limit does not apply
	// (see LimitBody), and an Idempotency-Key's fingerprint leaves the
	// body out (reading it would buffer it whole).
	StreamBody bool
	// MapError turns the errors of the route's package into HTTP errors
	// (its mapError); the route applies it to whatever Handler returns,
	// so handlers return their package's errors as they are. Usually set
	// once for a package's routes with Router.WithErrors.
	MapError func(error) error
	Handler  fiber.Handler
}

// Param describes a query parameter.
type Param struct {
	Name        string
	Type        string // string, integer, boolean; default string
	Description string
}

// Guard returns the handlers that authenticate a request and check the
// permission before the route's handler runs.
type Guard func(permission string) []fiber.Handler

// Router registers routes on a Fiber router and keeps the table.
type Router struct {
	group          fiber.Router
	prefix         string
	guard          Guard
	idempotencyTTL time.Duration
	// mapError is given to the routes registered without one.
	mapError func(error) error
	// routes is shared by the routers WithErrors derives, so that the
	// table holds every route whichever router registered it.
	routes *[]Route
}

// NewRouter returns a router mounting routes under prefix on app. Its
// POST routes keep an Idempotency-Key for idempotencyTTL
// (DefaultIdempotencyTTL when zero).
func NewRouter(app fiber.Router, prefix string, guard Guard, idempotencyTTL time.Duration) *Router {
	if idempotencyTTL <= 0 {
		idempotencyTTL = DefaultIdempotencyTTL
	}
	return &Router{group: app.Group(prefix), prefix: prefix, guard: guard, idempotencyTTL: idempotencyTTL, routes: &[]Route{}}
}

// WithErrors returns a router registering on the same prefix and table
// whose routes map their handlers' errors with mapError (Route.MapError)
// unless they name their own. A domain's Routes calls it once with its
// package's mapError: one line instead of a field on every entry of its
// route table, and the table stays what the API is.
func (r *Router) WithErrors(mapError func(error) error) *Router {
	c := *r
	c.mapError = mapError
	return &c
}

// Handle registers a route. A route without a permission is a programming
// error and panics at start-up, so none can ship.
func (r *Router) Handle(rt Route) {
	if rt.Permission == "" {
		panic(fmt.Sprintf("httpapi: route %s %s has no permission", rt.Method, rt.Path))
	}
	if rt.Status == 0 {
		rt.Status = fiber.StatusOK
	}
	handlers := []fiber.Handler{checkQuery(rt.Query)}
	if rt.Permission != Public {
		handlers = append(handlers, r.guard(rt.Permission)...)
		if rt.Method == fiber.MethodPost {
			handlers = append(handlers, requireIdempotency(r.idempotencyTTL, rt.StreamBody))
		}
	}
	if rt.MapError == nil {
		rt.MapError = r.mapError
	}
	handlers = append(handlers, mapErrors(rt.Handler, rt.MapError))
	r.group.Add(rt.Method, rt.Path, handlers...)
	rt.Path = r.prefix + rt.Path
	*r.routes = append(*r.routes, rt)
}

// Routes returns the route table, with full paths.
func (r *Router) Routes() []Route { return *r.routes }

// mapErrors returns h applying mapError to the errors it returns; h itself
// without one.
func mapErrors(h fiber.Handler, mapError func(error) error) fiber.Handler {
	if mapError == nil {
		return h
	}
	return func(c *fiber.Ctx) error {
		if err := h(c); err != nil {
			return mapError(err)
		}
		return nil
	}
}

// checkQuery refuses unknown or repeated query parameters and values that
// are not valid UTF-8 or hold control characters, naming the parameter. A
// repeated one is refused because handlers read only its first value while
// a proxy or log may go by another.
func checkQuery(allowed []Param) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var bad *Error
		seen := map[string]bool{}
		c.Context().QueryArgs().VisitAll(func(k, v []byte) {
			if bad != nil {
				return
			}
			name := string(k)
			switch {
			case !utf8.Valid(k) || !utf8.Valid(v):
				bad = BadRequest(safeName(name), "invalid_utf8", "query parameters must be valid UTF-8")
			case strings.ContainsFunc(string(v), func(r rune) bool { return r < 0x20 || r == 0x7f }):
				bad = BadRequest(name, "invalid_characters", "must not contain control characters")
			case !paramAllowed(allowed, name):
				bad = BadRequest(name, "unknown_parameter", "unknown query parameter")
			case seen[name]:
				bad = BadRequest(name, "duplicate_parameter", "must appear at most once")
			}
			seen[name] = true
		})
		if bad != nil {
			return bad
		}
		return c.Next()
	}
}

func paramAllowed(allowed []Param, name string) bool {
	for _, p := range allowed {
		if p.Name == name || (strings.HasSuffix(p.Name, ".*") && strings.HasPrefix(name, strings.TrimSuffix(p.Name, "*")) && len(name) > len(p.Name)-1) {
			return true
		}
	}
	return false
}

func safeName(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "?")
}
