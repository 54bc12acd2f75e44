package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/files"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/location"
	"github.com/customerhub/customerhub/internal/tenant"
)

// Service runs imports. Its methods take the caller's transaction, except
// Step, which the jobs runner calls with each batch's.
type Service struct {
	q         *dbsqlc.Queries
	customers *customer.Service
	locations *location.Service
	logger    *slog.Logger
	db        database.Beginner
	// MaxBytes bounds an upload (DefaultMaxBytes when zero).
	MaxBytes int64
	// Retention is how long an import and its file are kept.
	Retention time.Duration
	// Batch is how many rows one transaction writes.
	Batch int
	// TempDir is where xlsx uploads are copied to be read ("" is the
	// system's).
	TempDir string

	open *openFiles
}

// NewService returns a Service. db is the pool the job reads its file
// through (chunk by chunk, outside the batches' transactions).
func NewService(db database.Beginner, customers *customer.Service, locations *location.Service, logger *slog.Logger) *Service {
	return &Service{q: dbsqlc.New(), db: db, customers: customers, locations: locations, logger: logger,
		MaxBytes: DefaultMaxBytes, Retention: DefaultRetention, Batch: DefaultBatch, open: newOpenFiles()}
}

func (s *Service) maxBytes() int64 {
	if s.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return s.MaxBytes
}

func (s *Service) retention() time.Duration {
	if s.Retention <= 0 {
		return DefaultRetention
	}
	return s.Retention
}

func (s *Service) batch() int {
	if s.Batch <= 0 {
		return DefaultBatch
	}
	return s.Batch
}

// View is an import as the API shows it.
type View struct {
	ID               uuid.UUID         `json:"id"`
	Kind             string            `json:"kind"`
	Mode             string            `json:"mode"`
	MatchOn          string            `json:"match_on"`
	DryRun           bool              `json:"dry_run"`
	AllOrNothing     bool              `json:"all_or_nothing"`
	Mapping          map[string]string `json:"mapping"`
	Sheet            *string           `json:"sheet"`
	Format           string            `json:"format"`
	FileName         string            `json:"file_name"`
	State            string            `json:"state"`
	Counts           Counts            `json:"counts"`
	Progress         jobs.ProgressView `json:"progress"`
	UnknownColumns   []string          `json:"unknown_columns"`
	Summary          Summary           `json:"summary"`
	Reason           *string           `json:"reason"`
	Errors           []RowError        `json:"errors"`
	ErrorsNextCursor *string           `json:"errors_next_cursor"`
	JobID            uuid.UUID         `json:"job_id"`
	CreatedBy        *uuid.UUID        `json:"created_by"`
	CreatedAt        time.Time         `json:"created_at"`
	FinishedAt       *time.Time        `json:"finished_at"`
	ExpiresAt        time.Time         `json:"expires_at"`
}

// viewOf shows an import row, completed with its job: an import whose job
// ended before the import could record its own end (a file refused as a
// whole, a cancel, a user who lost the permission) takes the job's state,
// and the job's last error as its reason.
func viewOf(r dbsqlc.Import, job *jobs.View) View {
	v := View{ID: r.ID, Kind: r.Kind, Mode: r.Mode, MatchOn: r.MatchOn, DryRun: r.DryRun, AllOrNothing: r.AllOrNothing,
		Sheet: r.Sheet, Format: r.Format, FileName: r.FileName, State: r.State, UnknownColumns: r.UnknownColumns,
		Reason: r.Reason, JobID: r.JobID, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt,
		ExpiresAt: r.ExpiresAt, Errors: []RowError{}}
	_ = json.Unmarshal(r.Mapping, &v.Mapping)
	if v.Mapping == nil {
		v.Mapping = map[string]string{}
	}
	_ = json.Unmarshal(r.Counts, &v.Counts)
	_ = json.Unmarshal(r.Summary, &v.Summary)
	if v.UnknownColumns == nil {
		v.UnknownColumns = []string{}
	}
	if job != nil {
		v.Progress = job.Progress
		if !jobs.Terminal(v.State) {
			v.State = job.State
			if jobs.Terminal(job.State) {
				v.FinishedAt = job.FinishedAt
				if job.State != jobs.StateSucceeded && len(job.Errors) > 0 {
					msg := job.Errors[len(job.Errors)-1].Message
					v.Reason = &msg
				}
			}
		}
	}
	return v
}

// NewImport is what Create records.
type NewImport struct {
	Params
	Format   string
	FileName string
	FileID   uuid.UUID
}

