package pricing

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

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
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
