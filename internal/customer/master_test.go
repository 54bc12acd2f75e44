package customer_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
)

func (b testBundle) post(t *testing.T, path string, body any) map[string]any {
	t.Helper()
	resp := b.app.Post(t, path, b.tn.AdminToken, body)
	require.Equal(t, http.StatusCreated, resp.Status, "%s: %s", path, resp.Body)
	return resp.Map(t)
}

func fieldErrors(t *testing.T, resp *apptest.Response) map[string]string {
	t.Helper()
	require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
	var p struct {
		Errors []struct{ Field, Code string }
	}
	resp.JSON(t, &p)
	out := map[string]string{}
	for _, e := range p.Errors {
		out[e.Field] = e.Code
	}
	return out
}

func TestFullRecord(t *testing.T) {
	t.Parallel()
	b := setup(t)
	terms := b.post(t, "/v1/payment-terms", map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
	prices := b.post(t, "/v1/price-lists", map[string]any{"code": "WHOLESALE", "name": "Wholesale", "currency": "EUR"})

	t.Run("EveryField", func(t *testing.T) {
		c := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{
			"name": "Müller Handel GmbH", "kind": "both", "type": "company", "contact_name": "Anna Müller",
			"email": "Einkauf@Mueller.example", "phone": "+49 30 1234567", "website": "mueller.example/shop",
			"tax_number": "DE123456789", "currency": "eur", "discount_rate": "12.5", "payment_terms_id": terms["id"],
			"default_payment_method": "bank_transfer", "tax_scheme": "EU-B2B", "price_list_id": prices["id"],
			"credit_limit": "25000", "credit_period_days": 45, "credit_policy": "block", "billing_status": "current",
			"basis_date": "2026-03-31", "notes": "Delivers on Tuesdays.\nCall ahead.",
		})
		want := map[string]any{
			"kind": "both", "contact_name": "Anna Müller", "email": "einkauf@mueller.example", "phone": "+49301234567",
			"website": "https://mueller.example/shop", "tax_number": "DE123456789", "currency": "EUR",
			"discount_rate": "12.50", "payment_terms_id": terms["id"], "default_payment_method": "bank_transfer",
			"tax_scheme": "EU-B2B", "price_list_id": prices["id"], "credit_limit": "25000.00", "credit_period_days": float64(45),
			"credit_policy": "block", "billing_status": "current", "basis_date": "2026-03-31",
			"notes": "Delivers on Tuesdays.\nCall ahead.", "balance": "0.00", "order_count": float64(0), "engaged": false,
		}
		for k, v := range want {
			require.Equal(t, v, c[k], k)
		}
		eff := c["effective"].(map[string]any)
		require.Equal(t, map[string]any{"value": "EUR", "source": "customer"}, eff["currency"])
		require.Equal(t, map[string]any{"value": "block", "source": "customer"}, eff["credit_policy"])
	})
	t.Run("EveryFieldValidated", func(t *testing.T) {
		resp := b.app.Post(t, "/v1/customers", b.tn.AdminToken, map[string]any{
			"name": "Bad", "kind": "partner", "website": "ftp://x", "currency": "EURO", "discount_rate": "100.5",
			"credit_limit": "-1", "credit_period_days": 4000, "credit_policy": "maybe", "billing_status": "great",
			"basis_date": "2026-02-30", "default_payment_method": "barter", "tax_number": "<script>",
			"payment_terms_id": "0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7a", "contact_name": "x\u0000y",
		})
		got := fieldErrors(t, resp)
		require.Equal(t, map[string]string{
			"kind": "invalid_choice", "website": "invalid_url", "currency": "invalid_currency", "discount_rate": "out_of_range",
			"credit_limit": "out_of_range", "credit_period_days": "out_of_range", "credit_policy": "invalid_choice",
			"billing_status": "invalid_choice", "basis_date": "invalid_date", "default_payment_method": "invalid_choice",
			"tax_number": "invalid_tax_number", "contact_name": "invalid_characters",
		}, got)
		resp = b.app.Post(t, "/v1/customers", b.tn.AdminToken, map[string]any{"name": "Bad", "discount_rate": "1.234", "credit_limit": "12abc"})
		require.Equal(t, map[string]string{"discount_rate": "too_precise", "credit_limit": "invalid_decimal"}, fieldErrors(t, resp))
		resp = b.app.Post(t, "/v1/customers", b.tn.AdminToken, map[string]any{"name": "Bad", "payment_terms_id": "0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7a"})
		require.Equal(t, map[string]string{"payment_terms_id": "not_found"}, fieldErrors(t, resp))
	})
	t.Run("EmptyPatchKeepsVersion", func(t *testing.T) {
		c := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Still"})
		path := "/v1/customers/" + c["id"].(string)
		resp := b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{})
		require.Equal(t, http.StatusOK, resp.Status)
		require.Equal(t, `"1"`, resp.Header.Get("ETag"))
		resp = b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"name": "Still"})
		require.Equal(t, `"1"`, resp.Header.Get("ETag"), "setting a field to its value changes nothing")
	})
}

