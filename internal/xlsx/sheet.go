package xlsx

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// maxXMLRun bounds a text node or tag in a worksheet or shared strings part
// (see runLimiter).
const maxXMLRun = 1 << 20

// sheetSource streams the rows of one worksheet part.
type sheetSource struct {
	file   *os.File
	part   io.ReadCloser
	dec    *xml.Decoder
	lim    Limits
	sst    []string
	styles []*numFormat // by style id, filled as met
	// sheetStyles is the style sheet's number formats (readStyles).
	sheetStyles sheetStyles
	date1904    bool

	inSheetData bool
	lastRow     int
	cells       []Cell
	text        []byte
}

type xmlRel struct {
	ID     string `xml:"Id,attr"`
	Type   string `xml:"Type,attr"`
	Target string `xml:"Target,attr"`
}

type xmlRels struct {
	Rels []xmlRel `xml:"Relationship"`
}

type xmlWorkbook struct {
	WorkbookPr *struct {
		Date1904 string `xml:"date1904,attr"`
	} `xml:"workbookPr"`
	Sheets []struct {
		Name  string     `xml:"name,attr"`
		State string     `xml:"state,attr"`
		Attrs []xml.Attr `xml:",any,attr"`
	} `xml:"sheets>sheet"`
}

// relID returns a sheet's r:id, whichever relationships namespace
// (transitional or strict) the workbook uses.
func relID(attrs []xml.Attr) string {
	for _, a := range attrs {
		if a.Name.Local == "id" && a.Name.Space != "" {
			return a.Value
		}
	}
	return ""
}

// openSheet checks the zip against the limits, reads the workbook's
// sheets and their relationships, and positions a stream on the chosen
// worksheet.
func openSheet(fh *os.File, opts Options) (rowSource, error) {
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(fh, st.Size())
	if err != nil {
		return nil, &CorruptError{Err: err}
	}
	if _, err := classifyZip(zr.File); err != nil {
		return nil, err
	}
	lim := opts.Limits
	if err := checkZipLimits(zr.File, lim); err != nil {
		return nil, err
	}
	parts := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		parts[strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(f.Name, "\\", "/"), "/"))] = f
	}
	var wb xmlWorkbook
	var rels xmlRels
	wbPart := parts["xl/workbook.xml"]
	if wbPart == nil {
		return nil, &CorruptError{Err: errors.New("no xl/workbook.xml part")}
	}
	if err := unmarshalPart(wbPart, &wb); err != nil {
		return nil, &CorruptError{Err: fmt.Errorf("xl/workbook.xml: %w", err)}
	}
	if p := parts["xl/_rels/workbook.xml.rels"]; p != nil {
		if err := unmarshalPart(p, &rels); err != nil {
			return nil, &CorruptError{Err: fmt.Errorf("xl/_rels/workbook.xml.rels: %w", err)}
		}
	}
	target := func(rid string) string {
		for _, r := range rels.Rels {
			if r.ID == rid && rid != "" {
				t := strings.ReplaceAll(r.Target, "\\", "/")
				if strings.HasPrefix(t, "/") {
					return strings.ToLower(strings.TrimPrefix(t, "/"))
				}
				return strings.ToLower(path.Clean("xl/" + t))
			}
		}
		return ""
	}
	var sheetPart *zip.File
	for _, s := range wb.Sheets {
		if opts.Sheet != "" && !strings.EqualFold(strings.TrimSpace(s.Name), strings.TrimSpace(opts.Sheet)) {
			continue
		}
		if opts.Sheet == "" && s.State != "" && s.State != "visible" {
			continue
		}
		rid := relID(s.Attrs)
		if p := parts[target(rid)]; p != nil && isWorksheetRel(rels, rid) {
			sheetPart = p
			break
		}
		if opts.Sheet != "" {
			break // a chart sheet or a dangling sheet
		}
	}
	if sheetPart == nil {
		return nil, ErrSheetNotFound
	}
	sstPart := parts["xl/sharedstrings.xml"]
	for _, r := range rels.Rels {
		if strings.HasSuffix(r.Type, "/sharedStrings") {
			if p := parts[target(r.ID)]; p != nil {
				sstPart = p
			}
		}
	}
	stylesPart := parts["xl/styles.xml"]
	for _, r := range rels.Rels {
		if strings.HasSuffix(r.Type, "/styles") {
			if p := parts[target(r.ID)]; p != nil {
				stylesPart = p
			}
		}
	}

	// Only the parts read here are inflated, each as a stream: the
	// workbook and its relationships (above), the style sheet's number
	// formats, the shared strings and the worksheet. (Opening the
	// workbook with excelize inflated every part, the worksheet into a
	// temporary file, before a row was read: most of the time of a read.)
	// checkZipLimits has bounded every part by the directory's sizes,
	// which archive/zip holds each part to.
	src := &sheetSource{file: fh, lim: lim}
	if wb.WorkbookPr != nil {
		src.date1904 = xmlTrue(wb.WorkbookPr.Date1904)
	}
	if stylesPart != nil {
		if src.sheetStyles, err = readStyles(stylesPart); err != nil {
			src.close()
			return nil, err
		}
	}
	if sstPart != nil {
		if src.sst, err = readSharedStrings(sstPart, lim); err != nil {
			src.close()
			return nil, err
		}
	}
	if src.part, err = sheetPart.Open(); err != nil {
		src.close()
		return nil, &CorruptError{Err: err}
	}
	src.dec = xml.NewDecoder(&runLimiter{r: bufio.NewReaderSize(src.part, 64<<10), max: maxXMLRun})
	return src, nil
}

