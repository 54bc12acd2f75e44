package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/tenant"
)

// Sentinel errors.
var (
	ErrNotFound = errors.New("job not found")
	ErrFinished = errors.New("job already finished")
)

// ForbiddenError refuses a caller who sees a job but lacks the permission
// of its kind.
type ForbiddenError struct {
	Permission string
}

func (e *ForbiddenError) Error() string {
	if e.Permission == "" {
		return "no permission is registered for this job's kind"
	}
	return "your role lacks the permission " + e.Permission + " this job needs"
}

// Client is the part of River's client the jobs service uses; every call
// runs on the caller's transaction.
type Client interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobCancelTx(ctx context.Context, tx pgx.Tx, jobID int64) (*rivertype.JobRow, error)
	JobListTx(ctx context.Context, tx pgx.Tx, params *river.JobListParams) (*river.JobListResult, error)
}

// Service creates, reads and cancels tenant jobs.
type Service struct {
	q      *dbsqlc.Queries
	river  Client
	kinds  Kinds
	logger *slog.Logger
}

// NewService returns a Service inserting through rc the jobs of kinds.
func NewService(rc Client, kinds Kinds, logger *slog.Logger) *Service {
	return &Service{q: dbsqlc.New(), river: rc, kinds: kinds, logger: logger}
}

// Enqueue starts a job in the caller's transaction: its River job and its
// tenant row commit together with whatever else the transaction writes, or
// not at all. params is what was asked (shown back on the job); build
// makes the River args from the job's reference.
func (s *Service) Enqueue(ctx context.Context, tx database.Tx, actor *tenant.Principal, params any, total *int64, build func(Ref) Args) (View, error) {
	ref := Ref{TenantID: tx.TenantID(), UserID: actor.UserID, JobID: uuid.New()}
	args := build(ref)
	if perm, ok := s.kinds[args.Kind()]; !ok || perm != args.Permission() {
		return View{}, fmt.Errorf("job kind %s is not registered with its permission %s (jobs.Kinds)", args.Kind(), args.Permission())
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return View{}, fmt.Errorf("encode job params: %w", err)
	}
	res, err := s.river.InsertTx(ctx, tx.Tx, args, nil)
	if err != nil {
		return View{}, fmt.Errorf("insert %s job: %w", args.Kind(), err)
	}
	uid := actor.UserID
	row, err := s.q.JobInsert(ctx, tx, dbsqlc.JobInsertParams{
		TenantID: tx.TenantID(), ID: ref.JobID, RiverJobID: res.Job.ID, Kind: args.Kind(),
		CreatedBy: &uid, Params: raw, Total: total,
	})
	if err != nil {
		return View{}, fmt.Errorf("record %s job: %w", args.Kind(), err)
	}
	return viewOf(row, nil), nil
}

// EnqueueSystem starts a system job (SystemArgs) of the transaction's
// tenant with the given job id, once: when a job with that id exists, or
// River already holds a job with the same args (unique insert options),
// nothing is inserted and started is false. Schedules derive the id from
// what makes the run unique (tenant and day), so every process that
// enqueues it, and every retry, starts the same one job.
func (s *Service) EnqueueSystem(ctx context.Context, tx database.Tx, jobID uuid.UUID, params any, build func(Ref) SystemArgs) (started bool, err error) {
	ref := Ref{TenantID: tx.TenantID(), JobID: jobID}
	args := build(ref)
	if perm, ok := s.kinds[args.Kind()]; !ok || perm != args.Permission() {
		return false, fmt.Errorf("job kind %s is not registered with its permission %s (jobs.Kinds)", args.Kind(), args.Permission())
	}
	if _, err := s.q.JobGet(ctx, tx, dbsqlc.JobGetParams{TenantID: ref.TenantID, ID: jobID}); err == nil {
		return false, nil
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("look up job: %w", err)
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return false, fmt.Errorf("encode job params: %w", err)
	}
	res, err := s.river.InsertTx(ctx, tx.Tx, args, nil)
	if err != nil {
		return false, fmt.Errorf("insert %s job: %w", args.Kind(), err)
	}
	if res.UniqueSkippedAsDuplicate {
		return false, nil
	}
	if _, err := s.q.JobInsert(ctx, tx, dbsqlc.JobInsertParams{
		TenantID: tx.TenantID(), ID: jobID, RiverJobID: res.Job.ID, Kind: args.Kind(), Params: raw,
	}); err != nil {
		return false, fmt.Errorf("record %s job: %w", args.Kind(), err)
	}
	return true, nil
}

