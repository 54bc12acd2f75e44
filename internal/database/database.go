// Package database opens the connection pool, runs tenant-scoped
// transactions, applies migrations and classifies PostgreSQL errors.
//
// Every request and every job works inside one transaction begun at the
// edge by WithTenantTx, which first sets the tenant, user and visibility
// through app_set_context (SET LOCAL, transaction-scoped). Row-level
// security reads those settings, so a query that forgets its tenant filter
// still sees only the caller's rows.
package database

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/tenant"
)

// Beginner starts transactions; *pgxpool.Pool satisfies it.
type Beginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// PoolOptions tunes Open.
type PoolOptions struct {
	MaxConns         int32
	StatementTimeout time.Duration
	ApplicationName  string
}

// Open connects a pool to url and checks that the server answers.
func Open(ctx context.Context, url string, opts PoolOptions) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(opts.StatementTimeout.Milliseconds())
	}
	// JIT compiling costs tens of milliseconds and pays off only for long
	// analytic queries, never for a request (measured: a 0.3 ms page took
	// 260 ms with JIT on).
	cfg.ConnConfig.RuntimeParams["jit"] = "off"
	// A transaction left idle (a stuck handler, a killed client) must not
	// hold locks for long.
	cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = "60000"
	if opts.ApplicationName != "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = opts.ApplicationName
	}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		registerUUID(c.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, nil
}

// Scope is what a tenant transaction sets before its first query.
type Scope struct {
	TenantID   uuid.UUID
	UserID     *uuid.UUID
	Visibility string
	CustomerID *uuid.UUID
}

// ScopeFor returns the scope of an authenticated principal. A principal
// without a user (a system job's, jobs.SystemPrincipal) gets no user in
// the context: its audit events have no actor.
func ScopeFor(p *tenant.Principal) Scope {
	if p.UserID == uuid.Nil {
		return Scope{TenantID: p.TenantID, Visibility: p.Visibility, CustomerID: p.CustomerID}
	}
	uid := p.UserID
	return Scope{TenantID: p.TenantID, UserID: &uid, Visibility: p.Visibility, CustomerID: p.CustomerID}
}

// Equal reports whether two scopes set the same context.
func (s Scope) Equal(o Scope) bool {
	same := func(a, b *uuid.UUID) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	return s.TenantID == o.TenantID && s.Visibility == o.Visibility && same(s.UserID, o.UserID) && same(s.CustomerID, o.CustomerID)
}

// SystemScope is a tenant scope with no acting user that sees every row of
// the tenant: for signup, login, token checks and system jobs, where no user
// is acting yet or the work belongs to the tenant as a whole.
func SystemScope(tenantID uuid.UUID) Scope {
	return Scope{TenantID: tenantID, Visibility: tenant.VisibilityAll}
}

// Tx is a transaction whose tenant context has been set. Only WithTenantTx
// builds one, so holding a Tx means the row-level security context is in
// place.
type Tx struct {
	pgx.Tx
	scope Scope
}

// TenantID is the tenant the transaction is scoped to.
func (tx Tx) TenantID() uuid.UUID { return tx.scope.TenantID }

// Scope is the full context the transaction was opened with.
func (tx Tx) Scope() Scope { return tx.scope }

// RolledBack runs fn in a savepoint of tx that is rolled back whatever fn
// returns: for writes that only serve to compute an answer (a bulk job's
// dry run evaluates its selection into rows it then discards). Row locks
// taken inside are released with the savepoint.
func (tx Tx) RolledBack(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	defer rollback(ctx, sp)
	return fn(ctx, Tx{Tx: sp, scope: tx.scope})
}

// Savepoint runs fn in a savepoint of tx: what fn did is kept when it
// returns nil and rolled back (the transaction going on) when it fails,
// for a statement allowed to fail alone (an imported row whose new code
// is taken).
func (tx Tx) Savepoint(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if err := fn(ctx, Tx{Tx: sp, scope: tx.scope}); err != nil {
		rollback(ctx, sp)
		return err
	}
	return sp.Commit(ctx)
}

// txOptions are how WithTenantTx begins a transaction.
type txOptions struct {
	pgx     pgx.TxOptions
	planned bool
}

// TxOption changes how WithTenantTx begins its transaction.
type TxOption func(*txOptions)

// ReadOnly begins a read-only transaction.
func ReadOnly(o *txOptions) { o.pgx.AccessMode = pgx.ReadOnly }

// RepeatableRead begins a REPEATABLE READ transaction: every statement
// sees the same snapshot, taken at its first, so a read spread over many
// statements (an export read in keyset pages) is one consistent picture.
func RepeatableRead(o *txOptions) { o.pgx.IsoLevel = pgx.RepeatableRead }

