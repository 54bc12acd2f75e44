package pricing

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

// Handler serves /v1/payment-terms and /v1/price-lists.
type Handler struct {
	db  database.Beginner
	svc *Service
}

// NewHandler returns a Handler.
func NewHandler(db database.Beginner, svc *Service) *Handler {
	return &Handler{db: db, svc: svc}
}

// Routes registers the package's routes. Reading terms and lists needs
// only customers:read, since customer screens show them; changing them is
// tenant configuration (settings:manage).
func (h *Handler) Routes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/payment-terms", Permission: auth.PermSettingsManage, Tag: "pricing",
		Summary: "Create payment terms", Status: fiber.StatusCreated,
		Request: createPaymentTermsRequest{}, Response: paymentTermsResponse{}, Handler: h.createPaymentTerms})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/payment-terms", Permission: auth.PermCustomersRead, Tag: "pricing",
		Summary: "List payment terms by code", Response: paymentTermsListResponse{}, Query: httpapi.PageParams,
		Handler: h.listPaymentTerms})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/payment-terms/:id", Permission: auth.PermCustomersRead, Tag: "pricing",
		Summary: "Get payment terms", Response: paymentTermsResponse{}, Handler: h.getPaymentTerms})
	r.Handle(httpapi.Route{Method: fiber.MethodPatch, Path: "/payment-terms/:id", Permission: auth.PermSettingsManage, Tag: "pricing",
		Summary: "Change payment terms (needs If-Match)", Request: patchPaymentTermsRequest{}, Response: paymentTermsResponse{},
		Handler: h.patchPaymentTerms})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/payment-terms/:id", Permission: auth.PermSettingsManage, Tag: "pricing",
		Summary: "Delete payment terms no customer, group or tenant setting refers to", Status: fiber.StatusNoContent,
		Handler: h.deletePaymentTerms})

	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/price-lists", Permission: auth.PermSettingsManage, Tag: "pricing",
		Summary: "Create a price list", Status: fiber.StatusCreated,
		Request: createPriceListRequest{}, Response: priceListResponse{}, Handler: h.createPriceList})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/price-lists", Permission: auth.PermCustomersRead, Tag: "pricing",
		Summary: "List price lists by code", Response: priceListListResponse{}, Query: httpapi.PageParams,
		Handler: h.listPriceLists})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/price-lists/:id", Permission: auth.PermCustomersRead, Tag: "pricing",
		Summary: "Get a price list", Response: priceListResponse{}, Handler: h.getPriceList})
	r.Handle(httpapi.Route{Method: fiber.MethodPatch, Path: "/price-lists/:id", Permission: auth.PermSettingsManage, Tag: "pricing",
		Summary: "Change a price list (needs If-Match)", Request: patchPriceListRequest{}, Response: priceListResponse{},
		Handler: h.patchPriceList})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/price-lists/:id", Permission: auth.PermSettingsManage, Tag: "pricing",
		Summary: "Delete a price list no customer or group refers to", Status: fiber.StatusNoContent,
		Handler: h.deletePriceList})
}

// mapError turns the package's errors into HTTP errors.
func mapError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrPaymentTermsNotFound):
		return httpapi.NotFound("payment terms")
	case errors.Is(err, ErrPriceListNotFound):
		return httpapi.NotFound("price list")
	case errors.Is(err, ErrCodeTaken):
		return httpapi.Conflict("code", "code_taken", "this code is already used")
	case errors.Is(err, ErrPaymentTermsInUse):
		return httpapi.Conflict("", "in_use", "customers, groups or the tenant settings still use these payment terms; point them elsewhere first")
	case errors.Is(err, ErrPriceListInUse):
		return httpapi.Conflict("", "in_use", "customers or groups still use this price list; point them elsewhere first")
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

