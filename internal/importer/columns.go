// Package importer reads customers from spreadsheets (xlsx, csv) and is
// the source of the spreadsheet columns that imports and exports share.
//
// columns.go is the column table: CustomerColumns derives one tenant's
// columns from the customer field specification (fieldspec.Customer: a
// field's header, aliases and tier live there, its value moves through
// customer.Accessors), adding the columns that are not customer fields
// (groups, the default billing and shipping addresses, custom fields).
// Each column exports a value from an ExportRecord and imports a value
// already parsed from a cell into a Row; a Row's customer.Patch is then
// validated by customer.Patch.Apply, the API's own validator, and its
// addresses by location.Patch.Apply.
package importer

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/customer/fieldspec"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/location"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/validation"
)

// Kind is what a column holds: it tells a cell reader what to parse the
// cell into before Import (see Column.Import for the value types).
type Kind string

// Column kinds.
const (
	// KindText is text: a number or date cell imports as its displayed
	// text (codes keep their leading zeros).
	KindText Kind = "text"
	// KindEnum is one of Column.Values (matched ignoring case).
	KindEnum Kind = "enum"
	// KindEmail is an e-mail address.
	KindEmail Kind = "email"
	// KindPhone is a phone number, normalized to E.164 with the tenant's
	// default country by validation.
	KindPhone Kind = "phone"
	// KindDecimal is an exact decimal (never through float).
	KindDecimal Kind = "decimal"
	// KindPercent is a rate in percent: 12.5 means 12.5 %. A reader that
	// meets a percent-formatted cell (0.125 shown as 12.5 %) passes
	// PercentFromCell of its value.
	KindPercent Kind = "percent"
	// KindInteger is a whole number.
	KindInteger Kind = "integer"
	// KindDate is a calendar date.
	KindDate Kind = "date"
	// KindBool is true or false (custom fields).
	KindBool Kind = "bool"
	// KindGroup is a group of one category, by its code.
	KindGroup Kind = "group"
	// KindSalesRep is a user, by e-mail.
	KindSalesRep Kind = "sales_rep"
	// KindPriceList is a price list, by code.
	KindPriceList Kind = "price_list"
	// KindPaymentTerms are payment terms, by code or name.
	KindPaymentTerms Kind = "payment_terms"
)

// Column is one spreadsheet column of an import or export.
type Column struct {
	// Header is the canonical header: the template's and the export's, so
	// an export re-imports as is.
	Header string
	// Aliases are other headers that mean this column (NormalizeHeader
	// compares them).
	Aliases []string
	// Field is what the column fills, named as validation errors name it:
	// a customer field (type, payment_terms_id), groups.<category>,
	// custom.<key>, or billing.<f> / shipping.<f> for an address field
	// of location.Patch (line1, line2, city, region, postal_code,
	// country). ForField finds the column of an error.
	Field string
	// Required columns must have a value when a customer is created.
	Required bool
	// Common columns make up the short template; the others follow.
	Common bool
	// Values are the allowed values, for a data-validation list: an
	// enum's values, the tenant's codes for references by code.
	Values []string
	Kind   Kind
	// Export returns the record's value: a string, decimal.Decimal, int,
	// time.Time (a date at UTC midnight), bool, or nil when empty. A
	// KindPercent value is in percent (12.5): a writer shows it as such,
	// or writes 0.125 (value.Shift(-2)) with a percent number format.
	Export func(r *ExportRecord) any
	// Import sets an already parsed value into the row: a string (any
	// kind; text is passed to validation as it is), decimal.Decimal
	// (decimal, percent, integer, text), int or int64 (integer, decimal,
	// text), time.Time (date, text), bool (bool), or nil for an empty
	// cell. An empty cell (nil or blank text) clears the field, except
	// where a value cannot be cleared: the code, name, kind, type and
	// status, an address's line 1, city and country, and a group are left
	// as they are. It fails only for a value of a type
	// the column cannot hold; the values themselves are validated later
	// by the Patch's Apply.
	Import func(row *Row, v any) error
}

