package xlsx

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// The xlsx side of Writer: the workbook written as it goes.
//
// excelize's stream writer (used before) spilled the sheet into a
// temporary file and wrote the package only at Close, so a client saw no
// byte of a large export before the last row was read, and its cell
// encoding (a Cell value per cell, reflection on each value, a column
// name made per cell) cost more than reading the rows from PostgreSQL.
// This writer puts the package's small parts first, then deflates the
// worksheet straight onto the output row by row (archive/zip streams an
// entry and writes its sizes after it), and ends it at Close with the
// data validations, which SpreadsheetML places after the rows. Memory is
// one row and the deflater's window, whatever the row count.
//
// What it writes is the subset of SpreadsheetML every spreadsheet program
// reads: text as inline strings (so nothing is held for a shared-string
// table), numbers, booleans, dates and times as serial numbers with a date
// or date-time format, a bold header row frozen above the rows (required
// columns' headers in red), column widths, and drop-down lists, inline
// when short, else from a hidden sheet of lists.

// MaxRows is the most rows a worksheet holds.
const MaxRows = 1_048_576

// Cell styles of styles.xml's cellXfs, in order.
const (
	styleNone = iota
	styleDate
	styleDateTime
	styleHeader
	styleRequired
)

const (
	nsMain  = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
	nsRels  = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	xmlDecl = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
)

const stylesXML = xmlDecl + `<styleSheet xmlns="` + nsMain + `">` +
	`<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\-mm\-dd"/><numFmt numFmtId="165" formatCode="yyyy\-mm\-dd\ hh:mm:ss"/></numFmts>` +
	`<fonts count="3"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>` +
	`<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>` +
	`<font><b/><sz val="11"/><color rgb="FFC00000"/><name val="Calibri"/><family val="2"/></font></fonts>` +
	`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
	`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
	`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
	`<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
	`<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>` +
	`<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>` +
	`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>` +
	`</styleSheet>`

// sheetWriter writes one workbook onto out.
type sheetWriter struct {
	zw    *zip.Writer
	sheet *bufio.Writer // the worksheet entry
	buf   []byte        // the row being encoded
	refs  [][]byte      // per column: its letters, for cell references
	// validations is the worksheet's <dataValidations> element, written
	// after the rows; lists the hidden sheet of long lists (nil when
	// every list is inline).
	validations []byte
	lists       [][]string
}

// startXLSX writes the package's parts up to the worksheet's first row
// and the header row.
func (w *Writer) startXLSX(opts WriterOptions, header []string) error {
	sheet := opts.Sheet
	if sheet == "" {
		sheet = "Sheet1"
	}
	if err := checkSheetName(sheet); err != nil {
		return err
	}
	sw := &sheetWriter{zw: zip.NewWriter(w.out)}
	// Deflate at BestSpeed: at the default level deflate took a large
	// share of a big export's time, for a somewhat smaller file.
	sw.zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	sw.planValidations(opts.Columns)
	w.xw = sw

	parts := []struct{ name, body string }{
		{"[Content_Types].xml", sw.contentTypes()},
		{"_rels/.rels", xmlDecl + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="` + nsRels + `/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", sw.workbook(sheet)},
		{"xl/_rels/workbook.xml.rels", sw.workbookRels()},
		{"xl/styles.xml", stylesXML},
	}
	for _, p := range parts {
		f, err := sw.zw.Create(p.name)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(f, p.body); err != nil {
			return err
		}
	}
	f, err := sw.zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return err
	}
	sw.sheet = bufio.NewWriterSize(f, 64<<10)
	// A bufio.Writer keeps its first error and returns it from every
	// later Write and from Flush: the writes below are checked there.
	s := sw.sheet
	_, _ = s.WriteString(xmlDecl + `<worksheet xmlns="` + nsMain + `" xmlns:r="` + nsRels + `">`)
	if len(header) > 0 {
		_, _ = s.WriteString(`<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>` +
			`<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>`)
	}
	_, _ = s.WriteString(`<sheetFormatPr defaultRowHeight="15"/>`)
	if len(opts.Columns) > 0 {
		_, _ = s.WriteString(`<cols>`)
		for i, c := range opts.Columns {
			width := c.Width
			if width == 0 {
				width = max(10, float64(len(header[i]))+2)
			}
			fmt.Fprintf(s, `<col min="%d" max="%d" width="%s" customWidth="1"/>`, i+1, i+1,
				strconv.FormatFloat(min(width, 80), 'f', -1, 64))
		}
		_, _ = s.WriteString(`</cols>`)
	}
	_, _ = s.WriteString(`<sheetData>`)
	if len(header) == 0 {
		return nil
	}
	w.row = 1
	b := append(sw.buf[:0], `<row r="1">`...)
	for i, h := range header {
		style := styleHeader
		if opts.Columns[i].Required {
			style = styleRequired
		}
		b = sw.stringCell(b, i, 1, style, EscapeFormula(h))
	}
	b = append(b, `</row>`...)
	sw.buf = b
	_, err = s.Write(b)
	return err
}

