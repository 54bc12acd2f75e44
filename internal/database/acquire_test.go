package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// TestAcquireWait: with every pooled connection held, a transaction begun
// under an acquire wait fails after that wait as the database's
// unavailability (a 503), through WithTenantTx and BeginRequest alike,
// long before the context's own deadline; without one it waits; once a
// connection is free it begins at once.
func TestAcquireWait(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Shared(t)
	s := seed(ctx, t, db.App)
	pool, err := database.Open(ctx, db.AppURL, database.PoolOptions{MaxConns: 1})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	held, err := pool.Acquire(ctx)
	require.NoError(t, err)

	deadline, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	waitCtx := database.WithAcquireWait(deadline, 200*time.Millisecond)
	start := time.Now()
	err = database.WithTenantTx(waitCtx, pool, database.SystemScope(s.tenantID), func(context.Context, database.Tx) error { return nil })
	require.Error(t, err)
	require.True(t, database.IsUnavailable(err), "%v", err)
	require.Less(t, time.Since(start), 5*time.Second)

	start = time.Now()
	_, _, err = database.BeginRequest(waitCtx, pool, true, func(ctx context.Context, q dbsqlc.DBTX) (int, database.Scope, error) {
		return 0, database.Scope{}, nil
	})
	require.Error(t, err)
	require.True(t, database.IsUnavailable(err), "%v", err)
	require.Less(t, time.Since(start), 5*time.Second)

	// Without a wait, the transaction queues until the connection is
	// given back.
	go func() {
		time.Sleep(300 * time.Millisecond)
		held.Release()
	}()
	var n int
	err = database.WithTenantTx(deadline, pool, database.SystemScope(s.tenantID), func(ctx context.Context, tx database.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM customers WHERE tenant_id = $1`, s.tenantID).Scan(&n)
	})
	require.NoError(t, err)
	require.Equal(t, 2, n)

	// A free connection begins under the wait as usual.
	err = database.WithTenantTx(waitCtx, pool, database.SystemScope(s.tenantID), func(context.Context, database.Tx) error { return nil })
	require.NoError(t, err)
}
