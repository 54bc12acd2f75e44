package pricing

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// ---- items ------------------------------------------------------------------

type createItemRequest struct {
	SKU       string       `json:"sku"`
	Name      string       `json:"name"`
	BasePrice *money.Value `json:"base_price"`
}

type patchItemRequest struct {
	SKU       patch.Field[string]      `json:"sku"`
	Name      patch.Field[string]      `json:"name"`
	BasePrice patch.Field[money.Value] `json:"base_price"`
	Active    patch.Field[bool]        `json:"active"`
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
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		it, cur, err := h.svc.ItemCreate(ctx, tx, in)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(it.Version))
		c.Set(fiber.HeaderLocation, "/v1/items/"+it.ID.String())
		return c.Status(fiber.StatusCreated).JSON(toItemResponse(it, cur))
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
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
	if err := patch.NotNull(req).Err(); err != nil {
		return err
	}
	change := ItemPatch{SKU: req.SKU.Value, Name: req.Name.Value, BasePrice: req.BasePrice.Value,
		Active: req.Active.Value}
	if err := change.Validate(); err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		after, cur, err := h.svc.ItemUpdate(ctx, tx, id, want, change)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(after.Version))
		return c.JSON(toItemResponse(after, cur))
	})
}

func (h *Handler) deleteItem(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		if _, err := h.svc.ItemDelete(ctx, tx, id); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}