// checkSheetName refuses a name Excel would not open: empty, over 31
// characters, or with one of : \ / ? * [ ].
func checkSheetName(name string) error {
	if utf8.RuneCountInString(name) > 31 || strings.ContainsAny(name, `:\/?*[]`) || strings.Trim(name, "'") != name {
		return fmt.Errorf("xlsx: invalid sheet name %q", name)
	}
	return nil
}

func (sw *sheetWriter) contentTypes() string {
	var b strings.Builder
	b.WriteString(xmlDecl + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`)
	if sw.lists != nil {
		b.WriteString(`<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`)
	}
	b.WriteString(`</Types>`)
	return b.String()
}

func (sw *sheetWriter) workbook(sheet string) string {
	var b strings.Builder
	b.WriteString(xmlDecl + `<workbook xmlns="` + nsMain + `" xmlns:r="` + nsRels + `">` +
		`<bookViews><workbookView activeTab="0"/></bookViews><sheets><sheet name="`)
	b.Write(appendEscaped(nil, sheet))
	b.WriteString(`" sheetId="1" r:id="rId1"/>`)
	if sw.lists != nil {
		b.WriteString(`<sheet name="` + listSheet + `" sheetId="2" state="hidden" r:id="rId2"/>`)
	}
	b.WriteString(`</sheets></workbook>`)
	return b.String()
}

func (sw *sheetWriter) workbookRels() string {
	s := xmlDecl + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="` + nsRels + `/worksheet" Target="worksheets/sheet1.xml"/>`
	if sw.lists != nil {
		s += `<Relationship Id="rId2" Type="` + nsRels + `/worksheet" Target="worksheets/sheet2.xml"/>`
	}
	return s + `<Relationship Id="rId3" Type="` + nsRels + `/styles" Target="styles.xml"/></Relationships>`
}

// maxInlineList is the longest list formula Excel accepts inline.
const maxInlineList = 255

// planValidations makes the drop-down lists' <dataValidations> element:
// a list inline in its formula when short enough and free of commas and
// quotes, else a range of the hidden sheet of lists.
func (sw *sheetWriter) planValidations(cols []Column) {
	var b []byte
	n := 0
	for i, c := range cols {
		if len(c.List) == 0 {
			continue
		}
		n++
		col := columnLetters(i + 1)
		b = fmt.Appendf(b, `<dataValidation type="list" allowBlank="1" showErrorMessage="1" sqref="%s2:%s%d"><formula1>`, col, col, MaxRows)
		inline := strings.Join(c.List, ",")
		if len(inline)+2 <= maxInlineList && !strings.ContainsAny(inline, `"`) && !listHasComma(c.List) {
			b = append(b, '"')
			b = appendEscaped(b, inline)
			b = append(b, '"')
		} else {
			sw.lists = append(sw.lists, c.List)
			lc := columnLetters(len(sw.lists))
			b = fmt.Appendf(b, `%s!$%s$1:$%s$%d`, listSheet, lc, lc, len(c.List))
		}
		b = append(b, `</formula1></dataValidation>`...)
	}
	if n > 0 {
		sw.validations = append(fmt.Appendf(nil, `<dataValidations count="%d">`, n), append(b, `</dataValidations>`...)...)
	}
}

