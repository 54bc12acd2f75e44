package server_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/twiliostandin"
)

// objectScope says who, inside a tenant, may reach an object a route's
// path parameter names.
type objectScope int

const (
	// scopeCustomer objects belong to a customer (the customer itself and
	// what hangs off it): a user who does not see the customer gets the
	// 404 a missing object gets.
	scopeCustomer objectScope = iota + 1
	// scopeOwn objects belong to the user who made them (jobs, imports,
	// tokens, saved views): anyone else who does not see every customer
	// gets a 404.
	scopeOwn
	// scopeShared objects are the tenant's (roles, users, custom fields,
	// payment terms, price lists, items, groups, SMS templates and
	// opt-outs): they are not rep-scoped. Reading one needs only the
	// route's permission and answers 200; every write to them needs a
	// permission (settings:manage, groups:write, users:manage) no actor
	// of the matrix holds, so it is a 403 before anything is read.
	scopeShared
)

// scopeByPrefix classifies the parameterised routes by path prefix. A
// route with a parameter under no prefix here fails the matrix, naming it:
// a new kind of object must say how it is scoped.
var scopeByPrefix = map[string]objectScope{
	"/v1/customers/":                 scopeCustomer,
	"/v1/contacts/":                  scopeCustomer,
	"/v1/locations/":                 scopeCustomer,
	"/v1/sales-orders/":              scopeCustomer,
	"/v1/payments/":                  scopeCustomer,
	"/v1/sms/messages/":              scopeCustomer,
	"/v1/sms/campaigns/":             scopeCustomer, // seen through its messages
	"/v1/jobs/":                      scopeOwn,
	"/v1/imports/":                   scopeOwn,
	"/v1/tokens/":                    scopeOwn,
	"/v1/views/":                     scopeOwn,
	"/v1/users/":                     scopeShared,
	"/v1/roles/":                     scopeShared,
	"/v1/custom-fields/":             scopeShared,
	"/v1/payment-terms/":             scopeShared,
	"/v1/price-lists/":               scopeShared,
	"/v1/items/":                     scopeShared,
	"/v1/customer-groups/":           scopeShared,
	"/v1/customer-group-categories/": scopeShared,
	"/v1/sms/templates/":             scopeShared,
	"/v1/sms/opt-outs/":              scopeShared,
}

func scopePrefix(path string) string {
	for prefix := range scopeByPrefix {
		if strings.HasPrefix(path, prefix) {
			return prefix
		}
	}
	return ""
}

func scopeOf(t *testing.T, path string) objectScope {
	t.Helper()
	for prefix, s := range scopeByPrefix {
		if strings.HasPrefix(path, prefix) {
			return s
		}
	}
	t.Fatalf("route %s has a parameter but no scope in scopeByPrefix", path)
	return 0
}

// matrixActor is one of the callers the matrix sends at tenant A's
// objects.
type matrixActor struct {
	name  string
	token string
	// otherTenant marks the other tenant's admin: everything is a 404.
	otherTenant bool
	// permissions are the actor's role's.
	permissions []string
	// portal marks a portal user (visibility portal).
	portal bool
}

// portalMembersOnly are the shared objects a portal user sees only where
// they concern its own customer (a group its customer is in): the others
// are the tenant's internal terms, and a 404 (group.membersOnly).
var portalMembersOnly = map[string]bool{"/v1/customer-groups/": true}

func (a matrixActor) can(permission string) bool {
	return permission == httpapi.Authenticated || slices.Contains(a.permissions, permission)
}

// expect is what an actor gets from a route with a parameter naming A's
// object: 404 from another tenant; 403 when the actor's role lacks the
// route's permission (function level, before any object is read); else
// by the object's scope, 404 unless it is a shared object being read.
func (a matrixActor) expect(t *testing.T, r httpapi.Route) (int, string) {
	t.Helper()
	switch {
	case a.otherTenant:
		return http.StatusNotFound, "not_found"
	case !a.can(r.Permission):
		return http.StatusForbidden, "forbidden"
	}
	switch scopeOf(t, r.Path) {
	case scopeCustomer, scopeOwn:
		return http.StatusNotFound, "not_found"
	case scopeShared:
		if a.portal && portalMembersOnly[scopePrefix(r.Path)] {
			return http.StatusNotFound, "not_found"
		}
		require.Equal(t, http.MethodGet, r.Method,
			"%s %s: a write to a shared object by %s, who holds %s: the matrix's rule does not cover it", r.Method, r.Path, a.name, r.Permission)
		return http.StatusOK, ""
	}
	return 0, ""
}

