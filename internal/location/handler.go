package location

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// Handler serves /v1/customers/{id}/locations and /v1/locations.
type Handler struct {
	db   database.Beginner
	svc  *Service
	jobs *jobs.Service
}

// NewHandler returns a Handler; js starts bulk update jobs.
func NewHandler(db database.Beginner, svc *Service, js *jobs.Service) *Handler {
	return &Handler{db: db, svc: svc, jobs: js}
}

// Routes registers the location routes.
func (h *Handler) Routes(r *httpapi.Router) {
	r = r.WithErrors(mapError)
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/locations/bulk-update", Permission: auth.PermCustomersWrite,
		Tag: "locations", Summary: "Set or remove the sales rep override of many locations (selected by ids or by the list's filters) " +
			"in a background job; dry_run counts the selection; " + auth.AssignRule,
		Status: fiber.StatusAccepted, Request: bulkRequest{}, Response: jobs.AcceptedResponse{},
		Also: map[int]any{fiber.StatusOK: jobs.Preview{}}, Handler: h.bulkUpdate})
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/customers/:id/locations", Permission: auth.PermCustomersWrite,
		Tag: "locations", Summary: "Add a location to a customer; " + auth.AssignRule, Status: fiber.StatusCreated,
		Request: createLocationRequest{}, Response: locationResponse{}, Handler: h.create})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/customers/:id/locations", Permission: auth.PermCustomersRead,
		Tag: "locations", Summary: "A customer's locations by label (at most 1000; next_cursor continues on GET /v1/locations?customer_id=)",
		Response: locationListResponse{}, Handler: h.listForCustomer})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/locations", Permission: auth.PermCustomersRead, Tag: "locations",
		Summary: "Locations of the customers you can see, by customer name, then label", Response: locationListResponse{},
		Query: append([]httpapi.Param{
			{Name: "customer_id", Description: "only this customer's locations"},
			{Name: "city", Description: "city, case-insensitive"},
			{Name: "country", Description: "ISO 3166-1 alpha-2 country code"},
			{Name: "sales_rep_id", Description: "the location's own sales rep"},
		}, httpapi.PageParams...), Handler: h.list})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/locations/:id", Permission: auth.PermCustomersRead, Tag: "locations",
		Summary: "Get a location", Response: locationResponse{}, Handler: h.get})
	r.Handle(httpapi.Route{Method: fiber.MethodPatch, Path: "/locations/:id", Permission: auth.PermCustomersWrite, Tag: "locations",
		Summary: "Change a location (needs If-Match); " + auth.AssignRule, Request: patchLocationRequest{}, Response: locationResponse{}, IfMatch: true, Handler: h.patch})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/locations/:id", Permission: auth.PermCustomersWrite, Tag: "locations",
		Summary: "Delete a location (one whose rep override names another user: as for setting sales_rep_id, needs " + auth.PermCustomersAssign + " unless you see every customer)", Status: fiber.StatusNoContent, Handler: h.delete})
}

func mapError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return httpapi.NotFound("location")
	case errors.Is(err, ErrCustomerNotFound):
		return httpapi.NotFound("customer")
	case errors.Is(err, ErrVersionMismatch):
		return httpapi.PreconditionFailed()
	case errors.Is(err, ErrAssignNeeded):
		return httpapi.Forbidden("this location gives another sales rep the customer; deleting it needs the permission " +
			auth.PermCustomersAssign + " or a user who sees every customer")
	case errors.Is(err, ErrInUse):
		return httpapi.Conflict("", "location_in_use", "orders ship to this location; it cannot be deleted")
	}
	return err
}

type createLocationRequest struct {
	Label           patch.Field[string]    `json:"label"`
	Line1           patch.Field[string]    `json:"line1"`
	Line2           patch.Field[string]    `json:"line2" patch:"nullable"`
	City            patch.Field[string]    `json:"city"`
	Region          patch.Field[string]    `json:"region" patch:"nullable"`
	PostalCode      patch.Field[string]    `json:"postal_code" patch:"nullable"`
	Country         patch.Field[string]    `json:"country"`
	Phone           patch.Field[string]    `json:"phone" patch:"nullable"`
	Kinds           patch.Field[[]string]  `json:"kinds"`
	DefaultBilling  patch.Field[bool]      `json:"default_billing"`
	DefaultShipping patch.Field[bool]      `json:"default_shipping"`
	SalesRepID      patch.Field[uuid.UUID] `json:"sales_rep_id" patch:"nullable"`
}

