package pricing

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/tenant"
)

// ---- price lists ------------------------------------------------------------

type createPriceListRequest struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Currency string `json:"currency"`
}

type patchPriceListRequest struct {
	Code     patch.Field[string] `json:"code"`
	Name     patch.Field[string] `json:"name"`
	Currency patch.Field[string] `json:"currency"`
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
	in := PriceListInput(req)
	if err := in.Validate(); err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		pl, err := h.svc.PriceListCreate(ctx, tx, in)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(pl.Version))
		c.Set(fiber.HeaderLocation, "/v1/price-lists/"+pl.ID.String())
		return c.Status(fiber.StatusCreated).JSON(toPriceListResponse(pl))
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
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
	if err := patch.NotNull(req).Err(); err != nil {
		return err
	}
	change := PriceListPatch{Code: req.Code.Value, Name: req.Name.Value, Currency: req.Currency.Value}
	if err := change.Validate(); err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		after, err := h.svc.PriceListUpdate(ctx, tx, id, want, change)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(after.Version))
		return c.JSON(toPriceListResponse(after))
	})
}

func (h *Handler) deletePriceList(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		if _, err := h.svc.PriceListDelete(ctx, tx, id); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}
