package pricing_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
)

// put sends body as JSON with PUT.
func (b testBundle) put(t *testing.T, path, token string, body any) *apptest.Response {
	t.Helper()
	return b.app.Do(t, apptest.Req{Method: http.MethodPut, Path: path, Token: token, Body: body})
}

// item creates an item and returns it.
func (b testBundle) item(t *testing.T, sku, basePrice string) map[string]any {
	t.Helper()
	return b.create(t, "/v1/items", map[string]any{"sku": sku, "name": "Item " + sku, "base_price": basePrice})
}

// listPrice sets an item's price in a list and checks it was accepted.
func (b testBundle) listPrice(t *testing.T, listID any, sku, price string) map[string]any {
	t.Helper()
	resp := b.put(t, "/v1/price-lists/"+listID.(string)+"/items/"+url.PathEscape(sku), b.tn.AdminToken, map[string]any{"price": price})
	require.Contains(t, []int{http.StatusOK, http.StatusCreated}, resp.Status, "%s", resp.Body)
	return resp.Map(t)
}

// collect pages through a list and returns field key of every item.
func (b testBundle) collect(t *testing.T, path, token, key string, limit int) []string {
	t.Helper()
	got := []string{}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	cursor := ""
	for range 50 {
		u := path + sep + "limit=" + itoa(limit)
		if cursor != "" {
			u += "&cursor=" + cursor
		}
		resp := b.app.Get(t, u, token)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		var p page
		resp.JSON(t, &p)
		for _, it := range p.Items {
			got = append(got, it[key].(string))
		}
		if p.NextCursor == nil {
			return got
		}
		cursor = *p.NextCursor
	}
	t.Fatal("too many pages")
	return nil
}

func itoa(n int) string {
	raw, _ := json.Marshal(n)
	return string(raw)
}

// detail is the message of a problem body.
func detail(t *testing.T, resp *apptest.Response) string {
	t.Helper()
	d, _ := resp.Map(t)["detail"].(string)
	return d
}

