// Package customer manages the customer master: the customer record and
// its validation, group memberships and effective (fallback) values,
// contacts, list search/filter/sort, and saved list views. Visibility
// (sales reps see their own accounts, portal users their one account) is
// enforced by row-level security; the list query also states it so the
// planner can use the indexes.
package customer

import (
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/validation"
)

// Sentinel errors.
var (
	ErrNotFound        = errors.New("customer not found")
	ErrCodeTaken       = errors.New("customer code already used")
	ErrVersionMismatch = errors.New("customer version mismatch")
	ErrHasHistory      = errors.New("customer has history")
	ErrContactNotFound = errors.New("contact not found")
	ErrViewNotFound    = errors.New("view not found")
)

// Allowed values of the enumerated fields.
var (
	Kinds          = []string{"customer", "vendor", "both"}
	Types          = []string{"individual", "company"}
	Statuses       = []string{"active", "dormant", "inactive"}
	CreditPolicies = []string{"none", "warn", "block"}
	// PaymentMethods are the default payment methods a customer can have.
	PaymentMethods = []string{"cash", "bank_transfer", "credit_card", "check", "direct_debit", "other"}
	// BillingStatuses say how billing stands with the customer.
	BillingStatuses = []string{"current", "on_hold", "collections", "closed"}
)

// Record is the writable part of a customer: what a create sets and a
// patch changes. Server-owned fields (id, version, figures, the address
// taken from locations) are not here.
type Record struct {
	Code                 string
	Name                 string
	Kind                 string
	Type                 string
	ContactName          *string
	Email                *string
	Phone                *string
	Website              *string
	TaxNumber            *string
	Currency             *string
	DiscountRate         *decimal.Decimal
	PaymentTermsID       *uuid.UUID
	DefaultPaymentMethod *string
	TaxScheme            *string
	PriceListID          *uuid.UUID
	CreditLimit          *decimal.Decimal
	CreditPeriodDays     *int32
	CreditPolicy         *string
	BillingStatus        *string
	BasisDate            *time.Time
	SalesRepID           *uuid.UUID
	Status               string
	Notes                *string
	Custom               json.RawMessage
}

// NewRecord is what a create starts from before its patch applies.
func NewRecord() Record {
	return Record{Kind: "customer", Type: "company", Status: "active", Custom: json.RawMessage(`{}`)}
}

// Set is a patch to a field: absent (Set false), cleared (Set, nil Value)
// or given.
type Set[T any] struct {
	Set   bool
	Value *T
}

// Patch changes some fields of a Record, plus group memberships and custom
// values. Raw request values (strings for dates, money.Value for decimals)
// are validated in Apply, so that every bad field is reported at once with
// its name.
type Patch struct {
	Code                 Set[string]
	Name                 Set[string]
	Kind                 Set[string]
	Type                 Set[string]
	ContactName          Set[string]
	Email                Set[string]
	Phone                Set[string]
	Website              Set[string]
	TaxNumber            Set[string]
	Currency             Set[string]
	DiscountRate         Set[money.Value]
	PaymentTermsID       Set[uuid.UUID]
	DefaultPaymentMethod Set[string]
	TaxScheme            Set[string]
	PriceListID          Set[uuid.UUID]
	CreditLimit          Set[money.Value]
	CreditPeriodDays     Set[int64]
	CreditPolicy         Set[string]
	BillingStatus        Set[string]
	BasisDate            Set[string]
	SalesRepID           Set[uuid.UUID]
	Status               Set[string]
	Notes                Set[string]
	// Groups maps a category key to a group code; a nil code leaves the
	// category.
	Groups map[string]*string
	// Custom maps a custom field key to its raw JSON value; JSON null
	// removes it.
	Custom map[string]json.RawMessage
}

var (
	codeRE      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$`)
	taxNumberRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ./-]{0,63}$`)
)

