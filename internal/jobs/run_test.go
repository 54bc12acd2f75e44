package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/server"
	"github.com/customerhub/customerhub/internal/tenant"
)

// batch is the bulk batch size of these tests: their customers take
// several batches.
const batch = 7

type runBundle struct {
	app    *apptest.App
	tn     apptest.Tenant
	tenant uuid.UUID
}

// setupRun builds the application on a database of its own (no other
// test's workers can take its jobs) with small bulk batches, and a tenant
// with n customers created by its admin.
func setupRun(t *testing.T, n int) runBundle {
	t.Helper()
	app := apptest.New(t, dbtest.Fresh(t), map[string]string{"CUSTOMERHUB_BULK_BATCH": fmt.Sprint(batch)})
	tn := app.Signup(t)
	for i := range n {
		app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": fmt.Sprintf("Run %02d", i)})
	}
	return runBundle{app: app, tn: tn, tenant: uuid.MustParse(tn.ID)}
}

// bulkStatus queues a bulk update setting status on every customer the
// user sees, and returns the job's id.
func (b runBundle) bulkStatus(t *testing.T, token, status string) string {
	t.Helper()
	return apptest.JobID(t, b.app.Post(t, "/v1/customers/bulk-update", token, map[string]any{
		"selection": map[string]any{"filter": map[string]any{}}, "set": map[string]any{"status": status}}))
}

// statuses returns every customer's status, read in the tenant's system
// scope.
func (b runBundle) statuses(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(b.tenant), func(ctx context.Context, tx database.Tx) error {
		var id, status string
		rows, err := tx.Query(ctx, `SELECT id::text, status FROM customers WHERE tenant_id = $1`, b.tenant)
		if err != nil {
			return err
		}
		_, err = pgx.ForEachRow(rows, []any{&id, &status}, func() error { out[id] = status; return nil })
		return err
	})
	require.NoError(t, err)
	return out
}