// TestGroupsAndEffectiveValues: empty customer fields fall back to the
// customer's groups (the first category by position that sets a default),
// then to the tenant; the response says where each value came from.
func TestGroupsAndEffectiveValues(t *testing.T) {
	t.Parallel()
	b := setup(t)
	net30 := b.post(t, "/v1/payment-terms", map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
	net60 := b.post(t, "/v1/payment-terms", map[string]any{"code": "NET60", "name": "Net 60", "due_days": 60})
	retail := b.post(t, "/v1/price-lists", map[string]any{"code": "RETAIL", "name": "Retail", "currency": "USD"})
	region := b.post(t, "/v1/customer-groups", map[string]any{"category": "region", "code": "L001", "name": "Lokal 1",
		"payment_terms_id": net30["id"], "credit_limit": "1000", "discount_rate": "5"})
	level := b.post(t, "/v1/customer-groups", map[string]any{"category": "level", "code": "GOLD", "name": "Gold",
		"payment_terms_id": net60["id"], "price_list_id": retail["id"], "credit_days": 14})

	c := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Grouped", "groups": map[string]any{"region": "L001", "level": "GOLD"}})
	path := "/v1/customers/" + c["id"].(string)
	require.Equal(t, map[string]any{"region": "L001", "level": "GOLD"}, c["groups"])
	eff := c["effective"].(map[string]any)
	groupRef := func(g map[string]any) map[string]any {
		return map[string]any{"id": g["id"], "category": g["category"], "code": g["code"], "name": g["name"]}
	}
	// Categories take their position from creation order: region first.
	require.Equal(t, map[string]any{"value": net30["id"], "source": "group", "group": groupRef(region)}, eff["payment_terms_id"])
	require.Equal(t, map[string]any{"value": retail["id"], "source": "group", "group": groupRef(level)}, eff["price_list_id"])
	require.Equal(t, map[string]any{"value": "1000.00", "source": "group", "group": groupRef(region)}, eff["credit_limit"])
	require.Equal(t, map[string]any{"value": float64(14), "source": "group", "group": groupRef(level)}, eff["credit_period_days"])
	require.Equal(t, map[string]any{"value": "5.00", "source": "group", "group": groupRef(region)}, eff["discount_rate"])
	require.Equal(t, map[string]any{"value": "USD", "source": "tenant"}, eff["currency"])

	t.Run("CategoryPositionDecides", func(t *testing.T) {
		resp := b.app.Patch(t, "/v1/customer-group-categories/region", b.tn.AdminToken, `"1"`, map[string]any{"position": 100})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		eff := b.app.Get(t, path, b.tn.AdminToken).Map(t)["effective"].(map[string]any)
		require.Equal(t, net60["id"], eff["payment_terms_id"].(map[string]any)["value"])
	})
	t.Run("OwnValueWins", func(t *testing.T) {
		cur := b.app.Get(t, path, b.tn.AdminToken)
		resp := b.app.Patch(t, path, b.tn.AdminToken, cur.Header.Get("ETag"), map[string]any{"credit_limit": "50"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		eff := resp.Map(t)["effective"].(map[string]any)
		require.Equal(t, map[string]any{"value": "50.00", "source": "customer"}, eff["credit_limit"])
	})
	t.Run("LeaveGroupFallsToTenant", func(t *testing.T) {
		settings := b.app.Get(t, "/v1/settings", b.tn.AdminToken)
		resp := b.app.Patch(t, "/v1/settings", b.tn.AdminToken, settings.Header.Get("ETag"), map[string]any{"default_payment_terms_id": net30["id"]})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		cur := b.app.Get(t, path, b.tn.AdminToken)
		resp = b.app.Patch(t, path, b.tn.AdminToken, cur.Header.Get("ETag"), map[string]any{"groups": map[string]any{"level": nil, "region": nil}})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		got := resp.Map(t)
		require.Equal(t, map[string]any{}, got["groups"])
		eff := got["effective"].(map[string]any)
		require.Equal(t, map[string]any{"value": net30["id"], "source": "tenant"}, eff["payment_terms_id"])
		require.Equal(t, map[string]any{"value": nil, "source": "none"}, eff["discount_rate"])
	})
	t.Run("UnknownGroup", func(t *testing.T) {
		resp := b.app.Post(t, "/v1/customers", b.tn.AdminToken, map[string]any{"name": "X", "groups": map[string]any{"region": "NOPE"}})
		require.Contains(t, fieldErrors(t, resp), "groups.region")
	})
	t.Run("GroupFilter", func(t *testing.T) {
		other := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "In L001", "groups": map[string]any{"region": "L001"}})
		both := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "In both", "groups": map[string]any{"region": "L001", "level": "GOLD"}})
		require.ElementsMatch(t, []string{both["id"].(string), other["id"].(string)}, collect(t, b.app, b.tn.AdminToken, "group.region=L001", 10))
		require.Equal(t, []string{both["id"].(string)}, collect(t, b.app, b.tn.AdminToken, "group.region=L001&group.level=GOLD", 10))
		require.Empty(t, collect(t, b.app, b.tn.AdminToken, "group.region=L002", 10))
	})
}

func TestRequiredAndCustomFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.post(t, "/v1/custom-fields", map[string]any{"key": "industry", "label": "Industry", "type": "select", "options": []string{"food", "retail"}, "required": true})
	b.post(t, "/v1/custom-fields", map[string]any{"key": "employees", "label": "Employees", "type": "number"})
	b.post(t, "/v1/custom-fields", map[string]any{"key": "founded", "label": "Founded", "type": "date"})
	b.post(t, "/v1/custom-fields", map[string]any{"key": "vip", "label": "VIP", "type": "bool"})
	settings := b.app.Get(t, "/v1/settings", b.tn.AdminToken)
	resp := b.app.Patch(t, "/v1/settings", b.tn.AdminToken, settings.Header.Get("ETag"), map[string]any{"required_fields": []string{"email", "tax_number"}})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	t.Run("RequiredReported", func(t *testing.T) {
		resp := b.app.Post(t, "/v1/customers", b.tn.AdminToken, map[string]any{"name": "Lacking"})
		require.Equal(t, map[string]string{"email": "required", "tax_number": "required", "custom.industry": "required"}, fieldErrors(t, resp))
	})
	t.Run("CustomValidated", func(t *testing.T) {
		resp := b.app.Post(t, "/v1/customers", b.tn.AdminToken, map[string]any{"name": "Typed", "email": "a@b.example", "tax_number": "T1",
			"custom": map[string]any{"industry": "mining", "employees": "many", "founded": "2026-13-01", "vip": "yes", "colour": "red"}})
		require.Equal(t, map[string]string{"custom.industry": "invalid_choice", "custom.employees": "invalid_number",
			"custom.founded": "invalid_date", "custom.vip": "invalid_type", "custom.colour": "unknown_field"}, fieldErrors(t, resp))
	})
	var food, retail map[string]any
	t.Run("Stored", func(t *testing.T) {
		food = b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Food Co", "email": "a@food.example", "tax_number": "F1",
			"custom": map[string]any{"industry": "food", "employees": 120, "founded": "1999-05-01", "vip": true}})
		require.Equal(t, map[string]any{"industry": "food", "employees": float64(120), "founded": "1999-05-01", "vip": true}, food["custom"])
		retail = b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Retail Co", "email": "a@retail.example", "tax_number": "R1",
			"custom": map[string]any{"industry": "retail", "employees": "7.50"}})
	})
	t.Run("Filter", func(t *testing.T) {
		require.Equal(t, []string{food["id"].(string)}, collect(t, b.app, b.tn.AdminToken, "custom.industry=food", 10))
		require.Equal(t, []string{food["id"].(string)}, collect(t, b.app, b.tn.AdminToken, "custom.vip=true", 10))
		require.Equal(t, []string{retail["id"].(string)}, collect(t, b.app, b.tn.AdminToken, "custom.employees=7.5", 10))
		resp := b.app.Get(t, "/v1/customers?custom.industry=mining", b.tn.AdminToken)
		require.Contains(t, fieldErrors(t, resp), "custom.industry")
	})
	t.Run("PatchRemovesAndKeepsRequired", func(t *testing.T) {
		path := "/v1/customers/" + food["id"].(string)
		resp := b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"custom": map[string]any{"vip": nil}})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.NotContains(t, resp.Map(t)["custom"], "vip")
		resp = b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"custom": map[string]any{"industry": nil}})
		require.Equal(t, map[string]string{"custom.industry": "required"}, fieldErrors(t, resp))
		resp = b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"email": nil})
		require.Equal(t, map[string]string{"email": "required"}, fieldErrors(t, resp))
	})
}

