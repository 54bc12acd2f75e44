package location

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/precondition"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// MaxPerCustomer caps ListForCustomer; GET /v1/locations pages beyond it.
const MaxPerCustomer = 1000

// Service implements the package's operations inside the caller's tenant
// transaction. Row-level security decides which customers, and so which
// locations, the caller sees; everything outside that is ErrNotFound or
// ErrCustomerNotFound.
type Service struct {
	// BulkBatch is how many locations one transaction of a bulk update
	// changes (DefaultBulkBatch when zero).
	BulkBatch int

	q      *dbsqlc.Queries
	logger *slog.Logger
}

// NewService returns a Service.
func NewService(logger *slog.Logger) *Service {
	return &Service{q: dbsqlc.New(), logger: logger}
}

// Create adds a location to a customer the caller can see. A location
// with the billing kind becomes the default billing location when the
// customer has none and the patch leaves default_billing out (likewise for
// shipping). It records the audit events of the new location and of the
// sibling locations whose default flag moved to it.
//
// The customer is looked up before the patch is validated, so a customer
// outside the caller's scope is a 404 whatever the body says.
func (s *Service) Create(ctx context.Context, tx database.Tx, actor *tenant.Principal, customerID uuid.UUID, p Patch) (Location, error) {
	loc, changes, err := s.create(ctx, tx, actor, customerID, p)
	if err != nil {
		return Location{}, err
	}
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityLocation, EntityID: loc.ID, CustomerID: &loc.CustomerID,
		Action: audit.ActionCreate, After: toLocationResponse(loc)})
	if err != nil {
		return Location{}, err
	}
	if err := recordChanges(ctx, tx, changes); err != nil {
		return Location{}, err
	}
	return loc, nil
}

// CreateFromImport is Create without the location's own audit events: an
// import records the address in the customer's event (package importer).
func (s *Service) CreateFromImport(ctx context.Context, tx database.Tx, actor *tenant.Principal, customerID uuid.UUID, p Patch) error {
	_, _, err := s.create(ctx, tx, actor, customerID, p)
	return err
}

// create adds the location; it returns it and the sibling locations whose
// default flag moved to it.
func (s *Service) create(ctx context.Context, tx database.Tx, actor *tenant.Principal, customerID uuid.UUID, p Patch) (Location, []Change, error) {
	cust, err := s.lockCustomer(ctx, tx, customerID)
	if err != nil {
		return Location{}, nil, err
	}
	var r Record
	if err := validate(p.Apply(&r), r.CheckComplete()); err != nil {
		return Location{}, nil, err
	}
	if r.SalesRepID != nil {
		if err := s.checkRep(ctx, tx, actor, r.SalesRepID); err != nil {
			return Location{}, nil, err
		}
	}
	defaults, err := s.q.LocationDefaults(ctx, tx, dbsqlc.LocationDefaultsParams{TenantID: tx.TenantID(), CustomerID: cust.ID})
	if err != nil {
		return Location{}, nil, fmt.Errorf("read default locations: %w", err)
	}
	if p.DefaultBilling == nil && r.HasKind(KindBilling) && !hasDefault(defaults, true) {
		r.DefaultBilling = true
	}
	if p.DefaultShipping == nil && r.HasKind(KindShipping) && !hasDefault(defaults, false) {
		r.DefaultShipping = true
	}
	id := uuid.New()
	changes, err := s.clearDefaults(ctx, tx, cust, id, defaults, r.DefaultBilling, r.DefaultShipping)
	if err != nil {
		return Location{}, nil, err
	}
	reach, err := customer.ReachForShare(ctx, tx, cust.ID)
	if err != nil {
		return Location{}, nil, err
	}
	row, err := s.q.LocationInsert(ctx, tx, dbsqlc.LocationInsertParams{
		TenantID: tx.TenantID(), ID: id, CustomerID: cust.ID, Label: r.Label, Line1: r.Line1, Line2: r.Line2,
		City: r.City, Region: r.Region, PostalCode: r.PostalCode, Country: r.Country, Phone: r.Phone, Kinds: r.Kinds,
		IsDefaultBilling: r.DefaultBilling, IsDefaultShipping: r.DefaultShipping, SalesRepID: r.SalesRepID, Reach: reach,
	})
	if err != nil {
		return Location{}, nil, fmt.Errorf("insert location: %w", err)
	}
	if err := s.syncAddress(ctx, tx, cust.ID, nil); err != nil {
		return Location{}, nil, err
	}
	if r.SalesRepID != nil {
		if err := customer.RefreshReach(ctx, tx, cust.ID); err != nil {
			return Location{}, nil, err
		}
	}
	return Location{CustomerLocation: row, Customer: cust}, changes, nil
}

