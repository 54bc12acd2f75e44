package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/httpapi"
)

// ifMatchBodies are valid bodies for every route that takes If-Match, so
// that only the precondition (or the object's absence) can refuse them. A
// new If-Match route must add its body here, or TestIfMatch fails.
var ifMatchBodies = map[string]any{
	"PATCH /v1/customers/:id":                  map[string]any{"name": "Renamed"},
	"PATCH /v1/contacts/:id":                   map[string]any{"name": "Renamed"},
	"PATCH /v1/users/:id":                      map[string]any{"name": "Renamed"},
	"PATCH /v1/roles/:id":                      map[string]any{"description": "Renamed"},
	"PATCH /v1/customer-groups/:id":            map[string]any{"name": "Renamed"},
	"PATCH /v1/customer-group-categories/:key": map[string]any{"position": 100},
	"PATCH /v1/sales-orders/:id":               map[string]any{"lines": []any{map[string]any{"sku": "OWNED", "quantity": "2"}}},
	"PATCH /v1/locations/:id":                  map[string]any{"label": "Renamed"},
	"PATCH /v1/settings":                       map[string]any{"dormant_after_days": 200},
	"PATCH /v1/custom-fields/:id":              map[string]any{"label": "Renamed"},
	"PATCH /v1/payment-terms/:id":              map[string]any{"name": "Renamed"},
	"PATCH /v1/price-lists/:id":                map[string]any{"name": "Renamed"},
	"PATCH /v1/items/:id":                      map[string]any{"name": "Renamed"},
	"PATCH /v1/sms/settings":                   map[string]any{"time_zone": "Europe/Paris"},
	"PATCH /v1/sms/templates/:id":              map[string]any{"name": "Renamed"},
}

// unknownParams name objects that exist in no tenant.
var unknownParams = map[string]string{":id": uuid.NewString(), ":key": "no_such_category"}

// TestIfMatch checks RFC 9110's If-Match on every route of the route table
// that takes it: the object is looked up first, so an unknown object or
// another tenant's is 404 whatever the header says; on an object that
// exists, * matches, a stale or weak tag is 412, a malformed header is 400
// naming it, and no header is 428.
func TestIfMatch(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	a, b := app.Signup(t), app.Signup(t)
	objsA, objsB := createOwned(t, app, a), createOwned(t, app, b)
	// Categories are named by key, and both tenants have owned_category:
	// the other tenant's must be one the caller's tenant lacks.
	resp := app.Post(t, "/v1/customer-groups", b.AdminToken, map[string]any{"category": "only_in_b", "code": "B1", "name": "B one"})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	objsB["/v1/customer-group-categories/"] = map[string]string{":key": "only_in_b"}

	type want struct {
		status          int
		code, fieldCode string
	}
	notFound := want{status: http.StatusNotFound, code: "not_found"}
	stale := want{status: http.StatusPreconditionFailed, code: "version_mismatch"}
	malformed := want{status: http.StatusBadRequest, code: "invalid_request", fieldCode: "invalid_if_match"}
	check := func(t *testing.T, method, path, token string, body any, ifMatch string, w want) *apptest.Response {
		t.Helper()
		req := apptest.Req{Method: method, Path: path, Token: token, Body: body}
		if ifMatch != "" {
			req.Headers = map[string]string{httpapi.HeaderIfMatch: ifMatch}
		}
		resp := app.Do(t, req)
		require.Equal(t, w.status, resp.Status, "%s %s If-Match %s: %s", method, path, ifMatch, resp.Body)
		if w.code != "" {
			p := resp.Map(t)
			require.Equal(t, w.code, p["code"], "%s", resp.Body)
			if w.fieldCode != "" {
				require.Equal(t, []any{map[string]any{"field": httpapi.HeaderIfMatch, "code": w.fieldCode, "message": p["errors"].([]any)[0].(map[string]any)["message"]}},
					p["errors"])
			}
		}
		return resp
	}

	checked := map[string]bool{}
	for _, r := range app.Server.Routes {
		if !r.IfMatch {
			continue
		}
		key := r.Method + " " + r.Path
		body, ok := ifMatchBodies[key]
		require.True(t, ok, "route %s takes If-Match but has no body in ifMatchBodies", key)
		checked[key] = true
		path, other, unknown := r.Path, "", ""
		if strings.Contains(r.Path, "/:") {
			path, other = objsA.pathFor(t, r.Path), objsB.pathFor(t, r.Path)
			unknown = r.Path
			for name, v := range unknownParams {
				unknown = strings.Replace(unknown, name, v, 1)
			}
			require.NotContains(t, unknown, "/:", "route %s has a parameter without an unknown value", key)
		}
		t.Run(strings.ReplaceAll(key, "/", "_"), func(t *testing.T) {
			t.Parallel()
			if unknown != "" {
				for _, tag := range []string{`"99"`, `W/"1"`, `*`, `"1", "2"`} {
					check(t, r.Method, unknown, a.AdminToken, body, tag, notFound)
					// Another tenant's object is no more there than an
					// unknown one.
					check(t, r.Method, other, a.AdminToken, body, tag, notFound)
				}
			}
			for _, tag := range []string{`1`, `"1`, `W/1`, `*, "1"`, `"1" "2"`} {
				check(t, r.Method, path, a.AdminToken, body, tag, malformed)
			}
			check(t, r.Method, path, a.AdminToken, body, "", want{status: http.StatusPreconditionRequired, code: "if_match_required"})
			for _, tag := range []string{`"99"`, `W/"1", W/"2", W/"3"`, `"abc"`, `"0"`} {
				check(t, r.Method, path, a.AdminToken, body, tag, stale)
			}
			resp := check(t, r.Method, path, a.AdminToken, body, `*`, want{status: http.StatusOK})
			etag := resp.Header.Get("ETag")
			require.NotEmpty(t, etag)
			// The tag just issued matches, alone or in a list.
			check(t, r.Method, path, a.AdminToken, body, `"99", `+etag, want{status: http.StatusOK})
		})
	}
	require.Len(t, checked, len(ifMatchBodies), "ifMatchBodies lists a route that takes no If-Match")
}

// TestEveryUpdateTakesIfMatch: updates are PATCH with If-Match (DESIGN.md
// section 5); a PATCH route without it would lose concurrent changes.
func TestEveryUpdateTakesIfMatch(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	for _, r := range app.Server.Routes {
		require.Equal(t, r.Method == http.MethodPatch, r.IfMatch, "%s %s", r.Method, r.Path)
	}
}
