package pricing_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/uuid"
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
	return testBundle{app: app, tn: app.Signup(t)}
}

// create posts body and returns the created object.
func (b testBundle) create(t *testing.T, path string, body map[string]any) map[string]any {
	t.Helper()
	resp := b.app.Post(t, path, b.tn.AdminToken, body)
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	return resp.Map(t)
}

// exec runs SQL in a tenant transaction that sees the whole tenant, for
// references the API cannot make yet.
func (b testBundle) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	tid := uuid.MustParse(b.tn.ID)
	err := database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
		tag, err := tx.Exec(ctx, sql, args...)
		if err == nil && tag.RowsAffected() != 1 {
			t.Errorf("%s: %d rows", sql, tag.RowsAffected())
		}
		return err
	})
	require.NoError(t, err)
}

type problem struct {
	Code   string `json:"code"`
	Errors []struct{ Field, Code string }
}

// fields maps each field error of a problem body to its code.
func fields(t *testing.T, resp *apptest.Response) map[string]string {
	t.Helper()
	var p problem
	resp.JSON(t, &p)
	out := map[string]string{}
	for _, e := range p.Errors {
		out[e.Field] = e.Code
	}
	return out
}

type page struct {
	Items      []map[string]any `json:"items"`
	NextCursor *string          `json:"next_cursor"`
}

// codes pages through a list and returns the codes in order.
func (b testBundle) codes(t *testing.T, path, token string, limit string) []string {
	t.Helper()
	var got []string
	cursor := ""
	for range 20 {
		url := path + "?limit=" + limit
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		resp := b.app.Get(t, url, token)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		var p page
		resp.JSON(t, &p)
		for _, it := range p.Items {
			got = append(got, it["code"].(string))
		}
		if p.NextCursor == nil {
			return got
		}
		cursor = *p.NextCursor
	}
	t.Fatal("too many pages")
	return nil
}