// Row is one imported row: a customer patch; its default billing and
// default shipping addresses, as patches of those locations (nil when the
// row has no value in that address's columns; a new location needs line
// 1, city and country, and location.Patch.Apply validates it); and the
// references it names, unresolved: a batch resolves them at once
// (Resolver.LoadSalesReps, then Resolver.Resolve for each row).
type Row struct {
	Customer customer.Patch
	Billing  *location.Patch
	Shipping *location.Patch
	Refs     Refs
}

// Refs are a row's references by code, name or e-mail, as in the file.
type Refs struct {
	// Groups maps a category key to a group code.
	Groups map[string]string
	// SalesRepEmail, PriceList and PaymentTerms are set when the row has
	// the column; a nil Value clears the customer's reference.
	SalesRepEmail patch.Field[string]
	PriceList     patch.Field[string]
	PaymentTerms  patch.Field[string]
}

// ExportRecord is one customer as an export writes it: the customer with
// its group memberships, its default billing and shipping locations, and
// its references shown by e-mail and code. ExportFiller fills a batch of
// them with a fixed number of queries.
type ExportRecord struct {
	Detail           customer.Detail
	Billing          *dbsqlc.CustomerLocation
	Shipping         *dbsqlc.CustomerLocation
	SalesRepEmail    *string
	PriceListCode    *string
	PaymentTermsCode *string

	custom map[string]json.RawMessage // decoded once, by customValue
}

// customValue returns the stored value of a custom field (nil when none).
func (r *ExportRecord) customValue(key string) json.RawMessage {
	if r.custom == nil {
		r.custom = map[string]json.RawMessage{}
		_ = json.Unmarshal(r.Detail.Customer.Custom, &r.custom) // the schema keeps it an object
	}
	v := r.custom[key]
	if string(v) == "null" {
		return nil
	}
	return v
}

// Tenant is what one tenant's columns depend on; LoadTenant reads it.
type Tenant struct {
	// Env holds the settings (required fields) and custom field
	// definitions (in position order).
	Env settings.Env
	// Categories are the group categories in fallback order: the first is
	// group_code, the others group.<key>.
	Categories []dbsqlc.GroupCategory
	// Groups, PaymentTerms and PriceLists give the data-validation lists,
	// and resolve an import's references (Resolver).
	Groups       []dbsqlc.GroupCodeListRow
	PaymentTerms []dbsqlc.PaymentTerm
	PriceLists   []dbsqlc.PriceList
}

// maxValues is the longest data-validation list a column carries; past it
// a column has no list (a spreadsheet's list would be unwieldy anyway).
const maxValues = 1000

// CustomerColumns returns the tenant's customer columns in template
// order: the common fields (code, name, customer_type, email, phone,
// website, tax_number, currency, discount_rate, payment_terms,
// credit_limit), the group columns, sales_rep_email, the common address
// columns, notes; then the less common fields (kind, contact_name,
// price_list, credit_days, credit_policy, billing_status, basis_date), the
// less common address columns, the rare fields, and one column per custom
// field (by key, its label an alias).
func CustomerColumns(t Tenant) []Column {
	required := map[string]bool{}
	for _, f := range t.Env.Settings.RequiredFields {
		required[f] = true
	}
	var tiers [3][]Column
	for _, a := range customer.Accessors() {
		f := a.Field
		c := fieldColumn(t, a)
		// A NOT NULL field without a default must be given, except the
		// code, which a create generates.
		c.Required = required[f.Name] || f.NotNull && f.Default == "" && f.Kind != fieldspec.Code
		c.Common = f.Sheet.Tier == fieldspec.Common
		tiers[f.Sheet.Tier] = append(tiers[f.Sheet.Tier], c)
	}
	common := tiers[fieldspec.Common]
	common = insertBefore(common, "sales_rep_email", groupColumns(t))
	common = insertBefore(common, "notes", addressColumns(true))
	out := append(common, tiers[fieldspec.LessCommon]...)
	out = append(out, addressColumns(false)...)
	out = append(out, tiers[fieldspec.Rare]...)
	for _, def := range t.Env.Fields {
		out = append(out, customColumn(def))
	}
	for i := range out {
		imp := out[i].Import
		out[i].Import = func(row *Row, v any) error {
			switch v.(type) {
			case nil, string, decimal.Decimal, int, int64, time.Time, bool:
				return imp(row, v)
			}
			return fmt.Errorf("a cell's value cannot be a %T", v)
		}
	}
	return out
}

