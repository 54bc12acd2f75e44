package settings_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/settings"
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

// tx runs fn in a transaction that sees the whole of tenant tn, for what
// the API cannot do yet (custom values on customers).
func (b testBundle) tx(t *testing.T, tn apptest.Tenant, fn func(ctx context.Context, tx database.Tx) error) {
	t.Helper()
	require.NoError(t, database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(uuid.MustParse(tn.ID)), fn))
}

// setCustom stores a customer's custom values directly.
func (b testBundle) setCustom(t *testing.T, tn apptest.Tenant, customerID any, custom string) {
	t.Helper()
	b.tx(t, tn, func(ctx context.Context, tx database.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE customers SET custom = $1::jsonb WHERE tenant_id = $2 AND id = $3`, custom, tn.ID, customerID)
		if err == nil && tag.RowsAffected() != 1 {
			return fmt.Errorf("customer %v not updated", customerID)
		}
		return err
	})
}

// custom reads a customer's stored custom values.
func (b testBundle) custom(t *testing.T, tn apptest.Tenant, customerID any) map[string]any {
	t.Helper()
	var raw []byte
	b.tx(t, tn, func(ctx context.Context, tx database.Tx) error {
		return tx.QueryRow(ctx, `SELECT custom FROM customers WHERE tenant_id = $1 AND id = $2`, tn.ID, customerID).Scan(&raw)
	})
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
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

func (b testBundle) createTerms(t *testing.T, token, code string) string {
	t.Helper()
	resp := b.app.Post(t, "/v1/payment-terms", token, map[string]any{"code": code, "name": code, "due_days": 30})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	return resp.Map(t)["id"].(string)
}

func TestSettings(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Get(t, "/v1/settings", b.tn.AdminToken)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, `"1"`, resp.Header.Get("ETag"))
		got := resp.Map(t)
		require.NotEmpty(t, got["updated_at"])
		delete(got, "updated_at")
		require.Equal(t, map[string]any{
			"required_fields": []any{}, "default_country": "US", "default_currency": "USD", "default_payment_terms_id": nil,
			"default_credit_policy": "none", "dormant_after_days": float64(365), "dormant_include_open_balance": false,
			"dormant_sweep_hour": float64(2), "version": float64(1),
		}, got)
	})
	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		terms := b.createTerms(t, b.tn.AdminToken, "NET30")
		resp := b.app.Patch(t, "/v1/settings", b.tn.AdminToken, `"1"`, map[string]any{
			"required_fields": []string{"phone", "email", "phone"}, "default_country": " de ", "default_currency": "eur",
			"default_payment_terms_id": terms, "default_credit_policy": "warn", "dormant_after_days": 90,
			"dormant_include_open_balance": true, "dormant_sweep_hour": 23,
		})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, `"2"`, resp.Header.Get("ETag"))
		got := resp.Map(t)
		require.Equal(t, []any{"email", "phone"}, got["required_fields"], "deduplicated, in the order of RequirableFields")
		require.Equal(t, "DE", got["default_country"])
		require.Equal(t, "EUR", got["default_currency"])
		require.Equal(t, terms, got["default_payment_terms_id"])
		require.Equal(t, "warn", got["default_credit_policy"])
		require.EqualValues(t, 90, got["dormant_after_days"])
		require.Equal(t, true, got["dormant_include_open_balance"])
		require.EqualValues(t, 23, got["dormant_sweep_hour"])
		require.EqualValues(t, 2, got["version"])
		require.Equal(t, got, b.app.Get(t, "/v1/settings", b.tn.AdminToken).Map(t))

		// Absent fields stay; null clears the payment terms; [] clears the
		// required fields.
		resp = b.app.Patch(t, "/v1/settings", b.tn.AdminToken, `"2"`, map[string]any{"default_payment_terms_id": nil, "required_fields": []string{}})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		got = resp.Map(t)
		require.Nil(t, got["default_payment_terms_id"])
		require.Equal(t, []any{}, got["required_fields"])
		require.Equal(t, "DE", got["default_country"])
		require.Equal(t, "warn", got["default_credit_policy"])
	})
	t.Run("IfMatch", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Do(t, apptest.Req{Method: http.MethodPatch, Path: "/v1/settings", Token: b.tn.AdminToken, Body: map[string]any{"dormant_after_days": 10}})
		require.Equal(t, http.StatusPreconditionRequired, resp.Status)
		require.Equal(t, http.StatusOK, b.app.Patch(t, "/v1/settings", b.tn.AdminToken, `"1"`, map[string]any{"dormant_after_days": 10}).Status)
		resp = b.app.Patch(t, "/v1/settings", b.tn.AdminToken, `"1"`, map[string]any{"dormant_after_days": 20})
		require.Equal(t, http.StatusPreconditionFailed, resp.Status)
		require.Equal(t, "version_mismatch", resp.Map(t)["code"])
		require.EqualValues(t, 10, b.app.Get(t, "/v1/settings", b.tn.AdminToken).Map(t)["dormant_after_days"])
	})
	t.Run("ValidationErrors", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Patch(t, "/v1/settings", b.tn.AdminToken, `"1"`, map[string]any{
			"required_fields": []string{"email", "favourite_color", "name"}, "default_country": "XX", "default_currency": "EURO",
			"default_credit_policy": "maybe", "dormant_after_days": 0,
		})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Equal(t, map[string]string{
			"required_fields.1": "unknown_field", "required_fields.2": "unknown_field", "default_country": "invalid_country",
			"default_currency": "invalid_currency", "default_credit_policy": "invalid_choice", "dormant_after_days": "out_of_range",
		}, fields(t, resp))

		for _, c := range []struct {
			body  map[string]any
			field string
			code  string
		}{
			{map[string]any{"default_country": "USA"}, "default_country", "invalid_country"},
			{map[string]any{"default_country": "EU"}, "default_country", "invalid_country"},
			{map[string]any{"dormant_after_days": 3651}, "dormant_after_days", "out_of_range"},
			{map[string]any{"dormant_after_days": "30"}, "dormant_after_days", "invalid_type"},
			{map[string]any{"dormant_sweep_hour": 24}, "dormant_sweep_hour", "out_of_range"},
			{map[string]any{"dormant_sweep_hour": -1}, "dormant_sweep_hour", "out_of_range"},
			{map[string]any{"dormant_sweep_hour": nil}, "dormant_sweep_hour", "not_nullable"},
			{map[string]any{"dormant_include_open_balance": "yes"}, "dormant_include_open_balance", "invalid_type"},
			{map[string]any{"dormant_include_open_balance": nil}, "dormant_include_open_balance", "not_nullable"},
			{map[string]any{"required_fields": "email"}, "required_fields", "invalid_type"},
			{map[string]any{"default_country": nil}, "default_country", "not_nullable"},
			{map[string]any{"required_fields": nil}, "required_fields", "not_nullable"},
			{map[string]any{"default_payment_terms_id": "nope"}, "default_payment_terms_id", "invalid_value"},
			{map[string]any{"tenant_id": uuid.NewString()}, "tenant_id", "unknown_field"},
		} {
			resp := b.app.Patch(t, "/v1/settings", b.tn.AdminToken, `"1"`, c.body)
			require.Equal(t, http.StatusBadRequest, resp.Status, "%v: %s", c.body, resp.Body)
			require.Equal(t, c.code, fields(t, resp)[c.field], "%v: %s", c.body, resp.Body)
		}
		require.EqualValues(t, 1, b.app.Get(t, "/v1/settings", b.tn.AdminToken).Map(t)["version"], "nothing changed")
	})
	t.Run("UnknownPaymentTerms", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other := b.app.Signup(t)
		othersTerms := b.createTerms(t, other.AdminToken, "NET30")
		for _, id := range []string{uuid.NewString(), othersTerms} {
			resp := b.app.Patch(t, "/v1/settings", b.tn.AdminToken, `"1"`, map[string]any{"default_payment_terms_id": id})
			require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
			require.Equal(t, map[string]string{"default_payment_terms_id": "not_found"}, fields(t, resp))
		}
		require.Nil(t, b.app.Get(t, "/v1/settings", b.tn.AdminToken).Map(t)["default_payment_terms_id"])
	})
	t.Run("Permissions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, role := range []string{"viewer", "manager", "sales_rep"} {
			u := b.app.CreateUser(t, b.tn, role, nil)
			require.Equal(t, http.StatusOK, b.app.Get(t, "/v1/settings", u.Token).Status, role)
			resp := b.app.Patch(t, "/v1/settings", u.Token, `"1"`, map[string]any{"default_country": "FR"})
			require.Equal(t, http.StatusForbidden, resp.Status, role)
			require.Equal(t, "forbidden", resp.Map(t)["code"])
		}
		cust := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Portal Co"})
		portal := b.app.CreateUser(t, b.tn, "portal", map[string]any{"customer_id": cust["id"]})
		require.Equal(t, http.StatusOK, b.app.Get(t, "/v1/settings", portal.Token).Status)
		require.Equal(t, "US", b.app.Get(t, "/v1/settings", b.tn.AdminToken).Map(t)["default_country"])
	})
	t.Run("TenantsSeeTheirOwn", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other := b.app.Signup(t)
		require.Equal(t, http.StatusOK, b.app.Patch(t, "/v1/settings", b.tn.AdminToken, `"1"`, map[string]any{"default_country": "JP", "default_currency": "JPY"}).Status)
		got := b.app.Get(t, "/v1/settings", other.AdminToken)
		require.Equal(t, `"1"`, got.Header.Get("ETag"))
		m := got.Map(t)
		require.Equal(t, "US", m["default_country"])
		require.Equal(t, "USD", m["default_currency"])
		require.Equal(t, http.StatusOK, b.app.Patch(t, "/v1/settings", other.AdminToken, `"1"`, map[string]any{"default_country": "FR"}).Status)
		require.Equal(t, "JP", b.app.Get(t, "/v1/settings", b.tn.AdminToken).Map(t)["default_country"])
	})
	t.Run("Audited", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.Equal(t, http.StatusOK, b.app.Patch(t, "/v1/settings", b.tn.AdminToken, `"1"`, map[string]any{"default_country": "CA", "dormant_after_days": 365}).Status)
		var changes []byte
		var actor string
		b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
			return tx.QueryRow(ctx, `SELECT changes, actor_id::text FROM audit_events
				WHERE tenant_id = $1 AND entity = 'settings' AND entity_id = $1 AND action = 'update'`, b.tn.ID).Scan(&changes, &actor)
		})
		require.JSONEq(t, `{"default_country": {"from": "US", "to": "CA"}}`, string(changes), "unchanged fields are not recorded")
		require.Equal(t, b.tn.AdminID, actor)
	})
}

// createField posts a custom field definition and returns it.
func (b testBundle) createField(t *testing.T, token string, body map[string]any) map[string]any {
	t.Helper()
	resp := b.app.Post(t, "/v1/custom-fields", token, body)
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	return resp.Map(t)
}

type fieldPage struct {
	Items []struct {
		Key      string `json:"key"`
		Position int    `json:"position"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// keys pages through the definitions and returns their keys in order.
func (b testBundle) keys(t *testing.T, token, limit string) []string {
	t.Helper()
	got := []string{}
	cursor := ""
	for range 100 {
		path := "/v1/custom-fields?limit=" + limit
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		resp := b.app.Get(t, path, token)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		var p fieldPage
		resp.JSON(t, &p)
		for _, it := range p.Items {
			got = append(got, it.Key)
		}
		if p.NextCursor == nil {
			return got
		}
		cursor = *p.NextCursor
	}
	t.Fatal("too many pages")
	return nil
}

func TestCustomFields(t *testing.T) {
	t.Parallel()

	t.Run("Create", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Post(t, "/v1/custom-fields", b.tn.AdminToken, map[string]any{"key": "po_number", "label": " PO number ", "type": "text"})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		require.Equal(t, `"1"`, resp.Header.Get("ETag"))
		f := resp.Map(t)
		require.Equal(t, "/v1/custom-fields/"+f["id"].(string), resp.Header.Get("Location"))
		require.Equal(t, "po_number", f["key"])
		require.Equal(t, "PO number", f["label"])
		require.Equal(t, "text", f["type"])
		require.Equal(t, false, f["required"])
		require.Equal(t, []any{}, f["options"])
		require.EqualValues(t, 0, f["position"])
		require.EqualValues(t, 1, f["version"])

		sel := b.createField(t, b.tn.AdminToken, map[string]any{"key": "tier", "label": "Tier", "type": "select",
			"options": []string{" gold ", "silver"}, "required": true, "position": 5})
		require.Equal(t, []any{"gold", "silver"}, sel["options"])
		require.Equal(t, true, sel["required"])
		require.EqualValues(t, 5, sel["position"])

		got := b.app.Get(t, "/v1/custom-fields/"+sel["id"].(string), b.tn.AdminToken)
		require.Equal(t, http.StatusOK, got.Status)
		require.Equal(t, `"1"`, got.Header.Get("ETag"))
		require.Equal(t, sel, got.Map(t))
	})
	t.Run("ValidationErrors", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Post(t, "/v1/custom-fields", b.tn.AdminToken, map[string]any{"key": "Bad-Key", "label": "", "type": "money", "position": -1})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Equal(t, map[string]string{"key": "invalid_key", "label": "required", "type": "invalid_choice", "position": "out_of_range"}, fields(t, resp))

		resp = b.app.Post(t, "/v1/custom-fields", b.tn.AdminToken, map[string]any{"key": "note", "label": "Note", "type": "text", "options": []string{"a"}})
		require.Equal(t, map[string]string{"options": "not_allowed"}, fields(t, resp))
		resp = b.app.Post(t, "/v1/custom-fields", b.tn.AdminToken, map[string]any{"key": "tier", "label": "Tier", "type": "select"})
		require.Equal(t, map[string]string{"options": "required"}, fields(t, resp))
		resp = b.app.Post(t, "/v1/custom-fields", b.tn.AdminToken, map[string]any{"key": "tier", "label": "Tier", "type": "select", "options": []string{"a", "b", "a", ""}})
		require.Equal(t, map[string]string{"options.2": "duplicate", "options.3": "required"}, fields(t, resp))
		require.Empty(t, b.keys(t, b.tn.AdminToken, "50"))
	})
	t.Run("KeyTaken", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.createField(t, b.tn.AdminToken, map[string]any{"key": "region", "label": "Region", "type": "text"})
		resp := b.app.Post(t, "/v1/custom-fields", b.tn.AdminToken, map[string]any{"key": "region", "label": "Other", "type": "bool"})
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Equal(t, "key_taken", resp.Map(t)["code"])
		other := b.app.Signup(t)
		b.createField(t, other.AdminToken, map[string]any{"key": "region", "label": "Region", "type": "bool"})
	})
	t.Run("ListByPositionThenKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, f := range []struct {
			key string
			pos int
		}{{"zeta", 0}, {"alpha", 2}, {"beta", 1}, {"gamma", 1}, {"delta", 0}} {
			b.createField(t, b.tn.AdminToken, map[string]any{"key": f.key, "label": f.key, "type": "text", "position": f.pos})
		}
		want := []string{"delta", "zeta", "beta", "gamma", "alpha"}
		require.Equal(t, want, b.keys(t, b.tn.AdminToken, "50"))
		require.Equal(t, want, b.keys(t, b.tn.AdminToken, "2"))
		viewer := b.app.CreateUser(t, b.tn, "viewer", nil)
		require.Equal(t, want, b.keys(t, viewer.Token, "50"), "customers:read may read definitions")
	})
	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := b.createField(t, b.tn.AdminToken, map[string]any{"key": "tier", "label": "Tier", "type": "select", "options": []string{"gold", "silver"}})
		path := "/v1/custom-fields/" + f["id"].(string)

		resp := b.app.Do(t, apptest.Req{Method: http.MethodPatch, Path: path, Token: b.tn.AdminToken, Body: map[string]any{"label": "X"}})
		require.Equal(t, http.StatusPreconditionRequired, resp.Status)

		resp = b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"label": "Level", "options": []string{"gold", "bronze"}, "required": true, "position": 3})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, `"2"`, resp.Header.Get("ETag"))
		got := resp.Map(t)
		require.Equal(t, "Level", got["label"])
		require.Equal(t, []any{"gold", "bronze"}, got["options"])
		require.Equal(t, true, got["required"])
		require.EqualValues(t, 3, got["position"])
		require.Equal(t, "tier", got["key"])
		require.Equal(t, "select", got["type"])

		resp = b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"label": "Lost"})
		require.Equal(t, http.StatusPreconditionFailed, resp.Status)

		for _, c := range []struct {
			body  map[string]any
			field string
			code  string
		}{
			{map[string]any{"key": "level"}, "key", "unknown_field"},
			{map[string]any{"type": "text"}, "type", "unknown_field"},
			{map[string]any{"options": []string{}}, "options", "required"},
			{map[string]any{"options": nil}, "options", "not_nullable"},
			{map[string]any{"label": nil}, "label", "not_nullable"},
			{map[string]any{"required": "yes"}, "required", "invalid_type"},
			{map[string]any{"position": 10001}, "position", "out_of_range"},
		} {
			resp := b.app.Patch(t, path, b.tn.AdminToken, `"2"`, c.body)
			require.Equal(t, http.StatusBadRequest, resp.Status, "%v: %s", c.body, resp.Body)
			require.Equal(t, c.code, fields(t, resp)[c.field], "%v: %s", c.body, resp.Body)
		}

		text := b.createField(t, b.tn.AdminToken, map[string]any{"key": "note", "label": "Note", "type": "text"})
		resp = b.app.Patch(t, "/v1/custom-fields/"+text["id"].(string), b.tn.AdminToken, `"1"`, map[string]any{"options": []string{"a"}})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Equal(t, map[string]string{"options": "not_allowed"}, fields(t, resp))
		require.EqualValues(t, 2, b.app.Get(t, path, b.tn.AdminToken).Map(t)["version"])
	})
	t.Run("LimitOf50", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for i := range settings.MaxFields {
			b.createField(t, b.tn.AdminToken, map[string]any{"key": fmt.Sprintf("f%02d", i), "label": "F", "type": "bool"})
		}
		resp := b.app.Post(t, "/v1/custom-fields", b.tn.AdminToken, map[string]any{"key": "one_more", "label": "F", "type": "bool"})
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Equal(t, "limit_reached", resp.Map(t)["code"])
		require.Len(t, b.keys(t, b.tn.AdminToken, "200"), settings.MaxFields)

		// The limit is per tenant, and a deletion makes room again.
		other := b.app.Signup(t)
		b.createField(t, other.AdminToken, map[string]any{"key": "one_more", "label": "F", "type": "bool"})
		var first struct{ Items []struct{ ID string } }
		b.app.Get(t, "/v1/custom-fields?limit=1", b.tn.AdminToken).JSON(t, &first)
		require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/custom-fields/"+first.Items[0].ID, b.tn.AdminToken).Status)
		b.createField(t, b.tn.AdminToken, map[string]any{"key": "one_more", "label": "F", "type": "bool"})
	})
	t.Run("LimitUnderConcurrency", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for i := range settings.MaxFields - 2 {
			b.createField(t, b.tn.AdminToken, map[string]any{"key": fmt.Sprintf("f%02d", i), "label": "F", "type": "bool"})
		}
		// Requests go through the Fiber app directly: apptest's helpers
		// call require, which must not run outside the test goroutine.
		const n = 8
		statuses := make(chan int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := fmt.Sprintf(`{"key": "late%d", "label": "L", "type": "bool"}`, i)
				req := httptest.NewRequest(http.MethodPost, "/v1/custom-fields", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+b.tn.AdminToken)
				resp, err := b.app.Server.App.Test(req, -1)
				if err != nil {
					statuses <- 0
					return
				}
				_ = resp.Body.Close()
				statuses <- resp.StatusCode
			}()
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		require.Equal(t, map[int]int{http.StatusCreated: 2, http.StatusConflict: n - 2}, count)
		require.Len(t, b.keys(t, b.tn.AdminToken, "200"), settings.MaxFields)
	})
	t.Run("DeleteRemovesValues", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tier := b.createField(t, b.tn.AdminToken, map[string]any{"key": "tier", "label": "Tier", "type": "select", "options": []string{"gold"}})
		b.createField(t, b.tn.AdminToken, map[string]any{"key": "note", "label": "Note", "type": "text"})

		// The deleting user manages settings but sees only their own
		// customers: the values of the others must go too.
		role := b.app.Post(t, "/v1/roles", b.tn.AdminToken, map[string]any{"name": "configurator", "permissions": []string{"settings:manage", "customers:read"}})
		require.Equal(t, http.StatusCreated, role.Status, "%s", role.Body)
		configurator := b.app.CreateUser(t, b.tn, "configurator", map[string]any{"visibility": "assigned"})
		hidden := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Hidden"})
		own := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Own", "sales_rep_id": configurator.ID})
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/customers/"+hidden["id"].(string), configurator.Token).Status)
		b.setCustom(t, b.tn, hidden["id"], `{"tier":"gold","note":"keep me"}`)
		b.setCustom(t, b.tn, own["id"], `{"tier":"gold"}`)

		// Another tenant's customer with the same key is not touched.
		other := b.app.Signup(t)
		b.createField(t, other.AdminToken, map[string]any{"key": "tier", "label": "Tier", "type": "text"})
		elsewhere := b.app.CreateCustomer(t, other.AdminToken, map[string]any{"name": "Elsewhere"})
		b.setCustom(t, other, elsewhere["id"], `{"tier":"platinum"}`)

		path := "/v1/custom-fields/" + tier["id"].(string)
		require.Equal(t, http.StatusNoContent, b.app.Delete(t, path, configurator.Token).Status)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, path, b.tn.AdminToken).Status)
		require.Equal(t, map[string]any{"note": "keep me"}, b.custom(t, b.tn, hidden["id"]))
		require.Equal(t, map[string]any{}, b.custom(t, b.tn, own["id"]))
		require.Equal(t, map[string]any{"tier": "platinum"}, b.custom(t, other, elsewhere["id"]))
		require.Equal(t, []string{"note"}, b.keys(t, b.tn.AdminToken, "50"))

		// The key is free again.
		b.createField(t, b.tn.AdminToken, map[string]any{"key": "tier", "label": "Tier", "type": "bool"})
		require.Equal(t, http.StatusNotFound, b.app.Delete(t, path, b.tn.AdminToken).Status)
	})
	t.Run("OtherTenant", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := b.createField(t, b.tn.AdminToken, map[string]any{"key": "region", "label": "Region", "type": "text"})
		other := b.app.Signup(t)
		path := "/v1/custom-fields/" + f["id"].(string)
		for _, resp := range []*apptest.Response{
			b.app.Get(t, path, other.AdminToken),
			b.app.Patch(t, path, other.AdminToken, `"1"`, map[string]any{"label": "Mine now"}),
			b.app.Delete(t, path, other.AdminToken),
		} {
			require.Equal(t, http.StatusNotFound, resp.Status, "%s", resp.Body)
			require.Equal(t, "not_found", resp.Map(t)["code"])
		}
		require.Empty(t, b.keys(t, other.AdminToken, "50"))
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/custom-fields/"+uuid.NewString(), b.tn.AdminToken).Status)
		got := b.app.Get(t, path, b.tn.AdminToken).Map(t)
		require.Equal(t, "Region", got["label"])
		require.EqualValues(t, 1, got["version"])
	})
	t.Run("Permissions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := b.createField(t, b.tn.AdminToken, map[string]any{"key": "region", "label": "Region", "type": "text"})
		path := "/v1/custom-fields/" + f["id"].(string)
		manager := b.app.CreateUser(t, b.tn, "manager", nil)
		require.Equal(t, http.StatusOK, b.app.Get(t, path, manager.Token).Status)
		require.Equal(t, http.StatusForbidden, b.app.Post(t, "/v1/custom-fields", manager.Token, map[string]any{"key": "x", "label": "X", "type": "text"}).Status)
		require.Equal(t, http.StatusForbidden, b.app.Patch(t, path, manager.Token, `"1"`, map[string]any{"label": "X"}).Status)
		require.Equal(t, http.StatusForbidden, b.app.Delete(t, path, manager.Token).Status)
	})
	t.Run("IdempotentReplay", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		post := func(body map[string]any) *apptest.Response {
			return b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/custom-fields", Token: b.tn.AdminToken, Body: body,
				Headers: map[string]string{"Idempotency-Key": "field-region"}})
		}
		body := map[string]any{"key": "region", "label": "Region", "type": "text"}
		first := post(body)
		require.Equal(t, http.StatusCreated, first.Status, "%s", first.Body)
		again := post(body)
		require.Equal(t, http.StatusCreated, again.Status, "%s", again.Body)
		require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
		require.Equal(t, string(first.Body), string(again.Body))
		require.Equal(t, http.StatusUnprocessableEntity, post(map[string]any{"key": "other", "label": "Other", "type": "text"}).Status)
		require.Equal(t, []string{"region"}, b.keys(t, b.tn.AdminToken, "50"))
	})
}