// isWorksheetRel tells whether the relationship is a worksheet's (not a
// chart sheet's or a dialog sheet's).
func isWorksheetRel(rels xmlRels, rid string) bool {
	for _, r := range rels.Rels {
		if r.ID == rid {
			return strings.HasSuffix(r.Type, "/worksheet")
		}
	}
	return false
}

// checkZipLimits refuses, from the zip's directory alone, a workbook that
// unzips too large, holds too much in memory or hides a zip bomb.
func checkZipLimits(files []*zip.File, lim Limits) error {
	var total, inMemory uint64
	for _, f := range files {
		size := f.UncompressedSize64
		total += size
		if total > uint64(lim.MaxUnzippedBytes) {
			return &LimitError{Limit: LimitUnzippedBytes, Max: lim.MaxUnzippedBytes}
		}
		if lim.MaxCompressionRatio > 0 && size > 1<<20 &&
			size/max(f.CompressedSize64, 1) > uint64(lim.MaxCompressionRatio) {
			return &LimitError{Limit: LimitCompressionRatio, Max: lim.MaxCompressionRatio}
		}
		// The parts excelize keeps in memory: all but worksheets and
		// shared strings over the spill size.
		name := strings.ToLower(strings.ReplaceAll(f.Name, "\\", "/"))
		spills := size > SpillXMLBytes &&
			(strings.HasPrefix(name, "xl/worksheets/sheet") || name == "xl/sharedstrings.xml")
		if !spills {
			inMemory += size
			if inMemory > uint64(lim.MaxXMLBytes) {
				return &LimitError{Limit: LimitXMLBytes, Max: lim.MaxXMLBytes}
			}
		}
	}
	return nil
}

func unmarshalPart(f *zip.File, v any) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return xml.NewDecoder(&runLimiter{r: rc, max: maxXMLRun}).Decode(v)
}

