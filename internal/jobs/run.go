package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/tenant"
)

// Step is one unit of a job's work (a batch). It runs in a transaction
// scoped to the acting user, with the job's row locked; it advances p
// (Processed, Cursor, Result) and reports whether the job is done. What it
// writes and the progress it reports commit together.
type Step func(ctx context.Context, tx database.Tx, actor *tenant.Principal, p *Progress) (done bool, err error)

// Runner runs tenant jobs step by step.
type Runner struct {
	db         database.Beginner
	principals func(ctx context.Context, tx database.Tx, ref Ref) (*tenant.Principal, error)
	logger     *slog.Logger
	// Timeout is the River timeout of one attempt (the workers' Timeout);
	// an attempt starts no new step after a third of it.
	Timeout time.Duration
}

// NewRunner returns a Runner. principal resolves the acting user of a job
// (auth.Service.PrincipalFor) inside a transaction of the job's tenant;
// timeout bounds one attempt (AttemptTimeout when zero).
func NewRunner(db database.Beginner, principal func(ctx context.Context, tx database.Tx, ref Ref) (*tenant.Principal, error), timeout time.Duration, logger *slog.Logger) *Runner {
	if timeout <= 0 {
		timeout = AttemptTimeout
	}
	return &Runner{db: db, principals: principal, logger: logger, Timeout: timeout}
}

// errCancelled ends a job whose cancel was requested.
var errCancelled = errors.New("cancelled on request")

// errScopeChanged rolls back a step whose transaction was opened in a
// scope the acting user no longer has (their visibility changed since the
// previous step); the step runs again in their current scope.
var errScopeChanged = errors.New("the acting user's scope changed")

