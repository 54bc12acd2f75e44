package xlsx

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"
)

// Column describes one column a Writer writes.
type Column struct {
	// Header is the header row's text.
	Header string
	// Required marks the header: a trailing " *", bold in xlsx.
	Required bool
	// List, when set, gives the column's rows a drop-down list of these
	// values (xlsx only).
	List []string
	// Width is the column's width in characters (xlsx only; 0 fits the
	// header).
	Width float64
}

// WriterOptions configure NewWriter.
type WriterOptions struct {
	// Sheet names the worksheet (xlsx); empty is "Sheet1".
	Sheet string
	// Columns are written as the header row, in order.
	Columns []Column
	// TempDir is where excelize spills a large sheet; empty is
	// os.TempDir.
	TempDir string
	// NoBOM leaves out the UTF-8 byte order mark of CSV output.
	NoBOM bool
}

// RequiredMark is appended to the header of a required column.
const RequiredMark = " *"

// listSheet holds the values of drop-down lists too long to write inline.
const listSheet = "Lists"

// Writer streams rows into an xlsx or CSV file. Rows go out as they are
// written (CSV) or are spilled by excelize's stream writer (xlsx), so memory
// stays bounded whatever the row count; Close finishes the file.
type Writer struct {
	out    io.Writer
	format Format
	row    int

	// CSV: each record is encoded into recBuf, then written to bw.
	bw     *bufio.Writer
	cw     *csv.Writer
	recBuf bytes.Buffer
	rec    []string

	// xlsx
	file      *excelize.File
	sw        *excelize.StreamWriter
	dateStyle int
	timeStyle int
	vals      []any
}

// NewWriter starts a file of the given format on w and writes its header
// row from opts.Columns.
func NewWriter(w io.Writer, f Format, opts WriterOptions) (*Writer, error) {
	wr := &Writer{out: w, format: f}
	header := make([]string, len(opts.Columns))
	for i, c := range opts.Columns {
		header[i] = c.Header
		if c.Required {
			header[i] += RequiredMark
		}
	}
	switch f {
	case FormatCSV:
		wr.bw = bufio.NewWriterSize(w, 64<<10)
		if !opts.NoBOM {
			// A bufio.Writer keeps its first error and returns it from
			// every later Write and Flush: writeRecord and Close see it.
			_, _ = wr.bw.Write(bomUTF8)
		}
		wr.cw = csv.NewWriter(&wr.recBuf)
		if len(header) > 0 {
			for i := range header {
				header[i] = EscapeFormula(header[i])
			}
			if err := wr.writeRecord(header); err != nil {
				return nil, err
			}
			wr.row = 1
		}
		return wr, nil
	case FormatXLSX:
		if err := wr.startXLSX(opts, header); err != nil {
			if wr.file != nil {
				wr.file.Close()
			}
			return nil, fmt.Errorf("xlsx: new writer: %w", err)
		}
		return wr, nil
	}
	return nil, fmt.Errorf("xlsx: new writer: unsupported format %v", f)
}

func (w *Writer) startXLSX(opts WriterOptions, header []string) error {
	w.file = excelize.NewFile(excelize.Options{TmpDir: opts.TempDir})
	// excelize's WriteTo assembles the whole package in a bytes.Buffer
	// before it writes it out (File.WriteToBuffer): a 1,000,000-row export
	// held some 300 MB there. Its zip writer can be replaced: this one
	// writes the package straight to the output and leaves that buffer
	// empty.
	//
	// Its parts are deflated at flate.BestSpeed: at the default level
	// deflate took a large share of a big export's time, for a somewhat
	// smaller file.
	w.file.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(w.out)
		zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(out, flate.BestSpeed)
		})
		return zw
	})
	sheet := opts.Sheet
	if sheet == "" {
		sheet = "Sheet1"
	}
	if sheet != "Sheet1" {
		if err := w.file.SetSheetName("Sheet1", sheet); err != nil {
			return err
		}
	}
	var err error
	dateFmt, timeFmt := "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
	if w.dateStyle, err = w.file.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt}); err != nil {
		return err
	}
	if w.timeStyle, err = w.file.NewStyle(&excelize.Style{CustomNumFmt: &timeFmt}); err != nil {
		return err
	}
	bold, err := w.file.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	required, err := w.file.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Color: "C00000"}})
	if err != nil {
		return err
	}
	// Drop-down lists: inline when short enough (Excel allows 255
	// characters), else from a hidden sheet of lists.
	listCol := 0
	for i, c := range opts.Columns {
		if len(c.List) == 0 {
			continue
		}
		colName, _ := excelize.ColumnNumberToName(i + 1)
		dv := excelize.NewDataValidation(true)
		dv.Sqref = fmt.Sprintf("%s2:%s%d", colName, colName, excelize.TotalRows)
		if err := dv.SetDropList(c.List); err != nil {
			if listCol == 0 {
				if _, err := w.file.NewSheet(listSheet); err != nil {
					return err
				}
				if err := w.file.SetSheetVisible(listSheet, false); err != nil {
					return err
				}
			}
			listCol++
			lc, _ := excelize.ColumnNumberToName(listCol)
			for j, v := range c.List {
				if err := w.file.SetCellStr(listSheet, fmt.Sprintf("%s%d", lc, j+1), EscapeFormula(v)); err != nil {
					return err
				}
			}
			dv = excelize.NewDataValidation(true)
			dv.Sqref = fmt.Sprintf("%s2:%s%d", colName, colName, excelize.TotalRows)
			dv.SetSqrefDropList(fmt.Sprintf("%s!$%s$1:$%s$%d", listSheet, lc, lc, len(c.List)))
		}
		if err := w.file.AddDataValidation(sheet, dv); err != nil {
			return err
		}
	}
	if w.sw, err = w.file.NewStreamWriter(sheet); err != nil {
		return err
	}
	for i, c := range opts.Columns {
		width := c.Width
		if width == 0 {
			width = max(10, float64(len(header[i]))+2)
		}
		if err := w.sw.SetColWidth(i+1, i+1, min(width, 80)); err != nil {
			return err
		}
	}
	if len(header) == 0 {
		return nil
	}
	if err := w.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	cells := make([]any, len(header))
	for i, h := range header {
		style := bold
		if opts.Columns[i].Required {
			style = required
		}
		cells[i] = excelize.Cell{StyleID: style, Value: EscapeFormula(h)}
	}
	w.row = 1
	return w.sw.SetRow("A1", cells)
}

