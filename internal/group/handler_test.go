package group_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/group"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type testBundle struct {
	app *apptest.App
	tn  apptest.Tenant
	svc *group.Service
}

func setup(t *testing.T) testBundle {
	t.Helper()
	app := apptest.New(t, dbtest.Shared(t), nil)
	return testBundle{app: app, tn: app.Signup(t), svc: group.NewService(slog.New(slog.DiscardHandler))}
}

// inTx runs fn in a committed transaction of the bundle's tenant that sees
// every row (database.SystemScope), as the customer package's writes do.
func (b testBundle) inTx(t *testing.T, fn func(ctx context.Context, tx database.Tx) error) {
	t.Helper()
	require.NoError(t, b.inScope(database.SystemScope(uuid.MustParse(b.tn.ID)), fn))
}

func (b testBundle) inScope(s database.Scope, fn func(ctx context.Context, tx database.Tx) error) error {
	return database.WithTenantTx(context.Background(), b.app.DB.App, s, fn)
}

// createGroup creates a group as the tenant's admin.
func (b testBundle) createGroup(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	resp := b.app.Post(t, "/v1/customer-groups", b.tn.AdminToken, body)
	require.Equal(t, http.StatusCreated, resp.Status, "create group: %s", resp.Body)
	return resp.Map(t)
}

