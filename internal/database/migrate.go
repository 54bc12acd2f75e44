package database

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/customerhub/customerhub/migrations"
)

// RiverSchema is the schema holding River's tables. Keeping them apart from
// the application tables makes "every table in public with a tenant_id is a
// tenant table" a rule the catalog test can check.
const RiverSchema = "river"

// AppRole is the role the service connects as. Migrations grant it DML on
// each table; it owns nothing and cannot bypass row-level security.
const AppRole = "customerhub_app"

// SearchRole owns customer_search_ids, the one SECURITY DEFINER function
// (see migration 000002 for why it is safe). It cannot log in; it has
// BYPASSRLS and SELECT on the tables the search reads. The owner role is a
// member so migrations can give it the function.
const SearchRole = "customerhub_search"

// Migrate applies the application's migrations, then River's, connecting
// with the owner URL. Both steps are idempotent.
func Migrate(ctx context.Context, ownerURL string, logger *slog.Logger) error {
	if err := migrateApp(ownerURL, migrations.FS, logger); err != nil {
		return err
	}

	pool, err := pgxpool.New(ctx, ownerURL)
	if err != nil {
		return fmt.Errorf("connect for river migrations: %w", err)
	}
	defer pool.Close()
	rm, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: RiverSchema, Logger: logger})
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	res, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("apply river migrations: %w", err)
	}
	logger.Info("river migrations applied", "new_versions", len(res.Versions))
	return nil
}

// migrateApp applies the application migrations found in src.
func migrateApp(ownerURL string, src fs.FS, logger *slog.Logger) error {
	m, closeFn, err := newMigrator(ownerURL, src)
	if err != nil {
		return err
	}
	defer closeFn()
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("apply migrations: %w", err)
	}
	v, _, _ := m.Version()
	logger.Info("application migrations applied", "version", v)
	return nil
}

// RiverMigrations returns the up SQL of River's migrations in order, so
// that a schema built from them can be fingerprinted (the test template
// databases are named after their migrations).
func RiverMigrations() ([]string, error) {
	rm, err := rivermigrate.New(riverpgxv5.New(nil), &rivermigrate.Config{Schema: RiverSchema})
	if err != nil {
		return nil, fmt.Errorf("river migrator: %w", err)
	}
	var out []string
	for _, m := range rm.AllVersions() {
		out = append(out, m.SQLUp)
	}
	return out, nil
}

// MigrateDown reverts every migration, River's first. Used by the
// up-down-up migration test and by operators rebuilding a database.
func MigrateDown(ctx context.Context, ownerURL string, logger *slog.Logger) error {
	pool, err := pgxpool.New(ctx, ownerURL)
	if err != nil {
		return fmt.Errorf("connect for river migrations: %w", err)
	}
	defer pool.Close()
	rm, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: RiverSchema, Logger: logger})
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	if _, err := rm.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1}); err != nil {
		return fmt.Errorf("revert river migrations: %w", err)
	}
	m, closeFn, err := newMigrator(ownerURL, migrations.FS)
	if err != nil {
		return err
	}
	defer closeFn()
	if err := m.Down(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("revert migrations: %w", err)
	}
	return nil
}

func newMigrator(ownerURL string, files fs.FS) (*migrate.Migrate, func(), error) {
	src, err := iofs.New(files, ".")
	if err != nil {
		return nil, nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	connCfg, err := pgx.ParseConfig(ownerURL)
	if err != nil {
		return nil, nil, fmt.Errorf("parse migrate database url: %w", err)
	}
	db := stdlib.OpenDB(*connCfg)
	drv, err := pgxmigrate.WithInstance(db, &pgxmigrate.Config{})
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("migration driver: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("migrator: %w", err)
	}
	return m, func() { _, _ = m.Close() }, nil
}

// LatestVersion is the highest migration version embedded in the binary.
func LatestVersion() (uint, error) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return 0, err
	}
	var versions []uint
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".up.sql") {
			continue
		}
		n, err := strconv.ParseUint(strings.SplitN(name, "_", 2)[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("migration %s: bad version prefix", name)
		}
		versions = append(versions, uint(n))
	}
	if len(versions) == 0 {
		return 0, errors.New("no migrations embedded")
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i] < versions[j] })
	return versions[len(versions)-1], nil
}

// ErrPendingMigrations means the database is behind the binary.
var ErrPendingMigrations = errors.New("database has pending migrations: run `customerhub migrate`")

