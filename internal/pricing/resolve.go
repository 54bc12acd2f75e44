package pricing

import (
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/settings"
)

// Sources of a resolved price, in the order they are tried. Order lines
// store them (sales_order_lines.price_source), so they are never renamed.
const (
	SourceCustomerPrice  = "customer_price"
	SourcePriceList      = "price_list"
	SourceGroupPriceList = "group_price_list"
	SourceBasePrice      = "base_price"
	SourceNone           = "none"
)

var hundred = decimal.NewFromInt(100)

// Terms is what price resolution needs to know about a customer.
type Terms struct {
	CustomerID       uuid.UUID
	Currency         string     // the customer's effective currency
	TenantCurrency   string     // the currency of items' base prices
	PriceListID      *uuid.UUID // the customer's own price list
	GroupPriceListID *uuid.UUID // the first group (in precedence order) with a default price list
	GroupID          *uuid.UUID
	DiscountRate     decimal.Decimal // effective; zero when none
}

// Quote is one item's price for a customer.
type Quote struct {
	ItemID       uuid.UUID
	SKU, Name    string
	ListPrice    *decimal.Decimal // before discount; nil when no source applies
	UnitPrice    *decimal.Decimal // after discount
	DiscountRate decimal.Decimal
	Source       string
	PriceListID  *uuid.UUID
	GroupID      *uuid.UUID
}

// TermsFor builds the Terms of a customer from its detail and the tenant's
// settings. The customer's effective values (customer.ResolveEffective)
// decide the currency and the discount; the price lists stay apart, since
// the customer's own list is tried before its group's whatever the group
// sets. GroupID is the group whose default price list GroupPriceListID is.
func TermsFor(d customer.Detail, env settings.Env) Terms {
	eff := customer.ResolveEffective(d.Customer, d.Groups, env.Settings)
	t := Terms{
		CustomerID:     d.Customer.ID,
		Currency:       env.Settings.DefaultCurrency,
		TenantCurrency: env.Settings.DefaultCurrency,
		PriceListID:    d.Customer.PriceListID,
		DiscountRate:   decimal.Zero,
	}
	if eff.Currency.Value != nil {
		t.Currency = *eff.Currency.Value
	}
	if eff.DiscountRate.Value != nil {
		t.DiscountRate = *eff.DiscountRate.Value
	}
	for _, m := range d.Groups {
		if m.PriceListID != nil {
			id, gid := *m.PriceListID, m.GroupID
			t.GroupPriceListID, t.GroupID = &id, &gid
			break
		}
	}
	return t
}

// Resolve is the pure resolution rule, given the candidate prices found
// (nil when absent): the customer's own price (in the customer's currency
// by definition); else the customer's price list, if it is in the
// customer's currency; else its group's default price list, likewise; else
// the item's base price when the tenant's currency is the customer's. No
// exchange rates exist, so a price in another currency never applies. A
// nil list price is source none.
func Resolve(t Terms, customerPrice, ownListPrice, groupListPrice *decimal.Decimal, ownListCurrencyOK, groupListCurrencyOK bool, basePrice decimal.Decimal) (list *decimal.Decimal, source string) {
	switch {
	case customerPrice != nil:
		return customerPrice, SourceCustomerPrice
	case ownListPrice != nil && ownListCurrencyOK:
		return ownListPrice, SourcePriceList
	case groupListPrice != nil && groupListCurrencyOK:
		return groupListPrice, SourceGroupPriceList
	case t.TenantCurrency == t.Currency:
		return &basePrice, SourceBasePrice
	}
	return nil, SourceNone
}

// Discounted applies a discount rate (a percentage) to a price, rounded to
// four decimals (half away from zero), as prices are stored.
func Discounted(price, rate decimal.Decimal) decimal.Decimal {
	return price.Mul(hundred.Sub(rate)).Div(hundred).Round(4)
}

// quote completes a resolved price into a Quote.
func quote(t Terms, itemID uuid.UUID, sku, name string, list *decimal.Decimal, source string) Quote {
	q := Quote{ItemID: itemID, SKU: sku, Name: name, DiscountRate: t.DiscountRate, Source: source}
	if list != nil {
		l := *list
		u := Discounted(l, t.DiscountRate)
		q.ListPrice, q.UnitPrice = &l, &u
	}
	switch source {
	case SourcePriceList:
		q.PriceListID = t.PriceListID
	case SourceGroupPriceList:
		q.PriceListID, q.GroupID = t.GroupPriceListID, t.GroupID
	}
	return q
}
