package customer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/group"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/precondition"
	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// Search matches up to these caps are handed to the list query as ids (a
// primary-key lookup each). Past them, matches are common enough that
// walking the sort's index and filtering rows finds a page sooner: at a
// 0.2 % match rate a page is about 25,000 rows into the index. A sales rep
// sees a small share of the tenant, so walking the whole tenant's index for
// their matches would be slow: their cap is high.
const (
	searchCap         = 2000
	searchCapAssigned = 20000
)

// Service implements the customer operations. Its methods run inside the
// caller's tenant transaction.
type Service struct {
	// BulkBatch is how many customers one transaction of a bulk update
	// changes (DefaultBulkBatch when zero).
	BulkBatch int

	q        *dbsqlc.Queries
	logger   *slog.Logger
	groups   *group.Service
	settings *settings.Service
}

// NewService returns a Service.
func NewService(logger *slog.Logger, groups *group.Service, st *settings.Service) *Service {
	return &Service{q: dbsqlc.New(), logger: logger, groups: groups, settings: st}
}

// Detail is a customer with its group memberships, in precedence order.
type Detail struct {
	Customer dbsqlc.Customer
	Groups   []group.Membership
}

// Env loads what validating and showing customers needs: the tenant's
// settings and custom field definitions.
func (s *Service) Env(ctx context.Context, tx database.Tx) (settings.Env, error) {
	return s.settings.Env(ctx, tx)
}

// checkRep enforces who may make rep a customer's sales rep: the actor
// must be allowed to assign reps (auth.CheckSalesRep; creating says the
// customer is new), an 'assigned' actor may only be the rep themselves
// (they could not see the customer afterwards), and the rep must be an
// active user of the tenant.
func (s *Service) checkRep(ctx context.Context, tx database.Tx, actor *tenant.Principal, creating bool, rep *uuid.UUID) error {
	if err := auth.CheckSalesRep(actor, creating, rep); err != nil {
		return err
	}
	if rep == nil {
		if actor.Visibility == tenant.VisibilityAssigned {
			return validation.Errors{{Field: "sales_rep_id", Code: "own_only", Message: "you can only hold customers assigned to yourself"}}
		}
		return nil
	}
	if actor.Visibility == tenant.VisibilityAssigned && *rep != actor.UserID {
		return validation.Errors{{Field: "sales_rep_id", Code: "own_only", Message: "you can only assign customers to yourself"}}
	}
	u, err := s.q.UserGetByID(ctx, tx, dbsqlc.UserGetByIDParams{TenantID: tx.TenantID(), ID: *rep})
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && u.User.Status != "active") {
		return validation.Errors{{Field: "sales_rep_id", Code: "not_found", Message: "no active user with this id"}}
	}
	if err != nil {
		return fmt.Errorf("look up sales rep: %w", err)
	}
	return nil
}

// mapWriteError names the field behind a foreign-key violation.
func mapWriteError(err error) error {
	switch {
	case database.IsForeignKeyViolation(err, "customers_payment_terms_fkey"):
		return validation.Errors{{Field: "payment_terms_id", Code: "not_found", Message: "no payment terms with this id"}}
	case database.IsForeignKeyViolation(err, "customers_price_list_fkey"):
		return validation.Errors{{Field: "price_list_id", Code: "not_found", Message: "no price list with this id"}}
	case database.IsForeignKeyViolation(err, "customers_sales_rep_fkey"):
		return validation.Errors{{Field: "sales_rep_id", Code: "not_found", Message: "no active user with this id"}}
	}
	return err
}

// Create adds a customer and records its audit event. Without a code, the
// next free one of the form C000001 is generated. A customer an 'assigned'
// user creates is theirs: they are its sales rep unless they name one
// (which checkRep refuses unless it is themselves).
func (s *Service) Create(ctx context.Context, tx database.Tx, actor *tenant.Principal, env settings.Env, p Patch) (Detail, error) {
	d, err := s.create(ctx, tx, actor, env, p)
	if err != nil {
		return Detail{}, err
	}
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityCustomer, EntityID: d.Customer.ID, CustomerID: &d.Customer.ID,
		Action: audit.ActionCreate, After: toCustomerResponse(d, env, time.Now())})
	if err != nil {
		return Detail{}, err
	}
	return d, nil
}