// notNull reports the fields of a PATCH that were sent as null but cannot
// be cleared.
func notNull(nulls map[string]bool) error {
	var errs validation.Errors
	for _, f := range []string{"code", "name", "due_days", "currency"} {
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

func pageCursor(c *fiber.Ctx) (*Cursor, error) {
	var after Cursor
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil || !has {
		return nil, err
	}
	return &after, nil
}

// ---- payment terms ----------------------------------------------------------

type createPaymentTermsRequest struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	DueDays *int64 `json:"due_days"`
}

type patchPaymentTermsRequest struct {
	Code    httpapi.Optional[string] `json:"code"`
	Name    httpapi.Optional[string] `json:"name"`
	DueDays httpapi.Optional[int64]  `json:"due_days"`
}

type paymentTermsResponse struct {
	ID        uuid.UUID `json:"id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	DueDays   int32     `json:"due_days"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toPaymentTermsResponse(pt dbsqlc.PaymentTerm) paymentTermsResponse {
	return paymentTermsResponse{ID: pt.ID, Code: pt.Code, Name: pt.Name, DueDays: pt.DueDays,
		Version: pt.Version, CreatedAt: pt.CreatedAt, UpdatedAt: pt.UpdatedAt}
}

type paymentTermsListResponse struct {
	Items      []paymentTermsResponse `json:"items"`
	NextCursor *string                `json:"next_cursor"`
}

// toInput converts and validates the body; due_days has no sensible
// default (0 means due at once), so it must be sent.
func (req createPaymentTermsRequest) toInput() (PaymentTermsInput, error) {
	in := PaymentTermsInput{Code: req.Code, Name: req.Name}
	if req.DueDays != nil {
		in.DueDays = *req.DueDays
	}
	err := in.Validate()
	if req.DueDays != nil {
		return in, err
	}
	errs, _ := err.(validation.Errors)
	errs.Add("due_days", "required", "must be given: the number of days until payment is due")
	return in, errs
}

func (h *Handler) createPaymentTerms(c *fiber.Ctx) error {
	var req createPaymentTermsRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in, err := req.toInput()
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		pt, err := h.svc.PaymentTermsCreate(ctx, tx, in)
		if err != nil {
			return err
		}
		resp := toPaymentTermsResponse(pt)
		if err := audit.Record(ctx, tx, audit.Event{Entity: EntityPaymentTerms, EntityID: pt.ID, Action: audit.ActionCreate, After: resp}); err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(pt.Version))
		c.Set(fiber.HeaderLocation, "/v1/payment-terms/"+pt.ID.String())
		return c.Status(fiber.StatusCreated).JSON(resp)
	})
}

func (h *Handler) listPaymentTerms(c *fiber.Ctx) error {
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	after, err := pageCursor(c)
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		rows, err := h.svc.PaymentTermsList(ctx, tx, after, limit+1)
		if err != nil {
			return err
		}
		resp := paymentTermsListResponse{Items: make([]paymentTermsResponse, 0, len(rows))}
		if len(rows) > int(limit) {
			rows = rows[:limit]
			last := rows[len(rows)-1]
			next := httpapi.EncodeCursor(Cursor{Code: last.Code, ID: last.ID})
			resp.NextCursor = &next
		}
		for _, r := range rows {
			resp.Items = append(resp.Items, toPaymentTermsResponse(r))
		}
		return c.JSON(resp)
	}, database.ReadOnly)
}

func (h *Handler) getPaymentTerms(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		pt, err := h.svc.PaymentTermsGet(ctx, tx, id)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(pt.Version))
		return c.JSON(toPaymentTermsResponse(pt))
	}, database.ReadOnly)
}

func (h *Handler) patchPaymentTerms(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	version, err := httpapi.IfMatch(c)
	if err != nil {
		return err
	}
	var req patchPaymentTermsRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	if err := notNull(map[string]bool{
		"code": req.Code.Set && req.Code.Null, "name": req.Name.Set && req.Name.Null, "due_days": req.DueDays.Set && req.DueDays.Null,
	}); err != nil {
		return err
	}
	patch := PaymentTermsPatch{Code: optionalValue(req.Code), Name: optionalValue(req.Name), DueDays: optionalValue(req.DueDays)}
	if err := patch.Validate(); err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		before, after, err := h.svc.PaymentTermsUpdate(ctx, tx, id, version, patch)
		if err != nil {
			return err
		}
		resp := toPaymentTermsResponse(after)
		if err := audit.Record(ctx, tx, audit.Event{Entity: EntityPaymentTerms, EntityID: id, Action: audit.ActionUpdate,
			Before: toPaymentTermsResponse(before), After: resp}); err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(after.Version))
		return c.JSON(resp)
	})
}

