package server_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/httpapi"
)

// owned holds one object of each kind a tenant owns, as the values of the
// route parameters that name it, keyed by the route's path prefix. A new
// route with a parameter must add its kind here, or TestTenantIsolation
// fails: isolation coverage cannot silently lag behind the routes.
type owned map[string]map[string]string

func createOwned(t *testing.T, app *apptest.App, tn apptest.Tenant) owned {
	t.Helper()
	return createOwnedWith(t, app, tn, nil)
}

// createOwnedWith is createOwned with custExtra added to the owned
// customer's body (its sales_rep_id, say), so that everything hanging off
// the customer is scoped the way the test needs.
func createOwnedWith(t *testing.T, app *apptest.App, tn apptest.Tenant, custExtra map[string]any) owned {
	t.Helper()
	post := func(path string, body any) map[string]any {
		t.Helper()
		resp := app.Post(t, path, tn.AdminToken, body)
		require.Equal(t, http.StatusCreated, resp.Status, "%s: %s", path, resp.Body)
		return resp.Map(t)
	}
	custBody := map[string]any{"name": "Owned Customer", "email": "owned@example.com"}
	for k, v := range custExtra {
		custBody[k] = v
	}
	cust := app.CreateCustomer(t, tn.AdminToken, custBody)
	custID := cust["id"].(string)
	user := app.CreateUser(t, tn, "viewer", nil)
	role := post("/v1/roles", map[string]any{"name": "auditor", "permissions": []string{"customers:read"}})
	token := post("/v1/tokens", map[string]any{"name": "ci"})
	contact := post("/v1/customers/"+custID+"/contacts", map[string]any{"name": "Owned Contact"})
	location := post("/v1/customers/"+custID+"/locations", map[string]any{"label": "HQ", "line1": "1 Main St", "city": "Springfield", "country": "US", "kinds": []string{"billing"}})
	field := post("/v1/custom-fields", map[string]any{"key": "owned_field", "label": "Owned", "type": "text"})
	terms := post("/v1/payment-terms", map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
	prices := post("/v1/price-lists", map[string]any{"code": "RETAIL", "name": "Retail", "currency": "USD"})
	grp := post("/v1/customer-groups", map[string]any{"category": "owned_category", "code": "G1", "name": "Group one"})
	post("/v1/users/"+user.ID+"/customer-grants", map[string]any{"customer_id": custID})
	resp := app.Do(t, apptest.Req{Method: http.MethodPut, Path: "/v1/views/owned-view", Token: tn.AdminToken, Body: map[string]any{"sort": "-balance"}})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	item := post("/v1/items", map[string]any{"sku": "OWNED", "name": "Owned item", "base_price": "1.00"})
	for _, path := range []string{"/v1/price-lists/" + prices["id"].(string) + "/items/OWNED", "/v1/customers/" + custID + "/prices/OWNED"} {
		resp := app.Do(t, apptest.Req{Method: http.MethodPut, Path: path, Token: tn.AdminToken, Body: map[string]any{"price": "2.00"}})
		require.Equal(t, http.StatusCreated, resp.Status, "%s: %s", path, resp.Body)
	}
	order := post("/v1/sales-orders", map[string]any{"customer_id": custID, "lines": []any{map[string]any{"sku": "OWNED", "quantity": "1"}}})
	payment := post("/v1/payments", map[string]any{"customer_id": custID, "amount": "1"})
	template := post("/v1/sms/templates", map[string]any{"name": "Owned template", "body": "Hi {name}"})
	job := app.Post(t, "/v1/customers/bulk-update", tn.AdminToken, map[string]any{
		"selection": map[string]any{"ids": []string{custID}}, "set": map[string]any{"billing_status": "current"}})
	require.Equal(t, http.StatusAccepted, job.Status, "%s", job.Body)
	var upload bytes.Buffer
	mw := multipart.NewWriter(&upload)
	fw, err := mw.CreateFormFile("file", "owned.csv")
	require.NoError(t, err)
	_, _ = fw.Write([]byte("code,name\nOWNED1,Owned import\n"))
	require.NoError(t, mw.Close())
	imp := app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/imports", Token: tn.AdminToken, Body: upload.Bytes(),
		Headers: map[string]string{"Content-Type": mw.FormDataContentType()}})
	require.Equal(t, http.StatusAccepted, imp.Status, "%s", imp.Body)
	post("/v1/sms/opt-outs", map[string]any{"phone": "+14155550188"})
	// Campaigns are made by the sender; a campaign and its message are
	// inserted as the application would.
	campaign, message := uuid.NewString(), uuid.NewString()
	require.NoError(t, database.WithTenantTx(context.Background(), app.DB.App, database.SystemScope(uuid.MustParse(tn.ID)),
		func(ctx context.Context, tx database.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO sms_campaigns (tenant_id, id, body, total) VALUES ($1, $2, 'Owed {balance}', 1)`,
				tn.ID, campaign); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO sms_messages (tenant_id, id, campaign_id, selected_id, customer_id, reach)
				SELECT tenant_id, $2, $3, id, id, reach FROM customers WHERE tenant_id = $1 AND id = $4`, tn.ID, message, campaign, custID)
			return err
		}))
	id := func(v string) map[string]string { return map[string]string{":id": v} }
	return owned{
		"/v1/imports/":                   id(imp.Map(t)["import"].(map[string]any)["id"].(string)),
		"/v1/customers/":                 {":id": custID, ":sku": "OWNED"},
		"/v1/sales-orders/":              id(order["id"].(string)),
		"/v1/payments/":                  id(payment["id"].(string)),
		"/v1/items/":                     id(item["id"].(string)),
		"/v1/users/":                     {":id": user.ID, ":customer_id": custID},
		"/v1/roles/":                     id(role["id"].(string)),
		"/v1/tokens/":                    id(token["id"].(string)),
		"/v1/contacts/":                  id(contact["id"].(string)),
		"/v1/locations/":                 id(location["id"].(string)),
		"/v1/custom-fields/":             id(field["id"].(string)),
		"/v1/payment-terms/":             id(terms["id"].(string)),
		"/v1/price-lists/":               {":id": prices["id"].(string), ":sku": "OWNED"},
		"/v1/customer-groups/":           id(grp["id"].(string)),
		"/v1/customer-group-categories/": {":key": "owned_category"},
		"/v1/views/":                     {":name": "owned-view"},
		"/v1/jobs/":                      id(job.Map(t)["job"].(map[string]any)["id"].(string)),
		"/v1/sms/templates/":             id(template["id"].(string)),
		"/v1/sms/campaigns/":             id(campaign),
		"/v1/sms/messages/":              id(message),
		"/v1/sms/opt-outs/":              {":phone": "%2B14155550188"},
	}
}

