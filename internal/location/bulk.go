package location

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// KindBulkUpdate is the job kind of location bulk updates.
const KindBulkUpdate = "location_bulk_update"

// DefaultBulkBatch is how many locations one transaction of a bulk update
// changes unless configured.
const DefaultBulkBatch = 2000

// BulkUpdateArgs is the River job of a location bulk update; what it does
// lives in the tenant's job row.
type BulkUpdateArgs struct {
	jobs.Ref
}

// Kind implements river.JobArgs.
func (BulkUpdateArgs) Kind() string { return KindBulkUpdate }

// Permission implements jobs.Args: every batch needs the right to edit
// customers (and the locations of the customers one sees).
func (BulkUpdateArgs) Permission() string { return auth.PermCustomersWrite }

// InsertOpts puts bulk updates on the bulk queue.
func (BulkUpdateArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueBulk, MaxAttempts: 10}
}

// BulkSet is what a location bulk update sets: the sales rep override
// (nil removes it, so the customer's own rep applies).
type BulkSet struct {
	SalesRepID *uuid.UUID `json:"sales_rep_id"`
}

// BulkParams are a location bulk update's parameters, as stored on its job.
type BulkParams struct {
	Selection jobs.Selection `json:"selection"`
	Set       BulkSet        `json:"set"`
}

// filterNames are the filters a selection may use.
var filterNames = map[string]bool{"customer_id": true, "city": true, "country": true, "sales_rep_id": true}

// ParseFilter reads list filters from name/value pairs; errors name the
// filter.
func ParseFilter(values map[string]string) (Filter, validation.Errors) {
	var f Filter
	var errs validation.Errors
	id := func(name string) *uuid.UUID {
		v, ok := values[name]
		if !ok {
			return nil
		}
		u, err := uuid.Parse(v)
		if err != nil || len(v) != 36 {
			errs.Add(name, "invalid_uuid", "must be a UUID")
			return nil
		}
		return &u
	}
	f.CustomerID, f.SalesRepID = id("customer_id"), id("sales_rep_id")
	if v, ok := values["city"]; ok {
		c := errs.Text("city", v, 1, 100)
		f.City = &c
	}
	if v, ok := values["country"]; ok {
		c := ParseCountry(&errs, "country", v)
		f.Country = &c
	}
	for name := range values {
		if !filterNames[name] {
			errs.Add(name, "unknown_filter", "unknown location filter")
		}
	}
	return f, errs
}

// ValidateBulk checks a location bulk update before it is accepted.
func (s *Service) ValidateBulk(ctx context.Context, tx database.Tx, actor *tenant.Principal, bp *BulkParams) error {
	errs := bp.Selection.Check(func(filter map[string]string) validation.Errors {
		_, errs := ParseFilter(filter)
		return errs
	})
	if len(errs) > 0 {
		return errs
	}
	return s.checkBulkRep(ctx, tx, actor, bp.Set.SalesRepID)
}

func (s *Service) checkBulkRep(ctx context.Context, tx database.Tx, actor *tenant.Principal, rep *uuid.UUID) error {
	var errs validation.Errors
	if err := errs.Under("set.", s.checkRep(ctx, tx, actor, rep)); err != nil {
		return err
	}
	return errs.Err()
}

// BulkPreview is a location bulk update's dry run: what its job would
// select and change if it ran now.
func (s *Service) BulkPreview(ctx context.Context, tx database.Tx, actor *tenant.Principal, bp BulkParams) (jobs.Preview, error) {
	return s.bulkJob(actor, bp).DryRun(ctx, tx, actor, KindBulkUpdate)
}

func (s *Service) bulkSelect(ctx context.Context, tx database.Tx, jobID uuid.UUID, sel jobs.Selection) (int64, error) {
	if sel.IDs != nil {
		n, err := s.q.LocationSelectionInsertIDs(ctx, tx, dbsqlc.LocationSelectionInsertIDsParams{TenantID: tx.TenantID(), JobID: jobID, Ids: sel.IDs})
		if err != nil {
			return 0, fmt.Errorf("select locations: %w", err)
		}
		return n, nil
	}
	f, errs := ParseFilter(sel.Filter)
	if err := errs.Err(); err != nil {
		return 0, err
	}
	n, err := s.q.LocationSelectionInsert(ctx, tx, dbsqlc.LocationSelectionInsertParams{
		TenantID: tx.TenantID(), JobID: jobID, CustomerID: f.CustomerID, City: f.City, Country: f.Country, SalesRepID: f.SalesRepID})
	if err != nil {
		return 0, fmt.Errorf("select locations: %w", err)
	}
	return n, nil
}