func TestPaymentTerms(t *testing.T) {
	t.Parallel()

	t.Run("Create", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Post(t, "/v1/payment-terms", b.tn.AdminToken, map[string]any{"code": " NET30 ", "name": " Net 30 ", "due_days": 30})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		require.Equal(t, `"1"`, resp.Header.Get("ETag"))
		pt := resp.Map(t)
		require.Equal(t, "/v1/payment-terms/"+pt["id"].(string), resp.Header.Get("Location"))
		require.Equal(t, "NET30", pt["code"])
		require.Equal(t, "Net 30", pt["name"])
		require.EqualValues(t, 30, pt["due_days"])
		require.EqualValues(t, 1, pt["version"])
		require.NotEmpty(t, pt["created_at"])
		require.NotEmpty(t, pt["updated_at"])

		got := b.app.Get(t, "/v1/payment-terms/"+pt["id"].(string), b.tn.AdminToken)
		require.Equal(t, http.StatusOK, got.Status)
		require.Equal(t, `"1"`, got.Header.Get("ETag"))
		require.Equal(t, pt, got.Map(t))
	})
	t.Run("DueImmediately", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		pt := b.create(t, "/v1/payment-terms", map[string]any{"code": "COD", "name": "Cash on delivery", "due_days": 0})
		require.EqualValues(t, 0, pt["due_days"])
	})
	t.Run("ValidationErrors", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Post(t, "/v1/payment-terms", b.tn.AdminToken, map[string]any{"code": "has space", "name": " ", "due_days": 3651})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Equal(t, map[string]string{"code": "invalid_code", "name": "required", "due_days": "out_of_range"}, fields(t, resp))

		resp = b.app.Post(t, "/v1/payment-terms", b.tn.AdminToken, map[string]any{"code": "-X", "name": "N", "due_days": -1})
		require.Equal(t, map[string]string{"code": "invalid_code", "due_days": "out_of_range"}, fields(t, resp))

		resp = b.app.Post(t, "/v1/payment-terms", b.tn.AdminToken, map[string]any{"code": "N30", "name": "N"})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Equal(t, map[string]string{"due_days": "required"}, fields(t, resp))

		resp = b.app.Post(t, "/v1/payment-terms", b.tn.AdminToken, map[string]any{"code": "N30", "name": "N", "due_days": 1.5})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Equal(t, map[string]string{"due_days": "invalid_type"}, fields(t, resp))

		var list page
		b.app.Get(t, "/v1/payment-terms", b.tn.AdminToken).JSON(t, &list)
		require.Empty(t, list.Items, "nothing was created")
	})
	t.Run("CodeTaken", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.create(t, "/v1/payment-terms", map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
		resp := b.app.Post(t, "/v1/payment-terms", b.tn.AdminToken, map[string]any{"code": "NET30", "name": "Other", "due_days": 10})
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Equal(t, "code_taken", resp.Map(t)["code"])
		// Another tenant has its own codes.
		other := b.app.Signup(t)
		resp = b.app.Post(t, "/v1/payment-terms", other.AdminToken, map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	})
	t.Run("ListByCode", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, code := range []string{"NET60", "COD", "NET30", "EOM", "NET10"} {
			b.create(t, "/v1/payment-terms", map[string]any{"code": code, "name": code, "due_days": 1})
		}
		want := []string{"COD", "EOM", "NET10", "NET30", "NET60"}
		require.Equal(t, want, b.codes(t, "/v1/payment-terms", b.tn.AdminToken, "2"))
		require.Equal(t, want, b.codes(t, "/v1/payment-terms", b.tn.AdminToken, "50"))

		resp := b.app.Get(t, "/v1/payment-terms?cursor=garbage", b.tn.AdminToken)
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Equal(t, map[string]string{"cursor": "invalid_cursor"}, fields(t, resp))
		resp = b.app.Get(t, "/v1/payment-terms?code=NET", b.tn.AdminToken)
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Equal(t, map[string]string{"code": "unknown_parameter"}, fields(t, resp))
	})
	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		pt := b.create(t, "/v1/payment-terms", map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
		b.create(t, "/v1/payment-terms", map[string]any{"code": "NET60", "name": "Net 60", "due_days": 60})
		path := "/v1/payment-terms/" + pt["id"].(string)

		resp := b.app.Do(t, apptest.Req{Method: http.MethodPatch, Path: path, Token: b.tn.AdminToken, Body: map[string]any{"name": "X"}})
		require.Equal(t, http.StatusPreconditionRequired, resp.Status)

		resp = b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"name": "Thirty days", "due_days": 31})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, `"2"`, resp.Header.Get("ETag"))
		got := resp.Map(t)
		require.Equal(t, "Thirty days", got["name"])
		require.EqualValues(t, 31, got["due_days"])
		require.Equal(t, "NET30", got["code"], "absent fields are left alone")

		resp = b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"name": "Lost update"})
		require.Equal(t, http.StatusPreconditionFailed, resp.Status)
		require.Equal(t, "Thirty days", b.app.Get(t, path, b.tn.AdminToken).Map(t)["name"])

		resp = b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"code": "NET60"})
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Equal(t, "code_taken", resp.Map(t)["code"])

		resp = b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"name": nil, "due_days": nil, "code": "bad code"})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Equal(t, map[string]string{"name": "not_nullable", "due_days": "not_nullable"}, fields(t, resp))

		resp = b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"code": "bad code", "due_days": 9999})
		require.Equal(t, map[string]string{"code": "invalid_code", "due_days": "out_of_range"}, fields(t, resp))

		resp = b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"code": "N30"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, "N30", resp.Map(t)["code"])
	})
	t.Run("DeleteRefusedWhileReferenced", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		bySettings := b.create(t, "/v1/payment-terms", map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
		byCustomer := b.create(t, "/v1/payment-terms", map[string]any{"code": "NET60", "name": "Net 60", "due_days": 60})

		resp := b.app.Patch(t, "/v1/settings", b.tn.AdminToken, `"1"`, map[string]any{"default_payment_terms_id": bySettings["id"]})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		path := "/v1/payment-terms/" + bySettings["id"].(string)
		resp = b.app.Delete(t, path, b.tn.AdminToken)
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Equal(t, "in_use", resp.Map(t)["code"])
		require.Equal(t, http.StatusOK, b.app.Get(t, path, b.tn.AdminToken).Status)

		// A customer that a sales rep cannot see still holds the terms: the
		// foreign key sees it, whoever deletes.
		cust := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Holder"})
		b.exec(t, `UPDATE customers SET payment_terms_id = $1 WHERE tenant_id = $2 AND id = $3`, byCustomer["id"], b.tn.ID, cust["id"])
		role := b.app.Post(t, "/v1/roles", b.tn.AdminToken, map[string]any{"name": "configurator", "permissions": []string{"settings:manage", "customers:read"}})
		require.Equal(t, http.StatusCreated, role.Status, "%s", role.Body)
		configurator := b.app.CreateUser(t, b.tn, "configurator", map[string]any{"visibility": "assigned"})
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/customers/"+cust["id"].(string), configurator.Token).Status)
		for _, token := range []string{configurator.Token, b.tn.AdminToken} {
			resp = b.app.Delete(t, "/v1/payment-terms/"+byCustomer["id"].(string), token)
			require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)
			require.Equal(t, "in_use", resp.Map(t)["code"])
		}

		// Once the references are gone, the delete goes through.
		resp = b.app.Patch(t, "/v1/settings", b.tn.AdminToken, `"2"`, map[string]any{"default_payment_terms_id": nil})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, http.StatusNoContent, b.app.Delete(t, path, b.tn.AdminToken).Status)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, path, b.tn.AdminToken).Status)
		require.Equal(t, http.StatusNotFound, b.app.Delete(t, path, b.tn.AdminToken).Status)

		b.exec(t, `UPDATE customers SET payment_terms_id = NULL WHERE tenant_id = $1 AND id = $2`, b.tn.ID, cust["id"])
		require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/payment-terms/"+byCustomer["id"].(string), b.tn.AdminToken).Status)
	})
	t.Run("OtherTenant", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		pt := b.create(t, "/v1/payment-terms", map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
		other := b.app.Signup(t)
		path := "/v1/payment-terms/" + pt["id"].(string)

		for _, resp := range []*apptest.Response{
			b.app.Get(t, path, other.AdminToken),
			b.app.Patch(t, path, other.AdminToken, `"1"`, map[string]any{"name": "Mine now"}),
			b.app.Delete(t, path, other.AdminToken),
		} {
			require.Equal(t, http.StatusNotFound, resp.Status, "%s", resp.Body)
			require.Equal(t, "not_found", resp.Map(t)["code"])
		}
		require.Empty(t, b.codes(t, "/v1/payment-terms", other.AdminToken, "50"))
		// Unknown ids get the same answer.
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/payment-terms/"+uuid.NewString(), b.tn.AdminToken).Status)

		got := b.app.Get(t, path, b.tn.AdminToken).Map(t)
		require.Equal(t, "Net 30", got["name"])
		require.EqualValues(t, 1, got["version"])
	})
	t.Run("Permissions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		pt := b.create(t, "/v1/payment-terms", map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
		path := "/v1/payment-terms/" + pt["id"].(string)
		for _, role := range []string{"viewer", "manager", "sales_rep"} {
			u := b.app.CreateUser(t, b.tn, role, nil)
			require.Equal(t, []string{"NET30"}, b.codes(t, "/v1/payment-terms", u.Token, "50"), role)
			require.Equal(t, http.StatusOK, b.app.Get(t, path, u.Token).Status, role)
			resp := b.app.Post(t, "/v1/payment-terms", u.Token, map[string]any{"code": "X", "name": "X", "due_days": 1})
			require.Equal(t, http.StatusForbidden, resp.Status, role)
			require.Equal(t, http.StatusForbidden, b.app.Patch(t, path, u.Token, `"1"`, map[string]any{"name": "X"}).Status, role)
			require.Equal(t, http.StatusForbidden, b.app.Delete(t, path, u.Token).Status, role)
		}
	})
	t.Run("IdempotentReplay", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		post := func(body map[string]any) *apptest.Response {
			return b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/payment-terms", Token: b.tn.AdminToken, Body: body,
				Headers: map[string]string{"Idempotency-Key": "terms-net30"}})
		}
		body := map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30}
		first := post(body)
		require.Equal(t, http.StatusCreated, first.Status, "%s", first.Body)
		again := post(body)
		require.Equal(t, http.StatusCreated, again.Status, "a replay, not a code conflict: %s", again.Body)
		require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
		require.Equal(t, string(first.Body), string(again.Body))
		require.Equal(t, first.Header.Get("ETag"), again.Header.Get("ETag"))
		require.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"))
		require.Equal(t, []string{"NET30"}, b.codes(t, "/v1/payment-terms", b.tn.AdminToken, "50"))

		resp := post(map[string]any{"code": "NET60", "name": "Net 60", "due_days": 60})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
		require.Equal(t, "idempotency_key_reused", resp.Map(t)["code"])
		require.Equal(t, []string{"NET30"}, b.codes(t, "/v1/payment-terms", b.tn.AdminToken, "50"))
	})
}

