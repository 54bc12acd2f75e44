package pricing

import (
	"context"
	"errors"
	"fmt"
	"net/url"
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

// Handler serves /v1/payment-terms, /v1/price-lists (with their item
// prices), /v1/items, and customers' prices under /v1/customers/{id}/prices.
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
		IfMatch: true, Handler: h.patchPaymentTerms})
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
		IfMatch: true, Handler: h.patchPriceList})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/price-lists/:id", Permission: auth.PermSettingsManage, Tag: "pricing",
		Summary: "Delete a price list no customer or group refers to", Status: fiber.StatusNoContent,
		Handler: h.deletePriceList})

	// Items and list prices are tenant configuration like the lists; a
	// customer's own price is part of working the customer (customers:write,
	// within the caller's visibility).
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/items", Permission: auth.PermSettingsManage, Tag: "pricing",
		Summary: "Create an item (base price in the tenant's default currency)", Status: fiber.StatusCreated,
		Request: createItemRequest{}, Response: itemResponse{}, Handler: h.createItem})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/items", Permission: auth.PermCustomersRead, Tag: "pricing",
		Summary: "List items by SKU", Response: itemListResponse{}, Handler: h.listItems,
		Query: append([]httpapi.Param{
			{Name: "q", Description: "text in the SKU or name, ignoring case"},
			{Name: "active", Type: "boolean", Description: "only active (true) or retired (false) items"},
		}, httpapi.PageParams...)})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/items/:id", Permission: auth.PermCustomersRead, Tag: "pricing",
		Summary: "Get an item", Response: itemResponse{}, Handler: h.getItem})
	r.Handle(httpapi.Route{Method: fiber.MethodPatch, Path: "/items/:id", Permission: auth.PermSettingsManage, Tag: "pricing",
		Summary: "Change an item, or retire it with active=false (needs If-Match)", Request: patchItemRequest{}, Response: itemResponse{},
		IfMatch: true, Handler: h.patchItem})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/items/:id", Permission: auth.PermSettingsManage, Tag: "pricing",
		Summary: "Delete an item no order line uses, with its prices", Status: fiber.StatusNoContent, Handler: h.deleteItem})

	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/price-lists/:id/items", Permission: auth.PermCustomersRead, Tag: "pricing",
		Summary: "List a price list's item prices by SKU", Response: listPriceListResponse{}, Query: httpapi.PageParams,
		Handler: h.listListPrices})
	r.Handle(httpapi.Route{Method: fiber.MethodPut, Path: "/price-lists/:id/items/:sku", Permission: auth.PermSettingsManage, Tag: "pricing",
		Summary: "Set an item's price in a price list, in the list's currency (201 when new); a SKU with / is sent as %2F",
		Request: priceRequest{}, Response: listPriceResponse{}, Handler: h.setListPrice})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/price-lists/:id/items/:sku", Permission: auth.PermSettingsManage, Tag: "pricing",
		Summary: "Remove an item's price from a price list", Status: fiber.StatusNoContent, Handler: h.deleteListPrice})

	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/customers/:id/prices", Permission: auth.PermCustomersRead, Tag: "pricing",
		Summary: "A customer's unit price for each item and where it came from", Response: quotesResponse{}, Handler: h.customerQuotes,
		Query: []httpapi.Param{{Name: "items", Description: "1 to 100 comma-separated SKUs (required)"}}})
	r.Handle(httpapi.Route{Method: fiber.MethodPut, Path: "/customers/:id/prices/:sku", Permission: auth.PermCustomersWrite, Tag: "pricing",
		Summary: "Set a customer's own price for an item, in the customer's currency (201 when new)",
		Request: priceRequest{}, Response: customerPriceResponse{}, Handler: h.setCustomerPrice})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/customers/:id/prices/:sku", Permission: auth.PermCustomersWrite, Tag: "pricing",
		Summary: "Remove a customer's own price for an item", Status: fiber.StatusNoContent, Handler: h.deleteCustomerPrice})
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
	case errors.Is(err, ErrItemNotFound):
		return httpapi.NotFound("item")
	case errors.Is(err, ErrCustomerNotFound):
		return httpapi.NotFound("customer")
	case errors.Is(err, ErrPriceNotFound):
		return httpapi.NotFound("price")
	case errors.Is(err, ErrSKUTaken):
		return httpapi.Conflict("sku", "sku_taken", "this SKU is already used")
	case errors.Is(err, ErrItemInUse):
		return httpapi.Conflict("", "in_use", "order lines use this item; retire it with active=false instead")
	case errors.Is(err, ErrPriceListHasPrices):
		return httpapi.Conflict("currency", "has_prices",
			"the list holds item prices in its current currency; remove them, or create a list in the other currency")
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
	for _, f := range []string{"code", "sku", "name", "due_days", "currency", "base_price", "active"} {
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
	want, err := httpapi.IfMatch(c)
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
		before, after, err := h.svc.PaymentTermsUpdate(ctx, tx, id, want, patch)
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
	want, err := httpapi.IfMatch(c)
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
		before, after, err := h.svc.PriceListUpdate(ctx, tx, id, want, patch)
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

// ---- items ------------------------------------------------------------------

type createItemRequest struct {
	SKU       string       `json:"sku"`
	Name      string       `json:"name"`
	BasePrice *money.Value `json:"base_price"`
}

type patchItemRequest struct {
	SKU       httpapi.Optional[string]      `json:"sku"`
	Name      httpapi.Optional[string]      `json:"name"`
	BasePrice httpapi.Optional[money.Value] `json:"base_price"`
	Active    httpapi.Optional[bool]        `json:"active"`
}

// itemResponse shows the base price in the tenant's default currency,
// which Currency names.
type itemResponse struct {
	ID        uuid.UUID `json:"id"`
	SKU       string    `json:"sku"`
	Name      string    `json:"name"`
	BasePrice string    `json:"base_price"`
	Currency  string    `json:"currency"`
	Active    bool      `json:"active"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toItemResponse(it dbsqlc.Item, currency string) itemResponse {
	return itemResponse{ID: it.ID, SKU: it.Sku, Name: it.Name, BasePrice: FormatPrice(it.BasePrice, currency), Currency: currency,
		Active: it.Active, Version: it.Version, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt}
}

type itemListResponse struct {
	Items      []itemResponse `json:"items"`
	NextCursor *string        `json:"next_cursor"`
}

// toInput converts and validates the body; a base price must be sent (0 is
// a price, not a default).
func (req createItemRequest) toInput() (ItemInput, error) {
	in := ItemInput{SKU: req.SKU, Name: req.Name}
	if req.BasePrice != nil {
		in.BasePrice = *req.BasePrice
	}
	err := in.Validate()
	if req.BasePrice != nil {
		return in, err
	}
	errs, _ := err.(validation.Errors)
	errs.Add("base_price", "required", "must be given, in the tenant's default currency")
	return in, errs
}

func (h *Handler) createItem(c *fiber.Ctx) error {
	var req createItemRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in, err := req.toInput()
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		it, err := h.svc.ItemCreate(ctx, tx, in)
		if err != nil {
			return err
		}
		cur, err := h.svc.TenantCurrency(ctx, tx)
		if err != nil {
			return err
		}
		resp := toItemResponse(it, cur)
		if err := audit.Record(ctx, tx, audit.Event{Entity: EntityItem, EntityID: it.ID, Action: audit.ActionCreate, After: resp}); err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(it.Version))
		c.Set(fiber.HeaderLocation, "/v1/items/"+it.ID.String())
		return c.Status(fiber.StatusCreated).JSON(resp)
	})
}

func (h *Handler) listItems(c *fiber.Ctx) error {
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	var p ItemListParams
	p.Limit = limit + 1
	if p.Q, err = httpapi.QueryText(c, "q", 200); err != nil {
		return err
	}
	switch c.Query("active") {
	case "":
	case "true", "false":
		v := c.Query("active") == "true"
		p.Active = &v
	default:
		return httpapi.BadRequest("active", "invalid_boolean", "must be true or false")
	}
	var after ItemCursor
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return err
	}
	if has {
		p.After = &after
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		rows, err := h.svc.ItemList(ctx, tx, p)
		if err != nil {
			return err
		}
		cur, err := h.svc.TenantCurrency(ctx, tx)
		if err != nil {
			return err
		}
		resp := itemListResponse{Items: make([]itemResponse, 0, len(rows))}
		if len(rows) > int(limit) {
			rows = rows[:limit]
			last := rows[len(rows)-1]
			next := httpapi.EncodeCursor(ItemCursor{SKU: last.Sku, ID: last.ID})
			resp.NextCursor = &next
		}
		for _, r := range rows {
			resp.Items = append(resp.Items, toItemResponse(r, cur))
		}
		return c.JSON(resp)
	}, database.ReadOnly, database.CustomPlans)
}

func (h *Handler) getItem(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		it, err := h.svc.ItemGet(ctx, tx, id)
		if err != nil {
			return err
		}
		cur, err := h.svc.TenantCurrency(ctx, tx)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(it.Version))
		return c.JSON(toItemResponse(it, cur))
	}, database.ReadOnly)
}

func (h *Handler) patchItem(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	want, err := httpapi.IfMatch(c)
	if err != nil {
		return err
	}
	var req patchItemRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	if err := notNull(map[string]bool{
		"sku": req.SKU.Set && req.SKU.Null, "name": req.Name.Set && req.Name.Null,
		"base_price": req.BasePrice.Set && req.BasePrice.Null, "active": req.Active.Set && req.Active.Null,
	}); err != nil {
		return err
	}
	patch := ItemPatch{SKU: optionalValue(req.SKU), Name: optionalValue(req.Name), BasePrice: optionalValue(req.BasePrice),
		Active: optionalValue(req.Active)}
	if err := patch.Validate(); err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		before, after, err := h.svc.ItemUpdate(ctx, tx, id, want, patch)
		if err != nil {
			return err
		}
		cur, err := h.svc.TenantCurrency(ctx, tx)
		if err != nil {
			return err
		}
		resp := toItemResponse(after, cur)
		if err := audit.Record(ctx, tx, audit.Event{Entity: EntityItem, EntityID: id, Action: audit.ActionUpdate,
			Before: toItemResponse(before, cur), After: resp}); err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(after.Version))
		return c.JSON(resp)
	})
}

func (h *Handler) deleteItem(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		before, err := h.svc.ItemDelete(ctx, tx, id)
		if err != nil {
			return err
		}
		cur, err := h.svc.TenantCurrency(ctx, tx)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Entity: EntityItem, EntityID: id, Action: audit.ActionDelete,
			Before: toItemResponse(before, cur)}); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

// ---- item prices ------------------------------------------------------------

type priceRequest struct {
	Price *money.Value `json:"price"`
}

func (req priceRequest) toInput() (PriceInput, error) {
	if req.Price == nil {
		return PriceInput{}, validation.Errors{{Field: "price", Code: "required", Message: "must be given"}}
	}
	in := PriceInput{Price: *req.Price}
	return in, in.Validate()
}

// listPriceResponse is an item's price in a price list, in the list's
// currency. It is also what the audit trail records of such a price.
type listPriceResponse struct {
	PriceListID uuid.UUID `json:"price_list_id"`
	SKU         string    `json:"sku"`
	ItemID      uuid.UUID `json:"item_id"`
	Name        string    `json:"name"`
	Price       string    `json:"price"`
	Currency    string    `json:"currency"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func toListPriceResponse(p ItemPrice) listPriceResponse {
	return listPriceResponse{PriceListID: *p.PriceListID, SKU: p.SKU, ItemID: p.ItemID, Name: p.Name,
		Price: FormatPrice(p.Price, p.Currency), Currency: p.Currency, UpdatedAt: p.UpdatedAt}
}

type listPriceListResponse struct {
	Items      []listPriceResponse `json:"items"`
	NextCursor *string             `json:"next_cursor"`
}

// customerPriceResponse is a customer's own price for an item, in the
// customer's currency. It is also what the audit trail records of it.
type customerPriceResponse struct {
	CustomerID uuid.UUID `json:"customer_id"`
	SKU        string    `json:"sku"`
	ItemID     uuid.UUID `json:"item_id"`
	Name       string    `json:"name"`
	Price      string    `json:"price"`
	Currency   string    `json:"currency"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func toCustomerPriceResponse(p ItemPrice) customerPriceResponse {
	return customerPriceResponse{CustomerID: *p.CustomerID, SKU: p.SKU, ItemID: p.ItemID, Name: p.Name,
		Price: FormatPrice(p.Price, p.Currency), Currency: p.Currency, UpdatedAt: p.UpdatedAt}
}

// skuParam reads the SKU of the path. A SKU may hold "/", which a client
// sends as %2F; Fiber matches routes on the escaped path and leaves
// parameters escaped.
func skuParam(c *fiber.Ctx) string {
	raw := c.Params("sku")
	if v, err := url.PathUnescape(raw); err == nil {
		raw = v
	}
	return strings.Clone(raw)
}

// recordPrice audits a price write: a create when there was no price, an
// update otherwise (nothing when the price did not change). customerID is
// the customer of a customer's own price, nil for a price list's.
func recordPrice(ctx context.Context, tx database.Tx, itemID uuid.UUID, customerID *uuid.UUID, before, after any) error {
	action := audit.ActionUpdate
	if before == nil {
		action = audit.ActionCreate
	}
	return audit.Record(ctx, tx, audit.Event{Entity: EntityPrice, EntityID: itemID, CustomerID: customerID, Action: action, Before: before, After: after})
}

func (h *Handler) listListPrices(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	var after ItemCursor
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return err
	}
	var cursor *ItemCursor
	if has {
		cursor = &after
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		rows, err := h.svc.PriceListItemList(ctx, tx, id, cursor, limit+1)
		if err != nil {
			return err
		}
		resp := listPriceListResponse{Items: make([]listPriceResponse, 0, len(rows))}
		if len(rows) > int(limit) {
			rows = rows[:limit]
			last := rows[len(rows)-1]
			next := httpapi.EncodeCursor(ItemCursor{SKU: last.SKU, ID: last.ItemID})
			resp.NextCursor = &next
		}
		for _, r := range rows {
			resp.Items = append(resp.Items, toListPriceResponse(r))
		}
		return c.JSON(resp)
	}, database.ReadOnly)
}

func (h *Handler) setListPrice(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	sku := skuParam(c)
	var req priceRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in, err := req.toInput()
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		before, after, err := h.svc.PriceListItemSet(ctx, tx, id, sku, in.Price.Decimal)
		if err != nil {
			return err
		}
		resp := toListPriceResponse(after)
		status := fiber.StatusCreated
		var old any
		if before != nil {
			status, old = fiber.StatusOK, toListPriceResponse(*before)
		}
		if err := recordPrice(ctx, tx, after.ItemID, nil, old, resp); err != nil {
			return err
		}
		return c.Status(status).JSON(resp)
	})
}

func (h *Handler) deleteListPrice(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	sku := skuParam(c)
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		before, err := h.svc.PriceListItemDelete(ctx, tx, id, sku)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Entity: EntityPrice, EntityID: before.ItemID, Action: audit.ActionDelete,
			Before: toListPriceResponse(before)}); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

func (h *Handler) setCustomerPrice(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	sku := skuParam(c)
	var req priceRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in, err := req.toInput()
	if err != nil {
		return err
	}
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		before, after, err := h.svc.CustomerPriceSet(ctx, tx, id, sku, in.Price.Decimal)
		if err != nil {
			return err
		}
		resp := toCustomerPriceResponse(after)
		status := fiber.StatusCreated
		var old any
		if before != nil {
			status, old = fiber.StatusOK, toCustomerPriceResponse(*before)
		}
		if err := recordPrice(ctx, tx, after.ItemID, after.CustomerID, old, resp); err != nil {
			return err
		}
		return c.Status(status).JSON(resp)
	})
}

func (h *Handler) deleteCustomerPrice(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	sku := skuParam(c)
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		before, err := h.svc.CustomerPriceDelete(ctx, tx, id, sku)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Entity: EntityPrice, EntityID: before.ItemID, CustomerID: before.CustomerID,
			Action: audit.ActionDelete, Before: toCustomerPriceResponse(before)}); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

// ---- price resolution -------------------------------------------------------

// MaxQuoteItems bounds the SKUs of one price query.
const MaxQuoteItems = 100

type priceListRef struct {
	ID   uuid.UUID `json:"id"`
	Code string    `json:"code"`
	Name string    `json:"name"`
}

type groupRef struct {
	ID       uuid.UUID `json:"id"`
	Category string    `json:"category"`
	Code     string    `json:"code"`
	Name     string    `json:"name"`
}

type quoteResponse struct {
	SKU    string    `json:"sku"`
	ItemID uuid.UUID `json:"item_id"`
	Name   string    `json:"name"`
	// ListPrice is before the discount, UnitPrice after; both null when no
	// price applies (source none).
	ListPrice    *string       `json:"list_price"`
	DiscountRate string        `json:"discount_rate"`
	UnitPrice    *string       `json:"unit_price"`
	Source       string        `json:"source"`
	PriceList    *priceListRef `json:"price_list"`
	Group        *groupRef     `json:"group"`
}

type quotesResponse struct {
	CustomerID uuid.UUID       `json:"customer_id"`
	Currency   string          `json:"currency"`
	Items      []quoteResponse `json:"items"`
}

// quoteSKUs reads the items parameter: 1 to MaxQuoteItems SKUs, separated
// by commas.
func quoteSKUs(c *fiber.Ctx) ([]string, error) {
	raw := strings.TrimSpace(c.Query("items"))
	if raw == "" {
		return nil, httpapi.BadRequest("items", "required", "give 1 to 100 comma-separated SKUs")
	}
	parts := strings.Split(raw, ",")
	if len(parts) > MaxQuoteItems {
		return nil, httpapi.BadRequest("items", "too_many", fmt.Sprintf("at most %d SKUs per request", MaxQuoteItems))
	}
	skus := make([]string, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, httpapi.BadRequest("items", "invalid_items", "an empty SKU between commas")
		}
		skus[i] = strings.Clone(p)
	}
	return skus, nil
}

func (h *Handler) customerQuotes(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	skus, skusErr := quoteSKUs(c)
	return h.tx(c, func(ctx context.Context, tx database.Tx) error {
		// The customer in the path comes first: one the caller cannot see
		// is a 404 whatever the items are.
		if skusErr != nil {
			if _, _, _, err := h.svc.customer(ctx, tx, id); err != nil {
				return err
			}
			return skusErr
		}
		cq, err := h.svc.QuotesForCustomer(ctx, tx, id, skus)
		var unknown *UnknownSKUError
		if errors.As(err, &unknown) {
			return httpapi.BadRequest("items", "unknown_item", fmt.Sprintf("no active item with SKU %q", unknown.SKU))
		}
		if err != nil {
			return err
		}
		cur := cq.Terms.Currency
		resp := quotesResponse{CustomerID: id, Currency: cur, Items: make([]quoteResponse, 0, len(cq.Quotes))}
		for _, q := range cq.Quotes {
			r := quoteResponse{SKU: q.SKU, ItemID: q.ItemID, Name: q.Name, DiscountRate: money.FormatRate(q.DiscountRate), Source: q.Source}
			if q.ListPrice != nil {
				l, u := FormatPrice(*q.ListPrice, cur), FormatPrice(*q.UnitPrice, cur)
				r.ListPrice, r.UnitPrice = &l, &u
			}
			if q.PriceListID != nil {
				pl := cq.PriceLists[*q.PriceListID]
				r.PriceList = &priceListRef{ID: pl.ID, Code: pl.Code, Name: pl.Name}
			}
			if q.GroupID != nil {
				for _, m := range cq.Detail.Groups {
					if m.GroupID == *q.GroupID {
						r.Group = &groupRef{ID: m.GroupID, Category: m.Category, Code: m.Code, Name: m.Name}
						break
					}
				}
			}
			resp.Items = append(resp.Items, r)
		}
		return c.JSON(resp)
	}, database.ReadOnly)
}