// Apply applies the patch to r, validating and normalizing each field it
// sets, then checks the record as a whole (required fields, custom
// fields) against the tenant's settings. It reports every bad field.
func (p Patch) Apply(r *Record, env settings.Env) error {
	var errs validation.Errors
	notNull := func(field string, set bool, isNil bool) bool {
		if set && isNil {
			errs.Add(field, "not_nullable", "must not be null")
			return false
		}
		return set
	}
	optText := func(field string, s Set[string], max int) *string {
		if s.Value == nil || strings.TrimSpace(*s.Value) == "" {
			return nil
		}
		v := errs.Text(field, *s.Value, 1, max)
		return &v
	}
	oneOf := func(field string, s Set[string], allowed []string) *string {
		if s.Value == nil {
			return nil
		}
		v := strings.TrimSpace(*s.Value)
		errs.OneOf(field, v, allowed...)
		return &v
	}

	if notNull("code", p.Code.Set, p.Code.Value == nil) {
		v := strings.TrimSpace(*p.Code.Value)
		if !codeRE.MatchString(v) {
			errs.Add("code", "invalid_code", "must be 1 to 32 letters, digits or . _ / -, starting with a letter or digit")
		}
		r.Code = v
	}
	if notNull("name", p.Name.Set, p.Name.Value == nil) {
		r.Name = errs.Text("name", *p.Name.Value, 1, 200)
	}
	if notNull("kind", p.Kind.Set, p.Kind.Value == nil) {
		r.Kind = *oneOf("kind", p.Kind, Kinds)
	}
	if notNull("type", p.Type.Set, p.Type.Value == nil) {
		r.Type = *oneOf("type", p.Type, Types)
	}
	if notNull("status", p.Status.Set, p.Status.Value == nil) {
		r.Status = *oneOf("status", p.Status, Statuses)
	}
	if p.ContactName.Set {
		r.ContactName = optText("contact_name", p.ContactName, 200)
	}
	if p.Email.Set {
		r.Email = nil
		if p.Email.Value != nil && strings.TrimSpace(*p.Email.Value) != "" {
			v := errs.Email("email", *p.Email.Value)
			r.Email = &v
		}
	}
	if p.Phone.Set {
		r.Phone = nil
		if p.Phone.Value != nil && strings.TrimSpace(*p.Phone.Value) != "" {
			v := errs.Phone("phone", *p.Phone.Value, env.Settings.DefaultCountry)
			r.Phone = &v
		}
	}
	if p.Website.Set {
		r.Website = nil
		if p.Website.Value != nil && strings.TrimSpace(*p.Website.Value) != "" {
			v := website(&errs, *p.Website.Value)
			r.Website = &v
		}
	}
	if p.TaxNumber.Set {
		r.TaxNumber = optText("tax_number", p.TaxNumber, 64)
		if r.TaxNumber != nil && !errs.Has("tax_number") && !taxNumberRE.MatchString(*r.TaxNumber) {
			errs.Add("tax_number", "invalid_tax_number", "may hold letters, digits, spaces and . / -")
		}
	}
	if p.Currency.Set {
		r.Currency = nil
		if p.Currency.Value != nil && strings.TrimSpace(*p.Currency.Value) != "" {
			v, ok := money.Currency(*p.Currency.Value)
			if !ok {
				errs.Add("currency", "invalid_currency", "must be an ISO 4217 currency code such as USD")
			}
			r.Currency = &v
		}
	}
	if p.DiscountRate.Set {
		r.DiscountRate = decimalField(&errs, "discount_rate", p.DiscountRate.Value, decimal.Zero, decimal.NewFromInt(100), 2)
	}
	if p.CreditLimit.Set {
		r.CreditLimit = decimalField(&errs, "credit_limit", p.CreditLimit.Value, decimal.Zero, decimal.New(1, 15), money.MaxScale)
	}
	if p.CreditPeriodDays.Set {
		r.CreditPeriodDays = nil
		if v := p.CreditPeriodDays.Value; v != nil {
			if *v < 0 || *v > 3650 {
				errs.Add("credit_period_days", "out_of_range", "must be from 0 to 3650")
			}
			d := int32(max(min(*v, 3650), 0))
			r.CreditPeriodDays = &d
		}
	}
	if p.PaymentTermsID.Set {
		r.PaymentTermsID = p.PaymentTermsID.Value
	}
	if p.PriceListID.Set {
		r.PriceListID = p.PriceListID.Value
	}
	if p.DefaultPaymentMethod.Set {
		r.DefaultPaymentMethod = oneOf("default_payment_method", p.DefaultPaymentMethod, PaymentMethods)
	}
	if p.TaxScheme.Set {
		r.TaxScheme = optText("tax_scheme", p.TaxScheme, 64)
	}
	if p.CreditPolicy.Set {
		r.CreditPolicy = oneOf("credit_policy", p.CreditPolicy, CreditPolicies)
	}
	if p.BillingStatus.Set {
		r.BillingStatus = oneOf("billing_status", p.BillingStatus, BillingStatuses)
	}
	if p.BasisDate.Set {
		r.BasisDate = nil
		if p.BasisDate.Value != nil {
			d, err := time.Parse(time.DateOnly, strings.TrimSpace(*p.BasisDate.Value))
			if err != nil {
				errs.Add("basis_date", "invalid_date", "must be a date such as 2026-03-31")
			}
			r.BasisDate = &d
		}
	}
	if p.SalesRepID.Set {
		r.SalesRepID = p.SalesRepID.Value
	}
	if p.Notes.Set {
		r.Notes = nil
		if p.Notes.Value != nil && strings.TrimSpace(*p.Notes.Value) != "" {
			v := errs.Text("notes", *p.Notes.Value, 1, 10000)
			r.Notes = &v
		}
	}
	if len(p.Custom) > 0 || len(env.Fields) > 0 {
		custom, cerrs := env.ApplyCustom(r.Custom, p.Custom)
		errs = append(errs, cerrs...)
		r.Custom = custom
	}
	if r.Name == "" && !errs.Has("name") {
		errs.Add("name", "required", "must not be empty")
	}
	for _, f := range env.Settings.RequiredFields {
		if !errs.Has(f) && r.isEmpty(f) {
			errs.Add(f, "required", "is required by this tenant's settings")
		}
	}
	return errs.Err()
}

