package xlsx

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets; their seed corpora are in testdata/fuzz. A plain go test
// runs the seeds only.

// fuzzLimits keep a fuzzed file cheap.
var fuzzLimits = Limits{MaxUnzippedBytes: 8 << 20, MaxXMLBytes: 4 << 20, MaxSharedStringsBytes: 1 << 20, MaxRows: 10_000, MaxColumns: 50, MaxCellBytes: 1 << 10}

func fuzzRead(t *testing.T, path string, f Format) {
	r, err := Open(path, f, Options{Limits: fuzzLimits})
	if err != nil {
		return
	}
	defer r.Close()
	last := 0
	for r.Next() {
		n, cells := r.Row()
		if n <= last {
			t.Fatalf("row %d after row %d", n, last)
		}
		last = n
		if len(cells) == 0 || cells[len(cells)-1].Type == CellEmpty {
			t.Fatalf("row %d: empty or untrimmed row %v", n, cells)
		}
		for _, c := range cells {
			_ = c.Text()
			_, _ = c.Decimal(false)
			_, _ = c.Date(true)
			if f == FormatCSV && !utf8.ValidString(c.Raw) {
				t.Fatalf("row %d: invalid UTF-8 passed: %q", n, c.Raw)
			}
		}
	}
	if last == 0 && r.Err() == nil {
		t.Fatal("no rows and no error")
	}
}

// fuzzFile writes data to a temporary file removed after the test (cheaper
// than t.TempDir per input).
func fuzzFile(t *testing.T, data []byte) string {
	fh, err := os.CreateTemp("", "xlsx-fuzz-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(fh.Name()) })
	if _, err := fh.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	return fh.Name()
}

func FuzzCSV(f *testing.F) {
	for _, p := range []string{"testdata/bom-crlf.csv", "testdata/tab.csv", "testdata/lo-customers-semicolon.csv", "testdata/lo-customers-utf16-tab.csv"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := fuzzFile(t, data)
		format, err := Detect(data)
		if err != nil || format != FormatCSV {
			return
		}
		fuzzRead(t, p, FormatCSV)
	})
}

func FuzzXLSX(f *testing.F) {
	for _, p := range []string{"testdata/excelize-stream.xlsx", "testdata/lo-dates1904.xlsx"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := fuzzFile(t, data)
		format, err := DetectFile(p)
		if err != nil || format != FormatXLSX {
			return
		}
		fuzzRead(t, p, FormatXLSX)
	})
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"1,234.56", "1.234,56", "-0.5", "12.5%", "1E3", "1 234", "", "+", "1,2"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, comma bool) {
		d, err := ParseDecimal(s, comma)
		if err != nil {
			return
		}
		again, err := ParseDecimal(d.String(), false)
		if err != nil || !again.Equal(d) {
			t.Fatalf("%q parsed to %s, which reads back as %s (%v)", s, d, again, err)
		}
		if !strings.ContainsAny(s, "0123456789") {
			t.Fatalf("%q has no digit but parsed to %s", s, d)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-03-15", "15/03/2026", "3/15/26", "2026-03-15T10:00:00Z", "15.03.2026 10:30", "31/02/2026"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, dayFirst bool) {
		d, err := ParseDate(s, dayFirst)
		if err != nil {
			return
		}
		if d.Location().String() != "UTC" || d.Year() < 1 || d.Year() > 9999 {
			t.Fatalf("%q parsed to %v", s, d)
		}
	})
}

func FuzzEscapeRoundTrip(f *testing.F) {
	for _, s := range []string{"=1+1", "'=x", "''", "'", "-5", "plain", "\t", "@a", "'a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := EscapeFormula(s)
		if UnescapeFormula(e) != s {
			t.Fatalf("%q escaped to %q unescapes to %q", s, e, UnescapeFormula(e))
		}
		if e != "" && isFormulaTrigger(e[0]) {
			t.Fatalf("%q escaped to %q, which a spreadsheet evaluates", s, e)
		}
		if !isEscaped(s) && (s == "" || !isFormulaTrigger(s[0])) && e != s {
			t.Fatalf("%q needed no escape but became %q", s, e)
		}
	})
}
