package customer

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/customer/fieldspec"
	"github.com/customerhub/customerhub/internal/httpapi"
)

// TestOpenAPIDescribesSpecification: the OpenAPI description, reflected
// from the generated request and response types, names every field of
// the specification, with null allowed exactly where a field can be
// cleared.
func TestOpenAPIDescribesSpecification(t *testing.T) {
	t.Parallel()
	r := httpapi.NewRouter(fiber.New(), "/v1", func(string) []fiber.Handler { return nil }, 0)
	NewHandler(nil, nil, nil).Routes(r)
	raw, err := json.Marshal(httpapi.OpenAPI(httpapi.Info{Title: "test"}, r.Routes()))
	require.NoError(t, err)
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Type any `json:"type"`
				} `json:"properties"`
				Required []string `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	req, ok := doc.Components.Schemas["CustomerRequest"]
	require.True(t, ok)
	resp, ok := doc.Components.Schemas["CustomerResponse"]
	require.True(t, ok)

	var names []string
	for _, f := range fieldspec.Customer {
		names = append(names, f.Name)
		require.Contains(t, req.Properties, f.Name)
		require.Contains(t, resp.Properties, f.Name)
		nullable := slices.Contains(asStrings(resp.Properties[f.Name].Type), "null")
		require.Equal(t, !f.NotNull, nullable, "%s: the response shows null exactly when the field can be empty", f.Name)
	}
	require.ElementsMatch(t, append(slices.Clone(names), "groups", "custom"), slices.Collect(maps.Keys(req.Properties)))
	require.Equal(t, responseNames, resp.Required, "the response's members, in order")
}

func asStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, s := range v {
			out = append(out, s.(string))
		}
		return out
	}
	return nil
}