// TestEnv checks what the customer package relies on: Env loads the
// definitions, values stored through ApplyCustom are found by the filter
// CustomFilter builds, however the number was typed.
func TestEnv(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createField(t, b.tn.AdminToken, map[string]any{"key": "size", "label": "Size", "type": "number", "position": 2})
	b.createField(t, b.tn.AdminToken, map[string]any{"key": "vip", "label": "VIP", "type": "bool", "position": 1})
	require.Equal(t, http.StatusOK, b.app.Patch(t, "/v1/settings", b.tn.AdminToken, `"1"`, map[string]any{"required_fields": []string{"email"}}).Status)
	c1 := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "One", "email": "one@example.com"})
	c2 := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Two", "email": "two@example.com"})
	other := b.app.Signup(t)

	svc := settings.NewService(slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
		env, err := svc.Env(ctx, tx)
		require.NoError(t, err)
		require.Equal(t, []string{"email"}, env.Settings.RequiredFields)
		require.True(t, env.Settings.Requires("email"))
		require.False(t, env.Settings.Requires("phone"))
		require.Equal(t, "US", env.Settings.DefaultCountry)
		require.Len(t, env.Fields, 2)
		require.Equal(t, "vip", env.Fields[0].Key, "by position")
		require.Equal(t, "size", env.Fields[1].Key)

		for id, size := range map[any]string{c1["id"]: `"1.50"`, c2["id"]: `2`} {
			custom, errs := env.ApplyCustom(nil, map[string]json.RawMessage{"size": json.RawMessage(size), "vip": json.RawMessage(`true`)})
			require.Empty(t, errs)
			if _, err := tx.Exec(ctx, `UPDATE customers SET custom = $1 WHERE tenant_id = $2 AND id = $3`, custom, tx.TenantID(), id); err != nil {
				return err
			}
		}
		for _, q := range []string{"1.5", "1.50", "01.5"} {
			filter, errs := env.CustomFilter(map[string]string{"size": q, "vip": "true"})
			require.Empty(t, errs)
			var ids []uuid.UUID
			rows, err := tx.Query(ctx, `SELECT id FROM customers WHERE tenant_id = $1 AND custom @> $2`, tx.TenantID(), filter)
			require.NoError(t, err)
			for rows.Next() {
				var id uuid.UUID
				require.NoError(t, rows.Scan(&id))
				ids = append(ids, id)
			}
			require.NoError(t, rows.Err())
			require.Equal(t, []uuid.UUID{uuid.MustParse(c1["id"].(string))}, ids, "size=%s", q)
		}
		var stored []byte
		require.NoError(t, tx.QueryRow(ctx, `SELECT custom FROM customers WHERE tenant_id = $1 AND id = $2`, tx.TenantID(), c1["id"]).Scan(&stored))
		require.Equal(t, map[string]any{"size": json.Number("1.5"), "vip": true}, env.Visible(stored))
		return nil
	})
	b.tx(t, other, func(ctx context.Context, tx database.Tx) error {
		env, err := svc.Env(ctx, tx)
		require.NoError(t, err)
		require.Empty(t, env.Fields, "another tenant's definitions")
		require.Empty(t, env.Settings.RequiredFields)
		return nil
	})
}