func TestPriceLists(t *testing.T) {
	t.Parallel()

	t.Run("Create", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Post(t, "/v1/price-lists", b.tn.AdminToken, map[string]any{"code": "WHOLESALE", "name": "Wholesale", "currency": " eur "})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		require.Equal(t, `"1"`, resp.Header.Get("ETag"))
		pl := resp.Map(t)
		require.Equal(t, "/v1/price-lists/"+pl["id"].(string), resp.Header.Get("Location"))
		require.Equal(t, "WHOLESALE", pl["code"])
		require.Equal(t, "Wholesale", pl["name"])
		require.Equal(t, "EUR", pl["currency"])
		require.EqualValues(t, 1, pl["version"])

		got := b.app.Get(t, "/v1/price-lists/"+pl["id"].(string), b.tn.AdminToken)
		require.Equal(t, http.StatusOK, got.Status)
		require.Equal(t, `"1"`, got.Header.Get("ETag"))
		require.Equal(t, pl, got.Map(t))
	})
	t.Run("ValidationErrors", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, cur := range []string{"EURO", "", "ZZZ", "12"} {
			resp := b.app.Post(t, "/v1/price-lists", b.tn.AdminToken, map[string]any{"code": "L1", "name": "L", "currency": cur})
			require.Equal(t, http.StatusBadRequest, resp.Status, cur)
			require.Equal(t, map[string]string{"currency": "invalid_currency"}, fields(t, resp), cur)
		}
		resp := b.app.Post(t, "/v1/price-lists", b.tn.AdminToken, map[string]any{"code": "", "name": "", "currency": "USD"})
		require.Equal(t, map[string]string{"code": "invalid_code", "name": "required"}, fields(t, resp))
		require.Empty(t, b.codes(t, "/v1/price-lists", b.tn.AdminToken, "50"))
	})
	t.Run("CodeTaken", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.create(t, "/v1/price-lists", map[string]any{"code": "RETAIL", "name": "Retail", "currency": "USD"})
		resp := b.app.Post(t, "/v1/price-lists", b.tn.AdminToken, map[string]any{"code": "RETAIL", "name": "Other", "currency": "EUR"})
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Equal(t, "code_taken", resp.Map(t)["code"])
		other := b.app.Signup(t)
		resp = b.app.Post(t, "/v1/price-lists", other.AdminToken, map[string]any{"code": "RETAIL", "name": "Retail", "currency": "USD"})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	})
	t.Run("ListByCode", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, code := range []string{"L3", "L1", "L2"} {
			b.create(t, "/v1/price-lists", map[string]any{"code": code, "name": code, "currency": "USD"})
		}
		require.Equal(t, []string{"L1", "L2", "L3"}, b.codes(t, "/v1/price-lists", b.tn.AdminToken, "1"))
	})
	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		pl := b.create(t, "/v1/price-lists", map[string]any{"code": "RETAIL", "name": "Retail", "currency": "USD"})
		b.create(t, "/v1/price-lists", map[string]any{"code": "TRADE", "name": "Trade", "currency": "USD"})
		path := "/v1/price-lists/" + pl["id"].(string)

		resp := b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"currency": "gbp", "name": "Retail UK"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, `"2"`, resp.Header.Get("ETag"))
		got := resp.Map(t)
		require.Equal(t, "GBP", got["currency"])
		require.Equal(t, "Retail UK", got["name"])
		require.Equal(t, "RETAIL", got["code"])

		require.Equal(t, http.StatusPreconditionFailed, b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"name": "X"}).Status)
		resp = b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"code": "TRADE"})
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Equal(t, "code_taken", resp.Map(t)["code"])
		resp = b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"currency": "pounds"})
		require.Equal(t, map[string]string{"currency": "invalid_currency"}, fields(t, resp))
		resp = b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"currency": nil})
		require.Equal(t, map[string]string{"currency": "not_nullable"}, fields(t, resp))
	})
	t.Run("DeleteRefusedWhileReferenced", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		pl := b.create(t, "/v1/price-lists", map[string]any{"code": "RETAIL", "name": "Retail", "currency": "USD"})
		path := "/v1/price-lists/" + pl["id"].(string)
		cust := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Holder"})
		b.exec(t, `UPDATE customers SET price_list_id = $1 WHERE tenant_id = $2 AND id = $3`, pl["id"], b.tn.ID, cust["id"])

		resp := b.app.Delete(t, path, b.tn.AdminToken)
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Equal(t, "in_use", resp.Map(t)["code"])
		require.Equal(t, http.StatusOK, b.app.Get(t, path, b.tn.AdminToken).Status)

		b.exec(t, `UPDATE customers SET price_list_id = NULL WHERE tenant_id = $1 AND id = $2`, b.tn.ID, cust["id"])
		require.Equal(t, http.StatusNoContent, b.app.Delete(t, path, b.tn.AdminToken).Status)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, path, b.tn.AdminToken).Status)
	})
	t.Run("OtherTenant", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		pl := b.create(t, "/v1/price-lists", map[string]any{"code": "RETAIL", "name": "Retail", "currency": "USD"})
		other := b.app.Signup(t)
		path := "/v1/price-lists/" + pl["id"].(string)
		for _, resp := range []*apptest.Response{
			b.app.Get(t, path, other.AdminToken),
			b.app.Patch(t, path, other.AdminToken, `"1"`, map[string]any{"name": "Mine now"}),
			b.app.Delete(t, path, other.AdminToken),
		} {
			require.Equal(t, http.StatusNotFound, resp.Status, "%s", resp.Body)
			require.Equal(t, "not_found", resp.Map(t)["code"])
		}
		require.Empty(t, b.codes(t, "/v1/price-lists", other.AdminToken, "50"))
		got := b.app.Get(t, path, b.tn.AdminToken).Map(t)
		require.Equal(t, "Retail", got["name"])
		require.EqualValues(t, 1, got["version"])
	})
	t.Run("Permissions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		pl := b.create(t, "/v1/price-lists", map[string]any{"code": "RETAIL", "name": "Retail", "currency": "USD"})
		viewer := b.app.CreateUser(t, b.tn, "viewer", nil)
		require.Equal(t, http.StatusOK, b.app.Get(t, "/v1/price-lists/"+pl["id"].(string), viewer.Token).Status)
		resp := b.app.Post(t, "/v1/price-lists", viewer.Token, map[string]any{"code": "X", "name": "X", "currency": "USD"})
		require.Equal(t, http.StatusForbidden, resp.Status)
		require.Equal(t, http.StatusForbidden, b.app.Delete(t, "/v1/price-lists/"+pl["id"].(string), viewer.Token).Status)
	})
	t.Run("IdempotentReplay", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		post := func(body map[string]any) *apptest.Response {
			return b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/price-lists", Token: b.tn.AdminToken, Body: body,
				Headers: map[string]string{"Idempotency-Key": "list-retail"}})
		}
		body := map[string]any{"code": "RETAIL", "name": "Retail", "currency": "USD"}
		first := post(body)
		require.Equal(t, http.StatusCreated, first.Status, "%s", first.Body)
		again := post(body)
		require.Equal(t, http.StatusCreated, again.Status, "%s", again.Body)
		require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
		require.Equal(t, string(first.Body), string(again.Body))
		require.Equal(t, []string{"RETAIL"}, b.codes(t, "/v1/price-lists", b.tn.AdminToken, "50"))
		require.Equal(t, http.StatusUnprocessableEntity, post(map[string]any{"code": "TRADE", "name": "Trade", "currency": "USD"}).Status)
		require.Equal(t, []string{"RETAIL"}, b.codes(t, "/v1/price-lists", b.tn.AdminToken, "50"))
	})
}

