package importer

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/customer/fieldspec"
	"github.com/customerhub/customerhub/internal/xlsx"
)

// Fuzz target of the import's header matching and row parsing: pure (the
// tenant's columns are built in memory by setup; the package's TestMain
// still makes a database, unused here). A plain go test runs the seeds;
// make fuzz runs it for FUZZTIME.

// fuzzMapping reads "header=column;header=column" as an import request's
// mapping.
func fuzzMapping(s string) map[string]string {
	m := map[string]string{}
	if s == "" {
		return m
	}
	for _, pair := range strings.Split(s, ";") {
		h, c, _ := strings.Cut(pair, "=")
		m[h] = c
	}
	return m
}

// fuzzCells reads "cell|cell|..." as a row: each cell's type is chosen by
// the byte of types at its index (a string when there is none), and
// falls back to a string when its text is not what the xlsx reader gives
// for that type.
func fuzzCells(row string, types []byte) []xlsx.Cell {
	var cells []xlsx.Cell
	for j, raw := range strings.Split(row, "|") {
		c := xlsx.Cell{Type: xlsx.CellString, Raw: raw}
		if j < len(types) {
			_, numErr := decimal.NewFromString(raw)
			switch types[j] % 6 {
			case 1:
				if numErr == nil {
					c.Type = xlsx.CellNumber
				}
			case 2:
				if numErr == nil {
					c.Type = xlsx.CellDate
				}
			case 3:
				if raw == "TRUE" || raw == "FALSE" || raw == "1" || raw == "0" {
					c.Type = xlsx.CellBool
				}
			case 4:
				if strings.HasPrefix(raw, "#") {
					c.Type = xlsx.CellError
				}
			case 5:
				c = xlsx.Cell{Type: xlsx.CellEmpty}
			}
		}
		cells = append(cells, c)
	}
	return cells
}

// rowFields lists the fields a parsed row gives a value to (set, or set
// to clear), named as Column.Field names them.
func rowFields(t *testing.T, r Row) map[string]bool {
	t.Helper()
	goNames := map[string]string{}
	for _, f := range fieldspec.Customer {
		goNames[f.GoName] = f.Name
	}
	out := map[string]bool{}
	set := func(v reflect.Value) bool {
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice:
			return !v.IsNil()
		case reflect.Struct: // patch.Field
			return v.FieldByName("Set").Bool()
		}
		t.Fatalf("unexpected patch member of kind %s", v.Kind())
		return false
	}
	pv := reflect.ValueOf(r.Customer)
	for i := range pv.NumField() {
		name, v := pv.Type().Field(i).Name, pv.Field(i)
		switch name {
		case "Groups", "Custom":
			prefix := map[string]string{"Groups": "groups.", "Custom": "custom."}[name]
			for _, k := range v.MapKeys() {
				out[prefix+k.String()] = true
			}
		default:
			field, ok := goNames[name]
			require.True(t, ok, "customer.Patch.%s is no field of the specification", name)
			if set(v) {
				out[field] = true
			}
		}
	}
	for k := range r.Refs.Groups {
		out["groups."+k] = true
	}
	if r.Refs.SalesRepEmail.Set {
		out["sales_rep_id"] = true
	}
	if r.Refs.PriceList.Set {
		out["price_list_id"] = true
	}
	if r.Refs.PaymentTerms.Set {
		out["payment_terms_id"] = true
	}
	locNames := map[string]string{"Line1": "line1", "Line2": "line2", "City": "city", "Region": "region", "PostalCode": "postal_code",
		"Country": "country", "Label": "label", "Phone": "phone", "Kinds": "kinds", "DefaultBilling": "default_billing",
		"DefaultShipping": "default_shipping", "SalesRepID": "sales_rep_id"}
	for which, p := range map[string]any{"billing.": r.Billing, "shipping.": r.Shipping} {
		lv := reflect.ValueOf(p)
		if lv.IsNil() {
			continue
		}
		lv = lv.Elem()
		for i := range lv.NumField() {
			name := lv.Type().Field(i).Name
			field, ok := locNames[name]
			require.True(t, ok, "location.Patch.%s is new: name it here", name)
			if set(lv.Field(i)) {
				out[which+field] = true
			}
		}
	}
	return out
}