// Get returns a location whose customer the caller can see.
func (s *Service) Get(ctx context.Context, tx database.Tx, id uuid.UUID) (Location, error) {
	row, err := s.q.LocationGetByID(ctx, tx, dbsqlc.LocationGetByIDParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return Location{}, ErrNotFound
	}
	if err != nil {
		return Location{}, fmt.Errorf("get location: %w", err)
	}
	return Location{CustomerLocation: row.CustomerLocation,
		Customer: CustomerRef{ID: row.CustomerLocation.CustomerID, Code: row.CustomerCode, Name: row.CustomerName}}, nil
}

// Update applies a patch when want matches the stored version. Setting a
// default flag takes it off the customer's other locations; clearing one
// leaves the customer without that default. It records the audit events
// of the location (against the row as it locked it) and of the changed
// siblings, and returns the location after.
func (s *Service) Update(ctx context.Context, tx database.Tx, actor *tenant.Principal, id uuid.UUID, want precondition.IfMatch, p Patch) (Location, error) {
	ch, others, err := s.update(ctx, tx, actor, id, want, p)
	if err != nil {
		return Location{}, err
	}
	if err := recordChanges(ctx, tx, append([]Change{ch}, others...)); err != nil {
		return Location{}, err
	}
	return ch.After, nil
}

// UpdateFromImport is Update without the audit events: an import records
// the address in the customer's event (package importer).
func (s *Service) UpdateFromImport(ctx context.Context, tx database.Tx, actor *tenant.Principal, id uuid.UUID, want precondition.IfMatch, p Patch) error {
	_, _, err := s.update(ctx, tx, actor, id, want, p)
	return err
}

// recordChanges records location updates: the one a request asked for and
// the siblings it took a default flag from.
func recordChanges(ctx context.Context, tx database.Tx, changes []Change) error {
	for _, ch := range changes {
		if err := audit.Record(ctx, tx, audit.Event{Entity: audit.EntityLocation, EntityID: ch.After.ID, CustomerID: &ch.After.CustomerID, Action: audit.ActionUpdate,
			Before: toLocationResponse(ch.Before), After: toLocationResponse(ch.After)}); err != nil {
			return err
		}
	}
	return nil
}

