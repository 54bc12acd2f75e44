package order

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

type lineRequest struct {
	SKU          string       `json:"sku"`
	Quantity     money.Value  `json:"quantity"`
	UnitPrice    *money.Value `json:"unit_price,omitempty"`
	DiscountRate *money.Value `json:"discount_rate,omitempty"`
}

type orderRequest struct {
	CustomerID     uuid.UUID     `json:"customer_id"`
	LocationID     *uuid.UUID    `json:"location_id,omitempty"`
	OrderDate      *string       `json:"order_date,omitempty"`
	Notes          *string       `json:"notes,omitempty"`
	Lines          []lineRequest `json:"lines"`
	OverrideCredit bool          `json:"override_credit,omitempty"`
}

// orderPatchRequest replaces a pending order's editable part.
type orderPatchRequest struct {
	LocationID     *uuid.UUID    `json:"location_id,omitempty"`
	OrderDate      *string       `json:"order_date,omitempty"`
	Notes          *string       `json:"notes,omitempty"`
	Lines          []lineRequest `json:"lines"`
	OverrideCredit bool          `json:"override_credit,omitempty"`
}

func parseDate(errs *validation.Errors, field string, s *string) *time.Time {
	if s == nil {
		return nil
	}
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(*s))
	if err != nil {
		errs.Add(field, "invalid_date", "must be a date such as 2026-03-31")
		return nil
	}
	return &d
}

// toInput converts a create (customerID set) or patch (nil) body.
func toInput(customerID *uuid.UUID, loc *uuid.UUID, date, notes *string, lines []lineRequest, override bool) (Input, error) {
	var errs validation.Errors
	in := Input{LocationID: loc, OrderDate: parseDate(&errs, "order_date", date), Notes: notes, OverrideCredit: override}
	for _, l := range lines {
		in.Lines = append(in.Lines, LineInput(l))
	}
	if customerID != nil {
		in.CustomerID = *customerID
		if *customerID == uuid.Nil {
			errs.Add("customer_id", "required", "must be a customer's id")
		}
	}
	if err := in.Validate(); err != nil {
		var ve validation.Errors
		errors.As(err, &ve)
		errs = append(errs, ve...)
	}
	return in, errs.Err()
}

type lineResponse struct {
	LineNo       int32     `json:"line_no"`
	ItemID       uuid.UUID `json:"item_id"`
	SKU          string    `json:"sku"`
	Name         string    `json:"name"`
	Quantity     string    `json:"quantity"`
	UnitPrice    string    `json:"unit_price"`
	DiscountRate string    `json:"discount_rate"`
	Amount       string    `json:"amount"`
	PriceSource  string    `json:"price_source"`
}

// warning is a credit rule an order broke (policy warn, or block
// overridden).
type warning struct {
	Code            string  `json:"code"`
	Message         string  `json:"message"`
	Limit           *string `json:"limit,omitempty"`
	Balance         string  `json:"balance"`
	OrderTotal      string  `json:"order_total"`
	OldestOpenOrder string  `json:"oldest_open_order,omitempty"`
	PeriodDays      int32   `json:"period_days,omitempty"`
}

func toIssues(issues []CreditIssue, currency string) []warning {
	out := make([]warning, 0, len(issues))
	for _, i := range issues {
		w := warning{Code: i.Code, Message: i.Message, Balance: money.Format(i.Balance, currency),
			OrderTotal: money.Format(i.OrderTotal, currency), OldestOpenOrder: i.OldestOpenOrder, PeriodDays: i.PeriodDays}
		if i.Limit != nil {
			s := money.Format(*i.Limit, currency)
			w.Limit = &s
		}
		out = append(out, w)
	}
	return out
}

