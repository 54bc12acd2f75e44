package pricing

import (
	"time"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/dbsqlc"
)

// The API's views of items, payment terms, price lists and prices: what
// the handlers answer with and what the service records in the audit trail
// (package audit).

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