func TestContacts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "With people"})
	base := "/v1/customers/" + c["id"].(string) + "/contacts"
	first := b.post(t, base, map[string]any{"name": "Ada", "role": "Buyer", "email": "ADA@x.example", "phone": "(415) 555-0199"})
	require.Equal(t, true, first["primary"], "the first contact is primary")
	require.Equal(t, "+14155550199", first["phone"])
	second := b.post(t, base, map[string]any{"name": "Bob", "primary": true})
	var list struct{ Items []map[string]any }
	b.app.Get(t, base, b.tn.AdminToken).JSON(t, &list)
	require.Len(t, list.Items, 2)
	require.Equal(t, second["id"], list.Items[0]["id"], "primary first")
	require.Equal(t, false, list.Items[1]["primary"], "one primary per customer")

	resp := b.app.Patch(t, "/v1/contacts/"+first["id"].(string), b.tn.AdminToken, `"2"`, map[string]any{"primary": true, "role": nil})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.Nil(t, resp.Map(t)["role"])
	require.Equal(t, false, b.app.Get(t, "/v1/contacts/"+second["id"].(string), b.tn.AdminToken).Map(t)["primary"])
	require.Equal(t, http.StatusPreconditionFailed, b.app.Patch(t, "/v1/contacts/"+first["id"].(string), b.tn.AdminToken, `"2"`, map[string]any{"name": "Late"}).Status)
	require.Contains(t, fieldErrors(t, b.app.Post(t, base, b.tn.AdminToken, map[string]any{"email": "bad"})), "name")

	t.Run("RepScope", func(t *testing.T) {
		rep := b.app.CreateUser(t, b.tn, "sales_rep", nil)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, base, rep.Token).Status)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/contacts/"+first["id"].(string), rep.Token).Status)
		require.Equal(t, http.StatusNotFound, b.app.Post(t, base, rep.Token, map[string]any{"name": "Sneaky"}).Status)
	})
	require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/contacts/"+first["id"].(string), b.tn.AdminToken).Status)
	require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/contacts/"+first["id"].(string), b.tn.AdminToken).Status)
	// Contacts go with their customer.
	require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/customers/"+c["id"].(string), b.tn.AdminToken).Status)
	require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/contacts/"+second["id"].(string), b.tn.AdminToken).Status)
}

func TestSavedViews(t *testing.T) {
	t.Parallel()
	b := setup(t)
	big := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Big", "type": "company"})
	b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Person", "type": "individual"})
	setFigures(t, b.app, b.tn, big["id"].(string), "900", "0", nil, "")

	put := func(token, name string, body any) *apptest.Response {
		return b.app.Do(t, apptest.Req{Method: http.MethodPut, Path: "/v1/views/" + name, Token: token, Body: body})
	}
	view := map[string]any{"columns": []string{"name", "balance"}, "filters": map[string]string{"type": "company"}, "sort": "-balance"}
	require.Equal(t, http.StatusCreated, put(b.tn.AdminToken, "debtors", view).Status)
	require.Equal(t, http.StatusOK, put(b.tn.AdminToken, "debtors", view).Status, "PUT replaces")

	var page listPage
	b.app.Get(t, "/v1/customers?view=debtors", b.tn.AdminToken).JSON(t, &page)
	require.Equal(t, []map[string]any{{"id": big["id"], "name": "Big", "balance": "900.00"}}, page.Items)
	b.app.Get(t, "/v1/customers?view=debtors&type=individual&fields=name", b.tn.AdminToken).JSON(t, &page)
	require.Equal(t, "Person", page.Items[0]["name"], "the query overrides the view")

	t.Run("Validation", func(t *testing.T) {
		resp := put(b.tn.AdminToken, "bad", map[string]any{"columns": []string{"secret"}, "filters": map[string]string{"colour": "red", "type": "robot"}, "sort": "weight"})
		require.Equal(t, map[string]string{"columns.0": "unknown_column", "filters.colour": "unknown_filter", "filters.type": "invalid_choice", "sort": "invalid_choice"}, fieldErrors(t, resp))
		require.Equal(t, http.StatusBadRequest, b.app.Get(t, "/v1/customers?view=nope", b.tn.AdminToken).Status)
	})
	t.Run("PerUser", func(t *testing.T) {
		other := b.app.CreateUser(t, b.tn, "manager", nil)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/views/debtors", other.Token).Status)
		var list struct{ Items []map[string]any }
		b.app.Get(t, "/v1/views", other.Token).JSON(t, &list)
		require.Empty(t, list.Items)
		require.Equal(t, http.StatusCreated, put(other.Token, "debtors", map[string]any{"sort": "name"}).Status, "same name, own view")
		require.Equal(t, "-balance", b.app.Get(t, "/v1/views/debtors", b.tn.AdminToken).Map(t)["sort"])
	})
	require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/views/debtors", b.tn.AdminToken).Status)
	require.Equal(t, http.StatusNotFound, b.app.Delete(t, "/v1/views/debtors", b.tn.AdminToken).Status)
}

