package grant

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// Handler serves /v1/users/{id}/customer-grants.
type Handler struct {
	db  database.Beginner
	svc *Service
}

// NewHandler returns a Handler.
func NewHandler(db database.Beginner, svc *Service) *Handler {
	return &Handler{db: db, svc: svc}
}

// Routes registers the grant routes.
func (h *Handler) Routes(r *httpapi.Router) {
	r = r.WithErrors(mapError)
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/users/:id/customer-grants", Permission: auth.PermUsersManage,
		Tag: "grants", Summary: "Grant a customer to a user (an 'assigned' user then sees it)", Status: fiber.StatusCreated,
		Request: createGrantRequest{}, Response: grantResponse{}, Handler: h.create})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/users/:id/customer-grants", Permission: auth.PermUsersManage,
		Tag: "grants", Summary: "The customers granted to a user, by customer name", Response: grantListResponse{},
		Query: httpapi.PageParams, Handler: h.list})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/users/:id/customer-grants/:customer_id", Permission: auth.PermUsersManage,
		Tag: "grants", Summary: "Revoke a grant", Status: fiber.StatusNoContent, Handler: h.delete})
}

func mapError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return httpapi.NotFound("grant")
	case errors.Is(err, ErrUserNotFound):
		return httpapi.NotFound("user")
	case errors.Is(err, ErrCustomerNotFound):
		return &httpapi.Error{Status: fiber.StatusNotFound, Code: "not_found", Message: "customer not found",
			Fields: validation.Errors{{Field: "customer_id", Code: "not_found", Message: "no such customer"}}}
	case errors.Is(err, ErrAlreadyGranted):
		return httpapi.Conflict("customer_id", "already_granted", "the user already holds a grant of this customer")
	}
	return auth.MapError(err)
}

type createGrantRequest struct {
	CustomerID *uuid.UUID `json:"customer_id"`
}

type grantListResponse struct {
	Items      []grantResponse `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

func (h *Handler) create(c *fiber.Ctx) error {
	userID, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var req createGrantRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		// The user in the path comes first: another tenant's user is a 404
		// whatever the body holds.
		if err := h.svc.CheckUser(ctx, tx, userID); err != nil {
			return err
		}
		if req.CustomerID == nil {
			return validation.Errors{{Field: "customer_id", Code: "required", Message: "must be a customer id"}}
		}
		g, err := h.svc.Create(ctx, tx, actor, userID, *req.CustomerID)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(toGrantResponse(g))
	})
}

func (h *Handler) list(c *fiber.Ctx) error {
	userID, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
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
		grants, err := h.svc.List(ctx, tx, userID, cursor, limit+1)
		if err != nil {
			return err
		}
		resp := grantListResponse{Items: make([]grantResponse, 0, min(len(grants), int(limit)))}
		if len(grants) > int(limit) {
			grants = grants[:limit]
			next := httpapi.EncodeCursor(CursorAfter(grants[len(grants)-1]))
			resp.NextCursor = &next
		}
		for _, g := range grants {
			resp.Items = append(resp.Items, toGrantResponse(g))
		}
		return c.JSON(resp)
	}, database.ReadOnly, database.CustomPlans)
}

func (h *Handler) delete(c *fiber.Ctx) error {
	userID, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	// Path segments resolve left to right: a malformed customer id is
	// reported only for a user that exists.
	customerID, customerErr := httpapi.UUIDParam(c, "customer_id")
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		if err := h.svc.CheckUser(ctx, tx, userID); err != nil {
			return err
		}
		if customerErr != nil {
			return customerErr
		}
		if _, err := h.svc.Delete(ctx, tx, actor, userID, customerID); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}
