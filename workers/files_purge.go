package workers

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/files"
)

// FilesPurgeWorker deletes expired stored files (export results, uploads
// no import holds any longer), tenant by tenant, in each tenant's system
// scope. Deleting is idempotent, so a repeated run is harmless.
type FilesPurgeWorker struct {
	river.WorkerDefaults[files.PurgeArgs]
	deps Deps
}

// NewFilesPurgeWorker returns the worker.
func NewFilesPurgeWorker(d Deps) *FilesPurgeWorker { return &FilesPurgeWorker{deps: d} }

// Timeout implements river.Worker.
func (w *FilesPurgeWorker) Timeout(*river.Job[files.PurgeArgs]) time.Duration {
	return MaintenanceTimeout
}

// Work implements river.Worker.
func (w *FilesPurgeWorker) Work(ctx context.Context, job *river.Job[files.PurgeArgs]) error {
	now := time.Now()
	tenants, n, err := forEachTenant(ctx, w.deps.Pool, func(ctx context.Context, tx database.Tx) (int64, error) {
		return files.Purge(ctx, tx, now)
	})
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, map[string]int64{"tenants": int64(tenants), "files_deleted": n})
}