// Get returns a job the caller can see.
func (s *Service) Get(ctx context.Context, tx database.Tx, id uuid.UUID) (View, error) {
	row, err := s.q.JobGet(ctx, tx, dbsqlc.JobGetParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return View{}, ErrNotFound
	}
	if err != nil {
		return View{}, fmt.Errorf("get job: %w", err)
	}
	views, err := s.views(ctx, tx, []dbsqlc.Job{row})
	if err != nil {
		return View{}, err
	}
	return views[0], nil
}

// ListParams filters and pages the job list.
type ListParams struct {
	Kind      *string
	State     *string
	CreatedBy *uuid.UUID
	After     *Cursor
	Limit     int32
}

// Cursor is the position after the last job of a page.
type Cursor struct {
	CreatedAt time.Time `json:"t"`
	ID        uuid.UUID `json:"id"`
}

// List returns a page of the jobs the caller can see, newest first.
func (s *Service) List(ctx context.Context, tx database.Tx, lp ListParams) ([]View, error) {
	p := dbsqlc.JobListParams{TenantID: tx.TenantID(), Kind: lp.Kind, State: lp.State, CreatedBy: lp.CreatedBy, RowLimit: lp.Limit}
	if lp.After != nil {
		p.AfterCreatedAt, p.AfterID = &lp.After.CreatedAt, &lp.After.ID
	}
	rows, err := s.q.JobList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return s.views(ctx, tx, rows)
}

// Cancel asks a job to stop. A queued job is cancelled at once; a running
// one stops after the step it is working on (steps already committed stay
// done) and is cancelled then.
//
// Stopping a job is acting on its work, so it takes what running it takes:
// the permission of the job's kind (a *ForbiddenError otherwise), and
// being its creator or a user who sees every customer (anyone else does
// not see the job: ErrNotFound, as the jobs policy already has it).
func (s *Service) Cancel(ctx context.Context, tx database.Tx, actor *tenant.Principal, id uuid.UUID) (View, error) {
	row, err := s.q.JobGetForUpdate(ctx, tx, dbsqlc.JobGetForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return View{}, ErrNotFound
	}
	if err != nil {
		return View{}, fmt.Errorf("lock job: %w", err)
	}
	if creator := row.CreatedBy != nil && *row.CreatedBy == actor.UserID; !creator && actor.Visibility != tenant.VisibilityAll {
		return View{}, ErrNotFound
	}
	if perm, ok := s.kinds[row.Kind]; !ok || !actor.Can(perm) {
		return View{}, &ForbiddenError{Permission: perm}
	}
	if Terminal(row.State) {
		return View{}, ErrFinished
	}
	// One time for the request and, when the job was not running, its end.
	now := time.Now()
	if err := s.q.JobRequestCancel(ctx, tx, dbsqlc.JobRequestCancelParams{TenantID: tx.TenantID(), ID: id, Now: now}); err != nil {
		return View{}, fmt.Errorf("request job cancel: %w", err)
	}
	rj, err := s.river.JobCancelTx(ctx, tx.Tx, row.RiverJobID)
	if err != nil && !errors.Is(err, river.ErrNotFound) {
		return View{}, fmt.Errorf("cancel river job: %w", err)
	}
	if rj == nil || rj.State == rivertype.JobStateCancelled {
		// It was not running: nothing will pick it up again.
		if err := s.q.JobFinish(ctx, tx, dbsqlc.JobFinishParams{
			TenantID: tx.TenantID(), ID: id, State: StateCancelled, Result: row.Result, Processed: row.Processed, Now: now,
		}); err != nil {
			return View{}, fmt.Errorf("finish cancelled job: %w", err)
		}
		if err := s.q.JobTargetsDelete(ctx, tx, dbsqlc.JobTargetsDeleteParams{TenantID: tx.TenantID(), JobID: id}); err != nil {
			return View{}, fmt.Errorf("drop job targets: %w", err)
		}
	}
	return s.Get(ctx, tx, id)
}

// Purge deletes the tenant's jobs that finished before the cutoff. It is
// a function, not a Service method: it needs no River client, and the
// purge worker, which has none of its own to hand, calls it directly.
func Purge(ctx context.Context, tx database.Tx, before time.Time) (int64, error) {
	n, err := dbsqlc.New().JobPurgeFinished(ctx, tx, dbsqlc.JobPurgeFinishedParams{TenantID: tx.TenantID(), Before: &before})
	if err != nil {
		return 0, fmt.Errorf("purge jobs: %w", err)
	}
	return n, nil
}

