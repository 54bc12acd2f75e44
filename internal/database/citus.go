package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"

	"github.com/jackc/pgx/v5"
)

// Scaling out on Citus (DESIGN.md section 2): every table of the public
// schema with a tenant_id column is distributed by tenant_id, all of them
// colocated, and every other public table (tenants, auth_throttle, ...) is a
// reference table, copied to every node. River's tables (schema river) and
// golang-migrate's schema_migrations stay plain tables on the coordinator.
// The operator runs DistributeCitus once after `customerhub migrate`, on
// a database whose citus extension and worker nodes are in place.

// ErrNoCitus means the database has no citus extension.
var ErrNoCitus = errors.New("the citus extension is not installed in this database")

// migrationsTable is golang-migrate's bookkeeping table in public.
const migrationsTable = "schema_migrations"

// distributionColumn is the column every tenant table is distributed by.
const distributionColumn = "tenant_id"

// CitusPlan is what DistributeCitus does, in order: reference tables
// first, then the distributed ones; within each list a table comes after
// the tables its foreign keys reference. Foreign keys that close a cycle
// (users.customer_id → customers, customers.sales_rep_id → users) cannot
// be followed: Citus refuses a key to a table that is not distributed yet,
// either way round. They are Deferred: dropped before the tables are
// distributed and added back, unchanged, once both are.
type CitusPlan struct {
	Reference   []string
	Distributed []string
	Deferred    []DeferredKey
}

// DeferredKey is a foreign key constraint on Table, referencing Parent,
// that closes a cycle.
type DeferredKey struct {
	Table, Constraint, Parent string
}

// citusTable is one public table as the plan sees it.
type citusTable struct {
	name   string
	tenant bool // has a tenant_id column
}

// foreignKey is a constraint on child referencing parent, both public tables.
type foreignKey struct {
	child, name, parent string
}

// PlanCitus reads the catalog of conn's database and orders its public
// tables for distribution. It needs no Citus, so it can be checked on plain
// PostgreSQL.
func PlanCitus(ctx context.Context, conn *pgx.Conn) (CitusPlan, error) {
	rows, err := conn.Query(ctx, `
		SELECT c.relname,
		       EXISTS (SELECT 1 FROM pg_attribute a
		                WHERE a.attrelid = c.oid AND a.attname = $1 AND a.attnum > 0 AND NOT a.attisdropped)
		  FROM pg_class c
		  JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		   AND c.relname <> $2
		   AND NOT EXISTS (SELECT 1 FROM pg_depend d
		                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
		 ORDER BY c.relname`, distributionColumn, migrationsTable)
	if err != nil {
		return CitusPlan{}, fmt.Errorf("list public tables: %w", err)
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (citusTable, error) {
		var t citusTable
		return t, r.Scan(&t.name, &t.tenant)
	})
	if err != nil {
		return CitusPlan{}, fmt.Errorf("list public tables: %w", err)
	}
	rows, err = conn.Query(ctx, `
		SELECT ch.relname, con.conname, pa.relname
		  FROM pg_constraint con
		  JOIN pg_class ch ON ch.oid = con.conrelid
		  JOIN pg_namespace chn ON chn.oid = ch.relnamespace
		  JOIN pg_class pa ON pa.oid = con.confrelid
		  JOIN pg_namespace pan ON pan.oid = pa.relnamespace
		 WHERE con.contype = 'f' AND chn.nspname = 'public' AND pan.nspname = 'public'
		 ORDER BY 1, 2`)
	if err != nil {
		return CitusPlan{}, fmt.Errorf("list foreign keys: %w", err)
	}
	fks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (foreignKey, error) {
		var fk foreignKey
		return fk, r.Scan(&fk.child, &fk.name, &fk.parent)
	})
	if err != nil {
		return CitusPlan{}, fmt.Errorf("list foreign keys: %w", err)
	}
	return orderCitusTables(tables, fks)
}

