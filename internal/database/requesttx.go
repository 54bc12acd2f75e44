package database

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/dbsqlc"
)

// A request has one transaction, authentication included (STYLE.md 2.1):
// authentication begins it and sets its context in its first statement,
// before the route's permission and rate limits are checked, and the
// handler's WithTenantTx then takes it over instead of beginning another.
// A customer read is then BEGIN, authentication, the query, COMMIT: the
// round trips of the raw work (BEGIN, app_set_context, the query, COMMIT),
// where a transaction for authentication and another for the handler took
// eight.
//
// The request transaction is taken over only by a WithTenantTx of the
// same scope and database whose options it can honour (it was begun read
// committed, read only or not); anything else the request begins first
// ends it (rolled back: authentication wrote nothing), so that a request
// never holds two connections at once. End closes it when the handler
// never asked for one (a route answering from the principal alone).

type requestTxKey struct{}

type requestTxState int

const (
	requestTxOpen requestTxState = iota
	requestTxTaken
	requestTxEnded
)

// RequestTx is a request's transaction, begun by authentication with its
// context set. The request's context carries it (WithRequestTx).
type RequestTx struct {
	mu       sync.Mutex
	db       Beginner
	tx       pgx.Tx
	scope    Scope
	readOnly bool
	state    requestTxState
}

// BeginRequest begins a request's transaction on db (read only when
// readOnly) and runs first in it: the statement that sets the
// transaction's context and answers the scope it set with its own result.
// When db lends connections (a pool), BEGIN goes out in one round trip
// with first's QueryRow (beginning). When first fails the transaction is
// rolled back.
func BeginRequest[T any](ctx context.Context, db Beginner, readOnly bool, first func(ctx context.Context, q dbsqlc.DBTX) (T, Scope, error)) (T, *RequestTx, error) {
	var zero T
	var tx pgx.Tx
	var q dbsqlc.DBTX
	if pool, ok := db.(Acquirer); ok {
		actx, cancel := beginContext(ctx)
		conn, err := pool.Acquire(actx)
		cancel()
		if err != nil {
			return zero, nil, fmt.Errorf("begin transaction: %w", unavailable(err))
		}
		ptx := &pipelinedTx{conn: conn, raw: conn.Conn()}
		begin := "BEGIN"
		if readOnly {
			begin = "BEGIN READ ONLY"
		}
		tx, q = ptx, &beginning{tx: ptx, beginSQL: begin}
	} else {
		opts := pgx.TxOptions{}
		if readOnly {
			opts.AccessMode = pgx.ReadOnly
		}
		bctx, cancel := beginContext(ctx)
		var err error
		tx, err = db.BeginTx(bctx, opts)
		cancel()
		if err != nil {
			return zero, nil, fmt.Errorf("begin transaction: %w", unavailable(err))
		}
		q = tx
	}
	v, scope, err := first(ctx, q)
	if err != nil {
		// Judged before the rollback, which gives the connection back
		// to the pool (another request may be using it after).
		err = connLost(tx, err)
		rollback(ctx, tx)
		return zero, nil, err
	}
	return v, &RequestTx{db: db, tx: tx, scope: scope, readOnly: readOnly}, nil
}

// WithRequestTx returns ctx carrying rt, for the handler's WithTenantTx to
// take over.
func WithRequestTx(ctx context.Context, rt *RequestTx) context.Context {
	return context.WithValue(ctx, requestTxKey{}, rt)
}

// End rolls the request transaction back unless it was taken over. It is
// safe to call more than once.
func (rt *RequestTx) End(ctx context.Context) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.state == requestTxOpen {
		rollback(ctx, rt.tx)
		rt.state = requestTxEnded
	}
}

// endRequestTx ends ctx's request transaction, if one is still open,
// before the request begins a transaction of its own.
func endRequestTx(ctx context.Context) {
	if rt, ok := ctx.Value(requestTxKey{}).(*RequestTx); ok {
		rt.End(ctx)
	}
}

// take hands ctx's open request transaction over to a WithTenantTx of
// scope s on db with options o when it can honour them; otherwise it ends
// it and answers nil.
func take(ctx context.Context, db Beginner, s Scope, o txOptions) *RequestTx {
	rt, ok := ctx.Value(requestTxKey{}).(*RequestTx)
	if !ok {
		return nil
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.state != requestTxOpen {
		return nil
	}
	fits := rt.db == db && rt.scope.Equal(s) &&
		o.pgx.IsoLevel == "" && o.pgx.DeferrableMode == "" && o.pgx.BeginQuery == "" &&
		(o.pgx.AccessMode == pgx.ReadOnly || !rt.readOnly)
	if !fits {
		rollback(ctx, rt.tx)
		rt.state = requestTxEnded
		return nil
	}
	rt.state = requestTxTaken
	return rt
}
