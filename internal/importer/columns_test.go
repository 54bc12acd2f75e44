package importer

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/customer/fieldspec"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/group"
	"github.com/customerhub/customerhub/internal/location"
	"github.com/customerhub/customerhub/internal/settings"
)

// testBundle is a tenant with two group categories, payment terms, a
// price list, a sales rep and one custom field of each type.
type testBundle struct {
	tenant  Tenant
	cols    []Column
	termsID uuid.UUID
	listID  uuid.UUID
	repID   uuid.UUID
	groupID uuid.UUID
	areaID  uuid.UUID
}

func setup(t testing.TB) testBundle {
	t.Helper()
	b := testBundle{termsID: uuid.New(), listID: uuid.New(), repID: uuid.New(), groupID: uuid.New(), areaID: uuid.New()}
	b.tenant = Tenant{
		Env: settings.Env{
			Settings: settings.Settings{DefaultCountry: "ID", DefaultCurrency: "IDR", DefaultCreditPolicy: "warn", RequiredFields: []string{"email"}},
			Fields: []settings.FieldDef{
				{Key: "industry", Label: "Industry", Type: settings.TypeText},
				{Key: "employees", Label: "Employees", Type: settings.TypeNumber},
				{Key: "founded", Label: "Founded on", Type: settings.TypeDate},
				{Key: "vip", Label: "VIP", Type: settings.TypeBool, Required: true},
				{Key: "tier", Label: "Tier", Type: settings.TypeSelect, Options: []string{"Gold", "Silver"}},
			},
		},
		Categories: []dbsqlc.GroupCategory{{Key: "segment", Name: "Segment"}, {Key: "area", Name: "Area"}},
		Groups: []dbsqlc.GroupCodeListRow{
			{ID: b.groupID, Category: "segment", Code: "RETAIL"}, {ID: uuid.New(), Category: "segment", Code: "WHOLESALE"},
			{ID: b.areaID, Category: "area", Code: "NORTH"},
		},
		PaymentTerms: []dbsqlc.PaymentTerm{{ID: b.termsID, Code: "NET30", Name: "Net 30", DueDays: 30}},
		PriceLists:   []dbsqlc.PriceList{{ID: b.listID, Code: "WHOLESALE", Name: "Wholesale", Currency: "IDR"}},
	}
	b.cols = CustomerColumns(b.tenant)
	return b
}

func headers(cols []Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Header
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// TestCustomerColumnsOrder: the template's order, as the issue lists it,
// with the rare fields of the specification and the custom fields after.
func TestCustomerColumnsOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Equal(t, []string{
		"code", "name", "customer_type", "email", "phone", "website", "tax_number", "currency", "discount_rate",
		"payment_terms", "credit_limit", "group_code", "group.area", "sales_rep_email", "billing_address_line1",
		"billing_city", "billing_country", "shipping_address_line1", "shipping_city", "shipping_country", "notes",
		"kind", "contact_name", "price_list", "credit_days", "credit_policy", "billing_status", "basis_date",
		"billing_address_line2", "shipping_address_line2", "region", "postal_code", "shipping_region", "shipping_postal_code",
		"default_payment_method", "tax_scheme", "status",
		"industry", "employees", "founded", "vip", "tier",
	}, headers(b.cols))

	byHeader := map[string]Column{}
	for _, c := range b.cols {
		byHeader[c.Header] = c
	}
	require.True(t, byHeader["name"].Required)
	require.True(t, byHeader["email"].Required, "required by the tenant's settings")
	require.True(t, byHeader["vip"].Required, "a required custom field")
	require.False(t, byHeader["code"].Required, "a create generates a missing code")
	require.True(t, byHeader["group_code"].Common)
	require.False(t, byHeader["group.area"].Common)
	require.False(t, byHeader["kind"].Common)
	require.Equal(t, []string{"NET30"}, byHeader["payment_terms"].Values)
	require.Equal(t, []string{"RETAIL", "WHOLESALE"}, byHeader["group_code"].Values)
	require.Equal(t, fieldspec.Types, byHeader["customer_type"].Values)
	require.Equal(t, []string{"Gold", "Silver"}, byHeader["tier"].Values)
	require.Equal(t, KindPercent, byHeader["discount_rate"].Kind)
	require.Equal(t, KindPaymentTerms, byHeader["payment_terms"].Kind)
	require.Equal(t, KindSalesRep, byHeader["sales_rep_email"].Kind)
	require.Equal(t, KindDate, byHeader["founded"].Kind)
	require.Equal(t, "type", byHeader["customer_type"].Field)
	require.Equal(t, "billing.postal_code", byHeader["postal_code"].Field)

	// Every field of the specification has its column.
	for _, f := range fieldspec.Customer {
		c, ok := ForField(b.cols, f.Name)
		require.True(t, ok, f.Name)
		require.Equal(t, f.Header(), c.Header)
	}
}

