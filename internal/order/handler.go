package order

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// Audit entity names.
const (
	EntityOrder   = "order"
	EntityPayment = "payment"
)

// Handler serves orders, payments and ledgers.
type Handler struct {
	db  database.Beginner
	svc *Service
}

// NewHandler returns a Handler.
func NewHandler(db database.Beginner, svc *Service) *Handler {
	return &Handler{db: db, svc: svc}
}

var orderQuery = append([]httpapi.Param{
	{Name: "status", Description: "pending, shipped, invoiced, paid or cancelled; comma-separated"},
	{Name: "from", Description: "order date from (inclusive), YYYY-MM-DD"},
	{Name: "to", Description: "order date to (inclusive), YYYY-MM-DD"},
}, httpapi.PageParams...)

// Routes registers the routes.
func (h *Handler) Routes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/sales-orders", Permission: auth.PermOrdersWrite, Tag: "orders",
		Summary: "Place a sales order (lines without a unit price are priced for the customer; credit control applies)",
		Status:  fiber.StatusCreated, Request: orderRequest{}, Response: orderResponse{}, Handler: h.create})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/sales-orders", Permission: auth.PermCustomersRead, Tag: "orders",
		Summary: "Orders you can see, newest first", Response: orderListResponse{},
		Query: append([]httpapi.Param{{Name: "customer_id"}}, orderQuery...), Handler: h.list})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/sales-orders/:id", Permission: auth.PermCustomersRead, Tag: "orders",
		Summary: "Get an order with its lines", Response: orderResponse{}, Handler: h.get})
	r.Handle(httpapi.Route{Method: fiber.MethodPatch, Path: "/sales-orders/:id", Permission: auth.PermOrdersWrite, Tag: "orders",
		Summary: "Change a pending order (needs If-Match; lines replace the old ones)", Request: orderPatchRequest{},
		Response: orderResponse{}, IfMatch: true, Handler: h.patch})
	for _, action := range []string{"ship", "invoice", "cancel"} {
		r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/sales-orders/:id/" + action, Permission: auth.PermOrdersWrite,
			Tag: "orders", Summary: strings.ToUpper(action[:1]) + action[1:] + " an order (409 when its status does not allow it)",
			Response: orderResponse{}, Handler: h.transition(action)})
	}
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/customers/:id/orders", Permission: auth.PermCustomersRead, Tag: "orders",
		Summary: "A customer's order history", Response: orderListResponse{}, Query: orderQuery, Handler: h.customerOrders})

	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/payments", Permission: auth.PermOrdersWrite, Tag: "payments",
		Summary: "Record a payment, optionally applied to an order", Status: fiber.StatusCreated,
		Request: paymentRequest{}, Response: paymentResponse{}, Handler: h.createPayment})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/payments", Permission: auth.PermCustomersRead, Tag: "payments",
		Summary: "Payments you can see, newest first", Response: paymentListResponse{},
		Query: append([]httpapi.Param{{Name: "customer_id"}, {Name: "from"}, {Name: "to"}}, httpapi.PageParams...), Handler: h.listPayments})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/payments/:id", Permission: auth.PermCustomersRead, Tag: "payments",
		Summary: "Get a payment with its allocations", Response: paymentResponse{}, Handler: h.getPayment})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/customers/:id/ledger", Permission: auth.PermCustomersRead, Tag: "payments",
		Summary: "A customer's orders and payments in date order with the running balance", Response: ledgerResponse{},
		Query: append([]httpapi.Param{{Name: "from"}, {Name: "to"}}, httpapi.PageParams...), Handler: h.ledger})
}

func mapError(err error) error {
	var te *TransitionError
	var cb *CreditBlockedError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return httpapi.NotFound("order")
	case errors.Is(err, ErrPaymentNotFound):
		return httpapi.NotFound("payment")
	case errors.Is(err, ErrCustomerNotFound):
		return httpapi.NotFound("customer")
	case errors.Is(err, ErrVersionMismatch):
		return httpapi.PreconditionFailed()
	case errors.Is(err, ErrNotEditable):
		return httpapi.Conflict("", "order_not_editable", "only pending orders can be changed")
	case errors.Is(err, ErrOrderPaid):
		return httpapi.Conflict("order_id", "order_paid", "this order is already fully paid")
	case errors.Is(err, ErrOrderCancelled):
		return httpapi.Conflict("order_id", "order_cancelled", "this order is cancelled")
	case errors.Is(err, ErrCreditOverrideDen):
		return httpapi.Forbidden("overriding a credit block needs the credit:override permission")
	case errors.As(err, &te):
		return httpapi.Conflict("", "invalid_transition", te.Error())
	case errors.As(err, &cb):
		first := cb.Issues[0]
		e := &httpapi.Error{Status: fiber.StatusUnprocessableEntity, Code: first.Code,
			Message: first.Message + "; the customer's credit policy blocks the order (a user with credit:override may pass override_credit: true)",
			Extra: map[string]any{"issues": toIssues(cb.Issues, cb.Currency), "balance": money.Format(first.Balance, cb.Currency),
				"order_total": money.Format(first.OrderTotal, cb.Currency)}}
		if first.Limit != nil {
			e.Extra["limit"] = money.Format(*first.Limit, cb.Currency)
		}
		return e
	}
	return err
}

