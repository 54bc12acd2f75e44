package customer_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// setFigures writes figures the order and payment work maintains (not
// writable through the API), inside the tenant's own scope.
func setFigures(t *testing.T, app *apptest.App, tn apptest.Tenant, id string, balance, total string, lastOrder *time.Time, extra string, args ...any) {
	t.Helper()
	err := database.WithTenantTx(context.Background(), app.DB.App, database.SystemScope(uuid.MustParse(tn.ID)),
		func(ctx context.Context, tx database.Tx) error {
			q := `UPDATE customers SET balance = $2, total_order_value = $3, last_order_at = $4` + extra + ` WHERE id = $1`
			tag, err := tx.Exec(ctx, q, append([]any{id, balance, total, lastOrder}, args...)...)
			require.EqualValues(t, 1, tag.RowsAffected())
			return err
		})
	require.NoError(t, err)
}

type listPage struct {
	Items      []map[string]any `json:"items"`
	NextCursor *string          `json:"next_cursor"`
	Total      *int64           `json:"total"`
	TotalExact *bool            `json:"total_exact"`
}

// collect pages through a list and returns the ids in order.
func collect(t *testing.T, app *apptest.App, token, query string, limit int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for pages := 0; pages < 100; pages++ {
		path := fmt.Sprintf("/v1/customers?limit=%d&%s", limit, query)
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		resp := app.Get(t, path, token)
		require.Equal(t, http.StatusOK, resp.Status, "%s: %s", path, resp.Body)
		var page listPage
		resp.JSON(t, &page)
		require.LessOrEqual(t, len(page.Items), limit)
		for _, it := range page.Items {
			ids = append(ids, it["id"].(string))
		}
		if page.NextCursor == nil {
			return ids
		}
		cursor = url.QueryEscape(*page.NextCursor)
	}
	t.Fatal("too many pages")
	return nil
}

type sortRow struct {
	id, name, code string
	balance, total decimal.Decimal
	lastOrder      *time.Time
	created        time.Time
}

// TestSorts checks every sort in both directions, paged with cursors,
// against the order computed here, including ties (broken by id) and
// customers without orders (last_order_at null sorts first ascending).
func TestSorts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var rows []sortRow
	for i := 0; i < 9; i++ {
		c := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": fmt.Sprintf("Cust %c", 'A'+(i*5)%9), "code": fmt.Sprintf("K%02d", (i*7)%9)})
		bal := decimal.NewFromInt(int64((i % 3) * 100)) // ties on purpose
		total := decimal.NewFromInt(int64(i * 10))
		var last *time.Time
		if i%4 != 0 {
			lt := base.Add(time.Duration(i%5) * 24 * time.Hour)
			last = &lt
		}
		setFigures(t, b.app, b.tn, c["id"].(string), bal.String(), total.String(), last, "")
		created, err := time.Parse(time.RFC3339Nano, c["created_at"].(string))
		require.NoError(t, err)
		rows = append(rows, sortRow{id: c["id"].(string), name: c["name"].(string), code: c["code"].(string),
			balance: bal, total: total, lastOrder: last, created: created})
	}
	lastKey := func(r sortRow) time.Time {
		if r.lastOrder == nil {
			return time.Time{}
		}
		return *r.lastOrder
	}
	less := map[string]func(a, b sortRow) int{
		"code":              func(a, b sortRow) int { return strings.Compare(a.code, b.code) },
		"balance":           func(a, b sortRow) int { return a.balance.Cmp(b.balance) },
		"total_order_value": func(a, b sortRow) int { return a.total.Cmp(b.total) },
		"last_order_at":     func(a, b sortRow) int { return lastKey(a).Compare(lastKey(b)) },
		"created_at":        func(a, b sortRow) int { return a.created.Compare(b.created) },
	}
	for col, cmp := range less {
		for _, desc := range []bool{false, true} {
			sortParam := col
			if desc {
				sortParam = "-" + col
			}
			t.Run(sortParam, func(t *testing.T) {
				want := append([]sortRow(nil), rows...)
				sort.SliceStable(want, func(i, j int) bool {
					c := cmp(want[i], want[j])
					if c == 0 {
						c = strings.Compare(want[i].id, want[j].id)
					}
					if desc {
						return c > 0
					}
					return c < 0
				})
				var wantIDs []string
				for _, r := range want {
					wantIDs = append(wantIDs, r.id)
				}
				require.Equal(t, wantIDs, collect(t, b.app, b.tn.AdminToken, "sort="+sortParam, 2))
			})
		}
	}
	// Name and updated_at depend on the database's collation and clock:
	// check both directions are exact reverses and cover every row once.
	for _, col := range []string{"name", "updated_at"} {
		t.Run(col, func(t *testing.T) {
			asc := collect(t, b.app, b.tn.AdminToken, "sort="+col, 2)
			desc := collect(t, b.app, b.tn.AdminToken, "sort=-"+col, 3)
			require.Len(t, asc, len(rows))
			for i := range asc {
				require.Equal(t, asc[i], desc[len(desc)-1-i])
			}
		})
	}
	t.Run("CursorOfAnotherSort", func(t *testing.T) {
		var page listPage
		b.app.Get(t, "/v1/customers?limit=2&sort=balance", b.tn.AdminToken).JSON(t, &page)
		resp := b.app.Get(t, "/v1/customers?limit=2&sort=-code&cursor="+url.QueryEscape(*page.NextCursor), b.tn.AdminToken)
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Contains(t, string(resp.Body), `"field":"cursor"`)
	})
}

