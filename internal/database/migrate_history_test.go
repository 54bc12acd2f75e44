package database_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/migrations"
)

// TestMigrationsChecksums: a landed migration never changes. Databases
// migrated before a change would never receive it (golang-migrate applies
// a version once), so every migration file is listed with its SHA-256 in
// migrations/checksums.txt, and this test fails when a listed file differs
// or a file is missing from the list. New schema work is a new migration
// file: add its line (`sha256sum *.sql` in migrations/) in the same commit.
func TestMigrationsChecksums(t *testing.T) {
	t.Parallel()
	listed := map[string]string{}
	raw, err := fs.ReadFile(migrations.FS, "checksums.txt")
	require.NoError(t, err)
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sum, name, ok := strings.Cut(line, "  ")
		require.True(t, ok, "checksums.txt line %d: want `<sha256>  <file>`", i+1)
		listed[name] = sum
	}
	files, err := fs.Glob(migrations.FS, "*.sql")
	require.NoError(t, err)
	for _, name := range files {
		b, err := fs.ReadFile(migrations.FS, name)
		require.NoError(t, err)
		sum := sha256.Sum256(b)
		want, ok := listed[name]
		require.True(t, ok, "%s is not in migrations/checksums.txt: add its line when you add the migration", name)
		require.Equal(t, want, hex.EncodeToString(sum[:]),
			"%s changed after it was listed: landed migrations never change; put the change in a new migration", name)
		delete(listed, name)
	}
	require.Empty(t, listed, "checksums.txt lists files that do not exist")
}

// historyDir holds the versions of our migrations that an earlier commit
// of main had and today's no longer has: migrations 000002 and 000004 were
// edited after they were first committed. Each folder, named after the
// commit just before an edit, holds the files that differ from today's; the
// migration set of that commit is today's files up to the highest version
// in the folder, with the folder's files in their place.
const historyDir = "testdata/migration-history"

// TestMigrationHistory: a database migrated at any earlier commit of main
// and then migrated with today's binary has the same schema as one
// migrated fresh. When an edited migration left such databases behind, a
// later migration brings them level; this proves it does.
func TestMigrationHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	want := schemaOf(ctx, t, dbtest.Fresh(t).OwnerURL)

	commits, err := os.ReadDir(historyDir)
	require.NoError(t, err)
	require.NotEmpty(t, commits)
	for _, c := range commits {
		t.Run(c.Name(), func(t *testing.T) {
			t.Parallel()
			db := dbtest.Empty(t)
			require.NoError(t, database.MigrateAppFS(db.OwnerURL, snapshot(t, c.Name()), logger), "migrate at %s", c.Name())
			require.NoError(t, database.Migrate(ctx, db.OwnerURL, logger), "migrate forward to today")
			require.Equal(t, want, schemaOf(ctx, t, db.OwnerURL))
		})
	}
}

// snapshot rebuilds the migration set of an earlier commit (see historyDir).
func snapshot(t *testing.T, commit string) fs.FS {
	t.Helper()
	dir := path.Join(historyDir, commit)
	old, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.NotEmpty(t, old)
	top := ""
	out := fstest.MapFS{}
	for _, f := range old {
		b, err := os.ReadFile(path.Join(dir, f.Name()))
		require.NoError(t, err)
		out[f.Name()] = &fstest.MapFile{Data: b}
		top = max(top, version(f.Name()))
	}
	today, err := fs.Glob(migrations.FS, "*.up.sql")
	require.NoError(t, err)
	for _, name := range today {
		if _, replaced := out[name]; replaced || version(name) > top {
			continue
		}
		b, err := fs.ReadFile(migrations.FS, name)
		require.NoError(t, err)
		out[name] = &fstest.MapFile{Data: b}
	}
	return out
}

func version(file string) string { return strings.SplitN(file, "_", 2)[0] }