// maxExactDigits is the number of significant digits a spreadsheet number
// holds exactly; longer numbers are written as text so no digit is lost.
const maxExactDigits = 15

// WriteRow writes one row. Values may be string (written as text, never
// converted to a number, formula-escaped), decimal.Decimal, int, int64,
// float64, time.Time (a date; with its clock when not midnight), bool or
// nil (an empty cell).
func (w *Writer) WriteRow(values []any) error {
	w.row++
	if w.row > excelize.TotalRows {
		return &LimitError{Limit: LimitRows, Max: excelize.TotalRows, Row: w.row}
	}
	if w.format == FormatCSV {
		return w.writeCSV(values)
	}
	vals := w.vals[:0]
	for _, v := range values {
		switch v := v.(type) {
		case nil:
			vals = append(vals, nil)
		case string:
			vals = append(vals, EscapeFormula(v))
		case decimal.Decimal:
			if len(strings.TrimLeft(v.Coefficient().String(), "-")) > maxExactDigits {
				vals = append(vals, v.String())
			} else {
				f, _ := v.Float64()
				vals = append(vals, f)
			}
		case int:
			vals = append(vals, intCell(int64(v)))
		case int64:
			vals = append(vals, intCell(v))
		case int32:
			vals = append(vals, int64(v))
		case float64:
			vals = append(vals, v)
		case bool:
			vals = append(vals, v)
		case time.Time:
			style := w.dateStyle
			if h, m, s := v.Clock(); h != 0 || m != 0 || s != 0 {
				style = w.timeStyle
			}
			// excelize writes a time's wall clock: a UTC time shows as
			// UTC.
			vals = append(vals, excelize.Cell{StyleID: style, Value: v.UTC()})
		default:
			return fmt.Errorf("xlsx: write row %d: unsupported value type %T", w.row, v)
		}
	}
	w.vals = vals
	cell, _ := excelize.CoordinatesToCellName(1, w.row)
	return w.sw.SetRow(cell, vals)
}

func intCell(v int64) any {
	if v > 999_999_999_999_999 || v < -999_999_999_999_999 {
		return strconv.FormatInt(v, 10)
	}
	return v
}

func (w *Writer) writeCSV(values []any) error {
	rec := w.rec[:0]
	for _, v := range values {
		switch v := v.(type) {
		case nil:
			rec = append(rec, "")
		case string:
			rec = append(rec, EscapeFormula(v))
		case decimal.Decimal:
			rec = append(rec, v.String())
		case int:
			rec = append(rec, strconv.Itoa(v))
		case int64:
			rec = append(rec, strconv.FormatInt(v, 10))
		case int32:
			rec = append(rec, strconv.FormatInt(int64(v), 10))
		case float64:
			rec = append(rec, strconv.FormatFloat(v, 'f', -1, 64))
		case bool:
			rec = append(rec, strings.ToUpper(strconv.FormatBool(v)))
		case time.Time:
			v = v.UTC()
			if h, m, s := v.Clock(); h != 0 || m != 0 || s != 0 {
				rec = append(rec, v.Format("2006-01-02 15:04:05"))
			} else {
				rec = append(rec, v.Format("2006-01-02"))
			}
		default:
			return fmt.Errorf("xlsx: write row %d: unsupported value type %T", w.row, v)
		}
	}
	w.rec = rec
	return w.writeRecord(rec)
}

// writeRecord writes one CSV record ending in CRLF. encoding/csv's own
// CRLF mode rewrites the fields too (it drops a carriage return inside a
// field and turns a line feed into CRLF), so a value could not come back
// as it was; here a field is written as it is, quoted when it must be,
// and only the record's end is CRLF.
func (w *Writer) writeRecord(rec []string) error {
	w.recBuf.Reset()
	if err := w.cw.Write(rec); err != nil {
		return err
	}
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		return err
	}
	b := w.recBuf.Bytes()
	_, _ = w.bw.Write(b[:len(b)-1]) // without the line feed encoding/csv ends a record with
	_, err := w.bw.WriteString("\r\n")
	return err
}

// Close finishes the file and writes what is left of it to the writer;
// for xlsx the whole package is written here. It releases temporary files
// whether or not it succeeds.
func (w *Writer) Close() error {
	switch w.format {
	case FormatCSV:
		return w.bw.Flush()
	case FormatXLSX:
		if w.file == nil {
			return errors.New("xlsx: writer already closed")
		}
		err := w.sw.Flush()
		if err == nil {
			_, err = w.file.WriteTo(w.out)
		}
		return errors.Join(err, w.closeFile())
	}
	return nil
}

func (w *Writer) closeFile() error {
	f := w.file
	w.file = nil
	return f.Close()
}
