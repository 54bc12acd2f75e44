package customer

//go:generate go run ./gen

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/customer/fieldspec"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/validation"
)

// Fields lists the customer fields a list can show (fields=, saved view
// columns), in response order: every member of the API's customer.
var Fields = responseNames

// IsField reports whether name is a customer field.
func IsField(name string) bool { return slices.Contains(Fields, name) }

// Allowed values of the enumerated fields (the specification's).
var (
	Kinds          = fieldspec.Kinds
	Types          = fieldspec.Types
	Statuses       = fieldspec.Statuses
	CreditPolicies = fieldspec.CreditPolicies
	// PaymentMethods are the default payment methods a customer can have.
	PaymentMethods = fieldspec.PaymentMethods
	// BillingStatuses say how billing stands with the customer.
	BillingStatuses = fieldspec.BillingStatuses
)

// ---- API: showing a stored value ----------------------------------------

func showRate(d *decimal.Decimal) *string {
	if d == nil {
		return nil
	}
	s := money.FormatRate(*d)
	return &s
}

func showMoney(d *decimal.Decimal, cur string) *string {
	if d == nil {
		return nil
	}
	s := money.Format(*d, cur)
	return &s
}

func showDate(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.Format(time.DateOnly)
	return &s
}

// ---- validation: one function per kind of field -------------------------

// applier collects the field errors of one Apply.
type applier struct {
	errs validation.Errors
	env  settings.Env
}

// given reports whether a NOT NULL field is set, refusing null.
func given[T any](a *applier, f *fieldspec.Field, s patch.Field[T]) bool {
	if s.Set && s.Value == nil {
		a.errs.Add(f.Name, "not_nullable", "must not be null")
		return false
	}
	return s.Set
}

// blank reports a cleared or whitespace-only text.
func blank(s patch.Field[string]) bool { return s.Value == nil || strings.TrimSpace(*s.Value) == "" }

func applyCode(a *applier, f *fieldspec.Field, dst *string, s patch.Field[string]) {
	if !given(a, f, s) {
		return
	}
	v := strings.TrimSpace(*s.Value)
	if !codeRE.MatchString(v) {
		a.errs.Add(f.Name, "invalid_code", "must be 1 to 32 letters, digits or . _ / -, starting with a letter or digit")
	}
	*dst = v
}

func applyRequiredText(a *applier, f *fieldspec.Field, dst *string, s patch.Field[string]) {
	if given(a, f, s) {
		*dst = a.errs.Text(f.Name, *s.Value, 1, f.Max)
	}
}

func applyRequiredEnum(a *applier, f *fieldspec.Field, dst *string, s patch.Field[string]) {
	if given(a, f, s) {
		v := strings.TrimSpace(*s.Value)
		a.errs.OneOf(f.Name, v, f.Values...)
		*dst = v
	}
}

// optional applies a nullable text field: blank clears it, anything else
// goes through check.
func optional(s patch.Field[string], dst **string, check func(string) string) {
	if !s.Set {
		return
	}
	*dst = nil
	if !blank(s) {
		v := check(*s.Value)
		*dst = &v
	}
}

func applyText(a *applier, f *fieldspec.Field, dst **string, s patch.Field[string]) {
	optional(s, dst, func(v string) string { return a.errs.Text(f.Name, v, 1, f.Max) })
}

func applyEnum(a *applier, f *fieldspec.Field, dst **string, s patch.Field[string]) {
	if !s.Set {
		return
	}
	*dst = nil
	if s.Value != nil {
		v := strings.TrimSpace(*s.Value)
		a.errs.OneOf(f.Name, v, f.Values...)
		*dst = &v
	}
}

func applyEmail(a *applier, f *fieldspec.Field, dst **string, s patch.Field[string]) {
	optional(s, dst, func(v string) string { return a.errs.Email(f.Name, v) })
}

func applyPhone(a *applier, f *fieldspec.Field, dst **string, s patch.Field[string]) {
	optional(s, dst, func(v string) string { return a.errs.Phone(f.Name, v, a.env.Settings.DefaultCountry) })
}

func applyURL(a *applier, f *fieldspec.Field, dst **string, s patch.Field[string]) {
	optional(s, dst, func(v string) string { return website(&a.errs, f.Name, v) })
}

func applyTaxNumber(a *applier, f *fieldspec.Field, dst **string, s patch.Field[string]) {
	applyText(a, f, dst, s)
	if s.Set && *dst != nil && !a.errs.Has(f.Name) && !taxNumberRE.MatchString(**dst) {
		a.errs.Add(f.Name, "invalid_tax_number", "may hold letters, digits, spaces and . / -")
	}
}

