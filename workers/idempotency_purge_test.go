package workers_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/workers"
)

// keyTenant is a tenant with two users' idempotency keys.
type keyTenant struct {
	id     uuid.UUID
	a, b   uuid.UUID
	expect []string // the keys the purge keeps
}

// seedKeys creates a tenant whose user a has an expired and a fresh key,
// and user b an expired one. Keys are written as their user writes them,
// in that user's scope.
func seedKeys(t *testing.T, db *dbtest.DB, ttl time.Duration) keyTenant {
	t.Helper()
	ctx := context.Background()
	kt := keyTenant{id: uuid.New(), a: uuid.New(), b: uuid.New(), expect: []string{"a-fresh"}}
	require.NoError(t, database.WithTenantTx(ctx, db.App, database.SystemScope(kt.id), func(ctx context.Context, tx database.Tx) error {
		_, err := dbsqlc.New().TenantInsert(ctx, tx, dbsqlc.TenantInsertParams{ID: kt.id, Slug: "k-" + kt.id.String()[:8], Name: "K"})
		return err
	}))
	for user, keys := range map[uuid.UUID]map[string]time.Duration{
		kt.a: {"a-old": ttl + time.Hour, "a-fresh": ttl - time.Hour},
		kt.b: {"b-old": ttl + time.Minute},
	} {
		require.NoError(t, database.WithTenantTx(ctx, db.App, userScope(kt.id, user), func(ctx context.Context, tx database.Tx) error {
			for key, age := range keys {
				if _, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, user_id, key, method, path, fingerprint, status, body, created_at)
					VALUES ($1, $2, $3, 'POST', '/v1/customers', '\x00', 201, '{}', now() - make_interval(secs => $4))`,
					kt.id, user, key, age.Seconds()); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	return kt
}

// userScope is the scope of a request by user, who sees every customer.
func userScope(tenantID, user uuid.UUID) database.Scope {
	return database.Scope{TenantID: tenantID, UserID: &user, Visibility: tenant.VisibilityAll}
}

// keys lists the keys a scope sees, sorted.
func keys(t *testing.T, db *dbtest.DB, s database.Scope) []string {
	t.Helper()
	var out []string
	require.NoError(t, database.WithTenantTx(context.Background(), db.App, s, func(ctx context.Context, tx database.Tx) error {
		rows, err := tx.Query(ctx, `SELECT key FROM idempotency_keys WHERE tenant_id = $1 ORDER BY key`, s.TenantID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	}))
	return out
}

// TestIdempotencyPurge: the hourly purge deletes every user's keys older
// than the TTL in every tenant, and keeps the fresh ones.
func TestIdempotencyPurge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Shared(t)
	ttl := 24 * time.Hour
	t1, t2 := seedKeys(t, db, ttl), seedKeys(t, db, ttl)

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := workers.NewIdempotencyPurgeWorker(workers.Deps{Pool: db.App, Logger: logger, IdempotencyTTL: ttl})
	tw := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{Schema: database.RiverSchema}, w)
	tx, err := db.App.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx) //nolint:errcheck // test transaction
	res, err := tw.Work(ctx, t, tx, httpapi.IdempotencyPurgeArgs{}, nil)
	require.NoError(t, err)
	require.Equal(t, river.EventKindJobCompleted, res.EventKind)

	for _, kt := range []keyTenant{t1, t2} {
		require.Equal(t, kt.expect, keys(t, db, database.SystemScope(kt.id)))
		require.Equal(t, []string{"a-fresh"}, keys(t, db, userScope(kt.id, kt.a)))
		require.Empty(t, keys(t, db, userScope(kt.id, kt.b)))
	}

	// Running again is harmless.
	res, err = tw.Work(ctx, t, tx, httpapi.IdempotencyPurgeArgs{}, nil)
	require.NoError(t, err)
	require.Equal(t, river.EventKindJobCompleted, res.EventKind)
	require.Equal(t, t1.expect, keys(t, db, database.SystemScope(t1.id)))
}

// TestIdempotencyKeysSystemAccess: what the system scope may do with
// idempotency keys (read and delete every user's, never write one) stays
// out of a user's reach: in their scope a user sees and deletes only their
// own keys, whatever their visibility.
func TestIdempotencyKeysSystemAccess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Shared(t)
	kt := seedKeys(t, db, time.Hour)

	require.Equal(t, []string{"a-fresh", "a-old", "b-old"}, keys(t, db, database.SystemScope(kt.id)))
	require.Equal(t, []string{"a-fresh", "a-old"}, keys(t, db, userScope(kt.id, kt.a)))
	require.Equal(t, []string{"b-old"}, keys(t, db, userScope(kt.id, kt.b)))
	// Another tenant's system scope sees none of them.
	require.Empty(t, keys(t, db, database.SystemScope(uuid.New())))

	// A user's scope deletes nothing of another user's, purge or not.
	errRollback := errors.New("roll back")
	require.ErrorIs(t, database.WithTenantTx(ctx, db.App, userScope(kt.id, kt.a), func(ctx context.Context, tx database.Tx) error {
		n, err := httpapi.PurgeIdempotencyKeys(ctx, tx, time.Now())
		require.NoError(t, err)
		require.EqualValues(t, 2, n, "only a's own keys")
		tag, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE tenant_id = $1 AND user_id = $2`, kt.id, kt.b)
		require.NoError(t, err)
		require.Zero(t, tag.RowsAffected())
		return errRollback
	}), errRollback)
	require.Equal(t, []string{"b-old"}, keys(t, db, userScope(kt.id, kt.b)))

	// The system scope cannot write a key: no response can be planted for
	// a user to replay.
	err := database.WithTenantTx(ctx, db.App, database.SystemScope(kt.id), func(ctx context.Context, tx database.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE idempotency_keys SET body = 'planted' WHERE tenant_id = $1`, kt.id)
		require.NoError(t, err)
		require.Zero(t, tag.RowsAffected())
		_, err = tx.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, user_id, key, method, path, fingerprint)
			VALUES ($1, $2, 'planted', 'POST', '/v1/customers', '\x00')`, kt.id, kt.a)
		return err
	})
	require.True(t, database.IsPolicyViolation(err), "%v", err)
}