func (h *Handler) tx(c *fiber.Ctx, fn func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error, opts ...database.TxOption) error {
	return mapError(httpapi.Tx(c, h.db, fn, opts...))
}

// ---- requests and responses ------------------------------------------------

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
		in.Lines = append(in.Lines, LineInput{SKU: l.SKU, Quantity: l.Quantity, UnitPrice: l.UnitPrice, DiscountRate: l.DiscountRate})
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

type paymentRequest struct {
	CustomerID uuid.UUID   `json:"customer_id"`
	Amount     money.Value `json:"amount"`
	ReceivedAt *string     `json:"received_at,omitempty"`
	OrderID    *uuid.UUID  `json:"order_id,omitempty"`
	Method     *string     `json:"method,omitempty"`
	Reference  *string     `json:"reference,omitempty"`
}

type allocationResponse struct {
	OrderID     uuid.UUID `json:"order_id"`
	OrderNumber string    `json:"order_number"`
	Amount      string    `json:"amount"`
}

type paymentResponse struct {
	ID          uuid.UUID            `json:"id"`
	Number      string               `json:"number"`
	CustomerID  uuid.UUID            `json:"customer_id"`
	Amount      string               `json:"amount"`
	Currency    string               `json:"currency"`
	ReceivedAt  string               `json:"received_at"`
	Method      *string              `json:"method"`
	Reference   *string              `json:"reference"`
	Allocations []allocationResponse `json:"allocations"`
	Unapplied   string               `json:"unapplied"`
	CreatedAt   time.Time            `json:"created_at"`
}

func toPaymentResponse(p Payment) paymentResponse {
	cur := p.Currency
	r := paymentResponse{ID: p.ID, Number: p.Number, CustomerID: p.CustomerID, Amount: money.Format(p.Amount, cur),
		Currency: cur, ReceivedAt: p.ReceivedAt.Format(time.DateOnly), Method: p.Method, Reference: p.Reference,
		Allocations: make([]allocationResponse, 0, len(p.Allocations)), CreatedAt: p.CreatedAt}
	unapplied := p.Amount
	for _, a := range p.Allocations {
		unapplied = unapplied.Sub(a.Amount)
		r.Allocations = append(r.Allocations, allocationResponse{OrderID: a.OrderID, OrderNumber: a.OrderNumber, Amount: money.Format(a.Amount, cur)})
	}
	r.Unapplied = money.Format(unapplied, cur)
	return r
}

type paymentListResponse struct {
	Items      []paymentResponse `json:"items"`
	NextCursor *string           `json:"next_cursor"`
}

type ledgerEntry struct {
	Type    string    `json:"type"`
	ID      uuid.UUID `json:"id"`
	Number  string    `json:"number"`
	Date    string    `json:"date"`
	Amount  string    `json:"amount"`
	Balance string    `json:"balance"`
	Status  *string   `json:"status"`
}

type ledgerResponse struct {
	Currency   string        `json:"currency"`
	Items      []ledgerEntry `json:"items"`
	NextCursor *string       `json:"next_cursor"`
}

// ---- handlers -------------------------------------------------------------

