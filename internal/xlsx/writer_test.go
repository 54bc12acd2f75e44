package xlsx

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

func TestEscapeFormula(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, out string }{
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+62 812", "'+62 812"},
		{"-5", "'-5"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tcmd", "'\tcmd"},
		{"\rcmd", "'\rcmd"},
		{"'=already", "''=already"},
		{"''", "'''"},
		{"'plain", "'plain"},
		{"plain", "plain"},
		{"", ""},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.out, EscapeFormula(tt.in), "%q", tt.in)
		require.Equal(t, tt.in, UnescapeFormula(EscapeFormula(tt.in)), "%q", tt.in)
	}
}

// TestWriterRoundTrip exports rows in both formats and reads them back: the
// values come back as written, formula-looking text included.
func TestWriterRoundTrip(t *testing.T) {
	t.Parallel()
	cols := []Column{
		{Header: "code", Required: true},
		{Header: "name", Required: true},
		{Header: "customer_type", List: []string{"company", "person"}},
		{Header: "credit_limit"},
		{Header: "basis_date"},
		{Header: "notes"},
		{Header: "active"},
		{Header: "count"},
		{Header: "group_code", List: longList(60)},
	}
	rows := [][]any{
		{"00123", "PT Maju", "company", decimal.RequireFromString("1234567.89"), day(2026, 3, 15), "=cmd|' /C calc'!A0", true, 7, "G-0001"},
		{"0042", "주식회사 한빛", "person", decimal.RequireFromString("-0.5"), time.Date(2026, 3, 15, 14, 30, 0, 0, time.UTC), "'=kept", false, int64(-3), nil},
		{"@home", "+62 812", nil, decimal.RequireFromString("12345678901234567.25"), nil, "-minus", nil, nil, "G-0059"},
	}
	for _, format := range []Format{FormatXLSX, FormatCSV} {
		t.Run(format.String(), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			w, err := NewWriter(&buf, format, WriterOptions{Sheet: "Customers", Columns: cols})
			require.NoError(t, err)
			for _, r := range rows {
				require.NoError(t, w.WriteRow(r))
			}
			require.NoError(t, w.Close())
			p := filepath.Join(t.TempDir(), "export."+format.String())
			require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o600))

			got, err := readAll(t, p, Options{})
			require.NoError(t, err)
			require.Equal(t, []string{"code *", "name *", "customer_type", "credit_limit", "basis_date", "notes", "active", "count", "group_code"}, texts(got[1]))
			for i, want := range rows {
				cells := got[i+2]
				for j, v := range want {
					var c Cell
					if j < len(cells) {
						c = cells[j]
					}
					switch v := v.(type) {
					case nil:
						require.True(t, c.IsEmpty(), "row %d col %d", i+2, j+1)
					case string:
						require.Equal(t, v, c.Text(), "row %d col %d", i+2, j+1)
					case decimal.Decimal:
						d, err := c.Decimal(false)
						require.NoError(t, err)
						require.True(t, v.Equal(d), "row %d col %d: %s != %s", i+2, j+1, d, v)
					case time.Time:
						d, err := c.Date(true)
						require.NoError(t, err)
						require.Equal(t, v, d)
					case bool:
						want := "FALSE"
						if v {
							want = "TRUE"
						}
						require.Equal(t, want, c.Text())
					case int, int64:
						d, err := c.Decimal(false)
						require.NoError(t, err)
						require.Equal(t, decimal.NewFromInt(toInt64(v)).String(), d.String())
					}
				}
			}
			if format == FormatCSV {
				require.True(t, bytes.HasPrefix(buf.Bytes(), bomUTF8), "CSV starts with a UTF-8 BOM")
				require.Contains(t, buf.String(), "'=cmd|")
				require.Contains(t, buf.String(), "\r\n")
				return
			}
			// In the xlsx: text stays text (a string cell, the leading
			// zero kept), the escape is in the cell, and the
			// drop-down lists are there.
			f, err := excelize.OpenFile(p)
			require.NoError(t, err)
			defer f.Close()
			typ, err := f.GetCellType("Customers", "A2")
			require.NoError(t, err)
			require.NotEqual(t, excelize.CellTypeNumber, typ)
			v, err := f.GetCellValue("Customers", "F2")
			require.NoError(t, err)
			require.Equal(t, "'=cmd|' /C calc'!A0", v)
			formula, err := f.GetCellFormula("Customers", "F2")
			require.NoError(t, err)
			require.Empty(t, formula)
			dvs, err := f.GetDataValidations("Customers")
			require.NoError(t, err)
			require.Len(t, dvs, 2)
			visible, err := f.GetSheetVisible(listSheet)
			require.NoError(t, err)
			require.False(t, visible, "long lists live on a hidden sheet")
		})
	}
}

