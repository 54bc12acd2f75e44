package xlsx

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// readAll reads every row of a fixture into a map by row number.
func readAll(t *testing.T, path string, opts Options) (map[int][]Cell, error) {
	t.Helper()
	f, err := DetectFile(path)
	if err != nil {
		return nil, err
	}
	r, err := Open(path, f, opts)
	if err != nil {
		return nil, err
	}
	defer func() { require.NoError(t, r.Close()) }()
	rows := map[int][]Cell{}
	last := 0
	for r.Next() {
		n, cells := r.Row()
		require.Greater(t, n, last, "row numbers ascend")
		last = n
		rows[n] = append([]Cell(nil), cells...)
	}
	return rows, r.Err()
}

func texts(cells []Cell) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = c.Text()
	}
	return out
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestReadLibreOfficeWorkbook(t *testing.T) {
	t.Parallel()
	rows, err := readAll(t, "testdata/lo-customers.xlsx", Options{})
	require.NoError(t, err)
	// Rows 5-7 hold only styled empty cells: dropped, as is the second sheet.
	require.Len(t, rows, 4)

	// Header: the merged "notes" cell (H1:I1) leaves I1 empty; the empty
	// trailing columns are dropped.
	require.Equal(t, []string{"Customer Name", "code", "E-mail", "discount_rate", "credit_limit",
		"basis_date", "Favourite colour", "notes", "", "phone"}, texts(rows[1]))

	r2 := rows[2]
	require.Equal(t, "PT Maju Jaya Sentosa", r2[0].Text())
	require.Equal(t, CellString, r2[1].Type)
	require.Equal(t, "00123", r2[1].Text(), "numbers-as-text keep leading zeros")
	require.True(t, r2[3].Percent)
	pct, err := r2[3].PercentPoints(false)
	require.NoError(t, err)
	require.True(t, dec("12.5").Equal(pct), "a percent cell 0.125 is 12.5 %%, got %s", pct)
	d, err := r2[4].Decimal(false)
	require.NoError(t, err)
	require.True(t, dec("1234567.89").Equal(d), "got %s", d)
	require.Equal(t, CellDate, r2[5].Type)
	date, err := r2[5].Date(true)
	require.NoError(t, err)
	require.Equal(t, day(2026, 3, 15), date)
	require.Equal(t, "02/01/2026", r2[7].Text(), "a date cell read as text is its displayed text, not the serial")

	r3 := rows[3]
	require.Equal(t, "주식회사 한빛", r3[0].Text())
	require.Equal(t, CellNumber, r3[1].Type)
	require.Equal(t, "000042", r3[1].Text(), "a zero-padding format keeps its displayed digits")
	require.True(t, r3[4].Formula)
	d, err = r3[4].Decimal(false)
	require.NoError(t, err)
	require.True(t, dec("2469135.78").Equal(d), "a formula imports its cached value, got %s", d)
	date, err = r3[5].Date(false)
	require.NoError(t, err)
	require.Equal(t, day(1999, 12, 31), date)
	require.Equal(t, "=SUM(1,2)", r3[7].Text(), "text that looks like a formula is text")
	require.Equal(t, "821234567", r3[9].Text())

	r4 := rows[4]
	require.Equal(t, "شركة الأمل للتجارة", r4[0].Text())
	require.Equal(t, "007", r4[1].Text())
	require.Equal(t, "amal@example.sa", r4[2].Text(), "a string formula imports its cached value")
	require.True(t, r4[2].Formula)
	d, err = r4[4].Decimal(true)
	require.NoError(t, err)
	require.True(t, dec("1234567.89").Equal(d), "text with thousands separators and a decimal comma, got %s", d)
	date, err = r4[5].Date(true)
	require.NoError(t, err)
	require.Equal(t, day(2026, 3, 15), date, "day-first text date")
	require.Equal(t, "line one\nline two", r4[7].Text())
	require.Len(t, r4, 8, "trailing empty cells dropped")
}

func TestReadSecondSheetByName(t *testing.T) {
	t.Parallel()
	rows, err := readAll(t, "testdata/lo-customers.xlsx", Options{Sheet: "second"})
	require.NoError(t, err)
	require.Equal(t, map[int][]string{1: {"second sheet: ignored"}}, map[int][]string{1: texts(rows[1])})

	_, err = readAll(t, "testdata/lo-customers.xlsx", Options{Sheet: "Nope"})
	require.ErrorIs(t, err, ErrSheetNotFound)
}

