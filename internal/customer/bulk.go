package customer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/group"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// KindBulkUpdate is the job kind of customer bulk updates.
const KindBulkUpdate = "customer_bulk_update"

// DefaultBulkBatch is how many customers one transaction of a bulk update
// changes unless configured: big enough to amortize the round trips, small
// enough that its row locks are brief.
const DefaultBulkBatch = 2000

// BulkUpdateArgs is the River job of a bulk update; the selection and the
// values live in the tenant's job row (jobs.params), not in River.
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

// BulkSet is what a bulk update sets. Absent fields are left alone; a set
// field with a nil value is cleared.
type BulkSet struct {
	SalesRepID     patch.Field[uuid.UUID]
	PaymentTermsID patch.Field[uuid.UUID]
	BillingStatus  patch.Field[string]
	BasisDate      patch.Field[string]
	Status         patch.Field[string]
	// Groups maps a category to a group code; nil leaves the category.
	Groups map[string]*string
}

// bulkFields are BulkSet's JSON members, in order.
var bulkFields = []string{"sales_rep_id", "payment_terms_id", "billing_status", "basis_date", "status", "groups"}

// MarshalJSON shows the set as it was asked: only the fields it sets.
func (b BulkSet) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	put := func(name string, set bool, v any) {
		if set {
			m[name] = v
		}
	}
	put("sales_rep_id", b.SalesRepID.Set, b.SalesRepID.Value)
	put("payment_terms_id", b.PaymentTermsID.Set, b.PaymentTermsID.Value)
	put("billing_status", b.BillingStatus.Set, b.BillingStatus.Value)
	put("basis_date", b.BasisDate.Set, b.BasisDate.Value)
	put("status", b.Status.Set, b.Status.Value)
	put("groups", len(b.Groups) > 0, b.Groups)
	return json.Marshal(m)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (b *BulkSet) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	get := func(name string, dst any) (bool, error) {
		raw, ok := m[name]
		if !ok {
			return false, nil
		}
		return true, json.Unmarshal(raw, dst)
	}
	var errs []error
	var err error
	b.SalesRepID.Set, err = get("sales_rep_id", &b.SalesRepID.Value)
	errs = append(errs, err)
	b.PaymentTermsID.Set, err = get("payment_terms_id", &b.PaymentTermsID.Value)
	errs = append(errs, err)
	b.BillingStatus.Set, err = get("billing_status", &b.BillingStatus.Value)
	errs = append(errs, err)
	b.BasisDate.Set, err = get("basis_date", &b.BasisDate.Value)
	errs = append(errs, err)
	b.Status.Set, err = get("status", &b.Status.Value)
	errs = append(errs, err)
	_, err = get("groups", &b.Groups)
	errs = append(errs, err)
	return errors.Join(errs...)
}

func (b BulkSet) empty() bool {
	return !b.SalesRepID.Set && !b.PaymentTermsID.Set && !b.BillingStatus.Set && !b.BasisDate.Set &&
		!b.Status.Set && len(b.Groups) == 0
}

// BulkParams are a bulk update's parameters, as stored on its job.
type BulkParams struct {
	Selection jobs.Selection `json:"selection"`
	Set       BulkSet        `json:"set"`
}

// ValidateBulk checks a bulk update before it is accepted and normalizes
// it: every value is checked now (the job re-checks what may have changed
// since), so a bad request is refused at once instead of failing later.
func (s *Service) ValidateBulk(ctx context.Context, tx database.Tx, actor *tenant.Principal, env settings.Env, bp *BulkParams) error {
	errs := bp.Selection.Check(checkFilter)
	errs = append(errs, s.validateSet(ctx, tx, actor, env, &bp.Set)...)
	if len(errs) > 0 {
		return errs
	}
	// Group codes and the acting user's right to set the rep are checked
	// against the database.
	return s.checkSet(ctx, tx, actor, bp.Set)
}