// CustomPlans plans every statement of the transaction with its actual
// parameters. Queries with many optional filters ("@x IS NULL OR ...") need
// it: a generic plan cannot fold the unused filters away or see which sort
// was asked for, and picks the wrong index (measured: 33 vs 127 searches/s).
// Everything else keeps PostgreSQL's cached plans, because planning a query
// under row-level security on every call costs more than running it
// (measured: 11.8 ms vs 3.9 ms per order placed).
//
// It sets plan_cache_mode for the transaction, one statement. Running the
// statements as the unnamed statement instead (pgx's
// QueryExecModeCacheDescribe, no extra round trip) was tried and measured
// slower: PostgreSQL then parses and analyses the list's long query on
// every run (a first list page: 272–290/s against 331–349/s).
func CustomPlans(o *txOptions) { o.planned = true }

// WithTenantTx runs fn in one transaction scoped to s and commits when fn
// returns nil. The rollback on error runs even if ctx was cancelled, so a
// timed-out request never leaves its connection inside a transaction.
func WithTenantTx(ctx context.Context, db Beginner, s Scope, fn func(ctx context.Context, tx Tx) error, opts ...TxOption) error {
	_, err := WithTenantTxV(ctx, db, s, func(ctx context.Context, tx Tx) (struct{}, error) {
		return struct{}{}, fn(ctx, tx)
	}, opts...)
	return err
}

// WithTenantTxV is WithTenantTx for a function that also returns a value.
//
// A read-only transaction that fails because the database went away
// (IsUnavailable: its connection was terminated, the server restarted) is
// run once more, on another connection: it wrote nothing, so this is safe
// and spares the client a 503. fn must then tolerate a second run, which
// read-only work does (a handler writing its response inside fn writes it
// again). A transaction that may write is never retried: if it failed in
// its commit, whether it committed is unknown.
func WithTenantTxV[T any](ctx context.Context, db Beginner, s Scope, fn func(ctx context.Context, tx Tx) (T, error), opts ...TxOption) (T, error) {
	var zero T
	if s.TenantID == uuid.Nil {
		return zero, errors.New("tenant transaction without a tenant")
	}
	var txOpts txOptions
	for _, o := range opts {
		o(&txOpts)
	}
	v, err := tenantTx(ctx, db, s, fn, txOpts)
	if err != nil && txOpts.pgx.AccessMode == pgx.ReadOnly && IsUnavailable(err) && !pgconn.Timeout(err) && ctx.Err() == nil {
		v, err = tenantTx(ctx, db, s, fn, txOpts)
	}
	return v, err
}

func tenantTx[T any](ctx context.Context, db Beginner, s Scope, fn func(ctx context.Context, tx Tx) (T, error), txOpts txOptions) (T, error) {
	var zero T
	var ptx pgx.Tx
	if rt := take(ctx, db, s, txOpts); rt != nil {
		// The request's transaction, its context set by authentication.
		ptx = rt.tx
		defer rollback(ctx, ptx)
		if txOpts.pgx.AccessMode == pgx.ReadOnly && !rt.readOnly {
			if _, err := ptx.Exec(ctx, "SET TRANSACTION READ ONLY"); err != nil {
				return zero, connLost(ptx, fmt.Errorf("read-only transaction: %w", err))
			}
		}
	} else {
		endRequestTx(ctx)
		var err error
		bctx, cancel := beginContext(ctx)
		ptx, err = db.BeginTx(bctx, txOpts.pgx)
		cancel()
		if err != nil {
			return zero, fmt.Errorf("begin transaction: %w", unavailable(err))
		}
		defer rollback(ctx, ptx)
		var visibility *string
		if s.Visibility != "" {
			visibility = &s.Visibility
		}
		if err := dbsqlc.New().ContextSet(ctx, ptx, dbsqlc.ContextSetParams{
			TenantID: s.TenantID, UserID: s.UserID, Visibility: visibility, CustomerID: s.CustomerID,
		}); err != nil {
			return zero, connLost(ptx, fmt.Errorf("set tenant context: %w", err))
		}
	}
	if txOpts.planned {
		if err := dbsqlc.New().PlannerCustomPlans(ctx, ptx); err != nil {
			return zero, connLost(ptx, fmt.Errorf("plan mode: %w", err))
		}
	}
	v, err := fn(ctx, Tx{Tx: ptx, scope: s})
	if err != nil {
		return zero, connLost(ptx, err)
	}
	if err := ptx.Commit(ctx); err != nil {
		return zero, connLost(ptx, fmt.Errorf("commit: %w", err))
	}
	return v, nil
}

