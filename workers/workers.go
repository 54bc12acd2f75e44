// Package workers holds the River workers. Job argument types live in their
// domain packages (auth.PurgeArgs, ...); a worker here opens the same
// tenant-scoped transaction a request would and calls the domain service,
// staying as thin as a handler.
package workers

import (
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/order"
)

// Deps is what the workers need.
type Deps struct {
	Pool   *pgxpool.Pool
	Auth   *auth.Service
	Orders *order.Service
	Logger *slog.Logger
}

// Register adds every worker to w.
func Register(w *river.Workers, d Deps) {
	river.AddWorker(w, NewAuthPurgeWorker(d))
	river.AddWorker(w, NewOverdueRefreshWorker(d))
}

// PeriodicJobs lists the jobs the elected leader enqueues on a schedule.
func PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour), func() (river.JobArgs, *river.InsertOpts) {
			return auth.PurgeArgs{}, nil
		}, &river.PeriodicJobOpts{ID: "auth_purge", RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour), func() (river.JobArgs, *river.InsertOpts) {
			return order.RefreshOverdueArgs{}, nil
		}, &river.PeriodicJobOpts{ID: "order_overdue_refresh", RunOnStart: true}),
	}
}
