// Package workers holds the River workers. Job argument types live in their
// domain packages (auth.PurgeArgs, customer.BulkUpdateArgs, ...); a worker
// here opens the same tenant-scoped transaction a request would and calls
// the domain service, staying as thin as a handler.
//
// Two shapes of worker:
//   - maintenance jobs (periodic, system-wide) walk the tenants one by one,
//     each in its own system-scoped transaction, on the default queue;
//   - tenant jobs (bulk updates, merges, dormant sweeps) act for the user
//     who started them, or for no user (a system job, jobs.SystemArgs),
//     through jobs.Run, batch by batch, on their own queue.
package workers

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/files"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/importer"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/location"
	"github.com/customerhub/customerhub/internal/order"
	"github.com/customerhub/customerhub/internal/sms"
)

// Deps is what the workers need.
type Deps struct {
	Pool      *pgxpool.Pool
	Auth      *auth.Service
	Orders    *order.Service
	Customers *customer.Service
	Locations *location.Service
	Importer  *importer.Service
	// JobKinds are the tenant job kinds a worker may start (a dormant
	// schedule starts sweeps). Workers get no jobs.Service here: the River
	// client a service inserts through is built from these very workers,
	// so it does not exist yet when they are; a worker that starts jobs
	// makes its service from the client working it (river.ClientFromContext).
	JobKinds jobs.Kinds
	Runner   *jobs.Runner
	Logger   *slog.Logger
	// IdempotencyTTL is how long idempotency keys are kept
	// (httpapi.DefaultIdempotencyTTL when zero).
	IdempotencyTTL time.Duration
	// Exports works export jobs, with ExportRunner: its attempts are long
	// enough to write a whole file (importer.ExportAttemptTimeout).
	Exports      *importer.ExportJob
	ExportRunner *jobs.Runner
	// SMSDispatcher sends campaign messages; SMSCampaigns tracks campaigns,
	// looking at each every SMSTrackInterval (sms.DefaultTrackInterval
	// when zero).
	SMSDispatcher    *sms.Dispatcher
	SMSCampaigns     *sms.Campaigns
	SMSTrackInterval time.Duration
}

// MaintenanceTimeout bounds one run of a maintenance job. It walks every
// tenant, so it may take a while; the rescuer leaves it alone until then.
const MaintenanceTimeout = 30 * time.Minute

// JobRetention is how long a finished tenant job stays visible.
const JobRetention = 30 * 24 * time.Hour

// Register adds every worker to w.
func Register(w *river.Workers, d Deps) {
	river.AddWorker(w, NewAuthPurgeWorker(d))
	river.AddWorker(w, NewOverdueRefreshWorker(d))
	river.AddWorker(w, NewJobsPurgeWorker(d))
	river.AddWorker(w, NewIdempotencyPurgeWorker(d))
	river.AddWorker(w, NewCustomerBulkWorker(d))
	river.AddWorker(w, NewCustomerMergeWorker(d))
	river.AddWorker(w, NewLocationBulkWorker(d))
	river.AddWorker(w, NewFilesPurgeWorker(d))
	river.AddWorker(w, NewCustomerExportWorker(d))
	river.AddWorker(w, NewImportWorker(d))
	river.AddWorker(w, NewImportsPurgeWorker(d))
	river.AddWorker(w, NewDormantSweepWorker(d))
	river.AddWorker(w, NewDormantScheduleWorker(d))
	river.AddWorker(w, NewSMSSendWorker(d))
	river.AddWorker(w, NewSMSCampaignWorker(d))
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
		river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour), func() (river.JobArgs, *river.InsertOpts) {
			return jobs.PurgeArgs{}, nil
		}, &river.PeriodicJobOpts{ID: "jobs_purge", RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour), func() (river.JobArgs, *river.InsertOpts) {
			return httpapi.IdempotencyPurgeArgs{}, nil
		}, &river.PeriodicJobOpts{ID: "idempotency_purge", RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour), func() (river.JobArgs, *river.InsertOpts) {
			return files.PurgeArgs{}, nil
		}, &river.PeriodicJobOpts{ID: "files_purge", RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour), func() (river.JobArgs, *river.InsertOpts) {
			return importer.PurgeArgs{}, nil
		}, &river.PeriodicJobOpts{ID: "imports_purge", RunOnStart: true}),
		// Hourly, so that each tenant's sweep starts within the hour it
		// chose (dormant_sweep_hour, UTC) and a missed hour is caught up.
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour), func() (river.JobArgs, *river.InsertOpts) {
			return customer.DormantScheduleArgs{}, nil
		}, &river.PeriodicJobOpts{ID: "customer_dormant_schedule", RunOnStart: true}),
	}
}

// forEachTenant runs fn in a system-scoped transaction of every tenant in
// turn and sums what it returns. Listing tenants reads the global tenants
// table; each call sees only its tenant's rows.
func forEachTenant(ctx context.Context, pool *pgxpool.Pool, fn func(ctx context.Context, tx database.Tx) (int64, error)) (tenants int, total int64, err error) {
	ids, err := dbsqlc.New().TenantListIDs(ctx, pool)
	if err != nil {
		return 0, 0, fmt.Errorf("list tenants: %w", err)
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return 0, total, err
		}
		n, err := database.WithTenantTxV(ctx, pool, database.SystemScope(id), fn)
		if err != nil {
			return 0, total, fmt.Errorf("tenant %s: %w", uuid.UUID(id), err)
		}
		total += n
	}
	return len(ids), total, nil
}