// orderCitusTables splits tables into reference and distributed ones and
// orders each list so that a table follows the tables it references. The
// order is a depth-first walk over the tables by name, so it is stable; a
// key leading back to a table still being walked closes a cycle and is
// deferred. Citus cannot have a reference table point at a distributed
// one, so such a key is an error.
func orderCitusTables(tables []citusTable, fks []foreignKey) (CitusPlan, error) {
	tenant := make(map[string]bool, len(tables))
	for _, t := range tables {
		tenant[t.name] = t.tenant
	}
	keys := map[string][]foreignKey{} // child → its keys to tables of the same kind
	for _, fk := range fks {
		childTenant, ok1 := tenant[fk.child]
		parentTenant, ok2 := tenant[fk.parent]
		if !ok1 || !ok2 || fk.child == fk.parent {
			continue // a table outside the plan (schema_migrations), or a self-reference
		}
		if !childTenant && parentTenant {
			return CitusPlan{}, fmt.Errorf("global table %s references tenant table %s (%s): Citus cannot point a reference table at a distributed one", fk.child, fk.parent, fk.name)
		}
		if childTenant == parentTenant {
			keys[fk.child] = append(keys[fk.child], fk)
		}
	}
	for _, ks := range keys {
		sort.Slice(ks, func(i, j int) bool {
			if ks[i].parent != ks[j].parent {
				return ks[i].parent < ks[j].parent
			}
			return ks[i].name < ks[j].name
		})
	}
	const (
		unvisited = iota
		walking
		placed
	)
	mark := map[string]int{}
	var plan CitusPlan
	var walk func(name string, out *[]string)
	walk = func(name string, out *[]string) {
		mark[name] = walking
		for _, fk := range keys[name] {
			switch mark[fk.parent] {
			case walking:
				plan.Deferred = append(plan.Deferred, DeferredKey{Table: fk.child, Constraint: fk.name, Parent: fk.parent})
			case unvisited:
				walk(fk.parent, out)
			}
		}
		mark[name] = placed
		*out = append(*out, name)
	}
	names := make([]string, 0, len(tables))
	for _, t := range tables {
		names = append(names, t.name)
	}
	sort.Strings(names)
	for _, n := range names {
		if mark[n] != unvisited {
			continue
		}
		if tenant[n] {
			walk(n, &plan.Distributed)
		} else {
			walk(n, &plan.Reference)
		}
	}
	return plan, nil
}

// citusState is how Citus already treats a public table.
type citusState struct {
	method      string // pg_dist_partition.partmethod: 'h' hash, 'n' none
	repModel    string // 't' for reference tables, 's' for Citus local tables
	column      string // distribution column of a hash-distributed table
	colocation  int32
	hasTriggers bool
}