// BulkStep is one step of a location bulk update job (see jobs.Run and
// jobs.Bulk). Setting overrides takes the right to assign reps, checked
// like the kind's permission before every batch.
func (s *Service) BulkStep(ctx context.Context, tx database.Tx, actor *tenant.Principal, p *jobs.Progress) (bool, error) {
	var bp BulkParams
	if err := json.Unmarshal(p.Params, &bp); err != nil {
		return false, jobs.Fail("the job's parameters are unreadable")
	}
	if !auth.MayAssignReps(actor) {
		return false, jobs.PermissionRevoked(auth.PermCustomersAssign)
	}
	return s.bulkJob(actor, bp).Step(ctx, tx, p)
}

// bulkJob is the bulk update of bp as the actor, for its steps and its
// dry run.
func (s *Service) bulkJob(actor *tenant.Principal, bp BulkParams) jobs.Bulk {
	batch := int32(DefaultBulkBatch)
	if s.BulkBatch > 0 {
		batch = int32(s.BulkBatch)
	}
	return jobs.Bulk{
		Batch: batch,
		Select: func(ctx context.Context, tx database.Tx, jobID uuid.UUID) (int64, error) {
			// The rep may have been deactivated since the request.
			if err := s.checkBulkRep(ctx, tx, actor, bp.Set.SalesRepID); err != nil {
				return 0, err
			}
			return s.bulkSelect(ctx, tx, jobID, bp.Selection)
		},
		Apply: func(ctx context.Context, tx database.Tx, ids []uuid.UUID) (int64, int64, error) {
			return s.bulkApply(ctx, tx, bp.Set, ids)
		},
		Plan: func(ctx context.Context, tx database.Tx, jobID uuid.UUID) (int64, error) {
			n, err := s.q.LocationBulkCountChanges(ctx, tx, dbsqlc.LocationBulkCountChangesParams{
				TenantID: tx.TenantID(), JobID: jobID, SalesRepID: bp.Set.SalesRepID})
			if err != nil {
				return 0, fmt.Errorf("count changes: %w", err)
			}
			return n, nil
		},
	}
}

// bulkApply sets the rep override on the batch's locations the caller can
// still see, skipping those already as asked, and records an audit event
// for each it changed.
func (s *Service) bulkApply(ctx context.Context, tx database.Tx, set BulkSet, ids []uuid.UUID) (changed, unchanged int64, err error) {
	rows, err := s.q.LocationBulkLock(ctx, tx, dbsqlc.LocationBulkLockParams{TenantID: tx.TenantID(), Ids: ids})
	if err != nil {
		return 0, 0, fmt.Errorf("lock batch: %w", err)
	}
	show := func(v *uuid.UUID) any {
		if v == nil {
			return nil
		}
		return v.String()
	}
	var changedIDs, customerIDs []uuid.UUID
	var changes []map[string]audit.Change
	for _, r := range rows {
		if show(r.SalesRepID) == show(set.SalesRepID) {
			unchanged++
			continue
		}
		changedIDs, customerIDs = append(changedIDs, r.ID), append(customerIDs, r.CustomerID)
		changes = append(changes, map[string]audit.Change{"sales_rep_id": {From: show(r.SalesRepID), To: show(set.SalesRepID)}})
	}
	if len(changedIDs) == 0 {
		return 0, unchanged, nil
	}
	_, err = s.q.LocationBulkSetRep(ctx, tx, dbsqlc.LocationBulkSetRepParams{TenantID: tx.TenantID(), Ids: changedIDs, SalesRepID: set.SalesRepID})
	switch {
	case database.IsForeignKeyViolation(err, ""):
		return 0, 0, jobs.Fail("the sales rep to set no longer exists")
	case err != nil:
		return 0, 0, fmt.Errorf("update batch: %w", err)
	}
	if err := audit.RecordMany(ctx, tx, audit.EntityLocation, audit.ActionUpdate, changedIDs, customerIDs, changes); err != nil {
		return 0, 0, err
	}
	if err := customer.RefreshReach(ctx, tx, customerIDs...); err != nil {
		return 0, 0, err
	}
	return int64(len(changedIDs)), unchanged, nil
}