// schemaOf describes everything a migration can change in the public
// schema (columns and their order, constraints, indexes, policies,
// row-level security, functions, triggers, views, grants), one sorted line
// per fact. Column order matters: sqlc reads SELECT * by position.
func schemaOf(ctx context.Context, t *testing.T, url string) []string {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `
		SELECT 'column ' || c.relname || '.' || a.attname
		       || ' #' || row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum)
		       || ' ' || format_type(a.atttypid, a.atttypmod)
		       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
		       || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
		       || CASE WHEN a.attgenerated <> '' THEN ' generated' ELSE '' END
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
		UNION ALL
		SELECT 'constraint ' || c.relname || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid)
		FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public'
		UNION ALL
		SELECT 'index ' || pg_get_indexdef(i.indexrelid)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public'
		UNION ALL
		SELECT 'policy ' || tablename || ' ' || policyname || ' ' || permissive || ' ' || cmd || ' ' || roles::text
		       || ' using ' || coalesce(qual, '-') || ' check ' || coalesce(with_check, '-')
		FROM pg_policies WHERE schemaname = 'public'
		UNION ALL
		SELECT 'table ' || c.relname || ' kind ' || c.relkind::text || ' owner ' || pg_get_userbyid(c.relowner)
		       || ' rls ' || c.relrowsecurity || ' force ' || c.relforcerowsecurity || ' acl ' || coalesce(c.relacl::text, '-')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
		UNION ALL
		SELECT 'view ' || c.relname || ' ' || pg_get_viewdef(c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm')
		UNION ALL
		SELECT 'function ' || pg_get_userbyid(p.proowner) || ' ' || coalesce(p.proacl::text, '-') || ' ' || pg_get_functiondef(p.oid)
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p')
		  AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.objid = p.oid AND dep.deptype = 'e')
		UNION ALL
		SELECT 'trigger ' || pg_get_triggerdef(tg.oid)
		FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND NOT tg.tgisinternal
		UNION ALL
		SELECT 'extension ' || extname FROM pg_extension
		UNION ALL
		SELECT 'type ' || t.typname || ' ' || t.typtype::text
		FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0`)
	require.NoError(t, err)
	facts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	sort.Strings(facts)
	require.NotEmpty(t, facts, fmt.Sprintf("no schema at %s", url))
	return facts
}

// TestAuditCustomerBackfill: the migration that gives audit events their
// customer fills it in for the events recorded before, from the live
// objects or the event's own changes, and fails closed (the nil customer,
// which no sales rep sees) where it cannot tell.
func TestAuditCustomerBackfill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	db := dbtest.Empty(t)
	all, err := fs.Glob(migrations.FS, "*_audit_customer.up.sql")
	require.NoError(t, err)
	require.Len(t, all, 1)
	before := fstest.MapFS{}
	files, err := fs.Glob(migrations.FS, "*.sql")
	require.NoError(t, err)
	for _, f := range files {
		if version(f) < version(all[0]) {
			b, err := fs.ReadFile(migrations.FS, f)
			require.NoError(t, err)
			before[f] = &fstest.MapFile{Data: b}
		}
	}
	require.NoError(t, database.MigrateAppFS(db.OwnerURL, before, logger))

	conn, err := pgx.Connect(ctx, db.OwnerURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	tid, cust, contact, gone, item, portal, grantee := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	type event struct {
		entity   string
		entityID uuid.UUID
		changes  string
		want     *uuid.UUID
	}
	nilID := uuid.Nil
	events := []event{
		{"customer", cust, `{"name": {"from": null, "to": "A"}}`, &cust},
		{"contact", contact, `{"name": {"from": "x", "to": "y"}}`, &cust},
		{"contact", gone, fmt.Sprintf(`{"customer_id": {"from": null, "to": %q}}`, cust), &cust},
		{"contact", gone, `{"name": {"from": "x", "to": "y"}}`, &cust},
		{"price", item, `{"price_list_id": {"from": null, "to": "` + uuid.NewString() + `"}}`, nil},
		{"price", item, fmt.Sprintf(`{"customer_id": {"from": %q, "to": null}}`, cust), &cust},
		{"price", item, `{"price": {"from": "1.00", "to": "2.00"}}`, &nilID},
		{"user", portal, fmt.Sprintf(`{"customer_id": {"from": null, "to": %q}}`, cust), &cust},
		{"user", portal, `{"name": {"from": "x", "to": "y"}}`, &cust},
		{"user", grantee, `{"name": {"from": "x", "to": "y"}}`, nil},
		{"grant", grantee, fmt.Sprintf(`{"customer_id": {"from": null, "to": %q}}`, cust), &cust},
		{"role", uuid.New(), `{"name": {"from": "x", "to": "y"}}`, nil},
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tenants (id, slug, name) VALUES ($1, 'backfill', 'Backfill')`, tid); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT app_set_context($1, NULL, 'all', NULL)`, tid); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, code, name) VALUES ($1, $2, 'C1', 'A')`, tid, cust); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO customer_contacts (tenant_id, id, customer_id, name) VALUES ($1, $2, $3, 'y')`, tid, contact, cust); err != nil {
			return err
		}
		for i, e := range events {
			if _, err := tx.Exec(ctx, `INSERT INTO audit_events (tenant_id, id, at, action, entity, entity_id, changes)
				VALUES ($1, $2, now() + $3 * interval '1 ms', 'update', $4, $5, $6)`, tid, uuid.New(), i, e.entity, e.entityID, e.changes); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)

	require.NoError(t, database.Migrate(ctx, db.OwnerURL, logger))
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT app_set_context($1, NULL, 'all', NULL)`, tid); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT customer_id FROM audit_events WHERE tenant_id = $1 ORDER BY at`, tid)
		if err != nil {
			return err
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[*uuid.UUID])
		if err != nil {
			return err
		}
		require.Len(t, got, len(events))
		for i, e := range events {
			require.Equal(t, e.want, got[i], "event %d (%s %s)", i, e.entity, e.changes)
		}
		return nil
	})
	require.NoError(t, err)
}
