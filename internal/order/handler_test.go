package order_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type testBundle struct {
	app *apptest.App
	tn  apptest.Tenant
}

func setup(t *testing.T) testBundle {
	t.Helper()
	app := apptest.New(t, dbtest.Shared(t), nil)
	b := testBundle{app: app, tn: app.Signup(t)}
	b.post(t, "/v1/items", map[string]any{"sku": "WIDGET", "name": "Widget", "base_price": "10.00"})
	b.post(t, "/v1/items", map[string]any{"sku": "GADGET", "name": "Gadget", "base_price": "2.50"})
	return b
}

func (b testBundle) post(t *testing.T, path string, body any) map[string]any {
	t.Helper()
	resp := b.app.Post(t, path, b.tn.AdminToken, body)
	require.Equal(t, http.StatusCreated, resp.Status, "%s: %s", path, resp.Body)
	return resp.Map(t)
}

func (b testBundle) customer(t *testing.T, body map[string]any) string {
	t.Helper()
	if body["name"] == nil {
		body["name"] = "Customer " + uuid.NewString()[:8]
	}
	return b.app.CreateCustomer(t, b.tn.AdminToken, body)["id"].(string)
}

func (b testBundle) order(t *testing.T, token string, body map[string]any) *apptest.Response {
	t.Helper()
	if token == "" {
		token = b.tn.AdminToken
	}
	return b.app.Post(t, "/v1/sales-orders", token, body)
}

func line(sku, qty string, extra ...any) map[string]any {
	l := map[string]any{"sku": sku, "quantity": qty}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i].(string)] = extra[i+1]
	}
	return l
}

func (b testBundle) figures(t *testing.T, customerID string) map[string]any {
	t.Helper()
	c := b.app.Get(t, "/v1/customers/"+customerID, b.tn.AdminToken).Map(t)
	return map[string]any{"order_count": c["order_count"], "total_order_value": c["total_order_value"],
		"balance": c["balance"], "overdue_amount": c["overdue_amount"], "average_order_value": c["average_order_value"]}
}

func TestCreateOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	terms := b.post(t, "/v1/payment-terms", map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
	cust := b.customer(t, map[string]any{"payment_terms_id": terms["id"], "discount_rate": "10"})

	resp := b.order(t, "", map[string]any{"customer_id": cust, "order_date": "2026-03-01",
		"lines": []any{line("WIDGET", "3"), line("GADGET", "1.5", "unit_price", "4.00", "discount_rate", "0")}})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	o := resp.Map(t)
	require.Equal(t, "SO-000001", o["number"])
	require.Equal(t, "pending", o["status"])
	require.Equal(t, "2026-03-31", o["due_date"], "order date + the customer's payment terms")
	// 3 × 10.00 less 10 % = 27.00; 1.5 × 4.00 = 6.00.
	require.Equal(t, "33.00", o["total"])
	lines := o["lines"].([]any)
	require.Equal(t, "27.00", lines[0].(map[string]any)["amount"])
	require.Equal(t, "base_price", lines[0].(map[string]any)["price_source"])
	require.Equal(t, "10.00", lines[0].(map[string]any)["discount_rate"])
	require.Equal(t, "given", lines[1].(map[string]any)["price_source"])
	require.Equal(t, []any{}, o["warnings"])
	require.Equal(t, `"1"`, resp.Header.Get("ETag"))

	require.Equal(t, map[string]any{"order_count": float64(1), "total_order_value": "33.00", "balance": "33.00",
		"overdue_amount": "33.00", "average_order_value": "33.00"}, b.figures(t, cust), "due 2026-03-31, already past")
	c := b.app.Get(t, "/v1/customers/"+cust, b.tn.AdminToken).Map(t)
	require.Equal(t, "2026-03-01T00:00:00Z", c["last_order_at"])

	t.Run("ValidationErrors", func(t *testing.T) {
		resp := b.order(t, "", map[string]any{"customer_id": cust, "order_date": "2026-02-30",
			"lines": []any{line("NOPE", "1"), line("WIDGET", "0"), line("WIDGET", "1.00001"), line("WIDGET", "1", "discount_rate", "101")}})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		body := string(resp.Body)
		for _, f := range []string{"order_date", "lines.1.quantity", "lines.2.quantity", "lines.3.discount_rate"} {
			require.Contains(t, body, `"field":"`+f+`"`)
		}
		resp = b.order(t, "", map[string]any{"customer_id": cust, "lines": []any{line("NOPE", "1")}})
		require.Contains(t, string(resp.Body), `"field":"lines.0.sku"`)
		resp = b.order(t, "", map[string]any{"customer_id": cust, "lines": []any{}})
		require.Contains(t, string(resp.Body), `"field":"lines"`)
		require.Equal(t, http.StatusNotFound, b.order(t, "", map[string]any{"customer_id": uuid.NewString(), "lines": []any{line("WIDGET", "1")}}).Status)
	})
	t.Run("NoPriceInCurrency", func(t *testing.T) {
		eur := b.customer(t, map[string]any{"currency": "EUR"})
		resp := b.order(t, "", map[string]any{"customer_id": eur, "lines": []any{line("WIDGET", "1")}})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Contains(t, string(resp.Body), `"field":"lines.0.unit_price"`)
		resp = b.order(t, "", map[string]any{"customer_id": eur, "lines": []any{line("WIDGET", "1", "unit_price", "9.99")}})
		require.Equal(t, http.StatusCreated, resp.Status)
		require.Equal(t, "EUR", resp.Map(t)["currency"])
	})
	t.Run("LocationMustBeTheCustomers", func(t *testing.T) {
		other := b.customer(t, map[string]any{})
		loc := b.post(t, "/v1/customers/"+other+"/locations", map[string]any{"label": "Dock", "line1": "1 Pier", "city": "Bay", "country": "US", "kinds": []string{"shipping"}})
		resp := b.order(t, "", map[string]any{"customer_id": cust, "location_id": loc["id"], "lines": []any{line("WIDGET", "1")}})
		require.Contains(t, string(resp.Body), `"field":"location_id"`)
		resp = b.order(t, "", map[string]any{"customer_id": other, "location_id": loc["id"], "lines": []any{line("WIDGET", "1")}})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		require.Equal(t, http.StatusConflict, b.app.Delete(t, "/v1/locations/"+loc["id"].(string), b.tn.AdminToken).Status)
	})
	t.Run("CustomerWithOrdersCannotBeDeleted", func(t *testing.T) {
		resp := b.app.Delete(t, "/v1/customers/"+cust, b.tn.AdminToken)
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Equal(t, "customer_has_history", resp.Map(t)["code"])
	})
}

