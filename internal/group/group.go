// Package group manages customer group categories, groups with their
// defaults, and customer memberships (at most one group per category).
//
// A category (Region, Segment, Level, ...) is created on the fly by the
// first group that names it. Its position orders the fallback: when
// several of a customer's groups set the same default (price list, payment
// terms, credit, discount), the group whose category has the lowest
// position wins, then the lowest key. The customer package reads the
// memberships through Resolve, SetMemberships, ForCustomers and
// DecodeMemberships (its reads bring the memberships in the customer's own
// row) and applies that rule.
package group

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/validation"
)

// Sentinel errors.
var (
	ErrNotFound         = errors.New("customer group not found")
	ErrCategoryNotFound = errors.New("group category not found")
	ErrCodeTaken        = errors.New("group code already used in the category")
	ErrVersionMismatch  = errors.New("customer group version mismatch")
	ErrInUse            = errors.New("customer group still has members")
	ErrCustomerNotFound = errors.New("customer not found")
)

// Limits of the writable fields.
const (
	MaxCreditDays   = 3650
	MaxNameLength   = 200
	MaxPosition     = 1_000_000
	MaxCategoryName = 100
)

var (
	categoryRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	codeRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$`)
)

// NormalizeCategory trims and lower-cases a category key and reports
// whether the result is a valid key (a letter, then up to 39 letters,
// digits or underscores).
func NormalizeCategory(key string) (string, bool) {
	k := strings.ToLower(strings.TrimSpace(key))
	return k, categoryRE.MatchString(k)
}

// CategoryName is the display name a category created on the fly gets:
// its key with underscores as spaces and the first letter upper-cased.
func CategoryName(key string) string {
	s := strings.ReplaceAll(key, "_", " ")
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// Group is a customer group as the API shows it.
type Group struct {
	ID               uuid.UUID
	Category         string
	CategoryName     string
	CategoryPosition int32
	Code             string
	Name             string
	PriceListID      *uuid.UUID
	PaymentTermsID   *uuid.UUID
	CreditLimit      *decimal.Decimal
	CreditDays       *int32
	DiscountRate     *decimal.Decimal
	// CustomerCount is the number of members the caller can see.
	CustomerCount int64
	Version       int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Category is a group category with the number of its groups.
type Category struct {
	ID         uuid.UUID
	Key        string
	Name       string
	Position   int32
	GroupCount int64
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Membership is a customer's group in one category, with the group's defaults.
type Membership struct {
	Category, CategoryName      string
	CategoryPosition            int32
	GroupID                     uuid.UUID
	Code, Name                  string
	PriceListID, PaymentTermsID *uuid.UUID
	CreditLimit                 *decimal.Decimal
	CreditDays                  *int32
	DiscountRate                *decimal.Decimal
}

// membershipJSON is one element of the customer_memberships fragment's
// jsonb array (queries/fragments/customer_memberships.sql): the keys are
// the ones the fragment builds. The amounts are json.Number, the number's
// text as PostgreSQL wrote it, so they reach decimal.Decimal without a
// float in between.
type membershipJSON struct {
	Category         string       `json:"category"`
	CategoryName     string       `json:"category_name"`
	CategoryPosition int32        `json:"category_position"`
	GroupID          uuid.UUID    `json:"group_id"`
	Code             string       `json:"code"`
	Name             string       `json:"name"`
	PriceListID      *uuid.UUID   `json:"price_list_id"`
	PaymentTermsID   *uuid.UUID   `json:"payment_terms_id"`
	CreditLimit      *json.Number `json:"credit_limit"`
	CreditDays       *int32       `json:"credit_days"`
	DiscountRate     *json.Number `json:"discount_rate"`
}

// DecodeMemberships reads a customer's memberships as the customer reads
// bring them: the customer_memberships fragment's jsonb array, already in
// fallback order (category position, then key). An empty array is nil, as
// a customer without memberships has none in ForCustomers's map.
func DecodeMemberships(raw []byte) ([]Membership, error) {
	var in []membershipJSON
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("decode group memberships: %w", err)
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]Membership, len(in))
	for i, m := range in {
		creditLimit, err := decodeDecimal(m.CreditLimit)
		if err != nil {
			return nil, fmt.Errorf("decode group memberships: credit_limit: %w", err)
		}
		discountRate, err := decodeDecimal(m.DiscountRate)
		if err != nil {
			return nil, fmt.Errorf("decode group memberships: discount_rate: %w", err)
		}
		out[i] = Membership{
			Category: m.Category, CategoryName: m.CategoryName, CategoryPosition: m.CategoryPosition,
			GroupID: m.GroupID, Code: m.Code, Name: m.Name, PriceListID: m.PriceListID, PaymentTermsID: m.PaymentTermsID,
			CreditLimit: creditLimit, CreditDays: m.CreditDays, DiscountRate: discountRate,
		}
	}
	return out, nil
}

// decodeDecimal parses a JSON number's text exactly; nil (JSON null) stays nil.
func decodeDecimal(n *json.Number) (*decimal.Decimal, error) {
	if n == nil {
		return nil, nil
	}
	d, err := decimal.NewFromString(n.String())
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Record is the writable part of a group: what create sets and what a
// patch changes.
type Record struct {
	Category       string
	Code           string
	Name           string
	PriceListID    *uuid.UUID
	PaymentTermsID *uuid.UUID
	CreditLimit    *decimal.Decimal
	CreditDays     *int32
	DiscountRate   *decimal.Decimal
}

// Patch changes some fields of a Record. A nil pointer leaves the field
// alone; for nullable fields, Set with a nil value clears it. Category is
// set on create only: a patch of an existing group may repeat it but not
// change it.
type Patch struct {
	Category       *string
	Code           *string
	Name           *string
	PriceListID    patch.Field[uuid.UUID]
	PaymentTermsID patch.Field[uuid.UUID]
	CreditLimit    patch.Field[money.Value]
	CreditDays     patch.Field[int32]
	DiscountRate   patch.Field[money.Value]
}

// NewRecord builds the record of a new group from a create's patch and
// reports every bad or missing field.
func NewRecord(p Patch) (Record, error) {
	var r Record
	var errs validation.Errors
	p.apply(&r, true, &errs)
	for _, f := range []struct{ name, value string }{{"category", r.Category}, {"code", r.Code}, {"name", r.Name}} {
		if f.value == "" && !errs.Has(f.name) {
			errs.Add(f.name, "required", "must not be empty")
		}
	}
	return r, errs.Err()
}

// Apply applies the patch to an existing group's record, validating and
// normalizing each field it sets, and reports every bad field. The
// category may be repeated but not changed.
func (p Patch) Apply(r *Record) error {
	var errs validation.Errors
	p.apply(r, false, &errs)
	return errs.Err()
}

func (p Patch) apply(r *Record, creating bool, errs *validation.Errors) {
	if p.Category != nil {
		k, ok := NormalizeCategory(*p.Category)
		switch {
		case !ok:
			errs.Add("category", "invalid_category", "must be a key of 1 to 40 lower-case letters, digits or _, starting with a letter")
		case !creating && k != r.Category:
			errs.Add("category", "immutable", "a group cannot move to another category; create a group in the other category instead")
		}
		if creating {
			r.Category = k
		}
	}
	if p.Code != nil {
		v := strings.TrimSpace(*p.Code)
		if !codeRE.MatchString(v) {
			errs.Add("code", "invalid_code", "must be 1 to 32 letters, digits or . _ / -, starting with a letter or digit")
		}
		r.Code = v
	}
	if p.Name != nil {
		r.Name = errs.Text("name", *p.Name, 1, MaxNameLength)
	}
	if p.PriceListID.Set {
		r.PriceListID = p.PriceListID.Value
	}
	if p.PaymentTermsID.Set {
		r.PaymentTermsID = p.PaymentTermsID.Value
	}
	if p.CreditLimit.Set {
		r.CreditLimit = nil
		if v := p.CreditLimit.Value; v != nil {
			r.CreditLimit = checkAmount(errs, "credit_limit", *v, decimal.Zero, nil)
		}
	}
	if p.CreditDays.Set {
		r.CreditDays = p.CreditDays.Value
		if v := p.CreditDays.Value; v != nil && (*v < 0 || *v > MaxCreditDays) {
			errs.Add("credit_days", "out_of_range", fmt.Sprintf("must be from 0 to %d", MaxCreditDays))
		}
	}
	if p.DiscountRate.Set {
		r.DiscountRate = nil
		if v := p.DiscountRate.Value; v != nil {
			hundred := decimal.NewFromInt(100)
			r.DiscountRate = checkAmount(errs, "discount_rate", *v, decimal.Zero, &hundred)
		}
	}
}

// checkAmount checks a decimal from the API: parsed, at most two decimals
// (groups have no currency, and amounts are shown with two decimals: a
// third would be stored but never seen) and within [min, max].
func checkAmount(errs *validation.Errors, field string, v money.Value, min decimal.Decimal, max *decimal.Decimal) *decimal.Decimal {
	d := v.Decimal
	switch {
	case errors.Is(v.Err, money.ErrTooPrecise):
		errs.Add(field, "too_precise", "must have at most 2 decimals")
		return nil
	case v.Err != nil:
		errs.Add(field, "invalid_decimal", v.Err.Error())
		return nil
	case !d.Round(2).Equal(d):
		errs.Add(field, "too_precise", "must have at most 2 decimals")
	case d.LessThan(min) || (max != nil && d.GreaterThan(*max)):
		msg := "must be " + min.String() + " or more"
		if max != nil {
			msg = "must be from " + min.String() + " to " + max.String()
		}
		errs.Add(field, "out_of_range", msg)
	}
	return &d
}

// CategoryPatch changes a category; nil leaves a field alone.
type CategoryPatch struct {
	Name     *string
	Position *int32
}

// Validate checks and normalizes the patch.
func (p *CategoryPatch) Validate() error {
	var errs validation.Errors
	if p.Name != nil {
		v := errs.Text("name", *p.Name, 1, MaxCategoryName)
		p.Name = &v
	}
	if p.Position != nil && (*p.Position < 0 || *p.Position > MaxPosition) {
		errs.Add("position", "out_of_range", fmt.Sprintf("must be from 0 to %d", MaxPosition))
	}
	return errs.Err()
}

// Match modes of the list filters.
const (
	MatchAny    = "any"
	MatchPrefix = "prefix"
	MatchExact  = "exact"
)

// MatchModes lists the accepted match modes.
var MatchModes = []string{MatchAny, MatchPrefix, MatchExact}

// likePattern turns user text into an ILIKE pattern for the match mode;
// the text's own % _ and \ match literally.
func likePattern(text, mode string) string {
	t := escapeLike(text)
	switch mode {
	case MatchPrefix:
		return t + "%"
	case MatchExact:
		return t
	}
	return "%" + t + "%"
}

// escapeLike makes user text match literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
