package pricing

import (
	"context"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

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

type listPriceListResponse struct {
	Items      []listPriceResponse `json:"items"`
	NextCursor *string             `json:"next_cursor"`
}

// setStatus answers a price write: 201 for a new price, 200 for a changed
// one.
func setStatus(created bool) int {
	if created {
		return fiber.StatusCreated
	}
	return fiber.StatusOK
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
		after, created, err := h.svc.PriceListItemSet(ctx, tx, id, sku, in.Price.Decimal)
		if err != nil {
			return err
		}
		return c.Status(setStatus(created)).JSON(toListPriceResponse(after))
	})
}

func (h *Handler) deleteListPrice(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	sku := skuParam(c)
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		if _, err := h.svc.PriceListItemDelete(ctx, tx, id, sku); err != nil {
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
		after, created, err := h.svc.CustomerPriceSet(ctx, tx, id, sku, in.Price.Decimal)
		if err != nil {
			return err
		}
		return c.Status(setStatus(created)).JSON(toCustomerPriceResponse(after))
	})
}

func (h *Handler) deleteCustomerPrice(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	sku := skuParam(c)
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		if _, err := h.svc.CustomerPriceDelete(ctx, tx, id, sku); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}