func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := map[string]string{"Idempotency-Key": "create-acme-1"}
	body := map[string]any{"name": "Acme Once"}
	first := b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/customers", Token: b.tn.AdminToken, Body: body, Headers: key})
	require.Equal(t, http.StatusCreated, first.Status)
	again := b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/customers", Token: b.tn.AdminToken, Body: body, Headers: key})
	require.Equal(t, http.StatusCreated, again.Status)
	require.Equal(t, string(first.Body), string(again.Body), "a replay returns the first response")
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	require.Equal(t, first.Header.Get("ETag"), again.Header.Get("ETag"))
	require.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"))
	require.Len(t, collect(t, b.app, b.tn.AdminToken, "q=acme%20once", 10), 1)

	other := b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/customers", Token: b.tn.AdminToken, Body: map[string]any{"name": "Other"}, Headers: key})
	require.Equal(t, http.StatusUnprocessableEntity, other.Status)
	require.Equal(t, "idempotency_key_reused", other.Map(t)["code"])

	// A failed request keeps no key: the retry runs.
	bad := map[string]string{"Idempotency-Key": "create-bad"}
	require.Equal(t, http.StatusBadRequest, b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/customers", Token: b.tn.AdminToken, Body: map[string]any{"name": ""}, Headers: bad}).Status)
	require.Equal(t, http.StatusCreated, b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/customers", Token: b.tn.AdminToken, Body: map[string]any{"name": "Fixed"}, Headers: bad}).Status)

	// Keys belong to the user: another user's identical key is a new request.
	mgr := b.app.CreateUser(t, b.tn, "manager", nil)
	third := b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/customers", Token: mgr.Token, Body: body, Headers: key})
	require.Equal(t, http.StatusCreated, third.Status)
	require.NotEqual(t, first.Map(t)["id"], third.Map(t)["id"])
	require.Equal(t, http.StatusBadRequest, b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/customers", Token: b.tn.AdminToken, Body: body,
		Headers: map[string]string{"Idempotency-Key": "has space"}}).Status)
}

// TestIdempotencyKeyExpires: a key older than CUSTOMERHUB_IDEMPOTENCY_TTL
// is not replayed, even before the purge deleted it: the request runs
// again and its answer becomes the key's.
func TestIdempotencyKeyExpires(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), map[string]string{"CUSTOMERHUB_IDEMPOTENCY_TTL": "2h"})
	b := testBundle{app: app, tn: app.Signup(t)}
	key := map[string]string{"Idempotency-Key": "create-expiring"}
	create := func(name string) *apptest.Response {
		return b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/customers", Token: b.tn.AdminToken,
			Body: map[string]any{"name": name}, Headers: key})
	}
	// age makes the key as old as d, as its user's own request could see it.
	age := func(d time.Duration) {
		uid := uuid.MustParse(b.tn.AdminID)
		scope := database.Scope{TenantID: uuid.MustParse(b.tn.ID), UserID: &uid, Visibility: "all"}
		require.NoError(t, database.WithTenantTx(context.Background(), b.app.DB.App, scope, func(ctx context.Context, tx database.Tx) error {
			tag, err := tx.Exec(ctx, `UPDATE idempotency_keys SET created_at = now() - make_interval(secs => $3)
				WHERE tenant_id = $1 AND user_id = $2 AND key = 'create-expiring'`, scope.TenantID, uid, d.Seconds())
			require.NoError(t, err)
			require.EqualValues(t, 1, tag.RowsAffected())
			return nil
		}))
	}

	first := create("Expiring")
	require.Equal(t, http.StatusCreated, first.Status, "%s", first.Body)
	age(time.Hour + 59*time.Minute)
	again := create("Expiring")
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"), "still within the TTL")
	require.Equal(t, string(first.Body), string(again.Body))

	age(2*time.Hour + time.Minute)
	fresh := create("Expiring")
	require.Equal(t, http.StatusCreated, fresh.Status, "%s", fresh.Body)
	require.Empty(t, fresh.Header.Get("Idempotent-Replayed"))
	require.NotEqual(t, first.Map(t)["id"], fresh.Map(t)["id"], "the request ran again")
	// The key now holds the new answer, for a new TTL; another body with it
	// is again refused.
	replay := create("Expiring")
	require.Equal(t, "true", replay.Header.Get("Idempotent-Replayed"))
	require.Equal(t, string(fresh.Body), string(replay.Body))
	require.Equal(t, http.StatusUnprocessableEntity, create("Something else").Status)
	// An expired key also frees it for another request.
	age(3 * time.Hour)
	other := create("Something else")
	require.Equal(t, http.StatusCreated, other.Status, "%s", other.Body)
	require.Equal(t, "Something else", other.Map(t)["name"])
}