// isEmpty reports whether a requirable standard field has no value.
func (r Record) isEmpty(field string) bool {
	switch field {
	case "contact_name":
		return r.ContactName == nil
	case "email":
		return r.Email == nil
	case "phone":
		return r.Phone == nil
	case "website":
		return r.Website == nil
	case "tax_number":
		return r.TaxNumber == nil
	case "currency":
		return r.Currency == nil
	case "payment_terms_id":
		return r.PaymentTermsID == nil
	case "default_payment_method":
		return r.DefaultPaymentMethod == nil
	case "tax_scheme":
		return r.TaxScheme == nil
	case "price_list_id":
		return r.PriceListID == nil
	case "credit_limit":
		return r.CreditLimit == nil
	case "credit_period_days":
		return r.CreditPeriodDays == nil
	case "billing_status":
		return r.BillingStatus == nil
	case "basis_date":
		return r.BasisDate == nil
	case "sales_rep_id":
		return r.SalesRepID == nil
	case "notes":
		return r.Notes == nil
	}
	return false
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
func website(errs *validation.Errors, raw string) string {
	v := errs.Text("website", raw, 1, 2048)
	if errs.Has("website") {
		return v
	}
	if !strings.Contains(v, "://") {
		v = "https://" + v
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(u.Host, " @") {
		errs.Add("website", "invalid_url", "must be a web address such as https://example.com")
		return v
	}
	return u.String()
}

// Fields lists the customer fields a list can show (fields=, saved view
// columns), in response order.
var Fields = []string{
	"id", "code", "name", "kind", "type", "contact_name", "email", "phone", "website", "tax_number",
	"currency", "discount_rate", "payment_terms_id", "default_payment_method", "tax_scheme",
	"price_list_id", "credit_limit", "credit_period_days", "credit_policy", "billing_status", "basis_date",
	"sales_rep_id", "status", "notes", "custom", "groups", "city", "country", "order_count",
	"total_order_value", "average_order_value", "last_order_at", "engaged", "balance", "overdue_amount",
	"effective", "version", "created_at", "updated_at",
}

// IsField reports whether name is a customer field.
func IsField(name string) bool { return slices.Contains(Fields, name) }
