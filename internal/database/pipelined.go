package database

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Acquirer lends connections; *pgxpool.Pool satisfies it. BeginRequest
// pipelines BEGIN with the first statement on a connection it acquires.
type Acquirer interface {
	Acquire(ctx context.Context) (*pgxpool.Conn, error)
}

// beginning is the DBTX BeginRequest hands its first statement: the
// statement's QueryRow goes out in one pipeline after BEGIN (pgx.Batch:
// one write, one round trip), where pgx's BeginTx would send BEGIN alone
// and wait for it. Only QueryRow is pipelined, and only once; anything
// else runs on the begun transaction as usual.
type beginning struct {
	tx       *pipelinedTx
	beginSQL string
	begun    bool
}

func (b *beginning) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if b.begun {
		return b.tx.QueryRow(ctx, sql, args...)
	}
	b.begun = true
	batch := &pgx.Batch{}
	batch.Queue(b.beginSQL)
	batch.Queue(sql, args...)
	br := b.tx.raw.SendBatch(ctx, batch)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return errRow{err}
	}
	return batchRow{row: br.QueryRow(), br: br}
}

func (b *beginning) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := b.start(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return b.tx.Exec(ctx, sql, args...)
}

func (b *beginning) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := b.start(ctx); err != nil {
		return nil, err
	}
	return b.tx.Query(ctx, sql, args...)
}

// start sends BEGIN alone, for a first statement that is not a QueryRow.
func (b *beginning) start(ctx context.Context) error {
	if b.begun {
		return nil
	}
	b.begun = true
	_, err := b.tx.conn.Exec(ctx, b.beginSQL)
	return err
}

// batchRow reads the pipelined statement's row, then the end of the batch.
type batchRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

func (r batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// pipelinedTx is a transaction on an acquired pool connection, begun by
// beginning. It is a pgx.Tx like the one pgx's BeginTx returns (savepoints
// for Begin; Commit reports a transaction that had failed as
// pgx.ErrTxCommitRollback), and it gives the connection back to the pool
// when it ends. Large objects are not supported (nothing here uses them).
type pipelinedTx struct {
	conn *pgxpool.Conn
	// raw is conn's connection (pgxpool's Conn is unusable once it went
	// back to the pool, which end does).
	raw    *pgx.Conn
	closed bool
	// savepoints numbers the savepoints Begin makes.
	savepoints int64
}

func (tx *pipelinedTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if tx.closed {
		return nil, pgx.ErrTxClosed
	}
	tx.savepoints++
	name := "sp_" + strconv.FormatInt(tx.savepoints, 10)
	if _, err := tx.conn.Exec(ctx, "SAVEPOINT "+name); err != nil {
		return nil, err
	}
	return &savepointTx{pgx.Tx(tx), tx, name, false}, nil
}

func (tx *pipelinedTx) Commit(ctx context.Context) error {
	if tx.closed {
		return pgx.ErrTxClosed
	}
	tag, err := tx.conn.Exec(ctx, "COMMIT")
	tx.end(ctx, err)
	if err != nil {
		return err
	}
	if tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

func (tx *pipelinedTx) Rollback(ctx context.Context) error {
	if tx.closed {
		return pgx.ErrTxClosed
	}
	_, err := tx.conn.Exec(ctx, "ROLLBACK")
	tx.end(ctx, err)
	return err
}

// end gives the connection back; one whose transaction could not be ended
// is closed first (the pool then drops it).
func (tx *pipelinedTx) end(ctx context.Context, err error) {
	tx.closed = true
	if err != nil || tx.raw.PgConn().TxStatus() != 'I' {
		_ = tx.raw.Close(ctx)
	}
	tx.conn.Release()
}

func (tx *pipelinedTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if tx.closed {
		return 0, pgx.ErrTxClosed
	}
	return tx.conn.CopyFrom(ctx, table, columns, src)
}

func (tx *pipelinedTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if tx.closed {
		return pgx.FailedBatchResults(b, pgx.ErrTxClosed)
	}
	return tx.conn.SendBatch(ctx, b)
}

func (tx *pipelinedTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

func (tx *pipelinedTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if tx.closed {
		return nil, pgx.ErrTxClosed
	}
	return tx.raw.Prepare(ctx, name, sql)
}

func (tx *pipelinedTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if tx.closed {
		return pgconn.CommandTag{}, pgx.ErrTxClosed
	}
	return tx.conn.Exec(ctx, sql, args...)
}

func (tx *pipelinedTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if tx.closed {
		return nil, pgx.ErrTxClosed
	}
	return tx.conn.Query(ctx, sql, args...)
}

func (tx *pipelinedTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if tx.closed {
		return errRow{pgx.ErrTxClosed}
	}
	return tx.conn.QueryRow(ctx, sql, args...)
}

// Conn is the transaction's connection while it lasts, nil after: the
// connection went back to the pool and may serve another request.
func (tx *pipelinedTx) Conn() *pgx.Conn {
	if tx.closed {
		return nil
	}
	return tx.raw
}

// savepointTx is a savepoint of a pipelinedTx: Commit releases it,
// Rollback rolls back to it.
type savepointTx struct {
	pgx.Tx
	top    *pipelinedTx
	name   string
	closed bool
}

func (sp *savepointTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if sp.closed {
		return nil, pgx.ErrTxClosed
	}
	return sp.top.Begin(ctx)
}

func (sp *savepointTx) Commit(ctx context.Context) error {
	if sp.closed {
		return pgx.ErrTxClosed
	}
	sp.closed = true
	_, err := sp.top.Exec(ctx, "RELEASE SAVEPOINT "+sp.name)
	return err
}

func (sp *savepointTx) Rollback(ctx context.Context) error {
	if sp.closed {
		return pgx.ErrTxClosed
	}
	sp.closed = true
	_, err := sp.top.Exec(ctx, "ROLLBACK TO SAVEPOINT "+sp.name)
	return err
}
