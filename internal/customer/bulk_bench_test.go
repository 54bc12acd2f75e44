package customer_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// BenchmarkBulkUpdate sets the billing status of 100,000 customers (of a
// tenant of 120,000) through the API's bulk update, end to end: request,
// River pickup, selection under row-level security, batches of 2,000 with
// an audit event per customer. Beside it, in the same loop, one raw-SQL
// UPDATE of the same rows as the superuser (no RLS, no audit, one
// statement). Each starts on a freshly vacuumed table. Reported: rows/s
// of each and bulk_vs_raw, the bulk job's speed as a share of the raw
// UPDATE's (target: at least 0.5); and dry_run_rows/s, the rows a dry run
// of the next change selects and compares per second (a dry run answers
// within the request, so this bounds the selections it can preview).
func BenchmarkBulkUpdate(b *testing.B) {
	const selected = bulkBenchSelected
	bb := newBulkBench(b)
	app, tn, tid, raw, vacuum := bb.app, bb.tn, bb.tid, bb.raw, bb.vacuum
	ctx := context.Background()
	statuses := []string{"on_hold", "current", "collections", "closed"}
	var rawTime, bulkTime, dryTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Each round sets a value the rows do not have yet, so every row
		// changes in both paths.
		rawValue, bulkValue := statuses[(2*i)%4], statuses[(2*i+1)%4]

		vacuum()
		start := time.Now()
		tag, err := raw.Exec(ctx, `UPDATE customers SET billing_status = $2, version = version + 1, updated_at = now()
			WHERE tenant_id = $1 AND type = 'individual' AND status = 'active'`, tid, rawValue)
		if err != nil || tag.RowsAffected() != selected {
			b.Fatalf("raw update: %v (%d rows)", err, tag.RowsAffected())
		}
		rawTime += time.Since(start)

		vacuum()
		start = time.Now()
		resp := app.Post(b, "/v1/customers/bulk-update", tn.AdminToken, map[string]any{
			"selection": map[string]any{"filter": map[string]any{"type": "individual"}},
			"set":       map[string]any{"billing_status": bulkValue},
		})
		if resp.Status != http.StatusAccepted {
			b.Fatalf("bulk update: %s", resp.Body)
		}
		job := app.WaitJob(b, tn.AdminToken, apptest.JobID(b, resp))
		bulkTime += time.Since(start)
		if job["state"] != "succeeded" || job["result"].(map[string]any)["changed"] != float64(selected) {
			b.Fatalf("bulk job: %v", job)
		}

		// The dry run of the next change: the same selection and
		// comparison, nothing written.
		start = time.Now()
		resp = app.Post(b, "/v1/customers/bulk-update", tn.AdminToken, map[string]any{
			"selection": map[string]any{"filter": map[string]any{"type": "individual"}},
			"set":       map[string]any{"billing_status": statuses[(2*i+2)%4]}, "dry_run": true,
		})
		dryTime += time.Since(start)
		if resp.Status != http.StatusOK || resp.Map(b)["would_change"] != float64(selected) {
			b.Fatalf("dry run: %s", resp.Body)
		}
	}
	b.StopTimer()
	rows := float64(selected * b.N)
	b.ReportMetric(rows/rawTime.Seconds(), "raw_rows/s")
	b.ReportMetric(rows/bulkTime.Seconds(), "bulk_rows/s")
	b.ReportMetric(rawTime.Seconds()/bulkTime.Seconds(), "bulk_vs_raw")
	b.ReportMetric(rows/dryTime.Seconds(), "dry_run_rows/s")
}

// bulkBenchSelected customers (individuals, of a tenant with 20,000 more
// companies) are what the bulk benchmarks change.
const bulkBenchSelected = 100000

// bulkBench is the set-up the bulk benchmarks share: a tenant of 120,000
// customers, workers, and a superuser connection for the raw SQL beside.
type bulkBench struct {
	app    *apptest.App
	tn     apptest.Tenant
	tid    uuid.UUID
	raw    *pgx.Conn
	vacuum func()
}