type groupPage struct {
	Items []struct {
		ID            string `json:"id"`
		Code          string `json:"code"`
		Name          string `json:"name"`
		CustomerCount int    `json:"customer_count"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func (b testBundle) list(t *testing.T, token string, query url.Values) groupPage {
	t.Helper()
	resp := b.app.Get(t, "/v1/customer-groups?"+query.Encode(), token)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var page groupPage
	resp.JSON(t, &page)
	return page
}

func (p groupPage) codes() []string {
	out := []string{}
	for _, it := range p.Items {
		out = append(out, it.Code)
	}
	return out
}

// fieldCodes maps each field named in a problem body to its error code.
func fieldCodes(t *testing.T, resp *apptest.Response) map[string]string {
	t.Helper()
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

func TestCreate(t *testing.T) {
	t.Parallel()

	t.Run("Success", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tid := uuid.MustParse(b.tn.ID)
		priceList, terms := uuid.New(), uuid.New()
		b.inTx(t, func(ctx context.Context, tx database.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO price_lists (tenant_id, id, code, name, currency) VALUES ($1, $2, 'RETAIL', 'Retail', 'USD')`, tid, priceList); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO payment_terms (tenant_id, id, code, name, due_days) VALUES ($1, $2, 'NET30', 'Net 30', 30)`, tid, terms)
			return err
		})
		resp := b.app.Post(t, "/v1/customer-groups", b.tn.AdminToken, map[string]any{
			"category": "region", "code": " L001 ", "name": " Lokal 1 ", "price_list_id": priceList, "payment_terms_id": terms,
			"credit_limit": "5000", "credit_days": 30, "discount_rate": 2.5,
		})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		require.Equal(t, `"1"`, resp.Header.Get("ETag"))
		g := resp.Map(t)
		require.Equal(t, "/v1/customer-groups/"+g["id"].(string), resp.Header.Get("Location"))
		require.Equal(t, "region", g["category"])
		require.Equal(t, "Region", g["category_name"])
		require.Equal(t, "L001", g["code"])
		require.Equal(t, "Lokal 1", g["name"])
		require.Equal(t, priceList.String(), g["price_list_id"])
		require.Equal(t, terms.String(), g["payment_terms_id"])
		require.Equal(t, "5000.00", g["credit_limit"])
		require.EqualValues(t, 30, g["credit_days"])
		require.Equal(t, "2.50", g["discount_rate"])
		require.EqualValues(t, 0, g["customer_count"])
		require.EqualValues(t, 1, g["version"])

		got := b.app.Get(t, "/v1/customer-groups/"+g["id"].(string), b.tn.AdminToken)
		require.Equal(t, http.StatusOK, got.Status)
		require.Equal(t, `"1"`, got.Header.Get("ETag"))
		require.Equal(t, g, got.Map(t))
	})
	t.Run("DefaultsAreNull", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		g := b.createGroup(t, map[string]any{"category": "segment", "code": "VIP", "name": "VIP Customers"})
		for _, f := range []string{"price_list_id", "payment_terms_id", "credit_limit", "credit_days", "discount_rate"} {
			require.Contains(t, g, f)
			require.Nil(t, g[f], f)
		}
	})
	t.Run("CategoryCreatedOnTheFly", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.createGroup(t, map[string]any{"category": "region", "code": "L001", "name": "Lokal 1"})
		g := b.createGroup(t, map[string]any{"category": " Customer_Vendor ", "code": "C", "name": "Customers"})
		require.Equal(t, "customer_vendor", g["category"])
		require.Equal(t, "Customer vendor", g["category_name"])
		b.createGroup(t, map[string]any{"category": "CUSTOMER_VENDOR", "code": "V", "name": "Vendors"})

		var cats struct {
			Items []struct {
				Key, Name  string
				Position   int
				GroupCount int `json:"group_count"`
			}
		}
		b.app.Get(t, "/v1/customer-group-categories", b.tn.AdminToken).JSON(t, &cats)
		require.Len(t, cats.Items, 2)
		require.Equal(t, "region", cats.Items[0].Key)
		require.Equal(t, 1, cats.Items[0].Position)
		require.Equal(t, 1, cats.Items[0].GroupCount)
		require.Equal(t, "customer_vendor", cats.Items[1].Key)
		require.Equal(t, "Customer vendor", cats.Items[1].Name)
		require.Equal(t, 2, cats.Items[1].Position, "a new category goes to the end of the fallback order")
		require.Equal(t, 2, cats.Items[1].GroupCount)
	})
	t.Run("CodeTakenPerCategory", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.createGroup(t, map[string]any{"category": "region", "code": "L001", "name": "Lokal 1"})
		resp := b.app.Post(t, "/v1/customer-groups", b.tn.AdminToken, map[string]any{"category": "Region", "code": "L001", "name": "Again"})
		require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)
		require.Equal(t, "code_taken", resp.Map(t)["code"])
		require.Equal(t, map[string]string{"code": "code_taken"}, fieldCodes(t, resp))
		// The same code in another category, or another tenant, is fine.
		b.createGroup(t, map[string]any{"category": "level", "code": "L001", "name": "Level 1"})
		other := b.app.Signup(t)
		resp = b.app.Post(t, "/v1/customer-groups", other.AdminToken, map[string]any{"category": "region", "code": "L001", "name": "Lokal 1"})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	})
	t.Run("ValidationErrors", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Post(t, "/v1/customer-groups", b.tn.AdminToken, map[string]any{
			"category": "9region", "code": "has space", "name": " ", "credit_limit": "-1", "credit_days": 3651, "discount_rate": "12.345",
		})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		require.Equal(t, "validation_failed", resp.Map(t)["code"])
		require.Equal(t, map[string]string{
			"category": "invalid_category", "code": "invalid_code", "name": "required",
			"credit_limit": "out_of_range", "credit_days": "out_of_range", "discount_rate": "too_precise",
		}, fieldCodes(t, resp))

		resp = b.app.Post(t, "/v1/customer-groups", b.tn.AdminToken, map[string]any{
			"category": "region", "code": "X", "name": "Y", "credit_limit": "1,000", "discount_rate": 100.01, "credit_days": -1,
		})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		require.Equal(t, map[string]string{
			"credit_limit": "invalid_decimal", "discount_rate": "out_of_range", "credit_days": "out_of_range",
		}, fieldCodes(t, resp))

		resp = b.app.Post(t, "/v1/customer-groups", b.tn.AdminToken, map[string]any{"credit_limit": "10.005"})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		require.Equal(t, map[string]string{
			"category": "required", "code": "required", "name": "required", "credit_limit": "too_precise",
		}, fieldCodes(t, resp))

		resp = b.app.Post(t, "/v1/customer-groups", b.tn.AdminToken, map[string]any{"category": "region", "code": "X", "name": "Y", "credit_days": "30"})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		require.Equal(t, map[string]string{"credit_days": "invalid_type"}, fieldCodes(t, resp))

		resp = b.app.Post(t, "/v1/customer-groups", b.tn.AdminToken, map[string]any{"category": "region", "code": "X", "name": "Y", "id": uuid.New()})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		require.Equal(t, map[string]string{"id": "unknown_field"}, fieldCodes(t, resp))

		// Nothing was created on the way, not even the category.
		var cats struct{ Items []any }
		b.app.Get(t, "/v1/customer-group-categories", b.tn.AdminToken).JSON(t, &cats)
		require.Empty(t, cats.Items)
	})
	t.Run("UnknownReferences", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp := b.app.Post(t, "/v1/customer-groups", b.tn.AdminToken, map[string]any{
			"category": "region", "code": "X", "name": "Y", "price_list_id": uuid.New(),
		})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		require.Equal(t, map[string]string{"price_list_id": "not_found"}, fieldCodes(t, resp))

		// Payment terms of another tenant are as unknown as random ones.
		other := b.app.Signup(t)
		terms := uuid.New()
		require.NoError(t, b.inScope(database.SystemScope(uuid.MustParse(other.ID)), func(ctx context.Context, tx database.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO payment_terms (tenant_id, id, code, name, due_days) VALUES ($1, $2, 'NET30', 'Net 30', 30)`, tx.TenantID(), terms)
			return err
		}))
		resp = b.app.Post(t, "/v1/customer-groups", b.tn.AdminToken, map[string]any{
			"category": "region", "code": "X", "name": "Y", "payment_terms_id": terms,
		})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		require.Equal(t, map[string]string{"payment_terms_id": "not_found"}, fieldCodes(t, resp))
	})
	t.Run("IdempotentReplay", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		body := map[string]any{"category": "region", "code": "L001", "name": "Lokal 1"}
		send := func(body map[string]any) *apptest.Response {
			return b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/v1/customer-groups", Token: b.tn.AdminToken, Body: body,
				Headers: map[string]string{"Idempotency-Key": "create-l001"}})
		}
		first := send(body)
		require.Equal(t, http.StatusCreated, first.Status, "%s", first.Body)
		again := send(body)
		require.Equal(t, http.StatusCreated, again.Status, "%s", again.Body)
		require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
		require.Equal(t, string(first.Body), string(again.Body))
		require.Equal(t, first.Header.Get("ETag"), again.Header.Get("ETag"))
		require.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"))
		require.Len(t, b.list(t, b.tn.AdminToken, nil).Items, 1)

		other := send(map[string]any{"category": "region", "code": "L002", "name": "Lokal 2"})
		require.Equal(t, http.StatusUnprocessableEntity, other.Status, "%s", other.Body)
		require.Equal(t, "idempotency_key_reused", other.Map(t)["code"])
		require.Len(t, b.list(t, b.tn.AdminToken, nil).Items, 1)
	})
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.createGroup(t, map[string]any{"category": "region", "code": "L001", "name": "Lokal 1", "credit_limit": "100.5", "credit_days": 14})
	b.createGroup(t, map[string]any{"category": "region", "code": "L002", "name": "Lokal 2"})
	path := "/v1/customer-groups/" + g["id"].(string)

	t.Run("NeedsIfMatch", func(t *testing.T) {
		resp := b.app.Do(t, apptest.Req{Method: http.MethodPatch, Path: path, Token: b.tn.AdminToken, Body: map[string]any{"name": "X"}})
		require.Equal(t, http.StatusPreconditionRequired, resp.Status)
	})
	t.Run("Success", func(t *testing.T) {
		resp := b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"name": "Local One", "credit_limit": nil, "discount_rate": "5"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, `"2"`, resp.Header.Get("ETag"))
		got := resp.Map(t)
		require.Equal(t, "Local One", got["name"])
		require.Nil(t, got["credit_limit"], "null clears a nullable field")
		require.Equal(t, "5.00", got["discount_rate"])
		require.EqualValues(t, 14, got["credit_days"], "absent fields are left alone")
		require.Equal(t, "L001", got["code"])
		require.Equal(t, "Region", got["category_name"])
	})
	t.Run("Stale", func(t *testing.T) {
		resp := b.app.Patch(t, path, b.tn.AdminToken, `"1"`, map[string]any{"name": "Lost update"})
		require.Equal(t, http.StatusPreconditionFailed, resp.Status)
		require.Equal(t, "Local One", b.app.Get(t, path, b.tn.AdminToken).Map(t)["name"])
	})
	t.Run("CategoryImmutable", func(t *testing.T) {
		resp := b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"category": "segment"})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		require.Equal(t, map[string]string{"category": "immutable"}, fieldCodes(t, resp))
		// Repeating the category (in any case) is fine.
		resp = b.app.Patch(t, path, b.tn.AdminToken, `"2"`, map[string]any{"category": "Region", "credit_days": 21})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, `"3"`, resp.Header.Get("ETag"))
	})
	t.Run("CodeTaken", func(t *testing.T) {
		resp := b.app.Patch(t, path, b.tn.AdminToken, `"3"`, map[string]any{"code": "L002"})
		require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)
		require.Equal(t, "code_taken", resp.Map(t)["code"])
	})
	t.Run("NotNullable", func(t *testing.T) {
		resp := b.app.Patch(t, path, b.tn.AdminToken, `"3"`, map[string]any{"name": nil, "code": nil, "category": nil})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Equal(t, map[string]string{"name": "not_nullable", "code": "not_nullable", "category": "not_nullable"}, fieldCodes(t, resp))
	})
	t.Run("UnknownPriceList", func(t *testing.T) {
		resp := b.app.Patch(t, path, b.tn.AdminToken, `"3"`, map[string]any{"price_list_id": uuid.New()})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Equal(t, map[string]string{"price_list_id": "not_found"}, fieldCodes(t, resp))
	})
	t.Run("Missing", func(t *testing.T) {
		resp := b.app.Patch(t, "/v1/customer-groups/"+uuid.NewString(), b.tn.AdminToken, `"1"`, map[string]any{"name": "X"})
		require.Equal(t, http.StatusNotFound, resp.Status)
		require.Equal(t, "not_found", resp.Map(t)["code"])
	})
	t.Run("Audited", func(t *testing.T) {
		type event struct {
			Action  string
			Changes map[string]map[string]any
		}
		var events []event
		b.inTx(t, func(ctx context.Context, tx database.Tx) error {
			rows, err := tx.Query(ctx, `SELECT action, changes FROM audit_events WHERE entity = 'group' AND entity_id = $1 ORDER BY at, id`, g["id"])
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var e event
				if err := rows.Scan(&e.Action, &e.Changes); err != nil {
					return err
				}
				events = append(events, e)
			}
			return rows.Err()
		})
		require.Len(t, events, 3, "create and two updates; refused writes leave no trace")
		require.Equal(t, "create", events[0].Action)
		require.Equal(t, "L001", events[0].Changes["code"]["to"])
		require.Equal(t, "update", events[1].Action)
		require.Equal(t, map[string]any{"from": "Lokal 1", "to": "Local One"}, events[1].Changes["name"])
		require.Equal(t, map[string]any{"from": "100.50", "to": nil}, events[1].Changes["credit_limit"])
	})
}

