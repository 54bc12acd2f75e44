package settings

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
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

// tx runs fn in the request's tenant transaction (httpapi.Tx: idempotency
// keys included); fn writes the response.
func (h *Handler) tx(c *fiber.Ctx, fn func(ctx context.Context, tx database.Tx) error, opts ...database.TxOption) error {
	return mapError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		return fn(ctx, tx)
	}, opts...))
}

// notNull reports the fields of a PATCH sent as null that cannot be
// cleared, in the order given.
func notNull(fields []string, nulls map[string]bool) error {
	var errs validation.Errors
	for _, f := range fields {
		if nulls[f] {
			errs.Add(f, "not_nullable", "must not be null")
		}
	}
	return errs.Err()
}

func optionalValue[T any](o httpapi.Optional[T]) *T {
	if !o.Set || o.Null {
		return nil
	}
	v := o.Value
	return &v
}

// ---- settings ---------------------------------------------------------------

type settingsResponse struct {
	RequiredFields        []string   `json:"required_fields"`
	DefaultCountry        string     `json:"default_country"`
	DefaultCurrency       string     `json:"default_currency"`
	DefaultPaymentTermsID *uuid.UUID `json:"default_payment_terms_id"`
	DefaultCreditPolicy   string     `json:"default_credit_policy"`
	DormantAfterDays      int32      `json:"dormant_after_days"`
	// DormantIncludeOpenBalance: the dormant sweep takes customers who owe
	// money too (default false).
	DormantIncludeOpenBalance bool `json:"dormant_include_open_balance"`
	// DormantSweepHour is the hour (UTC, 0-23) of the daily dormant sweep.
	DormantSweepHour int32     `json:"dormant_sweep_hour"`
	Version          int64     `json:"version"`
	UpdatedAt        time.Time `json:"updated_at"`
}

func toSettingsResponse(s Settings) settingsResponse {
	return settingsResponse(s)
}

type patchSettingsRequest struct {
	RequiredFields            httpapi.Optional[[]string]  `json:"required_fields"`
	DefaultCountry            httpapi.Optional[string]    `json:"default_country"`
	DefaultCurrency           httpapi.Optional[string]    `json:"default_currency"`
	DefaultPaymentTermsID     httpapi.Optional[uuid.UUID] `json:"default_payment_terms_id"`
	DefaultCreditPolicy       httpapi.Optional[string]    `json:"default_credit_policy"`
	DormantAfterDays          httpapi.Optional[int64]     `json:"dormant_after_days"`
	DormantIncludeOpenBalance httpapi.Optional[bool]      `json:"dormant_include_open_balance"`
	DormantSweepHour          httpapi.Optional[int64]     `json:"dormant_sweep_hour"`
}

func (req patchSettingsRequest) toPatch() (SettingsPatch, error) {
	var p SettingsPatch
	err := notNull([]string{"required_fields", "default_country", "default_currency", "default_credit_policy", "dormant_after_days",
		"dormant_include_open_balance", "dormant_sweep_hour"},
		map[string]bool{
			"required_fields": req.RequiredFields.Set && req.RequiredFields.Null,
			"default_country": req.DefaultCountry.Set && req.DefaultCountry.Null, "default_currency": req.DefaultCurrency.Set && req.DefaultCurrency.Null,
			"default_credit_policy":        req.DefaultCreditPolicy.Set && req.DefaultCreditPolicy.Null,
			"dormant_after_days":           req.DormantAfterDays.Set && req.DormantAfterDays.Null,
			"dormant_include_open_balance": req.DormantIncludeOpenBalance.Set && req.DormantIncludeOpenBalance.Null,
			"dormant_sweep_hour":           req.DormantSweepHour.Set && req.DormantSweepHour.Null,
		})
	if err != nil {
		return p, err
	}
	p.RequiredFields = optionalValue(req.RequiredFields)
	p.DefaultCountry = optionalValue(req.DefaultCountry)
	p.DefaultCurrency = optionalValue(req.DefaultCurrency)
	p.DefaultCreditPolicy = optionalValue(req.DefaultCreditPolicy)
	p.DormantAfterDays = optionalValue(req.DormantAfterDays)
	p.DormantIncludeOpenBalance = optionalValue(req.DormantIncludeOpenBalance)
	p.DormantSweepHour = optionalValue(req.DormantSweepHour)
	if req.DefaultPaymentTermsID.Set {
		p.DefaultPaymentTermsIDSet = true
		p.DefaultPaymentTermsID = optionalValue(req.DefaultPaymentTermsID)
	}
	return p, p.Validate()
}

func (h *Handler) getSettings(c *fiber.Ctx) error {
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
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
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		before, after, err := h.svc.Update(ctx, tx, want, patch)
		if err != nil {
			return err
		}
		resp := toSettingsResponse(after)
		if err := audit.Record(ctx, tx, audit.Event{Entity: audit.EntitySettings, EntityID: tx.TenantID(), Action: audit.ActionUpdate,
			Before: toSettingsResponse(before), After: resp}); err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(after.Version))
		return c.JSON(resp)
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
	Label    httpapi.Optional[string]   `json:"label"`
	Required httpapi.Optional[bool]     `json:"required"`
	Options  httpapi.Optional[[]string] `json:"options"`
	Position httpapi.Optional[int64]    `json:"position"`
}

type fieldResponse struct {
	ID        uuid.UUID `json:"id"`
	Key       string    `json:"key"`
	Label     string    `json:"label"`
	Type      string    `json:"type"`
	Required  bool      `json:"required"`
	Options   []string  `json:"options"`
	Position  int32     `json:"position"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toFieldResponse(f dbsqlc.CustomFieldDef) fieldResponse {
	opts := f.Options
	if opts == nil {
		opts = []string{}
	}
	return fieldResponse{ID: f.ID, Key: f.Key, Label: f.Label, Type: f.Type, Required: f.Required, Options: opts,
		Position: f.Position, Version: f.Version, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}
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
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		f, err := h.svc.FieldCreate(ctx, tx, in)
		if err != nil {
			return err
		}
		resp := toFieldResponse(f)
		if err := audit.Record(ctx, tx, audit.Event{Entity: audit.EntityCustomField, EntityID: f.ID, Action: audit.ActionCreate, After: resp}); err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(f.Version))
		c.Set(fiber.HeaderLocation, "/v1/custom-fields/"+f.ID.String())
		return c.Status(fiber.StatusCreated).JSON(resp)
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
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
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
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
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
	if err := notNull([]string{"label", "required", "options", "position"}, map[string]bool{
		"label": req.Label.Set && req.Label.Null, "required": req.Required.Set && req.Required.Null,
		"options": req.Options.Set && req.Options.Null, "position": req.Position.Set && req.Position.Null,
	}); err != nil {
		return err
	}
	patch := FieldPatch{Label: optionalValue(req.Label), Required: optionalValue(req.Required),
		Options: optionalValue(req.Options), Position: optionalValue(req.Position)}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		before, after, err := h.svc.FieldUpdate(ctx, tx, id, want, patch)
		if err != nil {
			return err
		}
		resp := toFieldResponse(after)
		if err := audit.Record(ctx, tx, audit.Event{Entity: audit.EntityCustomField, EntityID: id, Action: audit.ActionUpdate,
			Before: toFieldResponse(before), After: resp}); err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(after.Version))
		return c.JSON(resp)
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
		before, _, err := h.svc.FieldDelete(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Entity: audit.EntityCustomField, EntityID: id, Action: audit.ActionDelete,
			Before: toFieldResponse(before)}); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}))
}
