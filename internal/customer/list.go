package customer

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/group"
	"github.com/customerhub/customerhub/internal/validation"
)

// Sorts lists the accepted values of sort=; a leading "-" is descending.
var Sorts = []string{
	"name", "-name", "code", "-code", "balance", "-balance", "total_order_value", "-total_order_value",
	"last_order_at", "-last_order_at", "updated_at", "-updated_at", "created_at", "-created_at",
}

// ListFilters names the plain list filters (query parameters and saved
// view filters); group.<category> and custom.<key> are accepted too.
var ListFilters = []string{
	"q", "type", "kind", "status", "sales_rep_id", "payment_terms_id", "billing_status", "country",
	"has_balance", "has_credit", "overdue", "engaged", "last_order_from", "last_order_to",
}

// ListParams selects and orders a page of customers.
type ListParams struct {
	Q              *string
	Statuses       []string
	Type           *string
	Kind           *string
	SalesRepID     *uuid.UUID
	PaymentTermsID *uuid.UUID
	BillingStatus  *string
	Country        *string
	HasBalance     *bool
	HasCredit      *bool
	Overdue        *bool
	Engaged        *bool
	LastOrderFrom  *time.Time
	LastOrderTo    *time.Time
	// Groups maps a category key to the group code a customer must be in.
	Groups map[string]string
	// Custom maps a custom field key to the text its value must equal.
	Custom map[string]string
	Sort   string
	After  *Cursor
	Limit  int32
	// scanSearch matches Q under the policy instead of through the search
	// functions (see bulkSelect).
	scanSearch bool
}

// Cursor is the position after the last customer of a page: the sort it
// belongs to, the sort key of the last row and its id. The keys are
// omitzero, not omitempty: an empty text key is still the key.
type Cursor struct {
	Sort string     `json:"s"`
	Text *string    `json:"t,omitzero"`
	Num  *string    `json:"n,omitzero"`
	Time *time.Time `json:"ts,omitempty"`
	ID   uuid.UUID  `json:"i"`
}

// sortColumn returns the column a sort orders by.
func sortColumn(s string) string { return strings.TrimPrefix(s, "-") }

// ParseList reads list filters and sort from name/value pairs (the query
// string of GET /v1/customers, or a saved view's filters). Values are
// validated; errors name the parameter. Without status, dormant and
// inactive customers are hidden: status=all shows every one.
func ParseList(values map[string]string) (ListParams, validation.Errors) {
	var errs validation.Errors
	lp := ListParams{Statuses: []string{"active"}, Sort: "name", Groups: map[string]string{}, Custom: map[string]string{}}
	text := func(name string, max int) *string {
		v, ok := values[name]
		if !ok || strings.TrimSpace(v) == "" {
			return nil
		}
		t := errs.Text(name, v, 1, max)
		return &t
	}
	choice := func(name string, allowed []string) *string {
		v := text(name, 64)
		if v != nil {
			errs.OneOf(name, *v, allowed...)
		}
		return v
	}
	boolean := func(name string) *bool {
		v := text(name, 5)
		if v == nil {
			return nil
		}
		b, err := strconv.ParseBool(*v)
		if err != nil {
			errs.Add(name, "invalid_boolean", "must be true or false")
			return nil
		}
		return &b
	}
	id := func(name string) *uuid.UUID {
		v := text(name, 36)
		if v == nil {
			return nil
		}
		u, err := uuid.Parse(*v)
		if err != nil || len(*v) != 36 {
			errs.Add(name, "invalid_uuid", "must be a UUID")
			return nil
		}
		return &u
	}
	date := func(name string, endOfDay bool) *time.Time {
		v := text(name, 40)
		if v == nil {
			return nil
		}
		if t, err := time.Parse(time.RFC3339, *v); err == nil {
			return &t
		}
		d, err := time.Parse(time.DateOnly, *v)
		if err != nil {
			errs.Add(name, "invalid_date", "must be a date (2026-03-31) or an RFC 3339 time")
			return nil
		}
		if endOfDay {
			d = d.AddDate(0, 0, 1) // last_order_to is inclusive of that day
		}
		return &d
	}

	lp.Q = text("q", 100)
	if lp.Q != nil {
		lower := strings.ToLower(*lp.Q)
		lp.Q = &lower
	}
	if v := text("status", 100); v != nil {
		if *v == "all" {
			lp.Statuses = Statuses
		} else {
			lp.Statuses = nil
			for _, s := range strings.Split(*v, ",") {
				s = strings.TrimSpace(s)
				errs.OneOf("status", s, append([]string{"all"}, Statuses...)...)
				lp.Statuses = append(lp.Statuses, s)
			}
		}
	}
	lp.Type = choice("type", Types)
	lp.Kind = choice("kind", Kinds)
	lp.BillingStatus = choice("billing_status", BillingStatuses)
	if v := text("country", 2); v != nil {
		c := strings.ToUpper(*v)
		lp.Country = &c
	}
	lp.SalesRepID = id("sales_rep_id")
	lp.PaymentTermsID = id("payment_terms_id")
	lp.HasBalance = boolean("has_balance")
	lp.HasCredit = boolean("has_credit")
	lp.Overdue = boolean("overdue")
	lp.Engaged = boolean("engaged")
	lp.LastOrderFrom = date("last_order_from", false)
	lp.LastOrderTo = date("last_order_to", true)
	if v := text("sort", 40); v != nil {
		errs.OneOf("sort", *v, Sorts...)
		lp.Sort = *v
	}

	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		switch {
		case strings.HasPrefix(name, "group."):
			// The category and the code go to PostgreSQL as text: a saved
			// view's filters come from a JSON body, which may hold a NUL
			// ("\u0000") where a query string may not.
			category, ok := group.NormalizeCategory(strings.TrimPrefix(name, "group."))
			code := strings.TrimSpace(values[name])
			if !ok || code == "" {
				errs.Add(name, "invalid_filter", "must be group.<category>=<group code>")
				continue
			}
			if code = errs.Text(name, code, 1, 64); !errs.Has(name) {
				lp.Groups[category] = code
			}
		case strings.HasPrefix(name, "custom."):
			lp.Custom[strings.TrimPrefix(name, "custom.")] = values[name]
		}
	}
	return lp, errs
}

