// Package files is a durable file store in PostgreSQL: uploads waiting for
// their import job, export results waiting for their download. A file is a
// row of files plus its content in chunks of ChunkSize bytes (file_chunks),
// under the tenant's row-level security: whoever sees the file's row (its
// creator, or users who see every customer, as with jobs) reads it.
//
// Nothing is held whole in memory: Save copies from an io.Reader one chunk
// at a time, refusing past a size limit (*TooLargeError); a Reader fetches
// one chunk at a time. A file is written in the caller's transaction, so it
// exists only if what asked for it commits. Expired files are deleted by
// the periodic files_purge job.
package files

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
)

// ChunkSize is the size of a stored chunk: large enough that a file is few
// rows and round trips, small enough that a reader holds little.
const ChunkSize = 1 << 20

// ErrNotFound is the answer for a file that does not exist or that the
// caller cannot see.
var ErrNotFound = errors.New("file not found")

// TooLargeError refuses content longer than the limit Save was given.
type TooLargeError struct {
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the file is larger than the limit of %d bytes", e.Limit)
}

// New describes a file to save.
type New struct {
	// Purpose says what the file is for ("import", "export"); shown to
	// operators, never interpreted.
	Purpose     string
	Name        string
	ContentType string
	CreatedBy   *uuid.UUID
	ExpiresAt   time.Time
}