// insertBefore inserts cols before the column with this header (at the
// end when there is none).
func insertBefore(list []Column, header string, cols []Column) []Column {
	i := slices.IndexFunc(list, func(c Column) bool { return c.Header == header })
	if i < 0 {
		i = len(list)
	}
	return slices.Insert(list, i, cols...)
}

// fieldColumn is the column of a customer field.
func fieldColumn(t Tenant, a customer.Accessor) Column {
	f := a.Field
	c := Column{Header: f.Header(), Aliases: f.Sheet.Aliases, Field: f.Name}
	get, set := a.Get, a.Set
	c.Export = func(r *ExportRecord) any { return get(&r.Detail.Customer) }
	c.Import = func(row *Row, v any) error { return set(&row.Customer, v) }
	switch f.Kind {
	case fieldspec.Code, fieldspec.Text, fieldspec.URL, fieldspec.TaxNumber, fieldspec.Currency:
		c.Kind = KindText
		c.Import = func(row *Row, v any) error { return set(&row.Customer, asText(v)) }
	case fieldspec.Enum:
		c.Kind, c.Values = KindEnum, f.Values
		values := f.Values
		c.Import = func(row *Row, v any) error { return set(&row.Customer, canonical(asText(v), values)) }
	case fieldspec.Email:
		c.Kind = KindEmail
		c.Import = func(row *Row, v any) error { return set(&row.Customer, asText(v)) }
	case fieldspec.Phone:
		c.Kind = KindPhone
		c.Import = func(row *Row, v any) error { return set(&row.Customer, asText(v)) }
	case fieldspec.Percent:
		c.Kind = KindPercent
		c.Import = func(row *Row, v any) error { return setDecimal(set, row, v) }
	case fieldspec.Money:
		c.Kind = KindDecimal
		c.Import = func(row *Row, v any) error { return setDecimal(set, row, v) }
	case fieldspec.Integer:
		c.Kind = KindInteger
		c.Import = func(row *Row, v any) error {
			n, err := asInteger(v)
			if err != nil {
				return err
			}
			return set(&row.Customer, n)
		}
	case fieldspec.Date:
		c.Kind = KindDate
		c.Import = dateImport(set)
	case fieldspec.Ref:
		c = refColumn(t, f, c)
	}
	// A blank cell clears a field that can be empty and leaves one that
	// cannot as it is: a create then takes the default (kind, type,
	// status), generates the code, or reports the missing name.
	imp, notNull := c.Import, f.NotNull
	c.Import = func(row *Row, v any) error {
		if s, ok := v.(string); v == nil || ok && strings.TrimSpace(s) == "" {
			if notNull {
				return nil
			}
			v = nil
		}
		return imp(row, v)
	}
	return c
}

