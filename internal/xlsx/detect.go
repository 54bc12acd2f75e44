package xlsx

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// DetectSize is how many leading bytes of a file Detect looks at.
const DetectSize = 64 << 10

var (
	sigZip   = []byte("PK\x03\x04")
	sigEmpty = []byte("PK\x05\x06") // an empty zip: only the end record
	sigCFB   = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	sigPDF   = []byte("%PDF-")
	bomUTF8  = []byte{0xEF, 0xBB, 0xBF}
	// The names of the streams of an encrypted OOXML package inside its
	// OLE compound file, as UTF-16LE directory entries.
	cfbEncryptionInfo = utf16le("EncryptionInfo")
	cfbWorkbook       = utf16le("Workbook")
	cfbBook           = utf16le("Book")
)

func utf16le(s string) []byte {
	b := make([]byte, 0, 2*len(s))
	for _, r := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(r))
	}
	return b
}

// Detect tells the format of a file by its first bytes (up to DetectSize;
// more are ignored): FormatXLSX for a zip holding xlsx parts, FormatCSV for
// text (UTF-8 with or without BOM, UTF-16 with BOM). Any other content is a
// *FormatError naming it. A zip is only sure to be xlsx once its central
// directory has been read: DetectFile and Open do that.
func Detect(head []byte) (Format, error) {
	if len(head) > DetectSize {
		head = head[:DetectSize]
	}
	switch {
	case len(head) == 0:
		return FormatUnknown, &FormatError{Format: RefusedEmpty}
	case bytes.HasPrefix(head, sigZip):
		return detectZipHead(head)
	case bytes.HasPrefix(head, sigEmpty):
		return FormatUnknown, &FormatError{Format: RefusedZip}
	case bytes.HasPrefix(head, sigCFB):
		return FormatUnknown, &FormatError{Format: detectCFB(head)}
	case bytes.HasPrefix(head, sigPDF):
		return FormatUnknown, &FormatError{Format: RefusedPDF}
	}
	if detectUTF16(head) != "" {
		return FormatCSV, nil
	}
	text := bytes.TrimPrefix(head, bomUTF8)
	if bytes.IndexByte(text, 0) >= 0 {
		return FormatUnknown, &FormatError{Format: RefusedBinary}
	}
	if k := markupKind(text); k != "" {
		return FormatUnknown, &FormatError{Format: k}
	}
	if !looksLikeText(text) {
		return FormatUnknown, &FormatError{Format: RefusedBinary}
	}
	return FormatCSV, nil
}

// DetectFile is Detect with the certainty only the whole file gives: a zip
// must hold [Content_Types].xml and an xl/workbook part to be xlsx, and an
// OLE compound file is told apart (encrypted xlsx or xls) by its stream
// names wherever its directory sits.
func DetectFile(path string) (Format, error) {
	fh, err := os.Open(path)
	if err != nil {
		return FormatUnknown, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return FormatUnknown, err
	}
	return DetectReaderAt(fh, st.Size())
}

// DetectReaderAt is DetectFile over an io.ReaderAt of the given size.
func DetectReaderAt(r io.ReaderAt, size int64) (Format, error) {
	head := make([]byte, min(size, DetectSize))
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return FormatUnknown, err
	}
	f, err := Detect(head)
	var fe *FormatError
	switch {
	case bytes.HasPrefix(head, sigZip):
		zr, zerr := zip.NewReader(r, size)
		if zerr != nil {
			if err != nil {
				return FormatUnknown, err
			}
			return FormatUnknown, &CorruptError{Err: zerr}
		}
		return classifyZip(zr.File)
	case bytes.HasPrefix(head, sigCFB) && asFormatError(err, &fe) && fe.Format == RefusedOLE:
		return FormatUnknown, &FormatError{Format: scanCFB(io.NewSectionReader(r, 0, size))}
	}
	return f, err
}

func asFormatError(err error, target **FormatError) bool {
	fe, ok := err.(*FormatError)
	if ok {
		*target = fe
	}
	return ok
}

// classifyZip names a zip by its entries.
func classifyZip(files []*zip.File) (Format, error) {
	var contentTypes, workbook, odsMime, odsContent, numbers bool
	for _, f := range files {
		lower := strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(f.Name, "\\", "/"), "/"))
		switch {
		case lower == "[content_types].xml":
			contentTypes = true
		case strings.HasPrefix(lower, "xl/workbook"):
			workbook = true
		case lower == "mimetype":
			if rc, err := f.Open(); err == nil {
				b := make([]byte, 64)
				n, _ := io.ReadFull(rc, b)
				rc.Close()
				odsMime = bytes.Contains(b[:n], []byte("opendocument"))
			}
		case lower == "content.xml":
			odsContent = true
		case strings.HasPrefix(lower, "index/") || strings.HasPrefix(lower, "metadata/") ||
			lower == "index.zip" || strings.HasSuffix(lower, ".iwa"):
			numbers = true
		}
	}
	switch {
	case contentTypes && workbook:
		return FormatXLSX, nil
	case odsMime || (odsContent && !contentTypes):
		return FormatUnknown, &FormatError{Format: RefusedODS}
	case numbers:
		return FormatUnknown, &FormatError{Format: RefusedNumbers}
	default:
		return FormatUnknown, &FormatError{Format: RefusedZip}
	}
}