// checkFilter checks a selection's filter like the list's query string.
func checkFilter(filter map[string]string) validation.Errors {
	var errs validation.Errors
	values := map[string]string{}
	for k, v := range filter {
		if !isFilterName(k) {
			errs.Add(k, "unknown_filter", "unknown list filter")
			continue
		}
		values[k] = v
	}
	_, lerrs := ParseList(values)
	return append(errs, lerrs...)
}

func (s *Service) validateSet(ctx context.Context, tx database.Tx, actor *tenant.Principal, env settings.Env, set *BulkSet) validation.Errors {
	var errs validation.Errors
	if set.empty() {
		errs.Add("set", "required", "set at least one of "+strings.Join(bulkFields, ", "))
		return errs
	}
	oneOf := func(field string, v *patch.Field[string], allowed []string, nullable bool) {
		if !v.Set {
			return
		}
		if v.Value == nil {
			if !nullable {
				errs.Add("set."+field, "not_nullable", "must not be null")
			}
			return
		}
		t := strings.TrimSpace(*v.Value)
		v.Value = &t
		if !slices.Contains(allowed, t) {
			errs.Add("set."+field, "invalid_choice", "must be one of "+strings.Join(allowed, ", "))
		}
	}
	oneOf("billing_status", &set.BillingStatus, BillingStatuses, true)
	oneOf("status", &set.Status, Statuses, false)
	if set.BasisDate.Set && set.BasisDate.Value != nil {
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(*set.BasisDate.Value))
		if err != nil {
			errs.Add("set.basis_date", "invalid_date", "must be a date such as 2026-03-31")
		} else {
			v := d.Format(time.DateOnly)
			set.BasisDate.Value = &v
		}
	}
	if set.PaymentTermsID.Set && set.PaymentTermsID.Value != nil {
		_, err := s.q.PaymentTermsGetByID(ctx, tx, dbsqlc.PaymentTermsGetByIDParams{TenantID: tx.TenantID(), ID: *set.PaymentTermsID.Value})
		if errors.Is(err, pgx.ErrNoRows) {
			errs.Add("set.payment_terms_id", "not_found", "no payment terms with this id")
		} else if err != nil {
			errs.Add("set.payment_terms_id", "unavailable", "could not be checked; try again")
		}
	}
	// Clearing a field the tenant requires would leave every selected
	// customer invalid.
	cleared := map[string]bool{
		"sales_rep_id":     set.SalesRepID.Set && set.SalesRepID.Value == nil,
		"payment_terms_id": set.PaymentTermsID.Set && set.PaymentTermsID.Value == nil,
		"billing_status":   set.BillingStatus.Set && set.BillingStatus.Value == nil,
		"basis_date":       set.BasisDate.Set && set.BasisDate.Value == nil,
	}
	for _, f := range env.Settings.RequiredFields {
		if cleared[f] {
			errs.Add("set."+f, "required", "is required by this tenant's settings")
		}
	}
	return errs
}

// checkSet checks the values that depend on the database and the actor:
// the sales rep (checkRep: the actor may assign reps, and the rep is an
// active user) and the group codes.
func (s *Service) checkSet(ctx context.Context, tx database.Tx, actor *tenant.Principal, set BulkSet) error {
	var errs validation.Errors
	if set.SalesRepID.Set {
		if err := errs.Under("set.", s.checkRep(ctx, tx, actor, false, set.SalesRepID.Value)); err != nil {
			return err
		}
	}
	if _, _, err := s.groups.Resolve(ctx, tx, set.Groups); err != nil {
		if err := errs.Under("set.", err); err != nil {
			return err
		}
	}
	return errs.Err()
}

// BulkPreview is a bulk update's dry run: what its job would select and
// change if it ran now.
func (s *Service) BulkPreview(ctx context.Context, tx database.Tx, actor *tenant.Principal, bp BulkParams) (jobs.Preview, error) {
	return s.bulkJob(actor, bp).DryRun(ctx, tx, actor, KindBulkUpdate)
}