// broadRepPermissions are a custom role's: every permission that works
// customers, none that manages the tenant (users, settings, groups). A
// user with it and visibility 'assigned' passes the function-level check
// of nearly every customer-scoped route, so the scope alone must answer.
var broadRepPermissions = []string{
	auth.PermCustomersRead, auth.PermCustomersWrite, auth.PermCustomersDelete, auth.PermCustomersImport,
	auth.PermCustomersExport, auth.PermCustomersMerge, auth.PermOrdersWrite, auth.PermCreditOverride,
	auth.PermSMSSend, auth.PermReportsRead,
}

// matrixTwilio are the Twilio credentials both tenants configure; the
// webhooks are signed over matrixPublicBase.
const (
	matrixAccount    = "AC0123456789abcdef0123456789abcdef"
	matrixAuthToken  = "Tok3nSecretValue0123456789abcXYZ"
	matrixPublicBase = "https://hooks.customerhub.test"
	matrixMessageSID = "SMmatrix0123456789abcdef01234567"
)

// matrixBundle is tenant A with its objects (their customer assigned to
// rep A), tenant B, and the actors.
type matrixBundle struct {
	app    *apptest.App
	a, b   apptest.Tenant
	objs   owned
	actors []matrixActor
	// scoped are the ids of A's customer-scoped and own objects, and
	// texts that only A's customer carries: no list of an actor shows
	// any of them.
	scoped []string
}