// TestAudit checks that writes leave an audit trail under the package's
// entity names.
func TestAudit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	pt := b.create(t, "/v1/payment-terms", map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
	require.Equal(t, http.StatusOK, b.app.Patch(t, "/v1/payment-terms/"+pt["id"].(string), b.tn.AdminToken, `"1"`, map[string]any{"due_days": 45}).Status)
	require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/payment-terms/"+pt["id"].(string), b.tn.AdminToken).Status)
	pl := b.create(t, "/v1/price-lists", map[string]any{"code": "RETAIL", "name": "Retail", "currency": "USD"})

	type event struct {
		Entity, Action, Changes string
	}
	var got []event
	tid := uuid.MustParse(b.tn.ID)
	err := database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
		rows, err := tx.Query(ctx, `SELECT entity, action, changes::text FROM audit_events
			WHERE tenant_id = $1 AND entity_id = ANY($2::uuid[]) AND actor_id = $3 ORDER BY at, action`,
			tid, []string{pt["id"].(string), pl["id"].(string)}, b.tn.AdminID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e event
			if err := rows.Scan(&e.Entity, &e.Action, &e.Changes); err != nil {
				return err
			}
			got = append(got, e)
		}
		return rows.Err()
	}, database.ReadOnly)
	require.NoError(t, err)
	require.Len(t, got, 4, "%+v", got)
	require.Equal(t, "payment_terms", got[0].Entity)
	require.Equal(t, "create", got[0].Action)
	var created map[string]map[string]any
	require.NoError(t, json.Unmarshal([]byte(got[0].Changes), &created))
	require.Equal(t, map[string]any{"from": nil, "to": "NET30"}, created["code"])
	require.Equal(t, "update", got[1].Action)
	require.JSONEq(t, `{"due_days": {"from": 30, "to": 45}}`, got[1].Changes)
	require.Equal(t, "delete", got[2].Action)
	require.Equal(t, "price_list", got[3].Entity)
	require.Equal(t, "create", got[3].Action)
}
