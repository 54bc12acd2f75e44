package xlsx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// Reader streams the rows of one sheet (or a CSV file). Rows with no value
// are skipped wherever they are, so trailing empty rows are dropped and a
// row keeps its spreadsheet number (the header is row 1) across gaps; each
// row's trailing empty cells are dropped.
//
//	r, err := xlsx.Open(path, format, xlsx.Options{})
//	...
//	defer r.Close()
//	for r.Next() {
//		n, cells := r.Row()
//		...
//	}
//	if err := r.Err(); err != nil { ... }
type Reader struct {
	src   rowSource
	row   int
	cells []Cell
	rows  int
	err   error
	done  bool
}

// rowSource yields the non-empty rows of a sheet; ok is false at the end.
type rowSource interface {
	next() (row int, cells []Cell, ok bool, err error)
	close() error
}

// Open opens the file at path in the given format (from Detect) for
// reading. An xlsx is checked against opts.Limits before anything is
// inflated. Errors are *FormatError, *LimitError, *CorruptError,
// ErrSheetNotFound or an I/O error.
func Open(path string, f Format, opts Options) (*Reader, error) {
	opts.Limits = opts.Limits.withDefaults()
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var src rowSource
	switch f {
	case FormatXLSX:
		src, err = openSheet(fh, opts)
	case FormatCSV:
		src, err = openCSV(fh, opts)
	default:
		err = fmt.Errorf("xlsx: open: unsupported format %v", f)
	}
	if err != nil {
		fh.Close()
		return nil, err
	}
	return &Reader{src: src}, nil
}

// Next advances to the next non-empty row; it returns false at the end of
// the sheet or on an error (see Err).
func (r *Reader) Next() bool {
	if r.done {
		return false
	}
	row, cells, ok, err := r.src.next()
	switch {
	case err != nil:
		r.err, r.done = err, true
		return false
	case !ok:
		r.done = true
		if r.rows == 0 {
			r.err = ErrNoRows
		}
		return false
	}
	r.rows++
	r.row, r.cells = row, cells
	return true
}

// Row returns the current row's spreadsheet number (the header is 1) and
// its cells, cells[0] being column A. The slice is reused by the next call
// of Next: copy it to keep it (the strings in it may be kept).
func (r *Reader) Row() (number int, cells []Cell) {
	return r.row, r.cells
}

// Err returns the error that ended the rows, if any: ErrNoRows when the
// sheet yielded no row at all, a *LimitError, *EncodingError or
// *CorruptError naming the row.
func (r *Reader) Err() error {
	return r.err
}

// Close releases the file and any temporary files.
func (r *Reader) Close() error {
	if r.src == nil {
		return nil
	}
	err := r.src.close()
	r.src = nil
	r.done = true
	return err
}

// trimRow drops trailing empty cells.
func trimRow(cells []Cell) []Cell {
	n := len(cells)
	for n > 0 && cells[n-1].Type == CellEmpty {
		n--
	}
	return cells[:n]
}

// runLimiter fails a read stream once more than max bytes pass without a
// '<': a text node or tag that long is hostile (encoding/xml would buffer it
// whole), and no legitimate cell comes near (MaxCellBytes with every
// character written as an entity stays far below).
type runLimiter struct {
	r   io.Reader
	max int
	run int
}

var errRunTooLong = errors.New("an XML text or tag is too long")

func (l *runLimiter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	b := p[:n]
	for len(b) > 0 {
		i := bytes.IndexByte(b, '<')
		if i < 0 {
			l.run += len(b)
			break
		}
		l.run = 0
		b = b[i+1:]
	}
	if l.run > l.max {
		return n, errRunTooLong
	}
	return n, err
}
