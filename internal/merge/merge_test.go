package merge_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/merge"
)

// TestMain lowers the job threshold and batch size before any test runs
// (never while they run): merges of up to 40 history rows run in the
// request, bigger ones as a job moving 7 rows per batch.
func TestMain(m *testing.M) {
	merge.Threshold = 40
	merge.BatchSize = 7
	dbtest.Main(m)
}

type testBundle struct {
	app *apptest.App
	tn  apptest.Tenant
}

func setup(t *testing.T) testBundle {
	t.Helper()
	return setupOn(t, dbtest.Shared(t))
}

func setupOn(t *testing.T, db *dbtest.DB) testBundle {
	t.Helper()
	app := apptest.New(t, db, nil)
	b := testBundle{app: app, tn: app.Signup(t)}
	for _, sku := range []string{"WIDGET", "GADGET", "BOLT"} {
		b.post(t, "/v1/items", map[string]any{"sku": sku, "name": sku, "base_price": "10.00"})
	}
	return b
}

func (b testBundle) post(t *testing.T, path string, body any) map[string]any {
	t.Helper()
	resp := b.app.Post(t, path, b.tn.AdminToken, body)
	require.Equal(t, http.StatusCreated, resp.Status, "%s: %s", path, resp.Body)
	return resp.Map(t)
}

func (b testBundle) put(t *testing.T, path string, body any) {
	t.Helper()
	resp := b.app.Do(t, apptest.Req{Method: http.MethodPut, Path: path, Token: b.tn.AdminToken, Body: body})
	require.Contains(t, []int{http.StatusOK, http.StatusCreated}, resp.Status, "%s: %s", path, resp.Body)
}

func (b testBundle) customer(t *testing.T, body map[string]any) string {
	t.Helper()
	if body["name"] == nil {
		body["name"] = "Customer " + uuid.NewString()[:8]
	}
	return b.app.CreateCustomer(t, b.tn.AdminToken, body)["id"].(string)
}

func (b testBundle) order(t *testing.T, customerID string, extra map[string]any) map[string]any {
	t.Helper()
	body := map[string]any{"customer_id": customerID, "order_date": "2026-01-15",
		"lines": []any{map[string]any{"sku": "WIDGET", "quantity": "2"}}}
	for k, v := range extra {
		body[k] = v
	}
	return b.post(t, "/v1/sales-orders", body)
}

func (b testBundle) mergeReq(t *testing.T, token, kept string, body any) *apptest.Response {
	t.Helper()
	if token == "" {
		token = b.tn.AdminToken
	}
	return b.app.Post(t, "/v1/customers/"+kept+"/merge", token, body)
}

// scalar runs one SQL query as the tenant's system scope (every row of
// the tenant): the independent check of what the API reports.
func (b testBundle) scalar(t *testing.T, dest any, sql string, args ...any) {
	t.Helper()
	err := database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(uuid.MustParse(b.tn.ID)),
		func(ctx context.Context, tx database.Tx) error { return tx.QueryRow(ctx, sql, args...).Scan(dest) })
	require.NoError(t, err, sql)
}

func (b testBundle) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	b.scalar(t, &n, sql, args...)
	return n
}

// requireFiguresRecomputed compares the customer's figures, as the API
// shows them, with a computation from scratch over its orders and
// payments.
func (b testBundle) requireFiguresRecomputed(t *testing.T, id string) {
	t.Helper()
	c := b.app.Get(t, "/v1/customers/"+id, b.tn.AdminToken).Map(t)
	var orders int
	var total, paid, overdue decimal.Decimal
	b.scalar(t, &orders, `SELECT count(*) FROM sales_orders WHERE customer_id = $1 AND status <> 'cancelled'`, id)
	b.scalar(t, &total, `SELECT coalesce(sum(total), 0) FROM sales_orders WHERE customer_id = $1 AND status <> 'cancelled'`, id)
	b.scalar(t, &paid, `SELECT coalesce(sum(amount), 0) FROM payments WHERE customer_id = $1`, id)
	b.scalar(t, &overdue, `SELECT coalesce(sum(total - paid_amount), 0) FROM sales_orders
	                        WHERE customer_id = $1 AND status <> 'cancelled' AND due_date < current_date`, id)
	require.EqualValues(t, orders, c["order_count"])
	require.Equal(t, total.StringFixed(2), c["total_order_value"])
	require.Equal(t, total.Sub(paid).StringFixed(2), c["balance"])
	require.Equal(t, overdue.StringFixed(2), c["overdue_amount"])
}