// WithGlobalTx runs fn in a transaction with no tenant context, for the
// global tables (tenants, auth_throttle). Tenant tables read inside it
// return no rows.
func WithGlobalTx(ctx context.Context, db Beginner, fn func(ctx context.Context, tx pgx.Tx) error) error {
	endRequestTx(ctx)
	ptx, err := db.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return fmt.Errorf("begin transaction: %w", unavailable(err))
	}
	defer rollback(ctx, ptx)
	if err := fn(ctx, ptx); err != nil {
		return connLost(ptx, err)
	}
	if err := ptx.Commit(ctx); err != nil {
		return connLost(ptx, fmt.Errorf("commit: %w", err))
	}
	return nil
}

func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	// After a commit this is a no-op returning ErrTxClosed.
	_ = tx.Rollback(ctx)
}

// PostgreSQL error codes we act on.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeCheckViolation      = "23514"
	codeInsufficientPriv    = "42501"
	codeSerialization       = "40001"
	codeDeadlock            = "40P01"
	codeAdminShutdown       = "57P01" // pg_terminate_backend, a fast or smart shutdown
	codeCrashShutdown       = "57P02" // another backend crashed; the server restarts
	codeCannotConnectNow    = "57P03" // starting up, shutting down, in recovery
	codeTooManyConnections  = "53300"
	classConnection         = "08" // connection exceptions
)

// ErrUnavailable marks a failure of the database rather than of the
// request: a transaction that could not begin, or whose connection was
// closed under it. IsUnavailable recognises it and the other such errors.
var ErrUnavailable = errors.New("database unavailable")

// IsUnavailable reports whether err says the database could not serve the
// request for now, so that the client should retry (HTTP 503 with
// Retry-After): the connection could not be made or was lost (server
// restart, pg_terminate_backend, network), the server is shutting down,
// starting or out of connections, a statement timed out, or the
// transaction lost a serialization conflict or deadlock.
func IsUnavailable(err error) bool {
	if pe := pgErr(err); pe != nil {
		switch pe.Code {
		case codeAdminShutdown, codeCrashShutdown, codeCannotConnectNow, codeTooManyConnections, codeSerialization, codeDeadlock:
			return true
		}
		return strings.HasPrefix(pe.Code, classConnection)
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.Is(err, ErrUnavailable) || errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err)
}

// unavailable marks err, which kept a transaction from beginning, as the
// database's failure: nothing about the request can make begin fail.
func unavailable(err error) error {
	if IsUnavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// connLost marks err as the database's failure when tx's connection has
// been closed (pgx closes it on a fatal error or a broken socket): whatever
// the statement's own error says, the transaction died with it.
func connLost(tx pgx.Tx, err error) error {
	if IsUnavailable(err) || tx.Conn() == nil || !tx.Conn().IsClosed() {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

func pgErr(err error) *pgconn.PgError {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// constraintRE finds the constraint a violation message names.
var constraintRE = regexp.MustCompile(`constraint "([^"]+)"`)

// constraintOf is the constraint an error is about. Citus passes a
// worker's error on without its constraint field, but its message still
// names it.
func constraintOf(pe *pgconn.PgError) string {
	if pe.ConstraintName != "" {
		return pe.ConstraintName
	}
	if m := constraintRE.FindStringSubmatch(pe.Message); m != nil {
		return m[1]
	}
	return ""
}

// constraintIs reports whether a constraint named in an error is the
// named one. On Citus the error comes from a shard and names the shard's
// copy: the name followed by "_" and the shard id.
func constraintIs(got, want string) bool {
	if got == want {
		return true
	}
	shard, ok := strings.CutPrefix(got, want+"_")
	if !ok || shard == "" {
		return false
	}
	for _, r := range shard {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// IsUniqueViolation reports whether err violates the named unique
// constraint (any unique constraint when constraint is "").
func IsUniqueViolation(err error, constraint string) bool {
	pe := pgErr(err)
	return pe != nil && pe.Code == codeUniqueViolation && (constraint == "" || constraintIs(constraintOf(pe), constraint))
}

// IsForeignKeyViolation reports whether err violates the named foreign key.
func IsForeignKeyViolation(err error, constraint string) bool {
	pe := pgErr(err)
	return pe != nil && pe.Code == codeForeignKeyViolation && (constraint == "" || constraintIs(constraintOf(pe), constraint))
}

// IsPolicyViolation reports whether a write was refused by a row-level
// security WITH CHECK clause.
func IsPolicyViolation(err error) bool {
	pe := pgErr(err)
	return pe != nil && pe.Code == codeInsufficientPriv
}
