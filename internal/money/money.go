// Package money handles exact decimal amounts and rates: parsing from JSON
// (a decimal string such as "1234.50", or a JSON number read from its text,
// never through a float), currency codes (ISO 4217) and formatting to a
// currency's minor units. Amounts are stored as numeric(19,4) and carried
// as shopspring/decimal values.
package money

import (
	"errors"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/shopspring/decimal"
	"golang.org/x/text/currency"
)

// Bounds of stored amounts: numeric(19,4).
const (
	// MaxScale is the most decimals an amount may have.
	MaxScale = 4
	// maxIntDigits is the most digits before the decimal point.
	maxIntDigits = 15
)

// Errors from Parse.
var (
	ErrNotDecimal = errors.New("must be a decimal number such as \"1234.50\"")
	ErrTooPrecise = errors.New("must have at most 4 decimals")
	ErrTooLarge   = errors.New("must be less than 10^15")
)

// Parse reads a decimal from text, refusing exponents, thousands
// separators, more than four decimals and values of 10^15 or more.
func Parse(s string) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "eE,_ ") || strings.HasPrefix(s, "+") {
		return decimal.Decimal{}, ErrNotDecimal
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, ErrNotDecimal
	}
	if -d.Exponent() > MaxScale {
		return decimal.Decimal{}, ErrTooPrecise
	}
	if d.Abs().GreaterThanOrEqual(decimal.New(1, maxIntDigits)) {
		return decimal.Decimal{}, ErrTooLarge
	}
	return d, nil
}

// Value is a decimal as the API reads it: a JSON string or number, parsed
// exactly. Its Err holds a parse failure, reported by validation with the
// field's name rather than as a JSON error.
type Value struct {
	Decimal decimal.Decimal
	Err     error
}

// UnmarshalJSONFrom implements the json v2 decoder hook.
func (v *Value) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case '"':
		v.Decimal, v.Err = Parse(tok.String())
	case '0':
		v.Decimal, v.Err = Parse(tok.String())
	default:
		v.Err = ErrNotDecimal
	}
	return nil
}

// Currency normalizes and checks an ISO 4217 code.
func Currency(code string) (string, bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if len(code) != 3 {
		return code, false
	}
	u, err := currency.ParseISO(code)
	if err != nil {
		return code, false
	}
	return u.String(), true
}

// MinorUnits is the number of decimals a currency shows (2 for USD, 0 for
// JPY, 3 for KWD); 2 when unknown.
func MinorUnits(code string) int32 {
	u, err := currency.ParseISO(code)
	if err != nil {
		return 2
	}
	scale, _ := currency.Standard.Rounding(u)
	return int32(scale)
}

// Format renders an amount in a currency's minor units, as the API shows
// money: a decimal string.
func Format(d decimal.Decimal, currencyCode string) string {
	return d.StringFixed(MinorUnits(currencyCode))
}

// FormatRate renders a percentage with two decimals.
func FormatRate(d decimal.Decimal) string { return d.StringFixed(2) }

// MarshalText shows a Value as its decimal text (also how the OpenAPI
// description types it: a string).
func (v Value) MarshalText() ([]byte, error) { return []byte(v.Decimal.String()), nil }
