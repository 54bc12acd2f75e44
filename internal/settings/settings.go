// Package settings manages per-tenant settings (required customer fields,
// default country and currency, default payment terms, credit policy,
// dormant period and sweep) and custom field definitions, and validates custom field
// values for the packages that write customers.
package settings

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/text/language"

	"github.com/customerhub/customerhub/internal/customer/fieldspec"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/validation"
)

// Sentinel errors.
var (
	ErrVersionMismatch = errors.New("version mismatch")
	ErrFieldNotFound   = errors.New("custom field not found")
	ErrKeyTaken        = errors.New("custom field key already used")
	ErrLimitReached    = errors.New("custom field limit reached")
)

// RequirableFields are the standard customer fields a tenant may mark
// required.
var RequirableFields = fieldspec.Requirable()

// CreditPolicies are the values of default_credit_policy.
var CreditPolicies = []string{"none", "warn", "block"}

// Bounds of dormant_after_days (the schema checks the same range).
const (
	MinDormantDays = 1
	MaxDormantDays = 3650
)

// DefaultDormantSweepHour is the hour (UTC) of a tenant's daily dormant
// sweep unless it sets dormant_sweep_hour (0 to 23).
const DefaultDormantSweepHour = 2

// Settings is the tenant's settings.
type Settings struct {
	RequiredFields        []string
	DefaultCountry        string
	DefaultCurrency       string
	DefaultPaymentTermsID *uuid.UUID
	DefaultCreditPolicy   string
	DormantAfterDays      int32
	// DormantIncludeOpenBalance makes the dormant sweep take customers who
	// owe money too.
	DormantIncludeOpenBalance bool
	// DormantSweepHour is the hour of the day (UTC) the daily sweep runs.
	DormantSweepHour int32
	Version          int64
	UpdatedAt        time.Time
}

func toSettings(r dbsqlc.TenantSetting) Settings {
	req := r.RequiredFields
	if req == nil {
		req = []string{}
	}
	return Settings{RequiredFields: req, DefaultCountry: r.DefaultCountry, DefaultCurrency: r.DefaultCurrency,
		DefaultPaymentTermsID: r.DefaultPaymentTermsID, DefaultCreditPolicy: r.DefaultCreditPolicy,
		DormantAfterDays: r.DormantAfterDays, DormantIncludeOpenBalance: r.DormantIncludeOpenBalance,
		DormantSweepHour: r.DormantSweepHour, Version: r.Version, UpdatedAt: r.UpdatedAt}
}

// Requires reports whether the tenant marked a standard customer field
// required.
func (s Settings) Requires(field string) bool { return slices.Contains(s.RequiredFields, field) }

// SettingsPatch changes some settings; nil means unchanged. For the
// nullable default payment terms, DefaultPaymentTermsIDSet with a nil
// DefaultPaymentTermsID clears them.
type SettingsPatch struct {
	RequiredFields           *[]string
	DefaultCountry           *string
	DefaultCurrency          *string
	DefaultPaymentTermsIDSet bool
	DefaultPaymentTermsID    *uuid.UUID
	DefaultCreditPolicy      *string
	DormantAfterDays         *int64
	// DormantIncludeOpenBalance and DormantSweepHour: see Settings.
	DormantIncludeOpenBalance *bool
	DormantSweepHour          *int64
}

// Validate checks and normalizes the patch: required fields come back
// without duplicates in the order of RequirableFields, the country and
// currency in upper case.
func (p *SettingsPatch) Validate() error {
	var errs validation.Errors
	if p.RequiredFields != nil {
		v := checkRequiredFields(&errs, *p.RequiredFields)
		p.RequiredFields = &v
	}
	if p.DefaultCountry != nil {
		v := CheckCountry(&errs, "default_country", *p.DefaultCountry)
		p.DefaultCountry = &v
	}
	if p.DefaultCurrency != nil {
		v, ok := money.Currency(*p.DefaultCurrency)
		if !ok {
			errs.Add("default_currency", "invalid_currency", "must be an ISO 4217 currency code such as USD")
		}
		p.DefaultCurrency = &v
	}
	if p.DefaultCreditPolicy != nil {
		errs.OneOf("default_credit_policy", *p.DefaultCreditPolicy, CreditPolicies...)
	}
	if p.DormantAfterDays != nil && (*p.DormantAfterDays < MinDormantDays || *p.DormantAfterDays > MaxDormantDays) {
		errs.Add("dormant_after_days", "out_of_range", fmt.Sprintf("must be from %d to %d", MinDormantDays, MaxDormantDays))
	}
	if p.DormantSweepHour != nil && (*p.DormantSweepHour < 0 || *p.DormantSweepHour > 23) {
		errs.Add("dormant_sweep_hour", "out_of_range", "must be an hour from 0 to 23 (UTC)")
	}
	return errs.Err()
}