func FuzzImportHeaderAndRow(f *testing.F) {
	for _, s := range []struct{ header, mapping, row string }{
		{"code|name|email|vip", "", "C-001|Toko Makmur|toko@example.com|yes"},
		{"Customer Code|Company Name|E-Mail|VIP|Founded on|employees", "", "00042|PT Maju|a@b.co|FALSE|15/03/2026|1.234,5"},
		{"code|name|group_code|group.area|sales_rep_email|payment_terms|price_list", "", "C-2|B|RETAIL|NORTH|rep@example.com|Net 30|WHOLESALE"},
		{"name|billing_address_line1|City|Country|postal_code|shipping_city", "", "Acme|Jl. Merdeka 5|Bandung|ID|40111|"},
		{"name|Zip|Address 2|region", "", "Acme|40111|Lt. 3|Jawa Barat"},
		{"Nama|Kode Pelanggan|Surel", "Nama=name;Kode Pelanggan=code;Surel=email", "Acme|C-9|x@example.com"},
		{"name|customer_type|status|discount_rate|credit_limit|credit_days|basis_date", "", "Acme|company|dormant|12.5%|1e3|30.0|2026-13-45"},
		{"name|tier|industry|founded", "", "Acme|gold|  |2026-02-30"},
		{"email|E-mail|EMAIL", "", "a@x.co|b@x.co|c@x.co"},
		{"name|Nama", "Nama=name", "Acme|Acme 2"},
		{"name|x", "x=nonexistent;y=name", "Acme|1"},
		{"|\ufeffname| |--|", "", "||Acme|||"},
		{"name|Region|Segment", "", "Acme|North|Retail"},
		{"name|phone|website|notes", "", "Acme|+62 22 1234567|acme.example|=1+1"},
		{"code|name|kind", "code=name", "C|N|vendor"},
	} {
		f.Add(s.header, s.mapping, s.row, []byte{0, 1, 2, 3, 4, 5})
	}
	b := setup(f)
	allNames := map[string]bool{}
	namesOf := func(c *Column) []string {
		var out []string
		for _, n := range append([]string{c.Header}, c.Aliases...) {
			out = append(out, NormalizeHeader(n))
		}
		return out
	}
	for i := range b.cols {
		for _, n := range namesOf(&b.cols[i]) {
			allNames[n] = true
		}
	}
	isColumn := func(header string) bool {
		return slices.ContainsFunc(b.cols, func(c Column) bool { return c.Header == header })
	}
	f.Fuzz(func(t *testing.T, headerLine, mappingLine, rowLine string, types []byte) {
		headers := strings.Split(headerLine, "|")
		mapping := fuzzMapping(mappingLine)
		m, errs := MatchHeaders(b.cols, headers, mapping)

		// Deterministic, whatever order the mapping's keys come in.
		again, errsAgain := MatchHeaders(b.cols, headers, mapping)
		require.Equal(t, errs, errsAgain)
		require.Equal(t, m.Unknown, again.Unknown)
		require.Equal(t, m.Columns, again.Columns)
		require.Len(t, m.Columns, len(headers))

		// No column is filled by two headers.
		taken := map[*Column]int{}
		for hi, c := range m.Columns {
			if c == nil {
				continue
			}
			prev, dup := taken[c]
			require.False(t, dup, "headers %d and %d both fill %s", prev, hi, c.Header)
			taken[c] = hi
		}
		// Every header is blank, matched (by a name of its column or the
		// mapping), reported as unknown, or refused as a column's second.
		mappedTo := func(n string) []string {
			var targets []string
			for h, target := range mapping {
				if NormalizeHeader(h) == n && allNames[NormalizeHeader(target)] {
					targets = append(targets, NormalizeHeader(target))
				}
			}
			return targets
		}
		var unknown []string
		seconds := 0
		for hi, h := range headers {
			n := NormalizeHeader(h)
			c := m.Columns[hi]
			switch {
			case n == "":
				require.Nil(t, c, "blank header %q filled a column", h)
			case c != nil:
				names := namesOf(c)
				ok := slices.Contains(names, n)
				for _, target := range mappedTo(n) {
					ok = ok || slices.Contains(names, target)
				}
				require.True(t, ok, "header %q filled %s, which it does not name", h, c.Header)
			case allNames[n] || len(mappedTo(n)) > 0:
				seconds++
			default:
				unknown = append(unknown, h)
			}
		}
		require.Equal(t, unknown, nilIfEmpty(m.Unknown), "unknown headers")
		duplicates := 0
		for _, e := range errs {
			switch {
			case e.Code == "duplicate_column":
				require.True(t, isColumn(e.Field), "%+v names no column", e)
				duplicates++
			case strings.HasPrefix(e.Field, "mapping."):
				_, ok := mapping[strings.TrimPrefix(e.Field, "mapping.")]
				require.True(t, ok, "%+v names no header of the mapping", e)
			default:
				t.Fatalf("%+v names neither a column nor the mapping", e)
			}
		}
		require.Equal(t, seconds, duplicates, "headers left out without an error")
		if len(errs) > 0 {
			return // the import refuses the file
		}

		// A row gives values to the fields of the matched columns only,
		// and to each of them whose cell has a value it can read.
		tb := &custTable{tenant: b.tenant, cols: b.cols, colOf: m.Columns, loc: localeOf(b.tenant.Env.Settings.DefaultCountry),
			params: Params{Mode: ModeUpsert, MatchOn: MatchEmail}, matchCol: "email"}
		cells := fuzzCells(rowLine, types)
		r := tb.parse(2, cells)
		again2 := tb.parse(2, cells)
		require.Equal(t, r, again2, "row parsing not deterministic")
		cr := r.val.(*custRow)
		got := rowFields(t, cr.row)
		mapped := map[string]bool{}
		headerOf := map[string]bool{}
		for _, c := range m.Columns {
			if c != nil {
				mapped[c.Field] = true
				headerOf[c.Header] = true
			}
		}
		for field := range got {
			require.True(t, mapped[field], "the row sets %s, which no header maps", field)
		}
		failed := map[string]bool{}
		for _, e := range r.errs {
			require.True(t, headerOf[e.Column], "row error %+v names no matched column", e)
			failed[e.Column] = true
		}
		for j, c := range m.Columns {
			if c == nil || j >= len(cells) || cells[j].IsEmpty() || failed[c.Header] {
				continue
			}
			require.True(t, got[c.Field], "cell %q of %s gave %s no value", cells[j].Raw, c.Header, c.Field)
		}
	})
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