func (h *Handler) create(c *fiber.Ctx) error {
	var req orderRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in, err := toInput(&req.CustomerID, req.LocationID, req.OrderDate, req.Notes, req.Lines, req.OverrideCredit)
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
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
	return h.tx(c, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
	return h.tx(c, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
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
		return h.tx(c, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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

// listParams reads a list's query parameters; the cursor goes into cursor
// (each list has its own).
func listParams(c *fiber.Ctx, withCustomer bool, cursor any) (ListParams, bool, error) {
	var lp ListParams
	var errs validation.Errors
	limit, err := httpapi.Limit(c)
	if err != nil {
		return lp, false, err
	}
	lp.Limit = limit + 1
	if withCustomer {
		if lp.CustomerID, err = httpapi.QueryUUID(c, "customer_id"); err != nil {
			return lp, false, err
		}
	}
	if v := c.Query("status"); v != "" {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			errs.OneOf("status", s, Statuses...)
			lp.Statuses = append(lp.Statuses, strings.Clone(s))
		}
	}
	for name, dst := range map[string]**time.Time{"from": &lp.From, "to": &lp.To} {
		if v := c.Query(name); v != "" {
			s := strings.Clone(v)
			*dst = parseDate(&errs, name, &s)
		}
	}
	has, err := httpapi.DecodeCursor(c, cursor)
	if err != nil {
		return lp, false, err
	}
	return lp, has, errs.Err()
}

// orderListParams reads an order or payment list's parameters.
func orderListParams(c *fiber.Ctx, withCustomer bool) (ListParams, error) {
	var after Cursor
	lp, has, err := listParams(c, withCustomer, &after)
	if has {
		lp.After = &after
	}
	return lp, err
}

func (h *Handler) list(c *fiber.Ctx) error {
	lp, err := orderListParams(c, true)
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
	return h.tx(c, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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

func (h *Handler) createPayment(c *fiber.Ctx) error {
	var req paymentRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	var errs validation.Errors
	in := PaymentInput{CustomerID: req.CustomerID, Amount: req.Amount, ReceivedAt: parseDate(&errs, "received_at", req.ReceivedAt),
		OrderID: req.OrderID, Method: req.Method, Reference: req.Reference}
	if req.CustomerID == uuid.Nil {
		errs.Add("customer_id", "required", "must be a customer's id")
	}
	if err := in.Validate(); err != nil {
		var ve validation.Errors
		errors.As(err, &ve)
		errs = append(errs, ve...)
	}
	if err := errs.Err(); err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		p, err := h.svc.CreatePayment(ctx, tx, actor, in)
		if err != nil {
			return err
		}
		resp := toPaymentResponse(p)
		if err := audit.Record(ctx, tx, audit.Event{Entity: EntityPayment, EntityID: p.ID, CustomerID: &p.CustomerID, Action: audit.ActionCreate, After: resp}); err != nil {
			return err
		}
		c.Set(fiber.HeaderLocation, "/v1/payments/"+p.ID.String())
		return c.Status(fiber.StatusCreated).JSON(resp)
	})
}

func (h *Handler) getPayment(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		p, err := h.svc.GetPayment(ctx, tx, id)
		if err != nil {
			return err
		}
		return c.JSON(toPaymentResponse(p))
	}, database.ReadOnly)
}

func (h *Handler) listPayments(c *fiber.Ctx) error {
	lp, err := orderListParams(c, true)
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		ps, err := h.svc.ListPayments(ctx, tx, lp)
		if err != nil {
			return err
		}
		resp := paymentListResponse{Items: make([]paymentResponse, 0, len(ps))}
		if limit := int(lp.Limit - 1); len(ps) > limit {
			ps = ps[:limit]
			last := ps[len(ps)-1]
			next := httpapi.EncodeCursor(Cursor{Date: last.ReceivedAt, ID: last.ID})
			resp.NextCursor = &next
		}
		for _, p := range ps {
			resp.Items = append(resp.Items, toPaymentResponse(p))
		}
		return c.JSON(resp)
	}, database.ReadOnly, database.CustomPlans)
}

func (h *Handler) ledger(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var after LedgerCursor
	lp, has, err := listParams(c, false, &after)
	if err != nil {
		return err
	}
	var afterP *LedgerCursor
	if has {
		afterP = &after
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		rows, currency, err := h.svc.Ledger(ctx, tx, id, lp.From, lp.To, afterP, lp.Limit)
		if err != nil {
			return err
		}
		resp := ledgerResponse{Currency: currency, Items: make([]ledgerEntry, 0, len(rows))}
		if limit := int(lp.Limit - 1); len(rows) > limit {
			rows = rows[:limit]
			last := rows[len(rows)-1]
			next := httpapi.EncodeCursor(LedgerCursor{Date: last.EntryDate, Created: last.CreatedAt, ID: last.ID})
			resp.NextCursor = &next
		}
		for _, r := range rows {
			resp.Items = append(resp.Items, toLedgerEntry(r, currency))
		}
		return c.JSON(resp)
	}, database.ReadOnly, database.CustomPlans)
}

func toLedgerEntry(r dbsqlc.LedgerRow, currency string) ledgerEntry {
	e := ledgerEntry{Type: r.Kind, ID: r.ID, Number: r.Number, Date: r.EntryDate.Format(time.DateOnly),
		Amount: money.Format(r.Amount, currency), Balance: money.Format(r.RunningBalance, currency)}
	if r.Status != "" {
		s := r.Status
		e.Status = &s
	}
	return e
}
