package xlsx

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	ctXML     = `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`
	rootRels  = `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`
	workbook  = `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`
	wbRels    = `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`
	sheetHead = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	sheetTail = `</sheetData></worksheet>`
)

// writeZipFunc writes a minimal xlsx whose worksheet is written by sheet,
// compressed as hard as deflate can (as a zip bomb is).
func writeZipFunc(t testing.TB, dir, name string, sheet func(w io.Writer)) string {
	t.Helper()
	p := filepath.Join(dir, name)
	fh, err := os.Create(p)
	require.NoError(t, err)
	zw := zip.NewWriter(fh)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	for _, part := range []struct{ name, body string }{
		{"[Content_Types].xml", ctXML}, {"_rels/.rels", rootRels},
		{"xl/workbook.xml", workbook}, {"xl/_rels/workbook.xml.rels", wbRels},
	} {
		w, err := zw.Create(part.name)
		require.NoError(t, err)
		_, err = io.WriteString(w, part.body)
		require.NoError(t, err)
	}
	w, err := zw.Create("xl/worksheets/sheet1.xml")
	require.NoError(t, err)
	sheet(w)
	require.NoError(t, zw.Close())
	require.NoError(t, fh.Close())
	return p
}

func writeZip(t testing.TB, dir, name, sheetXML string) string {
	return writeZipFunc(t, dir, name, func(w io.Writer) {
		_, err := io.WriteString(w, sheetXML)
		require.NoError(t, err)
	})
}

// bounded runs fn and fails when it allocates more than maxAlloc bytes or
// takes longer than maxTime (generous: the machine is shared). The tests
// using it are not parallel, so the counters are theirs.
func bounded(t *testing.T, maxAlloc uint64, maxTime time.Duration, fn func()) {
	t.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	fn()
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d KiB in %v", alloc>>10, elapsed)
	require.LessOrEqual(t, alloc, maxAlloc, "allocated bytes")
	require.Less(t, elapsed, maxTime)
}

// openAndRead detects, opens and reads a file to its end, as the importer
// does, returning the first error.
func openAndRead(path string, opts Options) (rows int, err error) {
	f, err := DetectFile(path)
	if err != nil {
		return 0, err
	}
	r, err := Open(path, f, opts)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	for r.Next() {
		rows++
	}
	return rows, r.Err()
}

func TestDetectRefusesOtherFormats(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lo, err := os.ReadFile("testdata/lo-customers.xlsx")
	require.NoError(t, err)
	files := map[string][]byte{
		"html.xlsx":  []byte("<!DOCTYPE html>\n<html><body><table><tr><td>code</td></tr></table></body></html>"),
		"pdf.xlsx":   []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"),
		"bin.xlsx":   {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0},
		"empty.xlsx": {},
		"xml.xlsx":   []byte(`<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">`),
		"trunc.xlsx": lo[:len(lo)/2],
		"plain.xlsx": []byte(`<?xml version="1.0"?><customers><customer code="1"/></customers>`),
	}
	zipOf := func(names ...string) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for _, n := range names {
			w, err := zw.Create(n)
			require.NoError(t, err)
			_, err = io.WriteString(w, "x")
			require.NoError(t, err)
		}
		require.NoError(t, zw.Close())
		return b.Bytes()
	}
	files["other.xlsx"] = zipOf("readme.txt", "data/file.bin")
	files["numbers.xlsx"] = zipOf("Index/Document.iwa", "Metadata/Properties.plist")
	files["noworkbook.xlsx"] = zipOf("[Content_Types].xml", "docProps/app.xml")
	for name, b := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	tests := []struct {
		path    string
		refused string // "" = a *CorruptError
	}{
		{"testdata/lo-customers.xls", RefusedXLS},
		{"testdata/lo-customers.ods", RefusedODS},
		{"testdata/excelize-encrypted.xlsx", RefusedEncrypted},
		{filepath.Join(dir, "html.xlsx"), RefusedHTML},
		{filepath.Join(dir, "pdf.xlsx"), RefusedPDF},
		{filepath.Join(dir, "bin.xlsx"), RefusedBinary},
		{filepath.Join(dir, "empty.xlsx"), RefusedEmpty},
		{filepath.Join(dir, "xml.xlsx"), RefusedSpreadsheetML},
		{filepath.Join(dir, "other.xlsx"), RefusedZip},
		{filepath.Join(dir, "numbers.xlsx"), RefusedNumbers},
		{filepath.Join(dir, "noworkbook.xlsx"), RefusedZip},
		{filepath.Join(dir, "trunc.xlsx"), ""},
		{filepath.Join(dir, "plain.xlsx"), RefusedXML},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			f, err := DetectFile(tt.path)
			require.Equal(t, FormatUnknown, f)
			if tt.refused == "" {
				var ce *CorruptError
				require.ErrorAs(t, err, &ce)
				return
			}
			var fe *FormatError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tt.refused, fe.Format)
			require.Contains(t, fe.Error(), ".xlsx or .csv")
			// The head alone already tells, except for a zip whose
			// central directory decides.
			head, err := os.ReadFile(tt.path)
			require.NoError(t, err)
			if _, err := Detect(head); !strings.HasSuffix(tt.path, "other.xlsx") && !strings.HasSuffix(tt.path, "noworkbook.xlsx") {
				require.ErrorAs(t, err, &fe)
				require.Equal(t, tt.refused, fe.Format)
			}
			// Open refuses too, whatever format it is told.
			if _, err := Open(tt.path, FormatXLSX, Options{}); err == nil {
				t.Fatal("Open accepted a refused file")
			}
		})
	}
	// Accepted: xlsx by content, text as CSV (a .txt renamed .xlsx is
	// CSV by content: its header then decides in the importer).
	for path, want := range map[string]Format{
		"testdata/lo-customers.xlsx": FormatXLSX, "testdata/excelize-stream.xlsx": FormatXLSX,
		"testdata/lo-customers-utf16-tab.csv": FormatCSV, "testdata/bom-crlf.csv": FormatCSV,
		"testdata/latin1-row3.csv": FormatCSV,
	} {
		f, err := DetectFile(path)
		require.NoError(t, err, path)
		require.Equal(t, want, f, path)
	}
	f, err := Detect([]byte("just some notes\nsecond line\n"))
	require.NoError(t, err)
	require.Equal(t, FormatCSV, f)
}

