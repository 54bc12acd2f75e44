package customer

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// Handler serves /v1/customers.
type Handler struct {
	db  database.Beginner
	svc *Service
}

// NewHandler returns a Handler.
func NewHandler(db database.Beginner, svc *Service) *Handler {
	return &Handler{db: db, svc: svc}
}

// Routes registers the customer routes.
func (h *Handler) Routes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/customers", Permission: auth.PermCustomersWrite, Tag: "customers",
		Summary: "Create a customer (code generated when omitted)", Status: fiber.StatusCreated,
		Request: customerRequest{}, Response: customerResponse{}, Handler: h.create})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/customers", Permission: auth.PermCustomersRead, Tag: "customers",
		Summary: "List and search the customers you can see, by name", Response: customerListResponse{},
		Query:   append([]httpapi.Param{{Name: "q", Description: "text found in name, code, e-mail or phone"}}, httpapi.PageParams...),
		Handler: h.list})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/customers/:id", Permission: auth.PermCustomersRead, Tag: "customers",
		Summary: "Get a customer", Response: customerResponse{}, Handler: h.get})
	r.Handle(httpapi.Route{Method: fiber.MethodPatch, Path: "/customers/:id", Permission: auth.PermCustomersWrite, Tag: "customers",
		Summary: "Change a customer (needs If-Match)", Request: customerRequest{}, Response: customerResponse{}, Handler: h.patch})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/customers/:id", Permission: auth.PermCustomersDelete, Tag: "customers",
		Summary: "Delete a customer", Status: fiber.StatusNoContent, Handler: h.delete})
}

func mapError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return httpapi.NotFound("customer")
	case errors.Is(err, ErrCodeTaken):
		return httpapi.Conflict("code", "code_taken", "another customer already has this code")
	case errors.Is(err, ErrVersionMismatch):
		return httpapi.PreconditionFailed()
	case errors.Is(err, ErrReferenced):
		return httpapi.Conflict("", "customer_referenced", "portal users or other records still refer to this customer")
	}
	return err
}

func (h *Handler) tx(c *fiber.Ctx, fn func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error, opts ...database.TxOption) error {
	ctx := c.UserContext()
	actor := tenant.MustFromContext(ctx)
	return mapError(database.WithTenantTx(ctx, h.db, database.ScopeFor(actor), func(ctx context.Context, tx database.Tx) error {
		return fn(ctx, tx, actor)
	}, opts...))
}

// customerRequest is the body of create and patch: on PATCH an absent field
// is left alone and null clears a nullable field.
type customerRequest struct {
	Code       httpapi.Optional[string]    `json:"code"`
	Name       httpapi.Optional[string]    `json:"name"`
	Type       httpapi.Optional[string]    `json:"type"`
	Email      httpapi.Optional[string]    `json:"email"`
	Phone      httpapi.Optional[string]    `json:"phone"`
	SalesRepID httpapi.Optional[uuid.UUID] `json:"sales_rep_id"`
	Status     httpapi.Optional[string]    `json:"status"`
}

func (req customerRequest) toPatch() (Patch, error) {
	var errs validation.Errors
	required := func(field string, o httpapi.Optional[string]) *string {
		if !o.Set {
			return nil
		}
		if o.Null {
			errs.Add(field, "not_nullable", "must not be null")
			return nil
		}
		v := o.Value
		return &v
	}
	p := Patch{
		Code:       required("code", req.Code),
		Name:       required("name", req.Name),
		Type:       required("type", req.Type),
		Status:     required("status", req.Status),
		Email:      nullable(req.Email),
		Phone:      nullable(req.Phone),
		SalesRepID: nullable(req.SalesRepID),
	}
	return p, errs.Err()
}

func nullable[T any](o httpapi.Optional[T]) Nullable[T] {
	if !o.Set {
		return Nullable[T]{}
	}
	if o.Null {
		return Nullable[T]{Set: true}
	}
	v := o.Value
	return Nullable[T]{Set: true, Value: &v}
}

type customerResponse struct {
	ID         uuid.UUID  `json:"id"`
	Code       string     `json:"code"`
	Name       string     `json:"name"`
	Type       string     `json:"type"`
	Email      *string    `json:"email"`
	Phone      *string    `json:"phone"`
	SalesRepID *uuid.UUID `json:"sales_rep_id"`
	Status     string     `json:"status"`
	Version    int64      `json:"version"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

func toCustomerResponse(c dbsqlc.Customer) customerResponse {
	return customerResponse{ID: c.ID, Code: c.Code, Name: c.Name, Type: c.Type, Email: c.Email, Phone: c.Phone,
		SalesRepID: c.SalesRepID, Status: c.Status, Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

type customerListResponse struct {
	Items      []customerResponse `json:"items"`
	NextCursor *string            `json:"next_cursor"`
}

func (h *Handler) create(c *fiber.Ctx) error {
	var req customerRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	p, err := req.toPatch()
	if err != nil {
		return err
	}
	var cust dbsqlc.Customer
	err = h.tx(c, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		var err error
		cust, err = h.svc.Create(ctx, tx, actor, p)
		return err
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, httpapi.ETag(cust.Version))
	c.Set(fiber.HeaderLocation, "/v1/customers/"+cust.ID.String())
	return c.Status(fiber.StatusCreated).JSON(toCustomerResponse(cust))
}

func (h *Handler) get(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var cust dbsqlc.Customer
	err = h.tx(c, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		var err error
		cust, err = h.svc.Get(ctx, tx, id)
		return err
	}, database.ReadOnly)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, httpapi.ETag(cust.Version))
	return c.JSON(toCustomerResponse(cust))
}

func (h *Handler) list(c *fiber.Ctx) error {
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	q, err := httpapi.QueryText(c, "q", 100)
	if err != nil {
		return err
	}
	var after Cursor
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return err
	}
	lp := ListParams{Q: q, Limit: limit + 1}
	if has {
		lp.After = &after
	}
	var rows []dbsqlc.Customer
	err = h.tx(c, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		var err error
		rows, err = h.svc.List(ctx, tx, actor, lp)
		return err
	}, database.ReadOnly)
	if err != nil {
		return err
	}
	resp := customerListResponse{Items: make([]customerResponse, 0, len(rows))}
	if len(rows) > int(limit) {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		next := httpapi.EncodeCursor(Cursor{Name: last.Name, ID: last.ID})
		resp.NextCursor = &next
	}
	for _, r := range rows {
		resp.Items = append(resp.Items, toCustomerResponse(r))
	}
	return c.JSON(resp)
}

func (h *Handler) patch(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	version, err := httpapi.IfMatch(c)
	if err != nil {
		return err
	}
	var req customerRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	p, err := req.toPatch()
	if err != nil {
		return err
	}
	var cust dbsqlc.Customer
	err = h.tx(c, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		var err error
		cust, err = h.svc.Update(ctx, tx, actor, id, version, p)
		return err
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, httpapi.ETag(cust.Version))
	return c.JSON(toCustomerResponse(cust))
}

func (h *Handler) delete(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	err = h.tx(c, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		return h.svc.Delete(ctx, tx, id)
	})
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