// bulkSelect evaluates the selection for the actor into the job's targets
// and returns how many there are.
func (s *Service) bulkSelect(ctx context.Context, tx database.Tx, actor *tenant.Principal, env settings.Env, jobID uuid.UUID, sel jobs.Selection) (int64, error) {
	if sel.IDs != nil {
		n, err := s.q.CustomerSelectionInsertIDs(ctx, tx, dbsqlc.CustomerSelectionInsertIDsParams{TenantID: tx.TenantID(), JobID: jobID, Ids: sel.IDs})
		if err != nil {
			return 0, fmt.Errorf("select customers: %w", err)
		}
		return n, nil
	}
	lp, errs := ParseList(sel.Filter)
	if err := errs.Err(); err != nil {
		return 0, err
	}
	// The job's transaction has written already (its own row): on Citus
	// the search functions, which read as another role, may not touch the
	// shards it changed. The selection matches the text under the policy
	// instead (slower on a huge tenant, and a job can wait).
	lp.scanSearch = true
	f, _, done, err := s.filter(ctx, tx, actor, env, lp, nil)
	if err != nil || done {
		return 0, err
	}
	p := dbsqlc.CustomerSelectionInsertParams{JobID: jobID}
	f.setCustomerSelectionInsert(&p)
	n, err := s.q.CustomerSelectionInsert(ctx, tx, p)
	if err != nil {
		return 0, fmt.Errorf("select customers: %w", err)
	}
	return n, nil
}

// BulkStep is one step of a bulk update job (see jobs.Run and jobs.Bulk):
// the first evaluates the selection as the acting user sees it, each
// further one changes the next batch of customers and records an audit
// event for every customer it changed.
func (s *Service) BulkStep(ctx context.Context, tx database.Tx, actor *tenant.Principal, p *jobs.Progress) (bool, error) {
	var bp BulkParams
	if err := json.Unmarshal(p.Params, &bp); err != nil {
		return false, jobs.Fail("the job's parameters are unreadable")
	}
	// Setting the rep takes a right of its own, checked like the kind's
	// permission before every batch.
	if bp.Set.SalesRepID.Set && !auth.MayAssignReps(actor) {
		return false, jobs.PermissionRevoked(auth.PermCustomersAssign)
	}
	return s.bulkJob(actor, bp).Step(ctx, tx, p)
}

// bulkJob is the bulk update of bp as the actor, for its steps and its
// dry run.
func (s *Service) bulkJob(actor *tenant.Principal, bp BulkParams) jobs.Bulk {
	return jobs.Bulk{
		Batch: s.bulkBatch(),
		Select: func(ctx context.Context, tx database.Tx, jobID uuid.UUID) (int64, error) {
			// Values may have changed since the request was accepted (a
			// group deleted, the rep deactivated): check them again.
			if err := s.checkSet(ctx, tx, actor, bp.Set); err != nil {
				return 0, err
			}
			env, err := s.Env(ctx, tx)
			if err != nil {
				return 0, err
			}
			return s.bulkSelect(ctx, tx, actor, env, jobID, bp.Selection)
		},
		Apply: func(ctx context.Context, tx database.Tx, ids []uuid.UUID) (int64, int64, error) {
			changed, unchanged, err := s.bulkApply(ctx, tx, bp.Set, ids)
			if database.IsForeignKeyViolation(err, "") {
				return 0, 0, jobs.Fail("a value to set no longer exists: " + mapWriteError(err).Error())
			}
			return changed, unchanged, err
		},
		Plan: func(ctx context.Context, tx database.Tx, jobID uuid.UUID) (int64, error) {
			return s.bulkCountChanges(ctx, tx, bp.Set, jobID)
		},
	}
}

