package customer_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/customer"
)

// dormantRawCondition is the sweep's condition (queries/customer_dormant.sql)
// as raw SQL: $1 the tenant, $2 the cutoff, open balances included.
const dormantRawCondition = `tenant_id = $1 AND status = 'active' AND created_at < $2
	AND (last_order_at IS NULL OR last_order_at < $2) AND (last_payment_at IS NULL OR last_payment_at < $2)
	AND (reactivated_at IS NULL OR reactivated_at < $2)`

// BenchmarkDormantSweep sweeps the 1,000,000-customer tenant of the search
// benchmark's data set (loadBench) through the API: POST /v1/dormant-sweeps
// with a cutoff 30 days back and open balances included (half of a
// 100,000-customer tenant qualifies, most of the 1,000,000; BENCH_CUSTOMERS
// scales the tenant), River pickup, the selection, batches of 2,000 that
// re-check every customer as they mark it, one audit event each. Beside
// it, one raw-SQL UPDATE of the same rows as the superuser (no RLS, no
// audit, one statement). Each starts on a freshly vacuumed table, and the
// data set is put back after each (statuses, without the reactivation
// stamp; the sweep's audit events), so the search benchmarks that share it
// see it as generated. Reported: rows/s of each and sweep_vs_raw, the
// sweep's speed as a share of the raw UPDATE's (target: at least 0.5).
func BenchmarkDormantSweep(b *testing.B) {
	env := loadBench(b)
	ctx := context.Background()
	app, raw, tid := env.app, env.raw, env.tenantID
	app.StartWorkers(b)
	token := env.tokens["admin"]
	resp := app.Patch(b, "/v1/settings", token, "*", map[string]any{"dormant_include_open_balance": true})
	if resp.Status != http.StatusOK {
		b.Fatalf("settings: %s", resp.Body)
	}
	b.Cleanup(func() {
		app.Patch(b, "/v1/settings", token, "*", map[string]any{"dormant_include_open_balance": false})
	})
	before := time.Now().UTC().AddDate(0, 0, -30).Truncate(time.Second)

	if _, err := raw.Exec(ctx, `CREATE TEMP TABLE sweep_rows AS SELECT id FROM customers WHERE `+dormantRawCondition, tid, before); err != nil {
		b.Fatal(err)
	}
	var selected int64
	if err := raw.QueryRow(ctx, `SELECT count(*) FROM sweep_rows`).Scan(&selected); err != nil {
		b.Fatal(err)
	}
	vacuum := func() {
		b.StopTimer()
		defer b.StartTimer()
		if _, err := raw.Exec(ctx, `VACUUM ANALYZE customers`); err != nil {
			b.Fatal(err)
		}
	}
	// restore makes the swept customers active again as generated: the
	// reactivation trigger is not fired (replica role), so reactivated_at
	// stays unset.
	restore := func(jobID string) {
		b.StopTimer()
		defer b.StartTimer()
		for _, stmt := range []struct {
			sql  string
			args []any
		}{
			{`SET session_replication_role = replica`, nil},
			{`UPDATE customers SET status = 'active' WHERE tenant_id = $1 AND id IN (SELECT id FROM sweep_rows)`, []any{tid}},
			{`SET session_replication_role = origin`, nil},
		} {
			if _, err := raw.Exec(ctx, stmt.sql, stmt.args...); err != nil {
				b.Fatal(err)
			}
		}
		if jobID != "" {
			if _, err := raw.Exec(ctx, `DELETE FROM audit_events WHERE tenant_id = $1 AND request_id = $2`, tid, customer.OriginSweep+jobID); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Cleanup(func() { restore("") })

	var rawTime, sweepTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		vacuum()
		start := time.Now()
		tag, err := raw.Exec(ctx, `UPDATE customers SET status = 'dormant', version = version + 1, updated_at = now()
			WHERE `+dormantRawCondition, tid, before)
		if err != nil || tag.RowsAffected() != selected {
			b.Fatalf("raw update: %v (%d rows of %d)", err, tag.RowsAffected(), selected)
		}
		rawTime += time.Since(start)
		restore("")

		vacuum()
		start = time.Now()
		resp := app.Post(b, "/v1/dormant-sweeps", token, map[string]any{"before": before.Format(time.RFC3339)})
		jobID := apptest.JobID(b, resp)
		job := waitLongJob(b, app, token, jobID)
		sweepTime += time.Since(start)
		if job["state"] != "succeeded" || job["result"].(map[string]any)["changed"] != float64(selected) {
			b.Fatalf("sweep job: %v (want %d changed)", job, selected)
		}
		restore(jobID)
	}
	b.StopTimer()
	rows := float64(selected) * float64(b.N)
	b.ReportMetric(float64(selected), "rows_swept")
	b.ReportMetric(rows/rawTime.Seconds(), "raw_rows/s")
	b.ReportMetric(rows/sweepTime.Seconds(), "sweep_rows/s")
	b.ReportMetric(rawTime.Seconds()/sweepTime.Seconds(), "sweep_vs_raw")
}

// waitLongJob is apptest.WaitJob for jobs that take minutes.
func waitLongJob(b *testing.B, app *apptest.App, token, id string) map[string]any {
	b.Helper()
	deadline := time.Now().Add(30 * time.Minute)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for ; time.Now().Before(deadline); <-tick.C {
		resp := app.Get(b, "/v1/jobs/"+id, token)
		if resp.Status != http.StatusOK {
			b.Fatalf("job: %s", resp.Body)
		}
		job := resp.Map(b)
		switch job["state"] {
		case "succeeded", "failed", "cancelled":
			return job
		}
	}
	b.Fatalf("job %s did not finish in 30 minutes", id)
	return nil
}
