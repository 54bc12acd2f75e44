// Package importbench measures imports end to end (make bench): a
// 100,000-row xlsx and csv uploaded through POST /v1/imports and imported
// by the job, each in a process of its own so that its peak RSS is its
// own, beside what bounds them: COPY of the same rows as CSV through a
// staging table into customers (as row-level security requires) in the
// import's transaction shape (batches of its batch size, each committed;
// the one-transaction figure is printed beside it), a bare excelize Rows()
// read of the same xlsx, and this project's xlsx.Reader over it (every
// cell's Text, as the import reads them).
//
// Environment: BENCH_IMPORT_ROWS (default 100,000), BENCH_IMPORT_ROUNDS
// (default 3), BENCH_CPUPROFILE (a
// CPU profile of each child's import, suffixed .csv and .xlsx), and
// CUSTOMERHUB_IMPORT_BATCH (the imports' batch size, default 2,000);
// BENCH_IMPORT_ADDRESSES=1 gives every row a billing and a shipping
// address (its customer's two default locations).
package importbench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/importer"
	"github.com/customerhub/customerhub/internal/xlsx"
)

// childEnv makes the test binary run one import (TestChildImport) for the
// benchmark, in a process of its own.
const childEnv = "CUSTOMERHUB_IMPORT_BENCH_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(m.Run())
	}
	dbtest.Main(m)
}

func benchRows() int {
	if v, err := strconv.Atoi(os.Getenv("BENCH_IMPORT_ROWS")); err == nil && v > 0 {
		return v
	}
	return 100_000
}

var header = func() []string {
	h := []string{"code", "name", "customer_type", "email", "phone", "tax_number", "currency", "discount_rate", "credit_limit", "notes"}
	if withAddresses() {
		h = append(h, addressHeader...)
	}
	return h
}()

// addressHeader are the columns BENCH_IMPORT_ADDRESSES adds: each row
// then creates its customer's billing and shipping locations too.
var addressHeader = []string{"billing_address_line1", "billing_city", "billing_country", "shipping_address_line1", "shipping_city", "shipping_country"}

func withAddresses() bool { return os.Getenv("BENCH_IMPORT_ADDRESSES") != "" }

func rowOf(i int) []string {
	r := []string{fmt.Sprintf("B%07d", i), fmt.Sprintf("Bench Customer %d", i), "company", fmt.Sprintf("b%d@bench.example", i),
		fmt.Sprintf("+1202555%04d", i%10000), fmt.Sprintf("US%09d", i), "USD", strconv.Itoa(i % 20), strconv.Itoa(1000 + i%5000),
		"generated for the import benchmark"}
	if withAddresses() {
		r = append(r, fmt.Sprintf("%d Main Street", i), "Springfield", "US", fmt.Sprintf("%d Dock Road", i), "Shelbyville", "US")
	}
	return r
}

// writeFiles writes the same rows as csv and xlsx into dir.
func writeFiles(b *testing.B, dir string, n int) (csvPath, xlsxPath string) {
	csvPath, xlsxPath = filepath.Join(dir, "bench.csv"), filepath.Join(dir, "bench.xlsx")
	for _, f := range []struct {
		path   string
		format xlsx.Format
	}{{csvPath, xlsx.FormatCSV}, {xlsxPath, xlsx.FormatXLSX}} {
		fh, err := os.Create(f.path)
		require.NoError(b, err)
		var cols []xlsx.Column
		for _, h := range header {
			cols = append(cols, xlsx.Column{Header: h})
		}
		w, err := xlsx.NewWriter(fh, f.format, xlsx.WriterOptions{Columns: cols, NoBOM: true})
		require.NoError(b, err)
		vals := make([]any, len(header))
		for i := 1; i <= n; i++ {
			for j, v := range rowOf(i) {
				vals[j] = v
			}
			require.NoError(b, w.WriteRow(vals))
		}
		require.NoError(b, w.Close())
		require.NoError(b, fh.Close())
	}
	return csvPath, xlsxPath
}