func (h *Handler) deletePaymentTerms(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		before, err := h.svc.PaymentTermsDelete(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Entity: EntityPaymentTerms, EntityID: id, Action: audit.ActionDelete,
			Before: toPaymentTermsResponse(before)}); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

// ---- price lists ------------------------------------------------------------

type createPriceListRequest struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Currency string `json:"currency"`
}

type patchPriceListRequest struct {
	Code     httpapi.Optional[string] `json:"code"`
	Name     httpapi.Optional[string] `json:"name"`
	Currency httpapi.Optional[string] `json:"currency"`
}

type priceListResponse struct {
	ID        uuid.UUID `json:"id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Currency  string    `json:"currency"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toPriceListResponse(pl dbsqlc.PriceList) priceListResponse {
	return priceListResponse{ID: pl.ID, Code: pl.Code, Name: pl.Name, Currency: pl.Currency,
		Version: pl.Version, CreatedAt: pl.CreatedAt, UpdatedAt: pl.UpdatedAt}
}

type priceListListResponse struct {
	Items      []priceListResponse `json:"items"`
	NextCursor *string             `json:"next_cursor"`
}

func (h *Handler) createPriceList(c *fiber.Ctx) error {
	var req createPriceListRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in := PriceListInput{Code: req.Code, Name: req.Name, Currency: req.Currency}
	if err := in.Validate(); err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		pl, err := h.svc.PriceListCreate(ctx, tx, in)
		if err != nil {
			return err
		}
		resp := toPriceListResponse(pl)
		if err := audit.Record(ctx, tx, audit.Event{Entity: EntityPriceList, EntityID: pl.ID, Action: audit.ActionCreate, After: resp}); err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(pl.Version))
		c.Set(fiber.HeaderLocation, "/v1/price-lists/"+pl.ID.String())
		return c.Status(fiber.StatusCreated).JSON(resp)
	})
}

func (h *Handler) listPriceLists(c *fiber.Ctx) error {
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	after, err := pageCursor(c)
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		rows, err := h.svc.PriceListList(ctx, tx, after, limit+1)
		if err != nil {
			return err
		}
		resp := priceListListResponse{Items: make([]priceListResponse, 0, len(rows))}
		if len(rows) > int(limit) {
			rows = rows[:limit]
			last := rows[len(rows)-1]
			next := httpapi.EncodeCursor(Cursor{Code: last.Code, ID: last.ID})
			resp.NextCursor = &next
		}
		for _, r := range rows {
			resp.Items = append(resp.Items, toPriceListResponse(r))
		}
		return c.JSON(resp)
	}, database.ReadOnly)
}

func (h *Handler) getPriceList(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		pl, err := h.svc.PriceListGet(ctx, tx, id)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(pl.Version))
		return c.JSON(toPriceListResponse(pl))
	}, database.ReadOnly)
}

func (h *Handler) patchPriceList(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	version, err := httpapi.IfMatch(c)
	if err != nil {
		return err
	}
	var req patchPriceListRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	if err := notNull(map[string]bool{
		"code": req.Code.Set && req.Code.Null, "name": req.Name.Set && req.Name.Null, "currency": req.Currency.Set && req.Currency.Null,
	}); err != nil {
		return err
	}
	patch := PriceListPatch{Code: optionalValue(req.Code), Name: optionalValue(req.Name), Currency: optionalValue(req.Currency)}
	if err := patch.Validate(); err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		before, after, err := h.svc.PriceListUpdate(ctx, tx, id, version, patch)
		if err != nil {
			return err
		}
		resp := toPriceListResponse(after)
		if err := audit.Record(ctx, tx, audit.Event{Entity: EntityPriceList, EntityID: id, Action: audit.ActionUpdate,
			Before: toPriceListResponse(before), After: resp}); err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(after.Version))
		return c.JSON(resp)
	})
}

func (h *Handler) deletePriceList(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		before, err := h.svc.PriceListDelete(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Entity: EntityPriceList, EntityID: id, Action: audit.ActionDelete,
			Before: toPriceListResponse(before)}); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}
