package xlsx

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
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
	// NoBOM leaves out the UTF-8 byte order mark of CSV output.
	NoBOM bool
}

// RequiredMark is appended to the header of a required column.
const RequiredMark = " *"

// listSheet holds the values of drop-down lists too long to write inline.
const listSheet = "Lists"

// Writer streams rows into an xlsx or CSV file. Rows go out as they are
// written, deflated into the worksheet for xlsx (sheetwriter.go), so
// memory stays bounded whatever the row count; Close finishes the file.
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
	xw *sheetWriter
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
			return nil, fmt.Errorf("xlsx: new writer: %w", err)
		}
		return wr, nil
	}
	return nil, fmt.Errorf("xlsx: new writer: unsupported format %v", f)
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
	if w.row > MaxRows {
		return &LimitError{Limit: LimitRows, Max: MaxRows, Row: w.row}
	}
	if w.format == FormatCSV {
		return w.writeCSV(values)
	}
	return w.writeXLSXRow(values)
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
		if w.xw == nil {
			return errors.New("xlsx: writer already closed")
		}
		err := w.closeXLSX()
		w.xw = nil
		return err
	}
	return nil
}