// readSharedStrings reads the shared strings table: the text of each <si>
// (its <t> and rich-text runs; phonetic runs left out).
func readSharedStrings(f *zip.File, lim Limits) ([]string, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, &CorruptError{Err: err}
	}
	defer rc.Close()
	dec := xml.NewDecoder(&runLimiter{r: bufio.NewReaderSize(rc, 64<<10), max: maxXMLRun})
	var (
		out         []string
		buf         []byte
		inSI, inT   bool
		phonetic    int
		total       int64
		uniqueCount = -1
	)
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, &CorruptError{Err: fmt.Errorf("shared strings: %w", err)}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "sst":
				for _, a := range t.Attr {
					if a.Name.Local == "uniqueCount" {
						uniqueCount, _ = strconv.Atoi(a.Value)
					}
				}
				if uniqueCount > 0 && uniqueCount < 1<<22 {
					out = make([]string, 0, uniqueCount)
				}
			case "si":
				inSI, buf = true, buf[:0]
			case "rPh":
				phonetic++
			case "t":
				inT = inSI && phonetic == 0
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				total += int64(len(buf))
				if total > lim.MaxSharedStringsBytes {
					return nil, &LimitError{Limit: LimitSharedStringsBytes, Max: lim.MaxSharedStringsBytes}
				}
				out = append(out, string(buf))
				inSI = false
			case "rPh":
				phonetic--
			case "t":
				inT = false
			}
		case xml.CharData:
			if inT {
				buf = append(buf, t...)
			}
		}
	}
}

func (s *sheetSource) close() error {
	var errs []error
	if s.part != nil {
		errs = append(errs, s.part.Close())
		s.part = nil
	}
	if s.file != nil {
		errs = append(errs, s.file.Close())
		s.file = nil
	}
	return errors.Join(errs...)
}

func (s *sheetSource) corrupt(err error) error {
	if errors.Is(err, errRunTooLong) {
		return &CorruptError{Err: fmt.Errorf("after row %d: %w", s.lastRow, err)}
	}
	return &CorruptError{Err: fmt.Errorf("worksheet after row %d: %w", s.lastRow, err)}
}

func (s *sheetSource) next() (int, []Cell, bool, error) {
	for {
		tok, err := s.dec.RawToken()
		if err == io.EOF {
			if !s.inSheetData {
				return 0, nil, false, &CorruptError{Err: errors.New("the worksheet has no sheetData")}
			}
			return 0, nil, false, nil
		}
		if err != nil {
			return 0, nil, false, s.corrupt(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !s.inSheetData {
				s.inSheetData = t.Name.Local == "sheetData"
				continue
			}
			if t.Name.Local != "row" {
				continue
			}
			row := s.lastRow + 1
			for _, a := range t.Attr {
				if a.Name.Local == "r" {
					n, err := strconv.Atoi(a.Value)
					if err != nil || n <= s.lastRow {
						return 0, nil, false, s.corrupt(fmt.Errorf("bad row number %q", a.Value))
					}
					row = n
				}
			}
			if row > s.lim.MaxRows {
				return 0, nil, false, &LimitError{Limit: LimitRows, Max: int64(s.lim.MaxRows), Row: row}
			}
			s.lastRow = row
			cells, err := s.readRow(row)
			if err != nil {
				return 0, nil, false, err
			}
			if len(cells) > 0 {
				return row, cells, true, nil
			}
		case xml.EndElement:
			if s.inSheetData && t.Name.Local == "sheetData" {
				return 0, nil, false, nil
			}
		}
	}
}

// readRow reads the cells of the row whose start tag was just read.
func (s *sheetSource) readRow(row int) ([]Cell, error) {
	cells := s.cells[:0]
	col := 0
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, s.corrupt(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "c" {
				continue
			}
			var ref, typ string
			style := 0
			for _, a := range t.Attr {
				switch a.Name.Local {
				case "r":
					ref = a.Value
				case "t":
					typ = a.Value
				case "s":
					style, _ = strconv.Atoi(a.Value)
				}
			}
			if ref != "" {
				c, ok := columnOf(ref)
				if !ok {
					return nil, s.corrupt(fmt.Errorf("bad cell reference %q", ref))
				}
				col = c
			} else {
				col++
			}
			cell, err := s.readCell(typ, style, row, col)
			if err != nil {
				return nil, err
			}
			if cell.Type == CellEmpty {
				continue
			}
			if col > s.lim.MaxColumns {
				return nil, &LimitError{Limit: LimitColumns, Max: int64(s.lim.MaxColumns), Row: row, Column: col}
			}
			for len(cells) < col {
				cells = append(cells, Cell{})
			}
			cells[col-1] = cell
		case xml.EndElement:
			if t.Name.Local == "row" {
				s.cells = cells
				return trimRow(cells), nil
			}
		}
	}
}