// CheckCurrent returns ErrPendingMigrations (wrapped with detail) unless
// both the application and River schemas are at the binary's version. It
// runs as the application role.
func CheckCurrent(ctx context.Context, pool *pgxpool.Pool) error {
	want, err := LatestVersion()
	if err != nil {
		return err
	}
	var have int64
	var dirty bool
	err = pool.QueryRow(ctx, `SELECT version, dirty FROM schema_migrations LIMIT 1`).Scan(&have, &dirty)
	switch {
	case isUndefinedTable(err), errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w (no migrations applied)", ErrPendingMigrations)
	case err != nil:
		return fmt.Errorf("read migration version: %w", err)
	case dirty:
		return fmt.Errorf("migration %d failed half-way (dirty); fix it and force the version", have)
	case uint(have) < want:
		return fmt.Errorf("%w (at %d, binary has %d)", ErrPendingMigrations, have, want)
	case uint(have) > want:
		return fmt.Errorf("database is at migration %d, newer than this binary (%d)", have, want)
	}
	rm, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: RiverSchema})
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	existing, err := rm.ExistingVersions(ctx)
	if err != nil {
		return fmt.Errorf("%w (river: %v)", ErrPendingMigrations, err)
	}
	if all := rm.AllVersions(); len(existing) < len(all) {
		return fmt.Errorf("%w (river at %d of %d)", ErrPendingMigrations, len(existing), len(all))
	}
	return nil
}

func isUndefinedTable(err error) bool {
	pe := pgErr(err)
	return pe != nil && pe.Code == "42P01"
}

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Bootstrap creates the owner and application roles and the database, as a
// superuser, when they do not exist yet. It is what `customerhub db-init`,
// `make run` and the tests use on a fresh server; a managed database is set
// up the same way by its operator.
func Bootstrap(ctx context.Context, adminURL, dbName, ownerRole string) error {
	for _, id := range []string{dbName, ownerRole} {
		if !identRE.MatchString(id) {
			return fmt.Errorf("bootstrap: %q is not a plain lower-case identifier", id)
		}
	}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect as admin: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	// Serialize concurrent bootstraps (parallel test packages).
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(7291001)`); err != nil {
		return fmt.Errorf("bootstrap lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7291001)`) //nolint:errcheck // released with the session anyway

	if err := EnsureRoles(ctx, conn, ownerRole); err != nil {
		return err
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, dbName).Scan(&exists); err != nil {
		return fmt.Errorf("look up database: %w", err)
	}
	if !exists {
		// Identifiers were checked against identRE above.
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{dbName}.Sanitize()+" OWNER "+pgx.Identifier{ownerRole}.Sanitize()); err != nil {
			return fmt.Errorf("create database: %w", err)
		}
	}
	return nil
}

// EnsureRoles creates the owner, application and search roles if missing,
// makes sure the application role can neither bypass row-level security nor
// administer anything, and lets the owner hand functions to the search role.
func EnsureRoles(ctx context.Context, conn *pgx.Conn, ownerRole string) error {
	for _, role := range []string{ownerRole, AppRole} {
		var exists bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, role).Scan(&exists); err != nil {
			return fmt.Errorf("look up role: %w", err)
		}
		if !exists {
			if _, err := conn.Exec(ctx, "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN"); err != nil && !IsUniqueViolation(err, "") {
				return fmt.Errorf("create role %s: %w", role, err)
			}
		}
	}
	_, err := conn.Exec(ctx, "ALTER ROLE "+pgx.Identifier{AppRole}.Sanitize()+" NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
	if err != nil {
		return fmt.Errorf("restrict application role: %w", err)
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, SearchRole).Scan(&exists); err != nil {
		return fmt.Errorf("look up role: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE ROLE "+pgx.Identifier{SearchRole}.Sanitize()+" NOLOGIN BYPASSRLS"); err != nil && !IsUniqueViolation(err, "") {
			return fmt.Errorf("create role %s: %w", SearchRole, err)
		}
	}
	if _, err := conn.Exec(ctx, "GRANT "+pgx.Identifier{SearchRole}.Sanitize()+" TO "+pgx.Identifier{ownerRole}.Sanitize()); err != nil {
		return fmt.Errorf("grant %s to %s: %w", SearchRole, ownerRole, err)
	}
	return nil
}