// Run works job through step until it is done, cancelled, failed, or its
// time slice is used up; then it hands the job back to River to continue
// (river.JobSnooze(0), which does not count as an attempt). It is the body
// of every tenant job's Work method.
//
// Every step acts as the user who started the job as they are when the
// step begins: its transaction reads the user again (role, permissions,
// visibility), fails the job with CodePermissionRevoked when they no
// longer hold the kind's permission (Args.Permission), and runs in their
// current scope, so a demotion or a narrowed visibility committed between
// two batches governs every later batch, and the job changes nothing
// further once its user may not.
func Run[T Args](ctx context.Context, r *Runner, job *river.Job[T], step Step) error {
	ref := job.Args.JobRef()
	permission := job.Args.Permission()
	ctx = tenant.WithRequestID(ctx, "job:"+ref.JobID.String())
	log := r.logger.With("job_id", ref.JobID, "river_job_id", job.ID, "kind", job.Kind, "tenant_id", ref.TenantID, "attempt", job.Attempt)

	resolve := r.principals
	if _, system := any(job.Args).(SystemArgs); system && ref.UserID == uuid.Nil {
		resolve = func(ctx context.Context, tx database.Tx, ref Ref) (*tenant.Principal, error) {
			return r.systemPrincipal(ctx, tx, ref, permission)
		}
	}
	// Only the scope to open the first step in; each step checks the user
	// again inside its own transaction (authorize).
	actor, err := database.WithTenantTxV(ctx, r.db, database.SystemScope(ref.TenantID), func(ctx context.Context, tx database.Tx) (*tenant.Principal, error) {
		return resolve(ctx, tx, ref)
	})
	if err != nil {
		var f *Failure
		if !errors.As(err, &f) {
			return r.failedAttempt(ctx, log, job.Attempt, job.MaxAttempts, ref, err)
		}
		return r.fail(ctx, log, ref, f)
	}
	deadline := time.Now().Add(r.Timeout / 3)
	first := true
	for {
		var now *tenant.Principal
		done, err := database.WithTenantTxV(ctx, r.db, database.ScopeFor(actor), func(ctx context.Context, tx database.Tx) (bool, error) {
			// The step's one time: when the job starts and when it ends, if
			// this step does both.
			stamp := time.Now()
			row, err := dbsqlc.New().JobGetForUpdate(ctx, tx, dbsqlc.JobGetForUpdateParams{TenantID: ref.TenantID, ID: ref.JobID})
			if errors.Is(err, pgx.ErrNoRows) {
				return false, river.JobCancel(fmt.Errorf("job %s no longer exists", ref.JobID))
			}
			if err != nil {
				return false, fmt.Errorf("lock job: %w", err)
			}
			if Terminal(row.State) {
				// A repeated delivery of a job that already ended.
				_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx.Tx, job)
				return true, err
			}
			if row.CancelRequestedAt != nil {
				return false, errCancelled
			}
			if now, err = r.authorize(ctx, tx, ref, permission, resolve); err != nil {
				return false, err
			}
			if first {
				// Keep the record of attempts River's rescuer ended, which
				// the tenant sees long after River forgets the job.
				var have []Error
				_ = json.Unmarshal(row.Errors, &have)
				for _, e := range mergeErrors(have, rescues(job.Errors))[len(have):] {
					if err := appendError(ctx, tx, ref, e); err != nil {
						return false, err
					}
				}
			}
			if row.State == StateQueued || row.StartedAt == nil {
				if err := dbsqlc.New().JobMarkRunning(ctx, tx, dbsqlc.JobMarkRunningParams{TenantID: ref.TenantID, ID: ref.JobID, Now: stamp}); err != nil {
					return false, fmt.Errorf("mark job running: %w", err)
				}
			}
			p := &Progress{ID: row.ID, Kind: row.Kind, Params: row.Params, Processed: row.Processed,
				Total: row.Total, Cursor: row.Cursor, raw: row.Result}
			done, err := step(ctx, tx, now, p)
			if err != nil {
				return false, err
			}
			result, err := encodeResult(p)
			if err != nil {
				return false, err
			}
			q := dbsqlc.New()
			if p.Total != nil && (row.Total == nil || *row.Total != *p.Total) {
				if err := q.JobSetTotal(ctx, tx, dbsqlc.JobSetTotalParams{TenantID: ref.TenantID, ID: ref.JobID, Total: p.Total}); err != nil {
					return false, fmt.Errorf("save job total: %w", err)
				}
			}
			if !done {
				return false, q.JobSaveProgress(ctx, tx, dbsqlc.JobSaveProgressParams{
					TenantID: ref.TenantID, ID: ref.JobID, Processed: p.Processed, Cursor: p.Cursor, Result: result})
			}
			if err := q.JobFinish(ctx, tx, dbsqlc.JobFinishParams{
				TenantID: ref.TenantID, ID: ref.JobID, State: StateSucceeded, Result: result, Processed: p.Processed, Now: stamp}); err != nil {
				return false, fmt.Errorf("finish job: %w", err)
			}
			if err := q.JobTargetsDelete(ctx, tx, dbsqlc.JobTargetsDeleteParams{TenantID: ref.TenantID, JobID: ref.JobID}); err != nil {
				return false, fmt.Errorf("drop job targets: %w", err)
			}
			// The job's end and its River completion commit together.
			if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx.Tx, job); err != nil {
				return false, fmt.Errorf("complete river job: %w", err)
			}
			return true, nil
		})
		if err == nil {
			first = false
		}
		switch {
		case err == nil && done:
			log.Info("job finished")
			return nil
		case errors.Is(err, errCancelled), errors.Is(context.Cause(ctx), river.ErrJobCancelledRemotely):
			return r.cancelled(ctx, log, ref)
		case err != nil && ctx.Err() != nil:
			// Shutting down: the step rolled back; hand the job back.
			log.Info("job handed back at shutdown")
			return river.JobSnooze(0)
		case errors.Is(err, errScopeChanged):
			// Nothing was done; the step runs again as the user is now.
			log.Info("acting user's visibility changed; continuing in the new scope", "visibility", now.Visibility)
			actor = now
		case err != nil:
			if f, ok := IsFailure(err); ok {
				return r.fail(ctx, log, ref, f)
			}
			var cancel *river.JobCancelError
			if errors.As(err, &cancel) {
				return err
			}
			return r.failedAttempt(ctx, log, job.Attempt, job.MaxAttempts, ref, err)
		}
		if ctx.Err() != nil {
			return river.JobSnooze(0)
		}
		if time.Now().After(deadline) {
			return river.JobSnooze(0)
		}
	}
}

// authorize reads the acting user again inside a step's transaction and
// returns them when they may still run the job in this transaction's
// scope: a Failure when they are gone or lack permission, errScopeChanged
// (with the user as they are now) when their scope differs from the one
// the transaction was opened in.
func (r *Runner) authorize(ctx context.Context, tx database.Tx, ref Ref, permission string,
	resolve func(ctx context.Context, tx database.Tx, ref Ref) (*tenant.Principal, error)) (*tenant.Principal, error) {
	p, err := resolve(ctx, tx, ref)
	if err != nil {
		return nil, err
	}
	if !p.Can(permission) {
		return nil, PermissionRevoked(permission)
	}
	if !database.ScopeFor(p).Equal(tx.Scope()) {
		return p, errScopeChanged
	}
	return p, nil
}