type orderResponse struct {
	ID             uuid.UUID      `json:"id"`
	Number         string         `json:"number"`
	CustomerID     uuid.UUID      `json:"customer_id"`
	LocationID     *uuid.UUID     `json:"location_id"`
	Status         string         `json:"status"`
	Currency       string         `json:"currency"`
	OrderDate      string         `json:"order_date"`
	DueDate        string         `json:"due_date"`
	PaymentTermsID *uuid.UUID     `json:"payment_terms_id"`
	Total          string         `json:"total"`
	PaidAmount     string         `json:"paid_amount"`
	Outstanding    string         `json:"outstanding"`
	Notes          *string        `json:"notes"`
	CreditOverride bool           `json:"credit_override"`
	Lines          []lineResponse `json:"lines"`
	Warnings       []warning      `json:"warnings"`
	Version        int64          `json:"version"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
	ShippedAt      *time.Time     `json:"shipped_at"`
	InvoicedAt     *time.Time     `json:"invoiced_at"`
	PaidAt         *time.Time     `json:"paid_at"`
	CancelledAt    *time.Time     `json:"cancelled_at"`
}

func toOrderResponse(o Order) orderResponse {
	cur := o.Currency
	r := orderResponse{
		ID: o.ID, Number: o.Number, CustomerID: o.CustomerID, LocationID: o.LocationID, Status: o.Status, Currency: cur,
		OrderDate: o.OrderDate.Format(time.DateOnly), DueDate: o.DueDate.Format(time.DateOnly), PaymentTermsID: o.PaymentTermsID,
		Total: money.Format(o.Total, cur), PaidAmount: money.Format(o.PaidAmount, cur),
		Outstanding: money.Format(o.Total.Sub(o.PaidAmount), cur), Notes: o.Notes, CreditOverride: o.CreditOverride,
		Lines: make([]lineResponse, 0, len(o.Lines)), Warnings: toIssues(o.Warnings, cur), Version: o.Version,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, ShippedAt: o.ShippedAt, InvoicedAt: o.InvoicedAt, PaidAt: o.PaidAt,
		CancelledAt: o.CancelledAt,
	}
	for _, l := range o.Lines {
		r.Lines = append(r.Lines, lineResponse{LineNo: l.LineNo, ItemID: l.ItemID, SKU: l.Sku, Name: l.Name,
			Quantity: l.Quantity.String(), UnitPrice: l.UnitPrice.String(), DiscountRate: money.FormatRate(l.DiscountRate),
			Amount: money.Format(l.Amount, cur), PriceSource: l.PriceSource})
	}
	return r
}

type orderListResponse struct {
	Items      []orderResponse `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

func (h *Handler) create(c *fiber.Ctx) error {
	var req orderRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in, err := toInput(&req.CustomerID, req.LocationID, req.OrderDate, req.Notes, req.Lines, req.OverrideCredit)
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		o, err := h.svc.Create(ctx, tx, actor, in)
		if err != nil {
			return err
		}
		resp := toOrderResponse(o)
		if err := audit.Record(ctx, tx, audit.Event{Entity: EntityOrder, EntityID: o.ID, CustomerID: &o.CustomerID, Action: audit.ActionCreate, After: resp}); err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(o.Version))
		c.Set(fiber.HeaderLocation, "/v1/sales-orders/"+o.ID.String())
		return c.Status(fiber.StatusCreated).JSON(resp)
	})
}

func (h *Handler) get(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		o, err := h.svc.Get(ctx, tx, id)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(o.Version))
		return c.JSON(toOrderResponse(o))
	}, database.ReadOnly)
}

func (h *Handler) patch(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	want, err := httpapi.IfMatch(c)
	if err != nil {
		return err
	}
	var req orderPatchRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in, err := toInput(nil, req.LocationID, req.OrderDate, req.Notes, req.Lines, req.OverrideCredit)
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		before, err := h.svc.Get(ctx, tx, id)
		if err != nil {
			return err
		}
		o, err := h.svc.Update(ctx, tx, actor, id, want, in)
		if err != nil {
			return err
		}
		resp := toOrderResponse(o)
		if err := audit.Record(ctx, tx, audit.Event{Entity: EntityOrder, EntityID: id, CustomerID: &o.CustomerID, Action: audit.ActionUpdate,
			Before: toOrderResponse(before), After: resp}); err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(o.Version))
		return c.JSON(resp)
	})
}

func (h *Handler) transition(action string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := httpapi.UUIDParam(c, "id")
		if err != nil {
			return err
		}
		return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
			before, err := h.svc.Get(ctx, tx, id)
			if err != nil {
				return err
			}
			o, err := h.svc.Transition(ctx, tx, id, action)
			if err != nil {
				return err
			}
			resp := toOrderResponse(o)
			if err := audit.Record(ctx, tx, audit.Event{Entity: EntityOrder, EntityID: id, CustomerID: &o.CustomerID, Action: audit.ActionUpdate,
				Before: toOrderResponse(before), After: resp}); err != nil {
				return err
			}
			c.Set(fiber.HeaderETag, httpapi.ETag(o.Version))
			return c.JSON(resp)
		})
	}
}

func (h *Handler) list(c *fiber.Ctx) error {
	lp, err := orderListParams(c, true)
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		return h.writeOrders(ctx, tx, c, lp)
	}, database.ReadOnly, database.CustomPlans)
}

func (h *Handler) customerOrders(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	lp, err := orderListParams(c, false)
	if err != nil {
		return err
	}
	lp.CustomerID = &id
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		if err := h.svc.CustomerVisible(ctx, tx, id); err != nil {
			return err
		}
		return h.writeOrders(ctx, tx, c, lp)
	}, database.ReadOnly, database.CustomPlans)
}

func (h *Handler) writeOrders(ctx context.Context, tx database.Tx, c *fiber.Ctx, lp ListParams) error {
	orders, err := h.svc.List(ctx, tx, lp)
	if err != nil {
		return err
	}
	resp := orderListResponse{Items: make([]orderResponse, 0, len(orders))}
	if limit := int(lp.Limit - 1); len(orders) > limit {
		orders = orders[:limit]
		last := orders[len(orders)-1]
		next := httpapi.EncodeCursor(Cursor{Date: last.OrderDate, ID: last.ID})
		resp.NextCursor = &next
	}
	for _, o := range orders {
		resp.Items = append(resp.Items, toOrderResponse(o))
	}
	return c.JSON(resp)
}