func TestHostileTruncatedZip(t *testing.T) {
	lo, err := os.ReadFile("testdata/lo-customers.xlsx")
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "trunc.xlsx")
	require.NoError(t, os.WriteFile(p, lo[:len(lo)-200], 0o600))
	bounded(t, 4<<20, 5*time.Second, func() {
		f, err := Detect(lo[:len(lo)/2])
		require.NoError(t, err)
		_, err = Open(p, f, Options{})
		var ce *CorruptError
		require.ErrorAs(t, err, &ce)
	})
}

// writeBomb writes an xlsx whose worksheet inflates to copies × chunk bytes:
// the chunk is deflated once as a sequence of non-final blocks and the same
// bytes repeated, so a 512 MiB part takes moments to make.
func writeBomb(t testing.TB, dir, name string, chunk []byte, copies int) string {
	t.Helper()
	var seg bytes.Buffer
	fw, err := flate.NewWriter(&seg, flate.BestCompression)
	require.NoError(t, err)
	_, err = fw.Write(chunk)
	require.NoError(t, err)
	require.NoError(t, fw.Flush())
	var tail bytes.Buffer
	fw, err = flate.NewWriter(&tail, flate.BestCompression)
	require.NoError(t, err)
	require.NoError(t, fw.Close()) // the final, empty block

	head := []byte(sheetHead)
	crc := crc32.Update(0, crc32.IEEETable, head)
	var headZ bytes.Buffer
	fw, err = flate.NewWriter(&headZ, flate.BestCompression)
	require.NoError(t, err)
	_, err = fw.Write(head)
	require.NoError(t, err)
	require.NoError(t, fw.Flush())
	for i := 0; i < copies; i++ {
		crc = crc32.Update(crc, crc32.IEEETable, chunk)
	}

	p := filepath.Join(dir, name)
	fh, err := os.Create(p)
	require.NoError(t, err)
	zw := zip.NewWriter(fh)
	for _, part := range []struct{ name, body string }{
		{"[Content_Types].xml", ctXML}, {"_rels/.rels", rootRels},
		{"xl/workbook.xml", workbook}, {"xl/_rels/workbook.xml.rels", wbRels},
	} {
		w, err := zw.Create(part.name)
		require.NoError(t, err)
		_, err = io.WriteString(w, part.body)
		require.NoError(t, err)
	}
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate, CRC32: crc,
		CompressedSize64:   uint64(headZ.Len() + seg.Len()*copies + tail.Len()),
		UncompressedSize64: uint64(len(head) + len(chunk)*copies),
	})
	require.NoError(t, err)
	_, err = w.Write(headZ.Bytes())
	require.NoError(t, err)
	for i := 0; i < copies; i++ {
		_, err = w.Write(seg.Bytes())
		require.NoError(t, err)
	}
	_, err = w.Write(tail.Bytes())
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, fh.Close())
	return p
}

func TestHostileZipBomb(t *testing.T) {
	dir := t.TempDir()
	// 512 MiB of rows padded with blanks, compressed about 1000 times.
	row := `<row><c t="inlineStr"><is><t>boom</t></is></c></row>` + strings.Repeat(" ", 8192)
	p := writeBomb(t, dir, "bomb.xlsx", []byte(strings.Repeat(row, (1<<20)/len(row))), 512)
	st, err := os.Stat(p)
	require.NoError(t, err)
	require.Less(t, st.Size(), int64(4<<20))
	var le *LimitError
	bounded(t, 8<<20, 5*time.Second, func() {
		_, err = openAndRead(p, Options{})
	})
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitCompressionRatio, le.Limit)
	require.True(t, le.IsSizeLimit())

	// Without the ratio check, the unzipped size limit stops it before
	// anything is inflated.
	bounded(t, 8<<20, 5*time.Second, func() {
		_, err = openAndRead(p, Options{Limits: Limits{MaxCompressionRatio: -1, MaxUnzippedBytes: 256 << 20}})
	})
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitUnzippedBytes, le.Limit)
}

