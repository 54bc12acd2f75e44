package workers

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/jobs"
)

// JobsPurgeWorker deletes tenant jobs that finished more than JobRetention
// ago. Deleting is idempotent.
type JobsPurgeWorker struct {
	river.WorkerDefaults[jobs.PurgeArgs]
	deps Deps
}

// NewJobsPurgeWorker returns the worker.
func NewJobsPurgeWorker(d Deps) *JobsPurgeWorker { return &JobsPurgeWorker{deps: d} }

// Timeout implements river.Worker.
func (w *JobsPurgeWorker) Timeout(*river.Job[jobs.PurgeArgs]) time.Duration {
	return MaintenanceTimeout
}

// Work implements river.Worker.
func (w *JobsPurgeWorker) Work(ctx context.Context, job *river.Job[jobs.PurgeArgs]) error {
	before := time.Now().Add(-JobRetention)
	tenants, n, err := forEachTenant(ctx, w.deps.Pool, func(ctx context.Context, tx database.Tx) (int64, error) {
		return jobs.Purge(ctx, tx, before)
	})
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, map[string]int64{"tenants": int64(tenants), "jobs_deleted": n})
}