func TestReadDates1904(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"testdata/lo-dates1904.xlsx", "testdata/excelize-shared.xlsx"} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			rows, err := readAll(t, path, Options{})
			require.NoError(t, err)
			col := 1
			if path == "testdata/excelize-shared.xlsx" {
				col = 3
			}
			for row, want := range map[int]time.Time{2: day(2026, 3, 15), 3: day(1904, 1, 2)} {
				c := rows[row][col]
				require.Equal(t, CellDate, c.Type)
				require.True(t, c.Date1904)
				got, err := c.Date(true)
				require.NoError(t, err)
				require.Equal(t, want, got, "row %d", row)
			}
		})
	}
}

func TestReadExcelizeSharedStrings(t *testing.T) {
	t.Parallel()
	rows, err := readAll(t, "testdata/excelize-shared.xlsx", Options{})
	require.NoError(t, err)
	// The hidden first sheet "Old" and the second sheet "Notes" are skipped.
	require.Equal(t, []string{"code", "name", "discount_rate", "basis_date", "credit_limit", "phone"}, texts(rows[1]))
	require.Equal(t, "000123", rows[2][0].Text())
	require.Equal(t, "00077", rows[3][0].Text(), "custom zero-padding format 00000")
	require.Equal(t, "081234567890", rows[2][5].Text(), "text-formatted phone keeps its zero")
	require.Equal(t, "6281234567890", rows[3][5].Text())
	require.Equal(t, "15/03/2026", rows[2][3].Text())
	pct, err := rows[3][2].PercentPoints(false)
	require.NoError(t, err)
	require.True(t, dec("7.5").Equal(pct), "got %s", pct)
	d, err := rows[3][4].Decimal(false)
	require.NoError(t, err)
	require.Equal(t, "0.1", d.String())
}

func TestReadExcelizeStreamInlineStrings(t *testing.T) {
	t.Parallel()
	rows, err := readAll(t, "testdata/excelize-stream.xlsx", Options{})
	require.NoError(t, err)
	require.Len(t, rows, 4)
	require.Equal(t, "مؤسسة النور", rows[2][1].Text())
	d, err := rows[2][3].Decimal(false)
	require.NoError(t, err)
	require.True(t, dec("200").Equal(d))
	require.Equal(t, CellFormulaNoValue, rows[3][3].Type)
	_, err = rows[3][3].Decimal(false)
	require.ErrorIs(t, err, ErrFormulaNoValue)
	// A sparse row keeps its number; its empty trailing cells are dropped.
	require.Equal(t, []string{"0006", "after a gap"}, texts(rows[6]))
}

func TestReadCSVVariants(t *testing.T) {
	t.Parallel()
	loHeader := []string{"Customer Name", "code", "E-mail", "discount_rate", "credit_limit", "basis_date", "Favourite colour", "notes", "", "phone"}
	tests := []struct {
		name  string
		path  string
		check func(t *testing.T, rows map[int][]Cell)
	}{
		{"LibreOfficeComma", "testdata/lo-customers-comma.csv", func(t *testing.T, rows map[int][]Cell) {
			require.Equal(t, loHeader, texts(rows[1]))
			require.Equal(t, "00123", rows[2][1].Text())
			require.Equal(t, "=SUM(1,2)", rows[3][7].Text())
			require.Equal(t, "line one\nline two", rows[4][7].Text())
			pct, err := rows[2][3].PercentPoints(false)
			require.NoError(t, err)
			require.True(t, dec("12.5").Equal(pct))
			d, err := rows[2][4].Decimal(false)
			require.NoError(t, err)
			require.True(t, dec("1234567.89").Equal(d))
		}},
		{"LibreOfficeSemicolon", "testdata/lo-customers-semicolon.csv", func(t *testing.T, rows map[int][]Cell) {
			require.Equal(t, loHeader, texts(rows[1]))
			require.Equal(t, "주식회사 한빛", rows[3][0].Text())
		}},
		{"LibreOfficeUTF16Tab", "testdata/lo-customers-utf16-tab.csv", func(t *testing.T, rows map[int][]Cell) {
			require.Equal(t, loHeader, texts(rows[1]))
			require.Equal(t, "شركة الأمل للتجارة", rows[4][0].Text())
		}},
		{"BOMCRLFQuotedNewline", "testdata/bom-crlf.csv", func(t *testing.T, rows map[int][]Cell) {
			require.Equal(t, []string{"code", "name", "notes"}, texts(rows[1]))
			require.Equal(t, []string{"001", "Toko Sinar, Jaya", "first line\nsecond line"}, texts(rows[2]))
			require.Equal(t, []string{"002", "Kafe 서울", "plain"}, texts(rows[3]), "a record number, not a line number")
		}},
		{"Tab", "testdata/tab.csv", func(t *testing.T, rows map[int][]Cell) {
			require.Equal(t, []string{"0043", "Quoted\tTab", "Surabaya"}, texts(rows[3]))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rows, err := readAll(t, tt.path, Options{})
			require.NoError(t, err)
			tt.check(t, rows)
		})
	}
}