// File is a stored file.
type File struct {
	ID          uuid.UUID
	Purpose     string
	Name        string
	ContentType string
	Size        int64
	SHA256      []byte
	CreatedBy   *uuid.UUID
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

func fileOf(r dbsqlc.File) File {
	return File{ID: r.ID, Purpose: r.Purpose, Name: r.Name, ContentType: r.ContentType, Size: r.Size,
		SHA256: r.Sha256, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
}

// Save stores what r yields as a new file, in tx. More than limit bytes
// (when limit > 0) is a *TooLargeError, found after reading at most
// limit+1 bytes; the caller rolls the transaction back.
func Save(ctx context.Context, tx database.Tx, nf New, r io.Reader, limit int64) (File, error) {
	q := dbsqlc.New()
	id := uuid.New()
	now := time.Now()
	if err := q.FileInsert(ctx, tx, dbsqlc.FileInsertParams{TenantID: tx.TenantID(), ID: id, Purpose: nf.Purpose, Name: nf.Name,
		ContentType: nf.ContentType, CreatedBy: nf.CreatedBy, CreatedAt: now, ExpiresAt: nf.ExpiresAt}); err != nil {
		return File{}, fmt.Errorf("insert file: %w", err)
	}
	if limit > 0 {
		r = io.LimitReader(r, limit+1)
	}
	h := sha256.New()
	buf := make([]byte, ChunkSize)
	var size int64
	for seq := int32(0); ; seq++ {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			size += int64(n)
			if limit > 0 && size > limit {
				return File{}, &TooLargeError{Limit: limit}
			}
			h.Write(buf[:n])
			if err := q.FileChunkInsert(ctx, tx, dbsqlc.FileChunkInsertParams{TenantID: tx.TenantID(), FileID: id, Seq: seq,
				Data: buf[:n], CreatedBy: nf.CreatedBy}); err != nil {
				return File{}, fmt.Errorf("insert file chunk: %w", err)
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return File{}, fmt.Errorf("read file: %w", err)
		}
	}
	sum := h.Sum(nil)
	if err := q.FileComplete(ctx, tx, dbsqlc.FileCompleteParams{TenantID: tx.TenantID(), ID: id, Size: size, Sha256: sum}); err != nil {
		return File{}, fmt.Errorf("complete file: %w", err)
	}
	return File{ID: id, Purpose: nf.Purpose, Name: nf.Name, ContentType: nf.ContentType, Size: size, SHA256: sum,
		CreatedBy: nf.CreatedBy, CreatedAt: now, ExpiresAt: nf.ExpiresAt}, nil
}

// Get returns a file the caller can see.
func Get(ctx context.Context, tx database.Tx, id uuid.UUID) (File, error) {
	row, err := dbsqlc.New().FileGet(ctx, tx, dbsqlc.FileGetParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return File{}, ErrNotFound
	}
	if err != nil {
		return File{}, fmt.Errorf("get file: %w", err)
	}
	return fileOf(row), nil
}

// Delete removes a file and its content.
func Delete(ctx context.Context, tx database.Tx, id uuid.UUID) error {
	n, err := dbsqlc.New().FileDelete(ctx, tx, dbsqlc.FileDeleteParams{TenantID: tx.TenantID(), ID: id})
	if err != nil {
		return fmt.Errorf("delete file: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Purge deletes the tenant's files that expired before the cutoff, except
// those an import still holds (they go with their import).
func Purge(ctx context.Context, tx database.Tx, before time.Time) (int64, error) {
	n, err := dbsqlc.New().FilePurgeExpired(ctx, tx, dbsqlc.FilePurgeExpiredParams{TenantID: tx.TenantID(), Before: before})
	if err != nil {
		return 0, fmt.Errorf("purge files: %w", err)
	}
	return n, nil
}

// Reader reads a stored file chunk by chunk: it holds one chunk at a time.
type Reader struct {
	file  File
	fetch func(ctx context.Context, seq int32) ([]byte, error)
	ctx   context.Context
	seq   int32
	buf   []byte
	read  int64
}

// File is the file being read.
func (r *Reader) File() File { return r.file }

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.read >= r.file.Size {
			return 0, io.EOF
		}
		data, err := r.fetch(r.ctx, r.seq)
		if err != nil {
			return 0, err
		}
		if len(data) == 0 {
			return 0, fmt.Errorf("file %s: chunk %d is empty", r.file.ID, r.seq)
		}
		r.seq++
		r.buf = data
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	r.read += int64(n)
	return n, nil
}

// Open reads a file the caller can see through tx: for reading within one
// transaction (the reader must not outlive it).
func Open(ctx context.Context, tx database.Tx, id uuid.UUID) (*Reader, error) {
	f, err := Get(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	q := dbsqlc.New()
	return &Reader{file: f, ctx: ctx, fetch: func(ctx context.Context, seq int32) ([]byte, error) {
		return chunk(ctx, q, tx, f.ID, seq)
	}}, nil
}

// OpenEach reads a file visible in scope, fetching each chunk in a
// read-only transaction of its own: for readers that outlive any one
// transaction (a response streamed after its handler returned, a job
// reading its input across batches).
func OpenEach(ctx context.Context, db database.Beginner, scope database.Scope, id uuid.UUID) (*Reader, error) {
	f, err := database.WithTenantTxV(ctx, db, scope, func(ctx context.Context, tx database.Tx) (File, error) {
		return Get(ctx, tx, id)
	}, database.ReadOnly)
	if err != nil {
		return nil, err
	}
	q := dbsqlc.New()
	return &Reader{file: f, ctx: ctx, fetch: func(ctx context.Context, seq int32) ([]byte, error) {
		return database.WithTenantTxV(ctx, db, scope, func(ctx context.Context, tx database.Tx) ([]byte, error) {
			return chunk(ctx, q, tx, f.ID, seq)
		}, database.ReadOnly)
	}}, nil
}

func chunk(ctx context.Context, q *dbsqlc.Queries, tx database.Tx, id uuid.UUID, seq int32) ([]byte, error) {
	data, err := q.FileChunkGet(ctx, tx, dbsqlc.FileChunkGetParams{TenantID: tx.TenantID(), FileID: id, Seq: seq})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("file %s: chunk %d is missing", id, seq)
	}
	if err != nil {
		return nil, fmt.Errorf("read file chunk: %w", err)
	}
	return data, nil
}

// PurgeArgs is the hourly job that deletes expired files.
type PurgeArgs struct{}

// Kind implements river.JobArgs.
func (PurgeArgs) Kind() string { return "files_purge" }

// InsertOpts makes the job unique per hour.
func (PurgeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}