// detectZipHead reads the local file headers present in head.
func detectZipHead(head []byte) (Format, error) {
	var names []string
	for off := 0; off+30 <= len(head) && bytes.Equal(head[off:off+4], sigZip); {
		flags := binary.LittleEndian.Uint16(head[off+6:])
		csize := int(binary.LittleEndian.Uint32(head[off+18:]))
		nlen := int(binary.LittleEndian.Uint16(head[off+26:]))
		elen := int(binary.LittleEndian.Uint16(head[off+28:]))
		if off+30+nlen > len(head) {
			break
		}
		name := string(head[off+30 : off+30+nlen])
		names = append(names, name)
		if strings.EqualFold(name, "mimetype") {
			data := head[off+30+nlen+elen : min(len(head), off+30+nlen+elen+64)]
			if bytes.Contains(data, []byte("opendocument")) {
				return FormatUnknown, &FormatError{Format: RefusedODS}
			}
		}
		if flags&0x08 != 0 {
			break // sizes follow the data: the next header cannot be found here
		}
		off += 30 + nlen + elen + csize
	}
	for _, n := range names {
		l := strings.ToLower(n)
		if l == "[content_types].xml" || strings.HasPrefix(l, "xl/") {
			return FormatXLSX, nil
		}
	}
	for _, n := range names {
		l := strings.ToLower(n)
		if strings.HasPrefix(l, "index/") || strings.HasPrefix(l, "metadata/") || strings.HasSuffix(l, ".iwa") {
			return FormatUnknown, &FormatError{Format: RefusedNumbers}
		}
		if l == "content.xml" || l == "meta.xml" || l == "meta-inf/manifest.xml" {
			return FormatUnknown, &FormatError{Format: RefusedODS}
		}
	}
	if len(names) == 0 {
		return FormatUnknown, &FormatError{Format: RefusedZip}
	}
	// The first entries say nothing yet (some writers put the xlsx parts
	// last): the central directory decides (DetectFile, Open).
	return FormatXLSX, nil
}

func detectCFB(head []byte) string {
	switch {
	case bytes.Contains(head, cfbEncryptionInfo):
		return RefusedEncrypted
	case bytes.Contains(head, cfbWorkbook) || bytes.Contains(head, cfbBook):
		return RefusedXLS
	}
	return RefusedOLE
}

// scanCFB looks through a whole compound file for its stream names.
func scanCFB(r io.Reader) string {
	buf := make([]byte, 1<<20)
	const overlap = 64
	keep := 0
	for {
		n, err := io.ReadFull(r, buf[keep:])
		chunk := buf[:keep+n]
		if k := detectCFB(chunk); k != RefusedOLE {
			return k
		}
		if err != nil {
			return RefusedOLE
		}
		keep = copy(buf, chunk[len(chunk)-overlap:])
	}
}

// detectUTF16 names UTF-16 text by its byte order mark, or returns "".
func detectUTF16(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return "UTF-16LE"
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return "UTF-16BE"
	}
	return ""
}

// markupKind names markup text (HTML, Excel 2003 XML) or returns "" for
// text that is not markup.
func markupKind(text []byte) string {
	t := bytes.ToLower(bytes.TrimLeft(text, " \t\r\n"))
	if len(t) == 0 || t[0] != '<' {
		return ""
	}
	if bytes.Contains(t, []byte("urn:schemas-microsoft-com:office:spreadsheet")) ||
		bytes.Contains(t, []byte("progid=\"excel.sheet\"")) {
		return RefusedSpreadsheetML
	}
	if bytes.Contains(t, []byte("<html")) || bytes.HasPrefix(t, []byte("<!doctype html")) ||
		bytes.Contains(t, []byte("<table")) || bytes.Contains(t, []byte("<body")) || bytes.Contains(t, []byte("<head")) {
		return RefusedHTML
	}
	if bytes.HasPrefix(t, []byte("<?xml")) || bytes.HasPrefix(t, []byte("<!")) {
		return RefusedXML
	}
	// A CSV whose first field starts with '<' is unusual but possible.
	return ""
}

// looksLikeText accepts UTF-8 and single-byte text; the CSV reader reports
// the row where an encoding turns invalid, so here only control bytes that
// never appear in text refuse the file.
func looksLikeText(b []byte) bool {
	control := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' {
			control++
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		_, size := utf8.DecodeRune(b[i:])
		i += size
	}
	return control*100 <= len(b) // at most 1% control bytes
}
