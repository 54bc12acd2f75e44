package server_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/httpapi"
)

// noToken, as a case's token, sends no Authorization header even where
// the table's default has one.
const noToken = "-"

// problemCase is one bad request and the problem+json answer it must get.
// Empty method, path and token take the defaults of the table it is in.
type problemCase struct {
	name    string
	method  string
	path    string
	token   string
	body    any // string or []byte, sent as is; nil sends no body
	headers map[string]string
	status  int
	// code is the problem's top-level code. A 400 about one field has the
	// code invalid_request, and field and fieldCode say which and why.
	code      string
	field     string
	fieldCode string
}

// problemBody is the RFC 9457 body every error carries.
type problemBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Errors []struct {
		Field   string `json:"field"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

// requireProblem checks a response against its case: the status, the
// problem+json media type, the stable code and the field at fault.
func requireProblem(t *testing.T, tc problemCase, status int, header http.Header, body []byte) {
	t.Helper()
	require.Equal(t, tc.status, status, "body: %.500s", body)
	require.Equal(t, httpapi.ContentTypeProblem, header.Get("Content-Type"), "body: %.500s", body)
	var p problemBody
	require.NoError(t, json.Unmarshal(body, &p), "body: %.500s", body)
	require.Equal(t, tc.status, p.Status)
	require.NotEmpty(t, p.Code)
	require.Equal(t, tc.code, p.Code, "detail: %s", p.Detail)
	require.NotEmpty(t, p.Detail)
	require.NotContains(t, p.Detail, "SQLSTATE", "no internals in error bodies")
	if tc.field == "" {
		return
	}
	fields := map[string]string{}
	for _, e := range p.Errors {
		fields[e.Field] = e.Code
	}
	require.Contains(t, fields, tc.field, "errors: %+v", p.Errors)
	require.Equal(t, tc.fieldCode, fields[tc.field], "errors: %+v", p.Errors)
}

// runCases sends every case as a parallel subtest through app.Test,
// filling method, path and token from def and adding def's headers; an
// empty value in a case's headers leaves that header out.
func runCases(t *testing.T, app *apptest.App, def problemCase, cases []problemCase) {
	t.Helper()
	seen := map[string]bool{}
	for _, tc := range cases {
		require.False(t, seen[tc.name], "case %s appears twice", tc.name)
		seen[tc.name] = true
		if tc.method == "" {
			tc.method = def.method
		}
		if tc.path == "" {
			tc.path = def.path
		}
		switch tc.token {
		case "":
			tc.token = def.token
		case noToken:
			tc.token = ""
		}
		headers := map[string]string{}
		for k, v := range def.headers {
			headers[k] = v
		}
		for k, v := range tc.headers {
			headers[k] = v
			if v == "" {
				delete(headers, k)
			}
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := app.Do(t, apptest.Req{Method: tc.method, Path: tc.path, Token: tc.token, Body: tc.body, Headers: headers})
			requireProblem(t, tc, resp.Status, resp.Header, resp.Body)
		})
	}
}

// obj builds a JSON object from key and raw JSON value pairs, in order,
// without checking them, so a test can send what no encoder produces.
func obj(members ...string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(members); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + members[i] + `":` + members[i+1])
	}
	b.WriteByte('}')
	return b.String()
}