// TestHeadersUnambiguous: no header or alias means two columns.
func TestHeadersUnambiguous(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seen := map[string]string{}
	for _, c := range b.cols {
		for _, name := range append([]string{c.Header}, c.Aliases...) {
			n := NormalizeHeader(name)
			require.NotEmpty(t, n, "%s: alias %q", c.Header, name)
			if other, ok := seen[n]; ok {
				require.Equal(t, other, c.Header, "%q means both %s and %s", name, other, c.Header)
			}
			seen[n] = c.Header
		}
	}
}

// TestColumnsRoundTrip: for a customer with every field filled, each
// column's exported value, imported into a row, resolves and applies
// (customer.Patch.Apply, the API's validator) to the same record, groups,
// addresses and custom values.
func TestColumnsRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	env := b.tenant.Env
	custom, errs := env.ApplyCustom(nil, map[string]json.RawMessage{
		"industry": json.RawMessage(`"Batik textiles"`), "employees": json.RawMessage(`1250.5`),
		"founded": json.RawMessage(`"1998-07-01"`), "vip": json.RawMessage(`true`), "tier": json.RawMessage(`"Gold"`),
	})
	require.Empty(t, errs)
	c := dbsqlc.Customer{
		ID: uuid.New(), Code: "00123", Name: "PT Sinar Jaya 신라", Kind: "both", Type: "individual",
		ContactName: ptr("Budi Santoso"), Email: ptr("budi@sinar.co.id"), Phone: ptr("+6281234567890"),
		Website: ptr("https://sinar.co.id"), TaxNumber: ptr("01.234.567.8-901.000"), Currency: ptr("IDR"),
		DiscountRate: ptr(decimal.RequireFromString("12.5")), PaymentTermsID: &b.termsID,
		DefaultPaymentMethod: ptr("bank_transfer"), TaxScheme: ptr("PPN"), PriceListID: &b.listID,
		CreditLimit: ptr(decimal.RequireFromString("150000000.25")), CreditPeriodDays: ptr(int32(45)),
		CreditPolicy: ptr("block"), BillingStatus: ptr("on_hold"), BasisDate: ptr(time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)),
		SalesRepID: &b.repID, Status: "dormant", Notes: ptr("pays by giro\nsecond line"), Custom: custom,
	}
	billing := dbsqlc.CustomerLocation{CustomerID: c.ID, Line1: "Jl. Sudirman 1", Line2: ptr("Lt. 5"), City: "Jakarta",
		Region: ptr("DKI"), PostalCode: ptr("10220"), Country: "ID", IsDefaultBilling: true}
	shipping := dbsqlc.CustomerLocation{CustomerID: c.ID, Line1: "Gudang 7", Line2: ptr("Blok B"), City: "Bekasi",
		Region: ptr("Jawa Barat"), PostalCode: ptr("17530"), Country: "ID", IsDefaultShipping: true}
	rec := ExportRecord{
		Detail: customer.Detail{Customer: c, Groups: []group.Membership{
			{Category: "segment", Code: "RETAIL", GroupID: b.groupID}, {Category: "area", Code: "NORTH", GroupID: b.areaID}}},
		Billing: &billing, Shipping: &shipping,
		SalesRepEmail: ptr("rep@sinar.co.id"), PriceListCode: ptr("WHOLESALE"), PaymentTermsCode: ptr("NET30"),
	}

	var row Row
	for _, col := range b.cols {
		v := col.Export(&rec)
		require.NotNil(t, v, "%s: a fully filled customer has a value in every column", col.Header)
		require.NoError(t, col.Import(&row, v), col.Header)
	}
	res := NewResolver(b.tenant)
	res.reps["rep@sinar.co.id"] = rep{id: b.repID, active: true}
	require.Empty(t, res.Resolve(&row))

	got := customer.NewRecord()
	require.NoError(t, row.Customer.Apply(&got, env))
	require.Equal(t, customer.RecordOf(c), got)
	require.Equal(t, map[string]*string{"segment": ptr("RETAIL"), "area": ptr("NORTH")}, row.Customer.Groups)

	for _, tc := range []struct {
		patch *location.Patch
		loc   dbsqlc.CustomerLocation
	}{{row.Billing, billing}, {row.Shipping, shipping}} {
		require.NotNil(t, tc.patch)
		var r location.Record
		require.NoError(t, tc.patch.Apply(&r))
		require.Equal(t, tc.loc.Line1, r.Line1)
		require.Equal(t, tc.loc.Line2, r.Line2)
		require.Equal(t, tc.loc.City, r.City)
		require.Equal(t, tc.loc.Region, r.Region)
		require.Equal(t, tc.loc.PostalCode, r.PostalCode)
		require.Equal(t, tc.loc.Country, r.Country)
	}
}

