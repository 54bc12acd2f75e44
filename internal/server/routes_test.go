package server_test

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/httpapi"
)

// publicRoutes is the complete list of routes reachable without a token.
// Adding a public route means adding it here, on purpose.
var publicRoutes = []string{
	"GET /healthz",
	"GET /readyz",
	"GET /v1/openapi.json",
	"POST /v1/auth/login",
	"POST /v1/signup",
	"POST /v1/webhooks/twilio/:tenant/inbound", // Twilio: signed with the tenant's auth token
	"POST /v1/webhooks/twilio/:tenant/status",  // Twilio: signed with the tenant's auth token
}

// consoleRoutes serve the web console's files (internal/console): public
// on purpose, and no data behind them; the console reads everything through
// /v1 with the user's token.
var consoleRoutes = []string{
	"GET /",
	"GET /app/*",
}

// TestEveryRouteDeclaresPermission walks Fiber's own route list, so a route
// mounted outside the route table is caught too.
func TestEveryRouteDeclaresPermission(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	table := map[string]httpapi.Route{}
	for _, r := range app.Server.Routes {
		table[r.Method+" "+r.Path] = r
	}
	var public []string
	for _, fr := range app.Server.App.GetRoutes(true) {
		if fr.Method == http.MethodHead {
			continue // Fiber adds HEAD for every GET
		}
		key := fr.Method + " " + fr.Path
		if slices.Contains(consoleRoutes, key) {
			continue
		}
		r, ok := table[key]
		require.True(t, ok, "route %s is mounted but not in the route table", key)
		require.NotEmpty(t, r.Permission, "route %s has no permission", key)
		if r.Permission == httpapi.Public {
			public = append(public, key)
		}
	}
	sort.Strings(public)
	require.Equal(t, publicRoutes, public)
}

// TestUnauthenticatedRefused sends every non-public route without a token.
func TestUnauthenticatedRefused(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	for _, r := range app.Server.Routes {
		if r.Permission == httpapi.Public {
			continue
		}
		path := strings.ReplaceAll(r.Path, ":id", "0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7a")
		resp := app.Do(t, apptest.Req{Method: r.Method, Path: path, Body: "{}"})
		require.Equal(t, http.StatusUnauthorized, resp.Status, "%s %s: %s", r.Method, r.Path, resp.Body)
		require.Equal(t, `Bearer realm="customerhub"`, resp.Header.Get("WWW-Authenticate"))
		require.Equal(t, httpapi.ContentTypeProblem, resp.Header.Get("Content-Type"))
	}
}

// TestOpenAPIMatchesRoutes checks the served description lists every
// route with its permission.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	resp := app.Get(t, "/v1/openapi.json", "")
	require.Equal(t, http.StatusOK, resp.Status)
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	resp.JSON(t, &doc)
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3.1"), doc.OpenAPI)
	n := 0
	for _, r := range app.Server.Routes {
		path := r.Path
		for _, seg := range strings.Split(path, "/") {
			if strings.HasPrefix(seg, ":") {
				path = strings.Replace(path, seg, "{"+seg[1:]+"}", 1)
			}
		}
		op, ok := doc.Paths[path][strings.ToLower(r.Method)]
		require.True(t, ok, "%s %s missing from OpenAPI", r.Method, path)
		if r.Permission != httpapi.Public {
			require.Equal(t, r.Permission, op["x-permission"], "%s %s", r.Method, path)
		}
		n++
	}
	ops := 0
	for _, methods := range doc.Paths {
		ops += len(methods)
	}
	require.Equal(t, n, ops, "OpenAPI lists operations that are not routes")
}