func TestItems(t *testing.T) {
	t.Parallel()

	t.Run("Create", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Post(t, "/v1/items", b.tn.AdminToken, map[string]any{"sku": " BOLT-10 ", "name": " Bolt M10 ", "base_price": "12.5"})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		require.Equal(t, `"1"`, resp.Header.Get("ETag"))
		it := resp.Map(t)
		require.Equal(t, "/v1/items/"+it["id"].(string), resp.Header.Get("Location"))
		require.Equal(t, "BOLT-10", it["sku"])
		require.Equal(t, "Bolt M10", it["name"])
		require.Equal(t, "12.50", it["base_price"])
		require.Equal(t, "USD", it["currency"])
		require.Equal(t, true, it["active"])
		require.EqualValues(t, 1, it["version"])

		got := b.app.Get(t, "/v1/items/"+it["id"].(string), b.tn.AdminToken)
		require.Equal(t, http.StatusOK, got.Status)
		require.Equal(t, `"1"`, got.Header.Get("ETag"))
		require.Equal(t, it, got.Map(t))

		// Prices finer than a cent are kept and shown; a number is read
		// exactly.
		fine := b.create(t, "/v1/items", map[string]any{"sku": "SCREW.3/20", "name": "Screw", "base_price": 0.0125})
		require.Equal(t, "0.0125", fine["base_price"])
		free := b.create(t, "/v1/items", map[string]any{"sku": "FREE", "name": "Sample", "base_price": "0"})
		require.Equal(t, "0.00", free["base_price"])
	})
	t.Run("ValidationErrors", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, sku := range []string{"", "-BOLT", "BOLT 10", "BOLT,10", "Bölt", strings.Repeat("A", 65)} {
			resp := b.app.Post(t, "/v1/items", b.tn.AdminToken, map[string]any{"sku": sku, "name": "X", "base_price": "1"})
			require.Equal(t, http.StatusBadRequest, resp.Status, sku)
			require.Equal(t, map[string]string{"sku": "invalid_sku"}, fields(t, resp), sku)
		}
		resp := b.app.Post(t, "/v1/items", b.tn.AdminToken, map[string]any{"sku": strings.Repeat("A", 64), "name": "Long", "base_price": "1"})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)

		for price, code := range map[string]string{"-1": "out_of_range", "1.23456": "too_precise", "abc": "invalid_decimal", "1e3": "invalid_decimal"} {
			resp := b.app.Post(t, "/v1/items", b.tn.AdminToken, map[string]any{"sku": "P1", "name": "X", "base_price": price})
			require.Equal(t, map[string]string{"base_price": code}, fields(t, resp), price)
		}
		resp = b.app.Post(t, "/v1/items", b.tn.AdminToken, map[string]any{"sku": "P1", "name": " "})
		require.Equal(t, map[string]string{"name": "required", "base_price": "required"}, fields(t, resp))
		resp = b.app.Post(t, "/v1/items", b.tn.AdminToken, map[string]any{"sku": "P1", "name": "X", "base_price": "1", "price": "2"})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Len(t, b.collect(t, "/v1/items", b.tn.AdminToken, "sku", 50), 1)
	})
	t.Run("SKUTaken", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.item(t, "BOLT", "1")
		resp := b.app.Post(t, "/v1/items", b.tn.AdminToken, map[string]any{"sku": "BOLT", "name": "Other", "base_price": "2"})
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Equal(t, "sku_taken", resp.Map(t)["code"])
		require.Equal(t, map[string]string{"sku": "sku_taken"}, fields(t, resp))
		other := b.app.Signup(t)
		resp = b.app.Post(t, "/v1/items", other.AdminToken, map[string]any{"sku": "BOLT", "name": "Bolt", "base_price": "1"})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	})
	t.Run("List", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, it := range [][2]string{{"NUT-5", "Hex nut"}, {"BOLT-10", "Bolt M10"}, {"WASHER", "Flat washer for bolts"}, {"A_B", "Underscore"}, {"AXB", "Plain"}} {
			b.create(t, "/v1/items", map[string]any{"sku": it[0], "name": it[1], "base_price": "1"})
		}
		require.Equal(t, []string{"AXB", "A_B", "BOLT-10", "NUT-5", "WASHER"}, b.collect(t, "/v1/items", b.tn.AdminToken, "sku", 2))
		require.Equal(t, []string{"BOLT-10", "WASHER"}, b.collect(t, "/v1/items?q=BOLT", b.tn.AdminToken, "sku", 1), "sku or name, any case")
		require.Equal(t, []string{"NUT-5"}, b.collect(t, "/v1/items?q=hex%20NUT", b.tn.AdminToken, "sku", 50))
		require.Equal(t, []string{"A_B"}, b.collect(t, "/v1/items?q=A_", b.tn.AdminToken, "sku", 50), "_ matches itself only")
		require.Empty(t, b.collect(t, "/v1/items?q=%25", b.tn.AdminToken, "sku", 50))

		washer := b.collect(t, "/v1/items?q=washer", b.tn.AdminToken, "id", 50)
		require.Len(t, washer, 1)
		resp := b.app.Patch(t, "/v1/items/"+washer[0], b.tn.AdminToken, `"1"`, map[string]any{"active": false})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, []string{"WASHER"}, b.collect(t, "/v1/items?active=false", b.tn.AdminToken, "sku", 50))
		require.Equal(t, []string{"AXB", "A_B", "BOLT-10", "NUT-5"}, b.collect(t, "/v1/items?active=true", b.tn.AdminToken, "sku", 50))

		resp = b.app.Get(t, "/v1/items?active=maybe", b.tn.AdminToken)
		require.Equal(t, map[string]string{"active": "invalid_boolean"}, fields(t, resp))
		resp = b.app.Get(t, "/v1/items?sort=sku", b.tn.AdminToken)
		require.Equal(t, map[string]string{"sort": "unknown_parameter"}, fields(t, resp))
		resp = b.app.Get(t, "/v1/items?cursor=bogus", b.tn.AdminToken)
		require.Equal(t, map[string]string{"cursor": "invalid_cursor"}, fields(t, resp))
	})
	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		it := b.item(t, "BOLT", "1")
		b.item(t, "NUT", "1")
		path := "/v1/items/" + it["id"].(string)

		resp := b.app.Do(t, apptest.Req{Method: http.MethodPatch, Path: path, Token: b.tn.AdminToken, Body: map[string]any{"name": "X"}})
		require.Equal(t, http.StatusPreconditionRequired, resp.Status)

		resp = b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"name": "Bolt M12", "base_price": "2.3456", "sku": "BOLT-12"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, `"2"`, resp.Header.Get("ETag"))
		got := resp.Map(t)
		require.Equal(t, "Bolt M12", got["name"])
		require.Equal(t, "2.3456", got["base_price"])
		require.Equal(t, "BOLT-12", got["sku"])
		require.Equal(t, true, got["active"])

		resp = b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"name": "Stale"})
		require.Equal(t, http.StatusPreconditionFailed, resp.Status)
		require.Equal(t, "version_mismatch", resp.Map(t)["code"])
		resp = b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"sku": "NUT"})
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Equal(t, "sku_taken", resp.Map(t)["code"])
		resp = b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"base_price": nil, "active": nil, "sku": nil})
		require.Equal(t, map[string]string{"base_price": "not_nullable", "active": "not_nullable", "sku": "not_nullable"}, fields(t, resp))
		resp = b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"base_price": "-0.01"})
		require.Equal(t, map[string]string{"base_price": "out_of_range"}, fields(t, resp))

		// Setting a field to its value changes nothing, not even the version.
		resp = b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"base_price": 2.3456, "active": true})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, `"2"`, resp.Header.Get("ETag"))

		resp = b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"active": false})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, false, resp.Map(t)["active"])
		require.Equal(t, false, b.app.Get(t, path, b.tn.AdminToken).Map(t)["active"])
	})
	t.Run("DeleteRefusedWhileUsedByOrderLine", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		it := b.item(t, "BOLT", "1")
		path := "/v1/items/" + it["id"].(string)
		pl := b.create(t, "/v1/price-lists", map[string]any{"code": "RETAIL", "name": "Retail", "currency": "USD"})
		b.listPrice(t, pl["id"], "BOLT", "0.90")
		cust := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Buyer"})
		orderID := uuid.New()
		// The order API is not here yet: write an order with one line the
		// way it will.
		b.exec(t, `INSERT INTO sales_orders (tenant_id, id, number, customer_id, currency, order_date, due_date, total)
			VALUES ($1, $2, 'SO-1', $3, 'USD', current_date, current_date, 1)`, b.tn.ID, orderID, cust["id"])
		b.exec(t, `INSERT INTO sales_order_lines (tenant_id, order_id, line_no, item_id, sku, name, quantity, unit_price, amount, price_source)
			VALUES ($1, $2, 1, $3, 'BOLT', 'Item BOLT', 1, 1, 1, 'base_price')`, b.tn.ID, orderID, it["id"])

		resp := b.app.Delete(t, path, b.tn.AdminToken)
		require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)
		require.Equal(t, "in_use", resp.Map(t)["code"])
		require.Equal(t, http.StatusOK, b.app.Get(t, path, b.tn.AdminToken).Status)
		require.Equal(t, []string{"BOLT"}, b.collect(t, "/v1/price-lists/"+pl["id"].(string)+"/items", b.tn.AdminToken, "sku", 50),
			"the refused delete kept the item's prices")

		b.exec(t, `DELETE FROM sales_orders WHERE tenant_id = $1 AND id = $2`, b.tn.ID, orderID)
		require.Equal(t, http.StatusNoContent, b.app.Delete(t, path, b.tn.AdminToken).Status)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, path, b.tn.AdminToken).Status)
		require.Equal(t, http.StatusNotFound, b.app.Delete(t, path, b.tn.AdminToken).Status)
		require.Empty(t, b.collect(t, "/v1/price-lists/"+pl["id"].(string)+"/items", b.tn.AdminToken, "sku", 50), "prices go with the item")
	})
	t.Run("OtherTenant", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		it := b.item(t, "BOLT", "1")
		other := b.app.Signup(t)
		path := "/v1/items/" + it["id"].(string)
		for _, resp := range []*apptest.Response{
			b.app.Get(t, path, other.AdminToken),
			b.app.Patch(t, path, other.AdminToken, `"1"`, map[string]any{"name": "Mine now"}),
			b.app.Delete(t, path, other.AdminToken),
		} {
			require.Equal(t, http.StatusNotFound, resp.Status, "%s", resp.Body)
			require.Equal(t, "not_found", resp.Map(t)["code"])
		}
		require.Empty(t, b.collect(t, "/v1/items", other.AdminToken, "sku", 50))
		require.Empty(t, b.collect(t, "/v1/items?q=BOLT", other.AdminToken, "sku", 50))
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/items/"+uuid.NewString(), b.tn.AdminToken).Status)
		got := b.app.Get(t, path, b.tn.AdminToken).Map(t)
		require.Equal(t, "Item BOLT", got["name"])
		require.EqualValues(t, 1, got["version"])
	})
	t.Run("Permissions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		it := b.item(t, "BOLT", "1")
		path := "/v1/items/" + it["id"].(string)
		for _, role := range []string{"viewer", "manager", "sales_rep"} {
			u := b.app.CreateUser(t, b.tn, role, nil)
			require.Equal(t, []string{"BOLT"}, b.collect(t, "/v1/items", u.Token, "sku", 50), role)
			require.Equal(t, http.StatusOK, b.app.Get(t, path, u.Token).Status, role)
			resp := b.app.Post(t, "/v1/items", u.Token, map[string]any{"sku": "X", "name": "X", "base_price": "1"})
			require.Equal(t, http.StatusForbidden, resp.Status, role)
			require.Equal(t, http.StatusForbidden, b.app.Patch(t, path, u.Token, `"1"`, map[string]any{"name": "X"}).Status, role)
			require.Equal(t, http.StatusForbidden, b.app.Delete(t, path, u.Token).Status, role)
		}
	})
	t.Run("IdempotentReplay", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		post := func(body map[string]any) *apptest.Response {
			return b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/items", Token: b.tn.AdminToken, Body: body,
				Headers: map[string]string{"Idempotency-Key": "item-bolt"}})
		}
		body := map[string]any{"sku": "BOLT", "name": "Bolt", "base_price": "1.25"}
		first := post(body)
		require.Equal(t, http.StatusCreated, first.Status, "%s", first.Body)
		again := post(body)
		require.Equal(t, http.StatusCreated, again.Status, "a replay, not a SKU conflict: %s", again.Body)
		require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
		require.Equal(t, string(first.Body), string(again.Body))
		require.Equal(t, first.Header.Get("ETag"), again.Header.Get("ETag"))
		require.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"))
		require.Equal(t, []string{"BOLT"}, b.collect(t, "/v1/items", b.tn.AdminToken, "sku", 50))

		resp := post(map[string]any{"sku": "NUT", "name": "Nut", "base_price": "1"})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
		require.Equal(t, "idempotency_key_reused", resp.Map(t)["code"])
		require.Equal(t, []string{"BOLT"}, b.collect(t, "/v1/items", b.tn.AdminToken, "sku", 50))
	})
}