// TestColumnsImportValues: values as a cell reader hands them over.
func TestColumnsImportValues(t *testing.T) {
	t.Parallel()
	b := setup(t)
	col := func(h string) Column {
		for _, c := range b.cols {
			if c.Header == h {
				return c
			}
		}
		t.Fatalf("no column %s", h)
		return Column{}
	}
	env := b.tenant.Env
	apply := func(t *testing.T, row Row) (customer.Record, error) {
		t.Helper()
		r := customer.NewRecord()
		r.Name, r.Email = "x", ptr("x@example.com")
		row.Customer.Custom = map[string]json.RawMessage{"vip": json.RawMessage("false")}
		return r, row.Customer.Apply(&r, env)
	}

	t.Run("PercentFromCell", func(t *testing.T) {
		var row Row
		require.NoError(t, col("discount_rate").Import(&row, PercentFromCell(decimal.RequireFromString("0.125"))))
		r, err := apply(t, row)
		require.NoError(t, err)
		require.Equal(t, "12.5", r.DiscountRate.String())
	})
	t.Run("EnumIgnoresCase", func(t *testing.T) {
		var row Row
		require.NoError(t, col("customer_type").Import(&row, " Individual "))
		r, err := apply(t, row)
		require.NoError(t, err)
		require.Equal(t, "individual", r.Type)
	})
	t.Run("NumberInTextColumnKeepsItsText", func(t *testing.T) {
		var row Row
		require.NoError(t, col("code").Import(&row, "000123"))
		require.NoError(t, col("tax_number").Import(&row, decimal.RequireFromString("123456789")))
		r, err := apply(t, row)
		require.NoError(t, err)
		require.Equal(t, "000123", r.Code)
		require.Equal(t, "123456789", *r.TaxNumber)
	})
	t.Run("IntegerFromDecimal", func(t *testing.T) {
		var row Row
		require.NoError(t, col("credit_days").Import(&row, decimal.RequireFromString("30")))
		r, err := apply(t, row)
		require.NoError(t, err)
		require.Equal(t, int32(30), *r.CreditPeriodDays)
		require.Error(t, col("credit_days").Import(&row, decimal.RequireFromString("30.5")))
	})
	t.Run("DateAsText", func(t *testing.T) {
		var row Row
		require.NoError(t, col("basis_date").Import(&row, "2026-02-30"))
		_, err := apply(t, row)
		require.ErrorContains(t, err, "basis_date", "validation, not the column, refuses a bad date")
	})
	t.Run("EmptyClears", func(t *testing.T) {
		var row Row
		require.NoError(t, col("website").Import(&row, nil))
		require.NoError(t, col("discount_rate").Import(&row, ""))
		require.NoError(t, col("payment_terms").Import(&row, ""))
		require.True(t, row.Customer.Website.Set)
		require.Nil(t, row.Customer.Website.Value)
		require.True(t, row.Customer.DiscountRate.Set)
		require.Nil(t, row.Customer.DiscountRate.Value)
		require.True(t, row.Refs.PaymentTerms.Set)
		require.Nil(t, row.Refs.PaymentTerms.Value)
		require.NoError(t, col("billing_city").Import(&row, ""))
		require.Nil(t, row.Billing, "an empty required address part leaves the address alone")
		require.NoError(t, col("credit_policy").Import(&row, " "))
		require.True(t, row.Customer.CreditPolicy.Set)
		require.Nil(t, row.Customer.CreditPolicy.Value, "a blank enum clears it")
		require.NoError(t, col("code").Import(&row, ""))
		require.NoError(t, col("customer_type").Import(&row, nil))
		require.False(t, row.Customer.Code.Set, "a blank code is left to the create, which generates one")
		require.False(t, row.Customer.Type.Set)
		r, err := apply(t, row)
		require.NoError(t, err)
		require.Equal(t, "company", r.Type)
	})
	t.Run("WrongType", func(t *testing.T) {
		var row Row
		require.Error(t, col("basis_date").Import(&row, decimal.NewFromInt(3)))
		require.Error(t, col("discount_rate").Import(&row, "twelve"))
		require.Error(t, col("sales_rep_email").Import(&row, struct{}{}))
		require.Error(t, col("name").Import(&row, 1.5), "never through float")
	})
	t.Run("UnknownReferencesNameTheirColumn", func(t *testing.T) {
		var row Row
		require.NoError(t, col("payment_terms").Import(&row, "net 30")) // by name, ignoring case
		require.NoError(t, col("price_list").Import(&row, "NOPE"))
		require.NoError(t, col("group.area").Import(&row, "SOUTH"))
		require.NoError(t, col("sales_rep_email").Import(&row, "ghost@example.com"))
		errs := NewResolver(b.tenant).Resolve(&row)
		fields := []string{}
		for _, e := range errs {
			fields = append(fields, e.Field)
			require.Equal(t, "unknown_reference", e.Code)
		}
		require.Equal(t, []string{"sales_rep_email", "price_list", "group.area"}, fields)
		require.Equal(t, b.termsID, *row.Customer.PaymentTermsID.Value)
	})
}