// cursorFor makes the cursor after row c for the list's sort.
func cursorFor(sortBy string, c rowKeys) Cursor {
	cur := Cursor{Sort: sortBy, ID: c.id}
	switch sortColumn(sortBy) {
	case "name":
		cur.Text = &c.name
	case "code":
		cur.Text = &c.code
	case "balance":
		s := c.balance.String()
		cur.Num = &s
	case "total_order_value":
		s := c.totalOrderValue.String()
		cur.Num = &s
	case "last_order_at":
		cur.Time = c.lastOrderAt // nil: no order yet, sorted as -infinity
	case "updated_at":
		cur.Time = &c.updatedAt
	case "created_at":
		cur.Time = &c.createdAt
	}
	return cur
}

// rowKeys are the sort keys of one row.
type rowKeys struct {
	id              uuid.UUID
	name, code      string
	balance         decimal.Decimal
	totalOrderValue decimal.Decimal
	lastOrderAt     *time.Time
	updatedAt       time.Time
	createdAt       time.Time
}

// check reports whether a cursor fits the list's sort and holds the key
// that sort needs and no other, as cursorFor makes it: a key the sort
// does not use would still be read (keyset), and text goes to PostgreSQL,
// which cannot hold a NUL (a cursor's JSON can: "\u0000").
func (c *Cursor) check(sortBy string) bool {
	if c.Sort != sortBy || c.ID == uuid.Nil {
		return false
	}
	switch sortColumn(sortBy) {
	case "name", "code":
		return c.Num == nil && c.Time == nil && c.Text != nil && !strings.ContainsRune(*c.Text, 0)
	case "balance", "total_order_value":
		if c.Text != nil || c.Time != nil || c.Num == nil {
			return false
		}
		_, err := decimal.NewFromString(*c.Num)
		return err == nil
	case "last_order_at":
		return c.Text == nil && c.Num == nil
	default:
		return c.Text == nil && c.Num == nil && c.Time != nil
	}
}

// onlySearch reports whether the list has no filter but q and status (and
// its sort and page): the case customer_search_page answers in one step.
func (lp ListParams) onlySearch() bool {
	return lp.Type == nil && lp.Kind == nil && lp.SalesRepID == nil && lp.PaymentTermsID == nil &&
		lp.BillingStatus == nil && lp.Country == nil && lp.HasBalance == nil && lp.HasCredit == nil &&
		lp.Overdue == nil && lp.Engaged == nil && lp.LastOrderFrom == nil && lp.LastOrderTo == nil &&
		len(lp.Groups) == 0 && len(lp.Custom) == 0
}
