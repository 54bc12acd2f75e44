package customer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/precondition"
	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// The dormant-customer sweep (issue 12). A customer is dormant after the
// tenant's dormant_after_days without an order or a payment (by the dates
// of those transactions), counted from its creation or its last
// reactivation, whichever is later; customers who owe money stay active
// unless the tenant sets dormant_include_open_balance. Dormant customers
// are out of the default customer list and search (status=dormant shows
// them) and come back by POST /v1/customers/{id}/reactivate, a bulk
// update of their status, or a new order or payment.
//
// Every tenant is swept once a day at its dormant_sweep_hour (UTC): the
// hourly DormantScheduleArgs job enqueues each due tenant's sweep as a
// system job (jobs.SystemArgs: no user, every customer of that tenant,
// only customers:write), whose id is derived from the tenant and the day,
// so however many processes or retries enqueue it, it runs once. A user
// who sees every customer and may edit them can sweep now (POST
// /v1/dormant-sweeps); that job acts as them, re-checked at every batch.
// Either way the sweep is a bulk job (jobs.Bulk): the candidates are
// selected once, then marked in batches that re-check each customer as
// they write it, with one audit event per customer whose request id is
// "sweep:<job id>" (the origin; a system sweep's events have no actor).

// KindDormantSweep is the job kind of a tenant's dormant sweep.
const KindDormantSweep = "customer_dormant_sweep"

// OriginSweep prefixes the request id of the sweep's audit events.
const OriginSweep = "sweep:"

// DormantSweepArgs is the River job of one tenant's sweep; what it sweeps
// (the cutoff) lives in the job's row (DormantParams).
type DormantSweepArgs struct {
	jobs.Ref
}

// Kind implements river.JobArgs.
func (DormantSweepArgs) Kind() string { return KindDormantSweep }

// Permission implements jobs.Args: marking customers dormant edits them.
func (DormantSweepArgs) Permission() string { return auth.PermCustomersWrite }

// SystemJob implements jobs.SystemArgs: the daily sweep runs without a
// user.
func (DormantSweepArgs) SystemJob() {}