// DistributeCitus makes the database at url (a superuser's: the role
// settings below need one) a Citus database: reference tables, then tenant
// tables distributed by tenant_id and colocated, in the plan's order, one
// statement at a time and all in one transaction, so a refusal leaves the
// database as it was. Tables Citus already handles as planned are skipped,
// so running it again is harmless. It then sets
// citus.propagate_set_commands = 'local' for the application role and the
// database owner (only SET LOCAL reaches the workers, and app_set_context
// uses SET LOCAL), and lets the search role log in: Citus opens the
// connections of its SECURITY DEFINER functions as that role, so the
// nodes' pg_hba.conf must admit it from the coordinator only.
func DistributeCitus(ctx context.Context, url string, logger *slog.Logger) (CitusPlan, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return CitusPlan{}, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	var version string
	err = conn.QueryRow(ctx, `SELECT extversion FROM pg_extension WHERE extname = 'citus'`).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return CitusPlan{}, fmt.Errorf("%w: as a superuser, run CREATE EXTENSION citus in this database on the coordinator and on every worker, then register the nodes in it (citus_set_coordinator_host, citus_add_node)", ErrNoCitus)
	}
	if err != nil {
		return CitusPlan{}, fmt.Errorf("look up citus extension: %w", err)
	}
	plan, err := PlanCitus(ctx, conn)
	if err != nil {
		return CitusPlan{}, err
	}
	var workers int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM citus_get_active_worker_nodes()`).Scan(&workers); err != nil {
		return CitusPlan{}, fmt.Errorf("list worker nodes: %w", err)
	}
	logger.Info("citus found", "version", version, "workers", workers,
		"reference_tables", len(plan.Reference), "distributed_tables", len(plan.Distributed), "deferred_keys", len(plan.Deferred))

	tx, err := conn.Begin(ctx)
	if err != nil {
		return CitusPlan{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after commit
	if err := distribute(ctx, tx, plan, logger); err != nil {
		return CitusPlan{}, err
	}
	if err := citusRoleSettings(ctx, tx, logger); err != nil {
		return CitusPlan{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return CitusPlan{}, fmt.Errorf("commit: %w", err)
	}
	return plan, nil
}

// distribute carries out plan in tx.
func distribute(ctx context.Context, tx pgx.Tx, plan CitusPlan, logger *slog.Logger) error {
	state, err := citusStates(ctx, tx)
	if err != nil {
		return err
	}
	// Without the first setting, making tenants a reference table turns
	// every table that references it into a Citus local table, and the
	// first create_distributed_table then fails on their keys to it.
	// Triggers (customer_locations keeps customer_location_reps in step)
	// touch only rows of the same tenant, so the same colocated shard.
	// Sequential mode: Citus asks for it when tables with keys to
	// reference tables are created in one transaction.
	for _, set := range []string{
		`SET LOCAL citus.enable_local_reference_table_foreign_keys = off`,
		`SET LOCAL citus.enable_unsafe_triggers = on`,
		`SET LOCAL citus.multi_shard_modify_mode = 'sequential'`,
	} {
		if _, err := tx.Exec(ctx, set); err != nil {
			return fmt.Errorf("%s: %w", set, err)
		}
	}

	done := func(name string, reference bool) bool {
		s, ok := state[name]
		if reference {
			return ok && s.method == "n" && s.repModel == "t"
		}
		return ok && s.method == "h"
	}
	type readd struct {
		key DeferredKey
		def string
	}
	var readds []readd
	for _, k := range plan.Deferred {
		ref := slices.Contains(plan.Reference, k.Table)
		if done(k.Table, ref) && done(k.Parent, ref) {
			continue
		}
		var def string
		if err := tx.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass AND conname = $2`,
			qualified(k.Table), k.Constraint).Scan(&def); err != nil {
			return fmt.Errorf("read foreign key %s on %s: %w", k.Constraint, k.Table, err)
		}
		if _, err := tx.Exec(ctx, "ALTER TABLE "+qualified(k.Table)+" DROP CONSTRAINT "+pgx.Identifier{k.Constraint}.Sanitize()); err != nil {
			return fmt.Errorf("drop foreign key %s on %s for now: %w", k.Constraint, k.Table, err)
		}
		logger.Info("foreign key closes a cycle: dropped until its tables are distributed", "table", k.Table, "constraint", k.Constraint)
		readds = append(readds, readd{key: k, def: def})
	}

	for _, name := range plan.Reference {
		if done(name, true) {
			logger.Info("already a reference table", "table", name)
			continue
		}
		if s, ok := state[name]; ok && s.method == "h" {
			return fmt.Errorf("%s is distributed but has no tenant_id: undistribute it (undistribute_table) and run again", name)
		}
		if _, err := tx.Exec(ctx, `SELECT create_reference_table($1::regclass)`, qualified(name)); err != nil {
			return fmt.Errorf("create reference table %s: %w%s", name, err, serverDetail(err))
		}
		logger.Info("reference table created", "table", name)
	}

	anchor := "" // the first distributed table: the others are colocated with it
	var anchorColocation int32
	for _, name := range plan.Distributed {
		s := state[name]
		if done(name, false) {
			if s.column != distributionColumn {
				return fmt.Errorf("%s is distributed by %s, not %s: undistribute it (undistribute_table) and run again", name, s.column, distributionColumn)
			}
			if anchor != "" && s.colocation != anchorColocation {
				return fmt.Errorf("%s is not colocated with %s: run update_distributed_table_colocation('%s', colocate_with => '%s')", name, anchor, qualified(name), qualified(anchor))
			}
			if anchor == "" {
				anchor, anchorColocation = name, s.colocation
			}
			logger.Info("already distributed", "table", name)
			continue
		}
		colocateWith := "default"
		if anchor != "" {
			colocateWith = qualified(anchor)
		}
		if s.hasTriggers {
			logger.Warn("distributing a table with triggers: they must only touch rows of the same tenant", "table", name)
		}
		if _, err := tx.Exec(ctx, `SELECT create_distributed_table($1::regclass, $2, colocate_with => $3)`,
			qualified(name), distributionColumn, colocateWith); err != nil {
			return fmt.Errorf("distribute %s: %w%s", name, err, serverDetail(err))
		}
		logger.Info("table distributed", "table", name, "column", distributionColumn, "colocate_with", colocateWith)
		if anchor == "" {
			anchor = name
			if err := tx.QueryRow(ctx, `SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = $1::regclass`, qualified(name)).Scan(&anchorColocation); err != nil {
				return fmt.Errorf("read colocation of %s: %w", name, err)
			}
		}
	}

	for _, r := range readds {
		if _, err := tx.Exec(ctx, "ALTER TABLE "+qualified(r.key.Table)+" ADD CONSTRAINT "+pgx.Identifier{r.key.Constraint}.Sanitize()+" "+r.def); err != nil {
			return fmt.Errorf("add foreign key %s on %s back: %w%s", r.key.Constraint, r.key.Table, err, serverDetail(err))
		}
		logger.Info("foreign key added back", "table", r.key.Table, "constraint", r.key.Constraint)
	}
	return nil
}