// bulkCountChanges counts the job's targets the update would change, as
// bulkPlan decides it, in one statement.
func (s *Service) bulkCountChanges(ctx context.Context, tx database.Tx, set BulkSet, jobID uuid.UUID) (int64, error) {
	gset, gremove, err := s.groups.Resolve(ctx, tx, set.Groups)
	if err != nil {
		return 0, err
	}
	join := make([]string, len(gset))
	for i, m := range gset {
		join[i] = m.Category + ":" + m.GroupID.String()
	}
	basis, err := set.basisDate()
	if err != nil {
		return 0, err
	}
	n, err := s.q.CustomerBulkCountChanges(ctx, tx, dbsqlc.CustomerBulkCountChangesParams{
		TenantID: tx.TenantID(), JobID: jobID,
		SetSalesRepID: set.SalesRepID.Set, SalesRepID: set.SalesRepID.Value,
		SetPaymentTermsID: set.PaymentTermsID.Set, PaymentTermsID: set.PaymentTermsID.Value,
		SetBillingStatus: set.BillingStatus.Set, BillingStatus: set.BillingStatus.Value,
		SetBasisDate: set.BasisDate.Set, BasisDate: basis,
		SetStatus: set.Status.Set, Status: set.status(),
		JoinGroups: join, LeaveCategories: gremove,
	})
	if err != nil {
		return 0, fmt.Errorf("count changes: %w", err)
	}
	return n, nil
}

// basisDate is the basis date to set as a date (nil to clear or leave).
func (b BulkSet) basisDate() (*time.Time, error) {
	if b.BasisDate.Value == nil {
		return nil, nil
	}
	d, err := time.Parse(time.DateOnly, *b.BasisDate.Value)
	if err != nil {
		return nil, jobs.Fail("basis_date is not a date")
	}
	return &d, nil
}

// status is the status to set ("" when left alone).
func (b BulkSet) status() string {
	if b.Status.Value == nil {
		return ""
	}
	return *b.Status.Value
}

func (s *Service) bulkBatch() int32 {
	if s.BulkBatch <= 0 {
		return DefaultBulkBatch
	}
	return int32(s.BulkBatch)
}

// bulkApply sets the values on the batch's customers that the actor can
// still see, skipping those already as asked. A customer changed by
// someone else between the read and the write is read again and
// reconsidered, so every audit event shows exactly what it replaced.
func (s *Service) bulkApply(ctx context.Context, tx database.Tx, set BulkSet, ids []uuid.UUID) (changed, unchanged int64, err error) {
	gset, gremove, err := s.groups.Resolve(ctx, tx, set.Groups)
	if err != nil {
		return 0, 0, err
	}
	basis, err := set.basisDate()
	if err != nil {
		return 0, 0, err
	}
	for round := 0; len(ids) > 0; round++ {
		if round == 5 {
			return 0, 0, errors.New("customers of the batch keep changing; retrying the batch later")
		}
		plan, err := s.bulkPlan(ctx, tx, set, gset, gremove, ids)
		if err != nil {
			return 0, 0, err
		}
		unchanged += plan.unchanged
		if len(plan.ids) == 0 {
			break
		}
		done, err := s.q.CustomerBulkSet(ctx, tx, dbsqlc.CustomerBulkSetParams{
			TenantID: tx.TenantID(), Ids: plan.ids, Versions: plan.versions,
			SetSalesRepID: set.SalesRepID.Set, SalesRepID: set.SalesRepID.Value,
			SetPaymentTermsID: set.PaymentTermsID.Set, PaymentTermsID: set.PaymentTermsID.Value,
			SetBillingStatus: set.BillingStatus.Set, BillingStatus: set.BillingStatus.Value,
			SetBasisDate: set.BasisDate.Set, BasisDate: basis,
			SetStatus: set.Status.Set, Status: set.status(),
		})
		if err != nil {
			return 0, 0, fmt.Errorf("update batch: %w", err)
		}
		written := make(map[uuid.UUID]bool, len(done))
		for _, id := range done {
			written[id] = true
		}
		var writtenIDs, again []uuid.UUID
		var changes []map[string]audit.Change
		for i, id := range plan.ids {
			if written[id] {
				writtenIDs = append(writtenIDs, id)
				changes = append(changes, plan.changes[i])
			} else {
				again = append(again, id)
			}
		}
		for _, m := range gset {
			if err := s.q.GroupMembersBulkSet(ctx, tx, dbsqlc.GroupMembersBulkSetParams{
				TenantID: tx.TenantID(), CustomerIds: writtenIDs, Category: m.Category, GroupID: m.GroupID}); err != nil {
				return 0, 0, fmt.Errorf("set group %s: %w", m.Category, err)
			}
		}
		for _, cat := range gremove {
			if err := s.q.GroupMembersBulkRemove(ctx, tx, dbsqlc.GroupMembersBulkRemoveParams{
				TenantID: tx.TenantID(), CustomerIds: writtenIDs, Category: cat}); err != nil {
				return 0, 0, fmt.Errorf("leave group %s: %w", cat, err)
			}
		}
		if err := audit.RecordMany(ctx, tx, audit.EntityCustomer, audit.ActionUpdate, writtenIDs, writtenIDs, changes); err != nil {
			return 0, 0, err
		}
		if set.SalesRepID.Set {
			if err := RefreshReach(ctx, tx, writtenIDs...); err != nil {
				return 0, 0, err
			}
		}
		changed += int64(len(writtenIDs))
		ids = again
	}
	return changed, unchanged, nil
}