func TestReadCSVInvalidEncodingNamesRow(t *testing.T) {
	t.Parallel()
	rows, err := readAll(t, "testdata/latin1-row3.csv", Options{})
	var ee *EncodingError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 3, ee.Row)
	require.Contains(t, ee.Error(), "row 3")
	require.Len(t, rows, 2, "rows before the invalid one were read")
}

func TestReadNoRows(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.csv")
	require.NoError(t, os.WriteFile(empty, []byte("\n\n,,\n"), 0o600))
	r, err := Open(empty, FormatCSV, Options{})
	require.NoError(t, err)
	require.False(t, r.Next())
	require.ErrorIs(t, r.Err(), ErrNoRows)
	require.NoError(t, r.Close())

	// A workbook whose sheet XML is malformed into "no rows".
	p := writeZip(t, dir, "blank.xlsx", `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>`)
	_, err = readAll(t, p, Options{})
	require.ErrorIs(t, err, ErrNoRows)
}

func TestDecimalInterpretation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in           string
		decimalComma bool
		want         string // "" = error
	}{
		{"1234.5", false, "1234.5"},
		{"1,234.50", false, "1234.5"},
		{"1,234,567.891", false, "1234567.891"},
		{"1.234.567,89", true, "1234567.89"},
		{"1 234 567,89", true, "1234567.89"},
		{"1\u00a0234,5", true, "1234.5"},
		{"12,5", true, "12.5"},
		{"-0.75", false, "-0.75"},
		{"+3", false, "3"},
		{"12.5%", false, "0.125"},
		{"1.5E3", false, "1500"},
		{"0.1", false, "0.1"},
		{"12,5", false, ""},
		{"1,23,456", false, ""},
		{"1.2.3", false, ""},
		{"abc", false, ""},
		{"", false, ""},
		{"1,234.5", true, ""},
		{"$12", false, ""},
	}
	for _, tt := range tests {
		got, err := ParseDecimal(tt.in, tt.decimalComma)
		if tt.want == "" {
			require.ErrorIs(t, err, ErrNotNumber, "%q", tt.in)
			continue
		}
		require.NoError(t, err, "%q", tt.in)
		require.True(t, dec(tt.want).Equal(got), "%q: got %s", tt.in, got)
	}
	// A number cell's float noise is cut at Excel's 15 digits; exactness
	// otherwise.
	c := Cell{Type: CellNumber, Raw: "0.30000000000000004"}
	got, err := c.Decimal(false)
	require.NoError(t, err)
	require.Equal(t, "0.3", got.String())
	c = Cell{Type: CellNumber, Raw: "123456789012.34"}
	got, err = c.Decimal(false)
	require.NoError(t, err)
	require.Equal(t, "123456789012.34", got.String())
	c = Cell{Type: CellNumber, Raw: "1.2345E+20"}
	require.Equal(t, "123450000000000000000", c.Text())
	_, err = Cell{Type: CellBool, Raw: "TRUE"}.Decimal(false)
	require.ErrorIs(t, err, ErrNotNumber)
	_, err = Cell{Type: CellError, Raw: "#N/A"}.Decimal(false)
	require.ErrorIs(t, err, ErrCellError)
}