func (o owned) pathFor(t *testing.T, route string) string {
	t.Helper()
	for prefix, params := range o {
		if !strings.HasPrefix(route, prefix) {
			continue
		}
		path := route
		for name, value := range params {
			path = strings.Replace(path, name, value, 1)
		}
		require.NotContains(t, path, "/:", "route %s has a parameter without a fixture", route)
		return path
	}
	t.Fatalf("route %s has a parameter but no fixture in createOwned", route)
	return ""
}

// isolationBodies are valid bodies for the POSTs and PUTs under another
// object, so that only the object's absence can answer (not validation).
var isolationBodies = map[string]any{
	"PUT /v1/price-lists/:id/items/:sku": map[string]any{"price": "9.00"},
	"PUT /v1/customers/:id/prices/:sku":  map[string]any{"price": "9.00"},
	"PATCH /v1/sales-orders/:id":         map[string]any{"lines": []any{map[string]any{"sku": "OWNED", "quantity": "2"}}},
	"POST /v1/customers/:id/contacts":    map[string]any{"name": "Intruder"},
	"POST /v1/customers/:id/locations":   map[string]any{"label": "X", "line1": "1 X St", "city": "X", "country": "US", "kinds": []string{"shipping"}},
	"POST /v1/users/:id/customer-grants": map[string]any{"customer_id": "0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7a"},
	"POST /v1/customers/:id/merge":       map[string]any{"duplicate_id": "0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7a"},
}

// perUserNamespaces are routes whose parameter names an object in the
// caller's own namespace: PUT creates the caller's own view, it cannot
// reach another user's.
var perUserNamespaces = map[string]bool{"PUT /v1/views/:name": true}

