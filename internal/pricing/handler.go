package pricing

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
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
	r = r.WithErrors(mapError)
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

func pageCursor(c *fiber.Ctx) (*Cursor, error) {
	var after Cursor
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil || !has {
		return nil, err
	}
	return &after, nil
}
