package report

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/group"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// Handler serves /v1/reports.
type Handler struct {
	db  database.Beginner
	svc *Service
}

// NewHandler returns a Handler.
func NewHandler(db database.Beginner, svc *Service) *Handler {
	return &Handler{db: db, svc: svc}
}

// Routes registers the report routes.
func (h *Handler) Routes(r *httpapi.Router) {
	r = r.WithErrors(mapError)
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/reports/receivables", Permission: auth.PermReportsRead, Tag: "reports",
		Summary:  "Receivables aging (current, 1-30, 31-60, 61-90, 90+ days past due) per customer, per group of a category and per currency",
		Response: receivablesResponse{},
		Query: append([]httpapi.Param{
			{Name: "as_of", Description: "the date days past due are counted to, YYYY-MM-DD (default: today, UTC)"},
			{Name: "category", Description: "group category key: adds one row per group of it (and one for customers in none)"},
		}, httpapi.PageParams...),
		Handler: h.receivables})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/reports/sales-by-group", Permission: auth.PermReportsRead, Tag: "reports",
		Summary:  "Order count and total (orders not cancelled) per group of a category and currency, largest total first",
		Response: salesByGroupResponse{},
		Query: []httpapi.Param{
			{Name: "category", Description: "group category key (required)"},
			{Name: "from", Description: "first order date, YYYY-MM-DD (inclusive)"},
			{Name: "to", Description: "last order date, YYYY-MM-DD (inclusive)"},
		},
		Handler: h.salesByGroup})
}

func mapError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrCategoryNotFound):
		return &httpapi.Error{Status: fiber.StatusNotFound, Code: "not_found", Message: "group category not found",
			Fields: validation.Errors{{Field: "category", Code: "not_found", Message: "no such group category"}}}
	}
	return err
}

// ---- parameters --------------------------------------------------------

// queryDate reads an optional YYYY-MM-DD query parameter.
func queryDate(errs *validation.Errors, c *fiber.Ctx, name string) *time.Time {
	raw := c.Query(name)
	if raw == "" {
		return nil
	}
	d, err := time.Parse(time.DateOnly, raw)
	if err != nil || d.Year() < 1 {
		errs.Add(name, "invalid_date", "must be a date such as 2026-03-31")
		return nil
	}
	return &d
}

// queryCategory reads the category key (nil when absent).
func queryCategory(errs *validation.Errors, c *fiber.Ctx) *string {
	raw := c.Query("category")
	if raw == "" {
		return nil
	}
	key, ok := group.NormalizeCategory(raw)
	if !ok {
		errs.Add("category", "invalid_category", "must be a group category key: a letter, then up to 39 letters, digits or underscores")
		return nil
	}
	key = strings.Clone(key) // Fiber reuses the query's buffer
	return &key
}

// fieldErrors adds the field errors of an httpapi error to errs, so that
// one answer names every bad parameter; other errors are returned.
func fieldErrors(errs *validation.Errors, err error) error {
	var he *httpapi.Error
	if errors.As(err, &he) && len(he.Fields) > 0 {
		*errs = append(*errs, he.Fields...)
		return nil
	}
	return err
}

// ---- responses ---------------------------------------------------------

type groupRefResponse struct {
	ID   uuid.UUID `json:"id"`
	Code string    `json:"code"`
	Name string    `json:"name"`
}

func toGroupRef(g *GroupRef) *groupRefResponse {
	if g == nil {
		return nil
	}
	return &groupRefResponse{ID: g.ID, Code: g.Code, Name: g.Name}
}

// agingResponse is the amounts of an aging row, in the row's currency.
// Total is the sum of the buckets; balance is total less the unapplied
// credit.
type agingResponse struct {
	Current         string `json:"current"`
	Days1To30       string `json:"1_30"`
	Days31To60      string `json:"31_60"`
	Days61To90      string `json:"61_90"`
	Days90Plus      string `json:"90_plus"`
	Total           string `json:"total"`
	UnappliedCredit string `json:"unapplied_credit"`
	Balance         string `json:"balance"`
}

func toAging(a Aging, currency string) agingResponse {
	return agingResponse{
		Current: money.Format(a.Current, currency), Days1To30: money.Format(a.Days1To30, currency),
		Days31To60: money.Format(a.Days31To60, currency), Days61To90: money.Format(a.Days61To90, currency),
		Days90Plus: money.Format(a.Days90Plus, currency), Total: money.Format(a.Total(), currency),
		UnappliedCredit: money.Format(a.UnappliedCredit, currency), Balance: money.Format(a.Balance(), currency),
	}
}

type customerAgingResponse struct {
	CustomerID uuid.UUID `json:"customer_id"`
	Code       string    `json:"code"`
	Name       string    `json:"name"`
	Currency   string    `json:"currency"`
	agingResponse
}

