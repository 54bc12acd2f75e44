package settings

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/tenant"
)

// Handler serves /v1/settings and /v1/custom-fields.
type Handler struct {
	db  database.Beginner
	svc *Service
}

// NewHandler returns a Handler.
func NewHandler(db database.Beginner, svc *Service) *Handler {
	return &Handler{db: db, svc: svc}
}

// Routes registers the package's routes. Every user of a tenant may read
// its settings (clients need the defaults to fill forms); custom field
// definitions are read with customers:read, since they describe customer
// records; changing either is settings:manage.
func (h *Handler) Routes(r *httpapi.Router) {
	r = r.WithErrors(mapError)
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/settings", Permission: httpapi.Authenticated, Tag: "settings",
		Summary: "The tenant's settings", Response: settingsResponse{}, Handler: h.getSettings})
	r.Handle(httpapi.Route{Method: fiber.MethodPatch, Path: "/settings", Permission: auth.PermSettingsManage, Tag: "settings",
		Summary: "Change the tenant's settings (needs If-Match)", Request: patchSettingsRequest{}, Response: settingsResponse{},
		IfMatch: true, Handler: h.patchSettings})

	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/custom-fields", Permission: auth.PermSettingsManage, Tag: "settings",
		Summary: "Define a custom customer field (at most 50 per tenant)", Status: fiber.StatusCreated,
		Request: createFieldRequest{}, Response: fieldResponse{}, Handler: h.createField})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/custom-fields", Permission: auth.PermCustomersRead, Tag: "settings",
		Summary: "List custom field definitions by position, then key", Response: fieldListResponse{}, Query: httpapi.PageParams,
		Handler: h.listFields})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/custom-fields/:id", Permission: auth.PermCustomersRead, Tag: "settings",
		Summary: "Get a custom field definition", Response: fieldResponse{}, Handler: h.getField})
	r.Handle(httpapi.Route{Method: fiber.MethodPatch, Path: "/custom-fields/:id", Permission: auth.PermSettingsManage, Tag: "settings",
		Summary: "Change a custom field's label, required flag, options or position (needs If-Match; key and type are fixed)",
		Request: patchFieldRequest{}, Response: fieldResponse{}, IfMatch: true, Handler: h.patchField})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/custom-fields/:id", Permission: auth.PermSettingsManage, Tag: "settings",
		Summary: "Delete a custom field and its value on every customer", Status: fiber.StatusNoContent, Handler: h.deleteField})
}

// mapError turns the package's errors into HTTP errors.
func mapError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrFieldNotFound):
		return httpapi.NotFound("custom field")
	case errors.Is(err, ErrKeyTaken):
		return httpapi.Conflict("key", "key_taken", "a custom field with this key already exists")
	case errors.Is(err, ErrLimitReached):
		return httpapi.Conflict("", "limit_reached", "a tenant can have at most 50 custom fields; delete one first")
	case errors.Is(err, ErrVersionMismatch):
		return httpapi.PreconditionFailed()
	}
	return err
}

// ---- settings ---------------------------------------------------------------

type patchSettingsRequest struct {
	RequiredFields            patch.Field[[]string]  `json:"required_fields"`
	DefaultCountry            patch.Field[string]    `json:"default_country"`
	DefaultCurrency           patch.Field[string]    `json:"default_currency"`
	DefaultPaymentTermsID     patch.Field[uuid.UUID] `json:"default_payment_terms_id" patch:"nullable"`
	DefaultCreditPolicy       patch.Field[string]    `json:"default_credit_policy"`
	DormantAfterDays          patch.Field[int64]     `json:"dormant_after_days"`
	DormantIncludeOpenBalance patch.Field[bool]      `json:"dormant_include_open_balance"`
	DormantSweepHour          patch.Field[int64]     `json:"dormant_sweep_hour"`
}

func (req patchSettingsRequest) toPatch() (SettingsPatch, error) {
	var p SettingsPatch
	if err := patch.NotNull(req).Err(); err != nil {
		return p, err
	}
	p.RequiredFields = req.RequiredFields.Value
	p.DefaultCountry = req.DefaultCountry.Value
	p.DefaultCurrency = req.DefaultCurrency.Value
	p.DefaultCreditPolicy = req.DefaultCreditPolicy.Value
	p.DormantAfterDays = req.DormantAfterDays.Value
	p.DormantIncludeOpenBalance = req.DormantIncludeOpenBalance.Value
	p.DormantSweepHour = req.DormantSweepHour.Value
	p.DefaultPaymentTermsIDSet = req.DefaultPaymentTermsID.Set
	p.DefaultPaymentTermsID = req.DefaultPaymentTermsID.Value
	return p, p.Validate()
}