// refColumn is the column of a reference field: the reference travels by
// code or e-mail, in Row.Refs, until a batch resolves it.
func refColumn(t Tenant, f *fieldspec.Field, c Column) Column {
	switch f.Ref {
	case fieldspec.RefUser:
		c.Kind = KindSalesRep
		c.Export = func(r *ExportRecord) any { return optional(r.SalesRepEmail) }
		c.Import = func(row *Row, v any) error { return setRef(&row.Refs.SalesRepEmail, v) }
	case fieldspec.RefPriceList:
		c.Kind = KindPriceList
		for _, p := range t.PriceLists {
			c.Values = append(c.Values, p.Code)
		}
		c.Export = func(r *ExportRecord) any { return optional(r.PriceListCode) }
		c.Import = func(row *Row, v any) error { return setRef(&row.Refs.PriceList, v) }
	case fieldspec.RefPaymentTerms:
		c.Kind = KindPaymentTerms
		for _, p := range t.PaymentTerms {
			c.Values = append(c.Values, p.Code)
		}
		c.Export = func(r *ExportRecord) any { return optional(r.PaymentTermsCode) }
		c.Import = func(row *Row, v any) error { return setRef(&row.Refs.PaymentTerms, v) }
	default:
		panic("importer: no column for references to " + f.Ref)
	}
	if len(c.Values) > maxValues {
		c.Values = nil
	}
	return c
}

// groupColumns are one column per group category: group_code for the
// first, group.<key> for the others.
func groupColumns(t Tenant) []Column {
	var out []Column
	for i, cat := range t.Categories {
		key := cat.Key
		c := Column{Header: "group." + key, Field: "groups." + key, Kind: KindGroup, Common: i == 0,
			Aliases: []string{"group_" + key, cat.Name, cat.Name + " code"}}
		if i == 0 {
			c.Header = "group_code"
			c.Aliases = append([]string{"group", "group." + key}, c.Aliases...)
		}
		for _, g := range t.Groups {
			if g.Category == key {
				c.Values = append(c.Values, g.Code)
			}
		}
		if len(c.Values) > maxValues {
			c.Values = nil
		}
		c.Export = func(r *ExportRecord) any {
			for _, m := range r.Detail.Groups {
				if m.Category == key {
					return m.Code
				}
			}
			return nil
		}
		c.Import = func(row *Row, v any) error {
			s := strings.TrimSpace(asTextString(v))
			if s == "" {
				return nil // an empty cell leaves the customer's group as it is
			}
			if row.Refs.Groups == nil {
				row.Refs.Groups = map[string]string{}
			}
			row.Refs.Groups[key] = s
			return nil
		}
		out = append(out, c)
	}
	return out
}

// addressPart is one part of an address (a location.Patch field).
type addressPart struct {
	suffix  string // header after billing_ / shipping_
	field   string // location.Patch's field name in errors
	common  bool
	aliases []string // for the billing address; the shipping ones get "shipping "/"delivery " ones
	get     func(l *dbsqlc.CustomerLocation) any
	set     func(p *location.Patch, s *string)
}

var addressParts = []addressPart{
	{suffix: "address_line1", field: "line1", common: true, aliases: []string{"Address", "Address 1", "Address Line 1", "Street", "Street Address"},
		get: func(l *dbsqlc.CustomerLocation) any { return l.Line1 },
		set: func(p *location.Patch, s *string) { p.Line1 = s }},
	{suffix: "city", field: "city", common: true, aliases: []string{"City", "Town"},
		get: func(l *dbsqlc.CustomerLocation) any { return l.City },
		set: func(p *location.Patch, s *string) { p.City = s }},
	{suffix: "country", field: "country", common: true, aliases: []string{"Country", "Country Code"},
		get: func(l *dbsqlc.CustomerLocation) any { return l.Country },
		set: func(p *location.Patch, s *string) { p.Country = s }},
	{suffix: "address_line2", field: "line2", aliases: []string{"Address 2", "Address Line 2"},
		get: func(l *dbsqlc.CustomerLocation) any { return optional(l.Line2) },
		set: func(p *location.Patch, s *string) { p.Line2 = patch.Field[string]{Set: true, Value: s} }},
	{suffix: "region", field: "region", aliases: []string{"State", "Province", "County"},
		get: func(l *dbsqlc.CustomerLocation) any { return optional(l.Region) },
		set: func(p *location.Patch, s *string) { p.Region = patch.Field[string]{Set: true, Value: s} }},
	{suffix: "postal_code", field: "postal_code", aliases: []string{"Zip", "Zip Code", "Postcode", "Post Code"},
		get: func(l *dbsqlc.CustomerLocation) any { return optional(l.PostalCode) },
		set: func(p *location.Patch, s *string) { p.PostalCode = patch.Field[string]{Set: true, Value: s} }},
}