func (s *Service) create(ctx context.Context, tx database.Tx, actor *tenant.Principal, env settings.Env, p Patch) (Detail, error) {
	if !p.SalesRepID.Set && actor.Visibility == tenant.VisibilityAssigned {
		uid := actor.UserID
		p.SalesRepID = patch.Field[uuid.UUID]{Set: true, Value: &uid}
	}
	r := NewRecord()
	verr := p.Apply(&r, env)
	set, remove, gerr := s.groups.Resolve(ctx, tx, p.Groups)
	if err := joinValidation(verr, gerr); err != nil {
		return Detail{}, err
	}
	if err := s.checkRep(ctx, tx, actor, true, r.SalesRepID); err != nil {
		return Detail{}, err
	}
	generate := r.Code == ""
	for attempt := 0; attempt < 100; attempt++ {
		if generate {
			n, err := s.q.CounterNext(ctx, tx, dbsqlc.CounterNextParams{TenantID: tx.TenantID(), Name: "customer_code"})
			if err != nil {
				return Detail{}, fmt.Errorf("next customer code: %w", err)
			}
			r.Code = fmt.Sprintf("C%06d", n)
		}
		c, err := s.q.CustomerInsert(ctx, tx, insertParams(tx.TenantID(), r))
		switch {
		case errors.Is(err, pgx.ErrNoRows) && generate:
			continue // a hand-entered code took this number; try the next
		case errors.Is(err, pgx.ErrNoRows):
			return Detail{}, ErrCodeTaken
		case err != nil:
			return Detail{}, mapWriteError(fmt.Errorf("insert customer: %w", err))
		}
		if err := s.groups.SetMemberships(ctx, tx, c.ID, set, remove); err != nil {
			return Detail{}, err
		}
		return s.Get(ctx, tx, c.ID)
	}
	return Detail{}, errors.New("no free customer code after 100 attempts")
}

// joinValidation merges field errors from validation and group
// resolution; any other error wins.
func joinValidation(errs ...error) error {
	var all validation.Errors
	for _, err := range errs {
		if err := all.Under("", err); err != nil {
			return err
		}
	}
	return all.Err()
}

func insertParams(tenantID uuid.UUID, r Record) dbsqlc.CustomerInsertParams {
	p := dbsqlc.CustomerInsertParams{TenantID: tenantID, ID: uuid.New()}
	r.insertParams(&p)
	return p
}

// MergedError is the answer for the id of a customer merged into another
// (a tombstone in customer_merges): links and integrations follow
// MergedInto. It counts as ErrNotFound for callers that only ask whether
// the customer exists.
type MergedError struct {
	ID, MergedInto uuid.UUID
}

func (e *MergedError) Error() string {
	return fmt.Sprintf("customer %s was merged into %s", e.ID, e.MergedInto)
}

// Is makes errors.Is(err, ErrNotFound) hold.
func (e *MergedError) Is(target error) bool { return target == ErrNotFound }