// columnOf returns the column number of a cell reference ("AB12" → 28).
func columnOf(ref string) (int, bool) {
	col := 0
	i := 0
	for ; i < len(ref); i++ {
		c := ref[i] | 0x20
		if c < 'a' || c > 'z' {
			break
		}
		col = col*26 + int(c-'a'+1)
		if col > excelize.MaxColumns {
			return 0, false
		}
	}
	return col, i > 0
}

// readCell reads a <c> element's content and makes the cell.
func (s *sheetSource) readCell(typ string, style, row, col int) (Cell, error) {
	s.text = s.text[:0]
	var hasV, hasF, inV, inIS, inT bool
	phonetic := 0
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return Cell{}, s.corrupt(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "v":
				inV, hasV = true, true
			case "f":
				hasF = true
			case "is":
				inIS = true
			case "rPh":
				phonetic++
			case "t":
				inT = inIS && phonetic == 0
				hasV = hasV || inT
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v":
				inV = false
			case "t":
				inT = false
			case "is":
				inIS = false
			case "rPh":
				phonetic--
			case "c":
				return s.makeCell(typ, style, hasV, hasF, row, col)
			}
		case xml.CharData:
			if inV || inT {
				s.text = append(s.text, t...)
				if len(s.text) > s.lim.MaxCellBytes {
					return Cell{}, &LimitError{Limit: LimitCellBytes, Max: int64(s.lim.MaxCellBytes), Row: row, Column: col}
				}
			}
		}
	}
}

func (s *sheetSource) makeCell(typ string, style int, hasV, hasF bool, row, col int) (Cell, error) {
	if !hasV || (len(s.text) == 0 && typ != "s" && typ != "inlineStr" && typ != "str") {
		if hasF {
			return Cell{Type: CellFormulaNoValue, Formula: true}, nil
		}
		return Cell{}, nil
	}
	c := Cell{Formula: hasF}
	switch typ {
	case "s":
		i, err := strconv.Atoi(string(s.text))
		if err != nil || i < 0 || i >= len(s.sst) {
			return Cell{}, s.corrupt(fmt.Errorf("cell %s%d: shared string %q out of range", colName(col), row, s.text))
		}
		if len(s.sst[i]) > s.lim.MaxCellBytes {
			return Cell{}, &LimitError{Limit: LimitCellBytes, Max: int64(s.lim.MaxCellBytes), Row: row, Column: col}
		}
		return stringCell(s.sst[i], hasF), nil
	case "inlineStr", "str":
		if len(s.text) == 0 {
			if hasF {
				return Cell{Type: CellString, Formula: true}, nil
			}
			return Cell{}, nil
		}
		return stringCell(string(s.text), hasF), nil
	case "b":
		c.Type, c.Raw = CellBool, "FALSE"
		if string(s.text) == "1" || strings.EqualFold(string(s.text), "true") {
			c.Raw = "TRUE"
		}
		return c, nil
	case "e":
		c.Type, c.Raw = CellError, string(s.text)
		return c, nil
	case "d":
		c.Type, c.Raw = CellDate, string(s.text)
		c.format = &numFormat{kind: fmtDate}
		return c, nil
	}
	c.Type, c.Raw, c.Date1904 = CellNumber, string(s.text), s.date1904
	if _, err := strconv.ParseFloat(c.Raw, 64); err != nil {
		return Cell{}, s.corrupt(fmt.Errorf("cell %s%d: bad number %q", colName(col), row, c.Raw))
	}
	if style > 0 {
		nf := s.numFormat(style)
		switch nf.kind {
		case fmtDate:
			c.Type = CellDate
		case fmtPercent:
			c.Percent = true
		}
		if nf.kind != fmtGeneral {
			c.format = nf
		}
	}
	return c, nil
}

func stringCell(v string, formula bool) Cell {
	if v == "" {
		if formula {
			return Cell{Type: CellString, Formula: true}
		}
		return Cell{}
	}
	return Cell{Type: CellString, Raw: UnescapeFormula(v), Formula: formula}
}