func TestStatusFlowAndPayments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cust := b.customer(t, map[string]any{})
	today := time.Now().UTC().Format(time.DateOnly)
	o := b.order(t, "", map[string]any{"customer_id": cust, "lines": []any{line("WIDGET", "10")}}).Map(t)
	id := o["id"].(string)
	action := func(a string) *apptest.Response {
		return b.app.Post(t, "/v1/sales-orders/"+id+"/"+a, b.tn.AdminToken, nil)
	}

	require.Equal(t, http.StatusConflict, action("invoice").Status, "pending cannot be invoiced")
	shipped := action("ship").Map(t)
	require.Equal(t, "shipped", shipped["status"])
	require.NotNil(t, shipped["shipped_at"])
	require.Equal(t, shipped["updated_at"], shipped["shipped_at"], "one time stamps the change")
	require.Equal(t, http.StatusConflict, action("ship").Status)
	resp := b.app.Patch(t, "/v1/sales-orders/"+id, b.tn.AdminToken, `"2"`, map[string]any{"lines": []any{line("WIDGET", "1")}})
	require.Equal(t, http.StatusConflict, resp.Status, "only pending orders change")

	// A partial payment applied to the order; a later one covers the rest
	// and leaves credit on the account.
	p1 := b.post(t, "/v1/payments", map[string]any{"customer_id": cust, "amount": "40", "order_id": id, "method": "bank_transfer"})
	require.Equal(t, "40.00", p1["amount"])
	require.Equal(t, "0.00", p1["unapplied"])
	require.Equal(t, map[string]any{"order_count": float64(1), "total_order_value": "100.00", "balance": "60.00",
		"overdue_amount": "0.00", "average_order_value": "100.00"}, b.figures(t, cust))
	require.Equal(t, http.StatusConflict, action("cancel").Status, "payments are applied")

	require.Equal(t, "invoiced", action("invoice").Map(t)["status"])
	p2 := b.post(t, "/v1/payments", map[string]any{"customer_id": cust, "amount": "75.50", "order_id": id})
	require.Equal(t, "60.00", p2["allocations"].([]any)[0].(map[string]any)["amount"])
	require.Equal(t, "15.50", p2["unapplied"])
	got := b.app.Get(t, "/v1/sales-orders/"+id, b.tn.AdminToken).Map(t)
	require.Equal(t, "paid", got["status"], "covered when invoiced: paid")
	require.NotNil(t, got["paid_at"])
	require.Equal(t, got["updated_at"], got["paid_at"], "one time stamps the change")
	require.Equal(t, "0.00", got["outstanding"])
	require.Equal(t, "-15.50", b.figures(t, cust)["balance"], "in credit")
	resp = b.app.Post(t, "/v1/payments", b.tn.AdminToken, map[string]any{"customer_id": cust, "amount": "1", "order_id": id})
	require.Equal(t, http.StatusConflict, resp.Status)

	t.Run("PaidBeforeInvoice", func(t *testing.T) {
		o := b.order(t, "", map[string]any{"customer_id": cust, "lines": []any{line("GADGET", "2")}}).Map(t)
		oid := o["id"].(string)
		b.post(t, "/v1/payments", map[string]any{"customer_id": cust, "amount": "5", "order_id": oid})
		require.Equal(t, "pending", b.app.Get(t, "/v1/sales-orders/"+oid, b.tn.AdminToken).Map(t)["status"])
		b.app.Post(t, "/v1/sales-orders/"+oid+"/ship", b.tn.AdminToken, nil)
		require.Equal(t, "paid", b.app.Post(t, "/v1/sales-orders/"+oid+"/invoice", b.tn.AdminToken, nil).Map(t)["status"])
	})
	t.Run("Cancel", func(t *testing.T) {
		o := b.order(t, "", map[string]any{"customer_id": cust, "lines": []any{line("GADGET", "4")}}).Map(t)
		before := b.figures(t, cust)
		require.Equal(t, "cancelled", b.app.Post(t, "/v1/sales-orders/"+o["id"].(string)+"/cancel", b.tn.AdminToken, nil).Map(t)["status"])
		after := b.figures(t, cust)
		require.Equal(t, float64(2), after["order_count"], "cancelled orders do not count")
		require.NotEqual(t, before["balance"], after["balance"])
	})
	t.Run("Ledger", func(t *testing.T) {
		var l struct {
			Currency string
			Items    []struct{ Type, Number, Date, Amount, Balance string }
		}
		b.app.Get(t, "/v1/customers/"+cust+"/ledger", b.tn.AdminToken).JSON(t, &l)
		require.Equal(t, "USD", l.Currency)
		require.Len(t, l.Items, 5, "2 live orders and 3 payments; the cancelled order is left out")
		want := [][3]string{{"order", "100.00", "100.00"}, {"payment", "-40.00", "60.00"}, {"payment", "-75.50", "-15.50"},
			{"order", "5.00", "-10.50"}, {"payment", "-5.00", "-15.50"}}
		for i, w := range want {
			require.Equal(t, w, [3]string{l.Items[i].Type, l.Items[i].Amount, l.Items[i].Balance}, "entry %d", i)
			require.Equal(t, today, l.Items[i].Date)
		}
		// Paging carries the running balance across pages.
		var page struct {
			Items      []struct{ Balance string }
			NextCursor *string `json:"next_cursor"`
		}
		b.app.Get(t, "/v1/customers/"+cust+"/ledger?limit=3", b.tn.AdminToken).JSON(t, &page)
		require.NotNil(t, page.NextCursor)
		b.app.Get(t, "/v1/customers/"+cust+"/ledger?limit=3&cursor="+*page.NextCursor, b.tn.AdminToken).JSON(t, &page)
		require.Equal(t, "-10.50", page.Items[0].Balance)
	})
	t.Run("OrderHistory", func(t *testing.T) {
		var list struct{ Items []map[string]any }
		b.app.Get(t, "/v1/customers/"+cust+"/orders?status=paid", b.tn.AdminToken).JSON(t, &list)
		require.Len(t, list.Items, 2)
		b.app.Get(t, "/v1/customers/"+cust+"/orders?from="+today+"&to="+today+"&status=cancelled", b.tn.AdminToken).JSON(t, &list)
		require.Len(t, list.Items, 1)
		require.Equal(t, http.StatusBadRequest, b.app.Get(t, "/v1/customers/"+cust+"/orders?status=lost", b.tn.AdminToken).Status)
	})
}

func TestEditPendingOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cust := b.customer(t, map[string]any{})
	o := b.order(t, "", map[string]any{"customer_id": cust, "lines": []any{line("WIDGET", "1")}}).Map(t)
	path := "/v1/sales-orders/" + o["id"].(string)
	require.Equal(t, http.StatusPreconditionRequired, b.app.Do(t, apptest.Req{Method: http.MethodPatch, Path: path, Token: b.tn.AdminToken,
		Body: map[string]any{"lines": []any{line("WIDGET", "2")}}}).Status)
	resp := b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"lines": []any{line("WIDGET", "2"), line("GADGET", "2")}, "notes": "rush"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	got := resp.Map(t)
	require.Equal(t, "25.00", got["total"])
	require.Len(t, got["lines"], 2)
	require.Equal(t, "25.00", b.figures(t, cust)["total_order_value"])
	require.Equal(t, http.StatusPreconditionFailed, b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"lines": []any{line("WIDGET", "1")}}).Status)
}

// TestCreditControl covers each policy and each rule: over the limit, an
// unpaid order older than the credit period, the group's limit as
// fallback, and override.
func TestCreditControl(t *testing.T) {
	t.Parallel()
	b := setup(t)
	manager := b.app.CreateUser(t, b.tn, "manager", nil) // no credit:override

	t.Run("None", func(t *testing.T) {
		c := b.customer(t, map[string]any{"credit_limit": "50", "credit_policy": "none"})
		resp := b.order(t, "", map[string]any{"customer_id": c, "lines": []any{line("WIDGET", "10")}})
		require.Equal(t, http.StatusCreated, resp.Status)
		require.Empty(t, resp.Map(t)["warnings"])
	})
	t.Run("WarnOverLimit", func(t *testing.T) {
		c := b.customer(t, map[string]any{"credit_limit": "50", "credit_policy": "warn"})
		require.Empty(t, b.order(t, "", map[string]any{"customer_id": c, "lines": []any{line("WIDGET", "4")}}).Map(t)["warnings"])
		resp := b.order(t, "", map[string]any{"customer_id": c, "lines": []any{line("WIDGET", "2")}})
		require.Equal(t, http.StatusCreated, resp.Status)
		w := resp.Map(t)["warnings"].([]any)
		require.Len(t, w, 1)
		require.Equal(t, map[string]any{"code": "credit_limit_exceeded", "message": "the order would take the balance over the credit limit",
			"limit": "50.00", "balance": "40.00", "order_total": "20.00"}, w[0])
	})
	t.Run("BlockOverLimit", func(t *testing.T) {
		c := b.customer(t, map[string]any{"credit_limit": "50", "credit_policy": "block"})
		b.order(t, "", map[string]any{"customer_id": c, "lines": []any{line("WIDGET", "4")}})
		resp := b.order(t, "", map[string]any{"customer_id": c, "lines": []any{line("WIDGET", "2")}})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
		p := resp.Map(t)
		require.Equal(t, "credit_limit_exceeded", p["code"])
		require.Equal(t, "50.00", p["limit"])
		require.Equal(t, "40.00", p["balance"])
		require.Equal(t, "20.00", p["order_total"])
		require.Equal(t, float64(1), b.figures(t, c)["order_count"], "nothing written")

		resp = b.order(t, manager.Token, map[string]any{"customer_id": c, "override_credit": true, "lines": []any{line("WIDGET", "2")}})
		require.Equal(t, http.StatusForbidden, resp.Status, "override needs credit:override")
		resp = b.order(t, "", map[string]any{"customer_id": c, "override_credit": true, "lines": []any{line("WIDGET", "2")}})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		o := resp.Map(t)
		require.Equal(t, true, o["credit_override"])
		require.Len(t, o["warnings"], 1)
		// The override is in the audit trail.
		trail := b.app.Get(t, "/v1/audit?entity=order&id="+o["id"].(string), b.tn.AdminToken)
		require.Contains(t, string(trail.Body), `"credit_override":{"from":null,"to":true}`)
	})
	t.Run("BlockOldUnpaidOrder", func(t *testing.T) {
		c := b.customer(t, map[string]any{"credit_period_days": 30, "credit_policy": "block"})
		old := time.Now().UTC().AddDate(0, 0, -31).Format(time.DateOnly)
		first := b.order(t, "", map[string]any{"customer_id": c, "order_date": old, "lines": []any{line("GADGET", "1")}}).Map(t)
		resp := b.order(t, "", map[string]any{"customer_id": c, "lines": []any{line("GADGET", "1")}})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
		require.Equal(t, "credit_period_exceeded", resp.Map(t)["code"])
		require.Contains(t, string(resp.Body), first["number"].(string))
		// Paid up, the customer may order again.
		b.post(t, "/v1/payments", map[string]any{"customer_id": c, "amount": "2.50", "order_id": first["id"]})
		require.Equal(t, http.StatusCreated, b.order(t, "", map[string]any{"customer_id": c, "lines": []any{line("GADGET", "1")}}).Status)
	})
	t.Run("GroupLimitAndTenantPolicy", func(t *testing.T) {
		b.post(t, "/v1/customer-groups", map[string]any{"category": "level", "code": "SMALL", "name": "Small", "credit_limit": "15"})
		settings := b.app.Get(t, "/v1/settings", b.tn.AdminToken)
		resp := b.app.Patch(t, "/v1/settings", b.tn.AdminToken, settings.Header.Get("ETag"), map[string]any{"default_credit_policy": "block"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		c := b.customer(t, map[string]any{"groups": map[string]any{"level": "SMALL"}})
		resp = b.order(t, "", map[string]any{"customer_id": c, "lines": []any{line("WIDGET", "2")}})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "the group's limit and the tenant's policy apply")
		require.Equal(t, "15.00", resp.Map(t)["limit"])
	})
}

// TestFiguresUnderConcurrency runs many orders, payments, edits and
// cancellations for one customer at once and checks the maintained figures
// equal a recomputation from the rows.
func TestFiguresUnderConcurrency(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cust := b.customer(t, map[string]any{})
	past := time.Now().UTC().AddDate(0, 0, -40).Format(time.DateOnly)
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 6; i++ {
				body := map[string]any{"customer_id": cust, "lines": []any{line("WIDGET", fmt.Sprint(1+i%3)), line("GADGET", "0.5")}}
				if i%2 == 0 {
					body["order_date"] = past
				}
				resp := b.order(t, "", body)
				if resp.Status != http.StatusCreated {
					errs <- fmt.Sprintf("order: %d %s", resp.Status, resp.Body)
					continue
				}
				id := resp.Map(t)["id"].(string)
				switch (w + i) % 4 {
				case 0:
					b.app.Post(t, "/v1/payments", b.tn.AdminToken, map[string]any{"customer_id": cust, "amount": "7.25", "order_id": id})
				case 1:
					b.app.Post(t, "/v1/sales-orders/"+id+"/cancel", b.tn.AdminToken, nil)
				case 2:
					b.app.Post(t, "/v1/payments", b.tn.AdminToken, map[string]any{"customer_id": cust, "amount": "3.10"})
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}

	got := b.figures(t, cust)
	var want struct {
		count                   int
		total, balance, overdue decimal.Decimal
	}
	err := database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(uuid.MustParse(b.tn.ID)),
		func(ctx context.Context, tx database.Tx) error {
			return tx.QueryRow(ctx, `
				SELECT (SELECT count(*) FROM sales_orders WHERE customer_id = $1 AND status <> 'cancelled'),
				       (SELECT coalesce(sum(total), 0) FROM sales_orders WHERE customer_id = $1 AND status <> 'cancelled'),
				       (SELECT coalesce(sum(total), 0) FROM sales_orders WHERE customer_id = $1 AND status <> 'cancelled')
				       - (SELECT coalesce(sum(amount), 0) FROM payments WHERE customer_id = $1),
				       (SELECT coalesce(sum(total - paid_amount), 0) FROM sales_orders
				         WHERE customer_id = $1 AND status <> 'cancelled' AND due_date < current_date)`, cust).
				Scan(&want.count, &want.total, &want.balance, &want.overdue)
		})
	require.NoError(t, err)
	require.EqualValues(t, want.count, got["order_count"])
	require.Equal(t, want.total.StringFixed(2), got["total_order_value"])
	require.Equal(t, want.balance.StringFixed(2), got["balance"])
	require.Equal(t, want.overdue.StringFixed(2), got["overdue_amount"])
	require.Greater(t, want.count, 20)
}

func TestVisibilityAndPortal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rep := b.app.CreateUser(t, b.tn, "sales_rep", nil)
	mine := b.customer(t, map[string]any{"sales_rep_id": rep.ID})
	other := b.customer(t, map[string]any{})
	myOrder := b.order(t, "", map[string]any{"customer_id": mine, "lines": []any{line("WIDGET", "1")}}).Map(t)
	otherOrder := b.order(t, "", map[string]any{"customer_id": other, "lines": []any{line("WIDGET", "2")}}).Map(t)
	otherPay := b.post(t, "/v1/payments", map[string]any{"customer_id": other, "amount": "5"})

	t.Run("SalesRep", func(t *testing.T) {
		require.Equal(t, http.StatusOK, b.app.Get(t, "/v1/sales-orders/"+myOrder["id"].(string), rep.Token).Status)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/sales-orders/"+otherOrder["id"].(string), rep.Token).Status)
		require.Equal(t, http.StatusNotFound, b.app.Post(t, "/v1/sales-orders/"+otherOrder["id"].(string)+"/cancel", rep.Token, nil).Status)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/payments/"+otherPay["id"].(string), rep.Token).Status)
		require.Equal(t, http.StatusNotFound, b.order(t, rep.Token, map[string]any{"customer_id": other, "lines": []any{line("WIDGET", "1")}}).Status)
		var list struct{ Items []map[string]any }
		b.app.Get(t, "/v1/sales-orders", rep.Token).JSON(t, &list)
		require.Len(t, list.Items, 1)
		require.Equal(t, http.StatusCreated, b.order(t, rep.Token, map[string]any{"customer_id": mine, "lines": []any{line("GADGET", "1")}}).Status)
	})
	t.Run("Portal", func(t *testing.T) {
		portal := b.app.CreateUser(t, b.tn, "portal", map[string]any{"customer_id": mine})
		require.Equal(t, http.StatusOK, b.app.Get(t, "/v1/customers/"+mine, portal.Token).Status)
		require.Equal(t, http.StatusOK, b.app.Get(t, "/v1/customers/"+mine+"/ledger", portal.Token).Status)
		require.Equal(t, http.StatusOK, b.app.Get(t, "/v1/sales-orders/"+myOrder["id"].(string), portal.Token).Status)
		for _, path := range []string{"/v1/customers/" + other, "/v1/customers/" + other + "/ledger", "/v1/customers/" + other + "/orders",
			"/v1/sales-orders/" + otherOrder["id"].(string), "/v1/payments/" + otherPay["id"].(string)} {
			require.Equal(t, http.StatusNotFound, b.app.Get(t, path, portal.Token).Status, path)
		}
		var list struct{ Items []map[string]any }
		b.app.Get(t, "/v1/sales-orders", portal.Token).JSON(t, &list)
		require.Len(t, list.Items, 2, "only its own account's orders")
		b.app.Get(t, "/v1/payments", portal.Token).JSON(t, &list)
		require.Empty(t, list.Items)
		require.Equal(t, http.StatusForbidden, b.order(t, portal.Token, map[string]any{"customer_id": mine, "lines": []any{line("WIDGET", "1")}}).Status)
	})
}

