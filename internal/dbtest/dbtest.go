// Package dbtest gives tests real PostgreSQL databases: one migrated
// template per set of migrations, cloned per test package (Main + Shared)
// or per test (Fresh). Tests isolate their data further by creating their
// own tenants.
//
// TEST_ADMIN_DATABASE_URL names a superuser connection (default
// postgres://postgres@127.0.0.1:5432/postgres); the roles customerhub_owner
// and customerhub_app are created on first use.
//
// With CUSTOMERHUB_TEST_EXISTING_DB set, Main and Shared use that database
// on TEST_ADMIN_DATABASE_URL's server, as it is (already migrated, kept
// afterwards), instead of cloning a template: `make test-citus` runs the
// HTTP tests this way on a Citus coordinator, where a database has to be
// created on every node by hand. Fresh, Empty and Persistent need a
// database of their own, so their tests are skipped in that mode.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/migrations"
)

// OwnerRole owns the test databases and runs their migrations.
const OwnerRole = "customerhub_owner"

// ExistingDBEnv names the variable that points the harness at an existing
// database (see the package comment).
const ExistingDBEnv = "CUSTOMERHUB_TEST_EXISTING_DB"

// existingDB is the database named by ExistingDBEnv, "" when unset.
func existingDB() string { return strings.TrimSpace(os.Getenv(ExistingDBEnv)) }

// skipIfExisting skips a test that needs a database of its own.
func skipIfExisting(t testing.TB) {
	t.Helper()
	if name := existingDB(); name != "" {
		t.Skipf("needs a database of its own (CREATE DATABASE); %s=%s shares one existing database", ExistingDBEnv, name)
	}
}

// AdminURL is the superuser connection the harness uses.
func AdminURL() string {
	if v := os.Getenv("TEST_ADMIN_DATABASE_URL"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// URLFor returns a URL to database db as role.
func URLFor(db, role string) string {
	u, err := url.Parse(AdminURL())
	if err != nil {
		panic("dbtest: TEST_ADMIN_DATABASE_URL: " + err.Error())
	}
	u.User = url.User(role)
	u.Path = "/" + db
	return u.String()
}

// DB is one test database.
type DB struct {
	Name     string
	AppURL   string
	OwnerURL string
	// App is a pool connected as the application role, as the service
	// connects.
	App *pgxpool.Pool
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error

	shared *DB
)

// Main creates the package's shared database, runs the tests and drops it.
// Call it from TestMain.
func Main(m *testing.M) {
	ctx := context.Background()
	if name := existingDB(); name != "" {
		db, err := openDB(ctx, name)
		if err != nil {
			fmt.Fprintf(os.Stderr, "dbtest: %s=%s: %v\n", ExistingDBEnv, name, err)
			os.Exit(1)
		}
		shared = db
		code := m.Run()
		db.App.Close()
		os.Exit(code)
	}
	db, err := create(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtest:", err)
		os.Exit(1)
	}
	shared = db
	code := m.Run()
	db.drop(ctx)
	os.Exit(code)
}

// Shared returns the package's database created by Main.
func Shared(t testing.TB) *DB {
	t.Helper()
	if shared == nil {
		t.Fatal("dbtest.Shared needs TestMain to call dbtest.Main(m)")
	}
	return shared
}

// Fresh creates a database for this test alone, dropped at its end.
func Fresh(t testing.TB) *DB {
	t.Helper()
	skipIfExisting(t)
	db, err := create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.drop(context.Background()) })
	return db
}

// Empty creates a database with no migrations applied (the roles exist),
// owned by OwnerRole and dropped at the end of the test: for tests that
// migrate it themselves. Its App pool is nil.
func Empty(t testing.TB) *DB {
	t.Helper()
	skipIfExisting(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatal(fmt.Errorf("connect as admin: %w", err))
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(7291002)`); err != nil {
		t.Fatal(err)
	}
	err = database.EnsureRoles(ctx, admin, OwnerRole)
	_, _ = admin.Exec(ctx, `SELECT pg_advisory_unlock(7291002)`)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("chub_t_%d_%s", time.Now().Unix(), randomSuffix())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" OWNER "+OwnerRole); err != nil {
		t.Fatal(fmt.Errorf("create database: %w", err))
	}
	t.Cleanup(func() {
		admin, err := pgx.Connect(context.Background(), AdminURL())
		if err != nil {
			return
		}
		defer admin.Close(context.Background())
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	return &DB{Name: name, AppURL: URLFor(name, database.AppRole), OwnerURL: URLFor(name, OwnerRole)}
}

func create(ctx context.Context) (*DB, error) {
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(ctx) })
	if templateErr != nil {
		return nil, templateErr
	}
	name := fmt.Sprintf("chub_t_%d_%s", time.Now().Unix(), randomSuffix())
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return nil, fmt.Errorf("connect as admin: %w", err)
	}
	defer admin.Close(ctx)
	// CREATE DATABASE ... TEMPLATE fails while anyone else is connected to
	// the template; the lock keeps parallel packages from colliding.
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(7291002)`); err != nil {
		return nil, err
	}
	_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{templateName}.Sanitize()+" OWNER "+OwnerRole)
	_, _ = admin.Exec(ctx, `SELECT pg_advisory_unlock(7291002)`)
	if err != nil {
		return nil, fmt.Errorf("clone template: %w", err)
	}
	return openDB(ctx, name)
}

