package workers

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
)

// AuthPurgeWorker deletes expired tokens tenant by tenant and idle login
// counters. Deleting is idempotent, so a repeated run is harmless.
type AuthPurgeWorker struct {
	river.WorkerDefaults[auth.PurgeArgs]
	deps Deps
}

// NewAuthPurgeWorker returns the worker.
func NewAuthPurgeWorker(d Deps) *AuthPurgeWorker { return &AuthPurgeWorker{deps: d} }

// Timeout implements river.Worker.
func (w *AuthPurgeWorker) Timeout(*river.Job[auth.PurgeArgs]) time.Duration {
	return MaintenanceTimeout
}

// Work implements river.Worker.
func (w *AuthPurgeWorker) Work(ctx context.Context, job *river.Job[auth.PurgeArgs]) error {
	tenantCount, tokens, err := forEachTenant(ctx, w.deps.Pool, func(ctx context.Context, tx database.Tx) (int64, error) {
		return w.deps.Auth.PurgeExpiredTokens(ctx, tx)
	})
	if err != nil {
		return err
	}
	counters, err := w.deps.Auth.PurgeThrottle(ctx, w.deps.Pool)
	if err != nil {
		return err
	}
	w.deps.Logger.Info("auth purge done", "tenants", tenantCount, "expired_tokens", tokens, "throttle_rows", counters)
	return river.RecordOutput(ctx, map[string]int64{"tenants": int64(tenantCount), "expired_tokens": tokens, "throttle_rows": counters})
}
