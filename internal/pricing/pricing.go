// Package pricing manages payment terms and price lists (and, later, item
// prices and price resolution). Customers and groups refer to both by id;
// the foreign keys keep a referenced one from being deleted.
package pricing

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

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
)

// Audit entity names of this package's objects.
const (
	EntityPaymentTerms = "payment_terms"
	EntityPriceList    = "price_list"
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