func requireGone(t *testing.T, resp *apptest.Response, keptID string) {
	t.Helper()
	require.Equal(t, http.StatusGone, resp.Status, "%s", resp.Body)
	p := resp.Map(t)
	require.Equal(t, "customer_merged", p["code"])
	require.Equal(t, keptID, p["merged_into"])
}

func TestMergeMovesEverything(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, g := range []map[string]any{
		{"category": "region", "code": "NORTH", "name": "North"},
		{"category": "region", "code": "SOUTH", "name": "South"},
		{"category": "segment", "code": "RETAIL", "name": "Retail"},
	} {
		b.post(t, "/v1/customer-groups", g)
	}
	terms := b.post(t, "/v1/payment-terms", map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
	rep := b.app.CreateUser(t, b.tn, "sales_rep", nil)

	kept := b.customer(t, map[string]any{"name": "Acme Inc", "email": "buy@acme.example", "groups": map[string]any{"region": "NORTH"},
		"custom": map[string]any{}})
	dup := b.customer(t, map[string]any{"name": "ACME", "email": "orders@acme.example", "phone": "+1 555 010 0199",
		"tax_number": "US-123456", "notes": "entered twice", "payment_terms_id": terms["id"],
		"groups": map[string]any{"region": "SOUTH", "segment": "RETAIL"}})
	// An older duplicate already merged into dup: its tombstone must end up
	// pointing at kept.
	older := b.customer(t, map[string]any{"name": "Acme (old)"})
	b.order(t, older, nil)
	require.Equal(t, http.StatusOK, b.mergeReq(t, "", dup, map[string]any{"duplicate_id": older}).Status)

	b.post(t, "/v1/customers/"+kept+"/contacts", map[string]any{"name": "Kim", "primary": true})
	lee := b.post(t, "/v1/customers/"+dup+"/contacts", map[string]any{"name": "Lee", "primary": true})
	b.post(t, "/v1/customers/"+dup+"/contacts", map[string]any{"name": "Max"})
	b.post(t, "/v1/customers/"+kept+"/locations", map[string]any{"label": "HQ", "line1": "1 Main St", "city": "Springfield", "country": "US", "kinds": []string{"billing"}})
	dupHQ := b.post(t, "/v1/customers/"+dup+"/locations", map[string]any{"label": "Dup HQ", "line1": "2 Side St", "city": "Shelbyville", "country": "US", "kinds": []string{"billing"}})
	dock := b.post(t, "/v1/customers/"+dup+"/locations", map[string]any{"label": "Dock", "line1": "3 Pier", "city": "Bay", "country": "US", "kinds": []string{"shipping"}})
	b.order(t, dup, map[string]any{"location_id": dock["id"]})
	o2 := b.order(t, dup, nil)
	b.post(t, "/v1/payments", map[string]any{"customer_id": dup, "amount": "5.00", "order_id": o2["id"]})
	b.order(t, kept, nil)
	b.put(t, "/v1/customers/"+kept+"/prices/WIDGET", map[string]any{"price": "9.00"})
	b.put(t, "/v1/customers/"+dup+"/prices/WIDGET", map[string]any{"price": "8.00"})
	b.put(t, "/v1/customers/"+dup+"/prices/GADGET", map[string]any{"price": "2.00"})
	b.post(t, "/v1/users/"+rep.ID+"/customer-grants", map[string]any{"customer_id": dup})
	portal := b.app.CreateUser(t, b.tn, "portal", map[string]any{"customer_id": dup})
	dupBefore := b.app.Get(t, "/v1/customers/"+dup, b.tn.AdminToken).Map(t)

	resp := b.mergeReq(t, "", kept, map[string]any{"duplicate_id": dup})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	body := resp.Map(t)
	report := body["merge"].(map[string]any)
	delete(body, "merge")

	t.Run("AnswersTheKeptCustomerAsGetShowsIt", func(t *testing.T) {
		got := b.app.Get(t, "/v1/customers/"+kept, b.tn.AdminToken)
		require.Equal(t, got.Map(t), body)
		require.Equal(t, got.Header.Get("ETag"), resp.Header.Get("ETag"))
		require.Equal(t, `"2"`, resp.Header.Get("ETag"), "one version for the whole merge")
	})
	t.Run("Report", func(t *testing.T) {
		require.Equal(t, map[string]any{"sales_orders": 3.0, "payments": 1.0, "locations": 2.0, "contacts": 2.0,
			"customer_prices": 1.0, "group_memberships": 1.0, "grants": 1.0, "portal_users": 1.0, "tombstones": 1.0, "sms_messages": 0.0},
			report["moved"], "two orders of dup's own and one it got from the older merge")
		require.Equal(t, dup, report["duplicate_id"])
		require.Equal(t, []any{"phone", "tax_number", "payment_terms_id", "notes"}, report["filled"])
		require.Contains(t, report["kept_values"], "email")
		require.Contains(t, report["kept_values"], "name")
		conflicts := report["conflicts"].(map[string]any)
		prices := conflicts["customer_prices"].([]any)
		require.Len(t, prices, 1)
		require.Equal(t, map[string]any{"item_id": prices[0].(map[string]any)["item_id"], "sku": "WIDGET",
			"kept_price": "9.00", "duplicate_price": "8.00"}, prices[0])
		require.Equal(t, []any{map[string]any{"category": "region", "kept_group": "NORTH", "duplicate_group": "SOUTH"}},
			conflicts["group_memberships"])
		require.Equal(t, []any{map[string]any{"location_id": dupHQ["id"], "lost": []any{"default_billing"}}},
			conflicts["default_locations"], "kept has a default billing location; dup's dock stays default shipping")
		require.Equal(t, []any{lee["id"]}, conflicts["primary_contacts"])
	})
	t.Run("HistoryMoved", func(t *testing.T) {
		for _, table := range []string{"sales_orders", "payments", "customer_locations", "customer_contacts", "customer_prices",
			"customer_group_members", "customer_grants"} {
			require.Zero(t, b.count(t, `SELECT count(*) FROM `+table+` WHERE customer_id = $1`, dup), table)
		}
		require.Zero(t, b.count(t, `SELECT count(*) FROM users WHERE customer_id = $1`, dup))
		require.Equal(t, 4, b.count(t, `SELECT count(*) FROM sales_orders WHERE customer_id = $1`, kept))
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM payments WHERE customer_id = $1`, kept))
		require.Equal(t, 3, b.count(t, `SELECT count(*) FROM customer_locations WHERE customer_id = $1`, kept))
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM customer_locations WHERE customer_id = $1 AND is_default_billing`, kept))
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM customer_locations WHERE customer_id = $1 AND is_default_shipping`, kept))
		require.Equal(t, 3, b.count(t, `SELECT count(*) FROM customer_contacts WHERE customer_id = $1`, kept))
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM customer_contacts WHERE customer_id = $1 AND is_primary`, kept))
		var widget, gadget decimal.Decimal
		b.scalar(t, &widget, `SELECT p.price FROM customer_prices p JOIN items i ON i.tenant_id = p.tenant_id AND i.id = p.item_id WHERE p.tenant_id = $2 AND i.tenant_id = $2 AND p.customer_id = $1 AND i.sku = 'WIDGET'`, kept, b.tn.ID)
		b.scalar(t, &gadget, `SELECT p.price FROM customer_prices p JOIN items i ON i.tenant_id = p.tenant_id AND i.id = p.item_id WHERE p.tenant_id = $2 AND i.tenant_id = $2 AND p.customer_id = $1 AND i.sku = 'GADGET'`, kept, b.tn.ID)
		require.Equal(t, "9.00", widget.StringFixed(2), "the kept customer's price wins")
		require.Equal(t, "2.00", gadget.StringFixed(2))
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM customer_grants WHERE customer_id = $1 AND user_id = $2`, kept, rep.ID))
	})
	t.Run("KeptCustomerFilledNotOverwritten", func(t *testing.T) {
		c := b.app.Get(t, "/v1/customers/"+kept, b.tn.AdminToken).Map(t)
		require.Equal(t, "Acme Inc", c["name"])
		require.Equal(t, "buy@acme.example", c["email"])
		require.Equal(t, "+15550100199", c["phone"])
		require.Equal(t, "US-123456", c["tax_number"])
		require.Equal(t, "entered twice", c["notes"])
		require.Equal(t, terms["id"], c["payment_terms_id"])
		require.Equal(t, map[string]any{"region": "NORTH", "segment": "RETAIL"}, c["groups"])
		require.Equal(t, "Springfield", c["city"], "primary address: the kept customer's default billing location")
	})
	t.Run("FiguresEqualRecomputation", func(t *testing.T) {
		b.requireFiguresRecomputed(t, kept)
		c := b.app.Get(t, "/v1/customers/"+kept, b.tn.AdminToken).Map(t)
		require.EqualValues(t, 4, c["order_count"])
		require.Equal(t, "75.00", c["balance"], "4 orders of 20.00 less 5.00 paid")
	})
	t.Run("DuplicateAnswers410", func(t *testing.T) {
		requireGone(t, b.app.Get(t, "/v1/customers/"+dup, b.tn.AdminToken), kept)
		requireGone(t, b.app.Patch(t, "/v1/customers/"+dup, b.tn.AdminToken, `"1"`, map[string]any{"name": "X"}), kept)
		requireGone(t, b.app.Delete(t, "/v1/customers/"+dup, b.tn.AdminToken), kept)
		requireGone(t, b.app.Get(t, "/v1/customers/"+older, b.tn.AdminToken), kept)
	})
	t.Run("GrantsAndPortalUsersFollow", func(t *testing.T) {
		require.Equal(t, http.StatusOK, b.app.Get(t, "/v1/customers/"+kept, rep.Token).Status)
		require.Equal(t, http.StatusOK, b.app.Get(t, "/v1/customers/"+kept, portal.Token).Status)
		requireGone(t, b.app.Get(t, "/v1/customers/"+dup, portal.Token), kept)
	})
	t.Run("Audit", func(t *testing.T) {
		events := b.app.Get(t, "/v1/audit?entity=customer&id="+kept, b.tn.AdminToken).Map(t)["items"].([]any)
		ev := events[0].(map[string]any)
		require.Equal(t, "merge", ev["action"])
		changes := ev["changes"].(map[string]any)
		require.Equal(t, report, changes["merge"].(map[string]any)["to"])
		require.Equal(t, map[string]any{"from": nil, "to": "+15550100199"}, changes["phone"])
		events = b.app.Get(t, "/v1/audit?entity=customer&id="+dup, b.tn.AdminToken).Map(t)["items"].([]any)
		ev = events[0].(map[string]any)
		require.Equal(t, "delete", ev["action"])
		changes = ev["changes"].(map[string]any)
		for _, f := range []string{"id", "code", "name", "email", "phone", "tax_number", "notes", "groups", "balance", "order_count"} {
			require.Equal(t, dupBefore[f], changes[f].(map[string]any)["from"], f)
		}
	})
}

func TestMergeErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.customer(t, map[string]any{})
	c := b.customer(t, map[string]any{})

	t.Run("Self", func(t *testing.T) {
		resp := b.mergeReq(t, "", a, map[string]any{"duplicate_id": a})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
		require.Contains(t, string(resp.Body), `"field":"duplicate_id"`)
	})
	t.Run("ValidationErrors", func(t *testing.T) {
		resp := b.mergeReq(t, "", a, map[string]any{})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Contains(t, string(resp.Body), `"field":"duplicate_id"`)
		resp = b.mergeReq(t, "", a, map[string]any{"duplicate_id": "nope"})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		resp = b.mergeReq(t, "", a, map[string]any{"duplicate_id": c, "extra": 1})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Contains(t, string(resp.Body), `"field":"extra"`)
		require.Equal(t, http.StatusBadRequest, b.mergeReq(t, "", "not-a-uuid", map[string]any{"duplicate_id": c}).Status)
	})
	t.Run("NotFound", func(t *testing.T) {
		resp := b.mergeReq(t, "", a, map[string]any{"duplicate_id": uuid.NewString()})
		require.Equal(t, http.StatusNotFound, resp.Status)
		require.Contains(t, string(resp.Body), `"field":"duplicate_id"`)
		resp = b.mergeReq(t, "", uuid.NewString(), map[string]any{"duplicate_id": a})
		require.Equal(t, http.StatusNotFound, resp.Status)
		require.Equal(t, "not_found", resp.Map(t)["code"])
	})
	t.Run("Forbidden", func(t *testing.T) {
		manager := b.app.CreateUser(t, b.tn, "manager", nil)
		require.Equal(t, http.StatusForbidden, b.mergeReq(t, manager.Token, a, map[string]any{"duplicate_id": c}).Status)
	})
	t.Run("MergingTwice", func(t *testing.T) {
		x, y := b.customer(t, map[string]any{}), b.customer(t, map[string]any{})
		require.Equal(t, http.StatusOK, b.mergeReq(t, "", x, map[string]any{"duplicate_id": y}).Status)
		resp := b.mergeReq(t, "", x, map[string]any{"duplicate_id": y})
		requireGone(t, resp, x)
		require.Contains(t, string(resp.Body), `"field":"duplicate_id"`)
		// Into a merged-away customer: 410 naming where it went.
		requireGone(t, b.mergeReq(t, "", y, map[string]any{"duplicate_id": a}), x)
	})
	t.Run("CurrencyMismatch", func(t *testing.T) {
		usd := b.customer(t, map[string]any{})
		eur := b.customer(t, map[string]any{"currency": "EUR"})
		b.order(t, usd, nil)
		resp := b.mergeReq(t, "", usd, map[string]any{"duplicate_id": eur})
		require.Equal(t, http.StatusConflict, resp.Status)
		p := resp.Map(t)
		require.Equal(t, "currency_mismatch", p["code"])
		require.Equal(t, "USD", p["kept"])
		require.Equal(t, "EUR", p["duplicate"])
		resp = b.mergeReq(t, "", usd, map[string]any{"duplicate_id": eur, "force": true})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		m := resp.Map(t)
		require.Nil(t, m["currency"], "the kept customer's currency never changes")
		report := m["merge"].(map[string]any)
		require.Equal(t, []any{"currency_mismatch"}, report["forced"])
		require.Contains(t, report["kept_values"], "currency")
	})
	t.Run("KindMismatch", func(t *testing.T) {
		cust := b.customer(t, map[string]any{"kind": "customer"})
		vendor := b.customer(t, map[string]any{"kind": "vendor"})
		resp := b.mergeReq(t, "", cust, map[string]any{"duplicate_id": vendor})
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Equal(t, "kind_mismatch", resp.Map(t)["code"])
		resp = b.mergeReq(t, "", cust, map[string]any{"duplicate_id": vendor, "force": true})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, "customer", resp.Map(t)["kind"])
	})
	t.Run("OtherTenant", func(t *testing.T) {
		other := b.app.Signup(t)
		theirs := b.app.CreateCustomer(t, other.AdminToken, map[string]any{"name": "Theirs"})["id"].(string)
		require.Equal(t, http.StatusNotFound, b.mergeReq(t, other.AdminToken, theirs, map[string]any{"duplicate_id": a}).Status)
		require.Equal(t, http.StatusNotFound, b.mergeReq(t, other.AdminToken, a, map[string]any{"duplicate_id": theirs}).Status)
		require.Equal(t, http.StatusNotFound, b.mergeReq(t, "", a, map[string]any{"duplicate_id": theirs}).Status)
		// Nor does the other tenant learn of this tenant's merges.
		x, y := b.customer(t, map[string]any{}), b.customer(t, map[string]any{})
		require.Equal(t, http.StatusOK, b.mergeReq(t, "", x, map[string]any{"duplicate_id": y}).Status)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/customers/"+y, other.AdminToken).Status)
		require.Equal(t, http.StatusNotFound, b.mergeReq(t, other.AdminToken, theirs, map[string]any{"duplicate_id": y}).Status)
	})
}

// TestMergeSalesRepScope: a user with visibility 'assigned' merges only
// customers they can see; the tombstone is shown only to those who see the
// kept customer.
func TestMergeSalesRepScope(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.post(t, "/v1/roles", map[string]any{"name": "merger", "permissions": []string{"customers:read", "customers:write", "customers:merge"}})
	rep := b.app.CreateUser(t, b.tn, "merger", map[string]any{"visibility": "assigned"})
	other := b.app.CreateUser(t, b.tn, "sales_rep", nil)
	mine := b.customer(t, map[string]any{"sales_rep_id": rep.ID})
	mine2 := b.customer(t, map[string]any{"sales_rep_id": rep.ID})
	theirs := b.customer(t, map[string]any{"sales_rep_id": other.ID})

	require.Equal(t, http.StatusNotFound, b.mergeReq(t, rep.Token, mine, map[string]any{"duplicate_id": theirs}).Status)
	require.Equal(t, http.StatusNotFound, b.mergeReq(t, rep.Token, theirs, map[string]any{"duplicate_id": mine}).Status)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM customers WHERE id = $1`, theirs), "untouched")

	resp := b.mergeReq(t, rep.Token, mine, map[string]any{"duplicate_id": mine2})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	requireGone(t, b.app.Get(t, "/v1/customers/"+mine2, rep.Token), mine)
	require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/customers/"+mine2, other.Token).Status,
		"the tombstone is visible only to those who see the kept customer")

	t.Run("DuplicateSeenOnlyAsLocationRep", func(t *testing.T) {
		// The rep sees the duplicate only as the rep of one of its
		// locations, which moves during the merge: the merge still
		// completes, and leaves the rep no grant behind.
		dup := b.customer(t, map[string]any{"sales_rep_id": other.ID})
		b.post(t, "/v1/customers/"+dup+"/locations", map[string]any{"label": "Site", "line1": "1 Site Rd", "city": "X",
			"country": "US", "kinds": []string{"shipping"}, "sales_rep_id": rep.ID})
		b.order(t, dup, nil)
		resp := b.mergeReq(t, rep.Token, mine, map[string]any{"duplicate_id": dup})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Zero(t, b.count(t, `SELECT count(*) FROM customer_grants WHERE user_id = $1`, rep.ID))
		require.Zero(t, b.count(t, `SELECT count(*) FROM customers WHERE id = $1`, dup))
		b.requireFiguresRecomputed(t, mine)
	})
}

