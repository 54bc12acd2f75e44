package importer_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/demodata"
)

func benchSize(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkExport exports every customer of the benchmark's big tenant
// (1,000,000 by default: the data set of the search benchmark in
// internal/customer, same name, same generator, made once and re-used)
// through the API, end to end: GET /v1/customers/export answered at once
// (CUSTOMERHUB_EXPORT_SYNC_MAX raised above the tenant's size), read by a
// real HTTP client. Beside it, in the same loop, COPY (SELECT ...) TO STDOUT
// of the same customers in the same order as CSV, with the same
// references resolved by joins (payment terms and price list codes, the
// sales rep's e-mail, the default billing and shipping addresses), run
// by a superuser: one command, no row-level security, no Go. Reported per
// format: rows/s of each, export_vs_copy (the export's speed as a share of
// COPY's; target at least 0.5) and peak_rss_MB, the process's peak
// resident memory during the export (server and client are this process;
// target under 256).
func BenchmarkExport(b *testing.B) {
	ctx := context.Background()
	n, tenants, small := benchSize("BENCH_CUSTOMERS", 1_000_000), benchSize("BENCH_TENANTS", 100), benchSize("BENCH_SMALL", 10_000)
	db, _ := dbtest.Persistent(b, fmt.Sprintf("chub_bench_%d_%d_%d", n, tenants, small), os.Getenv("BENCH_DATABASE"))
	start := time.Now()
	ts, err := demodata.Generate(ctx, db.App, demodata.Options{Tenants: tenants, Customers: n, SmallCustomers: small,
		SlugPrefix: "bench", PasswordHash: "x", Seed: 42}, os.Stderr)
	if err != nil {
		b.Fatal(err)
	}
	first := ts[0]
	raw, err := pgx.Connect(ctx, dbtest.URLFor(db.Name, "postgres"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close(ctx) })
	if time.Since(start) > time.Minute {
		// As the search benchmark does after generating the data set.
		fmt.Fprintf(os.Stderr, "generated in %s; analyzing\n", time.Since(start).Round(time.Second))
		if _, err := raw.Exec(ctx, "VACUUM ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
	app := apptest.New(b, db, map[string]string{"CUSTOMERHUB_EXPORT_SYNC_MAX": "10000000", "CUSTOMERHUB_LOG_LEVEL": "error"})
	base := app.Listen(b)
	var token string
	authSvc := auth.NewService(db.App, auth.NewHasher(auth.HashParams{MemoryKiB: 1024, Iterations: 1}), auth.Options{SessionTTL: time.Hour},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	err = database.WithTenantTx(ctx, db.App, database.SystemScope(first.ID), func(ctx context.Context, tx database.Tx) error {
		token, err = authSvc.IssueSession(ctx, tx, first.AdminID)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	var want int64
	if err := raw.QueryRow(ctx, `SELECT count(*) FROM customers WHERE tenant_id = $1`, first.ID).Scan(&want); err != nil {
		b.Fatal(err)
	}

	// The same export as a job (the answer beyond CUSTOMERHUB_EXPORT_SYNC_MAX):
	// written in steps of 250,000 customers into the file store, then
	// downloaded. Reported: job_rows/s, request to downloaded file.
	b.Run("csv_job", func(b *testing.B) {
		jobApp := apptest.New(b, db, map[string]string{"CUSTOMERHUB_EXPORT_SYNC_MAX": "0", "CUSTOMERHUB_LOG_LEVEL": "error"})
		jobApp.StartWorkers(b)
		var jobTime time.Duration
		for i := 0; i < b.N; i++ {
			start := time.Now()
			id := apptest.JobID(b, jobApp.Get(b, "/v1/customers/export?status=all&format=csv", token))
			for {
				job := jobApp.Get(b, "/v1/jobs/"+id, token).Map(b)
				if job["state"] == "succeeded" {
					break
				}
				if job["state"] != "queued" && job["state"] != "running" {
					b.Fatalf("export job: %v", job)
				}
				time.Sleep(200 * time.Millisecond)
			}
			resp := jobApp.Get(b, "/v1/jobs/"+id+"/result", token)
			if resp.Status != http.StatusOK || int64(bytes.Count(resp.Body, []byte("\n")))-1 != want {
				b.Fatalf("export job result: %d, %d lines", resp.Status, bytes.Count(resp.Body, []byte("\n")))
			}
			jobTime += time.Since(start)
		}
		b.ReportMetric(float64(want)*float64(b.N)/jobTime.Seconds(), "job_rows/s")
	})

	for _, format := range []string{"csv", "xlsx"} {
		b.Run(format, func(b *testing.B) {
			var exportTime, copyTime time.Duration
			var peak int64
			for i := 0; i < b.N; i++ {
				start := time.Now()
				tag, err := raw.PgConn().CopyTo(ctx, &countingDiscard{}, copySQL(first.ID.String()))
				if err != nil || tag.RowsAffected() != want {
					b.Fatalf("copy: %v (%d rows)", err, tag.RowsAffected())
				}
				copyTime += time.Since(start)

				resetPeakRSS(b)
				start = time.Now()
				rows := exportOnce(b, base, token, format)
				exportTime += time.Since(start)
				peak = max(peak, peakRSS(b))
				if format == "csv" && rows != want {
					b.Fatalf("export wrote %d rows, want %d", rows, want)
				}
			}
			total := float64(want) * float64(b.N)
			b.ReportMetric(total/copyTime.Seconds(), "copy_rows/s")
			b.ReportMetric(total/exportTime.Seconds(), "export_rows/s")
			b.ReportMetric(copyTime.Seconds()/exportTime.Seconds(), "export_vs_copy")
			b.ReportMetric(float64(peak)/(1<<20), "peak_rss_MB")
		})
	}
}

// exportOnce runs one export through the HTTP API and returns the CSV rows
// it counted (0 for xlsx, whose rows are not counted).
func exportOnce(b *testing.B, base, token, format string) int64 {
	b.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/v1/customers/export?status=all&format="+format, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		b.Fatalf("export: %d %s", resp.StatusCode, body)
	}
	if format != "csv" {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			b.Fatal(err)
		}
		return 0
	}
	var lines int64
	r := bufio.NewReaderSize(resp.Body, 1<<16)
	for {
		chunk, err := r.ReadSlice('\n')
		if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
			lines++
		}
		if err == io.EOF {
			break
		}
		if err != nil && err != bufio.ErrBufferFull {
			b.Fatal(err)
		}
	}
	return lines - 1 // the header
}

// copySQL is the raw comparison: the export's rows as one COPY, references
// resolved by joins, in the export's default order (name, id).
func copySQL(tenantID string) string {
	return `COPY (SELECT c.code, c.name, c.type, c.email, c.phone, c.website, c.tax_number, c.currency, c.discount_rate,
		pt.code, c.credit_limit, u.email, bl.line1, bl.city, bl.country, sl.line1, sl.city, sl.country, c.notes,
		c.kind, c.contact_name, pl.code, c.credit_period_days, c.credit_policy, c.billing_status, c.basis_date,
		bl.line2, bl.region, bl.postal_code, sl.line2, sl.region, sl.postal_code, c.default_payment_method,
		c.tax_scheme, c.status, c.custom
	FROM customers c
	LEFT JOIN payment_terms pt ON pt.tenant_id = c.tenant_id AND pt.id = c.payment_terms_id
	LEFT JOIN price_lists pl ON pl.tenant_id = c.tenant_id AND pl.id = c.price_list_id
	LEFT JOIN users u ON u.tenant_id = c.tenant_id AND u.id = c.sales_rep_id
	LEFT JOIN customer_locations bl ON bl.tenant_id = c.tenant_id AND bl.customer_id = c.id AND bl.is_default_billing
	LEFT JOIN customer_locations sl ON sl.tenant_id = c.tenant_id AND sl.customer_id = c.id AND sl.is_default_shipping
	WHERE c.tenant_id = '` + tenantID + `'
	ORDER BY c.name, c.id) TO STDOUT WITH (FORMAT csv, HEADER)`
}

type countingDiscard struct{ n int64 }

func (c *countingDiscard) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// resetPeakRSS resets the process's peak resident set size (Linux:
// writing 5 to /proc/self/clear_refs), so that peakRSS measures from here.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS: %v", err)
	}
}

// peakRSS reads the process's peak resident set size (VmHWM) in bytes.
func peakRSS(b *testing.B) int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
