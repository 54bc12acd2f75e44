package workers

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/merge"
	"github.com/customerhub/customerhub/internal/tenant"
)

// CustomerMergeWorker runs the merges too big for one request: the
// duplicate's orders, payments and contacts move batch by batch, the rest
// in the last step (merge.Service.Step).
type CustomerMergeWorker struct {
	river.WorkerDefaults[merge.Args]
	deps Deps
	svc  *merge.Service
}

// NewCustomerMergeWorker returns the worker, with a merge service on the
// shared customer and order services.
func NewCustomerMergeWorker(d Deps) *CustomerMergeWorker {
	return &CustomerMergeWorker{deps: d, svc: merge.NewService(d.Logger, d.Customers, d.Orders)}
}

// Timeout implements river.Worker: one attempt is a slice of steps.
func (w *CustomerMergeWorker) Timeout(*river.Job[merge.Args]) time.Duration {
	return w.deps.Runner.Timeout
}

// Work implements river.Worker.
func (w *CustomerMergeWorker) Work(ctx context.Context, job *river.Job[merge.Args]) error {
	return jobs.Run(ctx, w.deps.Runner, job, func(ctx context.Context, tx database.Tx, actor *tenant.Principal, p *jobs.Progress) (bool, error) {
		return w.svc.Step(ctx, tx, actor, job.Args, p)
	})
}