// openDB connects the application role's pool to database name.
func openDB(ctx context.Context, name string) (*DB, error) {
	db := &DB{Name: name, AppURL: URLFor(name, database.AppRole), OwnerURL: URLFor(name, OwnerRole)}
	var err error
	db.App, err = database.Open(ctx, db.AppURL, database.PoolOptions{MaxConns: 20, StatementTimeout: time.Minute, ApplicationName: "customerhub-test"})
	if err != nil {
		return nil, err
	}
	return db, nil
}

func (db *DB) drop(ctx context.Context) {
	db.App.Close()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return
	}
	defer admin.Close(ctx)
	_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db.Name}.Sanitize()+" WITH (FORCE)")
}

// ensureTemplate makes the migrated template database for the current
// migrations (its name carries their hash), building it once per machine.
func ensureTemplate(ctx context.Context) (string, error) {
	hash, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "chub_tmpl_" + hash
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return "", fmt.Errorf("connect as admin: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(7291002)`); err != nil {
		return "", err
	}
	defer admin.Exec(ctx, `SELECT pg_advisory_unlock(7291002)`) //nolint:errcheck // released with the session anyway
	if err := database.EnsureRoles(ctx, admin, OwnerRole); err != nil {
		return "", err
	}

	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	dropStale(ctx, admin, name)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" OWNER "+OwnerRole); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := database.Migrate(ctx, URLFor(name, OwnerRole), logger); err != nil {
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		return "", fmt.Errorf("migrate template: %w", err)
	}
	return name, nil
}

// dropStale removes templates and benchmark databases of older migrations
// and test databases left behind by killed runs (older than six hours).
func dropStale(ctx context.Context, admin *pgx.Conn, keep string) {
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database
		WHERE datname LIKE 'chub\_tmpl\_%' OR datname LIKE 'chub\_t\_%' OR datname LIKE 'chub\_bench\_%'`)
	if err != nil {
		return
	}
	names, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	for _, n := range names {
		stale := strings.HasPrefix(n, "chub_tmpl_") && n != keep ||
			strings.HasPrefix(n, "chub_bench_") && !strings.HasSuffix(n, strings.TrimPrefix(keep, "chub_tmpl_"))
		if parts := strings.Split(n, "_"); strings.HasPrefix(n, "chub_t_") && len(parts) >= 4 {
			if ts, err := strconv.ParseInt(parts[2], 10, 64); err == nil && time.Since(time.Unix(ts, 0)) > 6*time.Hour {
				stale = true
			}
		}
		if stale {
			_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{n}.Sanitize()+" WITH (FORCE)")
		}
	}
}

func migrationsHash() (string, error) {
	h := sha256.New()
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(migrations.FS, n)
		if err != nil {
			return "", err
		}
		h.Write([]byte(n))
		h.Write(b)
	}
	// River's migrations are part of the template too. (Not the River
	// version from the build info: only test binaries of main packages
	// record their dependencies, so packages would disagree on the name
	// and drop each other's templates as stale.)
	river, err := database.RiverMigrations()
	if err != nil {
		return "", err
	}
	for _, sql := range river {
		h.Write([]byte(sql))
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Persistent returns a database named name (made from the current
// template) that outlives the test run, creating it when missing; created
// reports whether it is new. Benchmarks keep their large data sets in one,
// so only the first run pays for loading them. A non-empty existing names
// a database to use as it is instead (to re-run on data loaded before a
// schema change).
func Persistent(tb testing.TB, name, existing string) (db *DB, created bool) {
	tb.Helper()
	skipIfExisting(tb)
	ctx := context.Background()
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(ctx) })
	if templateErr != nil {
		tb.Fatal(templateErr)
	}
	full := name + "_" + strings.TrimPrefix(templateName, "chub_tmpl_")
	if existing != "" {
		full = existing
	}
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close(ctx)
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, full).Scan(&exists); err != nil {
		tb.Fatal(err)
	}
	if !exists {
		if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(7291002)`); err != nil {
			tb.Fatal(err)
		}
		_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{full}.Sanitize()+" TEMPLATE "+pgx.Identifier{templateName}.Sanitize()+" OWNER "+OwnerRole)
		_, _ = admin.Exec(ctx, `SELECT pg_advisory_unlock(7291002)`)
		if err != nil {
			tb.Fatal(err)
		}
	}
	db = &DB{Name: full, AppURL: URLFor(full, database.AppRole), OwnerURL: URLFor(full, OwnerRole)}
	db.App, err = database.Open(ctx, db.AppURL, database.PoolOptions{MaxConns: 20, StatementTimeout: time.Hour, ApplicationName: "customerhub-bench"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(db.App.Close)
	return db, !exists
}
