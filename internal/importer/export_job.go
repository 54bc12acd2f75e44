package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/files"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
	"github.com/customerhub/customerhub/internal/xlsx"
)

// KindCustomerExport is the job kind of an export too large to answer at
// once.
const KindCustomerExport = "customer_export"

// ExportArgs are the River args of an export job; what was asked is the
// job's params (ExportRequest).
type ExportArgs struct {
	jobs.Ref
}

// Kind implements river.JobArgs.
func (ExportArgs) Kind() string { return KindCustomerExport }

// Permission implements jobs.Args.
func (ExportArgs) Permission() string { return auth.PermCustomersExport }

// InsertOpts puts exports on the bulk queue.
func (ExportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueBulk, MaxAttempts: 5}
}

// ExportAttemptTimeout bounds one attempt of an export job. An export's
// file is written by one worker from start to end (a half-written xlsx
// cannot be handed to another process), so its attempt is long: a third of
// it (the runner's time slice) must cover the whole export. A worker
// killed mid-export loses its file; River rescues the job after this
// timeout and another worker writes it again from the start.
const ExportAttemptTimeout = 30 * time.Minute

// exportStepRows is how many customers one step of an export job writes
// (one statement, Exporter.Stream) before it records its progress: large
// enough that PostgreSQL reads them with one sort rather than a row at a
// time in index order.
const exportStepRows = 250_000

// ExportResult is the result of an export job.
type ExportResult struct {
	// Rows counts the customers written.
	Rows int64       `json:"rows"`
	File *ResultFile `json:"file"`
}

// ResultFile is a job's downloadable file.
type ResultFile struct {
	ID          uuid.UUID `json:"id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	ExpiresAt   time.Time `json:"expires_at"`
	// URL is where it is downloaded (GET /v1/jobs/{id}/result).
	URL string `json:"url"`
}

// ExportJob works export jobs.
type ExportJob struct {
	Exporter *Exporter
	// Retention is how long the file is kept for download.
	Retention time.Duration
	// TempDir holds the file while it is written (os.TempDir when empty).
	TempDir string
	// StepRows is how many customers a step writes (exportStepRows when
	// zero).
	StepRows int32
}

// Work writes the export: the first step of an attempt plans it as the
// acting user sees the tenant now and starts a temporary file; each step
// appends the next customers and records how many are written; the last
// one stores the file (expiring after Retention) and sets the result, in
// the transaction that completes the job. An attempt that ends early (a
// crash, an error) leaves nothing behind but its progress, and the next
// one writes the file again from the start.
func (j *ExportJob) Work(ctx context.Context, runner *jobs.Runner, job *river.Job[ExportArgs]) error {
	var run *ExportRun
	var plan ExportPlan
	var tmp *os.File
	defer func() {
		if run != nil {
			run.Abort()
		}
		if tmp != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	return jobs.Run(ctx, runner, job, func(ctx context.Context, tx database.Tx, actor *tenant.Principal, p *jobs.Progress) (bool, error) {
		if run == nil {
			var req ExportRequest
			if err := json.Unmarshal(p.Params, &req); err != nil {
				return false, jobs.Fail("the export's parameters cannot be read")
			}
			var err error
			plan, err = j.Exporter.Plan(ctx, tx, actor, req)
			var verrs validation.Errors
			if errors.As(err, &verrs) {
				return false, jobs.FailCode("invalid_request", "the export cannot run as asked: "+verrs.Error())
			}
			if err != nil {
				return false, err
			}
			total, err := j.Exporter.Count(ctx, tx, actor, plan, 1<<40)
			if err != nil {
				return false, err
			}
			if plan.Format == xlsx.FormatXLSX && total > xlsxMaxRows {
				return false, jobs.FailCode("too_many_rows",
					fmt.Sprintf("%d customers do not fit one xlsx sheet (%d rows at most); export them as csv", total, xlsxMaxRows))
			}
			if tmp, err = os.CreateTemp(j.TempDir, "customerhub-export-*"); err != nil {
				return false, fmt.Errorf("export temporary file: %w", err)
			}
			if run, err = j.Exporter.Start(plan, tmp); err != nil {
				return false, err
			}
			p.Total, p.Processed = &total, 0
		}
		step := j.StepRows
		if step <= 0 {
			step = exportStepRows
		}
		// A step's statement sorts what is left of the selection: it may
		// outlast the pool's statement timeout, within the attempt's.
		if err := j.Exporter.Stream(ctx, tx, actor, run, step, ExportAttemptTimeout/3); err != nil {
			var lim *xlsx.LimitError
			if errors.As(err, &lim) {
				return false, jobs.FailCode("too_many_rows", "the export does not fit one xlsx sheet; export it as csv")
			}
			return false, err
		}
		p.Processed = run.Rows
		if !run.Done() {
			return false, nil
		}
		err := run.Close()
		run = nil
		if err != nil {
			return false, fmt.Errorf("finish export file: %w", err)
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return false, fmt.Errorf("rewind export file: %w", err)
		}
		uid := actor.UserID
		now := time.Now()
		f, err := files.Save(ctx, tx, files.New{
			Purpose: "export", Name: plan.FileName(now), ContentType: plan.Format.ContentType(),
			CreatedBy: &uid, ExpiresAt: now.Add(j.Retention),
		}, tmp, 0)
		if err != nil {
			return false, err
		}
		p.Result = ExportResult{Rows: p.Processed, File: &ResultFile{ID: f.ID, Name: f.Name, ContentType: f.ContentType,
			Size: f.Size, ExpiresAt: f.ExpiresAt, URL: "/v1/jobs/" + p.ID.String() + "/result"}}
		return true, nil
	})
}

// xlsxMaxRows is how many customers fit one sheet below its header.
const xlsxMaxRows = 1_048_575
