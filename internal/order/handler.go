package order

import (
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/money"
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
	r = r.WithErrors(mapError)
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
