package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/server"
	"github.com/customerhub/customerhub/internal/sms"
)

// secret marks every value written to the objects of the customer the
// readers below must not see: no audit answer to them may contain it.
const secret = "Secret7c1"

// auditSubject is an object with an audit trail.
type auditSubject struct {
	id string
	// ofCustomer: it belongs to the hidden customer (its events name it).
	ofCustomer bool
	// scoped: a customer, contact, location, order or payment, which does
	// not exist (404) for whoever cannot see its customer.
	scoped bool
}

// TestAuditFollowsVisibility: for every kind of object whose changes are
// audited (server.AuditedEntities, so a new kind cannot be forgotten), an
// object of customer C1 (rep one's) is changed, then its trail is read by
// another sales rep holding every permission, by the portal user of
// another customer, and by another tenant's admin. None of them reads an
// event of C1: the trail is 404 for objects that belong to a customer
// (deleted ones included), and no answer contains C1's id or data. Rep
// one and the admin read them all.
func TestAuditFollowsVisibility(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	tn := app.Signup(t)
	other := app.Signup(t)
	admin := tn.AdminToken

	send := func(method, path, etag string, body any, want int) map[string]any {
		t.Helper()
		req := apptest.Req{Method: method, Path: path, Token: admin, Body: body}
		if etag != "" {
			req.Headers = map[string]string{"If-Match": etag}
		}
		resp := app.Do(t, req)
		require.Equal(t, want, resp.Status, "%s %s: %s", method, path, resp.Body)
		if len(resp.Body) == 0 {
			return nil
		}
		m := resp.Map(t)
		if etag := resp.Header.Get("ETag"); etag != "" {
			m["etag"] = etag
		}
		return m
	}
	post := func(path string, body any) map[string]any {
		t.Helper()
		return send(http.MethodPost, path, "", body, http.StatusCreated)
	}
	id := func(m map[string]any) string { return m["id"].(string) }

	// Readers who see customers by assignment and hold every permission, so
	// that only visibility (never a missing permission) hides a trail.
	post("/v1/roles", map[string]any{"name": "everything", "permissions": auth.AllPermissions})
	rep1 := app.CreateUser(t, tn, "everything", map[string]any{"visibility": "assigned"})
	rep2 := app.CreateUser(t, tn, "everything", map[string]any{"visibility": "assigned"})
	c1 := app.CreateCustomer(t, admin, map[string]any{"name": secret + " Customer", "sales_rep_id": rep1.ID})
	c2 := app.CreateCustomer(t, admin, map[string]any{"name": "Other Customer", "sales_rep_id": rep2.ID})
	c1ID := id(c1)
	c1 = send(http.MethodGet, "/v1/customers/"+c1ID, "", nil, http.StatusOK)
	send(http.MethodPatch, "/v1/customers/"+c1ID, c1["etag"].(string), map[string]any{"notes": secret + " notes"}, http.StatusOK)
	portal2 := app.CreateUser(t, tn, "portal", map[string]any{"customer_id": id(c2)})

	contact := post("/v1/customers/"+c1ID+"/contacts", map[string]any{"name": secret + " Contact"})
	goneContact := post("/v1/customers/"+c1ID+"/contacts", map[string]any{"name": secret + " Gone"})
	send(http.MethodDelete, "/v1/contacts/"+id(goneContact), "", nil, http.StatusNoContent)
	location := post("/v1/customers/"+c1ID+"/locations", map[string]any{"label": secret + " HQ", "line1": "1 Main St", "city": "Springfield", "country": "US", "kinds": []string{"billing"}})
	goneLocation := post("/v1/customers/"+c1ID+"/locations", map[string]any{"label": secret + " Depot", "line1": "2 Main St", "city": "Springfield", "country": "US", "kinds": []string{"shipping"}})
	send(http.MethodDelete, "/v1/locations/"+id(goneLocation), "", nil, http.StatusNoContent)
	item := post("/v1/items", map[string]any{"sku": "AUD-1", "name": "Audited item", "base_price": "1.00"})
	prices := post("/v1/price-lists", map[string]any{"code": "LIST", "name": "List", "currency": "USD"})
	send(http.MethodPut, "/v1/price-lists/"+id(prices)+"/items/AUD-1", "", map[string]any{"price": "2.00"}, http.StatusCreated)
	send(http.MethodPut, "/v1/customers/"+c1ID+"/prices/AUD-1", "", map[string]any{"price": "4242.42"}, http.StatusCreated)
	send(http.MethodPut, "/v1/customers/"+c1ID+"/prices/AUD-1", "", map[string]any{"price": "4242.43"}, http.StatusOK)
	order := post("/v1/sales-orders", map[string]any{"customer_id": c1ID, "notes": secret + " order",
		"lines": []any{map[string]any{"sku": "AUD-1", "quantity": "2"}}})
	payment := post("/v1/payments", map[string]any{"customer_id": c1ID, "amount": "1", "reference": secret + " payment"})
	viewer := app.CreateUser(t, tn, "viewer", nil)
	post("/v1/users/"+viewer.ID+"/customer-grants", map[string]any{"customer_id": c1ID})
	portal1 := app.CreateUser(t, tn, "portal", map[string]any{"customer_id": c1ID, "name": secret + " Portal"})

	// Objects of the tenant as a whole.
	group := post("/v1/customer-groups", map[string]any{"category": "region", "code": "N", "name": "North"})
	var cats struct {
		Items []struct {
			ID, Key string
			Version int64
		}
	}
	app.Get(t, "/v1/customer-group-categories", admin).JSON(t, &cats)
	require.Len(t, cats.Items, 1)
	send(http.MethodPatch, "/v1/customer-group-categories/region", fmt.Sprintf(`"%d"`, cats.Items[0].Version), map[string]any{"name": "Regions"}, http.StatusOK)
	settings := send(http.MethodGet, "/v1/settings", "", nil, http.StatusOK)
	send(http.MethodPatch, "/v1/settings", settings["etag"].(string), map[string]any{"dormant_after_days": 200}, http.StatusOK)
	field := post("/v1/custom-fields", map[string]any{"key": "tier", "label": "Tier", "type": "text"})
	role := post("/v1/roles", map[string]any{"name": "auditor", "permissions": []string{"customers:read"}})
	terms := post("/v1/payment-terms", map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
	smsSettings := send(http.MethodGet, "/v1/sms/settings", "", nil, http.StatusOK)
	send(http.MethodPatch, "/v1/sms/settings", smsSettings["etag"].(string), map[string]any{"time_zone": "Europe/Paris"}, http.StatusOK)
	template := post("/v1/sms/templates", map[string]any{"name": "Reminder", "body": "Hi {name}"})
	post("/v1/sms/opt-outs", map[string]any{"phone": "+14155550177"})

	subjects := map[string][]auditSubject{
		"customer":       {{id: c1ID, ofCustomer: true, scoped: true}},
		"contact":        {{id: id(contact), ofCustomer: true, scoped: true}, {id: id(goneContact), ofCustomer: true, scoped: true}},
		"location":       {{id: id(location), ofCustomer: true, scoped: true}, {id: id(goneLocation), ofCustomer: true, scoped: true}},
		"order":          {{id: id(order), ofCustomer: true, scoped: true}},
		"payment":        {{id: id(payment), ofCustomer: true, scoped: true}},
		"price":          {{id: id(item), ofCustomer: true}},
		"grant":          {{id: viewer.ID, ofCustomer: true}},
		"user":           {{id: portal1.ID, ofCustomer: true}},
		"group":          {{id: id(group)}},
		"group_category": {{id: cats.Items[0].ID}},
		"settings":       {{id: tn.ID}},
		"custom_field":   {{id: id(field)}},
		"role":           {{id: id(role)}},
		"payment_terms":  {{id: id(terms)}},
		"price_list":     {{id: id(prices)}},
		"item":           {{id: id(item)}},
		"sms_settings":   {{id: tn.ID}},
		"sms_template":   {{id: id(template)}},
		"sms_opt_out":    {{id: sms.OptOutEntityID(uuid.MustParse(tn.ID), "+14155550177").String()}},
	}
	for entity := range server.AuditedEntities() {
		require.Contains(t, subjects, entity, "audited kind %q has no object in this test: add one", entity)
	}

	read := func(token, entity, objID string) (int, string, int) {
		t.Helper()
		resp := app.Get(t, "/v1/audit?entity="+entity+"&id="+objID, token)
		events := 0
		if resp.Status == http.StatusOK {
			var out struct{ Items []map[string]any }
			resp.JSON(t, &out)
			events = len(out.Items)
		}
		return resp.Status, string(resp.Body), events
	}
	readers := map[string]string{"OtherRep": rep2.Token, "PortalOfOtherCustomer": portal2.Token, "OtherTenant": other.AdminToken}

	for entity, objs := range subjects {
		for i, s := range objs {
			t.Run(fmt.Sprintf("%s/%d", entity, i), func(t *testing.T) {
				status, body, n := read(admin, entity, s.id)
				require.Equal(t, http.StatusOK, status, body)
				require.Positive(t, n, "the admin reads the trail")
				if s.ofCustomer {
					require.True(t, strings.Contains(body, secret) || strings.Contains(body, c1ID) || strings.Contains(body, "4242.4"),
						"the trail shows C1's data to those who may see it: %s", body)
					status, body, n = read(rep1.Token, entity, s.id)
					require.Equal(t, http.StatusOK, status, body)
					require.Positive(t, n, "C1's rep reads its trail")
				}
				for name, token := range readers {
					status, body, _ := read(token, entity, s.id)
					require.NotContains(t, body, secret, "%s reads C1's data", name)
					require.NotContains(t, body, c1ID, "%s reads C1's id", name)
					require.NotContains(t, body, "4242.4", "%s reads C1's price", name)
					switch {
					case s.scoped:
						// Every reader here holds customers:read.
						require.Equal(t, http.StatusNotFound, status, "%s: %s", name, body)
					case status != http.StatusOK:
						require.Contains(t, []int{http.StatusNotFound, http.StatusForbidden}, status, "%s: %s", name, body)
					}
					if entity == "price" && name != "OtherTenant" {
						// The price list's price stays public to those who
						// read prices; only C1's own price is hidden.
						require.Contains(t, body, "2.00", "%s: %s", name, body)
					}
				}
			})
		}
	}
}