func newBulkBench(b *testing.B) bulkBench {
	const selected, others = bulkBenchSelected, 20000
	ctx := context.Background()
	app := apptest.New(b, dbtest.Fresh(b), map[string]string{"CUSTOMERHUB_LOG_LEVEL": "error"})
	app.StartWorkers(b)
	tn := app.Signup(b)
	tid := uuid.MustParse(tn.ID)
	err := database.WithTenantTx(ctx, app.DB.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, code, name, type, email, city, country)
			SELECT $1, gen_random_uuid(), 'B' || lpad(g::text, 7, '0'), 'Bench customer ' || g,
			       CASE WHEN g <= $2::int THEN 'individual' ELSE 'company' END,
			       'c' || g || '@bench.example', 'Springfield', 'US'
			FROM generate_series(1, $2::int + $3::int) AS g`, tid, selected, others)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	raw, err := pgx.Connect(ctx, dbtest.URLFor(app.DB.Name, "postgres"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close(context.Background()) })
	// Each path starts on a vacuumed table, so neither pays for cleaning up
	// after the other (autovacuum of 100,000 dead rows and their index
	// entries would otherwise run during whichever path comes second).
	vacuum := func() {
		b.StopTimer()
		defer b.StartTimer()
		if _, err := raw.Exec(ctx, `VACUUM ANALYZE customers`); err != nil {
			b.Fatal(err)
		}
	}

	return bulkBench{app: app, tn: tn, tid: tid, raw: raw, vacuum: vacuum}
}

// BenchmarkBulkReassign gives 100,000 customers another sales rep through
// the API's bulk update: the reach of each (who sees it, migration 000010)
// is recomputed and copied in the same batches. Beside it, one raw UPDATE
// of the same rows as the superuser that leaves them as the job does (rep
// and reach; these customers have no locations or grants), and the same
// UPDATE of the rep alone, which the policies needed before reach.
// Reported: bulk_vs_raw (target: at least 0.5) and bulk_vs_rep_only.
func BenchmarkBulkReassign(b *testing.B) {
	const selected = bulkBenchSelected
	bb := newBulkBench(b)
	app, tn, tid, raw, vacuum := bb.app, bb.tn, bb.tid, bb.raw, bb.vacuum
	ctx := context.Background()
	reps := []string{app.CreateUser(b, tn, "sales_rep", nil).ID, app.CreateUser(b, tn, "sales_rep", nil).ID}
	var rawTime, repOnlyTime, bulkTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// raw → rep A, rep only → rep B, bulk → rep A: every row changes
		// in each.
		vacuum()
		start := time.Now()
		tag, err := raw.Exec(ctx, `UPDATE customers SET sales_rep_id = $2, reach = reach_norm(ARRAY[id, $2::uuid]),
			version = version + 1, updated_at = now()
			WHERE tenant_id = $1 AND type = 'individual' AND status = 'active'`, tid, reps[0])
		if err != nil || tag.RowsAffected() != selected {
			b.Fatalf("raw update: %v (%d rows)", err, tag.RowsAffected())
		}
		rawTime += time.Since(start)

		vacuum()
		start = time.Now()
		tag, err = raw.Exec(ctx, `UPDATE customers SET sales_rep_id = $2, version = version + 1, updated_at = now()
			WHERE tenant_id = $1 AND type = 'individual' AND status = 'active'`, tid, reps[1])
		if err != nil || tag.RowsAffected() != selected {
			b.Fatalf("rep-only update: %v (%d rows)", err, tag.RowsAffected())
		}
		repOnlyTime += time.Since(start)

		vacuum()
		start = time.Now()
		resp := app.Post(b, "/v1/customers/bulk-update", tn.AdminToken, map[string]any{
			"selection": map[string]any{"filter": map[string]any{"type": "individual"}},
			"set":       map[string]any{"sales_rep_id": reps[0]},
		})
		if resp.Status != http.StatusAccepted {
			b.Fatalf("bulk update: %s", resp.Body)
		}
		job := app.WaitJob(b, tn.AdminToken, apptest.JobID(b, resp))
		bulkTime += time.Since(start)
		if job["state"] != "succeeded" || job["result"].(map[string]any)["changed"] != float64(selected) {
			b.Fatalf("bulk job: %v", job)
		}
	}
	b.StopTimer()
	rows := float64(selected * b.N)
	b.ReportMetric(rows/rawTime.Seconds(), "raw_rows/s")
	b.ReportMetric(rows/bulkTime.Seconds(), "bulk_rows/s")
	b.ReportMetric(rawTime.Seconds()/bulkTime.Seconds(), "bulk_vs_raw")
	b.ReportMetric(repOnlyTime.Seconds()/bulkTime.Seconds(), "bulk_vs_rep_only")
}