// update applies the patch; it returns the location before and after, and
// the changed siblings.
func (s *Service) update(ctx context.Context, tx database.Tx, actor *tenant.Principal, id uuid.UUID, want precondition.IfMatch, p Patch) (Change, []Change, error) {
	cust, cur, err := s.lock(ctx, tx, id)
	if err != nil {
		return Change{}, nil, err
	}
	if !want.Matches(cur.Version) {
		return Change{}, nil, ErrVersionMismatch
	}
	r := recordOf(cur)
	if err := p.Apply(&r); err != nil {
		return Change{}, nil, err
	}
	repChanged := !sameID(r.SalesRepID, cur.SalesRepID)
	if repChanged {
		if err := s.checkRep(ctx, tx, actor, r.SalesRepID); err != nil {
			return Change{}, nil, err
		}
	}
	var changes []Change
	if (r.DefaultBilling && !cur.IsDefaultBilling) || (r.DefaultShipping && !cur.IsDefaultShipping) {
		defaults, err := s.q.LocationDefaults(ctx, tx, dbsqlc.LocationDefaultsParams{TenantID: tx.TenantID(), CustomerID: cust.ID})
		if err != nil {
			return Change{}, nil, fmt.Errorf("read default locations: %w", err)
		}
		if changes, err = s.clearDefaults(ctx, tx, cust, id, defaults, r.DefaultBilling, r.DefaultShipping); err != nil {
			return Change{}, nil, err
		}
	}
	row, err := s.q.LocationUpdate(ctx, tx, dbsqlc.LocationUpdateParams{
		TenantID: tx.TenantID(), ID: id, Label: r.Label, Line1: r.Line1, Line2: r.Line2, City: r.City,
		Region: r.Region, PostalCode: r.PostalCode, Country: r.Country, Phone: r.Phone, Kinds: r.Kinds,
		IsDefaultBilling: r.DefaultBilling, IsDefaultShipping: r.DefaultShipping,
	})
	if err != nil {
		return Change{}, nil, fmt.Errorf("update location: %w", err)
	}
	// Only the address and the default flags decide the primary address.
	if r.City != cur.City || r.Country != cur.Country || r.DefaultBilling != cur.IsDefaultBilling ||
		r.DefaultShipping != cur.IsDefaultShipping {
		if err := s.syncAddress(ctx, tx, cust.ID, nil); err != nil {
			return Change{}, nil, err
		}
	}
	// The sales rep changes last: a rep who sees the customer only through
	// this location loses sight of it the moment the customer's reach is
	// refreshed, and the address sync above would then match no customer
	// row.
	if repChanged {
		if row, err = s.q.LocationSetSalesRep(ctx, tx, dbsqlc.LocationSetSalesRepParams{
			TenantID: tx.TenantID(), ID: id, SalesRepID: r.SalesRepID,
		}); err != nil {
			return Change{}, nil, fmt.Errorf("set location sales rep: %w", err)
		}
		if err := customer.RefreshReach(ctx, tx, cust.ID); err != nil {
			return Change{}, nil, err
		}
	}
	return Change{Before: Location{CustomerLocation: cur, Customer: cust}, After: Location{CustomerLocation: row, Customer: cust}},
		changes, nil
}

// Delete removes a location, locked first, records the audit event and
// returns the location as it was. Removing the default billing
// (or shipping) location leaves the customer without one: picking another
// is the user's decision.
func (s *Service) Delete(ctx context.Context, tx database.Tx, actor *tenant.Principal, id uuid.UUID) (Location, error) {
	cust, cur, err := s.lock(ctx, tx, id)
	if err != nil {
		return Location{}, err
	}
	// Removing an override is a change of sales rep (auth.CheckSalesRep),
	// except that anyone may give up their own.
	if cur.SalesRepID != nil && *cur.SalesRepID != actor.UserID && !auth.MayAssignReps(actor) {
		return Location{}, ErrAssignNeeded
	}
	// Synced first, leaving this location out, for the reason given at
	// Update: its rep override may be what lets the caller see the customer.
	if err := s.syncAddress(ctx, tx, cust.ID, &id); err != nil {
		return Location{}, err
	}
	if _, err := s.q.LocationDelete(ctx, tx, dbsqlc.LocationDeleteParams{TenantID: tx.TenantID(), ID: id}); err != nil {
		if database.IsForeignKeyViolation(err, "sales_orders_location_fkey") {
			return Location{}, ErrInUse
		}
		return Location{}, fmt.Errorf("delete location: %w", err)
	}
	if cur.SalesRepID != nil {
		if err := customer.RefreshReach(ctx, tx, cust.ID); err != nil {
			return Location{}, err
		}
	}
	loc := Location{CustomerLocation: cur, Customer: cust}
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityLocation, EntityID: loc.ID, CustomerID: &loc.CustomerID,
		Action: audit.ActionDelete, Before: toLocationResponse(loc)})
	if err != nil {
		return Location{}, err
	}
	return loc, nil
}