// TestKeysetUnderConcurrentWrites: rows added or deleted between pages do
// not make the pager repeat or skip the rows that stayed.
func TestKeysetUnderConcurrentWrites(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var original []string
	for i := 0; i < 10; i++ {
		c := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": fmt.Sprintf("Row %02d", i*2)})
		original = append(original, c["id"].(string))
	}
	seen := map[string]int{}
	cursor := ""
	for page := 0; page < 20; page++ {
		path := "/v1/customers?limit=3&sort=name"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var p listPage
		b.app.Get(t, path, b.tn.AdminToken).JSON(t, &p)
		for _, it := range p.Items {
			seen[it["id"].(string)]++
		}
		// Between pages: insert rows before and after the cursor, delete
		// a row not seen yet... except the originals, which must all show.
		b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": fmt.Sprintf("Row %02d", page*2+1)})
		b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Row 00 early " + fmt.Sprint(page)})
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	for _, id := range original {
		require.Equal(t, 1, seen[id], "row %s seen once", id)
	}
	for id, n := range seen {
		require.Equal(t, 1, n, "no row twice: %s", id)
	}
}

func TestFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rep := b.app.CreateUser(t, b.tn, "sales_rep", nil)
	now := time.Now().UTC()
	recent, old := now.AddDate(0, -1, 0), now.AddDate(-2, 0, 0)
	mk := func(body map[string]any, balance, overdue string, last *time.Time, country string) string {
		c := b.app.CreateCustomer(t, b.tn.AdminToken, body)
		id := c["id"].(string)
		setFigures(t, b.app, b.tn, id, balance, "0", last, ", overdue_amount = $5, country = nullif($6, '')", overdue, country)
		return id
	}
	owes := mk(map[string]any{"name": "Owes Ltd", "type": "company", "billing_status": "on_hold", "sales_rep_id": rep.ID}, "150.00", "50.00", &recent, "DE")
	credit := mk(map[string]any{"name": "Credit Person", "type": "individual", "kind": "both", "billing_status": "current"}, "-20.00", "0", &old, "US")
	dormant := mk(map[string]any{"name": "Sleepy Co", "status": "dormant"}, "0", "0", nil, "")
	vendor := mk(map[string]any{"name": "Supplier GmbH", "kind": "vendor", "tax_number": "DE 123-456"}, "0", "0", nil, "DE")

	cases := []struct {
		name  string
		query string
		want  []string
	}{
		{"DefaultHidesDormant", "", []string{credit, owes, vendor}},
		{"StatusDormant", "status=dormant", []string{dormant}},
		{"StatusAll", "status=all", []string{credit, owes, dormant, vendor}},
		{"StatusList", "status=active,dormant", []string{credit, owes, dormant, vendor}},
		{"Type", "type=individual", []string{credit}},
		{"Kind", "kind=vendor", []string{vendor}},
		{"SalesRep", "sales_rep_id=" + rep.ID, []string{owes}},
		{"BillingStatus", "billing_status=on_hold", []string{owes}},
		{"Country", "country=de", []string{owes, vendor}},
		{"HasBalance", "has_balance=true", []string{owes}},
		{"HasCredit", "has_credit=true", []string{credit}},
		{"Overdue", "overdue=true", []string{owes}},
		{"NotOverdue", "overdue=false", []string{credit, vendor}},
		{"Engaged", "engaged=true", []string{owes}},
		{"NotEngaged", "engaged=false", []string{credit, vendor}},
		{"LastOrderRange", "last_order_from=" + old.AddDate(0, 0, -1).Format(time.DateOnly) + "&last_order_to=" + old.Format(time.DateOnly), []string{credit}},
		{"SearchTaxNumber", "q=de%20123", []string{vendor}},
		{"SearchCaseInsensitive", "q=SLEEPY&status=all", []string{dormant}},
		{"Combined", "has_balance=true&type=individual", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := collect(t, b.app, b.tn.AdminToken, tc.query+"&sort=name", 50)
			if tc.want == nil {
				require.Empty(t, got)
				return
			}
			require.Equal(t, tc.want, got)
		})
	}
	t.Run("BadValuesNamed", func(t *testing.T) {
		for query, field := range map[string]string{
			"type=robot": "type", "status=gone": "status", "has_balance=maybe": "has_balance",
			"last_order_from=yesterday": "last_order_from", "sales_rep_id=x": "sales_rep_id", "sort=colour": "sort",
			"count=some": "count", "fields=secret": "fields", "group.=x": "group.",
		} {
			resp := b.app.Get(t, "/v1/customers?"+query, b.tn.AdminToken)
			require.Equal(t, http.StatusBadRequest, resp.Status, query)
			require.Contains(t, string(resp.Body), `"field":"`+field+`"`, query)
		}
	})
	t.Run("FieldsAndCount", func(t *testing.T) {
		var page listPage
		b.app.Get(t, "/v1/customers?fields=name,balance&count=exact&sort=-balance", b.tn.AdminToken).JSON(t, &page)
		require.Equal(t, map[string]any{"id": owes, "name": "Owes Ltd", "balance": "150.00"}, page.Items[0])
		require.EqualValues(t, 3, *page.Total)
		require.True(t, *page.TotalExact)
		b.app.Get(t, "/v1/customers?count=estimated&status=all&limit=1", b.tn.AdminToken).JSON(t, &page)
		require.EqualValues(t, 4, *page.Total)
	})
	t.Run("RepSeesOwnOnly", func(t *testing.T) {
		require.Equal(t, []string{owes}, collect(t, b.app, rep.Token, "status=all", 50))
		require.Equal(t, []string{owes}, collect(t, b.app, rep.Token, "q=ltd", 50))
		require.Empty(t, collect(t, b.app, rep.Token, "q=supplier", 50), "search applies visibility")
	})
}