// notFound explains a customer id the actor cannot see: a MergedError when
// it was merged into a customer they can see, else ErrNotFound.
func (s *Service) notFound(ctx context.Context, tx database.Tx, id uuid.UUID) error {
	kept, err := s.q.CustomerMergeGet(ctx, tx, dbsqlc.CustomerMergeGetParams{TenantID: tx.TenantID(), MergedID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("look up merged customer: %w", err)
	}
	return &MergedError{ID: id, MergedInto: kept}
}

// Get returns a customer the actor can see, with its group memberships
// read in the same statement.
func (s *Service) Get(ctx context.Context, tx database.Tx, id uuid.UUID) (Detail, error) {
	row, err := s.q.CustomerGetByIDWithGroups(ctx, tx, dbsqlc.CustomerGetByIDWithGroupsParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return Detail{}, s.notFound(ctx, tx, id)
	}
	if err != nil {
		return Detail{}, fmt.Errorf("get customer: %w", err)
	}
	return toDetail(row.Customer, row.Groups)
}

// toDetail pairs a customer with its memberships as the customer reads
// bring them (the customer_memberships fragment's jsonb array).
func toDetail(c dbsqlc.Customer, groups []byte) (Detail, error) {
	ms, err := group.DecodeMemberships(groups)
	if err != nil {
		return Detail{}, fmt.Errorf("customer %s: %w", c.ID, err)
	}
	return Detail{Customer: c, Groups: ms}, nil
}

// Update applies a patch when want matches the stored version, and records
// the change in the audit trail. The customer is read once, as Update
// locks it: that row is the before (its memberships read after the lock,
// in a statement of their own, so they too are what a write that held the
// lock before committed), and the after is what the UPDATE returns (read
// again only when a new sales rep moved its reach). A patch that changes
// nothing leaves the customer (and its version) as it is, and records
// nothing.
func (s *Service) Update(ctx context.Context, tx database.Tx, actor *tenant.Principal, env settings.Env, id uuid.UUID, want precondition.IfMatch, p Patch) (Detail, error) {
	prev, err := s.lock(ctx, tx, id)
	if err != nil {
		return Detail{}, err
	}
	if !want.Matches(prev.Customer.Version) {
		return Detail{}, ErrVersionMismatch
	}
	before := RecordOf(prev.Customer)
	r := RecordOf(prev.Customer)
	verr := p.Apply(&r, env)
	set, remove, gerr := s.groups.Resolve(ctx, tx, p.Groups)
	if err := joinValidation(verr, gerr); err != nil {
		return Detail{}, err
	}
	if p.SalesRepID.Set && !reflect.DeepEqual(before.SalesRepID, r.SalesRepID) {
		if err := s.checkRep(ctx, tx, actor, false, r.SalesRepID); err != nil {
			return Detail{}, err
		}
	}
	if reflect.DeepEqual(before, r) && !groupsChange(prev.Groups, set, remove) {
		return prev, nil
	}
	row, err := s.q.CustomerUpdate(ctx, tx, UpdateParams(tx.TenantID(), id, r))
	switch {
	case database.IsUniqueViolation(err, "customers_code_key"):
		return Detail{}, ErrCodeTaken
	case database.IsPolicyViolation(err):
		// Not reachable: the update leaves reach as it is (the refresh
		// below moves it).
		return Detail{}, ErrNotFound
	case err != nil:
		return Detail{}, mapWriteError(fmt.Errorf("update customer: %w", err))
	}
	if err := s.groups.SetMemberships(ctx, tx, id, set, remove); err != nil {
		return Detail{}, err
	}
	// The after is the row the update returned (its triggers run before
	// it), with the memberships read again only when they changed.
	d := Detail{Customer: row, Groups: prev.Groups}
	if len(set) > 0 || len(remove) > 0 {
		ms, err := s.groups.ForCustomers(ctx, tx, []uuid.UUID{id})
		if err != nil {
			return Detail{}, err
		}
		d.Groups = ms[id]
	}
	if !reflect.DeepEqual(before.SalesRepID, r.SalesRepID) {
		if err := RefreshReach(ctx, tx, id); err != nil {
			return Detail{}, err
		}
		// The refresh rewrote the row's reach: read it back.
		if d, err = s.Get(ctx, tx, id); err != nil {
			return Detail{}, err
		}
	}
	now := time.Now()
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityCustomer, EntityID: id, CustomerID: &id, Action: audit.ActionUpdate,
		Before: toCustomerResponse(prev, env, now), After: toCustomerResponse(d, env, now)})
	if err != nil {
		return Detail{}, err
	}
	return d, nil
}

// lock reads a customer the actor can see, FOR UPDATE, with its group
// memberships: the before of a write.
func (s *Service) lock(ctx context.Context, tx database.Tx, id uuid.UUID) (Detail, error) {
	cur, err := s.q.CustomerGetByIDForUpdate(ctx, tx, dbsqlc.CustomerGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return Detail{}, s.notFound(ctx, tx, id)
	}
	if err != nil {
		return Detail{}, fmt.Errorf("lock customer: %w", err)
	}
	ms, err := s.groups.ForCustomers(ctx, tx, []uuid.UUID{id})
	if err != nil {
		return Detail{}, err
	}
	return Detail{Customer: cur, Groups: ms[id]}, nil
}

// groupsChange reports whether setting and removing these memberships
// would change the customer's groups (have).
func groupsChange(have []group.Membership, set []group.Membership, remove []string) bool {
	in := make(map[string]uuid.UUID, len(have))
	for _, m := range have {
		in[m.Category] = m.GroupID
	}
	for _, m := range set {
		if in[m.Category] != m.GroupID {
			return true
		}
	}
	for _, c := range remove {
		if _, ok := in[c]; ok {
			return true
		}
	}
	return false
}

