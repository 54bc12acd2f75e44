package httpapi

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/validation"
)

type testAudit struct {
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt *time.Time `json:"updated_at"`
}

// testOwner is embedded through a pointer: its fields vanish when it is nil.
type testOwner struct {
	OwnerID uuid.UUID `json:"owner_id"`
}

type testAddress struct {
	Street string `json:"street"`
	City   string `json:"city,omitempty"`
}

type testNode struct {
	Name     string     `json:"name"`
	Parent   *testNode  `json:"parent"`
	Children []testNode `json:"children,omitempty"`
}

// testLevel encodes as text, like a status enum with MarshalText.
type testLevel int

func (l testLevel) MarshalText() ([]byte, error) { return []byte("level"), nil }

type testCustomer struct {
	testAudit
	*testOwner
	ID       uuid.UUID        `json:"id"`
	Email    *string          `json:"email"`
	Tags     []string         `json:"tags"`
	Attrs    map[string]int64 `json:"attrs,omitempty"`
	Address  testAddress      `json:"address"`
	Previous *testAddress     `json:"previous"`
	Tree     testNode         `json:"tree"`
	Raw      json.RawMessage  `json:"raw,omitzero"`
	Extra    any              `json:"extra"`
	Photo    []byte           `json:"photo"`
	Score    float64          `json:"score"`
	Count    int              `json:"count,string"`
	Version  int64            `json:"version"`
	Active   bool             `json:"active"`
	Level    testLevel        `json:"level"`
	Hidden   string           `json:"-"`
	NoTag    string
	internal string //nolint:unused // an unexported field: the schema leaves it out (TestOpenAPI/Fields checks)
}

type testPatch struct {
	Name    patch.Field[string]      `json:"name"`
	RepID   patch.Field[uuid.UUID]   `json:"rep_id"`
	Address patch.Field[testAddress] `json:"address"`
	Note    string                   `json:"note"`
}

type testPage[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// FieldError clashes with validation.FieldError, which the Problem schema
// brings in.
type FieldError struct {
	Reason string `json:"reason"`
}

type testHealth struct {
	Status string `json:"status"`
}

func testRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/healthz", Permission: Public, Tag: "operations", Summary: "The process is up", Response: testHealth{}},
		{Method: "POST", Path: "/v1/customers", Permission: "customers:write", Tag: "customers", Summary: "Create a customer",
			Status: 201, Request: testPatch{}, Response: testCustomer{}},
		{Method: "GET", Path: "/v1/customers", Permission: "customers:read", Tag: "customers", Summary: "List customers",
			Response: testPage[testCustomer]{},
			Query: append([]Param{{Name: "q", Description: "text to find"}, {Name: "attr.*", Description: "attribute equals"}},
				PageParams...)},
		{Method: "GET", Path: "/v1/customers/:id", Permission: "customers:read", Tag: "customers", Summary: "Get a customer",
			Response: testCustomer{}},
		{Method: "PATCH", Path: "/v1/customers/:id", Permission: "customers:write", Tag: "customers", Summary: "Change a customer",
			Request: &testPatch{}, Response: &testCustomer{}, IfMatch: true},
		{Method: "DELETE", Path: "/v1/customers/:id", Permission: "customers:delete", Tag: "customers", Summary: "Delete a customer",
			Status: 204},
		{Method: "GET", Path: "/v1/customers/id", Permission: "customers:read", Tag: "customers", Summary: "A literal path"},
		{Method: "GET", Path: "/v1/groups/:group_id/members/:name", Permission: "groups:read", Tag: "groups",
			Summary: "Why a member is in a group", Response: []FieldError{}},
		{Method: "GET", Path: "/v1/me", Permission: Authenticated, Tag: "auth", Summary: "The calling user",
			Response: map[string]any{}},
	}
}

// testDoc is the document for testRoutes as a client sees it: marshaled
// and decoded again.
func testDoc(t *testing.T) map[string]any {
	t.Helper()
	raw, err := json.Marshal(OpenAPI(Info{Title: "test", Version: "1.0.0", Description: "A test API."}, testRoutes()))
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	return doc
}