// TestTenantIsolation sends tenant B's admin at tenant A's objects through
// every route with a parameter: each answer is the same 404 a missing
// object gets, and A's objects are unchanged afterwards.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	a, b := app.Signup(t), app.Signup(t)
	objs := createOwned(t, app, a)

	checked := 0
	for _, r := range app.Server.Routes {
		if r.Permission == httpapi.Public || !strings.Contains(r.Path, "/:") || perUserNamespaces[r.Method+" "+r.Path] {
			continue
		}
		path := objs.pathFor(t, r.Path)
		var body any = "{}"
		if b, ok := isolationBodies[r.Method+" "+r.Path]; ok {
			body = b
		}
		resp := app.Do(t, apptest.Req{Method: r.Method, Path: path, Token: b.AdminToken, Body: body,
			Headers: map[string]string{"If-Match": `"1"`}})
		require.Equal(t, http.StatusNotFound, resp.Status, "%s %s: %s", r.Method, path, resp.Body)
		var p map[string]any
		resp.JSON(t, &p)
		require.Equal(t, "not_found", p["code"])
		checked++
	}
	require.Greater(t, checked, 30)

	// A's objects are intact and still A's.
	for _, path := range []string{"/v1/contacts/:id", "/v1/locations/:id", "/v1/custom-fields/:id", "/v1/payment-terms/:id",
		"/v1/price-lists/:id", "/v1/customer-groups/:id", "/v1/views/:name", "/v1/users/:id/customer-grants",
		"/v1/sales-orders/:id", "/v1/payments/:id", "/v1/items/:id", "/v1/customers/:id/ledger",
		"/v1/sms/campaigns/:id", "/v1/sms/messages/:id", "/v1/sms/opt-outs/:phone"} {
		resp := app.Get(t, objs.pathFor(t, path), a.AdminToken)
		require.Equal(t, http.StatusOK, resp.Status, "%s: %s", path, resp.Body)
		require.NotContains(t, string(resp.Body), `"version":2`, path)
	}
	cust := app.Get(t, objs.pathFor(t, "/v1/customers/:id"), a.AdminToken)
	require.Equal(t, http.StatusOK, cust.Status)
	require.EqualValues(t, 1, cust.Map(t)["version"])
	user := app.Get(t, objs.pathFor(t, "/v1/users/:id"), a.AdminToken)
	require.Equal(t, "active", user.Map(t)["status"])
	require.Equal(t, http.StatusOK, app.Get(t, objs.pathFor(t, "/v1/roles/:id"), a.AdminToken).Status)
	tokens := app.Get(t, "/v1/tokens", a.AdminToken).Map(t)["items"].([]any)
	require.Len(t, tokens, 1)

	// Lists show nothing of the other tenant.
	for _, path := range []string{"/v1/customers", "/v1/users", "/v1/roles", "/v1/tokens", "/v1/jobs"} {
		resp := app.Get(t, path, b.AdminToken)
		require.Equal(t, http.StatusOK, resp.Status, path)
		require.NotContains(t, string(resp.Body), objs.pathFor(t, path+"/:id")[len(path)+1:], path)
	}
}

// TestSalesRepScope: a rep with visibility 'assigned' sees, lists and
// changes only their own customers; others are 404.
func TestSalesRepScope(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	tn := app.Signup(t)
	r1 := app.CreateUser(t, tn, "sales_rep", nil)
	r2 := app.CreateUser(t, tn, "sales_rep", nil)
	c1 := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "R1 Co", "sales_rep_id": r1.ID})
	c2 := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "R2 Co", "sales_rep_id": r2.ID})
	c3 := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Unassigned Co"})

	t.Run("ListsOnlyOwn", func(t *testing.T) {
		var list struct{ Items []map[string]any }
		app.Get(t, "/v1/customers", r1.Token).JSON(t, &list)
		require.Len(t, list.Items, 1)
		require.Equal(t, c1["id"], list.Items[0]["id"])
	})
	t.Run("OthersAre404", func(t *testing.T) {
		for _, c := range []map[string]any{c2, c3} {
			path := "/v1/customers/" + c["id"].(string)
			require.Equal(t, http.StatusNotFound, app.Get(t, path, r1.Token).Status)
			require.Equal(t, http.StatusNotFound, app.Patch(t, path, r1.Token, `"1"`, map[string]any{"name": "Taken"}).Status)
		}
		// The other rep's customer is untouched.
		require.Equal(t, "R2 Co", app.Get(t, "/v1/customers/"+c2["id"].(string), r2.Token).Map(t)["name"])
	})
	t.Run("DeleteNeedsPermissionThenScope", func(t *testing.T) {
		// A rep lacks customers:delete: 403 (function level).
		require.Equal(t, http.StatusForbidden, app.Delete(t, "/v1/customers/"+c2["id"].(string), r1.Token).Status)
		// A custom role that may delete but sees only assigned customers
		// still gets 404 for another rep's customer.
		role := app.Post(t, "/v1/roles", tn.AdminToken, map[string]any{"name": "closer",
			"permissions": []string{"customers:read", "customers:write", "customers:delete"}})
		require.Equal(t, http.StatusCreated, role.Status, "%s", role.Body)
		closer := app.CreateUser(t, tn, "closer", map[string]any{"visibility": "assigned"})
		require.Equal(t, http.StatusNotFound, app.Delete(t, "/v1/customers/"+c2["id"].(string), closer.Token).Status)
		require.Equal(t, http.StatusOK, app.Get(t, "/v1/customers/"+c2["id"].(string), tn.AdminToken).Status)
	})
	t.Run("CreateAssignsToSelf", func(t *testing.T) {
		c := app.CreateCustomer(t, r1.Token, map[string]any{"name": "Found by R1"})
		require.Equal(t, r1.ID, c["sales_rep_id"])
		resp := app.Post(t, "/v1/customers", r1.Token, map[string]any{"name": "For R2", "sales_rep_id": r2.ID})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Contains(t, string(resp.Body), `"field":"sales_rep_id"`)
	})
	t.Run("CannotHandOver", func(t *testing.T) {
		path := "/v1/customers/" + c1["id"].(string)
		cur := app.Get(t, path, r1.Token)
		resp := app.Patch(t, path, r1.Token, cur.Header.Get("ETag"), map[string]any{"sales_rep_id": r2.ID})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		require.Equal(t, r1.ID, app.Get(t, path, tn.AdminToken).Map(t)["sales_rep_id"])
	})
}
