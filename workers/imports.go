package workers

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/importer"
	"github.com/customerhub/customerhub/internal/jobs"
)

// ImportWorker runs imports batch by batch (importer.Service.Step).
type ImportWorker struct {
	river.WorkerDefaults[importer.Args]
	deps Deps
}

// NewImportWorker returns the worker.
func NewImportWorker(d Deps) *ImportWorker { return &ImportWorker{deps: d} }

// Timeout implements river.Worker: one attempt is a slice of batches (the
// file stays open between attempts the same process works).
func (w *ImportWorker) Timeout(*river.Job[importer.Args]) time.Duration {
	return w.deps.Runner.Timeout
}

// Work implements river.Worker.
func (w *ImportWorker) Work(ctx context.Context, job *river.Job[importer.Args]) error {
	return jobs.Run(ctx, w.deps.Runner, job, w.deps.Importer.Step)
}

// ImportsPurgeWorker deletes imports past their retention, with their row
// errors and uploaded files, tenant by tenant in each system scope.
type ImportsPurgeWorker struct {
	river.WorkerDefaults[importer.PurgeArgs]
	deps Deps
}

// NewImportsPurgeWorker returns the worker.
func NewImportsPurgeWorker(d Deps) *ImportsPurgeWorker { return &ImportsPurgeWorker{deps: d} }

// Timeout implements river.Worker.
func (w *ImportsPurgeWorker) Timeout(*river.Job[importer.PurgeArgs]) time.Duration {
	return MaintenanceTimeout
}

// Work implements river.Worker.
func (w *ImportsPurgeWorker) Work(ctx context.Context, job *river.Job[importer.PurgeArgs]) error {
	now := time.Now()
	tenants, n, err := forEachTenant(ctx, w.deps.Pool, func(ctx context.Context, tx database.Tx) (int64, error) {
		return w.deps.Importer.Purge(ctx, tx, now)
	})
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, map[string]int64{"tenants": int64(tenants), "imports_deleted": n})
}