// TestEnvFollowsChanges: a process keeps each tenant's settings and field
// definitions between requests (checked against the versions each
// request's authentication reads): a change is in force from the next
// request on, for field definitions and settings alike.
func TestEnvFollowsChanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.tn.AdminToken
	create := func(body map[string]any) *apptest.Response {
		return b.app.Post(t, "/v1/customers", tok, body)
	}
	withTier := map[string]any{"name": "Tiered", "email": "t@example.com", "custom": map[string]any{"tier": "gold"}}

	resp := create(withTier)
	require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
	require.Contains(t, string(resp.Body), "custom.tier")
	// Read twice more so that the copy is certainly kept.
	require.Equal(t, http.StatusBadRequest, create(withTier).Status)

	field := b.createField(t, tok, map[string]any{"key": "tier", "label": "Tier", "type": "text"})
	resp = create(withTier)
	require.Equal(t, http.StatusCreated, resp.Status, "a new field is known at once: %s", resp.Body)

	require.Equal(t, http.StatusOK, b.app.Patch(t, "/v1/settings", tok, `*`, map[string]any{"required_fields": []string{"email"}}).Status)
	resp = create(map[string]any{"name": "No mail"})
	require.Equal(t, http.StatusBadRequest, resp.Status, "a new setting is in force at once: %s", resp.Body)
	require.Contains(t, string(resp.Body), "email")

	require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/custom-fields/"+field["id"].(string), tok).Status)
	resp = create(withTier)
	require.Equal(t, http.StatusBadRequest, resp.Status, "a deleted field is unknown at once: %s", resp.Body)
}