// bulkPlan is what a bulk update would change in a batch: the customers
// (with the version read) and their changes, and how many are already as
// asked.
type bulkPlan struct {
	ids       []uuid.UUID
	versions  []int64
	changes   []map[string]audit.Change
	unchanged int64
}

func (s *Service) bulkPlan(ctx context.Context, tx database.Tx, set BulkSet, gset []group.Membership, gremove []string, ids []uuid.UUID) (bulkPlan, error) {
	var plan bulkPlan
	rows, err := s.q.CustomerBulkRead(ctx, tx, dbsqlc.CustomerBulkReadParams{TenantID: tx.TenantID(), Ids: ids})
	if err != nil {
		return plan, fmt.Errorf("read batch: %w", err)
	}
	var memberships map[uuid.UUID][]group.Membership
	if len(gset)+len(gremove) > 0 {
		visible := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			visible[i] = r.ID
		}
		if memberships, err = s.groups.ForCustomers(ctx, tx, visible); err != nil {
			return plan, err
		}
	}
	for _, r := range rows {
		c := map[string]audit.Change{}
		diff := func(field string, set bool, from, to any) {
			if set && !reflect.DeepEqual(from, to) {
				c[field] = audit.Change{From: from, To: to}
			}
		}
		diff("sales_rep_id", set.SalesRepID.Set, uuidOrNil(r.SalesRepID), uuidOrNil(set.SalesRepID.Value))
		diff("payment_terms_id", set.PaymentTermsID.Set, uuidOrNil(r.PaymentTermsID), uuidOrNil(set.PaymentTermsID.Value))
		diff("billing_status", set.BillingStatus.Set, strOrNil(r.BillingStatus), strOrNil(set.BillingStatus.Value))
		diff("basis_date", set.BasisDate.Set, dateOrNil(r.BasisDate), strOrNil(set.BasisDate.Value))
		diff("status", set.Status.Set, r.Status, strOrNil(set.Status.Value))
		if memberships != nil {
			before := map[string]any{}
			for _, m := range memberships[r.ID] {
				before[m.Category] = m.Code
			}
			after := maps.Clone(before)
			for _, m := range gset {
				after[m.Category] = m.Code
			}
			for _, cat := range gremove {
				delete(after, cat)
			}
			diff("groups", true, before, after)
		}
		if len(c) == 0 {
			plan.unchanged++
			continue
		}
		plan.ids = append(plan.ids, r.ID)
		plan.versions = append(plan.versions, r.Version)
		plan.changes = append(plan.changes, c)
	}
	return plan, nil
}

// The audit trail shows values as the API does (ids and dates as strings,
// null for none).
func uuidOrNil(v *uuid.UUID) any {
	if v == nil {
		return nil
	}
	return v.String()
}

func strOrNil(v *string) any {
	if v == nil {
		return nil
	}
	return *v
}

func dateOrNil(v *time.Time) any {
	if v == nil {
		return nil
	}
	return v.Format(time.DateOnly)
}
