package pricing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/tenant"
)

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
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
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