func setupMatrix(t *testing.T) matrixBundle {
	t.Helper()
	key := make([]byte, 32)
	_, err := rand.Read(key)
	require.NoError(t, err)
	app := apptest.New(t, dbtest.Shared(t), map[string]string{
		"CUSTOMERHUB_SECRET_KEY":      base64.StdEncoding.EncodeToString(key),
		"CUSTOMERHUB_PUBLIC_BASE_URL": matrixPublicBase,
		// Nothing is sent; nothing could reach Twilio.
		"CUSTOMERHUB_TWILIO_API_URL": "http://127.0.0.1:1",
	})
	a, b := app.Signup(t), app.Signup(t)
	for _, tn := range []apptest.Tenant{a, b} {
		resp := app.Patch(t, "/v1/sms/settings", tn.AdminToken, `"1"`, map[string]any{
			"account_sid": matrixAccount, "auth_token": matrixAuthToken, "from_number": "+14155550100"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	}
	repA := app.CreateUser(t, a, "sales_rep", nil)
	repB := app.CreateUser(t, a, "sales_rep", nil)
	objs := createOwnedWith(t, app, a, map[string]any{"sales_rep_id": repA.ID})

	// Customer B, rep B's, with its portal user; and a broad rep who sees
	// only what is assigned to them (customer B2).
	custB := app.CreateCustomer(t, a.AdminToken, map[string]any{"name": "Other Rep Co", "sales_rep_id": repB.ID})
	portalB := app.CreateUser(t, a, "portal", map[string]any{"customer_id": custB["id"]})
	role := app.Post(t, "/v1/roles", a.AdminToken, map[string]any{"name": "broad_rep", "permissions": broadRepPermissions})
	require.Equal(t, http.StatusCreated, role.Status, "%s", role.Body)
	broad := app.CreateUser(t, a, "broad_rep", map[string]any{"visibility": "assigned"})
	app.CreateCustomer(t, a.AdminToken, map[string]any{"name": "Broad Rep Co", "sales_rep_id": broad.ID})

	// A's message has been sent: Twilio knows it by its SID.
	msgID := objs.pathFor(t, "/v1/sms/messages/:id")[len("/v1/sms/messages/"):]
	require.NoError(t, database.WithTenantTx(context.Background(), app.DB.App, database.SystemScope(uuid.MustParse(a.ID)),
		func(ctx context.Context, tx database.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE sms_messages SET state = 'sent', twilio_sid = $2, to_phone = '+14155550123', body = 'Owed 1.00'
				WHERE tenant_id = $1 AND id = $3`, a.ID, matrixMessageSID, msgID)
			return err
		}))

	builtin := func(name string) []string {
		r, ok := auth.Builtin(name)
		require.True(t, ok, name)
		return r.Permissions
	}
	var scoped []string
	for _, route := range []string{"/v1/customers/:id", "/v1/contacts/:id", "/v1/locations/:id", "/v1/sales-orders/:id",
		"/v1/payments/:id", "/v1/sms/messages/:id", "/v1/sms/campaigns/:id", "/v1/jobs/:id", "/v1/imports/:id"} {
		scoped = append(scoped, objs.pathFor(t, route)[len(route)-len(":id"):])
	}
	scoped = append(scoped, "Owned Customer", "owned@example.com", "Owned Contact", matrixMessageSID)
	return matrixBundle{app: app, a: a, b: b, objs: objs, scoped: scoped, actors: []matrixActor{
		{name: "OtherTenantAdmin", token: b.AdminToken, otherTenant: true},
		{name: "OtherSalesRep", token: repB.Token, permissions: builtin(auth.RoleSalesRep)},
		{name: "OtherCustomersPortal", token: portalB.Token, permissions: builtin(auth.RolePortal), portal: true},
		{name: "BroadRepNotAssigned", token: broad.Token, permissions: broadRepPermissions},
	}}
}

// tenantSnapshot is every row of every table with a tenant_id column, of
// one tenant: a count and a digest of the rows' text, per table.
type tenantSnapshot map[string]string

func snapshotTenant(t *testing.T, app *apptest.App, tenantID string) tenantSnapshot {
	t.Helper()
	ctx := context.Background()
	// The owner reads past row-level security: every row of the tenant,
	// whoever may see it.
	conn, err := pgx.Connect(ctx, app.DB.OwnerURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE' ORDER BY 1`)
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.NotEmpty(t, tables)
	snap := tenantSnapshot{}
	for _, table := range tables {
		var n int64
		var digest string
		require.NoError(t, conn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*), coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '')
			FROM %s x WHERE tenant_id = $1`, pgx.Identifier{table}.Sanitize()), tenantID).Scan(&n, &digest))
		snap[table] = fmt.Sprintf("%d %s", n, digest)
	}
	return snap
}

// requireUnchanged names the tables whose rows differ.
func requireUnchanged(t *testing.T, before, after tenantSnapshot) {
	t.Helper()
	var changed []string
	for table, v := range before {
		if after[table] != v {
			changed = append(changed, table)
		}
	}
	sort.Strings(changed)
	require.Empty(t, changed, "tables of tenant A that changed")
	require.Len(t, after, len(before))
}

// TestIsolationMatrix sends every route with a path parameter, as each
// actor below, at tenant A's objects (their customer is rep A's):
//   - another tenant's admin gets 404 everywhere;
//   - sales rep B (visibility assigned, not the owner, no grant), a portal
//     user of customer B, and a rep B whose custom role holds every
//     customer permission (so the scope alone must answer) get 403 where
//     their role lacks the route's permission, and otherwise 404 for a
//     customer-scoped object or another user's own one (job, import,
//     token, view), and 200 for reading a tenant-wide shared object (see
//     scopeShared);
//   - no list of theirs (customers, jobs, imports, SMS messages and
//     campaigns, locations, orders, payments, duplicates, the export)
//     shows anything of A's;
//   - a Twilio status callback to tenant B, signed with B's credentials,
//     naming A's message (by SID or by id) reaches nothing;
//
// and afterwards no row of tenant A changed. The mass-assignment part
// sends every server-owned field the request type does not accept to
// every route with a JSON body: 400 unknown_field, nothing written.
func TestIsolationMatrix(t *testing.T) {
	t.Parallel()
	m := setupMatrix(t)
	before := snapshotTenant(t, m.app, m.a.ID)
	t.Logf("snapshot: %d tables of tenant A", len(before))

	t.Run("Objects", func(t *testing.T) {
		counted, byStatus := map[string]int{}, map[int]int{}
		for _, actor := range m.actors {
			for _, r := range m.app.Server.Routes {
				if r.Permission == httpapi.Public || !strings.Contains(r.Path, "/:") {
					continue
				}
				if actor.otherTenant && perUserNamespaces[r.Method+" "+r.Path] {
					continue
				}
				if r.Method == http.MethodPut && r.Path == "/v1/views/:name" {
					// PUT names the caller's own view: it creates theirs,
					// and cannot reach A's (TestTenantIsolation's rule).
					continue
				}
				path := m.objs.pathFor(t, r.Path)
				wantStatus, wantCode := actor.expect(t, r)
				var body any = "{}"
				if b, ok := isolationBodies[r.Method+" "+r.Path]; ok {
					body = b
				}
				resp := m.app.Do(t, apptest.Req{Method: r.Method, Path: path, Token: actor.token, Body: body,
					Headers: map[string]string{"If-Match": `"1"`}})
				if !assertStatus(t, wantStatus, resp, "%s: %s %s", actor.name, r.Method, path) {
					continue
				}
				if wantCode != "" {
					requireProblem(t, problemCase{status: wantStatus, code: wantCode}, resp.Status, resp.Header, resp.Body)
				}
				counted[actor.name]++
				byStatus[wantStatus]++
			}
		}
		total := 0
		for _, actor := range m.actors {
			t.Logf("objects: %s: %d routes", actor.name, counted[actor.name])
			require.Greater(t, counted[actor.name], 40, actor.name)
			total += counted[actor.name]
		}
		t.Logf("objects: %d route × actor pairs (by expected status: %v)", total, byStatus)
	})

	t.Run("Lists", func(t *testing.T) {
		lists := []struct{ path, permission string }{
			{"/v1/customers", auth.PermCustomersRead},
			{"/v1/customers?q=Owned", auth.PermCustomersRead},
			{"/v1/customers/duplicates", auth.PermCustomersRead},
			{"/v1/customers/export?format=csv", auth.PermCustomersExport},
			{"/v1/locations", auth.PermCustomersRead},
			{"/v1/sales-orders", auth.PermCustomersRead},
			{"/v1/payments", auth.PermCustomersRead},
			{"/v1/jobs", httpapi.Authenticated},
			{"/v1/imports", auth.PermCustomersImport},
			{"/v1/sms/messages", auth.PermCustomersRead},
			{"/v1/sms/campaigns", auth.PermCustomersRead},
		}
		n := 0
		for _, actor := range m.actors {
			for _, l := range lists {
				resp := m.app.Get(t, l.path, actor.token)
				if !actor.otherTenant && !actor.can(l.permission) {
					requireProblem(t, problemCase{status: http.StatusForbidden, code: "forbidden"}, resp.Status, resp.Header, resp.Body)
					n++
					continue
				}
				require.Equal(t, http.StatusOK, resp.Status, "%s: %s: %s", actor.name, l.path, resp.Body)
				for _, s := range m.scoped {
					require.NotContains(t, string(resp.Body), s, "%s: %s shows A's %s", actor.name, l.path, s)
				}
				n++
			}
		}
		t.Logf("lists: %d list × actor pairs", n)
	})

	t.Run("TwilioStatusAcrossTenants", func(t *testing.T) {
		msgID := m.objs.pathFor(t, "/v1/sms/messages/:id")[len("/v1/sms/messages/"):]
		form := url.Values{"AccountSid": {matrixAccount}, "MessageSid": {matrixMessageSID}, "SmsSid": {matrixMessageSID},
			"MessageStatus": {"delivered"}, "SmsStatus": {"delivered"}, "To": {"+14155550123"}, "From": {"+14155550100"},
			"ApiVersion": {"2010-04-01"}}
		for _, path := range []string{
			"/v1/webhooks/twilio/" + m.b.ID + "/status",
			"/v1/webhooks/twilio/" + m.b.ID + "/status?message_id=" + msgID,
		} {
			resp := m.app.Do(t, apptest.Req{Method: http.MethodPost, Path: path, Body: form.Encode(), Headers: map[string]string{
				"Content-Type":       "application/x-www-form-urlencoded",
				"X-Twilio-Signature": twiliostandin.Sign(matrixAuthToken, matrixPublicBase+path, form),
			}})
			requireProblem(t, problemCase{status: http.StatusNotFound, code: "not_found"}, resp.Status, resp.Header, resp.Body)
		}
	})

	t.Run("MassAssignment", func(t *testing.T) {
		routes, sent := 0, 0
		for _, r := range m.app.Server.Routes {
			if r.Request == nil || r.RequestMedia != "" {
				continue // no body, or a form (multipart uploads, Twilio's webhooks)
			}
			require.Contains(t, []string{http.MethodPost, http.MethodPut, http.MethodPatch}, r.Method, "%s %s", r.Method, r.Path)
			accepted := jsonNames(reflect.TypeOf(r.Request))
			path := r.Path
			if strings.Contains(path, "/:") {
				path = m.objs.pathFor(t, path)
			}
			base := map[string]any{}
			if b, ok := isolationBodies[r.Method+" "+r.Path].(map[string]any); ok {
				base = b
			}
			token := m.a.AdminToken
			if r.Permission == httpapi.Public {
				token = ""
			}
			routes++
			for _, field := range serverOwnedFields {
				if accepted[field] {
					continue
				}
				body := map[string]any{field: serverOwnedValue(field)}
				for k, v := range base {
					body[k] = v
				}
				resp := m.app.Do(t, apptest.Req{Method: r.Method, Path: path, Token: token, Body: body,
					Headers: map[string]string{"If-Match": `"1"`}})
				requireProblem(t, problemCase{status: http.StatusBadRequest, code: "invalid_request", field: field, fieldCode: "unknown_field"},
					resp.Status, resp.Header, resp.Body)
				sent++
			}
		}
		require.Greater(t, routes, 40)
		t.Logf("mass assignment: %d JSON routes, %d refused server-owned fields", routes, sent)
	})

	requireUnchanged(t, before, snapshotTenant(t, m.app, m.a.ID))
}

// serverOwnedFields are the names of fields the server sets: a client
// sending one where the request type has no such member is refused.
var serverOwnedFields = []string{
	"id", "tenant_id", "version", "created_at", "updated_at", "created_by", "updated_by", "deleted_at",
	"balance", "credit_used", "last_order_at", "reach", "status", "state", "processed", "total", "result",
	"attempts", "errors", "started_at", "finished_at", "cancel_requested_at", "twilio_sid", "sent_at",
	"delivered_at", "error_code", "segments", "merged_into", "password_hash", "last_login_at", "last_used_at",
	"token_hash", "river_job_id", "user_id", "kind",
}

func serverOwnedValue(field string) any {
	switch field {
	case "version", "processed", "total", "attempts", "error_code", "segments", "river_job_id":
		return 7
	case "id", "tenant_id", "created_by", "updated_by", "merged_into", "user_id":
		return uuid.NewString()
	case "balance", "credit_used":
		return "1000000.00"
	case "reach":
		return []string{uuid.NewString()}
	case "result", "errors":
		return map[string]any{"forged": true}
	case "status", "state", "kind", "twilio_sid", "password_hash", "token_hash":
		return "forged"
	}
	return "2001-01-01T00:00:00Z"
}

// jsonNames are the member names a request type decodes: its fields' JSON
// names, with the members of embedded structs (which the decoder inlines)
// and of fields tagged inline.
func jsonNames(rt reflect.Type) map[string]bool {
	for rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	out := map[string]bool{}
	if rt.Kind() != reflect.Struct {
		return out
	}
	for i := range rt.NumField() {
		f := rt.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if (f.Anonymous && name == "") || strings.Contains(","+opts+",", ",inline,") {
			for k := range jsonNames(f.Type) {
				out[k] = true
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = true
	}
	return out
}

func assertStatus(t *testing.T, want int, resp *apptest.Response, format string, args ...any) bool {
	t.Helper()
	if resp.Status != want {
		t.Errorf("want %d: "+format+": %d %.300s", append(append([]any{want}, args...), resp.Status, resp.Body)...)
		return false
	}
	return true
}
