package httpapi

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
)

// DefaultIdempotencyTTL is how long an Idempotency-Key is kept unless
// configured (CUSTOMERHUB_IDEMPOTENCY_TTL): a client retrying within a
// day gets the first answer again.
const DefaultIdempotencyTTL = 24 * time.Hour

// IdempotencyPurgeArgs is the periodic job that deletes expired
// idempotency keys (and the responses they store) tenant by tenant. It is
// system work across tenants: the worker visits each tenant in that
// tenant's system scope, which alone may delete every user's keys
// (migration 000009).
type IdempotencyPurgeArgs struct{}

// Kind implements river.JobArgs.
func (IdempotencyPurgeArgs) Kind() string { return "idempotency_purge" }

// InsertOpts makes the job unique per hour, so that a leader change or a
// restart does not run it twice in a row.
func (IdempotencyPurgeArgs) InsertOpts() river.InsertOpts {
	// Periodic: a few attempts, then the next period's run takes over.
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

// PurgeIdempotencyKeys deletes the tenant's keys created before the cutoff
// and says how many. tx must be the tenant's system scope: a user's scope
// sees only that user's keys.
func PurgeIdempotencyKeys(ctx context.Context, tx database.Tx, before time.Time) (int64, error) {
	n, err := dbsqlc.New().IdempotencyPurge(ctx, tx, dbsqlc.IdempotencyPurgeParams{TenantID: tx.TenantID(), Before: before})
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return n, nil
}
