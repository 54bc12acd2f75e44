package database_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/tenant"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// tenantTables lists the tables of the public schema that have a tenant_id
// column: by our convention, the tenant tables.
func tenantTables(ctx context.Context, t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(ctx, `
		SELECT c.relname FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
		ORDER BY c.relname`)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.NotEmpty(t, names)
	return names
}

// seed creates a tenant with an admin, a rep and two customers (one the
// rep's), returning their ids.
type seeded struct {
	tenantID, adminID, repID, repCustomer, otherCustomer uuid.UUID
}

func seed(ctx context.Context, t *testing.T, pool *pgxpool.Pool) seeded {
	t.Helper()
	q := dbsqlc.New()
	s := seeded{tenantID: uuid.New(), adminID: uuid.New(), repID: uuid.New(), repCustomer: uuid.New(), otherCustomer: uuid.New()}
	err := database.WithTenantTx(ctx, pool, database.SystemScope(s.tenantID), func(ctx context.Context, tx database.Tx) error {
		_, err := q.TenantInsert(ctx, tx, dbsqlc.TenantInsertParams{ID: s.tenantID, Slug: "s-" + s.tenantID.String()[:8], Name: "T"})
		require.NoError(t, err)
		admin, rep := "admin", "sales_rep"
		_, err = q.UserInsert(ctx, tx, dbsqlc.UserInsertParams{TenantID: s.tenantID, ID: s.adminID, Email: "a@x.example", Name: "A", PasswordHash: "x", BuiltinRole: &admin, Visibility: "all"})
		require.NoError(t, err)
		_, err = q.UserInsert(ctx, tx, dbsqlc.UserInsertParams{TenantID: s.tenantID, ID: s.repID, Email: "r@x.example", Name: "R", PasswordHash: "x", BuiltinRole: &rep, Visibility: "assigned"})
		require.NoError(t, err)
		_, err = q.CustomerInsert(ctx, tx, dbsqlc.CustomerInsertParams{TenantID: s.tenantID, ID: s.repCustomer, Code: "C1", Name: "Rep's", Type: "company", Kind: "customer", Status: "active", Custom: []byte("{}"), SalesRepID: &s.repID})
		require.NoError(t, err)
		_, err = q.CustomerInsert(ctx, tx, dbsqlc.CustomerInsertParams{TenantID: s.tenantID, ID: s.otherCustomer, Code: "C2", Name: "Other", Type: "company", Kind: "customer", Status: "active", Custom: []byte("{}")})
		require.NoError(t, err)
		_, err = q.CounterNext(ctx, tx, dbsqlc.CounterNextParams{TenantID: s.tenantID, Name: "x"})
		require.NoError(t, err)
		_, err = q.APITokenInsert(ctx, tx, dbsqlc.APITokenInsertParams{TenantID: s.tenantID, ID: uuid.New(), UserID: s.adminID, Kind: "personal", TokenHash: []byte(uuid.NewString())})
		require.NoError(t, err)
		_, err = q.RoleInsert(ctx, tx, dbsqlc.RoleInsertParams{TenantID: s.tenantID, ID: uuid.New(), Name: "custom", Permissions: []string{"customers:read"}})
		return err
	})
	require.NoError(t, err)
	return s
}

func count(ctx context.Context, t *testing.T, db dbsqlc.DBTX, table string) int {
	t.Helper()
	var n int
	// table comes from the catalog, not from input.
	require.NoError(t, db.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n))
	return n
}

func TestNoTenantMeansNoRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Shared(t)
	seed(ctx, t, db.App)
	tables := tenantTables(ctx, t, db.App)

	conn, err := db.App.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()

	t.Run("NeverSet", func(t *testing.T) {
		// A brand-new session: current_setting returns NULL.
		fresh, err := pgx.Connect(ctx, db.AppURL)
		require.NoError(t, err)
		defer fresh.Close(ctx)
		for _, table := range tables {
			require.Zero(t, count(ctx, t, fresh, table), table)
		}
	})
	t.Run("ResetToEmpty", func(t *testing.T) {
		// After a transaction-local setting reverts, a pooled session
		// reads '' (not NULL); the policies must treat it as no tenant.
		tx, err := conn.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `SELECT app_set_context($1, NULL, 'all', NULL)`, uuid.New())
		require.NoError(t, err)
		require.NoError(t, tx.Rollback(ctx))
		var setting string
		require.NoError(t, conn.QueryRow(ctx, `SELECT current_setting('app.tenant_id', true)`).Scan(&setting))
		require.Equal(t, "", setting)
		for _, table := range tables {
			require.Zero(t, count(ctx, t, conn, table), table)
		}
	})
	t.Run("TenantWithoutVisibility", func(t *testing.T) {
		// A tenant with no visibility set sees no customers: a forgotten
		// context fails closed.
		s := seed(ctx, t, db.App)
		tx, err := conn.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx) //nolint:errcheck // read-only
		_, err = tx.Exec(ctx, `SELECT app_set_context($1, NULL, NULL, NULL)`, s.tenantID)
		require.NoError(t, err)
		require.Zero(t, count(ctx, t, tx, "customers"))
	})
}

func TestVisibilityPolicies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Shared(t)
	s := seed(ctx, t, db.App)
	other := seed(ctx, t, db.App)

	visible := func(scope database.Scope) []uuid.UUID {
		var ids []uuid.UUID
		err := database.WithTenantTx(ctx, db.App, scope, func(ctx context.Context, tx database.Tx) error {
			// Deliberately no WHERE clause: the policy alone must scope it.
			rows, err := tx.Query(ctx, `SELECT id FROM customers ORDER BY code`)
			if err != nil {
				return err
			}
			ids, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
			return err
		})
		require.NoError(t, err)
		return ids
	}
	rep := s.repID
	t.Run("All", func(t *testing.T) {
		require.Equal(t, []uuid.UUID{s.repCustomer, s.otherCustomer}, visible(database.SystemScope(s.tenantID)))
	})
	t.Run("Assigned", func(t *testing.T) {
		require.Equal(t, []uuid.UUID{s.repCustomer}, visible(database.Scope{TenantID: s.tenantID, UserID: &rep, Visibility: tenant.VisibilityAssigned}))
	})
	t.Run("AssignedOtherTenant", func(t *testing.T) {
		// The rep's id in another tenant matches nothing there.
		require.Empty(t, visible(database.Scope{TenantID: other.tenantID, UserID: &rep, Visibility: tenant.VisibilityAssigned}))
	})
	t.Run("Portal", func(t *testing.T) {
		cid := s.otherCustomer
		require.Equal(t, []uuid.UUID{s.otherCustomer}, visible(database.Scope{TenantID: s.tenantID, Visibility: tenant.VisibilityPortal, CustomerID: &cid}))
	})
	t.Run("PortalWithoutCustomer", func(t *testing.T) {
		require.Empty(t, visible(database.Scope{TenantID: s.tenantID, Visibility: tenant.VisibilityPortal}))
	})
	t.Run("WriteIntoOtherTenantRefused", func(t *testing.T) {
		err := database.WithTenantTx(ctx, db.App, database.SystemScope(s.tenantID), func(ctx context.Context, tx database.Tx) error {
			_, err := dbsqlc.New().CustomerInsert(ctx, tx, dbsqlc.CustomerInsertParams{
				TenantID: other.tenantID, ID: uuid.New(), Code: "X1", Name: "Smuggled", Type: "company", Kind: "customer", Status: "active", Custom: []byte("{}"),
			})
			return err
		})
		require.True(t, database.IsPolicyViolation(err), "got %v", err)
	})
	t.Run("RepCannotCreateForOthers", func(t *testing.T) {
		err := database.WithTenantTx(ctx, db.App, database.Scope{TenantID: s.tenantID, UserID: &rep, Visibility: tenant.VisibilityAssigned},
			func(ctx context.Context, tx database.Tx) error {
				_, err := dbsqlc.New().CustomerInsert(ctx, tx, dbsqlc.CustomerInsertParams{
					TenantID: s.tenantID, ID: uuid.New(), Code: "X2", Name: "Not mine", Type: "company", Kind: "customer", Status: "active", Custom: []byte("{}"), SalesRepID: &s.adminID,
				})
				return err
			})
		require.True(t, database.IsPolicyViolation(err), "got %v", err)
	})
	t.Run("InvalidVisibilityRefused", func(t *testing.T) {
		err := database.WithTenantTx(ctx, db.App, database.Scope{TenantID: s.tenantID, Visibility: "everything"},
			func(ctx context.Context, tx database.Tx) error { return nil })
		require.Error(t, err)
	})
}

