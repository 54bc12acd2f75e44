package group

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/tenant"
)

// Handler serves /v1/customer-groups and /v1/customer-group-categories.
type Handler struct {
	db  database.Beginner
	svc *Service
}

// NewHandler returns a Handler.
func NewHandler(db database.Beginner, svc *Service) *Handler {
	return &Handler{db: db, svc: svc}
}

// Routes registers the package's routes.
func (h *Handler) Routes(r *httpapi.Router) {
	r = r.WithErrors(mapError)
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/customer-groups", Permission: auth.PermGroupsWrite, Tag: "customer-groups",
		Summary: "Create a customer group (its category is created when new)", Status: fiber.StatusCreated,
		Request: groupRequest{}, Response: groupResponse{}, Handler: h.create})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/customer-groups", Permission: auth.PermCustomersRead, Tag: "customer-groups",
		Summary: "List customer groups, most recently modified first", Response: groupListResponse{},
		Query: append([]httpapi.Param{
			{Name: "code", Description: "text matched against the group code (see match)"},
			{Name: "name", Description: "text matched against the group name (see match)"},
			{Name: "match", Description: "any (default: any part of the field), prefix or exact; always case-insensitive"},
			{Name: "category", Description: "category key"},
		}, httpapi.PageParams...),
		Handler: h.list})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/customer-groups/:id", Permission: auth.PermCustomersRead, Tag: "customer-groups",
		Summary: "Get a customer group", Response: groupResponse{}, Handler: h.get})
	r.Handle(httpapi.Route{Method: fiber.MethodPatch, Path: "/customer-groups/:id", Permission: auth.PermGroupsWrite, Tag: "customer-groups",
		Summary: "Change a customer group (needs If-Match; the category cannot change)", Request: groupRequest{},
		Response: groupResponse{}, IfMatch: true, Handler: h.patch})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/customer-groups/:id", Permission: auth.PermGroupsWrite, Tag: "customer-groups",
		Summary: "Delete a customer group that no customer is in", Status: fiber.StatusNoContent, Handler: h.delete})

	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/customer-group-categories", Permission: auth.PermCustomersRead, Tag: "customer-groups",
		Summary: "List group categories in fallback order (position, then key)", Response: categoryListResponse{},
		Query: httpapi.PageParams, Handler: h.listCategories})
	r.Handle(httpapi.Route{Method: fiber.MethodPatch, Path: "/customer-group-categories/:key", Permission: auth.PermGroupsWrite, Tag: "customer-groups",
		Summary: "Rename a group category or change its position in the fallback order (needs If-Match)", Request: categoryRequest{},
		Response: categoryResponse{}, IfMatch: true, Handler: h.patchCategory})
}

func mapError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return httpapi.NotFound("customer group")
	case errors.Is(err, ErrCategoryNotFound):
		return httpapi.NotFound("group category")
	case errors.Is(err, ErrCodeTaken):
		return httpapi.Conflict("code", "code_taken", "another group of this category already has this code")
	case errors.Is(err, ErrVersionMismatch):
		return httpapi.PreconditionFailed()
	case errors.Is(err, ErrInUse):
		return httpapi.Conflict("", "group_in_use",
			"customers are still in this group; move them to another group of the category (or out of it) first")
	}
	return err
}

// ---- groups ----------------------------------------------------------------

// groupRequest is the body of create and patch: on PATCH an absent field
// is left alone and null clears a nullable field.
type groupRequest struct {
	Category       patch.Field[string]      `json:"category"`
	Code           patch.Field[string]      `json:"code"`
	Name           patch.Field[string]      `json:"name"`
	PriceListID    patch.Field[uuid.UUID]   `json:"price_list_id" patch:"nullable"`
	PaymentTermsID patch.Field[uuid.UUID]   `json:"payment_terms_id" patch:"nullable"`
	CreditLimit    patch.Field[money.Value] `json:"credit_limit" patch:"nullable"`
	CreditDays     patch.Field[int32]       `json:"credit_days" patch:"nullable"`
	DiscountRate   patch.Field[money.Value] `json:"discount_rate" patch:"nullable"`
}

func (req groupRequest) toPatch() (Patch, error) {
	p := Patch{
		Category:       req.Category.Value,
		Code:           req.Code.Value,
		Name:           req.Name.Value,
		PriceListID:    req.PriceListID,
		PaymentTermsID: req.PaymentTermsID,
		CreditLimit:    req.CreditLimit,
		CreditDays:     req.CreditDays,
		DiscountRate:   req.DiscountRate,
	}
	return p, patch.NotNull(req).Err()
}

