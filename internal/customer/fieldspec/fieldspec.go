// Package fieldspec is the one specification of a customer's writable
// fields: for each, its API name, its column, its kind (which decides its
// Go types, its validation, how the API shows it, how a spreadsheet cell
// reads and writes it), whether a tenant may require it and how a merge
// treats it. It is plain data, so that the code generator of package
// customer (customer/gen) and the runtime (settings, importer) can both
// read it without importing package customer.
//
// See package customer's comment for what is derived from it and for the
// places to touch to add a field.
package fieldspec

// Kind is what kind of value a field holds; it decides the field's Go
// types and its validation.
type Kind string

// Kinds of fields.
const (
	// Code is a customer code: 1 to 32 letters, digits or . _ / -.
	Code Kind = "code"
	// Text is free text of at most Max characters.
	Text Kind = "text"
	// Enum is one of Values.
	Enum Kind = "enum"
	// Email is an e-mail address (stored lower-cased).
	Email Kind = "email"
	// Phone is a phone number (stored in E.164 form).
	Phone Kind = "phone"
	// URL is a web address.
	URL Kind = "url"
	// TaxNumber is a tax or VAT number.
	TaxNumber Kind = "tax_number"
	// Currency is an ISO 4217 code.
	Currency Kind = "currency"
	// Percent is a rate in percent, 0 to 100 with two decimals.
	Percent Kind = "percent"
	// Money is an amount in the customer's currency.
	Money Kind = "money"
	// Integer is a whole number from 0 to Max.
	Integer Kind = "integer"
	// Date is a calendar date.
	Date Kind = "date"
	// Ref is the id of another object, named by Ref.
	Ref Kind = "ref"
)

// Merge is how a merge of duplicates treats a field of the customer kept.
type Merge int

// Merge rules.
const (
	// MergeFill fills an empty kept field from the duplicate and reports a
	// differing value the kept customer keeps.
	MergeFill Merge = iota
	// MergeDecide is MergeFill where the merge decides first whether the
	// duplicate's value may fill (currency, sales rep).
	MergeDecide
	// MergeKeep never fills; a differing value is reported as kept.
	MergeKeep
	// MergeNever is neither filled nor reported (the code: the duplicate's
	// is in the report on its own).
	MergeNever
)

// References (Field.Ref).
const (
	RefPaymentTerms = "payment_terms"
	RefPriceList    = "price_list"
	RefUser         = "user"
)

// Field describes one writable customer field.
type Field struct {
	// Name is the field's name in the API (JSON member, fields=, error
	// lists, tenant settings, audit records).
	Name string
	// Column is the customers table's column.
	Column string
	// GoName is the field's name in Go: in customer.Record, customer.Patch
	// and dbsqlc.Customer (sqlc's name for the column).
	GoName string
	Kind   Kind
	// NotNull fields always have a value: a create starts from Default, a
	// patch cannot clear them.
	NotNull bool
	Default string
	// Max is the longest text (in characters), or the largest integer.
	Max int
	// Values are an enum's allowed values.
	Values []string
	// Ref names what a Ref field refers to (RefPaymentTerms, ...).
	Ref string
	// Requirable fields may be made required by a tenant's settings.
	Requirable bool
	Merge      Merge
	// Sheet is the field's spreadsheet column (import template, header
	// matching, export).
	Sheet Sheet
}

// Tier orders the spreadsheet columns: the common ones first (the
// template a back office fills), then the less common, then the rare.
type Tier int

// Tiers of spreadsheet columns.
const (
	Common Tier = iota
	LessCommon
	Rare
)

// Sheet describes a field's spreadsheet column.
type Sheet struct {
	// Header is the canonical header when it differs from the field's
	// name (a reference read by code or e-mail, or a friendlier name).
	Header string
	// Aliases are other headers that mean this column, matched ignoring
	// case, spaces and punctuation.
	Aliases []string
	Tier    Tier
}

// Header is the field's canonical spreadsheet header.
func (f Field) Header() string {
	if f.Sheet.Header != "" {
		return f.Sheet.Header
	}
	return f.Name
}

// Allowed values of the enumerated fields.
var (
	Kinds           = []string{"customer", "vendor", "both"}
	Types           = []string{"individual", "company"}
	Statuses        = []string{"active", "dormant", "inactive"}
	CreditPolicies  = []string{"none", "warn", "block"}
	PaymentMethods  = []string{"cash", "bank_transfer", "credit_card", "check", "direct_debit", "other"}
	BillingStatuses = []string{"current", "on_hold", "collections", "closed"}
)