// UpdateParams are the arguments of CustomerUpdate that store r as
// customer id's fields.
func UpdateParams(tenantID, id uuid.UUID, r Record) dbsqlc.CustomerUpdateParams {
	p := dbsqlc.CustomerUpdateParams{TenantID: tenantID, ID: id}
	r.updateParams(&p)
	return p
}

// Delete removes a customer the actor can see, locked first, records the
// audit event and returns the customer as it was. A customer with history
// (orders, payments, messages, portal users) cannot be deleted: it can be
// deactivated or merged instead.
func (s *Service) Delete(ctx context.Context, tx database.Tx, env settings.Env, id uuid.UUID) (Detail, error) {
	d, err := s.lock(ctx, tx, id)
	if err != nil {
		return Detail{}, err
	}
	n, err := s.q.CustomerDelete(ctx, tx, dbsqlc.CustomerDeleteParams{TenantID: tx.TenantID(), ID: id})
	switch {
	case database.IsForeignKeyViolation(err, ""):
		return Detail{}, ErrHasHistory
	case err != nil:
		return Detail{}, fmt.Errorf("delete customer: %w", err)
	case n == 0:
		return Detail{}, ErrNotFound
	}
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityCustomer, EntityID: id, CustomerID: &id, Action: audit.ActionDelete,
		Before: toCustomerResponse(d, env, time.Now())})
	if err != nil {
		return Detail{}, err
	}
	return d, nil
}

// List returns a page of the customers the actor can see.
func (s *Service) List(ctx context.Context, tx database.Tx, actor *tenant.Principal, env settings.Env, lp ListParams) ([]Detail, error) {
	ks, err := lp.After.keyset()
	if err != nil {
		return nil, err
	}
	f, pageIDs, done, err := s.filter(ctx, tx, actor, env, lp, &ks)
	if err != nil || done {
		return nil, err
	}
	if pageIDs != nil {
		return s.page(ctx, tx, pageIDs)
	}
	p := dbsqlc.CustomerListParams{Sort: lp.Sort, RowLimit: lp.Limit,
		AfterID: ks.id, AfterText: ks.text, AfterNum: ks.num, AfterTs: ks.ts}
	f.setCustomerList(&p)
	if p.SearchLike != nil {
		if err := s.q.CustomerPreferIndexOrder(ctx, tx); err != nil {
			return nil, err
		}
	}
	rows, err := s.q.CustomerList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list customers: %w", err)
	}
	if p.SearchLike != nil {
		if err := s.q.CustomerRestorePlanner(ctx, tx); err != nil {
			return nil, err
		}
	}
	out := make([]Detail, len(rows))
	for i, r := range rows {
		if out[i], err = toDetail(r.Customer, r.Groups); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// page reads customers by id, with their group memberships, keeping the
// order of ids; those the policy hides are left out.
func (s *Service) page(ctx context.Context, tx database.Tx, ids []uuid.UUID) ([]Detail, error) {
	rows, err := s.q.CustomerGetByIDsWithGroups(ctx, tx, dbsqlc.CustomerGetByIDsWithGroupsParams{TenantID: tx.TenantID(), Ids: ids})
	if err != nil {
		return nil, fmt.Errorf("read customers: %w", err)
	}
	byID := make(map[uuid.UUID]dbsqlc.CustomerGetByIDsWithGroupsRow, len(rows))
	for _, r := range rows {
		byID[r.Customer.ID] = r
	}
	out := make([]Detail, 0, len(rows))
	for _, id := range ids {
		if r, ok := byID[id]; ok {
			d, err := toDetail(r.Customer, r.Groups)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// Count counts what List would list over all pages, up to limit.
func (s *Service) Count(ctx context.Context, tx database.Tx, actor *tenant.Principal, env settings.Env, lp ListParams, limit int64) (int64, error) {
	f, _, done, err := s.filter(ctx, tx, actor, env, lp, nil)
	if err != nil || done {
		return 0, err
	}
	p := dbsqlc.CustomerCountParams{Cap: int32(min(limit, 1<<31-1))}
	f.setCustomerCount(&p)
	n, err := s.q.CustomerCount(ctx, tx, p)
	if err != nil {
		return 0, fmt.Errorf("count customers: %w", err)
	}
	return n, nil
}

// escapeLike makes user text match literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
