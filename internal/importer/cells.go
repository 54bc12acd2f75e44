package importer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/xlsx"
)

// locale is how a tenant writes numbers and dates as text.
type locale struct {
	decimalComma bool
	dayFirst     bool
}

// monthFirst are the countries that write dates month first (3/15/2026).
var monthFirst = []string{"US", "PR", "PH", "GU", "VI", "AS", "MP", "UM", "FM", "MH", "PW"}

// decimalPoint are the countries that write 1,234.56; the others write
// 1.234,56 (or 1 234,56).
var decimalPoint = []string{"US", "GB", "IE", "CA", "AU", "NZ", "IN", "PK", "BD", "LK", "NP", "SG", "MY", "PH", "TH",
	"JP", "KR", "CN", "HK", "TW", "MO", "IL", "MX", "GT", "HN", "SV", "NI", "PA", "DO", "PR", "JM", "TT", "BS", "BZ",
	"NG", "GH", "KE", "UG", "TZ", "ZW", "BW", "MT", "CH", "LI", "SA", "AE", "QA", "KW", "BH", "OM", "JO", "EG", "PE",
	"GU", "VI", "AS", "MP", "UM", "FM", "MH", "PW"}

// localeOf is the locale of the tenant's default country.
func localeOf(country string) locale {
	c := strings.ToUpper(strings.TrimSpace(country))
	return locale{decimalComma: c != "" && !slices.Contains(decimalPoint, c), dayFirst: !slices.Contains(monthFirst, c)}
}

// cellError is a cell the column cannot read: a row error with this code.
type cellError struct {
	code    string
	message string
}

func (e *cellError) Error() string { return e.message }

// cellValue parses a cell into the value a column of this kind takes (see
// Column.Import): nil for an empty cell; text (as the spreadsheet shows it:
// codes keep their leading zeros, a date in a text column is its displayed
// date, never its serial number) for text-like and reference columns; an
// exact decimal for numbers (thousands separators and the locale's decimal
// comma read, never through float); percentage points for percents (a
// percent-formatted 0.125 is 12.5); a whole number for integers; a date
// for dates (serial numbers in either date system, ISO text, or the
// locale's day/month order).
func cellValue(c xlsx.Cell, kind Kind, loc locale) (any, error) {
	switch c.Type {
	case xlsx.CellFormulaNoValue:
		return nil, &cellError{code: "formula_without_value", message: "the formula has no calculated value: open and save the file in a spreadsheet program, or type the value"}
	case xlsx.CellError:
		return nil, &cellError{code: "cell_error", message: "the cell holds the error " + c.Raw}
	}
	if c.IsEmpty() {
		return nil, nil
	}
	switch kind {
	case KindDecimal:
		d, err := c.Decimal(loc.decimalComma)
		if err != nil {
			return nil, &cellError{code: "invalid_number", message: "must be a number"}
		}
		return d, nil
	case KindPercent:
		d, err := c.PercentPoints(loc.decimalComma)
		if err != nil {
			return nil, &cellError{code: "invalid_number", message: "must be a percentage (12.5 or 12.5%)"}
		}
		return d, nil
	case KindInteger:
		d, err := c.Decimal(loc.decimalComma)
		if err != nil || !d.Equal(d.Truncate(0)) {
			return nil, &cellError{code: "invalid_integer", message: "must be a whole number"}
		}
		if d.Abs().GreaterThan(decimal.NewFromInt(1 << 40)) {
			return nil, &cellError{code: "out_of_range", message: "is too large"}
		}
		return d.IntPart(), nil
	case KindDate:
		t, err := c.Date(loc.dayFirst)
		if err != nil {
			order := "month/day/year"
			if loc.dayFirst {
				order = "day/month/year"
			}
			return nil, &cellError{code: "invalid_date", message: "must be a date (YYYY-MM-DD, " + order + ", or a date cell)"}
		}
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
	case KindBool:
		if c.Type == xlsx.CellBool {
			return strings.EqualFold(c.Raw, "TRUE") || c.Raw == "1", nil
		}
		switch strings.ToLower(strings.TrimSpace(c.Text())) {
		case "true", "yes", "y", "1", "x":
			return true, nil
		case "false", "no", "n", "0":
			return false, nil
		}
		return nil, &cellError{code: "invalid_boolean", message: "must be true or false (yes or no)"}
	default:
		return strings.TrimSpace(c.Text()), nil
	}
}

// readCell parses a cell for a column and records a row error when it
// cannot; ok is false then.
func readCell(r *row, header string, c xlsx.Cell, kind Kind, loc locale) (any, bool) {
	v, err := cellValue(c, kind, loc)
	if err != nil {
		var ce *cellError
		if errors.As(err, &ce) {
			r.fail(header, c.Text(), ce.code, ce.message)
		} else {
			r.fail(header, c.Text(), "invalid", fmt.Sprint(err))
		}
		return nil, false
	}
	return v, true
}