// dig follows keys into nested JSON objects.
func dig(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for i, k := range keys {
		m, ok := v.(map[string]any)
		require.Truef(t, ok, "%v is not an object", keys[:i])
		v, ok = m[k]
		require.Truef(t, ok, "no %v", keys[:i+1])
	}
	return v
}

func requireJSON(t *testing.T, want string, got any) {
	t.Helper()
	raw, err := json.Marshal(got)
	require.NoError(t, err)
	require.JSONEq(t, want, string(raw))
}

func TestOpenAPI(t *testing.T) {
	t.Parallel()

	t.Run("ValidDocument", func(t *testing.T) {
		t.Parallel()
		raw, err := json.Marshal(OpenAPI(Info{Title: "test", Version: "1.0.0"}, testRoutes()))
		require.NoError(t, err)
		doc, err := openapi3.NewLoader().LoadFromData(raw)
		require.NoError(t, err)
		require.True(t, doc.IsOpenAPI31OrLater())
		require.NoError(t, doc.Validate(context.Background()))
	})

	// The validator must have teeth for 3.1 documents, or ValidDocument
	// proves nothing.
	t.Run("ValidatorRejectsBrokenDocument", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name   string
			damage func(doc map[string]any)
		}{
			{"MissingPathParameter", func(doc map[string]any) {
				delete(dig(t, doc, "paths", "/v1/customers/{id}", "get").(map[string]any), "parameters")
			}},
			{"UnknownType", func(doc map[string]any) {
				dig(t, doc, "components", "schemas", "TestAddress", "properties").(map[string]any)["street"] =
					map[string]any{"type": []any{"strin", "null"}}
			}},
			{"DanglingRef", func(doc map[string]any) {
				delete(dig(t, doc, "components", "schemas").(map[string]any), "TestNode")
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				doc := testDoc(t)
				tt.damage(doc)
				raw, err := json.Marshal(doc)
				require.NoError(t, err)
				loaded, err := openapi3.NewLoader().LoadFromData(raw)
				if err == nil {
					err = loaded.Validate(context.Background())
				}
				require.Error(t, err)
			})
		}
	})

	t.Run("Deterministic", func(t *testing.T) {
		t.Parallel()
		first, err := json.Marshal(OpenAPI(Info{Title: "test", Version: "1"}, testRoutes()))
		require.NoError(t, err)
		for range 20 {
			again, err := json.Marshal(OpenAPI(Info{Title: "test", Version: "1"}, testRoutes()))
			require.NoError(t, err)
			require.Equal(t, string(first), string(again))
		}
	})

	t.Run("Top", func(t *testing.T) {
		t.Parallel()
		doc := testDoc(t)
		require.Equal(t, "3.1.0", doc["openapi"])
		requireJSON(t, `{"title":"test","version":"1.0.0","description":"A test API.","contact":{"name":"customerhub maintainers"}}`, doc["info"])
		requireJSON(t, `[{"name":"auth","description":"Operations on auth."},{"name":"customers","description":"Operations on customers."},
			{"name":"groups","description":"Operations on groups."},{"name":"operations","description":"Operations on operations."}]`, doc["tags"])
		require.Equal(t, "http", dig(t, doc, "components", "securitySchemes", "bearer", "type"))
		require.Equal(t, "bearer", dig(t, doc, "components", "securitySchemes", "bearer", "scheme"))
		paths := dig(t, doc, "paths").(map[string]any)
		require.ElementsMatch(t, []string{"/healthz", "/v1/customers", "/v1/customers/{id}", "/v1/customers/id",
			"/v1/groups/{group_id}/members/{name}", "/v1/me"}, keysOf(paths))
		require.ElementsMatch(t, []string{"get", "patch", "delete"}, keysOf(paths["/v1/customers/{id}"].(map[string]any)))
	})

	t.Run("OperationIDs", func(t *testing.T) {
		t.Parallel()
		doc := testDoc(t)
		tests := []struct {
			path, method, want string
		}{
			{"/healthz", "get", "get_healthz"},
			{"/v1/customers", "post", "post_v1_customers"},
			{"/v1/customers/{id}", "get", "get_v1_customers_id"},
			{"/v1/customers/{id}", "patch", "patch_v1_customers_id"},
			{"/v1/customers/id", "get", "get_v1_customers_id_2"}, // the literal path comes second
			{"/v1/groups/{group_id}/members/{name}", "get", "get_v1_groups_group_id_members_name"},
		}
		for _, tt := range tests {
			require.Equal(t, tt.want, dig(t, doc, "paths", tt.path, tt.method, "operationId"), tt.path)
		}
	})

	t.Run("Operation", func(t *testing.T) {
		t.Parallel()
		doc := testDoc(t)
		op := dig(t, doc, "paths", "/v1/customers/{id}", "get")
		require.Equal(t, "Get a customer", dig(t, op, "summary"))
		requireJSON(t, `["customers"]`, dig(t, op, "tags"))
		requireJSON(t, `[{"name":"id","in":"path","required":true,"schema":{"type":"string","format":"uuid"}}]`,
			dig(t, op, "parameters"))
		requireJSON(t, `{"$ref":"#/components/schemas/TestCustomer"}`,
			dig(t, op, "responses", "200", "content", "application/json", "schema"))
		requireJSON(t, `{"$ref":"#/components/schemas/Problem"}`,
			dig(t, op, "responses", "default", "content", "application/problem+json", "schema"))

		requireJSON(t, `[
			{"name":"group_id","in":"path","required":true,"schema":{"type":"string","format":"uuid"}},
			{"name":"name","in":"path","required":true,"schema":{"type":"string"}}
		]`, dig(t, doc, "paths", "/v1/groups/{group_id}/members/{name}", "get", "parameters"))

		params := dig(t, doc, "paths", "/v1/customers/{id}", "patch", "parameters").([]any)
		require.Len(t, params, 2)
		ifMatch := params[1].(map[string]any)
		require.Equal(t, "If-Match", ifMatch["name"])
		require.Equal(t, "header", ifMatch["in"])
		require.Equal(t, true, ifMatch["required"])
	})

	t.Run("Bodies", func(t *testing.T) {
		t.Parallel()
		doc := testDoc(t)
		post := dig(t, doc, "paths", "/v1/customers", "post")
		requireJSON(t, `{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/TestPatch"}}}}`,
			dig(t, post, "requestBody"))
		require.Equal(t, "Created", dig(t, post, "responses", "201", "description"))
		require.NotContains(t, dig(t, post, "responses"), "200")

		// A pointer body stands for its element: a body is never null.
		patch := dig(t, doc, "paths", "/v1/customers/{id}", "patch")
		requireJSON(t, `{"$ref":"#/components/schemas/TestPatch"}`,
			dig(t, patch, "requestBody", "content", "application/json", "schema"))
		requireJSON(t, `{"$ref":"#/components/schemas/TestCustomer"}`,
			dig(t, patch, "responses", "200", "content", "application/json", "schema"))

		del := dig(t, doc, "paths", "/v1/customers/{id}", "delete")
		requireJSON(t, `{"description":"No Content"}`, dig(t, del, "responses", "204"))
		require.NotContains(t, del, "requestBody")
		requireJSON(t, `{"description":"OK"}`, dig(t, doc, "paths", "/v1/customers/id", "get", "responses", "200"))

		requireJSON(t, `{"type":"array","items":{"$ref":"#/components/schemas/FieldError2"}}`,
			dig(t, doc, "paths", "/v1/groups/{group_id}/members/{name}", "get", "responses", "200", "content", "application/json", "schema"))
		requireJSON(t, `{"type":"object"}`,
			dig(t, doc, "paths", "/v1/me", "get", "responses", "200", "content", "application/json", "schema"))
	})

	t.Run("Security", func(t *testing.T) {
		t.Parallel()
		doc := testDoc(t)
		tests := []struct {
			path, method string
			security     string
			permission   any // nil: no x-permission
		}{
			{"/healthz", "get", `[]`, nil},
			{"/v1/customers", "post", `[{"bearer":[]}]`, "customers:write"},
			{"/v1/customers/{id}", "delete", `[{"bearer":[]}]`, "customers:delete"},
			{"/v1/me", "get", `[{"bearer":[]}]`, "authenticated"},
		}
		for _, tt := range tests {
			op := dig(t, doc, "paths", tt.path, tt.method).(map[string]any)
			requireJSON(t, tt.security, op["security"])
			require.Equal(t, tt.permission, op["x-permission"], tt.path)
		}
	})

	t.Run("QueryParameters", func(t *testing.T) {
		t.Parallel()
		doc := testDoc(t)
		op := dig(t, doc, "paths", "/v1/customers", "get")
		requireJSON(t, `[
			{"name":"q","in":"query","description":"text to find","schema":{"type":"string"}},
			{"name":"limit","in":"query","description":"page size, 1 to 200 (default 50)","schema":{"type":"integer"}},
			{"name":"cursor","in":"query","description":"next_cursor of the previous page","schema":{"type":"string"}}
		]`, dig(t, op, "parameters"))
		requireJSON(t, `[{"name":"attr.*","type":"string","description":"attribute equals"}]`, dig(t, op, "x-query-patterns"))
		require.Contains(t, dig(t, op, "description"), "`attr.{key}` (string): attribute equals")
	})

	t.Run("Components", func(t *testing.T) {
		t.Parallel()
		doc := testDoc(t)
		schemas := dig(t, doc, "components", "schemas").(map[string]any)
		require.ElementsMatch(t, []string{
			"Problem", "Errors", "FieldError", "FieldError2", "TestHealth", "TestPatch", "TestAddress",
			"TestCustomer", "TestNode", "TestPageTestCustomer",
		}, keysOf(schemas))

		requireJSON(t, `{"type":"object","properties":{
			"type":{"type":"string"},"title":{"type":"string"},"status":{"type":"integer"},
			"detail":{"type":"string"},"code":{"type":"string"},"request_id":{"type":"string"},
			"errors":{"$ref":"#/components/schemas/Errors"}},
			"required":["type","title","status","detail","code"]}`, schemas["Problem"])
		requireJSON(t, `{"type":"array","items":{"$ref":"#/components/schemas/FieldError"}}`, schemas["Errors"])
		requireJSON(t, `{"type":"object","properties":{"field":{"type":"string"},"code":{"type":"string"},
			"message":{"type":"string"}},"required":["field","code","message"]}`, schemas["FieldError"])
		requireJSON(t, `{"type":"object","properties":{
			"name":{"type":"string"},
			"parent":{"oneOf":[{"$ref":"#/components/schemas/TestNode"},{"type":"null"}]},
			"children":{"type":"array","items":{"$ref":"#/components/schemas/TestNode"}}},
			"required":["name","parent"]}`, schemas["TestNode"])
		requireJSON(t, `{"type":"object","properties":{
			"items":{"type":"array","items":{"$ref":"#/components/schemas/TestCustomer"}},
			"next_cursor":{"type":["string","null"]}},
			"required":["items","next_cursor"]}`, schemas["TestPageTestCustomer"])
		requireJSON(t, `{"type":"object","properties":{
			"name":{"type":["string","null"]},
			"rep_id":{"type":["string","null"],"format":"uuid"},
			"address":{"oneOf":[{"$ref":"#/components/schemas/TestAddress"},{"type":"null"}]},
			"note":{"type":"string"}},
			"required":["note"]}`, schemas["TestPatch"])
	})

	t.Run("Fields", func(t *testing.T) {
		t.Parallel()
		doc := testDoc(t)
		customer := dig(t, doc, "components", "schemas", "TestCustomer")
		requireJSON(t, `["created_at","updated_at","id","email","tags","address","previous","tree","extra","photo","score","count","version","active","level","NoTag"]`,
			dig(t, customer, "required"))
		props := dig(t, customer, "properties").(map[string]any)
		tests := []struct {
			name, property, want string
		}{
			{"EmbeddedTime", "created_at", `{"type":"string","format":"date-time"}`},
			{"EmbeddedPointerTime", "updated_at", `{"type":["string","null"],"format":"date-time"}`},
			{"EmbeddedThroughPointer", "owner_id", `{"type":"string","format":"uuid"}`},
			{"UUID", "id", `{"type":"string","format":"uuid"}`},
			{"PointerString", "email", `{"type":["string","null"]}`},
			{"Slice", "tags", `{"type":"array","items":{"type":"string"}}`},
			{"Map", "attrs", `{"type":"object","additionalProperties":{"type":"integer","format":"int64"}}`},
			{"NamedStruct", "address", `{"$ref":"#/components/schemas/TestAddress"}`},
			{"PointerToNamedStruct", "previous", `{"oneOf":[{"$ref":"#/components/schemas/TestAddress"},{"type":"null"}]}`},
			{"SelfReferencing", "tree", `{"$ref":"#/components/schemas/TestNode"}`},
			{"RawMessage", "raw", `{}`},
			{"Interface", "extra", `{}`},
			{"Bytes", "photo", `{"type":"string","contentEncoding":"base64"}`},
			{"Float", "score", `{"type":"number","format":"double"}`},
			{"QuotedInt", "count", `{"type":"string"}`},
			{"Int64", "version", `{"type":"integer","format":"int64"}`},
			{"Bool", "active", `{"type":"boolean"}`},
			{"TextMarshaler", "level", `{"type":"string"}`},
			{"Untagged", "NoTag", `{"type":"string"}`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				require.Contains(t, props, tt.property)
				requireJSON(t, tt.want, props[tt.property])
			})
		}
		require.Len(t, props, len(tests), "no skipped field (json:\"-\", unexported) may appear")
	})

	t.Run("DuplicateRoutePanics", func(t *testing.T) {
		t.Parallel()
		routes := []Route{
			{Method: "GET", Path: "/a/:id", Permission: Public},
			{Method: "GET", Path: "/a/:id<guid>", Permission: Public},
		}
		require.PanicsWithValue(t, "httpapi: route GET /a/:id<guid> is registered twice", func() { OpenAPI(Info{}, routes) })
	})
}

func TestOpenAPIPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		params         []string
	}{
		{"Static", "/v1/customers", "/v1/customers", nil},
		{"Root", "", "/", nil},
		{"OneParam", "/v1/customers/:id", "/v1/customers/{id}", []string{"id"}},
		{"TwoParams", "/v1/groups/:group_id/members/:user_id", "/v1/groups/{group_id}/members/{user_id}", []string{"group_id", "user_id"}},
		{"Constraint", "/items/:id<int>", "/items/{id}", []string{"id"}},
		{"Optional", "/items/:id?", "/items/{id}", []string{"id"}},
		{"SharedSegment", "/range/:from-:to", "/range/{from}-{to}", []string{"from", "to"}},
		{"Extension", "/files/:name.json", "/files/{name}.json", []string{"name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, params := openAPIPath(tt.in)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.params, params)
		})
	}
}

func TestComponentNames(t *testing.T) {
	t.Parallel()

	t.Run("Stable", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			typ  reflect.Type
			want string
		}{
			{reflect.TypeFor[testCustomer](), "TestCustomer"},                   // httpapi's own: no prefix
			{reflect.TypeFor[testPage[testCustomer]](), "TestPageTestCustomer"}, // type arguments without their package
			{reflect.TypeFor[problem](), "Problem"},                             // pinned
			{reflect.TypeFor[validation.FieldError](), "FieldError"},            // pinned
			{reflect.TypeFor[decimal.Decimal](), "Decimal"},                     // already starts with its package
			{reflect.TypeFor[decimal.NullDecimal](), "DecimalNullDecimal"},      // prefixed with its package
			{reflect.TypeFor[openapi3.T](), "Openapi3T"},
		}
		for _, tt := range tests {
			require.Equal(t, tt.want, componentName(tt.typ), tt.typ.String())
		}
	})

	t.Run("LocalTypesShareAName", func(t *testing.T) {
		t.Parallel()
		// Types declared in different functions share package and name.
		first := func() any {
			type item struct {
				A string `json:"a"`
			}
			return item{}
		}()
		second := func() any {
			type item struct {
				B string `json:"b"`
			}
			return item{}
		}()
		doc := OpenAPI(Info{Title: "t", Version: "1"}, []Route{
			{Method: "GET", Path: "/first", Permission: Public, Response: first},
			{Method: "GET", Path: "/second", Permission: Public, Response: second},
		})
		requireJSON(t, `{"$ref":"#/components/schemas/Item"}`,
			dig(t, doc, "paths", "/first", "get", "responses", "200", "content", "application/json", "schema"))
		requireJSON(t, `{"$ref":"#/components/schemas/Item2"}`,
			dig(t, doc, "paths", "/second", "get", "responses", "200", "content", "application/json", "schema"))
	})
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
