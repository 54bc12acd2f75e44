// Package pricing manages payment terms, price lists, items with their base
// prices, item prices in price lists, customer-specific prices, and price
// resolution: which price applies to a customer for an item (resolve.go).
// Customers and groups refer to terms and lists by id; the foreign keys keep
// a referenced one from being deleted.
package pricing

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/validation"
)

// Sentinel errors. ErrPaymentTermsNotFound and ErrPriceListNotFound both
// match ErrNotFound, for callers that only care whether the reference
// exists; the two in-use errors match ErrInUse.
var (
	ErrNotFound             = errors.New("not found")
	ErrPaymentTermsNotFound = fmt.Errorf("payment terms %w", ErrNotFound)
	ErrPriceListNotFound    = fmt.Errorf("price list %w", ErrNotFound)
	ErrCodeTaken            = errors.New("code already used")
	ErrInUse                = errors.New("still referenced")
	ErrPaymentTermsInUse    = fmt.Errorf("payment terms %w", ErrInUse)
	ErrPriceListInUse       = fmt.Errorf("price list %w", ErrInUse)
	ErrVersionMismatch      = errors.New("version mismatch")
	ErrItemNotFound         = fmt.Errorf("item %w", ErrNotFound)
	ErrPriceNotFound        = fmt.Errorf("price %w", ErrNotFound)
	ErrCustomerNotFound     = fmt.Errorf("customer %w", ErrNotFound)
	ErrSKUTaken             = errors.New("sku already used")
	ErrItemInUse            = fmt.Errorf("item %w", ErrInUse)
	// ErrPriceListHasPrices refuses a change of a list's currency while it
	// holds item prices: they were entered in the old currency, and no
	// exchange rate could convert them.
	ErrPriceListHasPrices = errors.New("price list holds item prices")
)

// UnknownSKUError is returned by Quotes for a SKU with no active item.
type UnknownSKUError struct {
	SKU string
}

func (e *UnknownSKUError) Error() string { return fmt.Sprintf("no active item with SKU %q", e.SKU) }

// Audit entity names of this package's objects.
const (
	EntityPaymentTerms = "payment_terms"
	EntityPriceList    = "price_list"
	EntityItem         = "item"
	// EntityPrice events are an item's prices (in a price list or for a
	// customer); their entity id is the item's.
	EntityPrice = "price"
)

// MaxDueDays bounds due_days (the schema checks the same range).
const MaxDueDays = 3650

var codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$`)

func checkCode(errs *validation.Errors, field, v string) string {
	v = strings.TrimSpace(v)
	if !codeRE.MatchString(v) {
		errs.Add(field, "invalid_code", "must be 1 to 32 letters, digits or . _ / -, starting with a letter or digit")
	}
	return v
}

func checkDueDays(errs *validation.Errors, field string, v int64) {
	if v < 0 || v > MaxDueDays {
		errs.Add(field, "out_of_range", fmt.Sprintf("must be from 0 to %d", MaxDueDays))
	}
}

func checkCurrency(errs *validation.Errors, field, v string) string {
	code, ok := money.Currency(v)
	if !ok {
		errs.Add(field, "invalid_currency", "must be an ISO 4217 currency code such as USD")
	}
	return code
}

// PaymentTermsInput creates payment terms.
type PaymentTermsInput struct {
	Code    string
	Name    string
	DueDays int64
}

// Validate checks and normalizes the input.
func (in *PaymentTermsInput) Validate() error {
	var errs validation.Errors
	in.Code = checkCode(&errs, "code", in.Code)
	in.Name = errs.Text("name", in.Name, 1, 200)
	checkDueDays(&errs, "due_days", in.DueDays)
	return errs.Err()
}

// PaymentTermsPatch changes some fields of payment terms; nil means
// unchanged.
type PaymentTermsPatch struct {
	Code    *string
	Name    *string
	DueDays *int64
}

// Validate checks and normalizes the patch.
func (p *PaymentTermsPatch) Validate() error {
	var errs validation.Errors
	if p.Code != nil {
		v := checkCode(&errs, "code", *p.Code)
		p.Code = &v
	}
	if p.Name != nil {
		v := errs.Text("name", *p.Name, 1, 200)
		p.Name = &v
	}
	if p.DueDays != nil {
		checkDueDays(&errs, "due_days", *p.DueDays)
	}
	return errs.Err()
}

// PriceListInput creates a price list.
type PriceListInput struct {
	Code     string
	Name     string
	Currency string
}

// Validate checks and normalizes the input.
func (in *PriceListInput) Validate() error {
	var errs validation.Errors
	in.Code = checkCode(&errs, "code", in.Code)
	in.Name = errs.Text("name", in.Name, 1, 200)
	in.Currency = checkCurrency(&errs, "currency", in.Currency)
	return errs.Err()
}

// PriceListPatch changes some fields of a price list; nil means unchanged.
type PriceListPatch struct {
	Code     *string
	Name     *string
	Currency *string
}

// Validate checks and normalizes the patch.
func (p *PriceListPatch) Validate() error {
	var errs validation.Errors
	if p.Code != nil {
		v := checkCode(&errs, "code", *p.Code)
		p.Code = &v
	}
	if p.Name != nil {
		v := errs.Text("name", *p.Name, 1, 200)
		p.Name = &v
	}
	if p.Currency != nil {
		v := checkCurrency(&errs, "currency", *p.Currency)
		p.Currency = &v
	}
	return errs.Err()
}

var skuRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$`)

