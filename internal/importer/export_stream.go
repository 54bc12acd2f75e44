package importer

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/customerhub/customerhub/internal/dbsqlc"
)

// batchedQuery runs a generated :many query once, as one statement, and
// hands its rows to successive calls of the same generated method in
// batches of at most size: the method reads rows until Next reports false,
// which a batch does after size rows while the statement stays open for
// the next call. It is a cursor over one statement without SQL of our own:
// the rows are read as PostgreSQL produces them, none twice, and memory
// holds one batch. Calls after the first must pass the same query (their
// arguments are ignored); Close ends the statement.
type batchedQuery struct {
	db   dbsqlc.DBTX
	size int
	rows pgx.Rows
	n    int
	done bool
}

// Query implements dbsqlc.DBTX.
func (b *batchedQuery) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if b.rows == nil {
		rows, err := b.db.Query(ctx, sql, args...)
		if err != nil {
			return nil, err
		}
		b.rows = rows
	}
	b.n = 0
	return batchRows{b}, nil
}

// Exec implements dbsqlc.DBTX; only Query is batched.
func (b *batchedQuery) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, errors.New("batchedQuery runs one query")
}

// QueryRow implements dbsqlc.DBTX; only Query is batched.
func (b *batchedQuery) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return errRow{errors.New("batchedQuery runs one query")}
}

// Done reports whether the statement has returned its last row.
func (b *batchedQuery) Done() bool { return b.done }

// Close ends the statement (at once if it has rows left).
func (b *batchedQuery) Close() {
	if b.rows != nil {
		b.rows.Close()
	}
}

// batchRows is one batch's view of the statement's rows.
type batchRows struct{ b *batchedQuery }

func (r batchRows) Next() bool {
	b := r.b
	if b.done || b.n >= b.size {
		return false
	}
	if !b.rows.Next() {
		b.done = true
		return false
	}
	b.n++
	return true
}

func (r batchRows) Close()                                       {}
func (r batchRows) Err() error                                   { return r.b.rows.Err() }
func (r batchRows) CommandTag() pgconn.CommandTag                { return r.b.rows.CommandTag() }
func (r batchRows) FieldDescriptions() []pgconn.FieldDescription { return r.b.rows.FieldDescriptions() }
func (r batchRows) Scan(dest ...any) error                       { return r.b.rows.Scan(dest...) }
func (r batchRows) Values() ([]any, error)                       { return r.b.rows.Values() }
func (r batchRows) RawValues() [][]byte                          { return r.b.rows.RawValues() }
func (r batchRows) Conn() *pgx.Conn                              { return r.b.rows.Conn() }
func (r batchRows) TypeMap() *pgtype.Map                         { return r.b.rows.TypeMap() }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
