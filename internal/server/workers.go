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
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/workers"
)

// NewWorkers registers every River worker on the domain services. serve,
// worker and the tests build their workers here, so they cannot differ.
func NewWorkers(cfg config.Config, svc *Services, pool *pgxpool.Pool, logger *slog.Logger) *river.Workers {
	ws := river.NewWorkers()
	workers.Register(ws, workers.Deps{
		Pool: pool, Auth: svc.Auth, Orders: svc.Orders, Customers: svc.Customers, Locations: svc.Locations,
		Jobs: jobs.NewService(nil, logger), Runner: NewRunner(svc.Auth, pool, cfg.JobAttemptTimeout, logger), Logger: logger,
	})
	return ws
}

// NewRunner returns the runner of tenant jobs: each acts as the user who
// started it, with that user's role and visibility as they are when the
// job runs.
func NewRunner(a *auth.Service, pool *pgxpool.Pool, timeout time.Duration, logger *slog.Logger) *jobs.Runner {
	return jobs.NewRunner(pool, func(ctx context.Context, tx database.Tx, ref jobs.Ref) (*tenant.Principal, error) {
		p, err := a.PrincipalFor(ctx, tx, ref.UserID)
		switch {
		case errors.Is(err, auth.ErrUnauthenticated):
			return nil, jobs.Fail("the user who started this job is no longer active")
		case errors.Is(err, auth.ErrTenantSuspended):
			return nil, jobs.Fail("the account is suspended")
		}
		return p, err
	}, timeout, logger)
}