func toInt64(v any) int64 {
	switch v := v.(type) {
	case int:
		return int64(v)
	case int64:
		return v
	}
	panic("not an int")
}

func longList(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "G-" + pad4(i)
	}
	return out
}

func pad4(i int) string {
	s := "000" + string(rune('0'+i/10)) + string(rune('0'+i%10))
	return s[len(s)-4:]
}

func TestWriterRefusesUnknownTypes(t *testing.T) {
	t.Parallel()
	for _, format := range []Format{FormatXLSX, FormatCSV} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, format, WriterOptions{Columns: []Column{{Header: "a"}}})
		require.NoError(t, err)
		require.Error(t, w.WriteRow([]any{struct{}{}}))
		require.NoError(t, w.Close())
	}
	_, err := NewWriter(&bytes.Buffer{}, FormatUnknown, WriterOptions{})
	require.Error(t, err)
}

// TestRowsWrittenBackAsUploaded reads a LibreOffice workbook, writes its rows
// back through Cell.Value (as an errors file does) and reads them again: the
// same values, leading zeros, padding digits, dates and percentages.
func TestRowsWrittenBackAsUploaded(t *testing.T) {
	t.Parallel()
	rows, err := readAll(t, "testdata/lo-customers.xlsx", Options{})
	require.NoError(t, err)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, FormatXLSX, WriterOptions{})
	require.NoError(t, err)
	for n := 1; n <= 4; n++ {
		vals := make([]any, len(rows[n]))
		for i, c := range rows[n] {
			vals[i] = c.Value()
		}
		require.NoError(t, w.WriteRow(vals))
	}
	require.NoError(t, w.Close())
	p := filepath.Join(t.TempDir(), "errors.xlsx")
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o600))
	again, err := readAll(t, p, Options{})
	require.NoError(t, err)
	for n := 1; n <= 4; n++ {
		for i, c := range rows[n] {
			got := again[n][i]
			switch c.Type {
			case CellDate:
				want, err := c.Date(true)
				require.NoError(t, err)
				d, err := got.Date(true)
				require.NoError(t, err)
				require.Equal(t, want, d)
			case CellNumber:
				if c.Percent {
					want, err := c.PercentPoints(false)
					require.NoError(t, err)
					d, err := got.PercentPoints(false)
					require.NoError(t, err)
					require.True(t, want.Equal(d), "row %d col %d: %s != %s", n, i+1, d, want)
					continue
				}
				want, err := c.Decimal(false)
				require.NoError(t, err)
				if c.Text() == "000042" {
					require.Equal(t, "000042", got.Text(), "padding digits kept as text")
					continue
				}
				d, err := got.Decimal(false)
				require.NoError(t, err)
				require.True(t, want.Equal(d), "row %d col %d", n, i+1)
			default:
				require.Equal(t, c.Text(), got.Text(), "row %d col %d", n, i+1)
			}
		}
	}
}

// TestWriterCSVKeepsLineBreaksInFields: a carriage return or line feed
// inside a value comes back as it was (encoding/csv's CRLF mode would drop
// the one and rewrite the other); records still end in CRLF.
func TestWriterCSVKeepsLineBreaksInFields(t *testing.T) {
	t.Parallel()
	values := []string{"a\rb", "c\nd", "\re", "f\r\ng", "plain"}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, FormatCSV, WriterOptions{Columns: []Column{{Header: "v"}}})
	require.NoError(t, err)
	for _, v := range values {
		require.NoError(t, w.WriteRow([]any{v}))
	}
	require.NoError(t, w.Close())
	out := buf.String()
	require.Contains(t, out, "\"a\rb\"\r\n")
	require.Contains(t, out, "\"c\nd\"\r\n")
	require.Contains(t, out, "\"'\re\"\r\n")
	require.True(t, bytes.HasSuffix(buf.Bytes(), []byte("plain\r\n")))
}

// TestWriterXLSXWritesStraightToItsOutput: with excelize's zip writer
// replaced (the package goes to the output as it is zipped, not through a
// buffer of the whole file), the file is whole. The memory this saves is
// measured by BenchmarkExport (internal/importer).
func TestWriterXLSXWritesStraightToItsOutput(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, FormatXLSX, WriterOptions{Columns: []Column{{Header: "code"}, {Header: "n"}}})
	require.NoError(t, err)
	for i := range 5000 {
		require.NoError(t, w.WriteRow([]any{"C" + time.Duration(i).String(), i}))
	}
	require.NoError(t, w.Close())
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	defer f.Close()
	rows, err := f.GetRows("Sheet1")
	require.NoError(t, err)
	require.Len(t, rows, 5001)
	require.Equal(t, []string{"C4.999µs", "4999"}, rows[5000])
}