// Create records an import of a stored file and queues its job, in tx.
func (s *Service) Create(ctx context.Context, tx database.Tx, js *jobs.Service, actor *tenant.Principal, ni NewImport) (View, jobs.View, error) {
	id := uuid.New()
	jv, err := js.Enqueue(ctx, tx, actor, jobParams{ImportID: id}, nil, func(ref jobs.Ref) jobs.Args {
		return Args{Ref: ref, ImportID: id}
	})
	if err != nil {
		return View{}, jobs.View{}, err
	}
	mapping := ni.Mapping
	if mapping == nil {
		mapping = map[string]string{}
	}
	now := time.Now()
	uid := actor.UserID
	row, err := s.q.ImportInsert(ctx, tx, dbsqlc.ImportInsertParams{
		TenantID: tx.TenantID(), ID: id, Kind: ni.Kind, Mode: ni.Mode, MatchOn: ni.MatchOn, DryRun: ni.DryRun,
		AllOrNothing: ni.AllOrNothing, Mapping: mustJSON(mapping), Sheet: ni.Sheet, Format: ni.Format, FileName: ni.FileName,
		FileID: ni.FileID, JobID: jv.ID, CreatedBy: &uid, CreatedAt: now, ExpiresAt: now.Add(s.retention()),
	})
	if err != nil {
		return View{}, jobs.View{}, fmt.Errorf("record import: %w", err)
	}
	return viewOf(row, &jv), jv, nil
}

// ErrorCursor is the position after the last error of a page.
type ErrorCursor struct {
	Row int `json:"r"`
	Seq int `json:"s"`
}

// Get returns an import the caller can see, with a page of its row errors
// after the cursor (limit of them; none when limit is 0) and the cursor of
// the next page.
func (s *Service) Get(ctx context.Context, tx database.Tx, js *jobs.Service, id uuid.UUID, after ErrorCursor, limit int32) (View, *ErrorCursor, error) {
	row, err := s.q.ImportGet(ctx, tx, dbsqlc.ImportGetParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return View{}, nil, ErrNotFound
	}
	if err != nil {
		return View{}, nil, fmt.Errorf("get import: %w", err)
	}
	v := viewOf(row, s.jobOf(ctx, tx, js, row.JobID))
	if limit <= 0 {
		return v, nil, nil
	}
	errs, err := s.q.ImportErrorsPage(ctx, tx, dbsqlc.ImportErrorsPageParams{TenantID: tx.TenantID(), ImportID: id,
		AfterRow: int32(after.Row), AfterSeq: int32(after.Seq), RowLimit: limit + 1})
	if err != nil {
		return View{}, nil, fmt.Errorf("read import errors: %w", err)
	}
	var next *ErrorCursor
	if len(errs) > int(limit) {
		errs = errs[:limit]
		last := errs[len(errs)-1]
		next = &ErrorCursor{Row: int(last.Row), Seq: int(last.Seq)}
	}
	for _, e := range errs {
		v.Errors = append(v.Errors, RowError{Row: int(e.Row), Column: e.Column, Value: e.Value, Code: e.Code, Message: e.Message})
	}
	return v, next, nil
}

func (s *Service) jobOf(ctx context.Context, tx database.Tx, js *jobs.Service, id uuid.UUID) *jobs.View {
	jv, err := js.Get(ctx, tx, id)
	if err != nil {
		// Purged, or not readable: the import's own record stands.
		return nil
	}
	return &jv
}

// ListCursor is the position after the last import of a page.
type ListCursor struct {
	CreatedAt time.Time `json:"t"`
	ID        uuid.UUID `json:"id"`
}

// List returns a page of the imports the caller can see, newest first.
func (s *Service) List(ctx context.Context, tx database.Tx, js *jobs.Service, after *ListCursor, limit int32) ([]View, error) {
	p := dbsqlc.ImportListParams{TenantID: tx.TenantID(), RowLimit: limit}
	if after != nil {
		p.AfterCreatedAt, p.AfterID = &after.CreatedAt, &after.ID
	}
	rows, err := s.q.ImportList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list imports: %w", err)
	}
	views := make([]View, 0, len(rows))
	for _, r := range rows {
		views = append(views, viewOf(r, s.jobOf(ctx, tx, js, r.JobID)))
	}
	return views, nil
}

// Purge deletes the tenant's imports past their retention, with their
// errors and their files.
func (s *Service) Purge(ctx context.Context, tx database.Tx, before time.Time) (int64, error) {
	ids, err := s.q.ImportPurgeExpired(ctx, tx, dbsqlc.ImportPurgeExpiredParams{TenantID: tx.TenantID(), Before: before})
	if err != nil {
		return 0, fmt.Errorf("purge imports: %w", err)
	}
	for _, id := range ids {
		if err := files.Delete(ctx, tx, id); err != nil && !errors.Is(err, files.ErrNotFound) {
			return 0, err
		}
	}
	return int64(len(ids)), nil
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