// TestCatalog checks every tenant table against the conventions of
// DESIGN.md sections 2 and 3, reading PostgreSQL's catalog.
func TestCatalog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Shared(t)
	tables := tenantTables(ctx, t, db.App)

	t.Run("AppRoleCannotBypass", func(t *testing.T) {
		var super, bypass bool
		require.NoError(t, db.App.QueryRow(ctx, `SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`).Scan(&super, &bypass))
		require.False(t, super)
		require.False(t, bypass)
	})
	t.Run("AppRoleOwnsNothing", func(t *testing.T) {
		var n int
		require.NoError(t, db.App.QueryRow(ctx, `
			SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE pg_get_userbyid(c.relowner) = current_user AND n.nspname NOT IN ('pg_catalog', 'information_schema')
			  AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast%'`).Scan(&n))
		require.Zero(t, n)
	})
	t.Run("OnlyReviewedSecurityDefiner", func(t *testing.T) {
		// Every SECURITY DEFINER function bypasses the caller's checks; each
		// one must be reviewed and listed here.
		rows, err := db.App.Query(ctx, `
			SELECT p.proname, pg_get_userbyid(p.proowner) FROM pg_proc p
			JOIN pg_namespace n ON n.oid = p.pronamespace
			WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')`)
		require.NoError(t, err)
		type fn struct{ name, owner string }
		fns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (fn, error) {
			var f fn
			return f, r.Scan(&f.name, &f.owner)
		})
		require.NoError(t, err)
		require.ElementsMatch(t, []fn{{"customer_search_ids", database.SearchRole}, {"customer_search_page", database.SearchRole},
			{"assigned_customer_ids", database.SearchRole}}, fns)
	})
	t.Run("AppRoleInheritsNoBypass", func(t *testing.T) {
		var n int
		require.NoError(t, db.App.QueryRow(ctx, `
			SELECT count(*) FROM pg_roles r
			WHERE (r.rolsuper OR r.rolbypassrls) AND pg_has_role(current_user, r.oid, 'USAGE')`).Scan(&n))
		require.Zero(t, n)
	})
	for _, table := range tables {
		t.Run(table, func(t *testing.T) {
			var rls, force bool
			var owner string
			require.NoError(t, db.App.QueryRow(ctx, `
				SELECT relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner)
				FROM pg_class WHERE oid = ('public.' || $1)::regclass`, table).Scan(&rls, &force, &owner))
			require.True(t, rls, "row-level security enabled")
			require.True(t, force, "row-level security forced")
			require.NotEqual(t, database.AppRole, owner)

			var policies int
			require.NoError(t, db.App.QueryRow(ctx, `
				SELECT count(*) FROM pg_policies
				WHERE schemaname = 'public' AND tablename = $1
				  AND qual LIKE '%app_tenant_id()%' AND with_check LIKE '%app_tenant_id()%'`, table).Scan(&policies))
			require.Positive(t, policies, "a policy comparing tenant_id in USING and WITH CHECK")

			// A SELECT or DELETE policy has no WITH CHECK (it writes no row);
			// its USING clause must compare the tenant all the same.
			var permissive int
			require.NoError(t, db.App.QueryRow(ctx, `
				SELECT count(*) FROM pg_policies
				WHERE schemaname = 'public' AND tablename = $1 AND permissive = 'PERMISSIVE'
				  AND (qual NOT LIKE '%app_tenant_id()%'
				       OR (cmd NOT IN ('SELECT', 'DELETE') AND (with_check IS NULL OR with_check NOT LIKE '%app_tenant_id()%')))`,
				table).Scan(&permissive))
			require.Zero(t, permissive, "every permissive policy must compare the tenant (permissive policies are OR-ed)")

			// tenant_id leads the primary key and every unique key.
			rows, err := db.App.Query(ctx, `
				SELECT i.indexrelid::regclass::text, i.indisprimary, a.attname
				FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
				WHERE i.indrelid = ('public.' || $1)::regclass AND i.indisunique`, table)
			require.NoError(t, err)
			type idx struct {
				name    string
				primary bool
				first   string
			}
			idxs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (idx, error) {
				var x idx
				return x, r.Scan(&x.name, &x.primary, &x.first)
			})
			require.NoError(t, err)
			hasPK := false
			for _, x := range idxs {
				hasPK = hasPK || x.primary
				require.Equal(t, "tenant_id", x.first, "unique index %s must start with tenant_id", x.name)
			}
			require.True(t, hasPK, "has a primary key")

			// Foreign keys to other tenant tables include tenant_id.
			rows, err = db.App.Query(ctx, `
				SELECT con.conname, confrelid::regclass::text,
				       EXISTS (SELECT 1 FROM unnest(con.conkey) k JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k WHERE a.attname = 'tenant_id'),
				       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = con.confrelid AND a.attname = 'tenant_id' AND NOT a.attisdropped),
				       con.confdeltype, con.confupdtype
				FROM pg_constraint con
				WHERE con.conrelid = ('public.' || $1)::regclass AND con.contype = 'f'`, table)
			require.NoError(t, err)
			for rows.Next() {
				var name, target string
				var includes, targetIsTenant bool
				var del, upd byte
				require.NoError(t, rows.Scan(&name, &target, &includes, &targetIsTenant, &del, &upd))
				if targetIsTenant {
					require.True(t, includes, "foreign key %s to %s must include tenant_id", name, target)
					require.NotContains(t, []byte{'n', 'd'}, del, "%s: Citus refuses ON DELETE SET NULL/DEFAULT", name)
					require.NotContains(t, []byte{'n', 'd', 'c'}, upd, "%s: Citus refuses ON UPDATE actions", name)
				}
			}
			require.NoError(t, rows.Err())
		})
	}
}

func TestMigrationsUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Fresh(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	require.NoError(t, database.CheckCurrent(ctx, db.App))
	require.NoError(t, database.Migrate(ctx, db.OwnerURL, logger), "migrate is idempotent")

	require.NoError(t, database.MigrateDown(ctx, db.OwnerURL, logger))
	err := database.CheckCurrent(ctx, db.App)
	require.ErrorIs(t, err, database.ErrPendingMigrations)

	require.NoError(t, database.Migrate(ctx, db.OwnerURL, logger))
	require.NoError(t, database.CheckCurrent(ctx, db.App))
	// The application role still has what it needs after the round trip.
	seed(ctx, t, db.App)
}

func TestContextIsTransactionLocal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Shared(t)
	s := seed(ctx, t, db.App)
	// Run many tenant transactions on a pool of one connection, then check
	// the connection carries no tenant afterwards.
	pool, err := database.Open(ctx, db.AppURL, database.PoolOptions{MaxConns: 1})
	require.NoError(t, err)
	defer pool.Close()
	for i := 0; i < 5; i++ {
		err := database.WithTenantTx(ctx, pool, database.SystemScope(s.tenantID), func(ctx context.Context, tx database.Tx) error {
			require.Equal(t, 2, count(ctx, t, tx, "customers"))
			if i%2 == 0 {
				return fmt.Errorf("roll back")
			}
			return nil
		})
		if i%2 == 0 {
			require.Error(t, err)
		}
	}
	require.Zero(t, count(ctx, t, pool, "customers"))
}

// TestRiverMigrations: River's migrations are readable without a database
// (the test templates are named after them) and include its jobs table.
func TestRiverMigrations(t *testing.T) {
	sqls, err := database.RiverMigrations()
	require.NoError(t, err)
	require.NotEmpty(t, sqls)
	require.Contains(t, strings.Join(sqls, "\n"), "river_job")
}

