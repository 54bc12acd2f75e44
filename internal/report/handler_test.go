package report_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// asOf is the reference date of most tests; days(n) is the date n days
// before it.
var asOf = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

func days(n int) time.Time { return asOf.AddDate(0, 0, -n) }

// ---- fixtures ---------------------------------------------------------------

// fixture is one tenant whose money rows are written with SQL (the order
// API is not what these tests are about).
type fixture struct {
	app *apptest.App
	tn  apptest.Tenant
	tid uuid.UUID
}

func newFixture(t *testing.T, app *apptest.App) *fixture {
	t.Helper()
	tn := app.Signup(t)
	return &fixture{app: app, tn: tn, tid: uuid.MustParse(tn.ID)}
}

// tx runs fn as the tenant's system scope, then brings every customer's
// reach (who sees it, migration 000010) in line with the rows fn wrote, as
// the services do after changing who sees a customer.
func (f *fixture) tx(t *testing.T, fn func(ctx context.Context, tx database.Tx) error) {
	t.Helper()
	require.NoError(t, database.WithTenantTx(context.Background(), f.app.DB.App, database.SystemScope(f.tid),
		func(ctx context.Context, tx database.Tx) error {
			if err := fn(ctx, tx); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `SELECT customer_reach_refresh(array(SELECT id FROM customers WHERE tenant_id = $1))`, f.tid)
			return err
		}))
}

func (f *fixture) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	f.tx(t, func(ctx context.Context, tx database.Tx) error {
		_, err := tx.Exec(ctx, sql, args...)
		return err
	})
}

// customer adds a customer; rep is its sales rep (nil: none).
func (f *fixture) customer(t *testing.T, code, name string, rep *string) uuid.UUID {
	t.Helper()
	id := uuid.New()
	var repID *uuid.UUID
	if rep != nil {
		r := uuid.MustParse(*rep)
		repID = &r
	}
	f.exec(t, `INSERT INTO customers (tenant_id, id, code, name, sales_rep_id) VALUES ($1, $2, $3, $4, $5)`,
		f.tid, id, code, name, repID)
	return id
}

// group adds a group, creating its category when new.
func (f *fixture) group(t *testing.T, category, code, name string) uuid.UUID {
	t.Helper()
	id := uuid.New()
	f.tx(t, func(ctx context.Context, tx database.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO group_categories (tenant_id, key, name) VALUES ($1, $2, $2) ON CONFLICT DO NOTHING`,
			f.tid, category); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO customer_groups (tenant_id, id, category, code, name) VALUES ($1, $2, $3, $4, $5)`,
			f.tid, id, category, code, name)
		return err
	})
	return id
}

func (f *fixture) member(t *testing.T, customer uuid.UUID, category string, group uuid.UUID) {
	t.Helper()
	f.exec(t, `INSERT INTO customer_group_members (tenant_id, customer_id, category, group_id) VALUES ($1, $2, $3, $4)`,
		f.tid, customer, category, group)
}

// order describes a sales order row; zero fields take defaults (USD,
// nothing paid, invoiced, ordered on its due date).
type order struct {
	currency string
	total    string
	paid     string
	due      time.Time
	date     time.Time
	status   string
}

func (f *fixture) order(t *testing.T, customer uuid.UUID, o order) uuid.UUID {
	t.Helper()
	id := uuid.New()
	if o.currency == "" {
		o.currency = "USD"
	}
	if o.paid == "" {
		o.paid = "0"
	}
	if o.status == "" {
		o.status = "invoiced"
	}
	if o.due.IsZero() {
		o.due = o.date
	}
	if o.date.IsZero() {
		o.date = o.due
	}
	f.exec(t, `INSERT INTO sales_orders (tenant_id, id, number, customer_id, currency, order_date, due_date, status, total, paid_amount)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::numeric, $10::numeric)`,
		f.tid, id, "SO-"+id.String()[:13], customer, o.currency, o.date, o.due, o.status, o.total, o.paid)
	return id
}

