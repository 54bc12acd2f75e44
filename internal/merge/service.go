package merge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/order"
	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/tenant"
)

// ActionMerge is the audit action of the event on the kept customer.
const ActionMerge = "merge"

// Service merges customers and finds likely duplicates, inside the
// caller's tenant transaction and under its row-level security: both
// customers must be visible to the acting user.
type Service struct {
	q         *dbsqlc.Queries
	logger    *slog.Logger
	customers *customer.Service
	orders    *order.Service
}

// NewService returns a Service. The order service recomputes the kept
// customer's figures exactly as every order and payment write does.
func NewService(logger *slog.Logger, customers *customer.Service, orders *order.Service) *Service {
	return &Service{q: dbsqlc.New(), logger: logger, customers: customers, orders: orders}
}

// pair is the two customers of a merge, locked for the rest of the
// transaction, as the acting user sees them.
type pair struct {
	in        Input
	kept, dup customer.Detail
	env       settings.Env
	// keptCurrency is the kept customer's effective currency.
	keptCurrency, dupCurrency string
	forced                    []string
}

// lock locks both customers, lower id first. Every merge locks in this
// order, so two merges sharing a customer never wait on each other
// crosswise; order and payment writes lock their one customer before its
// rows, as a merge does. It then checks that they may be merged.
func (s *Service) lock(ctx context.Context, tx database.Tx, in Input) (pair, error) {
	if in.KeptID == in.DuplicateID {
		return pair{}, ErrSelf
	}
	ids := []uuid.UUID{in.KeptID, in.DuplicateID}
	if bytes.Compare(ids[0][:], ids[1][:]) > 0 {
		ids[0], ids[1] = ids[1], ids[0]
	}
	for _, id := range ids {
		_, err := s.q.CustomerGetByIDForUpdate(ctx, tx, dbsqlc.CustomerGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
		if errors.Is(err, pgx.ErrNoRows) {
			return pair{}, s.missing(ctx, tx, in)
		}
		if err != nil {
			return pair{}, fmt.Errorf("lock customer: %w", err)
		}
	}
	kept, err := s.customers.Get(ctx, tx, in.KeptID)
	if err != nil {
		return pair{}, err
	}
	dup, err := s.customers.Get(ctx, tx, in.DuplicateID)
	if err != nil {
		return pair{}, err
	}
	env, err := s.customers.Env(ctx, tx)
	if err != nil {
		return pair{}, err
	}
	p := pair{in: in, kept: kept, dup: dup, env: env,
		keptCurrency: *customer.ResolveEffective(kept.Customer, kept.Groups, env.Settings).Currency.Value,
		dupCurrency:  *customer.ResolveEffective(dup.Customer, dup.Groups, env.Settings).Currency.Value,
	}
	mismatches := []MismatchError{
		{Code: CodeCurrencyMismatch, Kept: p.keptCurrency, Duplicate: p.dupCurrency},
		{Code: CodeKindMismatch, Kept: kept.Customer.Kind, Duplicate: dup.Customer.Kind},
	}
	for _, m := range mismatches {
		if m.Kept == m.Duplicate {
			continue
		}
		if !in.Force {
			return pair{}, &m
		}
		p.forced = append(p.forced, m.Code)
	}
	return p, nil
}

// missing explains why one of the two customers could not be locked, the
// kept one first: merged away already (410), or not there for this user.
func (s *Service) missing(ctx context.Context, tx database.Tx, in Input) error {
	for _, side := range []struct {
		id  uuid.UUID
		dup bool
		nf  error
	}{{in.KeptID, false, ErrKeptNotFound}, {in.DuplicateID, true, ErrDuplicateNotFound}} {
		_, err := s.customers.Get(ctx, tx, side.id)
		var merged *customer.MergedError
		switch {
		case err == nil:
			continue
		case errors.As(err, &merged):
			return &GoneError{Duplicate: side.dup, ID: side.id, MergedInto: merged.MergedInto}
		case errors.Is(err, customer.ErrNotFound):
			return side.nf
		default:
			return err
		}
	}
	// Not reached: a customer missing when locked is missing now too.
	return ErrDuplicateNotFound
}

// Plan is a merge checked in the request's transaction, its two customers
// locked until it commits.
type Plan struct {
	pair
	// History counts the duplicate's orders, payments, locations and
	// contacts, up to Threshold+1.
	History int64
}

// Large reports whether the merge is too big for one request and runs as
// a job.
func (p *Plan) Large() bool { return p.History > int64(Threshold) }

// Params is what a merge job shows it was asked.
func (p *Plan) Params() map[string]any {
	return map[string]any{"kept_id": p.in.KeptID, "duplicate_id": p.in.DuplicateID, "force": p.in.Force}
}

// JobArgs are the args of the job that does this merge.
func (p *Plan) JobArgs(ref jobs.Ref) jobs.Args {
	return Args{Ref: ref, KeptID: p.in.KeptID, DuplicateID: p.in.DuplicateID, Force: p.in.Force}
}

// Prepare locks both customers, checks that they may be merged and
// measures the duplicate's history.
func (s *Service) Prepare(ctx context.Context, tx database.Tx, in Input) (*Plan, error) {
	pr, err := s.lock(ctx, tx, in)
	if err != nil {
		return nil, err
	}
	n, err := s.q.MergeHistoryCount(ctx, tx, dbsqlc.MergeHistoryCountParams{
		TenantID: tx.TenantID(), CustomerID: in.DuplicateID, Cap: int32(min(Threshold, math.MaxInt32-1) + 1),
	})
	if err != nil {
		return nil, fmt.Errorf("count duplicate's history: %w", err)
	}
	return &Plan{pair: pr, History: n}, nil
}

// Result is a finished merge: the kept customer as it is now, and what the
// merge did.
type Result struct {
	Customer customer.Detail
	Env      settings.Env
	Report   Report
}

// Merge does a prepared merge in full, in tx.
func (s *Service) Merge(ctx context.Context, tx database.Tx, actor *tenant.Principal, p *Plan) (Result, error) {
	now := time.Now()
	rep := newReport(p.in, p.dup.Customer.Code, p.forced)
	kept, err := s.finish(ctx, tx, actor, p.pair, &rep,
		customer.Response(p.kept, p.env, now), customer.Response(p.dup, p.env, now), nil)
	if err != nil {
		return Result{}, err
	}
	return Result{Customer: kept, Env: p.env, Report: rep}, nil
}

// Step does one step of a merge job, as jobs.Run calls it: first the
// duplicate's orders, then its payments, then its contacts, BatchSize rows
// at a time, each batch with both customers' figures recomputed, so that
// every committed step leaves consistent figures; then everything else in
// one last step (finish). Rows that moved no longer belong to the
// duplicate, so a step repeated after a crash never moves one twice; the
// phase is the job's cursor. A job cancelled half-way leaves a consistent
// pair: what moved is the kept customer's, the rest still the duplicate's,
// and merging again finishes the work. The runner checks before every step
// that the acting user still holds customers:merge (Args.Permission).
func (s *Service) Step(ctx context.Context, tx database.Tx, actor *tenant.Principal, args Args, p *jobs.Progress) (bool, error) {
	phase := ""
	if p.Cursor != nil {
		phase = *p.Cursor
	}
	// The request checked currencies and kinds; once rows have moved, a
	// later change to either customer must not strand the merge half-way.
	in := Input{KeptID: args.KeptID, DuplicateID: args.DuplicateID, Force: args.Force || phase != ""}
	pr, err := s.lock(ctx, tx, in)
	if err != nil {
		return false, failure(err)
	}
	var st jobState
	if err := p.DecodeResult(&st); err != nil {
		return false, fmt.Errorf("read merge job state: %w", err)
	}
	if phase == "" {
		now := time.Now()
		st.Merge = newReport(in, pr.dup.Customer.Code, pr.forced)
		st.Merge.JobID = &p.ID
		if st.Duplicate, err = json.Marshal(customer.Response(pr.dup, pr.env, now)); err != nil {
			return false, err
		}
		if st.KeptBefore, err = json.Marshal(customer.Response(pr.kept, pr.env, now)); err != nil {
			return false, err
		}
		total, err := s.q.MergeHistoryCount(ctx, tx, dbsqlc.MergeHistoryCountParams{
			TenantID: tx.TenantID(), CustomerID: in.DuplicateID, Cap: math.MaxInt32})
		if err != nil {
			return false, fmt.Errorf("count duplicate's history: %w", err)
		}
		p.Total = &total
		phase = phaseOrders
	}
	t, batch := tx.TenantID(), int32(max(BatchSize, 1))
	next := phase
	switch phase {
	case phaseOrders:
		n, err := s.q.MergeMoveOrders(ctx, tx, dbsqlc.MergeMoveOrdersParams{TenantID: t, KeptID: in.KeptID, DuplicateID: in.DuplicateID, MaxRows: batch})
		if err != nil {
			return false, fmt.Errorf("move orders: %w", err)
		}
		st.Merge.Moved.SalesOrders += n
		if n < int64(batch) {
			next = phasePayments
		}
	case phasePayments:
		n, err := s.q.MergeMovePayments(ctx, tx, dbsqlc.MergeMovePaymentsParams{TenantID: t, KeptID: in.KeptID, DuplicateID: in.DuplicateID, MaxRows: batch})
		if err != nil {
			return false, fmt.Errorf("move payments: %w", err)
		}
		st.Merge.Moved.Payments += n
		if n < int64(batch) {
			next = phaseContacts
		}
	case phaseContacts:
		n, err := s.moveContacts(ctx, tx, in, &st.Merge, batch)
		if err != nil {
			return false, err
		}
		if n < int64(batch) {
			next = phaseFinal
		}
	case phaseFinal:
		kept, err := s.finish(ctx, tx, actor, pr, &st.Merge, st.KeptBefore, st.Duplicate, &p.ID)
		if err != nil {
			return false, err
		}
		p.Processed = st.Merge.Moved.rows()
		if p.Total == nil || *p.Total < p.Processed {
			p.Total = &p.Processed
		}
		after, err := json.Marshal(customer.Response(kept, pr.env, time.Now()))
		if err != nil {
			return false, err
		}
		p.Result = jobState{Merge: st.Merge, Duplicate: st.Duplicate, Customer: after}
		return true, nil
	default:
		return false, jobs.Fail("unknown merge phase " + phase)
	}
	if phase == phaseOrders || phase == phasePayments {
		for _, id := range []uuid.UUID{in.KeptID, in.DuplicateID} {
			if err := s.orders.Recompute(ctx, tx, id); err != nil {
				return false, err
			}
		}
	}
	// What moved is the kept customer's: seen by whoever sees it.
	if err := customer.RefreshReach(ctx, tx, in.KeptID); err != nil {
		return false, err
	}
	p.Processed = st.Merge.Moved.rows()
	p.Cursor = &next
	p.Result = st
	return false, nil
}

// rows is how many rows of the history counted by MergeHistoryCount have
// moved.
func (m Moved) rows() int64 { return m.SalesOrders + m.Payments + m.Locations + m.Contacts }

// failure turns what retrying cannot change into a failed job.
func failure(err error) error {
	var gone *GoneError
	var mismatch *MismatchError
	switch {
	case errors.Is(err, ErrKeptNotFound):
		return jobs.Fail("the customer to keep no longer exists or is no longer visible to you")
	case errors.Is(err, ErrDuplicateNotFound):
		return jobs.Fail("the duplicate customer no longer exists or is no longer visible to you")
	case errors.As(err, &gone):
		return jobs.Fail(fmt.Sprintf("customer %s was merged into %s meanwhile", gone.ID, gone.MergedInto))
	case errors.As(err, &mismatch):
		return jobs.Fail(fmt.Sprintf("%s: the customer kept has %s, the duplicate %s; merge with force", mismatch.Code, mismatch.Kept, mismatch.Duplicate))
	case errors.Is(err, ErrSelf):
		return jobs.Fail(ErrSelf.Error())
	}
	return err
}

// moveContacts moves up to max of the duplicate's contacts; its primary
// contact loses the flag first when the kept customer has one.
func (s *Service) moveContacts(ctx context.Context, tx database.Tx, in Input, rep *Report, max int32) (int64, error) {
	demoted, err := s.q.MergeDemoteContact(ctx, tx, dbsqlc.MergeDemoteContactParams{TenantID: tx.TenantID(), KeptID: in.KeptID, DuplicateID: in.DuplicateID})
	if err != nil {
		return 0, fmt.Errorf("demote primary contact: %w", err)
	}
	rep.Conflicts.PrimaryContacts = append(rep.Conflicts.PrimaryContacts, demoted...)
	n, err := s.q.MergeMoveContacts(ctx, tx, dbsqlc.MergeMoveContactsParams{TenantID: tx.TenantID(), KeptID: in.KeptID, DuplicateID: in.DuplicateID, MaxRows: max})
	if err != nil {
		return 0, fmt.Errorf("move contacts: %w", err)
	}
	rep.Moved.Contacts += n
	return n, nil
}

// finish moves everything the duplicate still has, fills the kept
// customer's empty fields, recomputes its figures and primary address,
// leaves the tombstone, deletes the duplicate and records the merge. Both
// customers are locked (pr). keptBefore and dupBefore are the two as the
// API showed them when the merge began.
func (s *Service) finish(ctx context.Context, tx database.Tx, actor *tenant.Principal, pr pair, rep *Report, keptBefore, dupBefore any, jobID *uuid.UUID) (customer.Detail, error) {
	t, k, d := tx.TenantID(), pr.in.KeptID, pr.in.DuplicateID
	// The duplicate keeps its reach to the end (nothing refreshes it), so a
	// rep who sees it only through a location moving below can still delete
	// it.
	n, err := s.q.MergeCopyGrants(ctx, tx, dbsqlc.MergeCopyGrantsParams{TenantID: t, KeptID: k, DuplicateID: d})
	if err != nil {
		return customer.Detail{}, fmt.Errorf("copy grants: %w", err)
	}
	rep.Moved.Grants += n
	if n, err = s.q.CustomerMergeRepoint(ctx, tx, dbsqlc.CustomerMergeRepointParams{TenantID: t, KeptID: k, MergedID: d}); err != nil {
		return customer.Detail{}, fmt.Errorf("re-point tombstones: %w", err)
	}
	rep.Moved.Tombstones += n

	all := int32(math.MaxInt32)
	if n, err = s.q.MergeMoveOrders(ctx, tx, dbsqlc.MergeMoveOrdersParams{TenantID: t, KeptID: k, DuplicateID: d, MaxRows: all}); err != nil {
		return customer.Detail{}, fmt.Errorf("move orders: %w", err)
	}
	rep.Moved.SalesOrders += n
	if n, err = s.q.MergeMovePayments(ctx, tx, dbsqlc.MergeMovePaymentsParams{TenantID: t, KeptID: k, DuplicateID: d, MaxRows: all}); err != nil {
		return customer.Detail{}, fmt.Errorf("move payments: %w", err)
	}
	rep.Moved.Payments += n
	if _, err := s.moveContacts(ctx, tx, pr.in, rep, all); err != nil {
		return customer.Detail{}, err
	}
	if err := s.movePrices(ctx, tx, pr, rep); err != nil {
		return customer.Detail{}, err
	}
	if err := s.moveGroups(ctx, tx, pr.in, rep); err != nil {
		return customer.Detail{}, err
	}
	// The duplicate's SMS notices become the kept customer's (with its
	// reach; the customer each campaign selected stays recorded), and the
	// later of the two last notices counts for the interval between two.
	if n, err = s.q.MergeMoveSmsMessages(ctx, tx, dbsqlc.MergeMoveSmsMessagesParams{TenantID: t, KeptID: k, DuplicateID: d}); err != nil {
		return customer.Detail{}, fmt.Errorf("move sms messages: %w", err)
	}
	rep.Moved.SMSMessages += n
	if _, err = s.q.MergeKeepLastNotice(ctx, tx, dbsqlc.MergeKeepLastNoticeParams{TenantID: t, KeptID: k, DuplicateID: d}); err != nil {
		return customer.Detail{}, fmt.Errorf("keep last notice: %w", err)
	}
	if n, err = s.q.MergeMoveUsers(ctx, tx, dbsqlc.MergeMoveUsersParams{TenantID: t, KeptID: k, DuplicateID: d}); err != nil {
		return customer.Detail{}, fmt.Errorf("move portal users: %w", err)
	}
	rep.Moved.PortalUsers += n
	if err := s.moveLocations(ctx, tx, pr.in, rep); err != nil {
		return customer.Detail{}, err
	}

	params, err := s.fill(ctx, tx, pr, rep)
	if err != nil {
		return customer.Detail{}, err
	}
	if _, err := s.q.CustomerUpdate(ctx, tx, params); err != nil {
		return customer.Detail{}, fmt.Errorf("fill kept customer: %w", err)
	}
	// The kept customer's reach takes in the duplicate's location reps,
	// grants and (when it had none) sales rep, and reaches every row that
	// moved (the tombstone below copies it).
	if err := customer.RefreshReach(ctx, tx, k); err != nil {
		return customer.Detail{}, err
	}
	if err := s.orders.Recompute(ctx, tx, k); err != nil {
		return customer.Detail{}, err
	}
	if n, err = s.q.LocationSyncCustomerAddress(ctx, tx, dbsqlc.LocationSyncCustomerAddressParams{TenantID: t, CustomerID: k}); err != nil {
		return customer.Detail{}, fmt.Errorf("sync kept customer's address: %w", err)
	}
	if n != 1 {
		return customer.Detail{}, fmt.Errorf("sync kept customer's address: %d rows updated, want 1", n)
	}

	var mergedBy *uuid.UUID
	if uid := actor.UserID; uid != uuid.Nil {
		mergedBy = &uid
	}
	if err := s.q.CustomerMergeInsert(ctx, tx, dbsqlc.CustomerMergeInsertParams{
		TenantID: t, MergedID: d, KeptID: k, MergedBy: mergedBy, JobID: jobID,
	}); err != nil {
		return customer.Detail{}, fmt.Errorf("record merge: %w", err)
	}
	// Both rows are locked and every child has moved: a failure here is a
	// bug, such as a new table referencing customers that the merge does
	// not move yet.
	if n, err = s.q.CustomerDelete(ctx, tx, dbsqlc.CustomerDeleteParams{TenantID: t, ID: d}); err != nil {
		return customer.Detail{}, fmt.Errorf("delete duplicate: %w", err)
	}
	if n != 1 {
		return customer.Detail{}, fmt.Errorf("delete duplicate: %d rows deleted, want 1", n)
	}

	kept, err := s.customers.Get(ctx, tx, k)
	if err != nil {
		return customer.Detail{}, err
	}
	after, err := withMember(customer.Response(kept, pr.env, time.Now()), "merge", rep)
	if err != nil {
		return customer.Detail{}, err
	}
	if err := audit.Record(ctx, tx, audit.Event{Entity: audit.EntityCustomer, EntityID: k, CustomerID: &k, Action: ActionMerge,
		Before: keptBefore, After: after}); err != nil {
		return customer.Detail{}, err
	}
	if err := audit.Record(ctx, tx, audit.Event{Entity: audit.EntityCustomer, EntityID: d, CustomerID: &d, Action: audit.ActionDelete,
		Before: dupBefore}); err != nil {
		return customer.Detail{}, err
	}
	return kept, nil
}

// movePrices moves the duplicate's own item prices, except for items the
// kept customer has its own price for: those are reported.
func (s *Service) movePrices(ctx context.Context, tx database.Tx, pr pair, rep *Report) error {
	rows, err := s.q.MergePriceConflicts(ctx, tx, dbsqlc.MergePriceConflictsParams{TenantID: tx.TenantID(), KeptID: pr.in.KeptID, DuplicateID: pr.in.DuplicateID})
	if err != nil {
		return fmt.Errorf("read price conflicts: %w", err)
	}
	for _, r := range rows {
		rep.Conflicts.CustomerPrices = append(rep.Conflicts.CustomerPrices, PriceConflict{ItemID: r.ItemID, SKU: r.Sku,
			KeptPrice: money.Format(r.KeptPrice, pr.keptCurrency), DuplicatePrice: money.Format(r.DuplicatePrice, pr.dupCurrency)})
	}
	n, err := s.q.MergeMovePrices(ctx, tx, dbsqlc.MergeMovePricesParams{TenantID: tx.TenantID(), KeptID: pr.in.KeptID, DuplicateID: pr.in.DuplicateID})
	if err != nil {
		return fmt.Errorf("move customer prices: %w", err)
	}
	rep.Moved.CustomerPrices += n
	return nil
}

// moveGroups moves the duplicate's group memberships in the categories
// the kept customer has no group in; the others are reported (unless both
// are in the same group).
func (s *Service) moveGroups(ctx context.Context, tx database.Tx, in Input, rep *Report) error {
	rows, err := s.q.MergeGroupConflicts(ctx, tx, dbsqlc.MergeGroupConflictsParams{TenantID: tx.TenantID(), KeptID: in.KeptID, DuplicateID: in.DuplicateID})
	if err != nil {
		return fmt.Errorf("read group conflicts: %w", err)
	}
	for _, r := range rows {
		rep.Conflicts.GroupMemberships = append(rep.Conflicts.GroupMemberships,
			GroupConflict{Category: r.Category, KeptGroup: r.KeptGroup, DuplicateGroup: r.DuplicateGroup})
	}
	n, err := s.q.MergeMoveGroups(ctx, tx, dbsqlc.MergeMoveGroupsParams{TenantID: tx.TenantID(), KeptID: in.KeptID, DuplicateID: in.DuplicateID})
	if err != nil {
		return fmt.Errorf("move group memberships: %w", err)
	}
	rep.Moved.GroupMemberships += n
	return nil
}

// moveLocations moves every location of the duplicate; those holding a
// default flag the kept customer already holds lose it first.
func (s *Service) moveLocations(ctx context.Context, tx database.Tx, in Input, rep *Report) error {
	rows, err := s.q.MergeDemoteLocations(ctx, tx, dbsqlc.MergeDemoteLocationsParams{TenantID: tx.TenantID(), KeptID: in.KeptID, DuplicateID: in.DuplicateID})
	if err != nil {
		return fmt.Errorf("demote default locations: %w", err)
	}
	for _, r := range rows {
		f := LocationFlags{LocationID: r.ID, Lost: []string{}}
		if r.LostBilling {
			f.Lost = append(f.Lost, "default_billing")
		}
		if r.LostShipping {
			f.Lost = append(f.Lost, "default_shipping")
		}
		rep.Conflicts.DefaultLocations = append(rep.Conflicts.DefaultLocations, f)
	}
	n, err := s.q.MergeMoveLocations(ctx, tx, dbsqlc.MergeMoveLocationsParams{TenantID: tx.TenantID(), KeptID: in.KeptID, DuplicateID: in.DuplicateID})
	if err != nil {
		return fmt.Errorf("move locations: %w", err)
	}
	rep.Moved.Locations += n
	return nil
}

// fill returns the kept customer's record with each empty field taken from
// the duplicate (customer.FillEmpty, by the fields' merge rules), noting
// in rep what was filled and which differing values the kept customer
// keeps. Two fields fill only when harmless: the currency only when it is
// the one the kept customer already uses (a forced merge never changes
// the currency of the kept customer's orders), the sales rep only when
// still an active user.
func (s *Service) fill(ctx context.Context, tx database.Tx, pr pair, rep *Report) (dbsqlc.CustomerUpdateParams, error) {
	k, d := pr.kept.Customer, pr.dup.Customer
	res, err := customer.FillEmpty(&k, &d, func(name string) (customer.FillDecision, error) {
		switch name {
		case "currency":
			if *d.Currency != pr.keptCurrency {
				return customer.FillRefusedKept, nil
			}
		case "sales_rep_id":
			u, err := s.q.UserGetByID(ctx, tx, dbsqlc.UserGetByIDParams{TenantID: tx.TenantID(), ID: *d.SalesRepID})
			switch {
			case errors.Is(err, pgx.ErrNoRows) || err == nil && u.User.Status != "active":
				return customer.FillRefused, nil
			case err != nil:
				return customer.FillRefused, fmt.Errorf("look up duplicate's sales rep: %w", err)
			}
		}
		return customer.FillAllowed, nil
	})
	if err != nil {
		return dbsqlc.CustomerUpdateParams{}, err
	}
	rep.Filled = append(rep.Filled, res.Filled...)
	rep.KeptValues = append(rep.KeptValues, res.KeptValues...)
	if k.Custom, err = fillCustom(rep, k.Custom, d.Custom); err != nil {
		return dbsqlc.CustomerUpdateParams{}, err
	}
	return customer.UpdateParams(tx.TenantID(), k.ID, customer.RecordOf(k)), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// fillCustom adds the duplicate's custom values for keys the kept
// customer has no value for (named custom.<key> in the report).
func fillCustom(rep *Report, kept, dup json.RawMessage) (json.RawMessage, error) {
	k, d := map[string]json.RawMessage{}, map[string]json.RawMessage{}
	if err := json.Unmarshal(kept, &k); err != nil {
		return nil, fmt.Errorf("read custom values: %w", err)
	}
	if err := json.Unmarshal(dup, &d); err != nil {
		return nil, fmt.Errorf("read custom values: %w", err)
	}
	changed := false
	for _, key := range sortedKeys(d) {
		v, ok := k[key]
		switch {
		case !ok:
			k[key] = d[key]
			changed = true
			rep.Filled = append(rep.Filled, "custom."+key)
		case !bytes.Equal(v, d[key]):
			rep.KeptValues = append(rep.KeptValues, "custom."+key)
		}
	}
	if !changed {
		return kept, nil
	}
	return json.Marshal(k)
}

// withMember returns v encoded as a JSON object with one more member at
// its end: the merge answer is the customer exactly as GET shows it, plus
// "merge".
func withMember(v any, name string, member any) (json.RawMessage, error) {
	obj, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	m, err := json.Marshal(member)
	if err != nil {
		return nil, err
	}
	key, _ := json.Marshal(name)
	obj = bytes.TrimRight(obj, " \n")
	if len(obj) < 2 || obj[len(obj)-1] != '}' {
		return nil, fmt.Errorf("%T does not encode as a JSON object", v)
	}
	out := append(bytes.Clone(obj[:len(obj)-1]), ',')
	if len(obj) == 2 {
		out = out[:1]
	}
	out = append(append(append(out, key...), ':'), m...)
	return append(out, '}'), nil
}