func TestHostileTooManyColumns(t *testing.T) {
	dir := t.TempDir()
	p := writeZipFunc(t, dir, "wide.xlsx", func(w io.Writer) {
		_, err := io.WriteString(w, sheetHead+`<row r="1">`)
		require.NoError(t, err)
		for c := 1; c <= 16384; c++ {
			_, err = fmt.Fprintf(w, `<c r="%s1"><v>%d</v></c>`, colName(c), c)
			require.NoError(t, err)
		}
		_, err = io.WriteString(w, `</row>`+sheetTail)
		require.NoError(t, err)
	})
	var err error
	bounded(t, 16<<20, 5*time.Second, func() { _, err = openAndRead(p, Options{}) })
	var le *LimitError
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitColumns, le.Limit)
	require.Equal(t, 1, le.Row)
	require.Equal(t, 201, le.Column)
	require.False(t, le.IsSizeLimit())
}

func TestHostileRowPastLimit(t *testing.T) {
	dir := t.TempDir()
	p := writeZip(t, dir, "tall.xlsx", sheetHead+
		`<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c></row>`+
		`<row r="1048576"><c r="A1048576"><v>1</v></c></row>`+
		`<row r="1048577"><c r="A1048577"><v>2</v></c></row>`+sheetTail)
	var rows int
	var err error
	bounded(t, 8<<20, 5*time.Second, func() { rows, err = openAndRead(p, Options{}) })
	require.Equal(t, 2, rows)
	var le *LimitError
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitRows, le.Limit)
	require.Equal(t, 1048577, le.Row)

	// The same through CSV, with a small limit.
	csvPath := filepath.Join(dir, "tall.csv")
	require.NoError(t, os.WriteFile(csvPath, []byte("code\n1\n2\n3\n"), 0o600))
	rows, err = openAndRead(csvPath, Options{Limits: Limits{MaxRows: 3}})
	require.Equal(t, 3, rows)
	require.ErrorAs(t, err, &le)
	require.Equal(t, 4, le.Row)
}

func TestHostileLongCell(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", 40_000)
	p := writeZip(t, dir, "long.xlsx", sheetHead+`<row r="1"><c r="B1" t="inlineStr"><is><t>`+long+`</t></is></c></row>`+sheetTail)
	_, err := openAndRead(p, Options{})
	var le *LimitError
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitCellBytes, le.Limit)
	require.Equal(t, 2, le.Column)

	// A text node far past any cell is cut before the XML decoder
	// buffers it whole.
	huge := strings.Repeat("y", 3<<20)
	p = writeZip(t, dir, "huge.xlsx", sheetHead+`<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>`+huge+`</t></is></c></row>`+sheetTail)
	bounded(t, 32<<20, 5*time.Second, func() { _, err = openAndRead(p, Options{Limits: Limits{MaxCompressionRatio: -1}}) })
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitCellBytes, le.Limit)
	p = writeZip(t, dir, "hugetag.xlsx", sheetHead+`<row r="1"><c r="A1"><v>1</v></c></row><row r="2" x="`+huge+`"></row>`+sheetTail)
	bounded(t, 32<<20, 5*time.Second, func() { _, err = openAndRead(p, Options{Limits: Limits{MaxCompressionRatio: -1}}) })
	var ce *CorruptError
	require.ErrorAs(t, err, &ce)

	csvPath := filepath.Join(dir, "long.csv")
	require.NoError(t, os.WriteFile(csvPath, []byte("a,b\n1,"+long+"\n"), 0o600))
	_, err = openAndRead(csvPath, Options{})
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitCellBytes, le.Limit)
	require.Equal(t, 2, le.Row)
}

func TestHostileEncryptedWorkbook(t *testing.T) {
	var err error
	bounded(t, 4<<20, 5*time.Second, func() { _, err = openAndRead("testdata/excelize-encrypted.xlsx", Options{}) })
	var fe *FormatError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, RefusedEncrypted, fe.Format)
	require.Contains(t, fe.Error(), "password")
}

func TestHostileMalformedXML(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, sheet := range map[string]string{
		"unclosed.xlsx":    sheetHead + `<row r="1"><c r="A1"><v>1</v>`,
		"badnumber.xlsx":   sheetHead + `<row r="1"><c r="A1"><v>x1</v></c></row>` + sheetTail,
		"badsst.xlsx":      sheetHead + `<row r="1"><c r="A1" t="s"><v>7</v></c></row>` + sheetTail,
		"nosheetdata.xlsx": `<worksheet></worksheet>`,
		"backwards.xlsx":   sheetHead + `<row r="5"><c><v>1</v></c></row><row r="2"><c><v>1</v></c></row>` + sheetTail,
	} {
		p := writeZip(t, dir, name, sheet)
		_, err := openAndRead(p, Options{})
		var ce *CorruptError
		require.ErrorAs(t, err, &ce, name)
	}
}