func listHasComma(list []string) bool {
	for _, v := range list {
		if strings.Contains(v, ",") {
			return true
		}
	}
	return false
}

// columnLetters is a column's name: 1 is A, 27 is AA.
func columnLetters(n int) string {
	var b []byte
	for n > 0 {
		n--
		b = append([]byte{byte('A' + n%26)}, b...)
		n /= 26
	}
	return string(b)
}

// ref appends cell (col, row)'s reference: its column letters, then the
// row number.
func (sw *sheetWriter) ref(b []byte, col, row int) []byte {
	for len(sw.refs) <= col {
		sw.refs = append(sw.refs, []byte(columnLetters(len(sw.refs)+1)))
	}
	b = append(b, sw.refs[col]...)
	return strconv.AppendInt(b, int64(row), 10)
}

// stringCell appends a text cell (an inline string; empty text is no
// cell at all).
func (sw *sheetWriter) stringCell(b []byte, col, row, style int, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, `<c r="`...)
	b = sw.ref(b, col, row)
	if style != styleNone {
		b = append(b, `" s="`...)
		b = strconv.AppendInt(b, int64(style), 10)
	}
	b = append(b, `" t="inlineStr"><is><t`...)
	if needsPreserve(s) {
		b = append(b, ` xml:space="preserve"`...)
	}
	b = append(b, '>')
	b = appendEscaped(b, s)
	return append(b, `</t></is></c>`...)
}

// openNumber appends the start of a number cell: its literal follows,
// then closeNumber.
func (sw *sheetWriter) openNumber(b []byte, col, row, style int) []byte {
	b = append(b, `<c r="`...)
	b = sw.ref(b, col, row)
	if style != styleNone {
		b = append(b, `" s="`...)
		b = strconv.AppendInt(b, int64(style), 10)
	}
	return append(b, `"><v>`...)
}

const closeNumber = `</v></c>`

// needsPreserve tells whether text has leading or trailing white space,
// which a spreadsheet keeps only when told to.
func needsPreserve(s string) bool {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	return isSpace(s[0]) || isSpace(s[len(s)-1])
}

// appendEscaped appends s escaped as XML character data or attribute
// value: the markup characters as entities, a carriage return as a
// character reference (a parser would turn a bare one into a line feed),
// and characters XML cannot hold (most control characters, invalid UTF-8)
// as U+FFFD, as excelize did.
func appendEscaped(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		var esc string
		width := 1
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '"':
			esc = "&quot;"
		case c == '\r':
			esc = "&#13;"
		case c == '\t' || c == '\n':
		case c < 0x20:
			esc = "\uFFFD"
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			width = n
			if (r == utf8.RuneError && n == 1) || r == 0xFFFE || r == 0xFFFF {
				esc = "\uFFFD"
			}
		}
		if esc != "" {
			b = append(b, s[last:i]...)
			b = append(b, esc...)
			last = i + width
		}
		i += width
	}
	return append(b, s[last:]...)
}

// excelEpoch is day 0 of Excel's 1900 date system (serial 1 is 1900-01-01
// because Excel counts a 29 February 1900 that did not exist).
var (
	excelEpoch    = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	excelLeapBug  = time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC)
	excelFirstDay = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
)

// excelSerial is t's serial number in the 1900 date system: days since
// the epoch and the time of day as a fraction; false before 1900.
func excelSerial(t time.Time) (float64, bool) {
	t = t.UTC()
	if t.Before(excelFirstDay) {
		return 0, false
	}
	epoch := excelEpoch
	if t.Before(excelLeapBug) {
		epoch = epoch.AddDate(0, 0, 1)
	}
	d := t.Sub(epoch)
	days := math.Floor(d.Hours() / 24)
	frac := float64(d-time.Duration(days)*24*time.Hour) / float64(24*time.Hour)
	return days + frac, true
}