// Filter selects locations in List; nil fields do not filter. City matches
// case-insensitively; Country is an upper-case ISO code.
type Filter struct {
	CustomerID *uuid.UUID
	City       *string
	Country    *string
	SalesRepID *uuid.UUID
}

// Cursor is the position after the last location of a page.
type Cursor struct {
	CustomerName string    `json:"n"`
	Label        string    `json:"l"`
	ID           uuid.UUID `json:"i"`
}

// CursorAfter returns the cursor positioned after l.
func CursorAfter(l Location) Cursor {
	return Cursor{CustomerName: l.Customer.Name, Label: l.Label, ID: l.ID}
}

// List returns up to limit locations the caller can see, by customer name,
// then label, then id, starting after the cursor.
func (s *Service) List(ctx context.Context, tx database.Tx, f Filter, after *Cursor, limit int32) ([]Location, error) {
	p := dbsqlc.LocationListParams{
		TenantID: tx.TenantID(), CustomerID: f.CustomerID, City: f.City, Country: f.Country, SalesRepID: f.SalesRepID,
		RowLimit: limit,
	}
	if after != nil {
		p.AfterName, p.AfterLabel, p.AfterID = &after.CustomerName, &after.Label, &after.ID
	}
	rows, err := s.q.LocationList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list locations: %w", err)
	}
	out := make([]Location, 0, len(rows))
	for _, row := range rows {
		out = append(out, Location{CustomerLocation: row.CustomerLocation,
			Customer: CustomerRef{ID: row.CustomerLocation.CustomerID, Code: row.CustomerCode, Name: row.CustomerName}})
	}
	return out, nil
}

// ListForCustomer returns the first MaxPerCustomer+1 locations of a
// customer the caller can see, by label (the extra one tells the caller
// there are more).
func (s *Service) ListForCustomer(ctx context.Context, tx database.Tx, customerID uuid.UUID) ([]Location, error) {
	if _, err := s.q.LocationCustomerGet(ctx, tx, dbsqlc.LocationCustomerGetParams{TenantID: tx.TenantID(), ID: customerID}); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, ErrCustomerNotFound
		}
		return nil, fmt.Errorf("get customer: %w", err)
	}
	return s.List(ctx, tx, Filter{CustomerID: &customerID}, nil, MaxPerCustomer+1)
}

// lockCustomer locks a visible customer (see LocationCustomerLock).
func (s *Service) lockCustomer(ctx context.Context, tx database.Tx, id uuid.UUID) (CustomerRef, error) {
	c, err := s.q.LocationCustomerLock(ctx, tx, dbsqlc.LocationCustomerLockParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return CustomerRef{}, ErrCustomerNotFound
	}
	if err != nil {
		return CustomerRef{}, fmt.Errorf("lock customer: %w", err)
	}
	return CustomerRef{ID: c.ID, Code: c.Code, Name: c.Name}, nil
}

