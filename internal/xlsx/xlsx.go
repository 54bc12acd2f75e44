// Package xlsx reads and writes the spreadsheets customers are imported from
// and exported to: xlsx workbooks and CSV text. It is a leaf package (the
// standard library, excelize, shopspring/decimal and golang.org/x/text only)
// shared by the import pipeline and the export.
//
// Reading is by content, never by file name: Detect (or DetectFile) tells an
// xlsx workbook and CSV text apart and refuses every other format with a
// *FormatError naming it (xls, an encrypted workbook, ods, numbers, another
// zip, pdf, html, binary), so a handler can answer 415 before queueing work.
//
// Open streams one sheet row by row in bounded memory. For xlsx, the zip's
// directory is checked against Limits first (archive/zip holds every part
// to its declared size, so a zip bomb stops before it is inflated); then
// this package reads, each as a stream of XML tokens, only the parts it
// needs: the workbook (sheet order and visibility, the 1900/1904 date
// system), its relationships, the style sheet's number formats (as
// excelize's GetStyle classifies them), the shared strings and the chosen
// worksheet. Nothing is inflated to disk and no other part is read: opening
// the workbook with excelize, as this package once did, inflated every part
// (the worksheet into a temporary file) before the first row, most of the
// time of a read. The worksheet is not read through excelize's
// Rows().Columns() either, because that returns only formatted strings: the
// importer needs each cell's type, its exact raw value and its number
// format (date, percent, zero padding), which the string loses (a date
// shows as "03-15-26", 1234.5678 as "1,234.57"). Shared strings are held
// once in memory, bounded by Limits.MaxSharedStringsBytes.
//
// Cells are interpreted lazily: Cell.Text, Cell.Decimal (exact, never
// through float64), Cell.Percent and Cell.Date.
//
// Writing streams too: an xlsx through excelize's StreamWriter, CSV through
// encoding/csv. Required columns are marked in the header row with a trailing
// " *" (and bold in xlsx); importers normalise headers by dropping
// punctuation, so "code *" still matches "code". CSV is written as UTF-8 with
// a byte order mark, which Excel needs to read UTF-8 CSV correctly; the
// reader drops it.
//
// Formula injection: a text value beginning with '=', '+', '-', '@', a tab or
// a carriage return is written with a leading apostrophe (EscapeFormula), in
// CSV and xlsx alike, so no spreadsheet evaluates it. The reader undoes it
// (UnescapeFormula) for string cells and CSV fields, so an export imports
// back to its original values. The escape is reversible without ambiguity: a
// value that itself starts with an apostrophe followed by one of those
// characters or another apostrophe is escaped too.
package xlsx

import (
	"errors"
	"fmt"
)

// Format is a spreadsheet file format this package reads and writes.
type Format int

// The formats Detect recognises as readable.
const (
	FormatUnknown Format = iota
	FormatXLSX
	FormatCSV
)

// String returns the format's short name ("xlsx", "csv").
func (f Format) String() string {
	switch f {
	case FormatXLSX:
		return "xlsx"
	case FormatCSV:
		return "csv"
	default:
		return "unknown"
	}
}

// ContentType returns the MIME type of files in the format.
func (f Format) ContentType() string {
	switch f {
	case FormatXLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case FormatCSV:
		return "text/csv; charset=utf-8"
	default:
		return "application/octet-stream"
	}
}

// Limits bound what reading one file may cost. The zero value of a field
// means its default (DefaultLimits).
type Limits struct {
	// MaxUnzippedBytes bounds the declared uncompressed size of all the
	// parts of an xlsx together.
	MaxUnzippedBytes int64
	// MaxXMLBytes bounds the total size of the parts other than
	// worksheets and shared strings larger than SpillXMLBytes (workbook,
	// styles, small sheets, ...): a workbook that needs more is refused.
	MaxXMLBytes int64
	// MaxSharedStringsBytes bounds the text of the shared strings table,
	// which this package keeps in memory.
	MaxSharedStringsBytes int64
	// MaxCompressionRatio refuses a part whose declared uncompressed size
	// is more than this many times its compressed size (a zip bomb); parts
	// under 1 MiB are not checked. Negative disables the check.
	MaxCompressionRatio int64
	// MaxRows bounds the row number (the header is row 1).
	MaxRows int
	// MaxColumns bounds the column number of any non-empty cell.
	MaxColumns int
	// MaxCellBytes bounds the length of one cell's text in bytes.
	MaxCellBytes int
}