type groupListResponse struct {
	Items      []groupResponse `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

func (h *Handler) create(c *fiber.Ctx) error {
	var req groupRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	p, err := req.toPatch()
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		g, err := h.svc.Create(ctx, tx, p)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(g.Version))
		c.Set(fiber.HeaderLocation, "/v1/customer-groups/"+g.ID.String())
		return c.Status(fiber.StatusCreated).JSON(toGroupResponse(g))
	})
}

func (h *Handler) get(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		g, err := h.svc.Get(ctx, tx, id)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(g.Version))
		return c.JSON(toGroupResponse(g))
	}, database.ReadOnly)
}

func (h *Handler) list(c *fiber.Ctx) error {
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	code, err := httpapi.QueryText(c, "code", MaxNameLength)
	if err != nil {
		return err
	}
	name, err := httpapi.QueryText(c, "name", MaxNameLength)
	if err != nil {
		return err
	}
	match := strings.ToLower(strings.TrimSpace(c.Query("match")))
	if match == "" {
		match = MatchAny
	}
	if !slices.Contains(MatchModes, match) {
		return httpapi.BadRequest("match", "invalid_choice", "must be one of: "+strings.Join(MatchModes, ", "))
	}
	var category *string
	if raw := c.Query("category"); strings.TrimSpace(raw) != "" {
		k, ok := NormalizeCategory(raw)
		if !ok {
			return httpapi.BadRequest("category", "invalid_category", "must be a category key such as region")
		}
		k = strings.Clone(k)
		category = &k
	}
	var after Cursor
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return err
	}
	lp := ListParams{Code: code, Name: name, Match: strings.Clone(match), Category: category, Limit: limit + 1}
	if has {
		lp.After = &after
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		groups, err := h.svc.List(ctx, tx, lp)
		if err != nil {
			return err
		}
		resp := groupListResponse{Items: make([]groupResponse, 0, len(groups))}
		if len(groups) > int(limit) {
			groups = groups[:limit]
			last := groups[len(groups)-1]
			next := httpapi.EncodeCursor(Cursor{UpdatedAt: last.UpdatedAt, ID: last.ID})
			resp.NextCursor = &next
		}
		for _, g := range groups {
			resp.Items = append(resp.Items, toGroupResponse(g))
		}
		return c.JSON(resp)
	}, database.ReadOnly, database.CustomPlans)
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
	var req groupRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	p, err := req.toPatch()
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		after, err := h.svc.Update(ctx, tx, id, want, p)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(after.Version))
		return c.JSON(toGroupResponse(after))
	})
}

func (h *Handler) delete(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		if _, err := h.svc.Delete(ctx, tx, id); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

// ---- categories ------------------------------------------------------------

type categoryRequest struct {
	Name     patch.Field[string] `json:"name"`
	Position patch.Field[int32]  `json:"position"`
}

type categoryListResponse struct {
	Items      []categoryResponse `json:"items"`
	NextCursor *string            `json:"next_cursor"`
}

func (h *Handler) listCategories(c *fiber.Ctx) error {
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	var after CategoryCursor
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return err
	}
	var cursor *CategoryCursor
	if has {
		cursor = &after
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		cats, err := h.svc.ListCategories(ctx, tx, cursor, limit+1)
		if err != nil {
			return err
		}
		resp := categoryListResponse{Items: make([]categoryResponse, 0, len(cats))}
		if len(cats) > int(limit) {
			cats = cats[:limit]
			last := cats[len(cats)-1]
			next := httpapi.EncodeCursor(CategoryCursor{Position: last.Position, Key: last.Key})
			resp.NextCursor = &next
		}
		for _, cat := range cats {
			resp.Items = append(resp.Items, toCategoryResponse(cat))
		}
		return c.JSON(resp)
	}, database.ReadOnly)
}

// patchCategory renames a category or moves it in the fallback order; it
// needs If-Match with the category's version (listed with it).
func (h *Handler) patchCategory(c *fiber.Ctx) error {
	key := strings.Clone(c.Params("key"))
	want, err := httpapi.IfMatch(c)
	if err != nil {
		return err
	}
	var req categoryRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	p := CategoryPatch{Name: req.Name.Value, Position: req.Position.Value}
	if err := patch.NotNull(req).Err(); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		after, err := h.svc.UpdateCategory(ctx, tx, key, want, p)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(after.Version))
		return c.JSON(toCategoryResponse(after))
	})
}