type groupAgingResponse struct {
	Category      string            `json:"category"`
	Group         *groupRefResponse `json:"group"`
	Currency      string            `json:"currency"`
	CustomerCount int64             `json:"customer_count"`
	agingResponse
}

type totalAgingResponse struct {
	Currency      string `json:"currency"`
	CustomerCount int64  `json:"customer_count"`
	agingResponse
}

type receivablesResponse struct {
	AsOf       string                  `json:"as_of"`
	Category   *string                 `json:"category"`
	Customers  []customerAgingResponse `json:"customers"`
	NextCursor *string                 `json:"next_cursor"`
	// Groups is null unless a category was asked for.
	Groups []groupAgingResponse `json:"groups"`
	Totals []totalAgingResponse `json:"totals"`
}

type salesGroupResponse struct {
	Group         *groupRefResponse `json:"group"`
	Currency      string            `json:"currency"`
	OrderCount    int64             `json:"order_count"`
	Total         string            `json:"total"`
	CustomerCount int64             `json:"customer_count"`
}

type salesByGroupResponse struct {
	Category string               `json:"category"`
	From     *string              `json:"from"`
	To       *string              `json:"to"`
	Items    []salesGroupResponse `json:"items"`
}

func dateString(d *time.Time) *string {
	if d == nil {
		return nil
	}
	s := d.Format(time.DateOnly)
	return &s
}

// ---- handlers ----------------------------------------------------------

func (h *Handler) receivables(c *fiber.Ctx) error {
	var errs validation.Errors
	asOf := queryDate(&errs, c, "as_of")
	category := queryCategory(&errs, c)
	limit, err := httpapi.Limit(c)
	if err := fieldErrors(&errs, err); err != nil {
		return err
	}
	var after Cursor
	hasCursor, err := httpapi.DecodeCursor(c, &after)
	if err := fieldErrors(&errs, err); err != nil {
		return err
	}
	if len(errs) > 0 {
		return httpapi.Validation(errs)
	}
	q := ReceivablesQuery{Category: category, Limit: limit + 1}
	if asOf != nil {
		q.AsOf = *asOf
	} else {
		q.AsOf = h.svc.Today()
	}
	if hasCursor {
		q.After = &after
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		rep, err := h.svc.Receivables(ctx, tx, q)
		if err != nil {
			return err
		}
		resp := receivablesResponse{AsOf: q.AsOf.Format(time.DateOnly), Category: category,
			Customers: make([]customerAgingResponse, 0, min(len(rep.Customers), int(limit))),
			Totals:    make([]totalAgingResponse, 0, len(rep.Totals))}
		rows := rep.Customers
		if len(rows) > int(limit) {
			rows = rows[:limit]
			next := httpapi.EncodeCursor(CursorAfter(rows[len(rows)-1]))
			resp.NextCursor = &next
		}
		for _, r := range rows {
			resp.Customers = append(resp.Customers, customerAgingResponse{CustomerID: r.CustomerID, Code: r.Code, Name: r.Name,
				Currency: r.Currency, agingResponse: toAging(r.Aging, r.Currency)})
		}
		if category != nil {
			resp.Groups = make([]groupAgingResponse, 0, len(rep.Groups))
			for _, g := range rep.Groups {
				resp.Groups = append(resp.Groups, groupAgingResponse{Category: *category, Group: toGroupRef(g.Group),
					Currency: g.Currency, CustomerCount: g.CustomerCount, agingResponse: toAging(g.Aging, g.Currency)})
			}
		}
		for _, t := range rep.Totals {
			resp.Totals = append(resp.Totals, totalAgingResponse{Currency: t.Currency, CustomerCount: t.CustomerCount,
				agingResponse: toAging(t.Aging, t.Currency)})
		}
		return c.JSON(resp)
	})
}

func (h *Handler) salesByGroup(c *fiber.Ctx) error {
	var errs validation.Errors
	category := queryCategory(&errs, c)
	if category == nil && !errs.Has("category") {
		errs.Add("category", "required", "must be a group category key")
	}
	from, to := queryDate(&errs, c, "from"), queryDate(&errs, c, "to")
	if from != nil && to != nil && to.Before(*from) {
		errs.Add("to", "before_from", "must not be before from")
	}
	if len(errs) > 0 {
		return httpapi.Validation(errs)
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		items, err := h.svc.SalesByGroup(ctx, tx, SalesQuery{Category: *category, From: from, To: to})
		if err != nil {
			return err
		}
		resp := salesByGroupResponse{Category: *category, From: dateString(from), To: dateString(to),
			Items: make([]salesGroupResponse, 0, len(items))}
		for _, it := range items {
			resp.Items = append(resp.Items, salesGroupResponse{Group: toGroupRef(it.Group), Currency: it.Currency,
				OrderCount: it.OrderCount, Total: money.Format(it.Total, it.Currency), CustomerCount: it.CustomerCount})
		}
		return c.JSON(resp)
	})
}