func TestListMatchModes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, g := range []struct{ category, code, name string }{
		{"region", "L001", "Lokal 1"},
		{"region", "L002", "Lokal 2"},
		{"region", "L010", "Lokal 10"},
		{"region", "XL01", "Export L"},
		{"segment", "A_1", "Promo 100% Off"},
		{"segment", "AB1", "Promo 1000 Off"},
		{"segment", "lokal", "Local heroes"},
	} {
		b.createGroup(t, map[string]any{"category": g.category, "code": g.code, "name": g.name})
	}
	all := []string{"lokal", "AB1", "A_1", "XL01", "L010", "L002", "L001"}

	for _, tc := range []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"ShowAll", nil, all},
		{"CodeAnyIsDefault", url.Values{"code": {"l0"}}, []string{"XL01", "L010", "L002", "L001"}},
		{"CodeAny", url.Values{"code": {"L0"}, "match": {"any"}}, []string{"XL01", "L010", "L002", "L001"}},
		{"CodePrefix", url.Values{"code": {"l0"}, "match": {"prefix"}}, []string{"L010", "L002", "L001"}},
		{"CodeExact", url.Values{"code": {"l001"}, "match": {"exact"}}, []string{"L001"}},
		{"CodeExactIsWhole", url.Values{"code": {"L00"}, "match": {"exact"}}, []string{}},
		{"CodeUnderscoreLiteralAny", url.Values{"code": {"_"}}, []string{"A_1"}},
		{"CodeUnderscoreLiteralPrefix", url.Values{"code": {"a_"}, "match": {"prefix"}}, []string{"A_1"}},
		{"CodeUnderscoreLiteralExact", url.Values{"code": {"A_1"}, "match": {"EXACT"}}, []string{"A_1"}},
		{"CodePercentLiteral", url.Values{"code": {"%"}}, []string{}},
		{"NameAny", url.Values{"name": {"OKAL"}}, []string{"L010", "L002", "L001"}},
		{"NamePrefix", url.Values{"name": {"lokal 1"}, "match": {"prefix"}}, []string{"L010", "L001"}},
		{"NameExact", url.Values{"name": {"LOKAL 1"}, "match": {"exact"}}, []string{"L001"}},
		{"NamePercentLiteralAny", url.Values{"name": {"0%"}}, []string{"A_1"}},
		{"NamePercentLiteralPrefix", url.Values{"name": {"promo 100%"}, "match": {"prefix"}}, []string{"A_1"}},
		{"NamePercentLiteralExact", url.Values{"name": {"Promo 100% off"}, "match": {"exact"}}, []string{"A_1"}},
		{"NameUnderscoreLiteral", url.Values{"name": {"Lokal_"}}, []string{}},
		{"NameBackslashLiteral", url.Values{"name": {`\`}}, []string{}},
		{"CodeAndName", url.Values{"code": {"L"}, "name": {"lokal"}}, []string{"L010", "L002", "L001"}},
		{"Category", url.Values{"category": {"Segment"}}, []string{"lokal", "AB1", "A_1"}},
		{"CategoryAndCode", url.Values{"category": {"segment"}, "code": {"lokal"}, "match": {"exact"}}, []string{"lokal"}},
		{"UnknownCategory", url.Values{"category": {"level"}}, []string{}},
		{"BlankFilterShowsAll", url.Values{"code": {"  "}, "name": {""}}, all},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, b.list(t, b.tn.AdminToken, tc.query).codes())
		})
	}

	t.Run("BadParameters", func(t *testing.T) {
		for param, query := range map[string]string{
			"match":    "match=fuzzy",
			"category": "category=9x",
			"limit":    "limit=0",
			"cursor":   "cursor=nope",
			"sort":     "sort=name",
		} {
			resp := b.app.Get(t, "/v1/customer-groups?"+query, b.tn.AdminToken)
			require.Equal(t, http.StatusBadRequest, resp.Status, "%s: %s", query, resp.Body)
			require.Contains(t, fieldCodes(t, resp), param, query)
		}
	})
}

func TestListOrderAndPaging(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ids []string
	for _, code := range []string{"G1", "G2", "G3", "G4", "G5", "G6", "G7"} {
		ids = append(ids, b.createGroup(t, map[string]any{"category": "region", "code": code, "name": "Group " + code})["id"].(string))
	}

	t.Run("MostRecentlyModifiedFirst", func(t *testing.T) {
		require.Equal(t, []string{"G7", "G6", "G5", "G4", "G3", "G2", "G1"}, b.list(t, b.tn.AdminToken, nil).codes())
		resp := b.app.Patch(t, "/v1/customer-groups/"+ids[1], b.tn.AdminToken, `"1"`, map[string]any{"name": "Touched"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, []string{"G2", "G7", "G6", "G5", "G4", "G3", "G1"}, b.list(t, b.tn.AdminToken, nil).codes())
	})
	t.Run("CursorVisitsEveryGroupOnce", func(t *testing.T) {
		want := b.list(t, b.tn.AdminToken, nil).codes()
		var got []string
		query := url.Values{"limit": {"3"}}
		pages := 0
		for {
			page := b.list(t, b.tn.AdminToken, query)
			require.LessOrEqual(t, len(page.Items), 3)
			got = append(got, page.codes()...)
			pages++
			if page.NextCursor == nil {
				break
			}
			require.Less(t, pages, 10)
			query.Set("cursor", *page.NextCursor)
		}
		require.Equal(t, 3, pages)
		require.Equal(t, want, got)
	})
	t.Run("CursorKeepsFilters", func(t *testing.T) {
		page := b.list(t, b.tn.AdminToken, url.Values{"limit": {"1"}, "code": {"g"}, "match": {"prefix"}})
		require.Len(t, page.Items, 1)
		require.NotNil(t, page.NextCursor)
	})
}

func TestCustomerCountAndDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rep := b.app.CreateUser(t, b.tn, "sales_rep", nil)
	mine := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Rep's Co", "sales_rep_id": rep.ID})
	theirs := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "House Co"})
	g := b.createGroup(t, map[string]any{"category": "region", "code": "L001", "name": "Lokal 1"})
	b.createGroup(t, map[string]any{"category": "region", "code": "L002", "name": "Lokal 2"})
	path := "/v1/customer-groups/" + g["id"].(string)
	customers := []uuid.UUID{uuid.MustParse(mine["id"].(string)), uuid.MustParse(theirs["id"].(string))}

	code := "L001"
	b.inTx(t, func(ctx context.Context, tx database.Tx) error {
		set, remove, err := b.svc.Resolve(ctx, tx, map[string]*string{"region": &code})
		if err != nil {
			return err
		}
		for _, id := range customers {
			if err := b.svc.SetMemberships(ctx, tx, id, set, remove); err != nil {
				return err
			}
		}
		return nil
	})

	t.Run("CountFollowsVisibility", func(t *testing.T) {
		require.EqualValues(t, 2, b.app.Get(t, path, b.tn.AdminToken).Map(t)["customer_count"])
		require.EqualValues(t, 1, b.app.Get(t, path, rep.Token).Map(t)["customer_count"])
		counts := func(token string) map[string]int {
			out := map[string]int{}
			for _, it := range b.list(t, token, nil).Items {
				out[it.Code] = it.CustomerCount
			}
			return out
		}
		require.Equal(t, map[string]int{"L001": 2, "L002": 0}, counts(b.tn.AdminToken))
		require.Equal(t, map[string]int{"L001": 1, "L002": 0}, counts(rep.Token))
	})
	t.Run("DeleteRefusedWhileMembers", func(t *testing.T) {
		resp := b.app.Delete(t, path, b.tn.AdminToken)
		require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)
		p := resp.Map(t)
		require.Equal(t, "group_in_use", p["code"])
		require.Contains(t, p["detail"], "move them to another group")

		// A role that may write groups but sees no member still cannot
		// orphan the memberships it cannot see.
		role := b.app.Post(t, "/v1/roles", b.tn.AdminToken, map[string]any{"name": "groupkeeper",
			"permissions": []string{"customers:read", "groups:write"}})
		require.Equal(t, http.StatusCreated, role.Status, "%s", role.Body)
		keeper := b.app.CreateUser(t, b.tn, "groupkeeper", map[string]any{"visibility": "assigned"})
		require.EqualValues(t, 0, b.app.Get(t, path, keeper.Token).Map(t)["customer_count"])
		require.Equal(t, http.StatusConflict, b.app.Delete(t, path, keeper.Token).Status)

		require.Equal(t, http.StatusOK, b.app.Get(t, path, b.tn.AdminToken).Status)
	})
	t.Run("DeleteAfterRemoval", func(t *testing.T) {
		b.inTx(t, func(ctx context.Context, tx database.Tx) error {
			set, remove, err := b.svc.Resolve(ctx, tx, map[string]*string{"region": nil})
			if err != nil {
				return err
			}
			require.Empty(t, set)
			require.Equal(t, []string{"region"}, remove)
			for _, id := range customers {
				if err := b.svc.SetMemberships(ctx, tx, id, set, remove); err != nil {
					return err
				}
			}
			return nil
		})
		require.EqualValues(t, 0, b.app.Get(t, path, b.tn.AdminToken).Map(t)["customer_count"])
		require.Equal(t, http.StatusNoContent, b.app.Delete(t, path, b.tn.AdminToken).Status)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, path, b.tn.AdminToken).Status)
		require.Equal(t, http.StatusNotFound, b.app.Delete(t, path, b.tn.AdminToken).Status)
		require.Equal(t, []string{"L002"}, b.list(t, b.tn.AdminToken, nil).codes())
	})
}

func TestPortalSeesOnlyOwnGroups(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cust := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Portal Co"})
	own := b.createGroup(t, map[string]any{"category": "region", "code": "L001", "name": "Lokal 1"})
	other := b.createGroup(t, map[string]any{"category": "segment", "code": "VIP", "name": "VIP", "discount_rate": "20"})
	code := "L001"
	b.inTx(t, func(ctx context.Context, tx database.Tx) error {
		set, remove, err := b.svc.Resolve(ctx, tx, map[string]*string{"region": &code})
		if err != nil {
			return err
		}
		return b.svc.SetMemberships(ctx, tx, uuid.MustParse(cust["id"].(string)), set, remove)
	})
	portal := b.app.CreateUser(t, b.tn, "portal", map[string]any{"customer_id": cust["id"]})

	require.Equal(t, []string{"L001"}, b.list(t, portal.Token, nil).codes())
	require.Equal(t, http.StatusOK, b.app.Get(t, "/v1/customer-groups/"+own["id"].(string), portal.Token).Status)
	require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/customer-groups/"+other["id"].(string), portal.Token).Status)
	var cats struct {
		Items []struct {
			Key        string
			GroupCount int `json:"group_count"`
		}
	}
	b.app.Get(t, "/v1/customer-group-categories", portal.Token).JSON(t, &cats)
	counts := map[string]int{}
	for _, c := range cats.Items {
		counts[c.Key] = c.GroupCount
	}
	require.Equal(t, map[string]int{"region": 1, "segment": 0}, counts)
}

func TestCategories(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, cat := range []string{"region", "segment", "level"} {
		b.createGroup(t, map[string]any{"category": cat, "code": "X", "name": "X"})
	}
	type category struct {
		Key, Name  string
		Position   int
		GroupCount int `json:"group_count"`
		Version    int
	}
	keys := func(query string) ([]string, *string) {
		var page struct {
			Items      []category
			NextCursor *string `json:"next_cursor"`
		}
		resp := b.app.Get(t, "/v1/customer-group-categories"+query, b.tn.AdminToken)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		resp.JSON(t, &page)
		out := []string{}
		for _, c := range page.Items {
			out = append(out, c.Key)
		}
		return out, page.NextCursor
	}

	t.Run("FallbackOrder", func(t *testing.T) {
		got, next := keys("")
		require.Equal(t, []string{"region", "segment", "level"}, got)
		require.Nil(t, next)
	})
	t.Run("Patch", func(t *testing.T) {
		path := "/v1/customer-group-categories/level"
		body := map[string]any{"name": " Customer level ", "position": 0}
		require.Equal(t, http.StatusPreconditionRequired, b.app.Do(t, apptest.Req{Method: http.MethodPatch, Path: path, Token: b.tn.AdminToken, Body: body}).Status)
		require.Equal(t, http.StatusPreconditionFailed, b.app.Patch(t, path, b.tn.AdminToken, `"2"`, body).Status)
		resp := b.app.Patch(t, path, b.tn.AdminToken, `"1"`, body)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, `"2"`, resp.Header.Get("ETag"))
		var c category
		resp.JSON(t, &c)
		require.Equal(t, category{Key: "level", Name: "Customer level", Position: 0, GroupCount: 1, Version: 2}, c)
		got, _ := keys("")
		require.Equal(t, []string{"level", "region", "segment"}, got)
		// The change is in the audit trail under the category's id.
		var events struct{ Items []map[string]any }
		b.app.Get(t, "/v1/audit?entity=group_category&id="+resp.Map(t)["id"].(string), b.tn.AdminToken).JSON(t, &events)
		require.Len(t, events.Items, 1)
		require.Equal(t, map[string]any{"from": "Level", "to": "Customer level"}, events.Items[0]["changes"].(map[string]any)["name"])
		// Equal positions fall back to key order.
		resp = b.app.Patch(t, "/v1/customer-group-categories/SEGMENT", b.tn.AdminToken, `"1"`, map[string]any{"position": 0})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		got, _ = keys("")
		require.Equal(t, []string{"level", "segment", "region"}, got)
	})
	t.Run("Paging", func(t *testing.T) {
		var got []string
		query := "?limit=2"
		for range 5 {
			page, next := keys(query)
			got = append(got, page...)
			if next == nil {
				break
			}
			query = "?limit=2&cursor=" + *next
		}
		all, _ := keys("")
		require.Equal(t, all, got)
	})
	t.Run("Errors", func(t *testing.T) {
		patch := func(key string, body any) *apptest.Response {
			return b.app.Patch(t, "/v1/customer-group-categories/"+key, b.tn.AdminToken, `"1"`, body)
		}
		require.Equal(t, http.StatusNotFound, patch("nope", map[string]any{"name": "X"}).Status)
		require.Equal(t, http.StatusNotFound, patch("9-bad", map[string]any{"name": "X"}).Status)
		resp := patch("region", map[string]any{"name": nil, "position": -1})
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Equal(t, map[string]string{"name": "not_nullable"}, fieldCodes(t, resp))
		resp = patch("region", map[string]any{"name": "", "position": -1})
		require.Equal(t, map[string]string{"name": "required", "position": "out_of_range"}, fieldCodes(t, resp))
		resp = patch("region", map[string]any{"key": "zone"})
		require.Equal(t, map[string]string{"key": "unknown_field"}, fieldCodes(t, resp))
	})
}

func TestSalesRepCannotWrite(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.createGroup(t, map[string]any{"category": "region", "code": "L001", "name": "Lokal 1"})
	path := "/v1/customer-groups/" + g["id"].(string)
	rep := b.app.CreateUser(t, b.tn, "sales_rep", nil)

	for _, r := range []apptest.Req{
		{Method: http.MethodPost, Path: "/v1/customer-groups", Body: map[string]any{"category": "region", "code": "L002", "name": "Lokal 2"}},
		{Method: http.MethodPatch, Path: path, Body: map[string]any{"name": "Mine"}, Headers: map[string]string{"If-Match": `"1"`}},
		{Method: http.MethodDelete, Path: path},
		{Method: http.MethodPatch, Path: "/v1/customer-group-categories/region", Body: map[string]any{"position": 9}},
	} {
		r.Token = rep.Token
		resp := b.app.Do(t, r)
		require.Equal(t, http.StatusForbidden, resp.Status, "%s %s: %s", r.Method, r.Path, resp.Body)
		require.Equal(t, "forbidden", resp.Map(t)["code"])
	}
	// Reading is allowed, and nothing changed.
	got := b.app.Get(t, path, rep.Token)
	require.Equal(t, http.StatusOK, got.Status)
	require.EqualValues(t, 1, got.Map(t)["version"])
	require.Equal(t, []string{"L001"}, b.list(t, rep.Token, nil).codes())

	// A manager holds groups:write.
	manager := b.app.CreateUser(t, b.tn, "manager", nil)
	resp := b.app.Patch(t, path, manager.Token, `"1"`, map[string]any{"name": "Managed"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := b.app.Signup(t)
	g := b.createGroup(t, map[string]any{"category": "secret_tier", "code": "GOLD", "name": "Gold"})
	path := "/v1/customer-groups/" + g["id"].(string)

	t.Run("IDRoutesAre404", func(t *testing.T) {
		for _, r := range []apptest.Req{
			{Method: http.MethodGet, Path: path},
			{Method: http.MethodPatch, Path: path, Body: map[string]any{"name": "Stolen"}, Headers: map[string]string{"If-Match": `"1"`}},
			{Method: http.MethodPatch, Path: path, Body: "{}", Headers: map[string]string{"If-Match": `"1"`}},
			{Method: http.MethodDelete, Path: path},
			{Method: http.MethodPatch, Path: "/v1/customer-group-categories/secret_tier", Body: map[string]any{"name": "Stolen"}, Headers: map[string]string{"If-Match": `"1"`}},
		} {
			r.Token = other.AdminToken
			resp := b.app.Do(t, r)
			require.Equal(t, http.StatusNotFound, resp.Status, "%s %s: %s", r.Method, r.Path, resp.Body)
			require.Equal(t, "not_found", resp.Map(t)["code"])
		}
		got := b.app.Get(t, path, b.tn.AdminToken).Map(t)
		require.EqualValues(t, 1, got["version"])
		require.Equal(t, "Gold", got["name"])
		require.Equal(t, "Secret tier", got["category_name"])
	})
	t.Run("ListsDoNotLeak", func(t *testing.T) {
		for _, p := range []string{"/v1/customer-groups", "/v1/customer-groups?code=GOLD&match=exact", "/v1/customer-groups?category=secret_tier",
			"/v1/customer-group-categories"} {
			resp := b.app.Get(t, p, other.AdminToken)
			require.Equal(t, http.StatusOK, resp.Status, "%s: %s", p, resp.Body)
			require.JSONEq(t, `{"items":[],"next_cursor":null}`, string(resp.Body), p)
		}
	})
	t.Run("ResolveDoesNotLeak", func(t *testing.T) {
		code := "GOLD"
		err := b.inScope(database.SystemScope(uuid.MustParse(other.ID)), func(ctx context.Context, tx database.Tx) error {
			_, _, err := b.svc.Resolve(ctx, tx, map[string]*string{"secret_tier": &code})
			return err
		})
		requireFieldErrors(t, err, map[string]string{"groups.secret_tier": "unknown_group"})
	})
	t.Run("SameNamesInOtherTenant", func(t *testing.T) {
		resp := b.app.Post(t, "/v1/customer-groups", other.AdminToken, map[string]any{"category": "secret_tier", "code": "GOLD", "name": "Their gold"})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		require.Equal(t, "Gold", b.app.Get(t, path, b.tn.AdminToken).Map(t)["name"])
	})
}