// ValidSKU reports whether s has the form of a SKU.
func ValidSKU(s string) bool { return skuRE.MatchString(s) }

func checkSKU(errs *validation.Errors, field, v string) string {
	v = strings.TrimSpace(v)
	if !skuRE.MatchString(v) {
		errs.Add(field, "invalid_sku", "must be 1 to 64 letters, digits or . _ / -, starting with a letter or digit")
	}
	return v
}

// checkPrice checks a price from the API: parsed, not negative, at most
// four decimals (numeric(19,4); prices below a currency's minor unit are
// common for goods sold by the thousand).
func checkPrice(errs *validation.Errors, field string, v money.Value) decimal.Decimal {
	switch {
	case errors.Is(v.Err, money.ErrTooPrecise):
		errs.Add(field, "too_precise", "must have at most 4 decimals")
	case v.Err != nil:
		errs.Add(field, "invalid_decimal", v.Err.Error())
	case v.Decimal.IsNegative():
		errs.Add(field, "out_of_range", "must be 0 or more")
	}
	return v.Decimal
}

// FormatPrice shows a price as a decimal string: with the currency's minor
// units, and more decimals (up to four) when the price has them. money.Format
// alone would show 0.0125 USD as "0.01", a price that is stored but never
// seen.
func FormatPrice(d decimal.Decimal, currencyCode string) string {
	scale := money.MinorUnits(currencyCode)
	for scale < money.MaxScale && !d.Round(scale).Equal(d) {
		scale++
	}
	return d.StringFixed(scale)
}

// ItemInput creates an item.
type ItemInput struct {
	SKU       string
	Name      string
	BasePrice money.Value
}

// Validate checks and normalizes the input.
func (in *ItemInput) Validate() error {
	var errs validation.Errors
	in.SKU = checkSKU(&errs, "sku", in.SKU)
	in.Name = errs.Text("name", in.Name, 1, 200)
	in.BasePrice.Decimal = checkPrice(&errs, "base_price", in.BasePrice)
	return errs.Err()
}

// ItemPatch changes some fields of an item; nil means unchanged.
type ItemPatch struct {
	SKU       *string
	Name      *string
	BasePrice *money.Value
	Active    *bool
}

// Validate checks and normalizes the patch.
func (p *ItemPatch) Validate() error {
	var errs validation.Errors
	if p.SKU != nil {
		v := checkSKU(&errs, "sku", *p.SKU)
		p.SKU = &v
	}
	if p.Name != nil {
		v := errs.Text("name", *p.Name, 1, 200)
		p.Name = &v
	}
	if p.BasePrice != nil {
		p.BasePrice.Decimal = checkPrice(&errs, "base_price", *p.BasePrice)
	}
	return errs.Err()
}

// ItemListParams filters and pages the item list.
type ItemListParams struct {
	// Q matches SKU or name, ignoring case.
	Q      *string
	Active *bool
	After  *ItemCursor
	Limit  int32
}

// PriceInput is the body of a price write: one price for one item.
type PriceInput struct {
	Price money.Value
}

// Validate checks the price.
func (in *PriceInput) Validate() error {
	var errs validation.Errors
	in.Price.Decimal = checkPrice(&errs, "price", in.Price)
	return errs.Err()
}
