package xlsx

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// csvSource streams the records of a CSV file as rows: the record number
// is the row number (the header is 1), whatever newlines quoted fields hold.
type csvSource struct {
	file     *os.File
	r        *csv.Reader
	lim      Limits
	encoding string
	record   int
	cells    []Cell
}

// openCSV reads the byte order mark (UTF-8, UTF-16LE/BE), decodes UTF-16,
// and detects the delimiter (comma, semicolon or tab) from the first record.
func openCSV(fh *os.File, opts Options) (rowSource, error) {
	var in io.Reader = bufio.NewReaderSize(fh, 64<<10)
	br := in.(*bufio.Reader)
	bom, _ := br.Peek(3)
	encoding := "UTF-8"
	switch enc := detectUTF16(bom); {
	case enc == "UTF-16LE":
		in = transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
		encoding = enc
	case enc == "UTF-16BE":
		in = transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder())
		encoding = enc
	case bytes.HasPrefix(bom, bomUTF8):
		// Peek has just buffered these three bytes: Discard cannot fail.
		_, _ = br.Discard(3)
	}
	if encoding != "UTF-8" {
		br = bufio.NewReaderSize(in, 64<<10)
	}
	head, err := br.Peek(64 << 10)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, &CorruptError{Err: err}
	}
	comma := sniffDelimiter(head)
	// Excel's "sep=;" first line names the delimiter and is not a row.
	if sep, ok := sepLine(head); ok {
		comma = sep
		if _, err := br.ReadString('\n'); err != nil && err != io.EOF {
			return nil, &CorruptError{Err: err}
		}
	}
	r := csv.NewReader(br)
	r.Comma = comma
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	return &csvSource{file: fh, r: r, lim: opts.Limits, encoding: encoding}, nil
}

// sepLine reads Excel's "sep=X" delimiter line.
func sepLine(head []byte) (rune, bool) {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	if len(line) == 5 && bytes.EqualFold(line[:4], []byte("sep=")) && bytes.IndexByte([]byte(",;\t|"), line[4]) >= 0 {
		return rune(line[4]), true
	}
	return 0, false
}

// sniffDelimiter counts the candidate delimiters outside quotes in the first
// record and takes the most frequent (comma on a tie or none).
func sniffDelimiter(head []byte) rune {
	counts := map[byte]int{}
	inQuote := false
	for _, c := range head {
		if c == '"' {
			inQuote = !inQuote
			continue
		}
		if inQuote {
			continue
		}
		if c == '\n' {
			break
		}
		if c == ',' || c == ';' || c == '\t' {
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

func (s *csvSource) close() error {
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file = nil
	return err
}

func (s *csvSource) next() (int, []Cell, bool, error) {
	for {
		rec, err := s.r.Read()
		if err == io.EOF {
			return 0, nil, false, nil
		}
		s.record++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return 0, nil, false, &CorruptError{Err: fmt.Errorf("row %d (line %d): %w", s.record, pe.Line, pe.Err)}
			}
			return 0, nil, false, &CorruptError{Err: fmt.Errorf("row %d: %w", s.record, err)}
		}
		if s.record > s.lim.MaxRows {
			return 0, nil, false, &LimitError{Limit: LimitRows, Max: int64(s.lim.MaxRows), Row: s.record}
		}
		cells := s.cells[:0]
		for i, field := range rec {
			if !utf8.ValidString(field) {
				return 0, nil, false, &EncodingError{Row: s.record, Encoding: s.encoding}
			}
			if len(field) > s.lim.MaxCellBytes {
				return 0, nil, false, &LimitError{Limit: LimitCellBytes, Max: int64(s.lim.MaxCellBytes), Row: s.record, Column: i + 1}
			}
			if field != "" && i >= s.lim.MaxColumns {
				return 0, nil, false, &LimitError{Limit: LimitColumns, Max: int64(s.lim.MaxColumns), Row: s.record, Column: i + 1}
			}
			if field == "" {
				cells = append(cells, Cell{})
				continue
			}
			cells = append(cells, Cell{Type: CellString, Raw: UnescapeFormula(field)})
		}
		s.cells = cells
		if cells = trimRow(cells); len(cells) > 0 {
			return s.record, cells, true, nil
		}
	}
}