// addressColumns are the address columns of one tier. The billing
// address's region and postal code go by their bare names (region,
// postal_code: the customer's primary address), as do the unprefixed
// aliases (City, Zip); the shipping address's have the shipping_ prefix.
func addressColumns(common bool) []Column {
	var billing, shipping []Column
	for _, part := range addressParts {
		if part.common != common {
			continue
		}
		for _, which := range []string{"billing", "shipping"} {
			c := Column{Header: which + "_" + part.suffix, Field: which + "." + part.field, Kind: KindText, Common: common}
			if which == "billing" {
				if part.suffix == "region" || part.suffix == "postal_code" {
					c.Header = part.suffix
					c.Aliases = append(c.Aliases, "billing_"+part.suffix)
				}
				for _, a := range part.aliases {
					c.Aliases = append(c.Aliases, a, "billing "+a)
				}
			} else {
				for _, a := range part.aliases {
					c.Aliases = append(c.Aliases, "shipping "+a, "delivery "+a, "ship to "+a)
				}
			}
			get, set := part.get, part.set
			isBilling := which == "billing"
			c.Export = func(r *ExportRecord) any {
				l := r.Shipping
				if isBilling {
					l = r.Billing
				}
				if l == nil {
					return nil
				}
				return get(l)
			}
			c.Import = func(row *Row, v any) error {
				s := strings.TrimSpace(asTextString(v))
				p := &row.Shipping
				if isBilling {
					p = &row.Billing
				}
				if v == nil || s == "" {
					if part.field == "line1" || part.field == "city" || part.field == "country" {
						return nil // required parts of a location cannot be cleared
					}
					if *p == nil {
						// A row with no address (so far) stays without one:
						// an empty optional part alone is no address.
						return nil
					}
				}
				if *p == nil {
					*p = &location.Patch{}
				}
				if v == nil || s == "" {
					set(*p, nil)
					return nil
				}
				set(*p, &s)
				return nil
			}
			if isBilling {
				billing = append(billing, c)
			} else {
				shipping = append(shipping, c)
			}
		}
	}
	if common {
		// billing_address_line1, billing_city, billing_country, then the
		// same for shipping.
		return append(billing, shipping...)
	}
	// billing_address_line2, shipping_address_line2, region, postal_code,
	// shipping_region, shipping_postal_code.
	out := []Column{billing[0], shipping[0]}
	out = append(out, billing[1:]...)
	return append(out, shipping[1:]...)
}