// targets returns the job's targets in the order its batches take them.
func (b runBundle) targets(t *testing.T, jobID string) []string {
	t.Helper()
	var ids []string
	err := database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(b.tenant), func(ctx context.Context, tx database.Tx) error {
		rows, err := tx.Query(ctx, `SELECT target_id::text FROM job_targets WHERE tenant_id = $1 AND job_id = $2 ORDER BY seq`, b.tenant, jobID)
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	require.NoError(t, err)
	return ids
}

// pausingBulkWorker works customer bulk updates exactly as the real worker
// does (jobs.Run with the application's runner and customer service), but
// holds its step number at (1 is the selection, 2 the first batch, ...)
// until the test lets it go: the runner has checked the acting user for
// that step, and the test changes the user before the step writes.
type pausingBulkWorker struct {
	river.WorkerDefaults[customer.BulkUpdateArgs]
	runner  *jobs.Runner
	svc     *customer.Service
	at      int
	steps   int
	reached chan struct{}
	resume  chan struct{}
}

// Timeout implements river.Worker.
func (w *pausingBulkWorker) Timeout(*river.Job[customer.BulkUpdateArgs]) time.Duration {
	return w.runner.Timeout
}

// Work implements river.Worker.
func (w *pausingBulkWorker) Work(ctx context.Context, job *river.Job[customer.BulkUpdateArgs]) error {
	return jobs.Run(ctx, w.runner, job, func(ctx context.Context, tx database.Tx, actor *tenant.Principal, p *jobs.Progress) (bool, error) {
		w.steps++
		if w.steps == w.at {
			close(w.reached)
			select {
			case <-w.resume:
			case <-ctx.Done():
				return false, ctx.Err()
			}
		}
		return w.svc.BulkStep(ctx, tx, actor, p)
	})
}

// startPausing starts a River client working bulk updates through a
// pausingBulkWorker that pauses at step at; the test waits on reached,
// changes what it wants, and closes resume.
func (b runBundle) startPausing(t *testing.T, at int) *pausingBulkWorker {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	pool, cfg := b.app.DB.App, b.app.Config
	svc := server.NewServices(cfg, pool, logger)
	w := &pausingBulkWorker{runner: server.NewRunner(svc.Auth, pool, cfg.JobAttemptTimeout, logger), svc: svc.Customers,
		at: at, reached: make(chan struct{}), resume: make(chan struct{})}
	ws := river.NewWorkers()
	river.AddWorker(ws, w)
	b.app.StartRiver(t, server.RiverOptions{Work: true, Workers: ws, Concurrency: 1, BulkConcurrency: 1,
		AttemptTimeout: time.Minute, RescueStuckAfter: time.Hour, Logger: logger})
	return w
}

// wait waits until the worker reached its step.
func (w *pausingBulkWorker) wait(t *testing.T) {
	t.Helper()
	select {
	case <-w.reached:
	case <-time.After(time.Minute):
		require.FailNow(t, "the job never reached its step")
	}
}

func (b runBundle) patchUser(t *testing.T, id string, version int, body map[string]any) {
	t.Helper()
	resp := b.app.Patch(t, "/v1/users/"+id, b.tn.AdminToken, fmt.Sprintf(`"%d"`, version), body)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
}

// lastError is the job's last error entry.
func lastError(t *testing.T, job map[string]any) map[string]any {
	t.Helper()
	errs, _ := job["errors"].([]any)
	require.NotEmpty(t, errs, "%v", job)
	return errs[len(errs)-1].(map[string]any)
}

// TestRunChecksPermissionBeforeTheJobStarts: a bulk update queued by a
// manager who is demoted to viewer before it runs fails with
// permission_revoked and changes nothing.
func TestRunChecksPermissionBeforeTheJobStarts(t *testing.T) {
	t.Parallel()
	b := setupRun(t, 3)
	manager := b.app.CreateUser(t, b.tn, "manager", nil)
	id := b.bulkStatus(t, manager.Token, "dormant")
	b.patchUser(t, manager.ID, 1, map[string]any{"role": "viewer"})

	b.app.StartWorkers(t)
	job := b.app.WaitJob(t, b.tn.AdminToken, id)
	require.Equal(t, "failed", job["state"], "%v", job)
	e := lastError(t, job)
	require.Equal(t, jobs.CodePermissionRevoked, e["code"])
	require.Contains(t, e["message"], "customers:write")
	require.Equal(t, map[string]any{"processed": float64(0), "total": nil}, job["progress"])
	for _, status := range b.statuses(t) {
		require.Equal(t, "active", status)
	}
}

// TestRunChecksPermissionAtEachBatch: a demotion committed while one batch
// runs stops the job before the next: the batches after it change nothing.
func TestRunChecksPermissionAtEachBatch(t *testing.T) {
	t.Parallel()
	b := setupRun(t, 3*batch)
	manager := b.app.CreateUser(t, b.tn, "manager", nil)
	w := b.startPausing(t, 2) // the first batch
	id := b.bulkStatus(t, manager.Token, "dormant")
	w.wait(t)
	b.patchUser(t, manager.ID, 1, map[string]any{"role": "viewer"})
	close(w.resume)

	job := b.app.WaitJob(t, b.tn.AdminToken, id)
	require.Equal(t, "failed", job["state"], "%v", job)
	require.Equal(t, jobs.CodePermissionRevoked, lastError(t, job)["code"])
	require.Equal(t, map[string]any{"processed": float64(batch), "total": float64(3 * batch)}, job["progress"])
	require.Equal(t, map[string]any{"matched": float64(3 * batch), "changed": float64(batch), "unchanged": float64(0),
		"skipped": float64(0)}, job["result"])
	dormant := 0
	for _, status := range b.statuses(t) {
		if status == "dormant" {
			dormant++
		}
	}
	require.Equal(t, batch, dormant, "only the batch that began before the demotion changed")
}

// TestRunFollowsNarrowedVisibility: a user narrowed from every customer to
// their assigned ones while a batch runs reaches only their own customers
// in the batches after it.
func TestRunFollowsNarrowedVisibility(t *testing.T) {
	t.Parallel()
	b := setupRun(t, 0)
	app, tn := b.app, b.tn
	lead := app.CreateUser(t, tn, "manager", nil)
	mine := map[string]bool{}
	for i := range 3 * batch {
		body := map[string]any{"name": fmt.Sprintf("Narrow %02d", i)}
		if i%3 == 0 {
			body["sales_rep_id"] = lead.ID
		}
		id := app.CreateCustomer(t, tn.AdminToken, body)["id"].(string)
		if i%3 == 0 {
			mine[id] = true
		}
	}

	w := b.startPausing(t, 2)
	id := b.bulkStatus(t, lead.Token, "dormant")
	w.wait(t)
	first := b.targets(t, id)[:batch]
	b.patchUser(t, lead.ID, 1, map[string]any{"visibility": "assigned"})
	close(w.resume)

	job := app.WaitJob(t, tn.AdminToken, id)
	require.Equal(t, "succeeded", job["state"], "%v", job)
	inFirst := map[string]bool{}
	for _, c := range first {
		inFirst[c] = true
	}
	statuses := b.statuses(t)
	changed := 0
	for c, status := range statuses {
		want := "active"
		if inFirst[c] || mine[c] {
			want = "dormant"
			changed++
		}
		require.Equal(t, want, status, "customer %s (first batch %v, the lead's %v)", c, inFirst[c], mine[c])
	}
	res := job["result"].(map[string]any)
	require.EqualValues(t, changed, res["changed"])
	require.EqualValues(t, 3*batch-changed, res["skipped"])
}

// TestNoUserOnlyForSystemKinds: a job without an acting user runs only for
// a kind that declares itself a system job (jobs.SystemArgs); a bulk
// update enqueued without one fails as user_inactive and changes nothing.
func TestNoUserOnlyForSystemKinds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupRun(t, 3)
	b.app.StartWorkers(t)
	before := b.statuses(t)
	jobID := uuid.New()
	err := database.WithTenantTx(ctx, b.app.DB.App, database.SystemScope(b.tenant), func(ctx context.Context, tx database.Tx) error {
		res, err := b.app.River.InsertTx(ctx, tx.Tx, customer.BulkUpdateArgs{Ref: jobs.Ref{TenantID: b.tenant, JobID: jobID}}, nil)
		if err != nil {
			return err
		}
		_, err = dbsqlc.New().JobInsert(ctx, tx, dbsqlc.JobInsertParams{TenantID: b.tenant, ID: jobID, RiverJobID: res.Job.ID,
			Kind: customer.KindBulkUpdate, Params: []byte(`{"selection": {"filter": {}}, "set": {"status": "inactive"}}`)})
		return err
	})
	require.NoError(t, err)
	job := b.app.WaitJob(t, b.tn.AdminToken, jobID.String())
	require.Equal(t, "failed", job["state"], "%v", job)
	errs := job["errors"].([]any)
	require.Equal(t, jobs.CodeUserInactive, errs[len(errs)-1].(map[string]any)["code"])
	require.Equal(t, before, b.statuses(t))
}
