package workers

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/location"
)

// LocationBulkWorker runs location bulk updates batch by batch.
type LocationBulkWorker struct {
	river.WorkerDefaults[location.BulkUpdateArgs]
	deps Deps
}

// NewLocationBulkWorker returns the worker.
func NewLocationBulkWorker(d Deps) *LocationBulkWorker { return &LocationBulkWorker{deps: d} }

// Timeout implements river.Worker: one attempt is a slice of batches.
func (w *LocationBulkWorker) Timeout(*river.Job[location.BulkUpdateArgs]) time.Duration {
	return w.deps.Runner.Timeout
}

// Work implements river.Worker.
func (w *LocationBulkWorker) Work(ctx context.Context, job *river.Job[location.BulkUpdateArgs]) error {
	return jobs.Run(ctx, w.deps.Runner, job, w.deps.Locations.BulkStep)
}