// Customer is the specification of the customer's writable fields, in the
// order the API shows them.
var Customer = []Field{
	{Name: "code", Column: "code", GoName: "Code", Kind: Code, NotNull: true, Merge: MergeNever, Sheet: Sheet{Aliases: []string{"Customer Code", "Customer No", "Customer Number", "Account", "Account Number", "Account No"}}},
	{Name: "name", Column: "name", GoName: "Name", Kind: Text, Max: 200, NotNull: true, Merge: MergeKeep, Sheet: Sheet{Aliases: []string{"Customer Name", "Company", "Company Name", "Business Name", "Customer"}}},
	{Name: "kind", Column: "kind", GoName: "Kind", Kind: Enum, Values: Kinds, NotNull: true, Default: "customer", Merge: MergeKeep, Sheet: Sheet{Aliases: []string{"Customer Kind", "Customer or Vendor"}, Tier: LessCommon}},
	{Name: "type", Column: "type", GoName: "Type", Kind: Enum, Values: Types, NotNull: true, Default: "company", Merge: MergeKeep, Sheet: Sheet{Header: "customer_type", Aliases: []string{"type", "Entity Type"}}},
	{Name: "contact_name", Column: "contact_name", GoName: "ContactName", Kind: Text, Max: 200, Requirable: true, Sheet: Sheet{Aliases: []string{"Contact", "Contact Person", "Attention"}, Tier: LessCommon}},
	{Name: "email", Column: "email", GoName: "Email", Kind: Email, Requirable: true, Sheet: Sheet{Aliases: []string{"E-mail", "Email Address", "E-mail Address", "Mail"}}},
	{Name: "phone", Column: "phone", GoName: "Phone", Kind: Phone, Requirable: true, Sheet: Sheet{Aliases: []string{"Telephone", "Phone Number", "Tel", "Telephone Number", "Mobile"}}},
	{Name: "website", Column: "website", GoName: "Website", Kind: URL, Requirable: true, Sheet: Sheet{Aliases: []string{"Web", "Web Site", "URL", "Homepage"}}},
	{Name: "tax_number", Column: "tax_number", GoName: "TaxNumber", Kind: TaxNumber, Max: 64, Requirable: true, Sheet: Sheet{Aliases: []string{"VAT number", "VAT", "VAT ID", "Tax ID", "TIN", "GST Number", "NPWP"}}},
	{Name: "currency", Column: "currency", GoName: "Currency", Kind: Currency, Requirable: true, Merge: MergeDecide, Sheet: Sheet{Aliases: []string{"Currency Code"}}},
	{Name: "discount_rate", Column: "discount_rate", GoName: "DiscountRate", Kind: Percent, Sheet: Sheet{Aliases: []string{"Discount", "Discount %", "Discount Percent"}}},
	{Name: "payment_terms_id", Column: "payment_terms_id", GoName: "PaymentTermsID", Kind: Ref, Ref: RefPaymentTerms, Requirable: true, Sheet: Sheet{Header: "payment_terms", Aliases: []string{"Terms", "Payment Terms Code"}}},
	{Name: "default_payment_method", Column: "default_payment_method", GoName: "DefaultPaymentMethod", Kind: Enum, Values: PaymentMethods, Requirable: true, Sheet: Sheet{Aliases: []string{"Payment Method"}, Tier: Rare}},
	{Name: "tax_scheme", Column: "tax_scheme", GoName: "TaxScheme", Kind: Text, Max: 64, Requirable: true, Sheet: Sheet{Aliases: []string{"Tax Type"}, Tier: Rare}},
	{Name: "price_list_id", Column: "price_list_id", GoName: "PriceListID", Kind: Ref, Ref: RefPriceList, Requirable: true, Sheet: Sheet{Header: "price_list", Aliases: []string{"Price Level", "Pricing Level", "Price List Code"}, Tier: LessCommon}},
	{Name: "credit_limit", Column: "credit_limit", GoName: "CreditLimit", Kind: Money, Requirable: true, Sheet: Sheet{Aliases: []string{"Credit Line"}}},
	{Name: "credit_period_days", Column: "credit_period_days", GoName: "CreditPeriodDays", Kind: Integer, Max: 3650, Requirable: true, Sheet: Sheet{Header: "credit_days", Aliases: []string{"credit_period_days", "Credit Period", "Credit Term Days"}, Tier: LessCommon}},
	{Name: "credit_policy", Column: "credit_policy", GoName: "CreditPolicy", Kind: Enum, Values: CreditPolicies, Sheet: Sheet{Aliases: []string{"Credit Control"}, Tier: LessCommon}},
	{Name: "billing_status", Column: "billing_status", GoName: "BillingStatus", Kind: Enum, Values: BillingStatuses, Requirable: true, Sheet: Sheet{Tier: LessCommon}},
	{Name: "basis_date", Column: "basis_date", GoName: "BasisDate", Kind: Date, Requirable: true, Sheet: Sheet{Tier: LessCommon}},
	{Name: "sales_rep_id", Column: "sales_rep_id", GoName: "SalesRepID", Kind: Ref, Ref: RefUser, Requirable: true, Merge: MergeDecide, Sheet: Sheet{Header: "sales_rep_email", Aliases: []string{"Sales Rep", "Salesperson", "Sales Person", "Account Manager"}}},
	{Name: "status", Column: "status", GoName: "Status", Kind: Enum, Values: Statuses, NotNull: true, Default: "active", Merge: MergeKeep, Sheet: Sheet{Aliases: []string{"Customer Status"}, Tier: Rare}},
	{Name: "notes", Column: "notes", GoName: "Notes", Kind: Text, Max: 10000, Requirable: true, Sheet: Sheet{Aliases: []string{"Note", "Remarks", "Comments", "Memo"}}},
}

// ByName returns the field of this name.
func ByName(name string) (Field, bool) {
	for _, f := range Customer {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Requirable lists the names of the fields a tenant may require, in
// specification order.
func Requirable() []string {
	var out []string
	for _, f := range Customer {
		if f.Requirable {
			out = append(out, f.Name)
		}
	}
	return out
}