func TestOverdueRefresh(t *testing.T) {
	t.Parallel()
	b := setup(t)
	terms := b.post(t, "/v1/payment-terms", map[string]any{"code": "NET10", "name": "Net 10", "due_days": 10})
	cust := b.customer(t, map[string]any{"payment_terms_id": terms["id"]})
	o := b.order(t, "", map[string]any{"customer_id": cust, "lines": []any{line("WIDGET", "1")}}).Map(t)
	require.Equal(t, "0.00", b.figures(t, cust)["overdue_amount"])
	// Time passes: move the due date into the past as the calendar would.
	err := database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(uuid.MustParse(b.tn.ID)),
		func(ctx context.Context, tx database.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE sales_orders SET due_date = current_date - 1 WHERE id = $1`, o["id"])
			return err
		})
	require.NoError(t, err)
	require.Equal(t, "0.00", b.figures(t, cust)["overdue_amount"], "nothing wrote to the customer yet")
	runOverdueRefresh(t, b)
	require.Equal(t, "10.00", b.figures(t, cust)["overdue_amount"])
	var page struct{ Items []map[string]any }
	b.app.Get(t, "/v1/customers?overdue=true", b.tn.AdminToken).JSON(t, &page)
	require.Len(t, page.Items, 1)
}

func TestIdempotentOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cust := b.customer(t, map[string]any{})
	req := apptest.Req{Method: http.MethodPost, Path: "/v1/sales-orders", Token: b.tn.AdminToken,
		Body: map[string]any{"customer_id": cust, "lines": []any{line("WIDGET", "1")}}, Headers: map[string]string{"Idempotency-Key": "order-1"}}
	first := b.app.Do(t, req)
	again := b.app.Do(t, req)
	require.Equal(t, http.StatusCreated, again.Status)
	require.Equal(t, string(first.Body), string(again.Body))
	require.Equal(t, float64(1), b.figures(t, cust)["order_count"])
}