// customColumn is the column of a custom field, by key (its label an
// alias).
func customColumn(def settings.FieldDef) Column {
	key := def.Key
	c := Column{Header: key, Aliases: []string{def.Label, "custom." + key}, Field: "custom." + key, Required: def.Required}
	switch def.Type {
	case settings.TypeNumber:
		c.Kind = KindDecimal
	case settings.TypeDate:
		c.Kind = KindDate
	case settings.TypeBool:
		c.Kind = KindBool
	case settings.TypeSelect:
		c.Kind, c.Values = KindEnum, def.Options
	default:
		c.Kind = KindText
	}
	kind, options := c.Kind, def.Options
	c.Export = func(r *ExportRecord) any {
		raw := r.customValue(key)
		if raw == nil {
			return nil
		}
		switch kind {
		case KindDecimal:
			if d, err := decimal.NewFromString(string(raw)); err == nil {
				return d
			}
		case KindBool:
			return string(raw) == "true"
		case KindDate:
			var s string
			if json.Unmarshal(raw, &s) == nil {
				if t, err := time.Parse(time.DateOnly, s); err == nil {
					return t
				}
			}
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return string(raw)
	}
	c.Import = func(row *Row, v any) error {
		if row.Customer.Custom == nil {
			row.Customer.Custom = map[string]json.RawMessage{}
		}
		raw, err := customJSON(kind, options, v)
		if err != nil {
			return err
		}
		row.Customer.Custom[key] = raw
		return nil
	}
	return c
}

// customJSON is a cell's value as the custom value's JSON, which
// settings.Env.ApplyCustom validates; null removes the value.
func customJSON(kind Kind, options []string, v any) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage("null"), nil
	}
	if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
		return json.RawMessage("null"), nil
	}
	switch kind {
	case KindDecimal:
		switch v := v.(type) {
		case decimal.Decimal:
			return json.RawMessage(v.String()), nil
		case int:
			return json.RawMessage(strconv.Itoa(v)), nil
		case int64:
			return json.RawMessage(strconv.FormatInt(v, 10)), nil
		}
	case KindBool:
		switch v := v.(type) {
		case bool:
			return json.Marshal(v)
		case string:
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true", "yes", "y", "1":
				return json.RawMessage("true"), nil
			case "false", "no", "n", "0":
				return json.RawMessage("false"), nil
			}
		}
	case KindDate:
		if t, ok := v.(time.Time); ok {
			return json.Marshal(t.Format(time.DateOnly))
		}
	case KindEnum:
		return json.Marshal(canonical(asTextString(v), options))
	}
	return json.Marshal(asTextString(v))
}

// ForField returns the column that fills a field named as a validation
// error names it (customer field, groups.<category>, custom.<key>,
// billing.<f>, shipping.<f>).
func ForField(cols []Column, field string) (Column, bool) {
	for _, c := range cols {
		if c.Field == field {
			return c, true
		}
	}
	return Column{}, false
}

// PercentFromCell turns the value of a percent-formatted cell (0.125,
// shown as 12.5 %) into the percent a KindPercent column takes (12.5).
func PercentFromCell(d decimal.Decimal) decimal.Decimal { return d.Shift(2) }

// ---- values --------------------------------------------------------------

// asText turns a parsed value into the text a text field gets: nil stays
// nil (clears), a number its exact decimal text, a date YYYY-MM-DD.
func asText(v any) any {
	switch v := v.(type) {
	case nil, string:
		return v
	}
	return asTextString(v)
}

func asTextString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case decimal.Decimal:
		return v.String()
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case time.Time:
		return v.Format(time.DateOnly)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}

// canonical returns the allowed value equal to s ignoring case and
// surrounding space, else s as it is (validation then refuses it).
func canonical(v any, allowed []string) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	t := strings.TrimSpace(s)
	for _, a := range allowed {
		if strings.EqualFold(a, t) {
			return a
		}
	}
	return s
}

func setDecimal(set func(*customer.Patch, any) error, row *Row, v any) error {
	switch x := v.(type) {
	case int:
		v = decimal.NewFromInt(int64(x))
	case int64:
		v = decimal.NewFromInt(x)
	case string:
		if strings.TrimSpace(x) == "" {
			v = nil
		} else {
			d, err := decimal.NewFromString(strings.TrimSpace(x))
			if err != nil {
				return fmt.Errorf("not a number: %q", x)
			}
			v = d
		}
	}
	return set(&row.Customer, v)
}

func asInteger(v any) (any, error) {
	switch x := v.(type) {
	case nil, int, int64:
		return v, nil
	case decimal.Decimal:
		if !x.Equal(x.Truncate(0)) || !decimal.NewFromInt(x.IntPart()).Equal(x) {
			return nil, fmt.Errorf("not a whole number: %s", x)
		}
		return x.IntPart(), nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return nil, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("not a whole number: %q", x)
		}
		return n, nil
	}
	return nil, fmt.Errorf("not a whole number: %v", v)
}