// str is s as a JSON string.
func str(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// jsonRoute is a route with a JSON body, described for the generic bad
// body cases.
type jsonRoute struct {
	method, path, token string
	headers             map[string]string
	// valid are the members of a body the route would accept.
	valid []string
	// text is a free-text member checked for characters and length.
	text string
	// variant is one of the route's members in another letter case.
	variant string
}

// with returns the valid members with key set to the raw value (replaced
// in place when present, else appended).
func (r jsonRoute) with(key, raw string) string {
	m := slices.Clone(r.valid)
	for i := 0; i+1 < len(m); i += 2 {
		if m[i] == key {
			m[i+1] = raw
			return obj(m...)
		}
	}
	return obj(append(m, key, raw)...)
}

// megabyte is a 1 MB string: far over any text limit, under the 1 MiB body
// limit, so the handler sees it.
var megabyte = strings.Repeat("x", 1_000_000)

// genericBodyCases are the bad bodies every JSON route must refuse with a
// 4xx problem, before anything is written. forgedTenant is another
// tenant's id, sent where a tenant_id would go.
func genericBodyCases(r jsonRoute, forgedTenant string) []problemCase {
	valid := obj(r.valid...)
	deep := strings.Repeat("[", 100_000)
	return []problemCase{
		// Not a JSON object.
		{name: "NotJSON", body: "abc", status: 400, code: "invalid_json"},
		{name: "EmptyBody", body: "", status: 400, code: "body_required"},
		{name: "WhitespaceBody", body: " \r\n\t ", status: 400, code: "body_required"},
		{name: "ArrayBody", body: "[]", status: 400, code: "invalid_type"},
		{name: "ArrayOfValidBody", body: "[" + valid + "]", status: 400, code: "invalid_type"},
		{name: "StringBody", body: `"x"`, status: 400, code: "invalid_type"},
		{name: "NullBody", body: "null", status: 400, code: "invalid_type"},
		{name: "NumberBody", body: "123", status: 400, code: "invalid_type"},
		{name: "BoolBody", body: "true", status: 400, code: "invalid_type"},
		// Malformed or followed by more.
		{name: "TrailingObject", body: valid + " " + valid, status: 400, code: "invalid_json"},
		{name: "TrailingGarbage", body: valid + "x", status: 400, code: "invalid_json"},
		{name: "TrailingComma", body: strings.TrimSuffix(valid, "}") + ",}", status: 400, code: "invalid_json"},
		{name: "Truncated", body: strings.TrimSuffix(valid, "}"), status: 400, code: "invalid_json"},
		{name: "SingleQuotes", body: strings.ReplaceAll(valid, `"`, `'`), status: 400, code: "invalid_json"},
		{name: "ByteOrderMark", body: "\xef\xbb\xbf" + valid, status: 400, code: "invalid_json"},
		{name: "DeepArray", body: deep, status: 400, code: "invalid_type"},
		{name: "DeepObject", body: strings.Repeat(`{"a":`, 100_000), status: 400, code: "invalid_request", field: "a", fieldCode: "unknown_field"},
		{name: "DeepInField", body: r.with(r.text, deep), status: 400, code: "invalid_json"},
		// Duplicate, unknown and server-owned members.
		{name: "DuplicateKey", body: obj(append(slices.Clone(r.valid), r.text, `"again"`)...),
			status: 400, code: "invalid_request", field: r.text, fieldCode: "duplicate_field"},
		{name: "UnknownField", body: r.with("foo", "1"), status: 400, code: "invalid_request", field: "foo", fieldCode: "unknown_field"},
		{name: "UnknownNull", body: r.with("foo", "null"), status: 400, code: "invalid_request", field: "foo", fieldCode: "unknown_field"},
		{name: "TenantID", body: r.with("tenant_id", str(forgedTenant)), status: 400, code: "invalid_request", field: "tenant_id", fieldCode: "unknown_field"},
		{name: "TenantIDUpper", body: r.with("TENANT_ID", str(forgedTenant)), status: 400, code: "invalid_request", field: "TENANT_ID", fieldCode: "unknown_field"},
		{name: "TenantIDMixed", body: r.with("Tenant_Id", str(forgedTenant)), status: 400, code: "invalid_request", field: "Tenant_Id", fieldCode: "unknown_field"},
		{name: "TenantIDCamel", body: r.with("tenantId", str(forgedTenant)), status: 400, code: "invalid_request", field: "tenantId", fieldCode: "unknown_field"},
		{name: "CaseVariant", body: r.with(r.variant, `"x"`), status: 400, code: "invalid_request", field: r.variant, fieldCode: "unknown_field"},
		{name: "ID", body: r.with("id", str(uuid.NewString())), status: 400, code: "invalid_request", field: "id", fieldCode: "unknown_field"},
		{name: "CreatedAt", body: r.with("created_at", `"2001-01-01T00:00:00Z"`), status: 400, code: "invalid_request", field: "created_at", fieldCode: "unknown_field"},
		// Media type.
		{name: "TextPlain", body: valid, headers: map[string]string{"Content-Type": "text/plain"}, status: 415, code: "unsupported_media_type"},
		{name: "FormEncoded", body: valid, headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, status: 415, code: "unsupported_media_type"},
		{name: "MalformedContentType", body: valid, headers: map[string]string{"Content-Type": "application/json; ;;"}, status: 415, code: "unsupported_media_type"},
		// Wrong types and huge numbers in a text member.
		{name: "TextIsNumber", body: r.with(r.text, "5"), status: 400, code: "invalid_request", field: r.text, fieldCode: "invalid_type"},
		{name: "TextIsObject", body: r.with(r.text, "{}"), status: 400, code: "invalid_request", field: r.text, fieldCode: "invalid_type"},
		{name: "TextIsArray", body: r.with(r.text, `["a"]`), status: 400, code: "invalid_request", field: r.text, fieldCode: "invalid_type"},
		{name: "TextIsBool", body: r.with(r.text, "true"), status: 400, code: "invalid_request", field: r.text, fieldCode: "invalid_type"},
		{name: "HugeExponent", body: r.with(r.text, "1e999999"), status: 400, code: "invalid_request", field: r.text, fieldCode: "invalid_type"},
		{name: "LongNumber", body: r.with(r.text, strings.Repeat("9", 100_000)), status: 400, code: "invalid_request", field: r.text, fieldCode: "invalid_type"},
		// Characters and length.
		{name: "NULEscaped", body: r.with(r.text, `"a\u0000b"`), status: 400, code: "validation_failed", field: r.text, fieldCode: "invalid_characters"},
		{name: "NULRaw", body: r.with(r.text, "\"a\x00b\""), status: 400, code: "invalid_json"},
		{name: "ControlChar", body: r.with(r.text, `"a\u001bb"`), status: 400, code: "validation_failed", field: r.text, fieldCode: "invalid_characters"},
		{name: "InvalidUTF8", body: r.with(r.text, "\"a\xff\xfeb\""), status: 400, code: "invalid_request", field: r.text, fieldCode: "invalid_utf8"},
		{name: "InvalidUTF8Key", body: r.with("\xffname", `"x"`), status: 400, code: "invalid_utf8"},
		{name: "LoneSurrogate", body: r.with(r.text, `"\ud800"`), status: 400, code: "invalid_request", field: r.text, fieldCode: "invalid_utf8"},
		{name: "OneMegabyteString", body: r.with(r.text, `"`+megabyte+`"`), status: 400, code: "validation_failed", field: r.text, fieldCode: "too_long"},
	}
}

// badInputBundle is the tenant the matrix runs against.
type badInputBundle struct {
	app    *apptest.App
	tn     apptest.Tenant
	other  apptest.Tenant // its id is the forged tenant_id
	custID string
	// slugPrefix starts every slug the signup cases send.
	slugPrefix string
}

func setupBadInput(t *testing.T) badInputBundle {
	t.Helper()
	app := apptest.New(t, dbtest.Shared(t), nil)
	tn := app.Signup(t)
	// One of each object, so the counts are not trivially zero.
	cust := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Patch Target", "email": "target@example.com"})
	app.CreateUser(t, tn, "viewer", nil)
	role := app.Post(t, "/v1/roles", tn.AdminToken, map[string]any{"name": "auditor", "permissions": []string{"customers:read"}})
	require.Equal(t, http.StatusCreated, role.Status, "%s", role.Body)
	tok := app.Post(t, "/v1/tokens", tn.AdminToken, map[string]any{"name": "ci"})
	require.Equal(t, http.StatusCreated, tok.Status, "%s", tok.Body)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return badInputBundle{app: app, tn: tn, other: app.Signup(t), custID: cust["id"].(string), slugPrefix: "bad-input-" + hex.EncodeToString(b)}
}

// badInputState is everything the bad requests must leave alone.
type badInputState struct {
	Customers, Users, Roles, Tokens, Counters int64
	Customer                                  map[string]any
	SignupTenants                             int64
}

func (b badInputBundle) state(t *testing.T) badInputState {
	t.Helper()
	ctx := context.Background()
	tenantID := uuid.MustParse(b.tn.ID)
	var s badInputState
	err := database.WithTenantTx(ctx, b.app.DB.App, database.SystemScope(tenantID), func(ctx context.Context, tx database.Tx) error {
		return tx.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM customers WHERE tenant_id = $1),
			(SELECT count(*) FROM users WHERE tenant_id = $1),
			(SELECT count(*) FROM roles WHERE tenant_id = $1),
			(SELECT count(*) FROM api_tokens WHERE tenant_id = $1),
			(SELECT coalesce(sum(value), 0) FROM tenant_counters WHERE tenant_id = $1)`, tenantID).
			Scan(&s.Customers, &s.Users, &s.Roles, &s.Tokens, &s.Counters)
	}, database.ReadOnly)
	require.NoError(t, err)
	// tenants is a global table.
	require.NoError(t, b.app.DB.App.QueryRow(ctx, `SELECT count(*) FROM tenants WHERE slug LIKE $1 || '%'`, b.slugPrefix).Scan(&s.SignupTenants))
	resp := b.app.Get(t, "/v1/customers/"+b.custID, b.tn.AdminToken)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	s.Customer = resp.Map(t)
	return s
}

// TestBadInput sends malformed, hostile and oversized requests at every
// kind of input the API takes (bodies, query, path, headers): each gets a
// 4xx problem+json with a stable code naming the field at fault, never a
// 5xx, and nothing changes.
func TestBadInput(t *testing.T) {
	t.Parallel()
	b := setupBadInput(t)
	before := b.state(t)
	admin := b.tn.AdminToken
	custPath := "/v1/customers/" + b.custID
	forged := b.other.ID

	t.Run("Matrix", func(t *testing.T) {
		t.Run("CustomerCreate", func(t *testing.T) {
			t.Parallel()
			r := jsonRoute{method: http.MethodPost, path: "/v1/customers", token: admin,
				valid: []string{"name", `"Bad Input Co"`, "email", `"buyer@example.com"`}, text: "name", variant: "NAME"}
			cases := append(genericBodyCases(r, forged),
				problemCase{name: "Version", body: r.with("version", "1"), status: 400, code: "invalid_request", field: "version", fieldCode: "unknown_field"},
				problemCase{name: "UpdatedAt", body: r.with("updated_at", `"2001-01-01T00:00:00Z"`), status: 400, code: "invalid_request", field: "updated_at", fieldCode: "unknown_field"},
				problemCase{name: "NameAndNAME", body: obj("name", `"a"`, "Name", `"b"`), status: 400, code: "invalid_request", field: "Name", fieldCode: "unknown_field"},
				problemCase{name: "SalesRepNotUUID", body: r.with("sales_rep_id", `"not-a-uuid"`), status: 400, code: "invalid_request", field: "sales_rep_id", fieldCode: "invalid_value"},
				problemCase{name: "SalesRepNumber", body: r.with("sales_rep_id", "12"), status: 400, code: "invalid_request", field: "sales_rep_id", fieldCode: "invalid_type"},
				problemCase{name: "SalesRepUnknown", body: r.with("sales_rep_id", str(uuid.NewString())), status: 400, code: "validation_failed", field: "sales_rep_id", fieldCode: "not_found"},
				problemCase{name: "SalesRepOtherTenant", body: r.with("sales_rep_id", str(b.other.AdminID)), status: 400, code: "validation_failed", field: "sales_rep_id", fieldCode: "not_found"},
				problemCase{name: "EmailArray", body: r.with("email", "[]"), status: 400, code: "invalid_request", field: "email", fieldCode: "invalid_type"},
				problemCase{name: "EmailHeaderInjection", body: r.with("email", str("a@b.com\r\nBcc: x@y.com")), status: 400, code: "validation_failed", field: "email", fieldCode: "invalid_characters"},
				problemCase{name: "EmailTooLong", body: r.with("email", str(strings.Repeat("a", 320)+"@example.com")), status: 400, code: "validation_failed", field: "email", fieldCode: "too_long"},
				problemCase{name: "PhoneHugeNumber", body: r.with("phone", "123456789012345678901234567890"), status: 400, code: "invalid_request", field: "phone", fieldCode: "invalid_type"},
				problemCase{name: "PhoneGarbage", body: r.with("phone", `"12"`), status: 400, code: "validation_failed", field: "phone", fieldCode: "too_short"},
				problemCase{name: "TypeNumber", body: r.with("type", "5"), status: 400, code: "invalid_request", field: "type", fieldCode: "invalid_type"},
				problemCase{name: "TypeUnknown", body: r.with("type", `"robot"`), status: 400, code: "validation_failed", field: "type", fieldCode: "invalid_choice"},
				problemCase{name: "StatusObject", body: r.with("status", "{}"), status: 400, code: "invalid_request", field: "status", fieldCode: "invalid_type"},
				problemCase{name: "CodeNull", body: r.with("code", "null"), status: 400, code: "validation_failed", field: "code", fieldCode: "not_nullable"},
				problemCase{name: "CodeInvalid", body: r.with("code", `"has space"`), status: 400, code: "validation_failed", field: "code", fieldCode: "invalid_code"},
				problemCase{name: "NameNull", body: r.with("name", "null"), status: 400, code: "validation_failed", field: "name", fieldCode: "not_nullable"},
				problemCase{name: "NameBlank", body: r.with("name", `"   "`), status: 400, code: "validation_failed", field: "name", fieldCode: "required"},
				problemCase{name: "NameMissing", body: obj("email", `"buyer@example.com"`), status: 400, code: "validation_failed", field: "name", fieldCode: "required"},
				problemCase{name: "EmptyObject", body: "{}", status: 400, code: "validation_failed", field: "name", fieldCode: "required"},
				problemCase{name: "UnknownQuery", path: "/v1/customers?tenant_id=" + forged, body: obj(r.valid...), status: 400, code: "invalid_request", field: "tenant_id", fieldCode: "unknown_parameter"},
			)
			runCases(t, b.app, problemCase{method: r.method, path: r.path, token: r.token}, cases)
		})

		t.Run("CustomerPatch", func(t *testing.T) {
			t.Parallel()
			r := jsonRoute{method: http.MethodPatch, path: custPath, token: admin, headers: map[string]string{"If-Match": `"1"`},
				valid: []string{"name", `"Renamed"`}, text: "name", variant: "NAME"}
			cases := append(genericBodyCases(r, forged),
				problemCase{name: "Version", body: r.with("version", "7"), status: 400, code: "invalid_request", field: "version", fieldCode: "unknown_field"},
				problemCase{name: "SalesRepNotUUID", body: r.with("sales_rep_id", `"not-a-uuid"`), status: 400, code: "invalid_request", field: "sales_rep_id", fieldCode: "invalid_value"},
				problemCase{name: "SalesRepOtherTenant", body: r.with("sales_rep_id", str(b.other.AdminID)), status: 400, code: "validation_failed", field: "sales_rep_id", fieldCode: "not_found"},
				problemCase{name: "EmailArray", body: r.with("email", "[]"), status: 400, code: "invalid_request", field: "email", fieldCode: "invalid_type"},
				problemCase{name: "NameNull", body: r.with("name", "null"), status: 400, code: "validation_failed", field: "name", fieldCode: "not_nullable"},
				problemCase{name: "CodeInvalid", body: r.with("code", `"has space"`), status: 400, code: "validation_failed", field: "code", fieldCode: "invalid_code"},
				// Preconditions, with an otherwise valid body.
				problemCase{name: "NoIfMatch", body: obj(r.valid...), headers: map[string]string{"If-Match": ""}, status: 428, code: "if_match_required"},
				problemCase{name: "IfMatchUnquoted", body: obj(r.valid...), headers: map[string]string{"If-Match": "1"}, status: 400, code: "invalid_request", field: "If-Match", fieldCode: "invalid_if_match"},
				problemCase{name: "IfMatchUnterminated", body: obj(r.valid...), headers: map[string]string{"If-Match": `"1`}, status: 400, code: "invalid_request", field: "If-Match", fieldCode: "invalid_if_match"},
				problemCase{name: "IfMatchStarInList", body: obj(r.valid...), headers: map[string]string{"If-Match": `*, "1"`}, status: 400, code: "invalid_request", field: "If-Match", fieldCode: "invalid_if_match"},
				problemCase{name: "IfMatchGarbage", body: obj(r.valid...), headers: map[string]string{"If-Match": `"abc"`}, status: 412, code: "version_mismatch"},
				problemCase{name: "IfMatchEmptyTag", body: obj(r.valid...), headers: map[string]string{"If-Match": `""`}, status: 412, code: "version_mismatch"},
				problemCase{name: "IfMatchZero", body: obj(r.valid...), headers: map[string]string{"If-Match": `"0"`}, status: 412, code: "version_mismatch"},
				problemCase{name: "IfMatchNegative", body: obj(r.valid...), headers: map[string]string{"If-Match": `"-1"`}, status: 412, code: "version_mismatch"},
				problemCase{name: "IfMatchOverflow", body: obj(r.valid...), headers: map[string]string{"If-Match": `"99999999999999999999"`}, status: 412, code: "version_mismatch"},
				problemCase{name: "IfMatchStale", body: obj(r.valid...), headers: map[string]string{"If-Match": `"2"`}, status: 412, code: "version_mismatch"},
				problemCase{name: "IfMatchWeakStale", body: obj(r.valid...), headers: map[string]string{"If-Match": `W/"2"`}, status: 412, code: "version_mismatch"},
				problemCase{name: "IfMatchWeakCurrent", body: obj(r.valid...), headers: map[string]string{"If-Match": `W/"1"`}, status: 412, code: "version_mismatch"},
				problemCase{name: "IfMatchStaleList", body: obj(r.valid...), headers: map[string]string{"If-Match": `"2", "3"`}, status: 412, code: "version_mismatch"},
			)
			runCases(t, b.app, problemCase{method: r.method, path: r.path, token: r.token, headers: r.headers}, cases)
		})

		t.Run("UserCreate", func(t *testing.T) {
			t.Parallel()
			r := jsonRoute{method: http.MethodPost, path: "/v1/users", token: admin,
				valid: []string{"email", `"new.user@example.com"`, "name", `"New User"`, "password", str(apptest.Password), "role", `"viewer"`},
				text:  "name", variant: "EMAIL"}
			cases := append(genericBodyCases(r, forged),
				problemCase{name: "RoleNumber", body: r.with("role", "5"), status: 400, code: "invalid_request", field: "role", fieldCode: "invalid_type"},
				problemCase{name: "CustomerIDNotUUID", body: r.with("customer_id", `"not-a-uuid"`), status: 400, code: "invalid_request", field: "customer_id", fieldCode: "invalid_value"},
				problemCase{name: "PasswordShort", body: r.with("password", `"short"`), status: 400, code: "validation_failed", field: "password", fieldCode: "too_short"},
				problemCase{name: "PasswordNUL", body: r.with("password", `"long enough\u0000password"`), status: 400, code: "validation_failed", field: "password", fieldCode: "invalid_characters"},
				problemCase{name: "PasswordMegabyte", body: r.with("password", `"`+megabyte+`"`), status: 400, code: "validation_failed", field: "password", fieldCode: "too_long"},
				problemCase{name: "VisibilityUnknown", body: r.with("visibility", `"everything"`), status: 400, code: "validation_failed", field: "visibility", fieldCode: "invalid_choice"},
				problemCase{name: "Status", body: r.with("status", `"active"`), status: 400, code: "invalid_request", field: "status", fieldCode: "unknown_field"},
				problemCase{name: "PasswordHash", body: r.with("password_hash", `"x"`), status: 400, code: "invalid_request", field: "password_hash", fieldCode: "unknown_field"},
			)
			runCases(t, b.app, problemCase{method: r.method, path: r.path, token: r.token}, cases)
		})

		t.Run("Signup", func(t *testing.T) {
			t.Parallel()
			r := jsonRoute{method: http.MethodPost, path: "/v1/signup",
				valid: []string{"company", `"Bad Input Inc"`, "slug", str(b.slugPrefix), "email", `"owner@example.com"`, "name", `"Owner"`, "password", str(apptest.Password)},
				text:  "company", variant: "Slug"}
			cases := append(genericBodyCases(r, forged),
				problemCase{name: "SlugInvalid", body: r.with("slug", str(b.slugPrefix+" UPPER!")), status: 400, code: "validation_failed", field: "slug", fieldCode: "invalid_slug"},
				problemCase{name: "EmailNumber", body: r.with("email", "1e400"), status: 400, code: "invalid_request", field: "email", fieldCode: "invalid_type"},
				problemCase{name: "PasswordShort", body: r.with("password", `"short"`), status: 400, code: "validation_failed", field: "password", fieldCode: "too_short"},
				problemCase{name: "Status", body: r.with("status", `"active"`), status: 400, code: "invalid_request", field: "status", fieldCode: "unknown_field"},
			)
			runCases(t, b.app, problemCase{method: r.method, path: r.path}, cases)
		})

		t.Run("Login", func(t *testing.T) {
			t.Parallel()
			// Every case fails before the password check, so none counts as
			// a failed login against the shared client address.
			r := jsonRoute{method: http.MethodPost, path: "/v1/auth/login",
				valid: []string{"tenant", str(b.tn.Slug), "email", str(b.tn.AdminEmail), "password", str(apptest.Password)},
				text:  "tenant", variant: "Password"}
			cases := append(genericBodyCases(r, forged),
				problemCase{name: "EmailNumber", body: r.with("email", "5"), status: 400, code: "invalid_request", field: "email", fieldCode: "invalid_type"},
				problemCase{name: "PasswordMissing", body: obj("tenant", str(b.tn.Slug), "email", str(b.tn.AdminEmail)), status: 400, code: "validation_failed", field: "password", fieldCode: "required"},
				problemCase{name: "PasswordMegabyte", body: r.with("password", `"`+megabyte+`"`), status: 400, code: "validation_failed", field: "password", fieldCode: "too_long"},
			)
			runCases(t, b.app, problemCase{method: r.method, path: r.path}, cases)
		})

		t.Run("RoleCreate", func(t *testing.T) {
			t.Parallel()
			r := jsonRoute{method: http.MethodPost, path: "/v1/roles", token: admin,
				valid: []string{"name", `"bad-input-role"`, "permissions", `["customers:read"]`}, text: "name", variant: "Permissions"}
			cases := append(genericBodyCases(r, forged),
				problemCase{name: "PermissionsString", body: r.with("permissions", `"customers:read"`), status: 400, code: "invalid_request", field: "permissions", fieldCode: "invalid_type"},
				problemCase{name: "PermissionNumber", body: r.with("permissions", `["customers:read", 5]`), status: 400, code: "invalid_request", field: "permissions.1", fieldCode: "invalid_type"},
				problemCase{name: "PermissionUnknown", body: r.with("permissions", `["customers:read", "root"]`), status: 400, code: "validation_failed", field: "permissions.1", fieldCode: "unknown_permission"},
				problemCase{name: "PermissionNUL", body: r.with("permissions", `["customers:read\u0000"]`), status: 400, code: "validation_failed", field: "permissions.0", fieldCode: "unknown_permission"},
				problemCase{name: "BuiltinName", body: r.with("name", `"admin"`), status: 400, code: "validation_failed", field: "name", fieldCode: "reserved"},
				problemCase{name: "DescriptionMegabyte", body: r.with("description", `"`+megabyte+`"`), status: 400, code: "validation_failed", field: "description", fieldCode: "too_long"},
			)
			runCases(t, b.app, problemCase{method: r.method, path: r.path, token: r.token}, cases)
		})

		t.Run("TokenCreate", func(t *testing.T) {
			t.Parallel()
			r := jsonRoute{method: http.MethodPost, path: "/v1/tokens", token: admin,
				valid: []string{"name", `"bad-input-token"`}, text: "name", variant: "Name"}
			cases := append(genericBodyCases(r, forged),
				problemCase{name: "ExpiresNotTime", body: r.with("expires_at", `"tomorrow"`), status: 400, code: "invalid_request", field: "expires_at", fieldCode: "invalid_value"},
				problemCase{name: "ExpiresNumber", body: r.with("expires_at", "1e400"), status: 400, code: "invalid_request", field: "expires_at", fieldCode: "invalid_type"},
				problemCase{name: "ExpiresPast", body: r.with("expires_at", `"2001-01-01T00:00:00Z"`), status: 400, code: "validation_failed", field: "expires_at", fieldCode: "in_past"},
				problemCase{name: "Kind", body: r.with("kind", `"session"`), status: 400, code: "invalid_request", field: "kind", fieldCode: "unknown_field"},
				problemCase{name: "UserID", body: r.with("user_id", str(b.other.AdminID)), status: 400, code: "invalid_request", field: "user_id", fieldCode: "unknown_field"},
			)
			runCases(t, b.app, problemCase{method: r.method, path: r.path, token: r.token}, cases)
		})

		t.Run("Query", func(t *testing.T) {
			t.Parallel()
			cursor := func(v string) string { return base64.RawURLEncoding.EncodeToString([]byte(v)) }
			limit := func(name, v string) problemCase {
				return problemCase{name: name, path: "/v1/customers?limit=" + v, status: 400, code: "invalid_request", field: "limit", fieldCode: "out_of_range"}
			}
			runCases(t, b.app, problemCase{method: http.MethodGet, token: admin}, []problemCase{
				limit("LimitZero", "0"),
				limit("LimitNegative", "-1"),
				limit("LimitText", "abc"),
				limit("LimitOverMax", "201"),
				limit("LimitMillion", "1000000"),
				limit("LimitOverflow", "99999999999999999999999"),
				limit("LimitExponent", "1e2"),
				limit("LimitFraction", "1.5"),
				limit("LimitSpace", "%205"),
				{name: "LimitTwice", path: "/v1/customers?limit=10&limit=20", status: 400, code: "invalid_request", field: "limit", fieldCode: "duplicate_parameter"},
				{name: "UsersLimitZero", path: "/v1/users?limit=0", status: 400, code: "invalid_request", field: "limit", fieldCode: "out_of_range"},
				{name: "UsersStatusUnknown", path: "/v1/users?status=root", status: 400, code: "invalid_request", field: "status", fieldCode: "invalid_choice"},
				{name: "CursorGarbage", path: "/v1/customers?cursor=!!!not-base64", status: 400, code: "invalid_request", field: "cursor", fieldCode: "invalid_cursor"},
				{name: "CursorNotJSON", path: "/v1/customers?cursor=" + cursor("hello"), status: 400, code: "invalid_request", field: "cursor", fieldCode: "invalid_cursor"},
				{name: "CursorArray", path: "/v1/customers?cursor=" + cursor("[]"), status: 400, code: "invalid_request", field: "cursor", fieldCode: "invalid_cursor"},
				{name: "CursorBadUUID", path: "/v1/customers?cursor=" + cursor(`{"n":"a","i":"not-a-uuid"}`), status: 400, code: "invalid_request", field: "cursor", fieldCode: "invalid_cursor"},
				{name: "CursorExtraField", path: "/v1/customers?cursor=" + cursor(`{"n":"a","i":"`+uuid.NewString()+`","tenant_id":"`+forged+`"}`), status: 400, code: "invalid_request", field: "cursor", fieldCode: "invalid_cursor"},
				{name: "CursorHuge", path: "/v1/customers?cursor=" + cursor(`{"n":"`+strings.Repeat("a", 5000)+`"}`), status: 400, code: "invalid_request", field: "cursor", fieldCode: "invalid_cursor"},
				{name: "UsersCursorGarbage", path: "/v1/users?cursor=%25%25", status: 400, code: "invalid_request", field: "cursor", fieldCode: "invalid_cursor"},
				{name: "InvalidUTF8Value", path: "/v1/customers?q=%ff", status: 400, code: "invalid_request", field: "q", fieldCode: "invalid_utf8"},
				{name: "InvalidUTF8Name", path: "/v1/customers?%ff=1", status: 400, code: "invalid_request", field: "?", fieldCode: "invalid_utf8"},
				{name: "NULValue", path: "/v1/customers?q=%00", status: 400, code: "invalid_request", field: "q", fieldCode: "invalid_characters"},
				{name: "NULInsideValue", path: "/v1/customers?q=a%00b", status: 400, code: "invalid_request", field: "q", fieldCode: "invalid_characters"},
				{name: "NULName", path: "/v1/customers?%00=1", status: 400, code: "invalid_request", field: "\x00", fieldCode: "unknown_parameter"},
				{name: "SearchTooLong", path: "/v1/customers?q=" + strings.Repeat("a", 101), status: 400, code: "validation_failed", field: "q", fieldCode: "too_long"},
				{name: "UnknownParameter", path: "/v1/customers?foo=1", status: 400, code: "invalid_request", field: "foo", fieldCode: "unknown_parameter"},
				{name: "ParameterCaseVariant", path: "/v1/customers?LIMIT=5", status: 400, code: "invalid_request", field: "LIMIT", fieldCode: "unknown_parameter"},
				{name: "ForgedTenantParameter", path: "/v1/customers?tenant_id=" + forged, status: 400, code: "invalid_request", field: "tenant_id", fieldCode: "unknown_parameter"},
				{name: "ParameterOnGetByID", path: custPath + "?fields=all", status: 400, code: "invalid_request", field: "fields", fieldCode: "unknown_parameter"},
				{name: "ParameterOnRoles", path: "/v1/roles?limit=5", status: 400, code: "invalid_request", field: "limit", fieldCode: "unknown_parameter"},
				{name: "TokenInQuery", path: "/v1/customers?access_token=" + admin, token: noToken, status: 400, code: "invalid_request", field: "access_token", fieldCode: "unknown_parameter"},
			})
		})

		t.Run("Path", func(t *testing.T) {
			t.Parallel()
			id := uuid.New()
			badID := func(name, method, path string) problemCase {
				return problemCase{name: name, method: method, path: path, status: 400, code: "invalid_request", field: "id", fieldCode: "invalid_uuid"}
			}
			runCases(t, b.app, problemCase{method: http.MethodGet, token: admin}, []problemCase{
				badID("NotUUID", "", "/v1/customers/not-a-uuid"),
				badID("Braces", "", "/v1/customers/%7B"+id.String()+"%7D"),
				badID("URN", "", "/v1/customers/urn:uuid:"+id.String()),
				badID("NoDashes", "", "/v1/customers/"+strings.ReplaceAll(id.String(), "-", "")),
				badID("TooLong", "", "/v1/customers/"+id.String()+"0"),
				badID("EncodedTraversal", "", "/v1/customers/..%2f..%2fadmin"),
				badID("EncodedNUL", "", "/v1/customers/%00"),
				badID("InvalidUTF8", "", "/v1/customers/%ff"),
				badID("SQL", "", "/v1/customers/'%20OR%201=1--"),
				badID("PatchNotUUID", http.MethodPatch, "/v1/customers/not-a-uuid"),
				badID("DeleteNotUUID", http.MethodDelete, "/v1/customers/not-a-uuid"),
				badID("UserNotUUID", "", "/v1/users/not-a-uuid"),
				badID("RoleBraces", "", "/v1/roles/%7B"+id.String()+"%7D"),
				badID("TokenTraversal", http.MethodDelete, "/v1/tokens/..%2f..%2fadmin"),
				{name: "UnknownCustomer", path: "/v1/customers/" + id.String(), status: 404, code: "not_found"},
				{name: "Traversal", path: "/v1/customers/../../admin", status: 404, code: "not_found"},
				{name: "UnknownRoute", path: "/v1/nope", status: 404, code: "not_found"},
				{name: "UnknownRouteNoToken", path: "/v1/admin", token: noToken, status: 404, code: "not_found"},
				{name: "UnknownRoot", path: "/admin", status: 404, code: "not_found"},
				{name: "ExtraSegment", path: custPath + "/extra", status: 404, code: "not_found"},
				{name: "Version2", path: "/v2/customers", status: 404, code: "not_found"},
				{name: "MethodNotAllowed", method: http.MethodPut, path: custPath, body: `{"name":"x"}`, status: 405, code: "method_not_allowed"},
			})
		})

		t.Run("Authorization", func(t *testing.T) {
			t.Parallel()
			tenantID := uuid.MustParse(b.tn.ID)
			forgeToken := func(tenant uuid.UUID) string {
				raw := make([]byte, 48)
				copy(raw, tenant[:])
				_, _ = rand.Read(raw[16:])
				return "chub_" + base64.RawURLEncoding.EncodeToString(raw)
			}
			// The other tenant's real token with this tenant's id spliced
			// in: the secret no longer matches anything here.
			otherRaw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(b.other.AdminToken, "chub_"))
			require.NoError(t, err)
			copy(otherRaw, tenantID[:])
			spliced := "chub_" + base64.RawURLEncoding.EncodeToString(otherRaw)

			unauthorized := func(name, header string) problemCase {
				return problemCase{name: name, headers: map[string]string{"Authorization": header}, status: 401, code: "unauthorized"}
			}
			cases := []problemCase{
				{name: "Missing", status: 401, code: "unauthorized"},
				unauthorized("Empty", ""),
				unauthorized("BearerOnly", "Bearer"),
				unauthorized("BearerSpace", "Bearer "),
				unauthorized("BearerTwoSpaces", "Bearer  x"),
				unauthorized("BearerTwoSpacesValid", "Bearer  "+admin),
				unauthorized("TokenOnly", admin),
				unauthorized("Basic", "Basic abc"),
				unauthorized("BasicValid", "Basic "+base64.StdEncoding.EncodeToString([]byte(b.tn.AdminEmail+":"+apptest.Password))),
				unauthorized("WithoutPrefix", "Bearer "+strings.TrimPrefix(admin, "chub_")),
				unauthorized("UpperPrefix", "Bearer CHUB_"+strings.TrimPrefix(admin, "chub_")),
				unauthorized("Truncated", "Bearer "+admin[:len(admin)-1]),
				unauthorized("Extended", "Bearer "+admin+"A"),
				unauthorized("TrailingGarbage", "Bearer "+admin+" x"),
				unauthorized("Unknown", "Bearer "+forgeToken(tenantID)),
				unauthorized("UnknownTenant", "Bearer "+forgeToken(uuid.New())),
				unauthorized("NilTenant", "Bearer "+forgeToken(uuid.Nil)),
				unauthorized("SplicedTenant", "Bearer "+spliced),
				unauthorized("PrefixOnly", "Bearer chub_"),
				unauthorized("NotBase64", "Bearer chub_"+strings.Repeat("!", 64)),
				unauthorized("Huge", "Bearer chub_"+strings.Repeat("A", 8000)),
				unauthorized("NULAfterToken", "Bearer "+admin+"\x00"),
			}
			for _, path := range []string{"/v1/customers", "/v1/me"} {
				for _, tc := range cases {
					tc.name = strings.TrimPrefix(path, "/v1/") + "/" + tc.name
					tc.path = path
					t.Run(tc.name, func(t *testing.T) {
						t.Parallel()
						resp := b.app.Do(t, apptest.Req{Method: http.MethodGet, Path: tc.path, Headers: tc.headers})
						requireProblem(t, tc, resp.Status, resp.Header, resp.Body)
						require.Equal(t, `Bearer realm="customerhub"`, resp.Header.Get("WWW-Authenticate"))
					})
				}
			}
			t.Run("WriteWithBadToken", func(t *testing.T) {
				t.Parallel()
				resp := b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/customers", Token: forgeToken(tenantID), Body: `{"name":"Sneaky"}`})
				requireProblem(t, problemCase{status: 401, code: "unauthorized"}, resp.Status, resp.Header, resp.Body)
				require.Equal(t, `Bearer realm="customerhub"`, resp.Header.Get("WWW-Authenticate"))
			})
		})

		t.Run("SuspendedTenant", func(t *testing.T) {
			t.Parallel()
			s := b.app.Signup(t)
			sTenant := uuid.MustParse(s.ID)
			tag, err := b.app.DB.App.Exec(context.Background(), `UPDATE tenants SET status = 'suspended' WHERE id = $1`, sTenant)
			require.NoError(t, err)
			require.EqualValues(t, 1, tag.RowsAffected())
			forbidden := problemCase{status: 403, code: "forbidden"}
			for _, tc := range []problemCase{
				{name: "List", method: http.MethodGet, path: "/v1/customers"},
				{name: "Me", method: http.MethodGet, path: "/v1/me"},
				{name: "Create", method: http.MethodPost, path: "/v1/customers", body: `{"name":"While suspended"}`},
				{name: "CreateToken", method: http.MethodPost, path: "/v1/tokens", body: `{"name":"escape hatch"}`},
			} {
				t.Run(tc.name, func(t *testing.T) {
					resp := b.app.Do(t, apptest.Req{Method: tc.method, Path: tc.path, Token: s.AdminToken, Body: tc.body})
					requireProblem(t, forbidden, resp.Status, resp.Header, resp.Body)
					require.NotContains(t, string(resp.Body), "items")
				})
			}
			// The refused writes left nothing behind.
			var customers, tokens int64
			err = database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(sTenant), func(ctx context.Context, tx database.Tx) error {
				return tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM customers WHERE tenant_id = $1), (SELECT count(*) FROM api_tokens WHERE tenant_id = $1)`,
					sTenant).Scan(&customers, &tokens)
			}, database.ReadOnly)
			require.NoError(t, err)
			require.Zero(t, customers)
			require.EqualValues(t, 1, tokens, "only the signup session")
		})

		t.Run("RealListener", func(t *testing.T) {
			t.Parallel()
			// Oversized bodies and headers are refused by fasthttp before
			// routing; app.Test reports them as Go errors, so these go
			// through a real socket. A second App shares the database, so
			// the tenant's token works, and its listener's shutdown cannot
			// touch the App the other cases use.
			lst := apptest.New(t, dbtest.Shared(t), nil)
			base := lst.Listen(t)
			limit := lst.Config.BodyLimit
			// send writes the request on a raw connection and reads the
			// answer while the body is still going out: the server answers
			// an oversized body from its Content-Length, without reading
			// it, then closes, so net/http's client would report its own
			// failed write instead of the 413.
			send := func(t *testing.T, method, target string, headers map[string]string, body string) (int, http.Header, []byte) {
				t.Helper()
				conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
				require.NoError(t, err)
				t.Cleanup(func() { _ = conn.Close() })
				var head strings.Builder
				fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n", method, target, admin)
				fmt.Fprintf(&head, "Content-Length: %d\r\nConnection: close\r\n", len(body))
				for k, v := range headers {
					fmt.Fprintf(&head, "%s: %s\r\n", k, v)
				}
				head.WriteString("\r\n")
				_, err = io.WriteString(conn, head.String())
				require.NoError(t, err)
				go func() { _, _ = io.WriteString(conn, body) }() // may fail once the server has answered
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				require.NoError(t, err)
				defer resp.Body.Close()
				raw, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				return resp.StatusCode, resp.Header, raw
			}
			pad := func(n int) string { return `{"name":"` + strings.Repeat("x", n-len(`{"name":""}`)) + `"}` }
			tests := []problemCase{
				{name: "BodyOneByteOver", method: http.MethodPost, path: "/v1/customers", body: pad(limit + 1), status: 413, code: "body_too_large"},
				{name: "BodyFiveMiB", method: http.MethodPost, path: "/v1/customers", body: pad(5 << 20), status: 413, code: "body_too_large"},
				{name: "PatchBodyOver", method: http.MethodPatch, path: custPath, headers: map[string]string{"If-Match": `"1"`}, body: pad(limit + 1),
					status: 413, code: "body_too_large"},
				{name: "HeaderOver16KiB", method: http.MethodGet, path: "/v1/customers", headers: map[string]string{"X-Pad": strings.Repeat("a", 17<<10)},
					status: 431, code: "headers_too_large"},
				{name: "HeaderOver16KiBOnWrite", method: http.MethodPost, path: "/v1/customers", headers: map[string]string{"X-Pad": strings.Repeat("a", 17<<10)},
					body: `{"name":"Big Header Co"}`, status: 431, code: "headers_too_large"},
				{name: "QueryOver16KiB", method: http.MethodGet, path: "/v1/customers?q=" + strings.Repeat("a", 64<<10), status: 431, code: "headers_too_large"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					body, _ := tc.body.(string)
					status, header, raw := send(t, tc.method, tc.path, tc.headers, body)
					requireProblem(t, tc, status, header, raw)
				})
			}
			t.Run("JustUnderLimitIsHandled", func(t *testing.T) {
				t.Parallel()
				// The limit is exact: a body of exactly the limit reaches
				// the handler, which refuses the name as too long.
				status, header, body := send(t, http.MethodPost, "/v1/customers", nil, pad(limit))
				requireProblem(t, problemCase{status: 400, code: "validation_failed", field: "name", fieldCode: "too_long"}, status, header, body)
			})
		})
	})

	after := b.state(t)
	require.Equal(t, before, after, "bad requests changed something")
	require.EqualValues(t, 1, after.Customer["version"])
	require.Equal(t, "Patch Target", after.Customer["name"])
	require.Zero(t, after.SignupTenants, "no signup case created a tenant")
}

// TestSpoofedForwardedFor: with no trusted proxy configured, the client's
// address is the socket's, whatever X-Forwarded-For says. Failed logins
// sent under ever-new forged addresses still count against the one real
// address, which is then locked out even for a correct password.
func TestSpoofedForwardedFor(t *testing.T) {
	t.Parallel()
	// A database of its own: locking out the client address of app.Test
	// must not fail the logins of the package's other tests.
	app := apptest.New(t, dbtest.Fresh(t), map[string]string{"CUSTOMERHUB_LOGIN_IP_MAX_FAILURES": "3"})
	require.Empty(t, app.Config.TrustedProxies)
	tn := app.Signup(t)
	spoof := func(i int) map[string]string {
		ip := fmt.Sprintf("203.0.113.%d", i)
		return map[string]string{"X-Forwarded-For": ip, "X-Real-IP": ip, "Forwarded": "for=" + ip}
	}
	for i := 1; i <= 3; i++ {
		resp := app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/auth/login", Headers: spoof(i), Body: map[string]any{
			"tenant": tn.Slug, "email": fmt.Sprintf("nobody%d@example.com", i), "password": "wrong password " + fmt.Sprint(i),
		}})
		requireProblem(t, problemCase{status: 401, code: "invalid_credentials"}, resp.Status, resp.Header, resp.Body)
	}
	resp := app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/auth/login", Headers: spoof(99), Body: map[string]any{
		"tenant": tn.Slug, "email": tn.AdminEmail, "password": apptest.Password,
	}})
	requireProblem(t, problemCase{status: 429, code: "rate_limited"}, resp.Status, resp.Header, resp.Body)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
}

// FuzzCustomerCreate posts arbitrary bytes as a customer: the answer is a
// 201 or a 4xx problem, never a 5xx. `go test` runs the seeds (the matrix's
// bodies); run `go test -fuzz FuzzCustomerCreate ./internal/server/` by hand
// to search further.
func FuzzCustomerCreate(f *testing.F) {
	app := apptest.New(f, dbtest.Shared(f), nil)
	tn := app.Signup(f)
	r := jsonRoute{valid: []string{"name", `"Fuzz Co"`, "email", `"fuzz@example.com"`}, text: "name", variant: "NAME"}
	for _, tc := range genericBodyCases(r, uuid.NewString()) {
		switch body := tc.body.(type) {
		case string:
			f.Add([]byte(body))
		case []byte:
			f.Add(body)
		}
	}
	f.Add([]byte(`{"name":"Fuzz Co","code":"F-1","type":"individual","status":"dormant","phone":"+1 415 555 0101","sales_rep_id":null,"email":null}`))
	f.Add([]byte(`{"name":"\u202eRTL \ud83d\ude00 Jos\u0065\u0301","code":"../../etc"}`))
	f.Add([]byte(`{"name":"'; DROP TABLE customers;--","email":"a%_\\@example.com"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > app.Config.BodyLimit {
			t.Skip("over the body limit; app.Test cannot send it")
		}
		resp := app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/customers", Token: tn.AdminToken, Body: body})
		require.Less(t, resp.Status, 500, "body %q: %s", body, resp.Body)
		if resp.Status >= 400 {
			require.Equal(t, httpapi.ContentTypeProblem, resp.Header.Get("Content-Type"), "%s", resp.Body)
		}
	})
}
