package workers

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/jobs"
)

// CustomerBulkWorker runs customer bulk updates batch by batch.
type CustomerBulkWorker struct {
	river.WorkerDefaults[customer.BulkUpdateArgs]
	deps Deps
}

// NewCustomerBulkWorker returns the worker.
func NewCustomerBulkWorker(d Deps) *CustomerBulkWorker { return &CustomerBulkWorker{deps: d} }

// Timeout implements river.Worker: one attempt is a slice of batches.
func (w *CustomerBulkWorker) Timeout(*river.Job[customer.BulkUpdateArgs]) time.Duration {
	return w.deps.Runner.Timeout
}

// Work implements river.Worker.
func (w *CustomerBulkWorker) Work(ctx context.Context, job *river.Job[customer.BulkUpdateArgs]) error {
	return jobs.Run(ctx, w.deps.Runner, job, w.deps.Customers.BulkStep)
}