func TestConcurrentIdempotentCreate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := map[string]string{"Idempotency-Key": "double-click"}
	results := make(chan *apptest.Response, 8)
	for i := 0; i < 8; i++ {
		go func() {
			results <- b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/customers", Token: b.tn.AdminToken, Body: map[string]any{"name": "Clicked"}, Headers: key})
		}()
	}
	ids := map[any]bool{}
	for i := 0; i < 8; i++ {
		r := <-results
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		ids[r.Map(t)["id"]] = true
	}
	require.Len(t, ids, 1, "one customer, one answer")
}

func TestAuditTrail(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Audited", "email": "a@x.example"})
	id := c["id"].(string)
	require.Equal(t, http.StatusOK, b.app.Patch(t, "/v1/customers/"+id, b.tn.AdminToken, `"1"`, map[string]any{"name": "Audited Ltd", "email": nil}).Status)
	require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/customers/"+id, b.tn.AdminToken).Status)

	var trail struct {
		Items []struct {
			Action  string
			ActorID string `json:"actor_id"`
			Changes map[string]struct{ From, To any }
		}
	}
	resp := b.app.Get(t, fmt.Sprintf("/v1/audit?entity=customer&id=%s", id), b.tn.AdminToken)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &trail)
	require.Len(t, trail.Items, 3)
	require.Equal(t, []string{"delete", "update", "create"}, []string{trail.Items[0].Action, trail.Items[1].Action, trail.Items[2].Action})
	for _, ev := range trail.Items {
		require.Equal(t, b.tn.AdminID, ev.ActorID)
	}
	upd := trail.Items[1].Changes
	require.Len(t, upd, 2)
	require.Equal(t, "Audited", upd["name"].From)
	require.Equal(t, "Audited Ltd", upd["name"].To)
	require.Equal(t, "a@x.example", upd["email"].From)
	require.Nil(t, upd["email"].To)
	require.Equal(t, "Audited Ltd", trail.Items[0].Changes["name"].From, "a delete keeps the last state")

	t.Run("Scoped", func(t *testing.T) {
		rep := b.app.CreateUser(t, b.tn, "sales_rep", nil)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/audit?entity=customer&id="+id, rep.Token).Status)
		viewer := b.app.CreateUser(t, b.tn, "viewer", nil)
		require.Equal(t, http.StatusForbidden, b.app.Get(t, "/v1/audit?entity=user&id="+viewer.ID, viewer.Token).Status)
		other := b.app.Signup(t)
		var empty struct{ Items []any }
		b.app.Get(t, "/v1/audit?entity=customer&id="+id, other.AdminToken).JSON(t, &empty)
		require.Empty(t, empty.Items, "another tenant sees no events")
		require.Equal(t, http.StatusBadRequest, b.app.Get(t, "/v1/audit?entity=planet&id="+id, b.tn.AdminToken).Status)
	})
	t.Run("UsersAndSettingsToo", func(t *testing.T) {
		u := b.app.CreateUser(t, b.tn, "viewer", nil)
		resp := b.app.Get(t, "/v1/audit?entity=user&id="+u.ID, b.tn.AdminToken)
		require.Contains(t, string(resp.Body), `"action":"create"`)
	})
}
