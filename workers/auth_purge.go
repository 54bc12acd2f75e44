package workers

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
)

// AuthPurgeWorker deletes expired tokens tenant by tenant and idle login
// counters. Deleting is idempotent, so a repeated run is harmless.
type AuthPurgeWorker struct {
	river.WorkerDefaults[auth.PurgeArgs]
	deps Deps
}

// NewAuthPurgeWorker returns the worker.
func NewAuthPurgeWorker(d Deps) *AuthPurgeWorker { return &AuthPurgeWorker{deps: d} }

// Work implements river.Worker.
func (w *AuthPurgeWorker) Work(ctx context.Context, job *river.Job[auth.PurgeArgs]) error {
	// Listing tenants reads the global tenants table; each purge then runs
	// in that tenant's own row-level security scope.
	ids, err := dbsqlc.New().TenantListIDs(ctx, w.deps.Pool)
	if err != nil {
		return fmt.Errorf("list tenants: %w", err)
	}
	var tokens int64
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := database.WithTenantTxV(ctx, w.deps.Pool, database.SystemScope(id), func(ctx context.Context, tx database.Tx) (int64, error) {
			return w.deps.Auth.PurgeExpiredTokens(ctx, tx)
		})
		if err != nil {
			return fmt.Errorf("purge tenant %s: %w", uuid.UUID(id), err)
		}
		tokens += n
	}
	counters, err := w.deps.Auth.PurgeThrottle(ctx, w.deps.Pool)
	if err != nil {
		return err
	}
	w.deps.Logger.Info("auth purge done", "tenants", len(ids), "expired_tokens", tokens, "throttle_rows", counters)
	return river.RecordOutput(ctx, map[string]int64{"tenants": int64(len(ids)), "expired_tokens": tokens, "throttle_rows": counters})
}