// citusStates returns how Citus treats each public table already, and
// which tables have triggers of their own.
func citusStates(ctx context.Context, tx pgx.Tx) (map[string]citusState, error) {
	rows, err := tx.Query(ctx, `
		SELECT c.relname, coalesce(p.partmethod::text, ''), coalesce(p.repmodel::text, ''),
		       coalesce(CASE WHEN p.partmethod = 'h' THEN column_to_column_name(p.logicalrelid, p.partkey) END, ''),
		       coalesce(p.colocationid, 0),
		       EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal)
		  FROM pg_class c
		  JOIN pg_namespace n ON n.oid = c.relnamespace
		  LEFT JOIN pg_dist_partition p ON p.logicalrelid = c.oid
		 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')`)
	if err != nil {
		return nil, fmt.Errorf("read citus tables: %w", err)
	}
	out := map[string]citusState{}
	var name string
	var s citusState
	_, err = pgx.ForEachRow(rows, []any{&name, &s.method, &s.repModel, &s.column, &s.colocation, &s.hasTriggers}, func() error {
		if s.method != "" || s.hasTriggers {
			out[name] = s
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read citus tables: %w", err)
	}
	return out, nil
}

// citusRoleSettings makes SET LOCAL reach the workers for the application
// role and the database owner, and gives the search role LOGIN.
func citusRoleSettings(ctx context.Context, tx pgx.Tx, logger *slog.Logger) error {
	var owner string
	if err := tx.QueryRow(ctx, `SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()`).Scan(&owner); err != nil {
		return fmt.Errorf("read database owner: %w", err)
	}
	roles := []string{AppRole}
	if owner != AppRole {
		roles = append(roles, owner)
	}
	for _, role := range roles {
		stmt := "ALTER ROLE " + pgx.Identifier{role}.Sanitize() + " SET citus.propagate_set_commands = 'local'"
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("set citus.propagate_set_commands for %s (needs a superuser): %w", role, err)
		}
		logger.Info("role setting", "role", role, "citus.propagate_set_commands", "local")
	}
	var searchExists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, SearchRole).Scan(&searchExists); err != nil {
		return fmt.Errorf("look up role %s: %w", SearchRole, err)
	}
	if searchExists {
		if _, err := tx.Exec(ctx, "ALTER ROLE "+pgx.Identifier{SearchRole}.Sanitize()+" LOGIN"); err != nil {
			return fmt.Errorf("let %s log in (needs a superuser): %w", SearchRole, err)
		}
		logger.Warn("role "+SearchRole+" may now log in (Citus connects to the workers as the owner of SECURITY DEFINER functions); "+
			"admit it in pg_hba.conf of every node from the coordinator's address only, and reject it from anywhere else",
			"role", SearchRole)
	}
	return nil
}

// serverDetail is the DETAIL and HINT of a PostgreSQL error, where Citus
// says why it refused ("Subqueries are not supported in policies on
// distributed tables"), formatted to follow the error; "" when none.
func serverDetail(err error) string {
	pe := pgErr(err)
	if pe == nil {
		return ""
	}
	var out string
	if pe.Detail != "" {
		out += "\n  detail: " + pe.Detail
	}
	if pe.Hint != "" {
		out += "\n  hint: " + pe.Hint
	}
	return out
}

// qualified is the quoted name of a table of the public schema.
func qualified(table string) string {
	return pgx.Identifier{"public", table}.Sanitize()
}
