package database_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/tenant"
)

// TestRequestTx: a request's transaction, begun with its context set (as
// authentication does), is the one its handler's WithTenantTx runs in when
// scope and options fit; otherwise it is ended first, so that the request
// never holds two connections; End releases one nobody took.
func TestRequestTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Shared(t)
	s := seed(ctx, t, db.App)
	pool, err := database.Open(ctx, db.AppURL, database.PoolOptions{MaxConns: 2})
	require.NoError(t, err)
	defer pool.Close()
	rep := database.Scope{TenantID: s.tenantID, UserID: &s.repID, Visibility: tenant.VisibilityAssigned}

	// first is authentication's part: one QueryRow that sets the context
	// (pipelined after BEGIN).
	begin := func(readOnly bool) (pid int64, rt *database.RequestTx) {
		pid, rt, err := database.BeginRequest(ctx, pool, readOnly, func(ctx context.Context, q dbsqlc.DBTX) (int64, database.Scope, error) {
			var pid int64
			err := q.QueryRow(ctx, `SELECT pg_backend_pid() FROM app_set_context($1, $2, $3, NULL)`,
				rep.TenantID, rep.UserID, rep.Visibility).Scan(&pid)
			return pid, rep, err
		})
		require.NoError(t, err)
		return pid, rt
	}
	backend := func(ctx context.Context, tx database.Tx) int64 {
		var pid int64
		require.NoError(t, tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
		return pid
	}

	t.Run("TakenOverBySameScope", func(t *testing.T) {
		pid, rt := begin(true)
		rctx := database.WithRequestTx(ctx, rt)
		err := database.WithTenantTx(rctx, pool, rep, func(ctx context.Context, tx database.Tx) error {
			require.Equal(t, pid, backend(ctx, tx), "the handler runs on the request's connection")
			require.Equal(t, 1, count(ctx, t, tx, "customers"), "the context authentication set is in force")
			var readOnly string
			require.NoError(t, tx.QueryRow(ctx, `SHOW transaction_read_only`).Scan(&readOnly))
			require.Equal(t, "on", readOnly)
			require.EqualValues(t, 1, pool.Stat().AcquiredConns())
			return nil
		}, database.ReadOnly)
		require.NoError(t, err)
		rt.End(ctx)
		require.EqualValues(t, 0, pool.Stat().AcquiredConns())
	})

	t.Run("EndedForAnotherScope", func(t *testing.T) {
		_, rt := begin(true)
		rctx := database.WithRequestTx(ctx, rt)
		err := database.WithTenantTx(rctx, pool, database.SystemScope(s.tenantID), func(ctx context.Context, tx database.Tx) error {
			require.Equal(t, 2, count(ctx, t, tx, "customers"))
			require.EqualValues(t, 1, pool.Stat().AcquiredConns(), "the request's transaction was released first")
			return nil
		})
		require.NoError(t, err)
	})

	t.Run("ReadOnlyNotTakenForWrites", func(t *testing.T) {
		_, rt := begin(true)
		rctx := database.WithRequestTx(ctx, rt)
		err := database.WithTenantTx(rctx, pool, rep, func(ctx context.Context, tx database.Tx) error {
			var readOnly string
			require.NoError(t, tx.QueryRow(ctx, `SHOW transaction_read_only`).Scan(&readOnly))
			require.Equal(t, "off", readOnly)
			require.EqualValues(t, 1, pool.Stat().AcquiredConns())
			return nil
		})
		require.NoError(t, err)
	})

	t.Run("ReadWriteTakenAsReadOnly", func(t *testing.T) {
		_, rt := begin(false)
		rctx := database.WithRequestTx(ctx, rt)
		err := database.WithTenantTx(rctx, pool, rep, func(ctx context.Context, tx database.Tx) error {
			var readOnly string
			require.NoError(t, tx.QueryRow(ctx, `SHOW transaction_read_only`).Scan(&readOnly))
			require.Equal(t, "on", readOnly, "a handler asking for a read-only transaction gets one")
			return nil
		}, database.ReadOnly)
		require.NoError(t, err)
	})

	t.Run("FirstFails", func(t *testing.T) {
		_, _, err := database.BeginRequest(ctx, pool, true, func(ctx context.Context, q dbsqlc.DBTX) (int64, database.Scope, error) {
			var n int64
			err := q.QueryRow(ctx, `SELECT 1 / $1::int`, 0).Scan(&n)
			return n, rep, err
		})
		require.ErrorContains(t, err, "division by zero")
		require.EqualValues(t, 0, pool.Stat().AcquiredConns(), "rolled back and given back")
		// The connection is usable (not left inside a transaction).
		require.NoError(t, database.WithTenantTx(ctx, pool, rep, func(ctx context.Context, tx database.Tx) error {
			require.Equal(t, 1, count(ctx, t, tx, "customers"))
			return nil
		}))
	})

	t.Run("Savepoints", func(t *testing.T) {
		_, rt := begin(false)
		rctx := database.WithRequestTx(ctx, rt)
		err := database.WithTenantTx(rctx, pool, rep, func(ctx context.Context, tx database.Tx) error {
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE sp_probe (n int) ON COMMIT DROP`); err != nil {
				return err
			}
			require.Error(t, tx.Savepoint(ctx, func(ctx context.Context, tx database.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO sp_probe VALUES (1)`)
				require.NoError(t, err)
				_, err = tx.Exec(ctx, `SELECT 1 / 0`)
				return err
			}))
			require.NoError(t, tx.Savepoint(ctx, func(ctx context.Context, tx database.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO sp_probe VALUES (2)`)
				return err
			}))
			var sum int
			require.NoError(t, tx.QueryRow(ctx, `SELECT coalesce(sum(n), 0) FROM sp_probe`).Scan(&sum))
			require.Equal(t, 2, sum, "the failed savepoint rolled back, the other kept, the transaction went on")
			return nil
		})
		require.NoError(t, err)
		require.EqualValues(t, 0, pool.Stat().AcquiredConns())
	})

	t.Run("EndReleasesUntaken", func(t *testing.T) {
		_, rt := begin(true)
		require.EqualValues(t, 1, pool.Stat().AcquiredConns())
		rt.End(ctx)
		rt.End(ctx)
		require.EqualValues(t, 0, pool.Stat().AcquiredConns())
		// A later transaction of the same request begins afresh.
		err := database.WithTenantTx(database.WithRequestTx(ctx, rt), pool, rep, func(ctx context.Context, tx database.Tx) error {
			require.Equal(t, 1, count(ctx, t, tx, "customers"))
			return nil
		})
		require.NoError(t, err)
	})
}

// TestCustomPlans: in a CustomPlans transaction every run of a statement
// is planned for its values, however often it runs, where a prepared
// statement turns to a generic plan after five (pg_prepared_statements
// counts them); savepoints inherit it.
func TestCustomPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Shared(t)
	s := seed(ctx, t, db.App)
	const q = `SELECT id FROM customers WHERE tenant_id = $1 AND id = $2 /* TestCustomPlans */`
	run := func(ctx context.Context, tx database.Tx) {
		var id uuid.UUID
		require.NoError(t, tx.QueryRow(ctx, q, s.tenantID, s.repCustomer).Scan(&id))
	}
	generic := func(ctx context.Context, tx database.Tx) int64 {
		var n int64
		require.NoError(t, tx.QueryRow(ctx, `SELECT coalesce(sum(generic_plans), 0)::bigint FROM pg_prepared_statements WHERE statement = $1`,
			pgx.QueryExecModeSimpleProtocol, q).Scan(&n))
		return n
	}
	err := database.WithTenantTx(ctx, db.App, database.SystemScope(s.tenantID), func(ctx context.Context, tx database.Tx) error {
		for i := 0; i < 8; i++ {
			run(ctx, tx)
		}
		require.NoError(t, tx.Savepoint(ctx, func(ctx context.Context, tx database.Tx) error {
			run(ctx, tx)
			return nil
		}))
		require.Zero(t, generic(ctx, tx), "no run used a generic plan")
		return nil
	}, database.ReadOnly, database.CustomPlans)
	require.NoError(t, err)
}
