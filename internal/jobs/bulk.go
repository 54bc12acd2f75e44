package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// BulkResult is the result of a bulk job: how many rows the selection
// matched when the job started, and what became of them.
type BulkResult struct {
	Matched   int64 `json:"matched"`
	Changed   int64 `json:"changed"`
	Unchanged int64 `json:"unchanged"`
	// Skipped were selected but gone, or out of the user's sight, by the
	// time their batch ran.
	Skipped int64 `json:"skipped"`
}

// Bulk is the shape every bulk job shares: its first step evaluates the
// selection into the job's targets (table job_targets), each further step
// applies the next batch of targets, in the order they were selected in. The batch and the job's
// progress commit together, so a retried job continues after the last
// committed batch and never applies one twice.
type Bulk struct {
	// Batch is how many targets one step applies.
	Batch int32
	// Select inserts the job's targets and returns how many.
	Select func(ctx context.Context, tx database.Tx, jobID uuid.UUID) (int64, error)
	// Apply applies the batch to the targets the actor can still see and
	// says how many it changed and how many were already as asked.
	Apply func(ctx context.Context, tx database.Tx, ids []uuid.UUID) (changed, unchanged int64, err error)
	// Plan counts the job's targets that Apply would change now, without
	// writing (for DryRun; one statement, so a dry run of a million rows
	// answers within a request).
	Plan func(ctx context.Context, tx database.Tx, jobID uuid.UUID) (int64, error)
}

// Preview answers a bulk job's dry run: how many rows the selection
// matches now and how many of them the job would change (the others are
// already as asked).
type Preview struct {
	Matched     int64 `json:"matched"`
	WouldChange int64 `json:"would_change"`
}

// DryRun answers what the job would do now, without writing: it evaluates
// the selection into targets exactly as the first step does and counts
// those Plan says would change, inside a savepoint it rolls back. The
// targets hang off a transient job row of the given kind, rolled back with
// them; its River id is negative, so it can never meet a real job's.
func (b Bulk) DryRun(ctx context.Context, tx database.Tx, actor *tenant.Principal, kind string) (Preview, error) {
	var pv Preview
	err := tx.RolledBack(ctx, func(ctx context.Context, tx database.Tx) error {
		uid := actor.UserID
		job, err := dbsqlc.New().JobInsert(ctx, tx, dbsqlc.JobInsertParams{
			TenantID: tx.TenantID(), ID: uuid.New(), RiverJobID: -1 - rand.Int64N(math.MaxInt64), Kind: kind,
			CreatedBy: &uid, Params: []byte("{}"),
		})
		if err != nil {
			return fmt.Errorf("record dry run: %w", err)
		}
		if pv.Matched, err = b.Select(ctx, tx, job.ID); err != nil {
			return err
		}
		pv.WouldChange, err = b.Plan(ctx, tx, job.ID)
		return err
	})
	return pv, err
}

// Step runs one step of the bulk job (a jobs.Step body).
func (b Bulk) Step(ctx context.Context, tx database.Tx, p *Progress) (bool, error) {
	var res BulkResult
	if err := p.DecodeResult(&res); err != nil {
		return false, fmt.Errorf("read job result: %w", err)
	}
	if p.Cursor == nil {
		n, err := b.Select(ctx, tx, p.ID)
		if err != nil {
			return false, AsFailure(err)
		}
		res.Matched = n
		start := "0"
		p.Total, p.Cursor, p.Result = &n, &start, res
		return n == 0, nil
	}
	after, err := strconv.ParseInt(*p.Cursor, 10, 64)
	if err != nil {
		return false, Fail("the job's position is unreadable")
	}
	targets, err := dbsqlc.New().JobTargetsNext(ctx, tx, dbsqlc.JobTargetsNextParams{TenantID: tx.TenantID(), JobID: p.ID, After: after, RowLimit: b.Batch})
	if err != nil {
		return false, fmt.Errorf("next batch: %w", err)
	}
	ids := make([]uuid.UUID, len(targets))
	for i, t := range targets {
		ids[i] = t.TargetID
	}
	if len(ids) > 0 {
		changed, unchanged, err := b.Apply(ctx, tx, ids)
		if err != nil {
			return false, AsFailure(err)
		}
		res.Changed += changed
		res.Unchanged += unchanged
		res.Skipped += int64(len(ids)) - changed - unchanged
		p.Processed += int64(len(ids))
		last := strconv.FormatInt(targets[len(targets)-1].Seq, 10)
		p.Cursor = &last
	}
	p.Result = res
	return len(ids) < int(b.Batch), nil
}

// AsFailure turns field errors found while a job runs (a value it sets no
// longer exists, say) into a failure naming the fields; retrying cannot
// fix them. Other errors are returned as they are, to be retried.
func AsFailure(err error) error {
	var ve validation.Errors
	if !errors.As(err, &ve) {
		return err
	}
	msgs := make([]string, len(ve))
	for i, e := range ve {
		msgs[i] = e.Field + ": " + e.Message
	}
	return Fail("the job can no longer be applied: " + strings.Join(msgs, "; "))
}

// MaxIDs caps an explicit selection of a bulk job; larger ones are given
// by filter.
const MaxIDs = 10000

// CheckIDs validates an explicit selection (1 to MaxIDs ids) and returns
// it sorted without repeats.
func CheckIDs(errs *validation.Errors, field string, ids []uuid.UUID) []uuid.UUID {
	if len(ids) == 0 || len(ids) > MaxIDs {
		errs.Add(field, "out_of_range", fmt.Sprintf("must list 1 to %d ids; select more with a filter", MaxIDs))
	}
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return slices.Compact(out)
}

// Selection is which rows a bulk job applies to: explicit ids, or the
// filters of the matching list as strings (as its query string takes
// them). Either way only rows the acting user can see when the job runs
// are touched.
type Selection struct {
	IDs    []uuid.UUID       `json:"ids,omitempty"`
	Filter map[string]string `json:"filter,omitempty"`
}

// Check validates the selection: exactly one of ids and filter, the ids
// through CheckIDs (sorted, without repeats), the filter through
// checkFilter, whose errors it names selection.filter.<name>.
func (s *Selection) Check(checkFilter func(map[string]string) validation.Errors) validation.Errors {
	var errs validation.Errors
	switch {
	case s.IDs != nil && s.Filter != nil:
		errs.Add("selection", "ambiguous_selection", "give either ids or filter, not both")
	case s.IDs == nil && s.Filter == nil:
		errs.Add("selection", "required", "give ids or filter")
	case s.IDs != nil:
		s.IDs = CheckIDs(&errs, "selection.ids", s.IDs)
	default:
		for _, e := range checkFilter(s.Filter) {
			e.Field = "selection.filter." + e.Field
			errs = append(errs, e)
		}
	}
	return errs
}
