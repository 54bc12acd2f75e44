// Package report answers the money reports of issue 4: the receivables
// aging per customer, per group of a category and per currency, and sales
// per group of a category. Reports only read: they run in the caller's
// read-only tenant transaction, and row-level security limits them to the
// customers the caller sees (an 'assigned' sales rep's report covers their
// own customers, totals included). Amounts stay exact decimals and are
// never summed across currencies.
package report

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Sentinel errors.
var (
	ErrCategoryNotFound = errors.New("group category not found")
)

// Aging splits what is outstanding by days past due, beside the unapplied
// credit (payments not allocated to any order), which lowers what is owed
// but belongs to no bucket.
type Aging struct {
	Current         decimal.Decimal // not yet due
	Days1To30       decimal.Decimal
	Days31To60      decimal.Decimal
	Days61To90      decimal.Decimal
	Days90Plus      decimal.Decimal
	UnappliedCredit decimal.Decimal
}

// Total is the sum of the buckets: everything outstanding on orders.
func (a Aging) Total() decimal.Decimal {
	return a.Current.Add(a.Days1To30).Add(a.Days31To60).Add(a.Days61To90).Add(a.Days90Plus)
}

// Balance is what is owed after the unapplied credit: for a customer with
// one currency it equals the customer's balance figure.
func (a Aging) Balance() decimal.Decimal { return a.Total().Sub(a.UnappliedCredit) }

// Add adds b's amounts to a's (both in one currency).
func (a *Aging) Add(b Aging) {
	a.Current = a.Current.Add(b.Current)
	a.Days1To30 = a.Days1To30.Add(b.Days1To30)
	a.Days31To60 = a.Days31To60.Add(b.Days31To60)
	a.Days61To90 = a.Days61To90.Add(b.Days61To90)
	a.Days90Plus = a.Days90Plus.Add(b.Days90Plus)
	a.UnappliedCredit = a.UnappliedCredit.Add(b.UnappliedCredit)
}

// GroupRef names a customer group.
type GroupRef struct {
	ID   uuid.UUID
	Code string
	Name string
}

// CustomerAging is one customer's aging in one currency.
type CustomerAging struct {
	CustomerID uuid.UUID
	Code       string
	Name       string
	Currency   string
	Aging
}

// GroupAging is the aging of a group's customers (Group nil: customers in
// no group of the category) in one currency.
type GroupAging struct {
	Group         *GroupRef
	Currency      string
	CustomerCount int64
	Aging
}

// CurrencyAging is the aging of every customer the caller sees, in one
// currency.
type CurrencyAging struct {
	Currency      string
	CustomerCount int64
	Aging
}

// ReceivablesQuery asks for the aging as of a date, one page of customers
// and, with a category, the per-group rows.
type ReceivablesQuery struct {
	AsOf     time.Time
	Category *string
	After    *Cursor
	// Limit is the most customer rows returned.
	Limit int32
}

// Receivables is the aging report. Groups and Totals cover every customer
// the caller sees, not just the page.
type Receivables struct {
	Customers []CustomerAging
	// Groups is nil unless a category was asked for.
	Groups []GroupAging
	// Totals has one row per currency, by currency code.
	Totals []CurrencyAging
}

// Cursor is the position after the last customer row of a page.
type Cursor struct {
	Name       string    `json:"n"`
	CustomerID uuid.UUID `json:"i"`
	Currency   string    `json:"c"`
}

// CursorAfter returns the cursor positioned after r.
func CursorAfter(r CustomerAging) Cursor {
	return Cursor{Name: r.Name, CustomerID: r.CustomerID, Currency: r.Currency}
}

// totalsOf sums group rows into per-currency totals. The groups of one
// category partition the customers (a customer is in at most one group of
// it, or in the no-group row), so the sums count each customer once.
func totalsOf(groups []GroupAging) []CurrencyAging {
	var out []CurrencyAging
	for _, g := range groups {
		i := slices.IndexFunc(out, func(t CurrencyAging) bool { return t.Currency == g.Currency })
		if i < 0 {
			out = append(out, CurrencyAging{Currency: g.Currency})
			i = len(out) - 1
		}
		out[i].CustomerCount += g.CustomerCount
		out[i].Add(g.Aging)
	}
	slices.SortFunc(out, func(a, b CurrencyAging) int { return strings.Compare(a.Currency, b.Currency) })
	if out == nil {
		out = []CurrencyAging{}
	}
	return out
}

// SalesQuery asks for sales per group of a category, on order dates from
// From to To inclusive (either may be nil: unbounded).
type SalesQuery struct {
	Category string
	From, To *time.Time
}

// GroupSales is the orders (not cancelled) of a group's customers (Group
// nil: customers in no group of the category) in one currency.
type GroupSales struct {
	Group         *GroupRef
	Currency      string
	OrderCount    int64
	Total         decimal.Decimal
	CustomerCount int64
}