var generalFormat = &numFormat{kind: fmtGeneral}

// numFormat returns (and caches) the number format of a style id.
func (s *sheetSource) numFormat(style int) *numFormat {
	if style < 0 || style > 65535 {
		return generalFormat
	}
	if style < len(s.styles) && s.styles[style] != nil {
		return s.styles[style]
	}
	for len(s.styles) <= style {
		s.styles = append(s.styles, nil)
	}
	nf := s.lookupNumFormat(style)
	s.styles[style] = nf
	return nf
}

// lookupNumFormat classifies a style id's number format as excelize's
// GetStyle reads it: a built-in id (or a locale one) is the built-in
// format whatever numFmts says, another id is numFmts' code for it, and
// an unknown id or style is General.
func (s *sheetSource) lookupNumFormat(style int) *numFormat {
	st := s.sheetStyles
	if style >= len(st.xfs) || st.xfs[style] < 0 {
		return generalFormat
	}
	id := st.xfs[style]
	var f numFormat
	if builtinNumFmtID(id) {
		f = builtinNumFmt(id)
	} else if code, ok := st.codes[id]; ok {
		f = classifyNumFmt(code)
	} else {
		return generalFormat
	}
	return &f
}

// builtinNumFmtID tells the number format ids excelize treats as built in
// (its builtInNumFmt and isLangNumFmt).
func builtinNumFmtID(id int) bool {
	return (id >= 0 && id <= 4) || (id >= 9 && id <= 22) || (id >= 27 && id <= 62) || (id >= 67 && id <= 81)
}

// sheetStyles is what the reader needs of a style sheet: each cell
// style's (cellXfs) number format id, -1 when it has none, and the custom
// number formats' codes by id.
type sheetStyles struct {
	xfs   []int
	codes map[int]string
}

// maxStyles bounds the cell styles read (Excel allows 64,000).
const maxStyles = 65536

// readStyles reads the number formats (numFmts) and the cell styles'
// number format ids (cellXfs) of a style sheet part; anything else in it
// is skipped.
func readStyles(f *zip.File) (sheetStyles, error) {
	st := sheetStyles{codes: map[int]string{}}
	rc, err := f.Open()
	if err != nil {
		return st, &CorruptError{Err: err}
	}
	defer rc.Close()
	dec := xml.NewDecoder(&runLimiter{r: bufio.NewReaderSize(rc, 64<<10), max: maxXMLRun})
	var inNumFmts, inCellXfs bool
	depth := 0
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return st, nil
		}
		if err != nil {
			return st, &CorruptError{Err: fmt.Errorf("styles: %w", err)}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 2 && t.Name.Local == "numFmts":
				inNumFmts = true
			case depth == 2 && t.Name.Local == "cellXfs":
				inCellXfs = true
			case depth == 3 && inNumFmts && t.Name.Local == "numFmt":
				id, code := -1, ""
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "numFmtId":
						if n, err := strconv.Atoi(a.Value); err == nil && n >= 0 {
							id = n
						}
					case "formatCode":
						code = a.Value
					}
				}
				// The last definition of an id wins, as in excelize.
				if _, have := st.codes[id]; id >= 0 && (have || len(st.codes) < maxStyles) {
					st.codes[id] = code
				}
			case depth == 3 && inCellXfs && t.Name.Local == "xf":
				id := -1
				for _, a := range t.Attr {
					if a.Name.Local == "numFmtId" {
						if n, err := strconv.Atoi(a.Value); err == nil && n >= 0 {
							id = n
						}
					}
				}
				if len(st.xfs) < maxStyles {
					st.xfs = append(st.xfs, id)
				}
			}
		case xml.EndElement:
			if depth == 2 {
				inNumFmts, inCellXfs = false, false
			}
			depth--
		}
	}
}

// xmlTrue reads an xsd:boolean attribute.
func xmlTrue(v string) bool {
	v = strings.TrimSpace(v)
	return v == "1" || v == "true"
}

func colName(col int) string {
	n, err := excelize.ColumnNumberToName(col)
	if err != nil {
		return strconv.Itoa(col)
	}
	return n
}