func TestListPrices(t *testing.T) {
	t.Parallel()

	t.Run("SetListDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		bolt := b.item(t, "BOLT", "1")
		b.item(t, "BOX/12", "10")
		b.item(t, "NUT", "1")
		pl := b.create(t, "/v1/price-lists", map[string]any{"code": "TRADE", "name": "Trade", "currency": "JPY"})
		base := "/v1/price-lists/" + pl["id"].(string) + "/items/"

		resp := b.put(t, base+"BOLT", b.tn.AdminToken, map[string]any{"price": "90"})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		got := resp.Map(t)
		require.NotEmpty(t, got["updated_at"])
		delete(got, "updated_at")
		require.Equal(t, map[string]any{"price_list_id": pl["id"], "sku": "BOLT", "item_id": bolt["id"], "name": "Item BOLT",
			"price": "90", "currency": "JPY"}, got, "in the list's currency, with its minor units")

		resp = b.put(t, base+"BOLT", b.tn.AdminToken, map[string]any{"price": 95.5})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, "95.5", resp.Map(t)["price"])

		// A SKU with a slash travels escaped.
		resp = b.put(t, base+url.PathEscape("BOX/12"), b.tn.AdminToken, map[string]any{"price": "900"})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		require.Equal(t, "BOX/12", resp.Map(t)["sku"])

		require.Equal(t, []string{"BOLT", "BOX/12"}, b.collect(t, "/v1/price-lists/"+pl["id"].(string)+"/items", b.tn.AdminToken, "sku", 1))
		require.Equal(t, []string{"95.5", "900"}, b.collect(t, "/v1/price-lists/"+pl["id"].(string)+"/items", b.tn.AdminToken, "price", 50))

		require.Equal(t, http.StatusNoContent, b.app.Delete(t, base+url.PathEscape("BOX/12"), b.tn.AdminToken).Status)
		resp = b.app.Delete(t, base+url.PathEscape("BOX/12"), b.tn.AdminToken)
		require.Equal(t, http.StatusNotFound, resp.Status)
		require.Equal(t, "price not found", detail(t, resp))
		resp = b.app.Delete(t, base+"NUT", b.tn.AdminToken)
		require.Equal(t, "price not found", detail(t, resp))
		require.Equal(t, []string{"BOLT"}, b.collect(t, "/v1/price-lists/"+pl["id"].(string)+"/items", b.tn.AdminToken, "sku", 50))
	})
	t.Run("UnknownListOrSKU", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.item(t, "BOLT", "1")
		pl := b.create(t, "/v1/price-lists", map[string]any{"code": "TRADE", "name": "Trade", "currency": "USD"})
		for _, tc := range []struct{ path, what string }{
			{"/v1/price-lists/" + uuid.NewString() + "/items/BOLT", "price list not found"},
			{"/v1/price-lists/" + uuid.NewString() + "/items/NOPE", "price list not found"},
			{"/v1/price-lists/" + pl["id"].(string) + "/items/NOPE", "item not found"},
			{"/v1/price-lists/" + pl["id"].(string) + "/items/" + url.PathEscape("-odd sku-"), "item not found"},
		} {
			for _, resp := range []*apptest.Response{
				b.put(t, tc.path, b.tn.AdminToken, map[string]any{"price": "1"}),
				b.app.Delete(t, tc.path, b.tn.AdminToken),
			} {
				require.Equal(t, http.StatusNotFound, resp.Status, "%s %s", tc.path, resp.Body)
				require.Equal(t, tc.what, detail(t, resp), tc.path)
			}
		}
		resp := b.app.Get(t, "/v1/price-lists/"+uuid.NewString()+"/items", b.tn.AdminToken)
		require.Equal(t, http.StatusNotFound, resp.Status)
		require.Equal(t, "price list not found", detail(t, resp))
	})
	t.Run("ValidationErrors", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.item(t, "BOLT", "1")
		pl := b.create(t, "/v1/price-lists", map[string]any{"code": "TRADE", "name": "Trade", "currency": "USD"})
		path := "/v1/price-lists/" + pl["id"].(string) + "/items/BOLT"
		require.Equal(t, map[string]string{"price": "required"}, fields(t, b.put(t, path, b.tn.AdminToken, map[string]any{})))
		require.Equal(t, map[string]string{"price": "out_of_range"}, fields(t, b.put(t, path, b.tn.AdminToken, map[string]any{"price": "-1"})))
		require.Equal(t, map[string]string{"price": "too_precise"}, fields(t, b.put(t, path, b.tn.AdminToken, map[string]any{"price": "0.00001"})))
		require.Equal(t, map[string]string{"price": "invalid_decimal"}, fields(t, b.put(t, path, b.tn.AdminToken, map[string]any{"price": true})))
		require.Empty(t, b.collect(t, "/v1/price-lists/"+pl["id"].(string)+"/items", b.tn.AdminToken, "sku", 50))
	})
	t.Run("CurrencyFixedWhileListHasPrices", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.item(t, "BOLT", "1")
		pl := b.create(t, "/v1/price-lists", map[string]any{"code": "TRADE", "name": "Trade", "currency": "USD"})
		path := "/v1/price-lists/" + pl["id"].(string)
		b.listPrice(t, pl["id"], "BOLT", "1")

		resp := b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"currency": "EUR"})
		require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)
		require.Equal(t, "has_prices", resp.Map(t)["code"])
		resp = b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"currency": "usd", "name": "Trade USD"})
		require.Equal(t, http.StatusOK, resp.Status, "the same currency is no change: %s", resp.Body)

		require.Equal(t, http.StatusNoContent, b.app.Delete(t, path+"/items/BOLT", b.tn.AdminToken).Status)
		resp = b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"currency": "EUR"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, "EUR", resp.Map(t)["currency"])
	})
	t.Run("OtherTenant", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.item(t, "BOLT", "1")
		pl := b.create(t, "/v1/price-lists", map[string]any{"code": "TRADE", "name": "Trade", "currency": "USD"})
		b.listPrice(t, pl["id"], "BOLT", "1")
		other := b.app.Signup(t)
		// The other tenant has an item with the same SKU: the list still is
		// not theirs.
		resp := b.app.Post(t, "/v1/items", other.AdminToken, map[string]any{"sku": "BOLT", "name": "Theirs", "base_price": "1"})
		require.Equal(t, http.StatusCreated, resp.Status)
		base := "/v1/price-lists/" + pl["id"].(string) + "/items"
		for _, resp := range []*apptest.Response{
			b.app.Get(t, base, other.AdminToken),
			b.put(t, base+"/BOLT", other.AdminToken, map[string]any{"price": "0"}),
			b.app.Delete(t, base+"/BOLT", other.AdminToken),
		} {
			require.Equal(t, http.StatusNotFound, resp.Status, "%s", resp.Body)
			require.Equal(t, "price list not found", detail(t, resp))
		}
		require.Equal(t, []string{"1.00"}, b.collect(t, base, b.tn.AdminToken, "price", 50))
	})
	t.Run("Permissions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.item(t, "BOLT", "1")
		pl := b.create(t, "/v1/price-lists", map[string]any{"code": "TRADE", "name": "Trade", "currency": "USD"})
		b.listPrice(t, pl["id"], "BOLT", "1")
		base := "/v1/price-lists/" + pl["id"].(string) + "/items"
		for _, role := range []string{"viewer", "manager", "sales_rep"} {
			u := b.app.CreateUser(t, b.tn, role, nil)
			require.Equal(t, []string{"BOLT"}, b.collect(t, base, u.Token, "sku", 50), role)
			require.Equal(t, http.StatusForbidden, b.put(t, base+"/BOLT", u.Token, map[string]any{"price": "0"}).Status, role)
			require.Equal(t, http.StatusForbidden, b.app.Delete(t, base+"/BOLT", u.Token).Status, role)
		}
	})
}