// TestWriterXLSXText: text the XML would otherwise change comes back as it
// was written: leading and trailing spaces, carriage returns, markup
// characters, unicode; characters XML cannot hold become U+FFFD (as
// excelize wrote them); excelize reads the same values.
func TestWriterXLSXText(t *testing.T) {
	t.Parallel()
	values := []string{"  two leading", "trailing ", "a\rb", "line\nbreak", "<b>&amp;\"q\"</b>", "주식회사 한빛 — شركة", "nul\x00bell\x07", "tab\tinside"}
	want := []string{"  two leading", "trailing ", "a\rb", "line\nbreak", "<b>&amp;\"q\"</b>", "주식회사 한빛 — شركة", "nul\uFFFDbell\uFFFD", "tab\tinside"}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, FormatXLSX, WriterOptions{Columns: []Column{{Header: "v"}}})
	require.NoError(t, err)
	for _, v := range values {
		require.NoError(t, w.WriteRow([]any{v}))
	}
	require.NoError(t, w.Close())
	p := filepath.Join(t.TempDir(), "text.xlsx")
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o600))
	got, err := readAll(t, p, Options{})
	require.NoError(t, err)
	f, err := excelize.OpenFile(p)
	require.NoError(t, err)
	defer f.Close()
	for i, v := range want {
		require.Equal(t, v, got[i+2][0].Text(), "row %d", i+2)
		ev, err := f.GetCellValue("Sheet1", "A"+strconv.Itoa(i+2))
		require.NoError(t, err)
		require.Equal(t, v, ev, "excelize, row %d", i+2)
	}
}

// TestWriterXLSXDates: dates and times become serial numbers with a date
// format, Excel's 1900 leap-year bug accounted for on both sides of 1
// March 1900; a date before 1900, which has no serial, is written as ISO
// text.
func TestWriterXLSXDates(t *testing.T) {
	t.Parallel()
	dates := []time.Time{day(1900, 1, 1), day(1900, 2, 28), day(1900, 3, 1), day(2026, 12, 7),
		time.Date(2026, 12, 7, 23, 59, 59, 0, time.UTC), time.Date(2026, 12, 7, 9, 30, 0, 0, time.FixedZone("WIB", 7*3600))}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, FormatXLSX, WriterOptions{Columns: []Column{{Header: "d"}}})
	require.NoError(t, err)
	for _, d := range dates {
		require.NoError(t, w.WriteRow([]any{d}))
	}
	require.NoError(t, w.WriteRow([]any{day(1899, 12, 31)}))
	require.NoError(t, w.Close())
	p := filepath.Join(t.TempDir(), "dates.xlsx")
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o600))
	got, err := readAll(t, p, Options{})
	require.NoError(t, err)
	for i, d := range dates {
		c := got[i+2][0]
		require.Equal(t, CellDate, c.Type, "row %d", i+2)
		v, err := c.Date(true)
		require.NoError(t, err)
		require.True(t, d.Equal(v), "row %d: %s != %s", i+2, v, d)
	}
	require.Equal(t, "1899-12-31", got[len(dates)+2][0].Text())
	serial, ok := excelSerial(day(1900, 3, 1))
	require.True(t, ok)
	require.Equal(t, 61.0, serial, "Excel counts 29 February 1900")
	serial, _ = excelSerial(day(1900, 1, 1))
	require.Equal(t, 1.0, serial)
}

// TestWriterXLSXLimits: a sheet name Excel would refuse is an error at
// once, and a row past the sheet's last is a LimitError, not a file Excel
// cannot open.
func TestWriterXLSXLimits(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"a/b", "what?", "[x]", "this name is far longer than thirty-one", "'quoted'"} {
		_, err := NewWriter(&bytes.Buffer{}, FormatXLSX, WriterOptions{Sheet: name})
		require.Error(t, err, name)
	}
	w, err := NewWriter(io.Discard, FormatXLSX, WriterOptions{})
	require.NoError(t, err)
	w.row = MaxRows - 1
	require.NoError(t, w.WriteRow([]any{"last"}))
	var le *LimitError
	require.ErrorAs(t, w.WriteRow([]any{"one too many"}), &le)
	require.Equal(t, LimitRows, le.Limit)
	require.Equal(t, int64(MaxRows), le.Max)
}