// systemPrincipal is the actor of a system job (SystemArgs), as long as its
// tenant is active.
func (r *Runner) systemPrincipal(ctx context.Context, tx database.Tx, ref Ref, permission string) (*tenant.Principal, error) {
	t, err := dbsqlc.New().TenantGetByID(ctx, tx, ref.TenantID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, river.JobCancel(fmt.Errorf("tenant %s no longer exists", ref.TenantID))
	}
	if err != nil {
		return nil, fmt.Errorf("read tenant: %w", err)
	}
	if t.Status != "active" {
		return nil, FailCode(CodeTenantSuspended, "the account is suspended")
	}
	return SystemPrincipal(ref.TenantID, permission), nil
}

func encodeResult(p *Progress) ([]byte, error) {
	if p.Result == nil {
		if len(p.raw) == 0 {
			return nil, nil
		}
		return p.raw, nil
	}
	b, err := json.Marshal(p.Result)
	if err != nil {
		return nil, fmt.Errorf("encode job result: %w", err)
	}
	return b, nil
}

// finish ends the job in its own transaction, in the system scope of its
// tenant (the acting user may be gone).
func (r *Runner) finish(ctx context.Context, ref Ref, state string, e *Error) error {
	ctx = context.WithoutCancel(ctx)
	return database.WithTenantTx(ctx, r.db, database.SystemScope(ref.TenantID), func(ctx context.Context, tx database.Tx) error {
		q := dbsqlc.New()
		row, err := q.JobGetForUpdate(ctx, tx, dbsqlc.JobGetForUpdateParams{TenantID: ref.TenantID, ID: ref.JobID})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("lock job: %w", err)
		}
		if e != nil {
			if err := appendError(ctx, tx, ref, *e); err != nil {
				return err
			}
		}
		if state == "" || Terminal(row.State) {
			return nil
		}
		if err := q.JobFinish(ctx, tx, dbsqlc.JobFinishParams{
			TenantID: ref.TenantID, ID: ref.JobID, State: state, Result: row.Result, Processed: row.Processed, Now: time.Now()}); err != nil {
			return fmt.Errorf("finish job: %w", err)
		}
		return q.JobTargetsDelete(ctx, tx, dbsqlc.JobTargetsDeleteParams{TenantID: ref.TenantID, JobID: ref.JobID})
	})
}

func appendError(ctx context.Context, tx database.Tx, ref Ref, e Error) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode job error: %w", err)
	}
	if err := dbsqlc.New().JobAppendError(ctx, tx, dbsqlc.JobAppendErrorParams{TenantID: ref.TenantID, ID: ref.JobID, Error: raw}); err != nil {
		return fmt.Errorf("record job error: %w", err)
	}
	return nil
}

func (r *Runner) cancelled(ctx context.Context, log *slog.Logger, ref Ref) error {
	if err := r.finish(ctx, ref, StateCancelled, nil); err != nil {
		return err
	}
	log.Info("job cancelled on request")
	return river.JobCancel(errCancelled)
}

func (r *Runner) fail(ctx context.Context, log *slog.Logger, ref Ref, f *Failure) error {
	if err := r.finish(ctx, ref, StateFailed, &Error{At: time.Now(), Code: f.Code, Message: f.Message}); err != nil {
		return err
	}
	log.Warn("job failed", "code", f.Code, "reason", f.Message)
	return river.JobCancel(f)
}

// failedAttempt records an unexpected error. River retries the job with
// backoff; after the last attempt the job has failed.
func (r *Runner) failedAttempt(ctx context.Context, log *slog.Logger, attempt, maxAttempts int, ref Ref, err error) error {
	last := attempt >= maxAttempts
	state, msg := "", fmt.Sprintf("attempt %d failed with an internal error; it will be retried", attempt)
	if last {
		state, msg = StateFailed, fmt.Sprintf("attempt %d failed with an internal error; no attempts left", attempt)
	}
	log.Error("job attempt failed", "error", err, "last", last)
	if ferr := r.finish(ctx, ref, state, &Error{At: time.Now(), Attempt: attempt, Message: msg}); ferr != nil {
		log.Error("record job failure", "error", ferr)
	}
	return err
}
