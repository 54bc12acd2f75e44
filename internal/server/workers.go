package server

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/config"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/importer"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/location"
	"github.com/customerhub/customerhub/internal/merge"
	"github.com/customerhub/customerhub/internal/sms"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/workers"
)

// NewWorkers registers every River worker on the domain services. serve,
// worker and the tests build their workers here, so they cannot differ.
func NewWorkers(cfg config.Config, svc *Services, pool *pgxpool.Pool, logger *slog.Logger) *river.Workers {
	ws := river.NewWorkers()
	workers.Register(ws, workers.Deps{
		Pool: pool, Auth: svc.Auth, Orders: svc.Orders, Customers: svc.Customers, Locations: svc.Locations, Importer: svc.Importer,
		JobKinds: JobKinds(), Runner: NewRunner(svc.Auth, pool, cfg.JobAttemptTimeout, logger), Logger: logger,
		IdempotencyTTL: cfg.IdempotencyTTL,
		Exports:        &importer.ExportJob{Exporter: svc.Exports, Retention: cfg.ExportRetention},
		ExportRunner:   NewRunner(svc.Auth, pool, importer.ExportAttemptTimeout, logger),
		SMSDispatcher:  svc.SMSDispatcher, SMSCampaigns: sms.NewCampaigns(svc.SMS, svc.Customers, nil, nil, logger),
		SMSTrackInterval: cfg.SMSTrackInterval,
	})
	return ws
}

// JobKinds registers every tenant job kind with the permission it needs
// (jobs.Args.Permission): the runner checks it before each step, and
// cancelling a job takes it too. A kind missing here cannot be enqueued.
func JobKinds() jobs.Kinds {
	return jobs.KindsOf(customer.BulkUpdateArgs{}, location.BulkUpdateArgs{}, merge.Args{}, importer.Args{}, importer.ExportArgs{},
		customer.DormantSweepArgs{}, sms.CampaignArgs{})
}

// NewRunner returns the runner of tenant jobs: each acts as the user who
// started it, with that user's role and visibility as they are when the
// job runs.
func NewRunner(a *auth.Service, pool *pgxpool.Pool, timeout time.Duration, logger *slog.Logger) *jobs.Runner {
	return jobs.NewRunner(pool, func(ctx context.Context, tx database.Tx, ref jobs.Ref) (*tenant.Principal, error) {
		p, err := a.PrincipalFor(ctx, tx, ref.UserID)
		switch {
		case errors.Is(err, auth.ErrUnauthenticated):
			return nil, jobs.FailCode(jobs.CodeUserInactive, "the user who started this job is no longer active")
		case errors.Is(err, auth.ErrTenantSuspended):
			return nil, jobs.FailCode(jobs.CodeTenantSuspended, "the account is suspended")
		}
		return p, err
	}, timeout, logger)
}