// payment adds a payment of amount, allocating parts of it to orders
// (the orders' paid_amount is the test's to set).
func (f *fixture) payment(t *testing.T, customer uuid.UUID, currency, amount string, allocations map[uuid.UUID]string) {
	t.Helper()
	id := uuid.New()
	f.tx(t, func(ctx context.Context, tx database.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO payments (tenant_id, id, number, customer_id, amount, currency, received_at)
			VALUES ($1, $2, $3, $4, $5::numeric, $6, $7)`, f.tid, id, "PM-"+id.String()[:13], customer, amount, currency, asOf); err != nil {
			return err
		}
		for orderID, amt := range allocations {
			if _, err := tx.Exec(ctx, `INSERT INTO payment_allocations (tenant_id, payment_id, order_id, amount) VALUES ($1, $2, $3, $4::numeric)`,
				f.tid, id, orderID, amt); err != nil {
				return err
			}
		}
		return nil
	})
}

// repWithReports is a user who sees only their own customers but may read
// reports: a custom role, visibility 'assigned'.
func (f *fixture) repWithReports(t *testing.T) apptest.User {
	t.Helper()
	resp := f.app.Post(t, "/v1/roles", f.tn.AdminToken, map[string]any{
		"name": "field_rep", "permissions": []string{"customers:read", "customers:write", "orders:write", "reports:read"},
	})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	return f.app.CreateUser(t, f.tn, "field_rep", map[string]any{"visibility": "assigned"})
}

// ---- responses --------------------------------------------------------------

type amounts struct {
	Current         string `json:"current"`
	Days1To30       string `json:"1_30"`
	Days31To60      string `json:"31_60"`
	Days61To90      string `json:"61_90"`
	Days90Plus      string `json:"90_plus"`
	Total           string `json:"total"`
	UnappliedCredit string `json:"unapplied_credit"`
	Balance         string `json:"balance"`
}

type groupRef struct {
	ID   string `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

type customerRow struct {
	CustomerID string `json:"customer_id"`
	Code       string `json:"code"`
	Name       string `json:"name"`
	Currency   string `json:"currency"`
	amounts
}

type groupRow struct {
	Category      string    `json:"category"`
	Group         *groupRef `json:"group"`
	Currency      string    `json:"currency"`
	CustomerCount int64     `json:"customer_count"`
	amounts
}

type totalRow struct {
	Currency      string `json:"currency"`
	CustomerCount int64  `json:"customer_count"`
	amounts
}

type receivables struct {
	AsOf       string        `json:"as_of"`
	Category   *string       `json:"category"`
	Customers  []customerRow `json:"customers"`
	NextCursor *string       `json:"next_cursor"`
	Groups     []groupRow    `json:"groups"`
	Totals     []totalRow    `json:"totals"`
}

type salesRow struct {
	Group         *groupRef `json:"group"`
	Currency      string    `json:"currency"`
	OrderCount    int64     `json:"order_count"`
	Total         string    `json:"total"`
	CustomerCount int64     `json:"customer_count"`
}

type sales struct {
	Category string     `json:"category"`
	From     *string    `json:"from"`
	To       *string    `json:"to"`
	Items    []salesRow `json:"items"`
}

type problem struct {
	Code   string
	Errors []struct{ Field, Code string }
}

func (p problem) fields() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

func receivablesPath(params map[string]string) string {
	v := url.Values{}
	for k, p := range params {
		v.Set(k, p)
	}
	return "/v1/reports/receivables?" + v.Encode()
}

func getReceivables(t *testing.T, app *apptest.App, token string, params map[string]string) receivables {
	t.Helper()
	resp := app.Get(t, receivablesPath(params), token)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var r receivables
	resp.JSON(t, &r)
	return r
}

func salesPath(params map[string]string) string {
	v := url.Values{}
	for k, p := range params {
		v.Set(k, p)
	}
	return "/v1/reports/sales-by-group?" + v.Encode()
}

func getSales(t *testing.T, app *apptest.App, token string, params map[string]string) sales {
	t.Helper()
	resp := app.Get(t, salesPath(params), token)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var s sales
	resp.JSON(t, &s)
	return s
}

func zero(a amounts) amounts {
	for _, p := range []*string{&a.Current, &a.Days1To30, &a.Days31To60, &a.Days61To90, &a.Days90Plus, &a.Total, &a.UnappliedCredit, &a.Balance} {
		if *p == "" {
			*p = "0.00"
		}
	}
	return a
}

// ---- receivables ------------------------------------------------------------

func TestReceivablesBuckets(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	f := newFixture(t, app)
	c := f.customer(t, "C-1", "Aging Co", nil)
	// Amounts are powers of two, so every sum says which orders it holds.
	for _, o := range []struct {
		daysPastDue int
		total       string
	}{
		{-10, "1.00"}, {0, "2.00"}, // not yet due, due today: current
		{1, "4.00"}, {30, "8.00"}, // 1-30
		{31, "16.00"}, {60, "32.00"}, // 31-60
		{61, "64.00"}, {90, "128.00"}, // 61-90
		{91, "256.00"}, // over 90
	} {
		f.order(t, c, order{total: o.total, due: days(o.daysPastDue)})
	}
	f.order(t, c, order{total: "1000.00", paid: "999.50", due: days(200), status: "shipped"}) // 0.50 left, over 90
	f.order(t, c, order{total: "5000.00", due: days(10), status: "cancelled"})
	f.order(t, c, order{total: "7000.00", paid: "7000.00", due: days(10), status: "paid"})
	// Not yet invoiced orders are owed too.
	f.order(t, c, order{total: "0.25", due: days(-1), status: "pending"})

	t.Run("Success", func(t *testing.T) {
		r := getReceivables(t, app, f.tn.AdminToken, map[string]string{"as_of": "2026-06-30"})
		require.Equal(t, "2026-06-30", r.AsOf)
		want := zero(amounts{Current: "3.25", Days1To30: "12.00", Days31To60: "48.00", Days61To90: "192.00", Days90Plus: "256.50",
			Total: "511.75", Balance: "511.75"})
		require.Len(t, r.Customers, 1)
		require.Equal(t, customerRow{CustomerID: c.String(), Code: "C-1", Name: "Aging Co", Currency: "USD", amounts: want}, r.Customers[0])
		require.Equal(t, []totalRow{{Currency: "USD", CustomerCount: 1, amounts: want}}, r.Totals)
		require.Nil(t, r.Groups)
		require.Nil(t, r.NextCursor)
	})

	t.Run("AsOfInThePast", func(t *testing.T) {
		// Thirty days earlier every order is thirty days less late.
		r := getReceivables(t, app, f.tn.AdminToken, map[string]string{"as_of": "2026-05-31"})
		require.Equal(t, "2026-05-31", r.AsOf)
		want := zero(amounts{Current: "15.25", Days1To30: "48.00", Days31To60: "192.00", Days61To90: "256.00", Days90Plus: "0.50",
			Total: "511.75", Balance: "511.75"})
		require.Len(t, r.Customers, 1)
		require.Equal(t, want, r.Customers[0].amounts)
	})

	t.Run("EveryBoundary", func(t *testing.T) {
		// One order per boundary day, each alone in a fresh tenant's
		// report: the bucket it lands in is the only non-zero one.
		g := newFixture(t, app)
		cases := []struct {
			daysPastDue int
			bucket      func(*amounts) *string
		}{
			{0, func(a *amounts) *string { return &a.Current }},
			{1, func(a *amounts) *string { return &a.Days1To30 }},
			{30, func(a *amounts) *string { return &a.Days1To30 }},
			{31, func(a *amounts) *string { return &a.Days31To60 }},
			{60, func(a *amounts) *string { return &a.Days31To60 }},
			{61, func(a *amounts) *string { return &a.Days61To90 }},
			{90, func(a *amounts) *string { return &a.Days61To90 }},
			{91, func(a *amounts) *string { return &a.Days90Plus }},
		}
		cust := g.customer(t, "B-1", "Boundary Co", nil)
		g.order(t, cust, order{total: "10.00", due: asOf})
		for i, tc := range cases {
			// Move the reference date instead of the order: as_of is the
			// order's due date plus the days past due.
			at := asOf.AddDate(0, 0, tc.daysPastDue).Format(time.DateOnly)
			r := getReceivables(t, app, g.tn.AdminToken, map[string]string{"as_of": at})
			require.Len(t, r.Customers, 1, "case %d", i)
			var want amounts
			*tc.bucket(&want) = "10.00"
			want.Total, want.Balance = "10.00", "10.00"
			require.Equal(t, zero(want), r.Customers[0].amounts, "%d days past due", tc.daysPastDue)
		}
	})
}

func TestReceivablesDefaultAsOf(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	f := newFixture(t, app)
	c := f.customer(t, "C-1", "Today Co", nil)
	before := time.Now().UTC()
	f.order(t, c, order{total: "5.00", due: time.Date(before.Year(), before.Month(), before.Day(), 0, 0, 0, 0, time.UTC)})

	r := getReceivables(t, app, f.tn.AdminToken, nil)
	after := time.Now().UTC()
	require.Contains(t, []string{before.Format(time.DateOnly), after.Format(time.DateOnly)}, r.AsOf)
	require.Len(t, r.Customers, 1)
	if r.AsOf == before.Format(time.DateOnly) {
		require.Equal(t, "5.00", r.Customers[0].Current, "due today is current")
	}
}

func TestReceivablesUnappliedCredit(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	f := newFixture(t, app)

	// Owes 40 on an order, holds 90 of a payment not applied to any.
	partly := f.customer(t, "P-1", "Partly Paid", nil)
	o := f.order(t, partly, order{total: "100.00", paid: "60.00", due: days(5)})
	f.payment(t, partly, "USD", "150.00", map[uuid.UUID]string{o: "60.00"})

	// Only credit: a payment on account.
	creditOnly := f.customer(t, "Q-1", "Quite Ahead", nil)
	f.payment(t, creditOnly, "USD", "20.00", nil)

	// Everything settled: left out.
	settled := f.customer(t, "S-1", "Settled", nil)
	o2 := f.order(t, settled, order{total: "30.00", paid: "30.00", due: days(40), status: "paid"})
	f.payment(t, settled, "USD", "30.00", map[uuid.UUID]string{o2: "30.00"})
	// Nothing at all: left out.
	f.customer(t, "N-1", "Nothing", nil)

	r := getReceivables(t, app, f.tn.AdminToken, map[string]string{"as_of": "2026-06-30"})
	require.Equal(t, []customerRow{
		{CustomerID: partly.String(), Code: "P-1", Name: "Partly Paid", Currency: "USD",
			amounts: zero(amounts{Days1To30: "40.00", Total: "40.00", UnappliedCredit: "90.00", Balance: "-50.00"})},
		{CustomerID: creditOnly.String(), Code: "Q-1", Name: "Quite Ahead", Currency: "USD",
			amounts: zero(amounts{UnappliedCredit: "20.00", Balance: "-20.00"})},
	}, r.Customers)
	require.Equal(t, []totalRow{{Currency: "USD", CustomerCount: 2,
		amounts: zero(amounts{Days1To30: "40.00", Total: "40.00", UnappliedCredit: "110.00", Balance: "-70.00"})}}, r.Totals)
}

func TestReceivablesGroupsAndCurrencies(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	f := newFixture(t, app)
	north := f.group(t, "region", "NORTH", "North")
	south := f.group(t, "region", "SOUTH", "South")
	vip := f.group(t, "segment", "VIP", "VIP")

	a := f.customer(t, "A", "Alpha", nil) // north, USD
	f.member(t, a, "region", north)
	f.order(t, a, order{total: "100.00", due: days(10)})

	b := f.customer(t, "B", "Bravo", nil) // north, USD and EUR
	f.member(t, b, "region", north)
	f.order(t, b, order{total: "50.00", due: days(45)})
	f.order(t, b, order{currency: "EUR", total: "70.00", due: days(100)})
	f.payment(t, b, "EUR", "5.00", nil)

	c := f.customer(t, "C", "Charlie", nil) // south, JPY
	f.member(t, c, "region", south)
	f.order(t, c, order{currency: "JPY", total: "1500", due: days(-3)})

	d := f.customer(t, "D", "Delta", nil) // no region (but a segment), USD
	f.member(t, d, "segment", vip)
	f.order(t, d, order{total: "7.50", due: days(70)})

	e := f.customer(t, "E", "Echo", nil) // no group at all, USD
	f.order(t, e, order{total: "2.50", due: days(0)})

	t.Run("ByRegion", func(t *testing.T) {
		r := getReceivables(t, app, f.tn.AdminToken, map[string]string{"as_of": "2026-06-30", "category": "region"})
		require.Equal(t, "region", *r.Category)

		// One row per customer and currency, by name.
		var rows []string
		for _, c := range r.Customers {
			rows = append(rows, c.Code+" "+c.Currency+" "+c.Total)
		}
		require.Equal(t, []string{"A USD 100.00", "B EUR 70.00", "B USD 50.00", "C JPY 1500", "D USD 7.50", "E USD 2.50"}, rows)

		northRef := &groupRef{ID: north.String(), Code: "NORTH", Name: "North"}
		southRef := &groupRef{ID: south.String(), Code: "SOUTH", Name: "South"}
		require.Equal(t, []groupRow{
			{Category: "region", Group: northRef, Currency: "EUR", CustomerCount: 1,
				amounts: zero(amounts{Days90Plus: "70.00", Total: "70.00", UnappliedCredit: "5.00", Balance: "65.00"})},
			{Category: "region", Group: northRef, Currency: "USD", CustomerCount: 2,
				amounts: zero(amounts{Days1To30: "100.00", Days31To60: "50.00", Total: "150.00", Balance: "150.00"})},
			{Category: "region", Group: southRef, Currency: "JPY", CustomerCount: 1,
				amounts: amounts{Current: "1500", Days1To30: "0", Days31To60: "0", Days61To90: "0", Days90Plus: "0",
					Total: "1500", UnappliedCredit: "0", Balance: "1500"}},
			{Category: "region", Group: nil, Currency: "USD", CustomerCount: 2,
				amounts: zero(amounts{Current: "2.50", Days61To90: "7.50", Total: "10.00", Balance: "10.00"})},
		}, r.Groups)

		require.Equal(t, []totalRow{
			{Currency: "EUR", CustomerCount: 1,
				amounts: zero(amounts{Days90Plus: "70.00", Total: "70.00", UnappliedCredit: "5.00", Balance: "65.00"})},
			{Currency: "JPY", CustomerCount: 1,
				amounts: amounts{Current: "1500", Days1To30: "0", Days31To60: "0", Days61To90: "0", Days90Plus: "0",
					Total: "1500", UnappliedCredit: "0", Balance: "1500"}},
			{Currency: "USD", CustomerCount: 4,
				amounts: zero(amounts{Current: "2.50", Days1To30: "100.00", Days31To60: "50.00", Days61To90: "7.50",
					Total: "160.00", Balance: "160.00"})},
		}, r.Totals)
	})

	t.Run("NoCategory", func(t *testing.T) {
		resp := app.Get(t, receivablesPath(map[string]string{"as_of": "2026-06-30"}), f.tn.AdminToken)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		m := resp.Map(t)
		require.Contains(t, m, "groups")
		require.Nil(t, m["groups"])
		var r receivables
		resp.JSON(t, &r)
		require.Len(t, r.Totals, 3)
		require.Equal(t, "160.00", r.Totals[2].Total)
	})

	t.Run("CategoryCaseInsensitive", func(t *testing.T) {
		r := getReceivables(t, app, f.tn.AdminToken, map[string]string{"as_of": "2026-06-30", "category": "Segment"})
		require.Equal(t, "segment", *r.Category)
		require.Len(t, r.Groups, 4) // VIP USD; none: EUR, JPY, USD
		require.Equal(t, "VIP", r.Groups[0].Group.Code)
		require.Equal(t, "7.50", r.Groups[0].Total)
	})

	t.Run("UnknownCategory", func(t *testing.T) {
		resp := app.Get(t, receivablesPath(map[string]string{"category": "nope"}), f.tn.AdminToken)
		require.Equal(t, http.StatusNotFound, resp.Status, "%s", resp.Body)
		var p problem
		resp.JSON(t, &p)
		require.Equal(t, "not_found", p.Code)
		require.Equal(t, []string{"category"}, p.fields())
	})
}

func TestReceivablesPaging(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	f := newFixture(t, app)
	// Two customers share a name; one has two currencies; one owes
	// nothing and is skipped.
	var want []string
	for _, c := range []struct{ code, name string }{{"K1", "Kilo"}, {"L1", "Lima"}, {"L2", "Lima"}, {"M1", "Mike"}, {"O1", "Oscar"}} {
		id := f.customer(t, c.code, c.name, nil)
		f.order(t, id, order{total: "1.00", due: days(1)})
		if c.code == "L2" {
			f.order(t, id, order{currency: "EUR", total: "2.00", due: days(1)})
		}
	}
	f.customer(t, "N1", "November", nil)
	// Same-name customers come in id order.
	r := getReceivables(t, app, f.tn.AdminToken, map[string]string{"as_of": "2026-06-30", "limit": "200"})
	for _, c := range r.Customers {
		want = append(want, c.Code+" "+c.Currency)
	}
	require.Len(t, want, 6)
	require.Equal(t, "K1 USD", want[0])
	require.Equal(t, "O1 USD", want[5])
	require.ElementsMatch(t, []string{"L1 USD", "L2 EUR", "L2 USD", "M1 USD"}, want[1:5])

	t.Run("Walk", func(t *testing.T) {
		var got []string
		cursor := ""
		pages := 0
		for {
			params := map[string]string{"as_of": "2026-06-30", "limit": "2"}
			if cursor != "" {
				params["cursor"] = cursor
			}
			page := getReceivables(t, app, f.tn.AdminToken, params)
			pages++
			require.LessOrEqual(t, len(page.Customers), 2)
			// Totals cover every customer on every page.
			require.Equal(t, r.Totals, page.Totals)
			for _, c := range page.Customers {
				got = append(got, c.Code+" "+c.Currency)
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		require.Equal(t, want, got)
		require.Equal(t, 3, pages)
	})

	t.Run("TotalsAcrossPages", func(t *testing.T) {
		require.Equal(t, []totalRow{
			{Currency: "EUR", CustomerCount: 1, amounts: zero(amounts{Days1To30: "2.00", Total: "2.00", Balance: "2.00"})},
			{Currency: "USD", CustomerCount: 5, amounts: zero(amounts{Days1To30: "5.00", Total: "5.00", Balance: "5.00"})},
		}, r.Totals)
	})
}

func TestReceivablesValidation(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	f := newFixture(t, app)
	for _, tc := range []struct {
		name   string
		params map[string]string
		fields []string
	}{
		{"BadDate", map[string]string{"as_of": "2026-02-30"}, []string{"as_of"}},
		{"DateWithTime", map[string]string{"as_of": "2026-02-01T00:00:00Z"}, []string{"as_of"}},
		{"ShortDate", map[string]string{"as_of": "2026-2-1"}, []string{"as_of"}},
		{"YearZero", map[string]string{"as_of": "0000-01-01"}, []string{"as_of"}},
		{"LimitZero", map[string]string{"limit": "0"}, []string{"limit"}},
		{"LimitTooBig", map[string]string{"limit": "201"}, []string{"limit"}},
		{"LimitText", map[string]string{"limit": "ten"}, []string{"limit"}},
		{"BadCursor", map[string]string{"cursor": "not-a-cursor"}, []string{"cursor"}},
		{"BadCategory", map[string]string{"category": "no spaces"}, []string{"category"}},
		{"EveryOneNamed", map[string]string{"as_of": "x", "limit": "-1", "cursor": "%%%", "category": "1x"},
			[]string{"as_of", "category", "limit", "cursor"}},
		{"UnknownParameter", map[string]string{"from": "2026-01-01"}, []string{"from"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := app.Get(t, receivablesPath(tc.params), f.tn.AdminToken)
			require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
			var p problem
			resp.JSON(t, &p)
			require.ElementsMatch(t, tc.fields, p.fields(), "%s", resp.Body)
		})
	}
}

// ---- sales by group ---------------------------------------------------------

func TestSalesByGroup(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	f := newFixture(t, app)
	gold := f.group(t, "level", "GOLD", "Gold")
	silver := f.group(t, "level", "SILVER", "Silver")
	f.group(t, "level", "BRONZE", "Bronze") // no members: no row

	jan := func(day int) time.Time { return time.Date(2026, 1, day, 0, 0, 0, 0, time.UTC) }
	a := f.customer(t, "A", "Alpha", nil)
	f.member(t, a, "level", gold)
	b := f.customer(t, "B", "Bravo", nil)
	f.member(t, b, "level", gold)
	c := f.customer(t, "C", "Charlie", nil)
	f.member(t, c, "level", silver)
	d := f.customer(t, "D", "Delta", nil) // in no level

	f.order(t, a, order{total: "100.00", date: jan(10)})
	f.order(t, a, order{total: "50.00", date: jan(20), status: "paid", paid: "50.00"}) // paid orders count
	f.order(t, b, order{total: "25.00", date: jan(15)})
	f.order(t, b, order{total: "999.00", date: jan(15), status: "cancelled"}) // cancelled: never
	f.order(t, b, order{currency: "EUR", total: "40.00", date: jan(12)})
	f.order(t, c, order{total: "175.00", date: jan(11)})
	f.order(t, d, order{total: "175.00", date: jan(31)})
	f.order(t, d, order{total: "5.00", date: jan(9)})

	goldRef := &groupRef{ID: gold.String(), Code: "GOLD", Name: "Gold"}
	silverRef := &groupRef{ID: silver.String(), Code: "SILVER", Name: "Silver"}

	t.Run("AllDates", func(t *testing.T) {
		s := getSales(t, app, f.tn.AdminToken, map[string]string{"category": "level"})
		require.Equal(t, "level", s.Category)
		require.Nil(t, s.From)
		require.Nil(t, s.To)
		require.Equal(t, []salesRow{
			{Group: nil, Currency: "USD", OrderCount: 2, Total: "180.00", CustomerCount: 1},
			{Group: goldRef, Currency: "USD", OrderCount: 3, Total: "175.00", CustomerCount: 2},
			{Group: silverRef, Currency: "USD", OrderCount: 1, Total: "175.00", CustomerCount: 1},
			{Group: goldRef, Currency: "EUR", OrderCount: 1, Total: "40.00", CustomerCount: 1},
		}, s.Items)
	})

	t.Run("RangeEdgesInclusive", func(t *testing.T) {
		// From the 10th to the 20th: the orders on the 10th and the 20th
		// count, the 9th and the 31st do not.
		s := getSales(t, app, f.tn.AdminToken, map[string]string{"category": "level", "from": "2026-01-10", "to": "2026-01-20"})
		require.Equal(t, "2026-01-10", *s.From)
		require.Equal(t, "2026-01-20", *s.To)
		require.Equal(t, []salesRow{
			{Group: goldRef, Currency: "USD", OrderCount: 3, Total: "175.00", CustomerCount: 2},
			{Group: silverRef, Currency: "USD", OrderCount: 1, Total: "175.00", CustomerCount: 1},
			{Group: goldRef, Currency: "EUR", OrderCount: 1, Total: "40.00", CustomerCount: 1},
		}, s.Items)

		s = getSales(t, app, f.tn.AdminToken, map[string]string{"category": "level", "from": "2026-01-11", "to": "2026-01-19"})
		require.Equal(t, []salesRow{
			{Group: silverRef, Currency: "USD", OrderCount: 1, Total: "175.00", CustomerCount: 1},
			{Group: goldRef, Currency: "EUR", OrderCount: 1, Total: "40.00", CustomerCount: 1},
			{Group: goldRef, Currency: "USD", OrderCount: 1, Total: "25.00", CustomerCount: 1},
		}, s.Items)
	})

	t.Run("OneDay", func(t *testing.T) {
		s := getSales(t, app, f.tn.AdminToken, map[string]string{"category": "level", "from": "2026-01-31", "to": "2026-01-31"})
		require.Equal(t, []salesRow{{Group: nil, Currency: "USD", OrderCount: 1, Total: "175.00", CustomerCount: 1}}, s.Items)
	})

	t.Run("OpenEnded", func(t *testing.T) {
		s := getSales(t, app, f.tn.AdminToken, map[string]string{"category": "level", "from": "2026-01-20"})
		require.Equal(t, []salesRow{
			{Group: nil, Currency: "USD", OrderCount: 1, Total: "175.00", CustomerCount: 1},
			{Group: goldRef, Currency: "USD", OrderCount: 1, Total: "50.00", CustomerCount: 1},
		}, s.Items)
		s = getSales(t, app, f.tn.AdminToken, map[string]string{"category": "level", "to": "2026-01-09"})
		require.Equal(t, []salesRow{{Group: nil, Currency: "USD", OrderCount: 1, Total: "5.00", CustomerCount: 1}}, s.Items)
	})

	t.Run("NoOrders", func(t *testing.T) {
		s := getSales(t, app, f.tn.AdminToken, map[string]string{"category": "level", "from": "2027-01-01"})
		require.NotNil(t, s.Items)
		require.Empty(t, s.Items)
	})

	t.Run("UnknownCategory", func(t *testing.T) {
		resp := app.Get(t, salesPath(map[string]string{"category": "region"}), f.tn.AdminToken)
		require.Equal(t, http.StatusNotFound, resp.Status, "%s", resp.Body)
		var p problem
		resp.JSON(t, &p)
		require.Equal(t, []string{"category"}, p.fields())
	})

	t.Run("ValidationErrors", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			params map[string]string
			fields []string
		}{
			{"CategoryMissing", map[string]string{"from": "2026-01-01"}, []string{"category"}},
			{"CategoryEmpty", map[string]string{"category": ""}, []string{"category"}},
			{"CategoryInvalid", map[string]string{"category": "le-vel"}, []string{"category"}},
			{"BadFrom", map[string]string{"category": "level", "from": "2026-13-01"}, []string{"from"}},
			{"BadTo", map[string]string{"category": "level", "to": "yesterday"}, []string{"to"}},
			{"FromAfterTo", map[string]string{"category": "level", "from": "2026-01-02", "to": "2026-01-01"}, []string{"to"}},
			{"All", map[string]string{"from": "x", "to": "y"}, []string{"category", "from", "to"}},
			{"UnknownParameter", map[string]string{"category": "level", "limit": "5"}, []string{"limit"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp := app.Get(t, salesPath(tc.params), f.tn.AdminToken)
				require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
				var p problem
				resp.JSON(t, &p)
				require.ElementsMatch(t, tc.fields, p.fields(), "%s", resp.Body)
			})
		}
	})
}

// ---- who sees what ----------------------------------------------------------

func TestReportsSalesRepScope(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	f := newFixture(t, app)
	rep := f.repWithReports(t)
	other := app.CreateUser(t, f.tn, "sales_rep", nil)
	east := f.group(t, "region", "EAST", "East")

	mine := f.customer(t, "M-1", "Mine", &rep.ID)
	f.member(t, mine, "region", east)
	f.order(t, mine, order{total: "10.00", due: days(5), date: days(20)})
	f.payment(t, mine, "USD", "1.00", nil)

	granted := f.customer(t, "G-1", "Granted", &other.ID) // seen through a grant
	f.exec(t, `INSERT INTO customer_grants (tenant_id, user_id, customer_id) VALUES ($1, $2, $3)`, f.tid, uuid.MustParse(rep.ID), granted)
	f.order(t, granted, order{total: "20.00", due: days(50), date: days(60)})

	theirs := f.customer(t, "T-1", "Theirs", &other.ID)
	f.member(t, theirs, "region", east)
	f.order(t, theirs, order{total: "400.00", due: days(5), date: days(20)})
	f.payment(t, theirs, "USD", "300.00", nil)
	unassigned := f.customer(t, "U-1", "Unassigned", nil)
	f.order(t, unassigned, order{total: "8000.00", due: days(100), date: days(120)})

	t.Run("Receivables", func(t *testing.T) {
		r := getReceivables(t, app, rep.Token, map[string]string{"as_of": "2026-06-30", "category": "region"})
		var codes []string
		for _, c := range r.Customers {
			codes = append(codes, c.Code)
		}
		require.Equal(t, []string{"G-1", "M-1"}, codes)
		eastRef := &groupRef{ID: east.String(), Code: "EAST", Name: "East"}
		require.Equal(t, []groupRow{
			{Category: "region", Group: eastRef, Currency: "USD", CustomerCount: 1,
				amounts: zero(amounts{Days1To30: "10.00", Total: "10.00", UnappliedCredit: "1.00", Balance: "9.00"})},
			{Category: "region", Group: nil, Currency: "USD", CustomerCount: 1,
				amounts: zero(amounts{Days31To60: "20.00", Total: "20.00", Balance: "20.00"})},
		}, r.Groups)
		require.Equal(t, []totalRow{{Currency: "USD", CustomerCount: 2,
			amounts: zero(amounts{Days1To30: "10.00", Days31To60: "20.00", Total: "30.00", UnappliedCredit: "1.00", Balance: "29.00"})}}, r.Totals)

		// The admin sees everyone.
		all := getReceivables(t, app, f.tn.AdminToken, map[string]string{"as_of": "2026-06-30"})
		require.Len(t, all.Customers, 4)
		require.Equal(t, "8430.00", all.Totals[0].Total)
		require.Equal(t, "301.00", all.Totals[0].UnappliedCredit)
	})

	t.Run("SalesByGroup", func(t *testing.T) {
		s := getSales(t, app, rep.Token, map[string]string{"category": "region"})
		require.Equal(t, []salesRow{
			{Group: nil, Currency: "USD", OrderCount: 1, Total: "20.00", CustomerCount: 1},
			{Group: &groupRef{ID: east.String(), Code: "EAST", Name: "East"}, Currency: "USD", OrderCount: 1, Total: "10.00", CustomerCount: 1},
		}, s.Items)
	})

	t.Run("SalesRepRoleForbidden", func(t *testing.T) {
		// The built-in sales_rep role has no reports:read.
		for _, path := range []string{receivablesPath(nil), salesPath(map[string]string{"category": "region"})} {
			resp := app.Get(t, path, other.Token)
			require.Equal(t, http.StatusForbidden, resp.Status, "%s", resp.Body)
		}
	})

	t.Run("ViewerAllowed", func(t *testing.T) {
		viewer := app.CreateUser(t, f.tn, "viewer", nil)
		r := getReceivables(t, app, viewer.Token, map[string]string{"as_of": "2026-06-30"})
		require.Len(t, r.Customers, 4)
		s := getSales(t, app, viewer.Token, map[string]string{"category": "region"})
		require.Len(t, s.Items, 2)
	})
}

func TestReportsTwoTenants(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	a := newFixture(t, app)
	b := newFixture(t, app)

	north := a.group(t, "region", "NORTH", "North")
	a.group(t, "zone", "Z1", "Zone 1")
	ca := a.customer(t, "A-1", "Alpha", nil)
	a.member(t, ca, "region", north)
	a.order(t, ca, order{total: "10.00", due: days(3), date: days(3)})
	a.payment(t, ca, "USD", "4.00", nil)
	// B has the same category key but no data of its own.
	b.group(t, "region", "NORTH", "North")

	t.Run("TenantASeesItsOwn", func(t *testing.T) {
		r := getReceivables(t, app, a.tn.AdminToken, map[string]string{"as_of": "2026-06-30", "category": "region"})
		require.Len(t, r.Customers, 1)
		require.Len(t, r.Groups, 1)
		require.Len(t, r.Totals, 1)
		s := getSales(t, app, a.tn.AdminToken, map[string]string{"category": "region"})
		require.Len(t, s.Items, 1)
	})

	t.Run("TenantBSeesNothingOfA", func(t *testing.T) {
		r := getReceivables(t, app, b.tn.AdminToken, map[string]string{"as_of": "2026-06-30", "category": "region"})
		require.Empty(t, r.Customers)
		require.NotNil(t, r.Groups)
		require.Empty(t, r.Groups)
		require.NotNil(t, r.Totals)
		require.Empty(t, r.Totals)
		require.Nil(t, r.NextCursor)

		s := getSales(t, app, b.tn.AdminToken, map[string]string{"category": "region"})
		require.Empty(t, s.Items)
	})

	t.Run("OtherTenantsCategoryNotFound", func(t *testing.T) {
		require.Equal(t, http.StatusNotFound, app.Get(t, salesPath(map[string]string{"category": "zone"}), b.tn.AdminToken).Status)
		require.Equal(t, http.StatusNotFound, app.Get(t, receivablesPath(map[string]string{"category": "zone"}), b.tn.AdminToken).Status)
	})

	t.Run("CursorFromOtherTenant", func(t *testing.T) {
		// A cursor is only a position: another tenant's moves nothing into
		// view.
		for range 2 {
			c := a.customer(t, "A-"+uuid.NewString()[:6], "Zulu", nil)
			a.order(t, c, order{total: "1.00", due: days(1)})
		}
		r := getReceivables(t, app, a.tn.AdminToken, map[string]string{"as_of": "2026-06-30", "limit": "1"})
		require.NotNil(t, r.NextCursor)
		other := getReceivables(t, app, b.tn.AdminToken, map[string]string{"as_of": "2026-06-30", "cursor": *r.NextCursor})
		require.Empty(t, other.Customers)
	})
}

// TestReceivablesRaw checks the JSON shape clients are written against.
func TestReceivablesRaw(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	f := newFixture(t, app)
	c := f.customer(t, "R-1", "Raw", nil)
	f.order(t, c, order{total: "12.345", due: days(1)})
	resp := app.Get(t, receivablesPath(map[string]string{"as_of": "2026-06-30"}), f.tn.AdminToken)
	require.Equal(t, http.StatusOK, resp.Status)
	var raw struct {
		Customers []map[string]json.RawMessage `json:"customers"`
	}
	resp.JSON(t, &raw)
	require.Len(t, raw.Customers, 1)
	for _, k := range []string{"customer_id", "code", "name", "currency", "current", "1_30", "31_60", "61_90", "90_plus", "total", "unapplied_credit"} {
		require.Contains(t, raw.Customers[0], k)
	}
	// Money is a decimal string in the currency's minor units.
	require.JSONEq(t, `"12.35"`, string(raw.Customers[0]["1_30"]))
}