// writeXLSXRow encodes one row of values.
func (w *Writer) writeXLSXRow(values []any) error {
	sw := w.xw
	row := w.row
	b := append(sw.buf[:0], `<row r="`...)
	b = strconv.AppendInt(b, int64(row), 10)
	b = append(b, `">`...)
	for i, v := range values {
		switch v := v.(type) {
		case nil:
		case string:
			b = sw.stringCell(b, i, row, styleNone, EscapeFormula(v))
		case decimal.Decimal:
			if len(strings.TrimLeft(v.Coefficient().String(), "-")) > maxExactDigits {
				b = sw.stringCell(b, i, row, styleNone, v.String())
			} else {
				b = append(sw.openNumber(b, i, row, styleNone), v.String()...)
				b = append(b, closeNumber...)
			}
		case int:
			b = sw.intCell(b, i, row, int64(v))
		case int64:
			b = sw.intCell(b, i, row, v)
		case int32:
			b = sw.intCell(b, i, row, int64(v))
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				b = sw.stringCell(b, i, row, styleNone, strconv.FormatFloat(v, 'g', -1, 64))
			} else {
				b = strconv.AppendFloat(sw.openNumber(b, i, row, styleNone), v, 'g', -1, 64)
				b = append(b, closeNumber...)
			}
		case bool:
			b = append(b, `<c r="`...)
			b = sw.ref(b, i, row)
			if v {
				b = append(b, `" t="b"><v>1</v></c>`...)
			} else {
				b = append(b, `" t="b"><v>0</v></c>`...)
			}
		case time.Time:
			style, text := styleDate, "2006-01-02"
			if h, m, s := v.UTC().Clock(); h != 0 || m != 0 || s != 0 {
				style, text = styleDateTime, "2006-01-02 15:04:05"
			}
			serial, ok := excelSerial(v)
			if !ok {
				// Before 1900 no spreadsheet has a serial for it: the
				// date as text, which a date field still reads.
				b = sw.stringCell(b, i, row, styleNone, v.UTC().Format(text))
				continue
			}
			b = strconv.AppendFloat(sw.openNumber(b, i, row, style), serial, 'f', -1, 64)
			b = append(b, closeNumber...)
		default:
			return fmt.Errorf("xlsx: write row %d: unsupported value type %T", row, v)
		}
	}
	b = append(b, `</row>`...)
	sw.buf = b
	_, err := sw.sheet.Write(b)
	return err
}

// intCell writes an integer as a number when a spreadsheet holds it
// exactly, else as text.
func (sw *sheetWriter) intCell(b []byte, col, row int, v int64) []byte {
	if v > 999_999_999_999_999 || v < -999_999_999_999_999 {
		return sw.stringCell(b, col, row, styleNone, strconv.FormatInt(v, 10))
	}
	b = strconv.AppendInt(sw.openNumber(b, col, row, styleNone), v, 10)
	return append(b, closeNumber...)
}

// closeXLSX ends the worksheet (its validations after the rows), writes
// the sheet of lists and the zip's directory.
func (w *Writer) closeXLSX() error {
	sw := w.xw
	s := sw.sheet
	// bufio keeps the first error for Flush (below).
	_, _ = s.WriteString(`</sheetData>`)
	_, _ = s.Write(sw.validations)
	_, _ = s.WriteString(`</worksheet>`)
	if err := s.Flush(); err != nil {
		return err
	}
	if sw.lists != nil {
		f, err := sw.zw.Create("xl/worksheets/sheet2.xml")
		if err != nil {
			return err
		}
		lw := bufio.NewWriter(f)
		_, _ = lw.WriteString(xmlDecl + `<worksheet xmlns="` + nsMain + `"><sheetData>`) // checked by Flush
		longest := 0
		for _, l := range sw.lists {
			longest = max(longest, len(l))
		}
		for r := 1; r <= longest; r++ {
			b := fmt.Appendf(sw.buf[:0], `<row r="%d">`, r)
			for c, l := range sw.lists {
				if r <= len(l) {
					b = sw.stringCell(b, c, r, styleNone, EscapeFormula(l[r-1]))
				}
			}
			sw.buf = append(b, `</row>`...)
			_, _ = lw.Write(sw.buf)
		}
		_, _ = lw.WriteString(`</sheetData></worksheet>`)
		if err := lw.Flush(); err != nil {
			return err
		}
	}
	return sw.zw.Close()
}
