package workers

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
)

// IdempotencyPurgeWorker deletes the idempotency keys (and the responses
// they store) older than Deps.IdempotencyTTL, tenant by tenant. Deleting
// is idempotent, so a repeated run is harmless.
type IdempotencyPurgeWorker struct {
	river.WorkerDefaults[httpapi.IdempotencyPurgeArgs]
	deps Deps
}

// NewIdempotencyPurgeWorker returns the worker.
func NewIdempotencyPurgeWorker(d Deps) *IdempotencyPurgeWorker {
	return &IdempotencyPurgeWorker{deps: d}
}

// Timeout implements river.Worker.
func (w *IdempotencyPurgeWorker) Timeout(*river.Job[httpapi.IdempotencyPurgeArgs]) time.Duration {
	return MaintenanceTimeout
}

// Work implements river.Worker.
func (w *IdempotencyPurgeWorker) Work(ctx context.Context, job *river.Job[httpapi.IdempotencyPurgeArgs]) error {
	ttl := w.deps.IdempotencyTTL
	if ttl <= 0 {
		ttl = httpapi.DefaultIdempotencyTTL
	}
	before := time.Now().Add(-ttl)
	// The system scope of each tenant may delete every user's keys
	// (migration 000009); a user's scope would see only their own.
	tenants, n, err := forEachTenant(ctx, w.deps.Pool, func(ctx context.Context, tx database.Tx) (int64, error) {
		return httpapi.PurgeIdempotencyKeys(ctx, tx, before)
	})
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, map[string]int64{"tenants": int64(tenants), "keys_deleted": n})
}
