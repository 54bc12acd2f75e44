package xlsx

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"
)

// CellType is what a cell holds.
type CellType uint8

// The cell types. A formula cell has the type of its cached value; a formula
// without one is CellFormulaNoValue.
const (
	CellEmpty CellType = iota
	CellString
	CellNumber
	CellDate
	CellBool
	CellError
	CellFormulaNoValue
)

// String names the type.
func (t CellType) String() string {
	switch t {
	case CellString:
		return "string"
	case CellNumber:
		return "number"
	case CellDate:
		return "date"
	case CellBool:
		return "bool"
	case CellError:
		return "error"
	case CellFormulaNoValue:
		return "formula without value"
	default:
		return "empty"
	}
}

// Cell is one cell as read. Its fields are what the file says; the methods
// interpret them.
type Cell struct {
	// Type is what the cell holds.
	Type CellType
	// Raw is the stored value: the text of a string (formula escape
	// removed), the exact decimal text of a number or date serial as
	// written in the file, "TRUE"/"FALSE", or an error code ("#N/A").
	Raw string
	// Percent is set on a number cell formatted as a percentage: Raw 0.125
	// shows as 12.5%.
	Percent bool
	// Formula is set when the value is a formula's cached result.
	Formula bool
	// Date1904 is set when a date serial counts from 1904.
	Date1904 bool

	format *numFormat
}

// Value errors returned by Cell's interpretation methods; the errors wrap
// them with the cell's text.
var (
	ErrNotNumber      = errors.New("not a number")
	ErrNotDate        = errors.New("not a date")
	ErrFormulaNoValue = errors.New("formula without a calculated value")
	ErrCellError      = errors.New("the cell holds an error value")
)

// IsEmpty reports whether the cell holds nothing (no value, or blank text).
func (c Cell) IsEmpty() bool {
	return c.Type == CellEmpty || (c.Type == CellString && strings.TrimSpace(c.Raw) == "")
}

// Text returns the cell as the spreadsheet displays it: a string as is
// (leading zeros kept), a number in plain decimal notation (or with its
// zero-padding format's digits, "00123"), a date formatted by its number
// format (an ISO date for the locale-dependent short date), never the
// serial; TRUE/FALSE; an error code. A formula without value is "".
func (c Cell) Text() string {
	switch c.Type {
	case CellNumber:
		if c.Percent {
			d, err := decimal.NewFromString(c.Raw)
			if err != nil {
				return c.Raw
			}
			return excelPrecision(d).Shift(2).String() + "%"
		}
		if c.format != nil && c.format.kind == fmtZeroPad {
			if d, err := decimal.NewFromString(c.Raw); err == nil && d.IsInteger() && !d.IsNegative() {
				s := d.String()
				if len(s) < c.format.pad {
					s = strings.Repeat("0", c.format.pad-len(s)) + s
				}
				return s
			}
		}
		return plainNumber(c.Raw)
	case CellDate:
		t, err := c.serialTime()
		if err != nil {
			return c.Raw
		}
		code := "yyyy-mm-dd"
		if c.format != nil && c.format.code != "" {
			code = c.format.code
		}
		serial, _ := strconv.ParseFloat(c.Raw, 64)
		return formatDate(t, code, serial)
	case CellFormulaNoValue:
		return ""
	default:
		return c.Raw
	}
}

// Value returns the cell as a value Writer.WriteRow writes back the same
// way (an error file of rows "exactly as uploaded"): a string, an exact
// decimal.Decimal, a time.Time for a date, a bool, nil when empty. A number
// whose format matters is its displayed text ("12.5%", "000042"), which
// reads back as the same value; an error code is its text.
func (c Cell) Value() any {
	switch c.Type {
	case CellEmpty, CellFormulaNoValue:
		return nil
	case CellNumber:
		if d, err := decimal.NewFromString(c.Raw); err == nil && !c.Percent && (c.format == nil || c.format.kind != fmtZeroPad) {
			return excelPrecision(d)
		}
		return c.Text()
	case CellDate:
		if t, err := c.Date(true); err == nil {
			return t
		}
		return c.Text()
	case CellBool:
		return c.Raw == "TRUE"
	default:
		return c.Raw
	}
}

// plainNumber writes a number's stored text without an exponent.
func plainNumber(raw string) string {
	if strings.ContainsAny(raw, "eE") {
		if d, err := decimal.NewFromString(raw); err == nil {
			return excelPrecision(d).String()
		}
	}
	return raw
}