// dateImport takes a time.Time, or text that validation reads as a date
// (YYYY-MM-DD); blank text clears.
func dateImport(set func(*customer.Patch, any) error) func(row *Row, v any) error {
	return func(row *Row, v any) error {
		if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
			v = nil
		}
		return set(&row.Customer, v)
	}
}

func setRef(dst *patch.Field[string], v any) error {
	s := strings.TrimSpace(asTextString(v))
	if s == "" {
		*dst = patch.Field[string]{Set: true}
		return nil
	}
	*dst = patch.Field[string]{Set: true, Value: &s}
	return nil
}

func optional[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// ---- headers ---------------------------------------------------------------

// Match is how a file's header row maps onto columns.
type Match struct {
	// Columns holds, per header index, the column that header fills, or
	// nil for an empty or unknown header.
	Columns []*Column
	// Unknown lists the headers that name no column, as written in the
	// file: reported, not fatal.
	Unknown []string
}

// MatchHeaders maps a header row onto cols. A header matches a column by
// its canonical header or an alias, ignoring case, spaces, punctuation
// and a byte order mark; mapping ({"<header>": "<column>"}, as an import
// request gives it) overrides that for the headers it names, naming the
// column by its header or an alias. Two headers meeting in one column,
// a mapping naming no column or a header the file does not have, are
// errors naming the column or the mapping's header; empty headers (a
// merged or blank header cell) are skipped.
func MatchHeaders(cols []Column, headers []string, mapping map[string]string) (Match, validation.Errors) {
	var errs validation.Errors
	// Canonical headers first: an export's headers always mean their own
	// columns, whatever alias another column has (a group category named
	// Region beside the address's region).
	byName := map[string]int{}
	for pass := range 2 {
		for i := range cols {
			names := []string{cols[i].Header}
			if pass == 1 {
				names = cols[i].Aliases
			}
			for _, name := range names {
				if n := NormalizeHeader(name); n != "" {
					if _, taken := byName[n]; !taken {
						byName[n] = i
					}
				}
			}
		}
	}
	mapped := map[string]int{} // normalized header -> column
	for _, h := range slices.Sorted(maps.Keys(mapping)) {
		target := mapping[h]
		i, ok := byName[NormalizeHeader(target)]
		if !ok {
			errs.Add("mapping."+h, "unknown_field", fmt.Sprintf("%q is not a column of this import", target))
			continue
		}
		present := slices.ContainsFunc(headers, func(fh string) bool { return NormalizeHeader(fh) == NormalizeHeader(h) })
		if !present {
			errs.Add("mapping."+h, "unknown_header", "the file has no column with this header")
			continue
		}
		mapped[NormalizeHeader(h)] = i
	}
	m := Match{Columns: make([]*Column, len(headers)), Unknown: []string{}}
	first := map[int]int{} // column -> first header index
	for hi, h := range headers {
		n := NormalizeHeader(h)
		if n == "" {
			continue
		}
		i, ok := mapped[n]
		if !ok {
			i, ok = byName[n]
		}
		if !ok {
			m.Unknown = append(m.Unknown, h)
			continue
		}
		if prev, dup := first[i]; dup {
			errs.Add(cols[i].Header, "duplicate_column", fmt.Sprintf("columns %d (%q) and %d (%q) both fill %s",
				prev+1, headers[prev], hi+1, h, cols[i].Header))
			continue
		}
		first[i] = hi
		m.Columns[hi] = &cols[i]
	}
	return m, errs
}

// NormalizeHeader reduces a header to what matching compares: lower case
// letters and digits only, so that case, spaces, punctuation and a UTF-8
// byte order mark do not matter ("E-mail" and "email", "Zip Code" and
// "zip_code" are the same header).
func NormalizeHeader(h string) string {
	var b strings.Builder
	for _, r := range h {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}
