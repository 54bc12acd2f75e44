package demodata_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/demodata"
	"github.com/customerhub/customerhub/internal/tenant"
)

func TestGenerate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Fresh(t)
	o := demodata.Options{Tenants: 3, Customers: 500, SmallCustomers: 40, Reps: 4, SlugPrefix: "gen", PasswordHash: "x", Seed: 7}
	ts, err := demodata.Generate(ctx, db.App, o, nil)
	require.NoError(t, err)
	require.Len(t, ts, 3)
	require.Equal(t, []int{500, 40, 40}, []int{ts[0].Customers, ts[1].Customers, ts[2].Customers})

	count := func(s database.Scope) int {
		n, err := database.WithTenantTxV(ctx, db.App, s, func(ctx context.Context, tx database.Tx) (int, error) {
			var n int
			err := tx.QueryRow(ctx, `SELECT count(*) FROM customers`).Scan(&n)
			return n, err
		}, database.ReadOnly)
		require.NoError(t, err)
		return n
	}
	// Loaded through the policies: each tenant sees its own rows, and each
	// rep a share of them.
	require.Equal(t, 500, count(database.SystemScope(ts[0].ID)))
	require.Equal(t, 40, count(database.SystemScope(ts[2].ID)))
	rep := ts[0].RepIDs[0]
	n := count(database.Scope{TenantID: ts[0].ID, UserID: &rep, Visibility: tenant.VisibilityAssigned})
	require.Greater(t, n, 50)
	require.Less(t, n, 250)

	// Repeating skips what exists.
	again, err := demodata.Generate(ctx, db.App, o, nil)
	require.NoError(t, err)
	require.Equal(t, ts[0].ID, again[0].ID)
	require.Equal(t, 500, count(database.SystemScope(ts[0].ID)))
	require.ElementsMatch(t, ts[0].RepIDs, again[0].RepIDs)
}