func checkRequiredFields(errs *validation.Errors, fields []string) []string {
	for i, f := range fields {
		if !slices.Contains(RequirableFields, f) {
			errs.Add(fmt.Sprintf("required_fields.%d", i), "unknown_field",
				"must be one of: "+strings.Join(RequirableFields, ", "))
		}
	}
	out := []string{}
	for _, f := range RequirableFields {
		if slices.Contains(fields, f) {
			out = append(out, f)
		}
	}
	return out
}

// CheckCountry checks an ISO 3166-1 alpha-2 country code and returns it in
// upper case. Deprecated codes become their replacement (UK is GB), since
// phone number parsing and addresses know only the current ones.
func CheckCountry(errs *validation.Errors, field, v string) string {
	v = strings.ToUpper(strings.TrimSpace(v))
	bad := func() string {
		errs.Add(field, "invalid_country", "must be an ISO 3166-1 alpha-2 country code such as US")
		return v
	}
	// ParseRegion also takes alpha-3 and numeric codes; the API speaks
	// alpha-2 only, so one spelling is stored.
	if len(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z' {
		return bad()
	}
	r, err := language.ParseRegion(v)
	if err != nil {
		return bad()
	}
	r = r.Canonicalize()
	if !r.IsCountry() {
		return bad()
	}
	return r.String()
}

// ---- custom field definitions ------------------------------------------------

// Custom field types.
const (
	TypeText   = "text"
	TypeNumber = "number"
	TypeDate   = "date"
	TypeBool   = "bool"
	TypeSelect = "select"
)

// FieldTypes lists the custom field types.
var FieldTypes = []string{TypeText, TypeNumber, TypeDate, TypeBool, TypeSelect}

// Limits of custom field definitions.
const (
	// MaxFields is the most definitions a tenant may have.
	MaxFields = 50
	// MaxOptions is the most options a select field may have.
	MaxOptions = 100
	// MaxOptionLength is the longest option, in characters.
	MaxOptionLength = 100
	// MaxPosition bounds position (from 0).
	MaxPosition = 10000
)

var keyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// FieldDef is one custom field definition.
type FieldDef struct {
	ID       uuid.UUID
	Key      string
	Label    string
	Type     string
	Required bool
	Options  []string
	Position int32
}

// FieldInput creates a custom field definition.
type FieldInput struct {
	Key      string
	Label    string
	Type     string
	Required bool
	Options  []string
	Position int64
}

// Validate checks and normalizes the input.
func (in *FieldInput) Validate() error {
	var errs validation.Errors
	if !keyRE.MatchString(in.Key) {
		errs.Add("key", "invalid_key", "must be 1 to 40 lower-case letters, digits or _, starting with a letter")
	}
	in.Label = errs.Text("label", in.Label, 1, 200)
	errs.OneOf("type", in.Type, FieldTypes...)
	in.Options = checkOptions(&errs, in.Type, in.Options)
	checkPosition(&errs, in.Position)
	return errs.Err()
}

// FieldPatch changes some fields of a definition; nil means unchanged. The
// key and the type never change: stored values are keyed by the one and
// were validated against the other.
type FieldPatch struct {
	Label    *string
	Required *bool
	Options  *[]string
	Position *int64
}

// Validate checks and normalizes the patch for a field of type typ.
func (p *FieldPatch) Validate(typ string) error {
	var errs validation.Errors
	if p.Label != nil {
		v := errs.Text("label", *p.Label, 1, 200)
		p.Label = &v
	}
	if p.Options != nil {
		v := checkOptions(&errs, typ, *p.Options)
		p.Options = &v
	}
	if p.Position != nil {
		checkPosition(&errs, *p.Position)
	}
	return errs.Err()
}

// checkOptions checks a select field's options (1 to MaxOptions distinct
// non-empty texts) and refuses options on the other types. It returns them
// trimmed, never nil.
func checkOptions(errs *validation.Errors, typ string, opts []string) []string {
	out := make([]string, 0, len(opts))
	if typ != TypeSelect {
		if len(opts) > 0 {
			errs.Add("options", "not_allowed", "only select fields have options")
		}
		return out
	}
	switch {
	case len(opts) == 0:
		errs.Add("options", "required", "a select field needs at least one option")
	case len(opts) > MaxOptions:
		errs.Add("options", "too_many", fmt.Sprintf("must have at most %d options", MaxOptions))
		return out
	}
	for i, o := range opts {
		field := fmt.Sprintf("options.%d", i)
		v := errs.Text(field, o, 1, MaxOptionLength)
		if slices.Contains(out, v) && !errs.Has(field) {
			errs.Add(field, "duplicate", "appears more than once")
		}
		out = append(out, v)
	}
	return out
}

func checkPosition(errs *validation.Errors, v int64) {
	if v < 0 || v > MaxPosition {
		errs.Add("position", "out_of_range", fmt.Sprintf("must be from 0 to %d", MaxPosition))
	}
}