// terminateBackend ends the server process behind conn, as a database
// restart or an operator's pg_terminate_backend does, and waits until it
// is gone.
func terminateBackend(ctx context.Context, t *testing.T, conn dbsqlc.DBTX) {
	t.Helper()
	var pid int32
	require.NoError(t, conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
	admin, err := pgx.Connect(ctx, dbtest.AdminURL())
	require.NoError(t, err)
	defer admin.Close(ctx)
	var done bool
	require.NoError(t, admin.QueryRow(ctx, `SELECT pg_terminate_backend($1, 5000)`, pid).Scan(&done))
	require.True(t, done)
}

// TestConnectionLost: a transaction whose connection the server ends fails
// with an error IsUnavailable recognises (answered 503), wherever it dies;
// a read-only one is run once more on another connection, a write never.
func TestConnectionLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Shared(t)
	s := seed(ctx, t, db.App)
	scope := database.SystemScope(s.tenantID)
	customers := func(ctx context.Context, tx database.Tx) (int, error) {
		var n int
		err := tx.QueryRow(ctx, `SELECT count(*) FROM customers WHERE tenant_id = $1`, s.tenantID).Scan(&n)
		return n, err
	}
	newPool := func(t *testing.T) *pgxpool.Pool {
		pool, err := database.Open(ctx, db.AppURL, database.PoolOptions{MaxConns: 2})
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		return pool
	}

	t.Run("ReadOnlyRetriedOnAnotherConnection", func(t *testing.T) {
		t.Parallel()
		calls := 0
		n, err := database.WithTenantTxV(ctx, newPool(t), scope, func(ctx context.Context, tx database.Tx) (int, error) {
			calls++
			if calls == 1 {
				terminateBackend(ctx, t, tx)
			}
			return customers(ctx, tx)
		}, database.ReadOnly)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		require.Equal(t, 2, calls)
	})
	t.Run("ReadOnlyRetriedOnce", func(t *testing.T) {
		t.Parallel()
		calls := 0
		_, err := database.WithTenantTxV(ctx, newPool(t), scope, func(ctx context.Context, tx database.Tx) (int, error) {
			calls++
			terminateBackend(ctx, t, tx)
			return customers(ctx, tx)
		}, database.ReadOnly)
		require.True(t, database.IsUnavailable(err), "%v", err)
		require.Equal(t, 2, calls)
	})
	t.Run("WriteNotRetried", func(t *testing.T) {
		t.Parallel()
		calls := 0
		_, err := database.WithTenantTxV(ctx, newPool(t), scope, func(ctx context.Context, tx database.Tx) (int, error) {
			calls++
			terminateBackend(ctx, t, tx)
			return customers(ctx, tx)
		})
		require.True(t, database.IsUnavailable(err), "%v", err)
		require.Equal(t, 1, calls)
	})
	t.Run("LostAtCommit", func(t *testing.T) {
		t.Parallel()
		id := uuid.New()
		err := database.WithTenantTx(ctx, newPool(t), scope, func(ctx context.Context, tx database.Tx) error {
			_, err := dbsqlc.New().CustomerInsert(ctx, tx, dbsqlc.CustomerInsertParams{TenantID: s.tenantID, ID: id, Code: "LOST-" + id.String()[:8],
				Name: "Lost", Type: "company", Kind: "customer", Status: "active", Custom: []byte("{}")})
			require.NoError(t, err)
			terminateBackend(ctx, t, tx)
			return nil
		})
		require.True(t, database.IsUnavailable(err), "%v", err)
		err = database.WithTenantTx(ctx, db.App, scope, func(ctx context.Context, tx database.Tx) error {
			var n int
			require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM customers WHERE tenant_id = $1 AND id = $2`, s.tenantID, id).Scan(&n))
			require.Zero(t, n, "a commit that never reached the server")
			return nil
		}, database.ReadOnly)
		require.NoError(t, err)
	})
	t.Run("LostBeforeBegin", func(t *testing.T) {
		t.Parallel()
		conn, err := pgx.Connect(ctx, db.AppURL)
		require.NoError(t, err)
		defer conn.Close(ctx)
		terminateBackend(ctx, t, conn)
		for _, opts := range [][]database.TxOption{nil, {database.ReadOnly}} {
			_, err := database.WithTenantTxV(ctx, conn, scope, customers, opts...)
			require.True(t, database.IsUnavailable(err), "%v", err)
		}
		err = database.WithGlobalTx(ctx, conn, func(ctx context.Context, tx pgx.Tx) error { return nil })
		require.True(t, database.IsUnavailable(err), "%v", err)
	})
}