// TestSearch covers every searchable field and the path for common terms
// (more matches than are passed as ids).
func TestSearch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{
		"name": "Zephyr Trading", "code": "ZT-77", "contact_name": "Quentin Blake", "email": "ops@zephyr.example",
		"phone": "+44 20 7946 0958", "tax_number": "GB999",
	})
	setFigures(t, b.app, b.tn, c["id"].(string), "0", "0", nil, ", city = 'Kilkenny'")
	b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Other Co"})
	for _, q := range []string{"zephyr", "zt-77", "quentin", "ops@zeph", "7946", "gb999", "kilkenny", "PHYR TRA"} {
		require.Equal(t, []string{c["id"].(string)}, collect(t, b.app, b.tn.AdminToken, "q="+url.QueryEscape(q), 10), q)
	}
	require.Empty(t, collect(t, b.app, b.tn.AdminToken, "q=nothing-like-this", 10))
	// Another tenant's customer never matches.
	other := b.app.Signup(t)
	require.Empty(t, collect(t, b.app, other.AdminToken, "q=zephyr", 10))
}

func TestSearchManyMatches(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	tn := app.Signup(t)
	// More matches than the search hands over as ids (5,000): loaded in
	// bulk inside the tenant's scope, then found through the list.
	err := database.WithTenantTx(context.Background(), app.DB.App, database.SystemScope(uuid.MustParse(tn.ID)),
		func(ctx context.Context, tx database.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, code, name, balance, custom)
				SELECT $1, gen_random_uuid(), 'B' || g, 'Bulk widget ' || g, g, '{}' FROM generate_series(1, 5100) g
				ON CONFLICT ON CONSTRAINT customers_pkey DO NOTHING`, tn.ID) // (ON CONFLICT: Citus then need not COPY under row-level security)
			return err
		})
	require.NoError(t, err)
	var page listPage
	resp := app.Get(t, "/v1/customers?q=widget&sort=-balance&limit=3&count=exact", tn.AdminToken)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &page)
	require.EqualValues(t, 5100, *page.Total)
	require.Equal(t, "Bulk widget 5100", page.Items[0]["name"])
	require.Equal(t, "Bulk widget 5099", page.Items[1]["name"])
	// Paging through a common search (walking the balance index) visits
	// every match once, in order.
	ids := collect(t, app, tn.AdminToken, "q=widget&sort=-balance", 200)
	require.Len(t, ids, 5100)
	seen := map[string]bool{}
	for _, id := range ids {
		require.False(t, seen[id])
		seen[id] = true
	}
	// With another filter, common matches are filtered while walking the
	// sort index; few matches are passed as ids.
	app.Get(t, "/v1/customers?q=widget&type=company&sort=-balance&limit=2", tn.AdminToken).JSON(t, &page)
	require.Equal(t, "Bulk widget 5100", page.Items[0]["name"])
	app.Get(t, "/v1/customers?q="+url.QueryEscape("widget 42")+"&type=company&sort=balance&limit=200", tn.AdminToken).JSON(t, &page)
	require.Len(t, page.Items, 111)
	require.Equal(t, "Bulk widget 42", page.Items[0]["name"])
	// "widget 42" matches 42, 420-429 and 4200-4299.
	app.Get(t, "/v1/customers?q="+url.QueryEscape("widget 42")+"&sort=-balance&limit=200", tn.AdminToken).JSON(t, &page)
	require.Len(t, page.Items, 111)
}