func applyCurrency(a *applier, f *fieldspec.Field, dst **string, s patch.Field[string]) {
	optional(s, dst, func(raw string) string {
		v, ok := money.Currency(raw)
		if !ok {
			a.errs.Add(f.Name, "invalid_currency", "must be an ISO 4217 currency code such as USD")
		}
		return v
	})
}

func applyPercent(a *applier, f *fieldspec.Field, dst **decimal.Decimal, s patch.Field[money.Value]) {
	if s.Set {
		*dst = decimalField(&a.errs, f.Name, s.Value, decimal.Zero, decimal.NewFromInt(100), 2)
	}
}

func applyMoney(a *applier, f *fieldspec.Field, dst **decimal.Decimal, s patch.Field[money.Value]) {
	if s.Set {
		*dst = decimalField(&a.errs, f.Name, s.Value, decimal.Zero, decimal.New(1, 15), money.MaxScale)
	}
}

func applyInteger(a *applier, f *fieldspec.Field, dst **int32, s patch.Field[int64]) {
	if !s.Set {
		return
	}
	*dst = nil
	if v := s.Value; v != nil {
		hi := int64(f.Max)
		if *v < 0 || *v > hi {
			a.errs.Add(f.Name, "out_of_range", fmt.Sprintf("must be from 0 to %d", hi))
		}
		d := int32(max(min(*v, hi), 0))
		*dst = &d
	}
}

func applyDate(a *applier, f *fieldspec.Field, dst **time.Time, s patch.Field[string]) {
	if !s.Set {
		return
	}
	*dst = nil
	if s.Value != nil {
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(*s.Value))
		if err != nil {
			a.errs.Add(f.Name, "invalid_date", "must be a date such as 2026-03-31")
		}
		*dst = &d
	}
}

// applyRef sets an id; whether it names an existing object is the
// database's foreign key's to say (mapWriteError names the field).
func applyRef(_ *applier, _ *fieldspec.Field, dst **uuid.UUID, s patch.Field[uuid.UUID]) {
	if s.Set {
		*dst = s.Value
	}
}

// decimalField validates a decimal within [lo, hi] with at most scale
// decimals; nil clears it.
func decimalField(errs *validation.Errors, field string, v *money.Value, lo, hi decimal.Decimal, scale int32) *decimal.Decimal {
	if v == nil {
		return nil
	}
	if v.Err != nil {
		errs.Add(field, "invalid_decimal", v.Err.Error())
		return nil
	}
	d := v.Decimal
	switch {
	case d.LessThan(lo) || d.GreaterThan(hi):
		errs.Add(field, "out_of_range", "must be from "+lo.String()+" to "+hi.String())
	case -d.Exponent() > scale:
		errs.Add(field, "too_precise", "must have at most "+decimal.NewFromInt32(scale).String()+" decimals")
	}
	return &d
}

