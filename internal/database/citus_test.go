package database_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// TestCitusPlan checks the distribution order computed from the migrated
// schema: every public table is in exactly one list (tenant tables
// distributed, the others reference tables), River's tables and
// schema_migrations are in neither, and every foreign key's parent comes
// before its child, but for the one key of the users ↔ customers cycle,
// which is deferred.
func TestCitusPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Shared(t)
	conn, err := pgx.Connect(ctx, db.OwnerURL)
	require.NoError(t, err)
	defer conn.Close(ctx)

	plan, err := database.PlanCitus(ctx, conn)
	require.NoError(t, err)
	require.ElementsMatch(t, tenantTables(ctx, t, db.App), plan.Distributed)
	require.Contains(t, plan.Reference, "tenants")
	require.Contains(t, plan.Reference, "auth_throttle")
	require.NotContains(t, plan.Reference, "schema_migrations")

	rows, err := conn.Query(ctx, `
		SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'`)
	require.NoError(t, err)
	public, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.ElementsMatch(t, public, append(slices.Clone(plan.Reference), plan.Distributed...))

	order := append(slices.Clone(plan.Reference), plan.Distributed...)
	rows, err = conn.Query(ctx, `
		SELECT conrelid::regclass::text, conname, confrelid::regclass::text FROM pg_constraint
		WHERE contype = 'f' AND connamespace = 'public'::regnamespace AND conrelid <> confrelid`)
	require.NoError(t, err)
	type edge struct{ child, name, parent string }
	edges, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (edge, error) {
		var e edge
		return e, r.Scan(&e.child, &e.name, &e.parent)
	})
	require.NoError(t, err)
	require.NotEmpty(t, edges)
	deferred := map[string]bool{}
	for _, k := range plan.Deferred {
		deferred[k.Table+"."+k.Constraint] = true
	}
	require.Len(t, deferred, 1, "users and customers reference each other: one of the two keys waits")
	for _, e := range edges {
		if deferred[e.child+"."+e.name] {
			require.Greater(t, slices.Index(order, e.parent), slices.Index(order, e.child), "%s closes a cycle", e.name)
			continue
		}
		require.Less(t, slices.Index(order, e.parent), slices.Index(order, e.child), "%s references %s", e.child, e.parent)
	}
}

func TestOrderCitusTables(t *testing.T) {
	t.Parallel()
	tbl := database.NewCitusTable
	fk := database.NewForeignKey

	t.Run("ParentsFirst", func(t *testing.T) {
		plan, err := database.OrderCitusTables(
			[]database.CitusTable{tbl("a_lines", true), tbl("b_orders", true), tbl("c_customers", true), tbl("plans", false), tbl("tenants", false)},
			[]database.ForeignKey{fk("a_lines", "a_order", "b_orders"), fk("b_orders", "b_customer", "c_customers"), fk("a_lines", "a_customer", "c_customers"),
				fk("c_customers", "c_tenant", "tenants"), fk("tenants", "t_plan", "plans"), fk("b_orders", "b_self", "b_orders")})
		require.NoError(t, err)
		require.Equal(t, []string{"plans", "tenants"}, plan.Reference)
		require.Equal(t, []string{"c_customers", "b_orders", "a_lines"}, plan.Distributed)
		require.Empty(t, plan.Deferred)
	})
	t.Run("GlobalTableReferencingTenantTable", func(t *testing.T) {
		_, err := database.OrderCitusTables([]database.CitusTable{tbl("customers", true), tbl("settings", false)},
			[]database.ForeignKey{fk("settings", "settings_customer", "customers")})
		require.ErrorContains(t, err, "global table settings references tenant table customers")
	})
	t.Run("CycleIsDeferred", func(t *testing.T) {
		// customers.sales_rep_id → users and users.customer_id → customers,
		// as in the schema; orders hang off customers.
		plan, err := database.OrderCitusTables([]database.CitusTable{tbl("customers", true), tbl("orders", true), tbl("users", true)},
			[]database.ForeignKey{fk("customers", "customers_sales_rep_fkey", "users"), fk("users", "users_customer_fkey", "customers"),
				fk("orders", "orders_customer_fkey", "customers")})
		require.NoError(t, err)
		require.Equal(t, []string{"users", "customers", "orders"}, plan.Distributed)
		require.Equal(t, []database.DeferredKey{{Table: "users", Constraint: "users_customer_fkey", Parent: "customers"}}, plan.Deferred)
	})
}

// TestDistributeCitusWithoutCitus: on a database without the extension the
// command stops before touching anything, saying what to install.
func TestDistributeCitusWithoutCitus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Shared(t)
	conn, err := pgx.Connect(ctx, db.OwnerURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var hasCitus bool
	require.NoError(t, conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')`).Scan(&hasCitus))
	if hasCitus {
		t.Skip("the test database has the citus extension")
	}

	_, err = database.DistributeCitus(ctx, db.OwnerURL, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.ErrorIs(t, err, database.ErrNoCitus)
	require.ErrorContains(t, err, "CREATE EXTENSION citus")
	var settings int
	require.NoError(t, conn.QueryRow(ctx, `
		SELECT count(*) FROM pg_db_role_setting s, unnest(s.setconfig) c WHERE c LIKE 'citus.%'`).Scan(&settings))
	require.Zero(t, settings, "no role setting was changed")
}
