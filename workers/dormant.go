package workers

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/jobs"
)

// DormantSweepWorker runs a tenant's dormant sweep batch by batch, as the
// user who asked for it or, for the daily sweep, as the tenant's system
// principal (jobs.SystemArgs).
type DormantSweepWorker struct {
	river.WorkerDefaults[customer.DormantSweepArgs]
	deps Deps
}

// NewDormantSweepWorker returns the worker.
func NewDormantSweepWorker(d Deps) *DormantSweepWorker { return &DormantSweepWorker{deps: d} }

// Timeout implements river.Worker: one attempt is a slice of batches.
func (w *DormantSweepWorker) Timeout(*river.Job[customer.DormantSweepArgs]) time.Duration {
	return w.deps.Runner.Timeout
}

// Work implements river.Worker.
func (w *DormantSweepWorker) Work(ctx context.Context, job *river.Job[customer.DormantSweepArgs]) error {
	return jobs.Run(ctx, w.deps.Runner, job, w.deps.Customers.DormantStep)
}

// DormantScheduleWorker enqueues, every hour, the daily sweep of each
// tenant whose sweep hour has come today and whose sweep of today is not
// enqueued yet. Running it again (another process, a retry, a restart with
// RunOnStart) enqueues nothing more: each sweep's job id is its tenant's
// and its day's. A tenant whose hour passed while no worker ran is swept
// at the next run of the day.
type DormantScheduleWorker struct {
	river.WorkerDefaults[customer.DormantScheduleArgs]
	deps Deps
}

// NewDormantScheduleWorker returns the worker.
func NewDormantScheduleWorker(d Deps) *DormantScheduleWorker { return &DormantScheduleWorker{deps: d} }

// Timeout implements river.Worker.
func (w *DormantScheduleWorker) Timeout(*river.Job[customer.DormantScheduleArgs]) time.Duration {
	return MaintenanceTimeout
}

// Work implements river.Worker.
func (w *DormantScheduleWorker) Work(ctx context.Context, job *river.Job[customer.DormantScheduleArgs]) error {
	rc, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return fmt.Errorf("river client: %w", err)
	}
	tenants, started, err := ScheduleDormantSweeps(ctx, w.deps, rc, time.Now())
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, map[string]int64{"tenants": int64(tenants), "sweeps_started": started})
}

// ScheduleDormantSweeps enqueues through rc the sweeps due at now (see
// DormantScheduleWorker), each in its tenant's system scope, and returns
// how many tenants it looked at and how many sweeps it started.
func ScheduleDormantSweeps(ctx context.Context, d Deps, rc jobs.Client, now time.Time) (int, int64, error) {
	js := jobs.NewService(rc, d.JobKinds, d.Logger)
	return forEachTenant(ctx, d.Pool, func(ctx context.Context, tx database.Tx) (int64, error) {
		started, err := d.Customers.ScheduleSweep(ctx, tx, js, now)
		if started {
			return 1, err
		}
		return 0, err
	})
}