// TestItemAudit checks that item and price writes leave an audit trail
// under the item's id, naming the list or customer and the price.
func TestItemAudit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	it := b.item(t, "BOLT", "1")
	path := "/v1/items/" + it["id"].(string)
	require.Equal(t, http.StatusOK, b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"base_price": "1.5"}).Status)
	pl := b.create(t, "/v1/price-lists", map[string]any{"code": "TRADE", "name": "Trade", "currency": "USD"})
	b.listPrice(t, pl["id"], "BOLT", "1.20")
	b.listPrice(t, pl["id"], "BOLT", "1.20") // no change, no event
	b.listPrice(t, pl["id"], "BOLT", "1.10")
	require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/price-lists/"+pl["id"].(string)+"/items/BOLT", b.tn.AdminToken).Status)
	cust := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Buyer"})
	cpath := "/v1/customers/" + cust["id"].(string) + "/prices/BOLT"
	require.Equal(t, http.StatusCreated, b.put(t, cpath, b.tn.AdminToken, map[string]any{"price": "1"}).Status)
	require.Equal(t, http.StatusNoContent, b.app.Delete(t, cpath, b.tn.AdminToken).Status)
	require.Equal(t, http.StatusNoContent, b.app.Delete(t, path, b.tn.AdminToken).Status)

	type event struct {
		Entity, Action string
		Changes        map[string]map[string]any
	}
	var got []event
	tid := uuid.MustParse(b.tn.ID)
	err := database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
		rows, err := tx.Query(ctx, `SELECT entity, action, changes FROM audit_events
			WHERE tenant_id = $1 AND entity_id = $2 ORDER BY at`, tid, it["id"])
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e event
			var raw []byte
			if err := rows.Scan(&e.Entity, &e.Action, &raw); err != nil {
				return err
			}
			if err := json.Unmarshal(raw, &e.Changes); err != nil {
				return err
			}
			got = append(got, e)
		}
		return rows.Err()
	}, database.ReadOnly)
	require.NoError(t, err)
	require.Len(t, got, 8, "%+v", got)
	kinds := make([]string, len(got))
	for i, e := range got {
		kinds[i] = e.Entity + " " + e.Action
	}
	require.Equal(t, []string{"item create", "item update", "price create", "price update", "price delete",
		"price create", "price delete", "item delete"}, kinds)
	require.Equal(t, map[string]any{"from": "1.00", "to": "1.50"}, got[1].Changes["base_price"])
	require.Equal(t, map[string]any{"from": nil, "to": pl["id"]}, got[2].Changes["price_list_id"])
	require.Equal(t, map[string]any{"from": nil, "to": "1.20"}, got[2].Changes["price"])
	require.Equal(t, map[string]any{"from": "1.20", "to": "1.10"}, got[3].Changes["price"])
	require.Equal(t, map[string]any{"from": pl["id"], "to": nil}, got[4].Changes["price_list_id"])
	require.Equal(t, map[string]any{"from": nil, "to": cust["id"]}, got[5].Changes["customer_id"])
	require.Equal(t, map[string]any{"from": nil, "to": "1.00"}, got[5].Changes["price"])
	require.Equal(t, map[string]any{"from": "1.00", "to": nil}, got[6].Changes["price"])
	require.Equal(t, map[string]any{"from": "BOLT", "to": nil}, got[7].Changes["sku"])
}