// excelPrecision rounds to the 15 significant digits a spreadsheet keeps:
// the stored text of a typed 0.3 may read 0.30000000000000004.
func excelPrecision(d decimal.Decimal) decimal.Decimal {
	if d.IsZero() {
		return d
	}
	digits := len(d.Coefficient().String())
	if d.Coefficient().Sign() < 0 {
		digits--
	}
	if digits <= 15 {
		return d
	}
	// Position of the most significant digit relative to the point.
	msd := digits + int(d.Exponent())
	return d.Round(int32(15 - msd))
}

// Decimal returns the cell's value as an exact decimal (never through
// float64). A number cell gives its stored value to 15 significant digits (a
// percent cell its fraction: 12.5% is 0.125). Text is parsed: spaces and
// thousands separators are dropped, decimalComma says whether ',' (rather
// than '.') is the decimal separator, a leading '+' or '-', an exponent and a
// trailing '%' (dividing by 100) are accepted. Anything else wraps
// ErrNotNumber.
func (c Cell) Decimal(decimalComma bool) (decimal.Decimal, error) {
	switch c.Type {
	case CellNumber:
		d, err := decimal.NewFromString(c.Raw)
		if err != nil {
			return decimal.Decimal{}, fmt.Errorf("%w: %q", ErrNotNumber, c.Raw)
		}
		return excelPrecision(d), nil
	case CellString:
		return ParseDecimal(c.Raw, decimalComma)
	case CellFormulaNoValue:
		return decimal.Decimal{}, ErrFormulaNoValue
	case CellError:
		return decimal.Decimal{}, fmt.Errorf("%w: %s", ErrCellError, c.Raw)
	case CellEmpty:
		return decimal.Decimal{}, fmt.Errorf("%w: empty", ErrNotNumber)
	default:
		return decimal.Decimal{}, fmt.Errorf("%w: %q", ErrNotNumber, c.Text())
	}
}

// PercentPoints returns the cell as percentage points: a percent-formatted 0.125
// is 12.5, text "12.5%" or "12,5 %" is 12.5, and a plain 12.5 is 12.5.
func (c Cell) PercentPoints(decimalComma bool) (decimal.Decimal, error) {
	if c.Type == CellNumber && c.Percent {
		d, err := c.Decimal(decimalComma)
		return d.Shift(2), err
	}
	if c.Type == CellString {
		s := strings.TrimSpace(c.Raw)
		if t, ok := strings.CutSuffix(s, "%"); ok {
			return ParseDecimal(t, decimalComma)
		}
	}
	return c.Decimal(decimalComma)
}

// ParseDecimal parses a number written as text, exactly (see Cell.Decimal).
func ParseDecimal(s string, decimalComma bool) (decimal.Decimal, error) {
	orig := s
	bad := func() (decimal.Decimal, error) {
		return decimal.Decimal{}, fmt.Errorf("%w: %q", ErrNotNumber, orig)
	}
	s = strings.TrimSpace(s)
	percent := false
	if t, ok := strings.CutSuffix(s, "%"); ok {
		s, percent = strings.TrimSpace(t), true
	}
	if s == "" || len(s) > 100 {
		return bad()
	}
	decSep, groupSep := byte('.'), byte(',')
	if decimalComma {
		decSep, groupSep = ',', '.'
	}
	var b strings.Builder
	b.Grow(len(s))
	i := 0
	if s[0] == '+' || s[0] == '-' {
		if s[0] == '-' {
			b.WriteByte('-')
		}
		i = 1
	}
	intDigits, groupLen, groups := 0, 0, 0
	seenPoint, seenDigit := false, false
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r >= '0' && r <= '9':
			b.WriteByte(byte(r))
			seenDigit = true
			if !seenPoint {
				intDigits++
				groupLen++
			}
		case r == rune(groupSep) || r == ' ' || r == '\u00a0' || r == '\u202f' || r == '\u2009' || (decimalComma && r == '\''):
			// A thousands separator: only between digit groups of 3.
			if seenPoint || !seenDigit || (groups > 0 && groupLen != 3) || (groups == 0 && groupLen > 3) {
				return bad()
			}
			groups++
			groupLen = 0
		case r == rune(decSep):
			if seenPoint || (groups > 0 && groupLen != 3) {
				return bad()
			}
			seenPoint = true
			b.WriteByte('.')
		case (r == 'e' || r == 'E') && seenDigit && groups == 0:
			exp := s[i+1:]
			if _, err := strconv.Atoi(exp); err != nil || len(exp) > 4 {
				return bad()
			}
			b.WriteByte('e')
			b.WriteString(exp)
			i = len(s)
			continue
		default:
			return bad()
		}
		i += size
	}
	if !seenDigit || (groups > 0 && !seenPoint && groupLen != 3) {
		return bad()
	}
	d, err := decimal.NewFromString(b.String())
	if err != nil {
		return bad()
	}
	if percent {
		d = d.Shift(-2)
	}
	return d, nil
}