func (h *Handler) getSettings(c *fiber.Ctx) error {
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		s, err := h.svc.Get(ctx, tx)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(s.Version))
		return c.JSON(toSettingsResponse(s))
	}, database.ReadOnly)
}

func (h *Handler) patchSettings(c *fiber.Ctx) error {
	want, err := httpapi.IfMatch(c)
	if err != nil {
		return err
	}
	var req patchSettingsRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	patch, err := req.toPatch()
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		after, err := h.svc.Update(ctx, tx, want, patch)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(after.Version))
		return c.JSON(toSettingsResponse(after))
	})
}

// ---- custom fields ----------------------------------------------------------

type createFieldRequest struct {
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Required bool     `json:"required,omitempty"`
	Options  []string `json:"options,omitempty"`
	// Position orders the fields in forms and lists (default 0; equal
	// positions are ordered by key).
	Position int64 `json:"position,omitempty"`
}

type patchFieldRequest struct {
	Label    patch.Field[string]   `json:"label"`
	Required patch.Field[bool]     `json:"required"`
	Options  patch.Field[[]string] `json:"options"`
	Position patch.Field[int64]    `json:"position"`
}

type fieldListResponse struct {
	Items      []fieldResponse `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

func (h *Handler) createField(c *fiber.Ctx) error {
	var req createFieldRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in := FieldInput(req)
	if err := in.Validate(); err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		f, err := h.svc.FieldCreate(ctx, tx, in)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(f.Version))
		c.Set(fiber.HeaderLocation, "/v1/custom-fields/"+f.ID.String())
		return c.Status(fiber.StatusCreated).JSON(toFieldResponse(f))
	})
}

func (h *Handler) listFields(c *fiber.Ctx) error {
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	var after FieldCursor
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return err
	}
	var cursor *FieldCursor
	if has {
		cursor = &after
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		rows, err := h.svc.FieldList(ctx, tx, cursor, limit+1)
		if err != nil {
			return err
		}
		resp := fieldListResponse{Items: make([]fieldResponse, 0, len(rows))}
		if len(rows) > int(limit) {
			rows = rows[:limit]
			last := rows[len(rows)-1]
			next := httpapi.EncodeCursor(FieldCursor{Position: last.Position, Key: last.Key})
			resp.NextCursor = &next
		}
		for _, r := range rows {
			resp.Items = append(resp.Items, toFieldResponse(r))
		}
		return c.JSON(resp)
	}, database.ReadOnly)
}

func (h *Handler) getField(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		f, err := h.svc.FieldGet(ctx, tx, id)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(f.Version))
		return c.JSON(toFieldResponse(f))
	}, database.ReadOnly)
}

func (h *Handler) patchField(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	want, err := httpapi.IfMatch(c)
	if err != nil {
		return err
	}
	var req patchFieldRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	if err := patch.NotNull(req).Err(); err != nil {
		return err
	}
	fp := FieldPatch{Label: req.Label.Value, Required: req.Required.Value,
		Options: req.Options.Value, Position: req.Position.Value}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		after, err := h.svc.FieldUpdate(ctx, tx, id, want, fp)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(after.Version))
		return c.JSON(toFieldResponse(after))
	})
}

// deleteField opens its own transaction instead of httpapi.Tx: removing the
// field's values must reach every customer of the tenant, and the
// customers policy hides from an 'assigned' caller (a custom role may pair
// settings:manage with visibility 'assigned') the customers outside their
// scope, whose values would then outlive the definition. Deleting a field
// is a tenant-wide schema change that only settings:manage may make, so the
// transaction sees the whole tenant, still as the acting user. DELETE
// carries no Idempotency-Key, so nothing of httpapi.Tx is lost.
func (h *Handler) deleteField(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	p := tenant.MustFromContext(ctx)
	uid := p.UserID
	scope := database.Scope{TenantID: p.TenantID, UserID: &uid, Visibility: tenant.VisibilityAll}
	return mapError(database.WithTenantTx(ctx, h.db, scope, func(ctx context.Context, tx database.Tx) error {
		if _, _, err := h.svc.FieldDelete(ctx, tx, id); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}))
}