// Default limits: Excel's own sheet limits for rows and cell length.
const (
	DefaultMaxUnzippedBytes      = 1 << 30
	DefaultMaxXMLBytes           = 64 << 20
	DefaultMaxSharedStringsBytes = 96 << 20
	DefaultMaxCompressionRatio   = 400
	DefaultMaxRows               = 1_048_576
	DefaultMaxColumns            = 200
	DefaultMaxCellBytes          = 32_767
	// SpillXMLBytes is the size above which worksheet and shared strings
	// parts are not counted against MaxXMLBytes (they are read as
	// streams).
	SpillXMLBytes = 4 << 20
)

// DefaultLimits returns the limits used for every zero field of Limits.
func DefaultLimits() Limits {
	return Limits{
		MaxUnzippedBytes:      DefaultMaxUnzippedBytes,
		MaxXMLBytes:           DefaultMaxXMLBytes,
		MaxSharedStringsBytes: DefaultMaxSharedStringsBytes,
		MaxCompressionRatio:   DefaultMaxCompressionRatio,
		MaxRows:               DefaultMaxRows,
		MaxColumns:            DefaultMaxColumns,
		MaxCellBytes:          DefaultMaxCellBytes,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxUnzippedBytes <= 0 {
		l.MaxUnzippedBytes = d.MaxUnzippedBytes
	}
	if l.MaxXMLBytes <= 0 {
		l.MaxXMLBytes = d.MaxXMLBytes
	}
	if l.MaxSharedStringsBytes <= 0 {
		l.MaxSharedStringsBytes = d.MaxSharedStringsBytes
	}
	if l.MaxCompressionRatio == 0 {
		l.MaxCompressionRatio = d.MaxCompressionRatio
	}
	if l.MaxRows <= 0 {
		l.MaxRows = d.MaxRows
	}
	if l.MaxColumns <= 0 {
		l.MaxColumns = d.MaxColumns
	}
	if l.MaxCellBytes <= 0 {
		l.MaxCellBytes = d.MaxCellBytes
	}
	return l
}

// Options configure Open.
type Options struct {
	// Limits bound the read; zero fields take their defaults.
	Limits Limits
	// Sheet names the sheet to read; empty reads the first visible sheet.
	Sheet string
	// TempDir is kept for callers' compatibility: reading no longer
	// writes temporary files.
	TempDir string
}

// The limits a LimitError names (LimitError.Limit).
const (
	LimitUnzippedBytes      = "unzipped_bytes"
	LimitXMLBytes           = "xml_bytes"
	LimitSharedStringsBytes = "shared_strings_bytes"
	LimitCompressionRatio   = "compression_ratio"
	LimitRows               = "rows"
	LimitColumns            = "columns"
	LimitCellBytes          = "cell_bytes"
)

// LimitError reports a file over one of the Limits. Row and Column are the
// 1-based position where it was found, or 0 when the limit is about the
// whole file. Callers answer 413 for the size limits and 422 for the others
// (IsSizeLimit tells which).
type LimitError struct {
	Limit  string
	Max    int64
	Row    int
	Column int
}

func (e *LimitError) Error() string {
	switch e.Limit {
	case LimitUnzippedBytes:
		return fmt.Sprintf("the workbook unzips to more than %d bytes", e.Max)
	case LimitXMLBytes:
		return fmt.Sprintf("the workbook's parts held in memory exceed %d bytes", e.Max)
	case LimitSharedStringsBytes:
		return fmt.Sprintf("the workbook's shared strings exceed %d bytes", e.Max)
	case LimitCompressionRatio:
		return fmt.Sprintf("a part of the workbook is compressed more than %d times (a zip bomb)", e.Max)
	case LimitRows:
		return fmt.Sprintf("row %d is past the limit of %d rows", e.Row, e.Max)
	case LimitColumns:
		return fmt.Sprintf("row %d has a value in column %d, past the limit of %d columns", e.Row, e.Column, e.Max)
	case LimitCellBytes:
		return fmt.Sprintf("the cell at row %d, column %d is longer than %d bytes", e.Row, e.Column, e.Max)
	default:
		return fmt.Sprintf("limit %s of %d exceeded", e.Limit, e.Max)
	}
}

// IsSizeLimit reports whether the limit is about the file's size (413
// Content Too Large) rather than its shape (422).
func (e *LimitError) IsSizeLimit() bool {
	switch e.Limit {
	case LimitUnzippedBytes, LimitXMLBytes, LimitSharedStringsBytes, LimitCompressionRatio:
		return true
	}
	return false
}

// The formats a FormatError names (FormatError.Format).
const (
	RefusedXLS           = "xls"
	RefusedEncrypted     = "encrypted_xlsx"
	RefusedOLE           = "encrypted_or_legacy_excel"
	RefusedODS           = "ods"
	RefusedNumbers       = "numbers"
	RefusedZip           = "zip"
	RefusedPDF           = "pdf"
	RefusedHTML          = "html"
	RefusedSpreadsheetML = "spreadsheetml_2003"
	RefusedXML           = "xml"
	RefusedBinary        = "binary"
	RefusedEmpty         = "empty"
)

// FormatError refuses a file that is not xlsx or CSV, naming what it is.
// Callers answer 415 with Error() as the detail.
type FormatError struct {
	// Format is one of the Refused... names.
	Format string
}

func (e *FormatError) Error() string {
	var what string
	switch e.Format {
	case RefusedXLS:
		what = "an Excel 97-2003 workbook (.xls)"
	case RefusedEncrypted:
		what = "a password-protected (encrypted) Excel workbook"
	case RefusedOLE:
		what = "an encrypted or legacy (.xls) Excel workbook"
	case RefusedODS:
		what = "an OpenDocument spreadsheet (.ods)"
	case RefusedNumbers:
		what = "an Apple Numbers document (.numbers)"
	case RefusedZip:
		what = "a zip archive that is not an xlsx workbook"
	case RefusedPDF:
		what = "a PDF document"
	case RefusedHTML:
		what = "an HTML page"
	case RefusedSpreadsheetML:
		what = "an Excel 2003 XML spreadsheet"
	case RefusedXML:
		what = "an XML document"
	case RefusedEmpty:
		what = "empty"
	default:
		what = "a binary file that is neither xlsx nor CSV text"
	}
	return "the file is " + what + "; upload .xlsx or .csv (save it as an Excel workbook without a password, or as CSV UTF-8)"
}

// CorruptError reports a file of a supported format that cannot be read:
// a truncated zip, malformed XML, a missing part. Callers answer 422.
type CorruptError struct {
	Err error
}

func (e *CorruptError) Error() string { return "the file is damaged: " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *CorruptError) Unwrap() error { return e.Err }

// EncodingError reports CSV text that is not valid in its encoding, naming
// the row (record number, header = 1) where it turned invalid.
type EncodingError struct {
	Row      int
	Encoding string
}

func (e *EncodingError) Error() string {
	return fmt.Sprintf("row %d is not valid %s text; save the file as CSV UTF-8", e.Row, e.Encoding)
}

// ErrNoRows reports a sheet that yields no rows at all (an empty sheet, or
// malformed XML that reads as empty): never a silent success.
var ErrNoRows = errors.New("the sheet has no rows")

// ErrSheetNotFound reports that Options.Sheet names no sheet of the
// workbook, or that the workbook has no visible worksheet.
var ErrSheetNotFound = errors.New("sheet not found")