// views shows jobs, completing those not yet over with what River knows:
// a job River gave up on (a worker killed on its last attempt, say) never
// got to record its own end.
func (s *Service) views(ctx context.Context, tx database.Tx, rows []dbsqlc.Job) ([]View, error) {
	var open []int64
	for _, r := range rows {
		if !Terminal(r.State) {
			open = append(open, r.RiverJobID)
		}
	}
	byID := map[int64]*rivertype.JobRow{}
	if len(open) > 0 {
		res, err := s.river.JobListTx(ctx, tx.Tx, river.NewJobListParams().IDs(open...).First(len(open)))
		if err != nil {
			return nil, fmt.Errorf("read river jobs: %w", err)
		}
		for _, j := range res.Jobs {
			byID[j.ID] = j
		}
	}
	out := make([]View, len(rows))
	for i, r := range rows {
		rj := byID[r.RiverJobID]
		if rj != nil && rj.FinalizedAt != nil {
			// The job finished between the two reads (each statement of the
			// transaction sees what was committed when it began); its row
			// committed together with River's, so reading it again shows
			// the result.
			again, err := s.q.JobGet(ctx, tx, dbsqlc.JobGetParams{TenantID: r.TenantID, ID: r.ID})
			if err != nil {
				return nil, fmt.Errorf("read job again: %w", err)
			}
			r = again
			if Terminal(r.State) {
				rj = nil
			}
		}
		out[i] = viewOf(r, rj)
	}
	return out, nil
}

// View is a job as the API shows it.
type View struct {
	ID                uuid.UUID       `json:"id"`
	Kind              string          `json:"kind"`
	State             string          `json:"state"`
	Progress          ProgressView    `json:"progress"`
	Params            json.RawMessage `json:"params"`
	Result            json.RawMessage `json:"result"`
	Errors            []Error         `json:"errors"`
	Attempts          int             `json:"attempts"`
	CreatedBy         *uuid.UUID      `json:"created_by"`
	CreatedAt         time.Time       `json:"created_at"`
	StartedAt         *time.Time      `json:"started_at"`
	FinishedAt        *time.Time      `json:"finished_at"`
	CancelRequestedAt *time.Time      `json:"cancel_requested_at"`
}

// ProgressView is how far a job got.
type ProgressView struct {
	Processed int64  `json:"processed"`
	Total     *int64 `json:"total"`
}

// rescued is the error River records when its rescuer takes back the job
// of a worker that stopped without finishing it (killed, lost its
// database connection).
const rescued = "Stuck job rescued"

func viewOf(r dbsqlc.Job, rj *rivertype.JobRow) View {
	v := View{
		ID: r.ID, Kind: r.Kind, State: r.State, Progress: ProgressView{Processed: r.Processed, Total: r.Total},
		Params: r.Params, Result: r.Result, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, CancelRequestedAt: r.CancelRequestedAt, Errors: []Error{},
	}
	if len(v.Result) == 0 {
		v.Result = json.RawMessage("null")
	}
	if err := json.Unmarshal(r.Errors, &v.Errors); err != nil || v.Errors == nil {
		v.Errors = []Error{}
	}
	if rj == nil {
		return v
	}
	v.Attempts = rj.Attempt
	// Our own rows record the errors a worker could explain; River adds the
	// attempts that ended without the worker getting a say.
	v.Errors = mergeErrors(v.Errors, rescues(rj.Errors))
	switch rj.State {
	case rivertype.JobStateRunning:
		v.State = StateRunning
	case rivertype.JobStateCompleted:
		v.State, v.FinishedAt = StateSucceeded, rj.FinalizedAt
	case rivertype.JobStateDiscarded:
		v.State, v.FinishedAt = StateFailed, rj.FinalizedAt
		v.Errors = append(v.Errors, Error{At: timeOr(rj.FinalizedAt), Attempt: rj.Attempt,
			Message: fmt.Sprintf("gave up after %d attempts", rj.Attempt)})
	case rivertype.JobStateCancelled:
		v.State, v.FinishedAt = StateCancelled, rj.FinalizedAt
	}
	return v
}

// rescues are the attempts River's rescuer ended: their worker stopped
// (killed, or lost its database) without finishing them.
func rescues(errs []rivertype.AttemptError) []Error {
	var out []Error
	for _, e := range errs {
		if strings.Contains(e.Error, rescued) {
			out = append(out, Error{At: e.At, Attempt: e.Attempt,
				Message: "the worker running this job stopped; it resumes after the last completed batch"})
		}
	}
	return out
}

// mergeErrors adds to have the entries of add it lacks (same attempt and
// message).
func mergeErrors(have, add []Error) []Error {
	for _, a := range add {
		if !slices.ContainsFunc(have, func(h Error) bool { return h.Attempt == a.Attempt && h.Message == a.Message }) {
			have = append(have, a)
		}
	}
	return have
}

func timeOr(t *time.Time) time.Time {
	if t == nil {
		return time.Now()
	}
	return *t
}