// TestMatchHeaders: matching ignores case, spaces, punctuation and a
// byte order mark; knows the aliases; reports unknown headers; refuses a
// column filled twice and a mapping that names nothing.
func TestMatchHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		name    string
		headers []string
		mapping map[string]string
		want    []string // column header per file header ("" for none)
		unknown []string
		errs    []string // fields of the errors
	}{
		{name: "Canonical", headers: []string{"code", "name", "email"}, want: []string{"code", "name", "email"}},
		{name: "BOMCaseAndPunctuation", headers: []string{"\ufeffCODE", " Customer-Type ", "Billing Address Line 1", "credit_DAYS"},
			want: []string{"code", "customer_type", "billing_address_line1", "credit_days"}},
		{name: "Aliases", headers: []string{"Customer Name", "E-mail", "VAT number", "Zip", "Customer Code", "Telephone", "Phone Number"},
			errs: []string{"phone"}, want: []string{"name", "email", "tax_number", "postal_code", "code", "phone", ""}},
		{name: "MoreAliases", headers: []string{"Company", "Email Address", "Tax ID", "Postcode", "Account", "Shipping Zip", "Industry", "Segment"},
			want: []string{"name", "email", "tax_number", "postal_code", "code", "shipping_postal_code", "industry", "group_code"}},
		{name: "UnknownReportedNotFatal", headers: []string{"name", "Favourite colour", "", "  "},
			want: []string{"name", "", "", ""}, unknown: []string{"Favourite colour"}},
		{name: "DuplicateColumn", headers: []string{"email", "name", "E-Mail"},
			want: []string{"email", "name", ""}, errs: []string{"email"}},
		{name: "Mapping", headers: []string{"Nama Pelanggan", "Surel", "name"}, mapping: map[string]string{"Nama Pelanggan": "name", "Surel": "E-mail", "name": "contact_name"},
			want: []string{"name", "email", "contact_name"}},
		{name: "MappingUnknownField", headers: []string{"Nama"}, mapping: map[string]string{"Nama": "nickname"},
			want: []string{""}, unknown: []string{"Nama"}, errs: []string{"mapping.Nama"}},
		{name: "MappingUnknownHeader", headers: []string{"name"}, mapping: map[string]string{"Alamat": "billing_address_line1"},
			want: []string{"name"}, errs: []string{"mapping.Alamat"}},
		{name: "MappingMakesTwo", headers: []string{"name", "Nama"}, mapping: map[string]string{"Nama": "name"},
			want: []string{"name", ""}, errs: []string{"name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, errs := MatchHeaders(b.cols, tc.headers, tc.mapping)
			got := make([]string, len(m.Columns))
			for i, c := range m.Columns {
				if c != nil {
					got[i] = c.Header
				}
			}
			require.Equal(t, tc.want, got)
			if tc.unknown == nil {
				tc.unknown = []string{}
			}
			require.Equal(t, tc.unknown, m.Unknown)
			var fields []string
			for _, e := range errs {
				fields = append(fields, e.Field)
			}
			require.Equal(t, tc.errs, fields)
		})
	}

	t.Run("CanonicalHeaderBeatsAlias", func(t *testing.T) {
		tn := b.tenant
		tn.Categories = []dbsqlc.GroupCategory{{Key: "segment", Name: "Segment"}, {Key: "region_group", Name: "Region"}}
		cols := CustomerColumns(tn)
		m, errs := MatchHeaders(cols, []string{"region", "Region"}, nil)
		require.Equal(t, "region", m.Columns[0].Header, "the export's header is the address's region")
		require.Len(t, errs, 1, "the alias means the same column here, so the second is a duplicate")
	})
	t.Run("ExportHeadersReimport", func(t *testing.T) {
		m, errs := MatchHeaders(b.cols, headers(b.cols), nil)
		require.Empty(t, errs)
		require.Empty(t, m.Unknown)
		for i, c := range m.Columns {
			require.Equal(t, b.cols[i].Header, c.Header)
		}
	})
}

func TestNormalizeHeader(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"\ufeffCustomer Code": "customercode", "E-mail": "email", "zip_code": "zipcode", " Discount % ": "discount",
		"Nama Pelanggan": "namapelanggan", "전화 번호": "전화번호", "رقم الهاتف": "رقمالهاتف", "": "",
	} {
		require.Equal(t, want, NormalizeHeader(in), in)
	}
}
