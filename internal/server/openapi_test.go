package server_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/httpapi"
)

// TestServerDocument holds the served description to what client
// generators need: a valid document, every schema typed, PascalCase
// component names, a description and the error answers per operation.
func TestServerDocument(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	resp := app.Get(t, "/v1/openapi.json", "")
	require.Equal(t, http.StatusOK, resp.Status)

	loaded, err := openapi3.NewLoader().LoadFromData(resp.Body)
	require.NoError(t, err)
	require.NoError(t, loaded.Validate(context.Background()))

	doc := resp.Map(t)
	components := doc["components"].(map[string]any)["schemas"].(map[string]any)
	pascal := regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	for name := range components {
		require.Regexp(t, pascal, name)
	}

	// No schema that says nothing: {} is any value, which a generator
	// can only type as "unknown".
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch v := v.(type) {
		case map[string]any:
			require.False(t, len(v) == 0 && !strings.HasSuffix(at, "/security/0/bearer"), "untyped schema at %s", at)
			for k, x := range v {
				walk(x, at+"/"+k)
			}
		case []any:
			for _, x := range v {
				walk(x, at+"/0")
			}
		}
	}
	walk(components, "#/components/schemas")

	for _, r := range app.Server.Routes {
		path := r.Path
		for _, seg := range strings.Split(path, "/") {
			if strings.HasPrefix(seg, ":") {
				path = strings.Replace(path, seg, "{"+seg[1:]+"}", 1)
			}
		}
		op := doc["paths"].(map[string]any)[path].(map[string]any)[strings.ToLower(r.Method)].(map[string]any)
		walk(op, path)
		name := r.Method + " " + path
		require.NotEmpty(t, op["description"], name)
		responses := op["responses"].(map[string]any)
		want := []string{"429", "default"}
		if r.Permission != httpapi.Public {
			want = append(want, "401", "403")
		}
		if strings.Contains(path, "{") {
			want = append(want, "404")
		}
		if r.IfMatch {
			want = append(want, "412", "428")
		}
		if r.Request != nil {
			want = append(want, "400", "413", "415", "422")
		}
		for _, status := range want {
			require.Contains(t, responses, status, name)
		}
		if r.Request != nil {
			require.Contains(t, op, "requestBody", name)
		}
	}
}