func (c Cell) serialTime() (time.Time, error) {
	serial, err := strconv.ParseFloat(c.Raw, 64)
	if err != nil || math.IsNaN(serial) || serial < 0 || serial > 2958465.99999 {
		return time.Time{}, fmt.Errorf("%w: %q", ErrNotDate, c.Raw)
	}
	t, err := excelize.ExcelDateToTime(serial, c.Date1904)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q", ErrNotDate, c.Raw)
	}
	return t.Round(time.Second).UTC(), nil
}

// Date returns the cell as a date (and time, UTC): a date or number cell is
// a serial number in the workbook's date system (1900 or 1904); text may be
// ISO 8601 (2026-03-15, with an optional time) or day/month/year, with '/',
// '.' or '-' between them, in the order dayFirst gives (the tenant locale),
// with a 4-digit year or a 2-digit one (read as 20yy). Anything else wraps
// ErrNotDate.
func (c Cell) Date(dayFirst bool) (time.Time, error) {
	switch c.Type {
	case CellDate, CellNumber:
		if c.Percent {
			return time.Time{}, fmt.Errorf("%w: %q", ErrNotDate, c.Text())
		}
		if t, err := time.Parse(time.RFC3339Nano, c.Raw); err == nil { // t="d" cells
			return t.UTC(), nil
		}
		return c.serialTime()
	case CellString:
		return ParseDate(c.Raw, dayFirst)
	case CellFormulaNoValue:
		return time.Time{}, ErrFormulaNoValue
	case CellError:
		return time.Time{}, fmt.Errorf("%w: %s", ErrCellError, c.Raw)
	default:
		return time.Time{}, fmt.Errorf("%w: %q", ErrNotDate, c.Text())
	}
}

var isoLayouts = []string{
	"2006-01-02", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04",
	"2006-01-02 15:04", time.RFC3339, time.RFC3339Nano, "2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999", "2006/01/02",
}

// ParseDate parses a date written as text (see Cell.Date).
func ParseDate(s string, dayFirst bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	bad := func() (time.Time, error) { return time.Time{}, fmt.Errorf("%w: %q", ErrNotDate, s) }
	if len(s) < 6 || len(s) > 40 {
		return bad()
	}
	if s[4] == '-' || s[4] == '/' {
		for _, l := range isoLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t.UTC(), nil
			}
		}
		return bad()
	}
	// d/m/y or m/d/y, an optional time after a space.
	datePart, timePart, _ := strings.Cut(s, " ")
	sep := byte(0)
	for _, c := range []byte{'/', '.', '-'} {
		if strings.Count(datePart, string(c)) == 2 {
			sep = c
			break
		}
	}
	if sep == 0 {
		return bad()
	}
	parts := strings.Split(datePart, string(sep))
	n := [3]int{}
	for i, p := range parts {
		if len(p) == 0 || len(p) > 4 || (i < 2 && len(p) > 2) {
			return bad()
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return bad()
		}
		n[i] = v
	}
	day, month, year := n[0], n[1], n[2]
	if !dayFirst {
		day, month = n[1], n[0]
	}
	if len(parts[2]) == 2 {
		year += 2000
	} else if len(parts[2]) != 4 {
		return bad()
	}
	var h, m, sec int
	if timePart = strings.TrimSpace(timePart); timePart != "" {
		t, err := time.Parse("15:04:05", timePart)
		if err != nil {
			if t, err = time.Parse("15:04", timePart); err != nil {
				return bad()
			}
		}
		h, m, sec = t.Hour(), t.Minute(), t.Second()
	}
	t := time.Date(year, time.Month(month), day, h, m, sec, 0, time.UTC)
	if t.Day() != day || int(t.Month()) != month || t.Year() != year {
		return bad() // 31/02, month 13: no normalising
	}
	return t, nil
}