func TestDateInterpretation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		dayFirst bool
		want     time.Time // zero = error
	}{
		{"2026-03-15", false, day(2026, 3, 15)},
		{"2026-03-15T14:30:00", true, time.Date(2026, 3, 15, 14, 30, 0, 0, time.UTC)},
		{"2026-03-15 14:30", true, time.Date(2026, 3, 15, 14, 30, 0, 0, time.UTC)},
		{"15/03/2026", true, day(2026, 3, 15)},
		{"03/15/2026", false, day(2026, 3, 15)},
		{"15.03.2026", true, day(2026, 3, 15)},
		{"5-3-26", true, day(2026, 3, 5)},
		{"5-3-26", false, day(2026, 5, 3)},
		{"15/03/2026 09:05", true, time.Date(2026, 3, 15, 9, 5, 0, 0, time.UTC)},
		{"15/03/2026", false, time.Time{}},
		{"31/02/2026", true, time.Time{}},
		{"2026-13-01", true, time.Time{}},
		{"46096", true, time.Time{}},
		{"tomorrow", true, time.Time{}},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in, tt.dayFirst)
		if tt.want.IsZero() {
			require.ErrorIs(t, err, ErrNotDate, "%q", tt.in)
			continue
		}
		require.NoError(t, err, "%q", tt.in)
		require.Equal(t, tt.want, got, "%q", tt.in)
	}
	// Serials in both systems.
	got, err := Cell{Type: CellNumber, Raw: "46096.604166666664"}.Date(true)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 3, 15, 14, 30, 0, 0, time.UTC), got)
	got, err = Cell{Type: CellDate, Raw: "44634", Date1904: true}.Date(true)
	require.NoError(t, err)
	require.Equal(t, day(2026, 3, 15), got)
	_, err = Cell{Type: CellNumber, Raw: "-1"}.Date(true)
	require.ErrorIs(t, err, ErrNotDate)
	_, err = Cell{Type: CellFormulaNoValue}.Date(true)
	require.True(t, errors.Is(err, ErrFormulaNoValue))
}

func TestNumberFormatClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code string
		kind fmtKind
		pad  int
	}{
		{"General", fmtGeneral, 0},
		{"0.0%", fmtPercent, 0},
		{"#,##0.00", fmtGeneral, 0},
		{"000000", fmtZeroPad, 6},
		{"dd/mm/yyyy", fmtDate, 0},
		{"[$-409]mmmm d, yyyy;@", fmtDate, 0},
		{"h:mm AM/PM", fmtDate, 0},
		{"[h]:mm:ss", fmtDate, 0},
		{`"Total: "0`, fmtGeneral, 0},
		{`0.00E+00`, fmtGeneral, 0},
		{`[Red]#,##0;[Blue]-#,##0`, fmtGeneral, 0},
		{"@", fmtText, 0},
		{`"day"0`, fmtGeneral, 0},
	}
	for _, tt := range tests {
		got := classifyNumFmt(tt.code)
		require.Equal(t, tt.kind, got.kind, tt.code)
		require.Equal(t, tt.pad, got.pad, tt.code)
	}
	ts := time.Date(2026, 3, 5, 14, 7, 9, 0, time.UTC)
	require.Equal(t, "05/03/2026", formatDate(ts, "dd/mm/yyyy", 0))
	require.Equal(t, "March 5, 2026", formatDate(ts, "[$-409]mmmm d, yyyy", 0))
	require.Equal(t, "2:07 PM", formatDate(ts, "h:mm AM/PM", 0))
	require.Equal(t, "2026-03-05 14:07:09", formatDate(ts, "yyyy-mm-dd hh:mm:ss", 0))
	require.Equal(t, "5-Mar-26", formatDate(ts, "d-mmm-yy", 0))
}

func TestReadCSVSepLine(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "sep.csv")
	require.NoError(t, os.WriteFile(p, []byte("sep=;\r\ncode;name\r\n001;A, B\r\n"), 0o600))
	rows, err := readAll(t, p, Options{})
	require.NoError(t, err)
	require.Equal(t, []string{"code", "name"}, texts(rows[1]))
	require.Equal(t, []string{"001", "A, B"}, texts(rows[2]))
}
