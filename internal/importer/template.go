package importer

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/xlsx"
)

// The import template (GET /v1/imports/template.xlsx and .csv): the
// tenant's columns (CustomerColumns: custom fields and group categories
// included) in template order, required ones marked (xlsx.RequiredMark,
// which header matching ignores), one example row, and in xlsx a
// drop-down list on every coded column: enums, group codes, payment terms,
// price lists, select custom fields.

// TemplateName is the file name the template is offered under.
func TemplateName(f xlsx.Format) string { return "customers-import-template." + f.String() }

// WriteTemplate writes the tenant's import template to w.
func WriteTemplate(w io.Writer, f xlsx.Format, t Tenant) error {
	cols := CustomerColumns(t)
	xc := make([]xlsx.Column, len(cols))
	example := make([]any, len(cols))
	for i, c := range cols {
		xc[i] = xlsx.Column{Header: c.Header, Required: c.Required, List: c.Values}
		example[i] = exampleValue(c, t)
	}
	wr, err := xlsx.NewWriter(w, f, xlsx.WriterOptions{Sheet: "Customers", Columns: xc})
	if err != nil {
		return fmt.Errorf("start template: %w", err)
	}
	if err := wr.WriteRow(example); err != nil {
		_ = wr.Close()
		return fmt.Errorf("write template example: %w", err)
	}
	return wr.Close()
}

// exampleValue is a column's value in the template's example row: one
// that the import accepts, in the form its cells are read (a coded column
// shows the first of its allowed values; a reference the tenant has none
// of, and a sales rep, stay empty).
func exampleValue(c Column, t Tenant) any {
	part := c.Field
	if i := strings.IndexByte(part, '.'); i >= 0 && (strings.HasPrefix(part, "billing.") || strings.HasPrefix(part, "shipping.")) {
		part = "address." + part[i+1:]
	}
	switch part {
	case "code":
		return "C-0001"
	case "name":
		return "Example Trading Ltd"
	case "contact_name":
		return "Jane Doe"
	case "website":
		return "https://example.com"
	case "tax_number":
		return "12-3456789"
	case "currency":
		return t.Env.Settings.DefaultCurrency
	case "notes":
		return "An example row: replace it with your customers"
	case "address.line1":
		return "1 Example Street"
	case "address.city":
		return "Springfield"
	case "address.postal_code":
		return "12345"
	case "address.country":
		return t.Env.Settings.DefaultCountry
	case "address.line2", "address.region", "tax_scheme":
		return nil
	}
	switch c.Kind {
	case KindEnum, KindGroup, KindPaymentTerms, KindPriceList:
		if len(c.Values) > 0 {
			return c.Values[0]
		}
	case KindEmail:
		return "accounts@example.com"
	case KindPhone:
		return "+1 202 555 0143"
	case KindDecimal:
		return decimal.NewFromInt(5000)
	case KindPercent:
		return decimal.RequireFromString("2.5")
	case KindInteger:
		return 30
	case KindDate:
		return time.Date(2026, time.January, 31, 0, 0, 0, 0, time.UTC)
	case KindBool:
		return false
	}
	return nil
}