// patchLocationRequest is createLocationRequest plus customer_id, which is
// named only to refuse it clearly: a location never moves to another
// customer.
type patchLocationRequest struct {
	createLocationRequest
	CustomerID patch.Field[uuid.UUID] `json:"customer_id"`
}

func (req createLocationRequest) toPatch() (Patch, error) {
	p := Patch{
		Label:           req.Label.Value,
		Line1:           req.Line1.Value,
		Line2:           req.Line2,
		City:            req.City.Value,
		Region:          req.Region,
		PostalCode:      req.PostalCode,
		Country:         req.Country.Value,
		Phone:           req.Phone,
		Kinds:           req.Kinds.Value,
		DefaultBilling:  req.DefaultBilling.Value,
		DefaultShipping: req.DefaultShipping.Value,
		SalesRepID:      req.SalesRepID,
	}
	return p, patch.NotNull(req).Err()
}

func (req patchLocationRequest) toPatch() (Patch, error) {
	p, err := req.createLocationRequest.toPatch()
	if req.CustomerID.Set {
		var errs validation.Errors
		errors.As(err, &errs)
		errs.Add("customer_id", "immutable", "a location cannot move to another customer; create one there instead")
		return p, errs
	}
	return p, err
}

type locationListResponse struct {
	Items      []locationResponse `json:"items"`
	NextCursor *string            `json:"next_cursor"`
}

func (h *Handler) create(c *fiber.Ctx) error {
	customerID, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var req createLocationRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	p, err := req.toPatch()
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		loc, err := h.svc.Create(ctx, tx, tenant.MustFromContext(ctx), customerID, p)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(loc.Version))
		c.Set(fiber.HeaderLocation, "/v1/locations/"+loc.ID.String())
		return c.Status(fiber.StatusCreated).JSON(toLocationResponse(loc))
	})
}

func (h *Handler) listForCustomer(c *fiber.Ctx) error {
	customerID, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		locs, err := h.svc.ListForCustomer(ctx, tx, customerID)
		if err != nil {
			return err
		}
		return c.JSON(toListResponse(locs, MaxPerCustomer))
	}, database.ReadOnly)
}

func (h *Handler) list(c *fiber.Ctx) error {
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	var f Filter
	if f.CustomerID, err = httpapi.QueryUUID(c, "customer_id"); err != nil {
		return err
	}
	if f.SalesRepID, err = httpapi.QueryUUID(c, "sales_rep_id"); err != nil {
		return err
	}
	if f.City, err = httpapi.QueryText(c, "city", 100); err != nil {
		return err
	}
	country, err := httpapi.QueryText(c, "country", 2)
	if err != nil {
		return err
	}
	if country != nil {
		var errs validation.Errors
		v := ParseCountry(&errs, "country", *country)
		if len(errs) > 0 {
			return httpapi.BadRequest("country", errs[0].Code, errs[0].Message)
		}
		f.Country = &v
	}
	var after Cursor
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return err
	}
	var cursor *Cursor
	if has {
		cursor = &after
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		locs, err := h.svc.List(ctx, tx, f, cursor, limit+1)
		if err != nil {
			return err
		}
		return c.JSON(toListResponse(locs, int(limit)))
	}, database.ReadOnly, database.CustomPlans)
}

// toListResponse answers the first limit locations, with a cursor when
// locs holds more.
func toListResponse(locs []Location, limit int) locationListResponse {
	resp := locationListResponse{Items: make([]locationResponse, 0, min(len(locs), limit))}
	if len(locs) > limit {
		locs = locs[:limit]
		next := httpapi.EncodeCursor(CursorAfter(locs[len(locs)-1]))
		resp.NextCursor = &next
	}
	for _, l := range locs {
		resp.Items = append(resp.Items, toLocationResponse(l))
	}
	return resp
}

func (h *Handler) get(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		loc, err := h.svc.Get(ctx, tx, id)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(loc.Version))
		return c.JSON(toLocationResponse(loc))
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
	var req patchLocationRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	p, err := req.toPatch()
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		loc, err := h.svc.Update(ctx, tx, tenant.MustFromContext(ctx), id, want, p)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(loc.Version))
		return c.JSON(toLocationResponse(loc))
	})
}

func (h *Handler) delete(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		if _, err := h.svc.Delete(ctx, tx, tenant.MustFromContext(ctx), id); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}