// TestMergeLargeHistoryRunsAsJob: above merge.Threshold the request
// answers 202 with a job, which moves the history in batches and ends in
// the state a one-request merge leaves.
func TestMergeLargeHistoryRunsAsJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.app.StartWorkers(t)
	kept := b.customer(t, map[string]any{"name": "Big Kept"})
	dup := b.customer(t, map[string]any{"name": "Big Dup", "email": "big@dup.example"})
	b.post(t, "/v1/customers/"+kept+"/contacts", map[string]any{"name": "Kim", "primary": true})
	b.post(t, "/v1/customers/"+dup+"/contacts", map[string]any{"name": "Lee", "primary": true})
	b.post(t, "/v1/customers/"+dup+"/locations", map[string]any{"label": "HQ", "line1": "1 Main", "city": "Big City", "country": "US", "kinds": []string{"billing"}})
	b.order(t, kept, nil)
	for i := 0; i < 38; i++ {
		o := b.order(t, dup, map[string]any{"order_date": fmt.Sprintf("2026-01-%02d", i%28+1)})
		if i%9 == 0 {
			b.post(t, "/v1/payments", map[string]any{"customer_id": dup, "amount": "3.00", "order_id": o["id"]})
		}
	}
	history := 38 + 5 + 1 + 1 // orders, payments, location, contact

	resp := b.mergeReq(t, "", kept, map[string]any{"duplicate_id": dup})
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	job := resp.Map(t)["job"].(map[string]any)
	require.Equal(t, "customer_merge", job["kind"])
	require.Equal(t, "/v1/jobs/"+job["id"].(string), resp.Header.Get("Location"))
	require.Equal(t, map[string]any{"kept_id": kept, "duplicate_id": dup, "force": false}, job["params"])

	var view map[string]any
	require.Eventually(t, func() bool {
		view = b.app.Get(t, "/v1/jobs/"+job["id"].(string), b.tn.AdminToken).Map(t)
		return view["state"] == "succeeded" || view["state"] == "failed"
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, "succeeded", view["state"], "%v", view)
	require.Equal(t, map[string]any{"processed": float64(history), "total": float64(history)}, view["progress"])

	result := view["result"].(map[string]any)
	report := result["merge"].(map[string]any)
	require.Equal(t, job["id"], report["job_id"])
	require.Equal(t, map[string]any{"sales_orders": 38.0, "payments": 5.0, "locations": 1.0, "contacts": 1.0,
		"customer_prices": 0.0, "group_memberships": 0.0, "grants": 0.0, "portal_users": 0.0, "tombstones": 0.0, "sms_messages": 0.0}, report["moved"])
	require.Equal(t, []any{"email"}, report["filled"])
	require.Len(t, report["conflicts"].(map[string]any)["primary_contacts"], 1)
	require.Equal(t, "Big Dup", result["duplicate"].(map[string]any)["name"])

	got := b.app.Get(t, "/v1/customers/"+kept, b.tn.AdminToken).Map(t)
	require.Equal(t, got, result["customer"])
	require.Equal(t, "big@dup.example", got["email"])
	require.Equal(t, "Big City", got["city"])
	requireGone(t, b.app.Get(t, "/v1/customers/"+dup, b.tn.AdminToken), kept)
	b.requireFiguresRecomputed(t, kept)
	require.Zero(t, b.count(t, `SELECT count(*) FROM sales_orders WHERE customer_id = $1`, dup))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM customer_contacts WHERE customer_id = $1 AND is_primary`, kept))
	var jobID string
	b.scalar(t, &jobID, `SELECT job_id::text FROM customer_merges WHERE merged_id = $1`, dup)
	require.Equal(t, job["id"], jobID)
	events := b.app.Get(t, "/v1/audit?entity=customer&id="+dup, b.tn.AdminToken).Map(t)["items"].([]any)
	require.Equal(t, "delete", events[0].(map[string]any)["action"])
	require.Equal(t, "Big Dup", events[0].(map[string]any)["changes"].(map[string]any)["name"].(map[string]any)["from"])
	events = b.app.Get(t, "/v1/audit?entity=customer&id="+kept, b.tn.AdminToken).Map(t)["items"].([]any)
	require.Equal(t, "merge", events[0].(map[string]any)["action"])
}

// TestMergeJobNeedsMergeAtEachStep: a merge job whose user lost
// customers:merge after the request fails with permission_revoked before
// moving anything (the runner's rule for every job kind).
func TestMergeJobNeedsMergeAtEachStep(t *testing.T) {
	t.Parallel()
	b := setupOn(t, dbtest.Fresh(t)) // workers start after the request
	b.post(t, "/v1/roles", map[string]any{"name": "merger", "permissions": []string{"customers:read", "customers:write", "customers:merge", "orders:write"}})
	merger := b.app.CreateUser(t, b.tn, "merger", nil)
	kept := b.customer(t, map[string]any{"name": "Kept"})
	dup := b.customer(t, map[string]any{"name": "Dup"})
	for range merge.Threshold + 1 {
		b.order(t, dup, nil)
	}
	resp := b.mergeReq(t, merger.Token, kept, map[string]any{"duplicate_id": dup})
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	id := apptest.JobID(t, resp)
	resp = b.app.Patch(t, "/v1/users/"+merger.ID, b.tn.AdminToken, `"1"`, map[string]any{"role": "manager"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	b.app.StartWorkers(t)
	job := b.app.WaitJob(t, b.tn.AdminToken, id)
	require.Equal(t, "failed", job["state"], "%v", job)
	errs := job["errors"].([]any)
	last := errs[len(errs)-1].(map[string]any)
	require.Equal(t, "permission_revoked", last["code"])
	require.Contains(t, last["message"], "customers:merge")
	require.Equal(t, merge.Threshold+1, b.count(t, `SELECT count(*) FROM sales_orders WHERE customer_id = $1`, dup))
	require.Equal(t, http.StatusOK, b.app.Get(t, "/v1/customers/"+dup, b.tn.AdminToken).Status)
}

func TestMergeIdempotencyReplay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	kept := b.customer(t, map[string]any{})
	dup := b.customer(t, map[string]any{"phone": "+1 555 010 0142"})
	b.order(t, dup, nil)
	req := apptest.Req{Method: http.MethodPost, Path: "/v1/customers/" + kept + "/merge", Token: b.tn.AdminToken,
		Body: map[string]any{"duplicate_id": dup}, Headers: map[string]string{"Idempotency-Key": "merge-" + dup}}
	first := b.app.Do(t, req)
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)
	second := b.app.Do(t, req)
	require.Equal(t, http.StatusOK, second.Status)
	require.Equal(t, string(first.Body), string(second.Body))
	require.Equal(t, first.Header.Get("ETag"), second.Header.Get("ETag"))
	require.Equal(t, "true", second.Header.Get("Idempotent-Replayed"))
	b.requireFiguresRecomputed(t, kept)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM sales_orders WHERE customer_id = $1`, kept))
}