// website normalizes a web address: a bare host gets https://; only http
// and https with a host are accepted.
func website(errs *validation.Errors, field, raw string) string {
	v := errs.Text(field, raw, 1, 2048)
	if errs.Has(field) {
		return v
	}
	if !strings.Contains(v, "://") {
		v = "https://" + v
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(u.Host, " @") {
		errs.Add(field, "invalid_url", "must be a web address such as https://example.com")
		return v
	}
	return u.String()
}

// ---- merges: filling a kept customer from a duplicate -------------------

// FillDecision is a merge's answer for a field whose fill it decides
// (fieldspec.MergeDecide): may the duplicate's value fill the kept
// customer's empty field?
type FillDecision int

// Fill decisions.
const (
	// FillAllowed fills the field.
	FillAllowed FillDecision = iota
	// FillRefused leaves it empty, silently.
	FillRefused
	// FillRefusedKept leaves it empty and reports it among the values the
	// kept customer keeps.
	FillRefusedKept
)

// Filled says what FillEmpty did: the fields it filled and the fields both
// customers hold with different values (the kept customer's stays), in
// specification order.
type Filled struct {
	Filled     []string
	KeptValues []string
}

type fillOutcome int

const (
	fillNothing fillOutcome = iota
	fillDone
	fillKept
)

// filler fills one field: fill for fields a merge fills, differs for those
// it keeps.
type filler struct {
	field   *fieldspec.Field
	fill    func(k, d *dbsqlc.Customer, may func() (FillDecision, error)) (fillOutcome, error)
	differs func(k, d *dbsqlc.Customer) bool
}

// FillEmpty fills the empty fields of kept from dup, following each
// field's merge rule (fieldspec.Field.Merge); decide answers for the
// fields whose fill the merge decides, when kept's is empty and dup's is
// not. Custom values are not fields of the specification: the merge
// fills them itself.
func FillEmpty(kept *dbsqlc.Customer, dup *dbsqlc.Customer, decide func(name string) (FillDecision, error)) (Filled, error) {
	res := Filled{Filled: []string{}, KeptValues: []string{}}
	for _, fl := range fillers {
		out := fillNothing
		if fl.differs != nil {
			if fl.differs(kept, dup) {
				out = fillKept
			}
		} else {
			may := func() (FillDecision, error) { return FillAllowed, nil }
			if fl.field.Merge == fieldspec.MergeDecide {
				name := fl.field.Name
				may = func() (FillDecision, error) { return decide(name) }
			}
			var err error
			if out, err = fl.fill(kept, dup, may); err != nil {
				return res, err
			}
		}
		switch out {
		case fillDone:
			res.Filled = append(res.Filled, fl.field.Name)
		case fillKept:
			res.KeptValues = append(res.KeptValues, fl.field.Name)
		}
	}
	return res, nil
}

func fillPtr[T any](kept **T, dup *T, eq func(a, b T) bool, may func() (FillDecision, error)) (fillOutcome, error) {
	switch {
	case dup == nil:
		return fillNothing, nil
	case *kept == nil:
		d, err := may()
		switch {
		case err != nil:
			return fillNothing, err
		case d == FillAllowed:
			*kept = dup
			return fillDone, nil
		case d == FillRefusedKept:
			return fillKept, nil
		}
		return fillNothing, nil
	case !eq(**kept, *dup):
		return fillKept, nil
	}
	return fillNothing, nil
}

func eqComparable[T comparable](a, b T) bool { return a == b }
func eqDecimal(a, b decimal.Decimal) bool    { return a.Equal(b) }
func eqTime(a, b time.Time) bool             { return a.Equal(b) }

// ---- spreadsheets: a field as a cell's value ----------------------------

// Accessor reads and writes one field of the specification as a
// spreadsheet cell's value: Get gives the stored value as a string, a
// decimal.Decimal, an int, a time.Time (a date, UTC midnight) or a
// uuid.UUID, or nil when the field is empty; Set puts such a value (nil
// clears; a date may also be text, which Apply reads as YYYY-MM-DD) into a
// Patch, whose Apply then validates it as the API does.
type Accessor struct {
	Field *fieldspec.Field
	Get   func(c *dbsqlc.Customer) any
	Set   func(p *Patch, v any) error
}

// Accessors returns the accessors of every field, in specification order.
func Accessors() []Accessor { return slices.Clone(accessors) }

func cellText(s string) any { return s }

func cellOptional[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func cellInteger(p *int32) any {
	if p == nil {
		return nil
	}
	return int(*p)
}

// setValue sets s to v, clearing it for nil.
func setValue[T any](s *patch.Field[T], v *T) {
	*s = patch.Field[T]{Set: true, Value: v}
}

func wrongType(want string, v any) error {
	return fmt.Errorf("want %s, got %T", want, v)
}

func setText(s *patch.Field[string], v any) error {
	switch v := v.(type) {
	case nil:
		setValue(s, nil)
	case string:
		setValue(s, &v)
	default:
		return wrongType("text", v)
	}
	return nil
}

func setDecimal(s *patch.Field[money.Value], v any) error {
	switch v := v.(type) {
	case nil:
		setValue(s, nil)
	case decimal.Decimal:
		setValue(s, &money.Value{Decimal: v})
	default:
		return wrongType("a decimal", v)
	}
	return nil
}

func setInteger(s *patch.Field[int64], v any) error {
	var n int64
	switch v := v.(type) {
	case nil:
		setValue(s, nil)
		return nil
	case int:
		n = int64(v)
	case int64:
		n = v
	case int32:
		n = int64(v)
	default:
		return wrongType("an integer", v)
	}
	setValue(s, &n)
	return nil
}

func setDate(s *patch.Field[string], v any) error {
	switch v := v.(type) {
	case nil:
		setValue(s, nil)
	case time.Time:
		d := v.Format(time.DateOnly)
		setValue(s, &d)
	case string: // Apply reads it as a date
		setValue(s, &v)
	default:
		return wrongType("a date", v)
	}
	return nil
}

func setRef(s *patch.Field[uuid.UUID], v any) error {
	switch v := v.(type) {
	case nil:
		setValue(s, nil)
	case uuid.UUID:
		setValue(s, &v)
	default:
		return wrongType("an id", v)
	}
	return nil
}