// InsertOpts puts sweeps on the bulk queue, unique by args: a scheduled
// sweep's job id is the tenant's and the day's, so a second enqueue of it
// is a duplicate River skips.
func (DormantSweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueBulk, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// DormantScheduleArgs is the hourly maintenance job that enqueues the
// sweeps of the tenants whose sweep hour has come today.
type DormantScheduleArgs struct{}

// Kind implements river.JobArgs.
func (DormantScheduleArgs) Kind() string { return "customer_dormant_schedule" }

// InsertOpts makes the job unique per hour.
func (DormantScheduleArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueMaintenance, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

// DormantParams are a sweep's parameters, as stored on its job: customers
// without activity since Before are swept, those owing money only with
// IncludeOpenBalance.
type DormantParams struct {
	Before             time.Time `json:"before"`
	IncludeOpenBalance bool      `json:"include_open_balance"`
	// Scheduled marks the daily sweep (a system job).
	Scheduled bool `json:"scheduled,omitempty"`
}

// ErrNotDormant refuses to reactivate a customer that is inactive (set
// aside by hand, not by the sweep: PATCH its status instead).
var ErrNotDormant = errors.New("customer is inactive, not dormant")

// DormantParamsFor is the sweep the tenant's settings ask for at now: the
// cutoff is dormant_after_days before now unless before is given (which
// must not be in the future).
func (s *Service) DormantParamsFor(ctx context.Context, tx database.Tx, now time.Time, before *time.Time) (DormantParams, error) {
	st, err := s.settings.Get(ctx, tx)
	if err != nil {
		return DormantParams{}, err
	}
	p := DormantParams{Before: now.AddDate(0, 0, -int(st.DormantAfterDays)), IncludeOpenBalance: st.DormantIncludeOpenBalance}
	if before != nil {
		if before.After(now) {
			return DormantParams{}, validation.Errors{{Field: "before", Code: "in_future", Message: "must not be in the future"}}
		}
		p.Before = *before
	}
	p.Before = p.Before.UTC()
	return p, nil
}

// DormantPreview answers a sweep's dry run: how many customers it would
// mark now, and the first of them by name (at most limit).
func (s *Service) DormantPreview(ctx context.Context, tx database.Tx, p DormantParams, limit int32) (int64, []Detail, error) {
	n, err := s.q.CustomerDormantCount(ctx, tx, dbsqlc.CustomerDormantCountParams{
		TenantID: tx.TenantID(), Before: p.Before, IncludeOpenBalance: p.IncludeOpenBalance})
	if err != nil {
		return 0, nil, fmt.Errorf("count dormant customers: %w", err)
	}
	rows, err := s.q.CustomerDormantPage(ctx, tx, dbsqlc.CustomerDormantPageParams{
		TenantID: tx.TenantID(), Before: p.Before, IncludeOpenBalance: p.IncludeOpenBalance, RowLimit: limit})
	if err != nil {
		return 0, nil, fmt.Errorf("list dormant customers: %w", err)
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	details, err := s.page(ctx, tx, ids)
	return n, details, err
}

// DormantStep is one step of a sweep job (see jobs.Run and jobs.Bulk):
// the first selects the candidates, each further one marks the next batch
// of them that still qualify, with an audit event per customer marked.
// A sweep acts on every customer of the tenant: its user (a sweep asked
// for through the API) must still see them all.
func (s *Service) DormantStep(ctx context.Context, tx database.Tx, actor *tenant.Principal, p *jobs.Progress) (bool, error) {
	var dp DormantParams
	if err := json.Unmarshal(p.Params, &dp); err != nil {
		return false, jobs.Fail("the job's parameters are unreadable")
	}
	if actor.Visibility != tenant.VisibilityAll {
		return false, jobs.FailCode(jobs.CodePermissionRevoked, "the user who started this sweep no longer sees every customer")
	}
	ctx = tenant.WithRequestID(ctx, OriginSweep+p.ID.String())
	return s.dormantJob(dp).Step(ctx, tx, p)
}

func (s *Service) dormantJob(dp DormantParams) jobs.Bulk {
	return jobs.Bulk{
		Batch: s.bulkBatch(),
		Select: func(ctx context.Context, tx database.Tx, jobID uuid.UUID) (int64, error) {
			n, err := s.q.CustomerDormantSelect(ctx, tx, dbsqlc.CustomerDormantSelectParams{
				TenantID: tx.TenantID(), JobID: jobID, Before: dp.Before, IncludeOpenBalance: dp.IncludeOpenBalance})
			if err != nil {
				return 0, fmt.Errorf("select dormant customers: %w", err)
			}
			return n, nil
		},
		Apply: func(ctx context.Context, tx database.Tx, ids []uuid.UUID) (int64, int64, error) {
			marked, err := s.q.CustomerDormantMark(ctx, tx, dbsqlc.CustomerDormantMarkParams{
				TenantID: tx.TenantID(), Ids: ids, Before: dp.Before, IncludeOpenBalance: dp.IncludeOpenBalance})
			if err != nil {
				return 0, 0, fmt.Errorf("mark dormant: %w", err)
			}
			changes := make([]map[string]audit.Change, len(marked))
			for i := range marked {
				changes[i] = map[string]audit.Change{"status": {From: StatusActive, To: StatusDormant}}
			}
			if err := audit.RecordMany(ctx, tx, audit.EntityCustomer, audit.ActionUpdate, marked, marked, changes); err != nil {
				return 0, 0, err
			}
			// Those not marked had activity, or changed, since the
			// selection: the job counts them as skipped.
			return int64(len(marked)), 0, nil
		},
	}
}

// Customer statuses the sweep moves between.
const (
	StatusActive   = "active"
	StatusDormant  = "dormant"
	StatusInactive = "inactive"
)

// Reactivate brings a dormant customer the actor can see back to active
// and records it in the audit trail; an active one is returned as it is
// (changed false), an inactive one is ErrNotDormant. want, when given, must
// match the customer's version.
func (s *Service) Reactivate(ctx context.Context, tx database.Tx, env settings.Env, id uuid.UUID, want *precondition.IfMatch) (d Detail, changed bool, err error) {
	cur, err := s.q.CustomerGetByIDForUpdate(ctx, tx, dbsqlc.CustomerGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return Detail{}, false, s.notFound(ctx, tx, id)
	}
	if err != nil {
		return Detail{}, false, fmt.Errorf("lock customer: %w", err)
	}
	if want != nil && !want.Matches(cur.Version) {
		return Detail{}, false, ErrVersionMismatch
	}
	before, err := s.Get(ctx, tx, id)
	if err != nil {
		return Detail{}, false, err
	}
	switch cur.Status {
	case StatusActive:
		return before, false, nil
	case StatusInactive:
		return Detail{}, false, ErrNotDormant
	}
	return s.reactivate(ctx, tx, env, before)
}

// ReactivateForActivity brings back a dormant customer that has just had
// an order or a payment: d is the customer as read with its row locked by
// the caller. Others are returned as they are.
func (s *Service) ReactivateForActivity(ctx context.Context, tx database.Tx, env settings.Env, d Detail) (Detail, error) {
	if d.Customer.Status != StatusDormant {
		return d, nil
	}
	after, _, err := s.reactivate(ctx, tx, env, d)
	return after, err
}

func (s *Service) reactivate(ctx context.Context, tx database.Tx, env settings.Env, before Detail) (Detail, bool, error) {
	id := before.Customer.ID
	if _, err := s.q.CustomerReactivate(ctx, tx, dbsqlc.CustomerReactivateParams{TenantID: tx.TenantID(), ID: id}); err != nil {
		return Detail{}, false, fmt.Errorf("reactivate customer: %w", err)
	}
	after, err := s.Get(ctx, tx, id)
	if err != nil {
		return Detail{}, false, err
	}
	now := time.Now()
	if err := audit.Record(ctx, tx, audit.Event{Entity: audit.EntityCustomer, EntityID: id, CustomerID: &id, Action: audit.ActionUpdate,
		Before: toCustomerResponse(before, env, now), After: toCustomerResponse(after, env, now)}); err != nil {
		return Detail{}, false, err
	}
	return after, true, nil
}

// dormantNamespace names the scheduled sweeps' job ids (uuid v5 of the
// tenant and the day).
var dormantNamespace = uuid.MustParse("6f1d8a52-3c0e-4f55-9d7e-2b8f0b4c9a17")

// ScheduledSweepID is the job id of a tenant's scheduled sweep of a day
// (UTC): the same for every process that enqueues it.
func ScheduledSweepID(tenantID uuid.UUID, day time.Time) uuid.UUID {
	return uuid.NewSHA1(dormantNamespace, []byte(tenantID.String()+"/"+day.UTC().Format(time.DateOnly)))
}

// ScheduleSweep enqueues the tenant's sweep of today (UTC) through js when
// its sweep hour has come and it has not been enqueued yet; it reports
// whether it did.
func (s *Service) ScheduleSweep(ctx context.Context, tx database.Tx, js *jobs.Service, now time.Time) (bool, error) {
	now = now.UTC()
	st, err := s.settings.Get(ctx, tx)
	if err != nil {
		return false, err
	}
	if int32(now.Hour()) < st.DormantSweepHour {
		return false, nil
	}
	dp, err := s.DormantParamsFor(ctx, tx, now, nil)
	if err != nil {
		return false, err
	}
	dp.Scheduled = true
	return js.EnqueueSystem(ctx, tx, ScheduledSweepID(tx.TenantID(), now), dp, func(ref jobs.Ref) jobs.SystemArgs {
		return DormantSweepArgs{Ref: ref}
	})
}