// lock locks a location's customer, then the location: customer first, as
// Create does, so that concurrent writes to one customer's locations never
// wait on each other in opposite orders.
func (s *Service) lock(ctx context.Context, tx database.Tx, id uuid.UUID) (CustomerRef, dbsqlc.CustomerLocation, error) {
	c, err := s.q.LocationCustomerLockByLocation(ctx, tx, dbsqlc.LocationCustomerLockByLocationParams{TenantID: tx.TenantID(), LocationID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return CustomerRef{}, dbsqlc.CustomerLocation{}, ErrNotFound
	}
	if err != nil {
		return CustomerRef{}, dbsqlc.CustomerLocation{}, fmt.Errorf("lock customer: %w", err)
	}
	cur, err := s.q.LocationGetByIDForUpdate(ctx, tx, dbsqlc.LocationGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return CustomerRef{}, dbsqlc.CustomerLocation{}, ErrNotFound // deleted while we waited for the lock
	}
	if err != nil {
		return CustomerRef{}, dbsqlc.CustomerLocation{}, fmt.Errorf("lock location: %w", err)
	}
	return CustomerRef{ID: c.ID, Code: c.Code, Name: c.Name}, cur, nil
}

// checkRep accepts a change of a location's rep override to rep (nil
// removes it) when the actor may assign reps (auth.CheckSalesRep: an
// override shares the customer with its rep, or takes it from them) and
// rep is none or an active user of the tenant. A user of another tenant is
// unknown here: the users policy hides them.
func (s *Service) checkRep(ctx context.Context, tx database.Tx, actor *tenant.Principal, rep *uuid.UUID) error {
	if err := auth.CheckSalesRep(actor, false, rep); err != nil {
		return err
	}
	if rep == nil {
		return nil
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

// clearDefaults takes the requested default flags off the customer's other
// locations (defaults is the customer's current default locations) and
// returns each location it changed.
func (s *Service) clearDefaults(ctx context.Context, tx database.Tx, cust CustomerRef, keep uuid.UUID,
	defaults []dbsqlc.CustomerLocation, billing, shipping bool) ([]Change, error) {
	before := map[uuid.UUID]dbsqlc.CustomerLocation{}
	for _, d := range defaults {
		if d.ID != keep && ((billing && d.IsDefaultBilling) || (shipping && d.IsDefaultShipping)) {
			before[d.ID] = d
		}
	}
	if len(before) == 0 {
		return nil, nil
	}
	rows, err := s.q.LocationClearDefaults(ctx, tx, dbsqlc.LocationClearDefaultsParams{
		TenantID: tx.TenantID(), CustomerID: cust.ID, KeepID: keep, Billing: billing, Shipping: shipping,
	})
	if err != nil {
		return nil, fmt.Errorf("clear default locations: %w", err)
	}
	changes := make([]Change, 0, len(rows))
	for _, row := range rows {
		changes = append(changes, Change{
			Before: Location{CustomerLocation: before[row.ID], Customer: cust},
			After:  Location{CustomerLocation: row, Customer: cust},
		})
	}
	return changes, nil
}

// syncAddress recomputes the customer's city and country. The customer is
// locked and visible, so exactly one row must change; anything else would
// leave a stale primary address behind, and fails the transaction instead.
func (s *Service) syncAddress(ctx context.Context, tx database.Tx, customerID uuid.UUID, exclude *uuid.UUID) error {
	n, err := s.q.LocationSyncCustomerAddress(ctx, tx, dbsqlc.LocationSyncCustomerAddressParams{
		TenantID: tx.TenantID(), CustomerID: customerID, ExcludeLocationID: exclude,
	})
	if err != nil {
		return fmt.Errorf("sync customer address: %w", err)
	}
	if n != 1 {
		return fmt.Errorf("sync customer address: %d customer rows updated, want 1", n)
	}
	return nil
}

func hasDefault(defaults []dbsqlc.CustomerLocation, billing bool) bool {
	for _, d := range defaults {
		if (billing && d.IsDefaultBilling) || (!billing && d.IsDefaultShipping) {
			return true
		}
	}
	return false
}

func sameID(a, b *uuid.UUID) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// validate merges the errors of several checks into one list, keeping one
// error per field; any other error is returned as it is.
func validate(errs ...error) error {
	var all validation.Errors
	for _, err := range errs {
		var ve validation.Errors
		if err != nil && !errors.As(err, &ve) {
			return err
		}
		for _, fe := range ve {
			if !all.Has(fe.Field) {
				all = append(all, fe)
			}
		}
	}
	return all.Err()
}