// BenchmarkImport prints, for 100,000 rows (BENCH_IMPORT_ROWS), the rows
// per second and peak RSS of a csv and an xlsx import end to end, the
// rate of COPY through a staging table and of a bare excelize read, and
// the ratios the targets are about (csv import >= 0.5x staging COPY, xlsx
// import >= 0.7x the bare read, RSS < 256 MB). The measures alternate in
// rounds (BENCH_IMPORT_ROUNDS, default 3), each import beside its
// comparison, and the medians are reported: on a shared machine a burst of
// other work then falls on both sides of a ratio alike, instead of on
// whichever measure ran during it.
func BenchmarkImport(b *testing.B) {
	n := benchRows()
	dir := b.TempDir()
	csvPath, xlsxPath := writeFiles(b, dir, n)
	batch := importer.DefaultBatch
	if v, err := strconv.Atoi(os.Getenv("CUSTOMERHUB_IMPORT_BATCH")); err == nil && v > 0 {
		batch = v
	}
	rounds := 3
	if v, err := strconv.Atoi(os.Getenv("BENCH_IMPORT_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}

	var csvRates, xlsxRates, copyRates, readRates, ourRates []float64
	var csvRSS, xlsxRSS int64
	fmt.Fprintf(os.Stderr, "\nimport of %d rows, end to end (upload, job, every row written and audited), %d rounds:\n", n, rounds)
	for i := 1; i <= rounds; i++ {
		csvRate, rss := childImport(b, csvPath, n)
		csvRSS = max(csvRSS, rss)
		copyRate := stagingCopy(b, csvPath, n, batch)
		xlsxRate, rss := childImport(b, xlsxPath, n)
		xlsxRSS = max(xlsxRSS, rss)
		readRate := bareRead(b, xlsxPath, n)
		ourRate := ourRead(b, xlsxPath, n)
		fmt.Fprintf(os.Stderr, "  round %d: csv %6.0f rows/s, staging COPY %6.0f (%.2f); xlsx %6.0f rows/s, bare read %6.0f (%.2f), xlsx.Reader %6.0f\n",
			i, csvRate, copyRate, csvRate/copyRate, xlsxRate, readRate, xlsxRate/readRate, ourRate)
		csvRates, copyRates = append(csvRates, csvRate), append(copyRates, copyRate)
		xlsxRates, readRates, ourRates = append(xlsxRates, xlsxRate), append(readRates, readRate), append(ourRates, ourRate)
	}
	oneTxRate := stagingCopy(b, csvPath, n, 0)
	csvRate, xlsxRate, copyRate := median(csvRates), median(xlsxRates), median(copyRates)
	readRate, ourRate := median(readRates), median(ourRates)

	b.ReportMetric(csvRate, "csv_rows/s")
	b.ReportMetric(xlsxRate, "xlsx_rows/s")
	b.ReportMetric(copyRate, "copy_rows/s")
	b.ReportMetric(oneTxRate, "copy_1tx_rows/s")
	b.ReportMetric(readRate, "bare_xlsx_rows/s")
	b.ReportMetric(ourRate, "reader_xlsx_rows/s")
	b.ReportMetric(float64(csvRSS)/(1<<20), "csv_rss_MB")
	b.ReportMetric(float64(xlsxRSS)/(1<<20), "xlsx_rss_MB")
	fmt.Fprintf(os.Stderr, "medians:\n")
	fmt.Fprintf(os.Stderr, "  csv : %8.0f rows/s, peak RSS %4d MB; staging COPY %8.0f rows/s in batches of %d; ratio %.2f (target >= 0.5)\n",
		csvRate, csvRSS>>20, copyRate, batch, csvRate/copyRate)
	fmt.Fprintf(os.Stderr, "        (staging COPY in one transaction %8.0f rows/s; ratio %.2f)\n", oneTxRate, csvRate/oneTxRate)
	fmt.Fprintf(os.Stderr, "  xlsx: %8.0f rows/s, peak RSS %4d MB; bare excelize Rows() %8.0f rows/s; ratio %.2f (target >= 0.7)\n",
		xlsxRate, xlsxRSS>>20, readRate, xlsxRate/readRate)
	fmt.Fprintf(os.Stderr, "        (xlsx.Reader alone %8.0f rows/s, %.2fx the bare read; xlsx import %.2fx the csv import, %.2fx the staging COPY)\n",
		ourRate, ourRate/readRate, xlsxRate/csvRate, xlsxRate/copyRate)
}

// median is the middle of xs (the mean of the two middle ones when even).
func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// childImport imports the file in a child process on a fresh database and
// returns its rate and the child's peak RSS.
func childImport(b *testing.B, path string, n int) (float64, int64) {
	db := dbtest.Fresh(b)
	args := []string{"-test.run=^TestChildImport$", "-test.count=1"}
	if p := os.Getenv("BENCH_CPUPROFILE"); p != "" {
		// A CPU profile of the child's import, per format.
		args = append(args, "-test.cpuprofile="+p+"."+filepath.Ext(path)[1:])
	}
	cmd := exec.Command(os.Args[0], args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), childEnv+"="+path, "BENCH_DB_NAME="+db.Name, "BENCH_APP_URL="+db.AppURL,
		"BENCH_OWNER_URL="+db.OwnerURL, "BENCH_IMPORT_ROWS="+strconv.Itoa(n))
	require.NoError(b, cmd.Run(), "%s", out.String())
	if os.Getenv("IMPORT_TRACE") != "" {
		fmt.Fprint(os.Stderr, out.String())
	}
	var rate float64
	for _, line := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "RATE "); ok {
			rate, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	require.NotZero(b, rate, "%s", out.String())
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return rate, ru.Maxrss << 10 // KiB on Linux
}

// TestChildImport is the child's import (skipped in ordinary runs): upload
// the file through the API, work the job, print the rate.
func TestChildImport(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("the import benchmark's child process")
	}
	ctx := context.Background()
	n, _ := strconv.Atoi(os.Getenv("BENCH_IMPORT_ROWS"))
	db := &dbtest.DB{Name: os.Getenv("BENCH_DB_NAME"), AppURL: os.Getenv("BENCH_APP_URL"), OwnerURL: os.Getenv("BENCH_OWNER_URL")}
	var err error
	db.App, err = database.Open(ctx, db.AppURL, database.PoolOptions{MaxConns: 10, ApplicationName: "import-bench"})
	require.NoError(t, err)
	defer db.App.Close()
	env := map[string]string{"CUSTOMERHUB_JOB_ATTEMPT_TIMEOUT": "10m", "CUSTOMERHUB_REQUEST_TIMEOUT": "5m"}
	if v := os.Getenv("CUSTOMERHUB_IMPORT_BATCH"); v != "" {
		// The batch size under measurement.
		env["CUSTOMERHUB_IMPORT_BATCH"] = v
	}
	app := apptest.New(t, db, env)
	tn := app.Signup(t)

	start := time.Now()
	fh, err := os.Open(path)
	require.NoError(t, err)
	defer fh.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, err := mw.CreateFormFile("file", filepath.Base(path))
		if err == nil {
			_, err = io.Copy(fw, bufio.NewReader(fh))
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	base := app.Listen(t)
	req, err := http.NewRequest(http.MethodPost, base+"/v1/imports", pr)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tn.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, "%s", body)
	var acc struct {
		Import struct{ ID string } `json:"import"`
		Job    struct{ ID string } `json:"job"`
	}
	(&apptest.Response{Body: body}).JSON(t, &acc)
	app.StartWorkers(t)
	for {
		r := app.Get(t, "/v1/imports/"+acc.Import.ID, tn.AdminToken).Map(t)
		if r["state"] == "succeeded" || r["state"] == "failed" || r["state"] == "cancelled" {
			// The import's end is its finished_at (same clock, this
			// machine), so the polling can be gentle without rounding the
			// time up to its interval; a busy poll would compete with the
			// import for the CPU (the API answers in this process too).
			elapsed := time.Since(start)
			if f, ok := r["finished_at"].(string); ok {
				if at, err := time.Parse(time.RFC3339Nano, f); err == nil && at.After(start) {
					elapsed = at.Sub(start)
				}
			}
			require.Equal(t, "succeeded", r["state"], "%v", r)
			require.Equal(t, float64(n), r["counts"].(map[string]any)["created"], "%v", r)
			fmt.Printf("RATE %f\n", float64(n)/elapsed.Seconds())
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// stagingCopy COPYs the csv's rows into a temporary staging table and
// moves them into customers with INSERT ... SELECT ... ON CONFLICT, in
// tenant transactions (COPY straight into customers is refused under
// row-level security); it returns the rows per second. With batch > 0 it
// has the import's transaction shape: batches of that many rows, each
// staged, moved and committed in a transaction of its own (the file is
// cut into batches before the clock starts); with 0, one transaction
// moves every row.
func stagingCopy(b *testing.B, path string, n, batch int) float64 {
	ctx := context.Background()
	db := dbtest.Fresh(b)
	tid := uuid.New()
	require.NoError(b, database.WithTenantTx(ctx, db.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tenants (id, slug, name) VALUES ($1, $2, 'Bench')`, tid, "bench-"+tid.String()[:8])
		return err
	}))
	raw, err := os.ReadFile(path)
	require.NoError(b, err)
	// The batches: the header, then the rows (one line each in this file)
	// cut batch at a time.
	var parts [][]byte
	if batch <= 0 {
		parts = [][]byte{raw}
	} else {
		_, body, ok := bytes.Cut(raw, []byte("\n"))
		require.True(b, ok)
		for len(body) > 0 {
			end, lines := 0, 0
			for lines < batch && end < len(body) {
				k := bytes.IndexByte(body[end:], '\n')
				if k < 0 {
					end = len(body)
				} else {
					end += k + 1
				}
				lines++
			}
			parts = append(parts, body[:end])
			body = body[end:]
		}
	}
	header := "true"
	if batch > 0 {
		header = "false"
	}
	start := time.Now()
	var moved int64
	for _, part := range parts {
		err = database.WithTenantTx(ctx, db.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE stage (code text, name text, customer_type text, email text, phone text,
				tax_number text, currency text, discount_rate numeric, credit_limit numeric, notes text) ON COMMIT DROP`); err != nil {
				return err
			}
			if withAddresses() {
				// The address columns are read, not moved.
				for _, c := range addressHeader {
					if _, err := tx.Exec(ctx, `ALTER TABLE stage ADD COLUMN `+c+` text`); err != nil {
						return err
					}
				}
			}
			if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(part), `COPY stage FROM STDIN WITH (FORMAT csv, HEADER `+header+`)`); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, code, name, type, email, phone, tax_number, currency,
					discount_rate, credit_limit, notes, reach)
				SELECT $1, id, code, name, customer_type, email, phone, tax_number, currency, discount_rate, credit_limit, notes,
					reach_norm(ARRAY[id])
				FROM (SELECT gen_random_uuid() AS id, * FROM stage) s
				ON CONFLICT ON CONSTRAINT customers_code_key DO NOTHING`, tid)
			moved += tag.RowsAffected()
			return err
		})
		require.NoError(b, err)
	}
	require.Equal(b, int64(n), moved, "rows moved")
	return float64(n) / time.Since(start).Seconds()
}

// bareRead reads the xlsx with excelize's row iterator and nothing else.
func bareRead(b *testing.B, path string, n int) float64 {
	start := time.Now()
	f, err := excelize.OpenFile(path)
	require.NoError(b, err)
	defer f.Close()
	rows, err := f.Rows(f.GetSheetName(0))
	require.NoError(b, err)
	count := 0
	for rows.Next() {
		if _, err := rows.Columns(); err != nil {
			b.Fatal(err)
		}
		count++
	}
	require.NoError(b, rows.Close())
	require.Equal(b, n+1, count)
	return float64(n) / time.Since(start).Seconds()
}

// ourRead reads the xlsx with this project's reader, every cell's text
// made as the import makes it.
func ourRead(b *testing.B, path string, n int) float64 {
	start := time.Now()
	r, err := xlsx.Open(path, xlsx.FormatXLSX, xlsx.Options{})
	require.NoError(b, err)
	defer r.Close()
	count := 0
	for r.Next() {
		_, cells := r.Row()
		for _, c := range cells {
			_ = c.Text()
		}
		count++
	}
	require.NoError(b, r.Err())
	require.Equal(b, n+1, count)
	return float64(n) / time.Since(start).Seconds()
}
