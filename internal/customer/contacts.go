package customer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/precondition"
	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/validation"
)

// ContactPatch creates or changes a contact person; Name is required on
// create.
type ContactPatch struct {
	Name      patch.Field[string]
	Role      patch.Field[string]
	Email     patch.Field[string]
	Phone     patch.Field[string]
	IsPrimary patch.Field[bool]
}

// contactFields is a contact's writable state.
type contactFields struct {
	name               string
	role, email, phone *string
	isPrimary          bool
}

func (p ContactPatch) apply(f *contactFields, env settings.Env) error {
	var errs validation.Errors
	opt := func(field string, s patch.Field[string], fn func(string) string) *string {
		if s.Value == nil || strings.TrimSpace(*s.Value) == "" {
			return nil
		}
		v := fn(*s.Value)
		return &v
	}
	if p.Name.Set {
		if p.Name.Value == nil {
			errs.Add("name", "not_nullable", "must not be null")
		} else {
			f.name = errs.Text("name", *p.Name.Value, 1, 200)
		}
	}
	if p.Role.Set {
		f.role = opt("role", p.Role, func(v string) string { return errs.Text("role", v, 1, 100) })
	}
	if p.Email.Set {
		f.email = opt("email", p.Email, func(v string) string { return errs.Email("email", v) })
	}
	if p.Phone.Set {
		f.phone = opt("phone", p.Phone, func(v string) string { return errs.Phone("phone", v, env.Settings.DefaultCountry) })
	}
	if p.IsPrimary.Set {
		if p.IsPrimary.Value == nil {
			errs.Add("primary", "not_nullable", "must not be null")
		} else {
			f.isPrimary = *p.IsPrimary.Value
		}
	}
	if f.name == "" && !errs.Has("name") {
		errs.Add("name", "required", "must not be empty")
	}
	return errs.Err()
}

// Contacts lists a visible customer's contact persons, primary first.
func (s *Service) Contacts(ctx context.Context, tx database.Tx, customerID uuid.UUID) ([]dbsqlc.CustomerContact, error) {
	if _, err := s.visibleCustomer(ctx, tx, customerID); err != nil {
		return nil, err
	}
	rows, err := s.q.ContactList(ctx, tx, dbsqlc.ContactListParams{TenantID: tx.TenantID(), CustomerID: customerID})
	if err != nil {
		return nil, fmt.Errorf("list contacts: %w", err)
	}
	return rows, nil
}

func (s *Service) visibleCustomer(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.Customer, error) {
	c, err := s.q.CustomerGetByID(ctx, tx, dbsqlc.CustomerGetByIDParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("get customer: %w", err)
	}
	return c, nil
}

// CreateContact adds a contact person to a visible customer and records
// the audit event. The first contact becomes the primary one; a new
// primary replaces the old.
func (s *Service) CreateContact(ctx context.Context, tx database.Tx, env settings.Env, customerID uuid.UUID, p ContactPatch) (dbsqlc.CustomerContact, error) {
	var f contactFields
	if err := p.apply(&f, env); err != nil {
		return dbsqlc.CustomerContact{}, err
	}
	if _, err := s.visibleCustomer(ctx, tx, customerID); err != nil {
		return dbsqlc.CustomerContact{}, err
	}
	n, err := s.q.ContactCountForCustomer(ctx, tx, dbsqlc.ContactCountForCustomerParams{TenantID: tx.TenantID(), CustomerID: customerID})
	if err != nil {
		return dbsqlc.CustomerContact{}, fmt.Errorf("count contacts: %w", err)
	}
	if n == 0 {
		f.isPrimary = true
	}
	id := uuid.New()
	if f.isPrimary {
		if err := s.clearPrimary(ctx, tx, customerID, id); err != nil {
			return dbsqlc.CustomerContact{}, err
		}
	}
	reach, err := ReachForShare(ctx, tx, customerID)
	if err != nil {
		return dbsqlc.CustomerContact{}, err
	}
	c, err := s.q.ContactInsert(ctx, tx, dbsqlc.ContactInsertParams{
		TenantID: tx.TenantID(), ID: id, CustomerID: customerID, Name: f.name, Role: f.role, Email: f.email,
		Phone: f.phone, IsPrimary: f.isPrimary, Reach: reach,
	})
	if err != nil {
		return dbsqlc.CustomerContact{}, fmt.Errorf("insert contact: %w", err)
	}
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityContact, EntityID: c.ID, CustomerID: &c.CustomerID,
		Action: audit.ActionCreate, After: toContactResponse(c)})
	if err != nil {
		return dbsqlc.CustomerContact{}, err
	}
	return c, nil
}

func (s *Service) clearPrimary(ctx context.Context, tx database.Tx, customerID, except uuid.UUID) error {
	err := s.q.ContactClearPrimary(ctx, tx, dbsqlc.ContactClearPrimaryParams{TenantID: tx.TenantID(), CustomerID: customerID, ExceptID: except})
	if err != nil {
		return fmt.Errorf("clear primary contact: %w", err)
	}
	return nil
}

// Contact returns a contact of a visible customer.
func (s *Service) Contact(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.CustomerContact, error) {
	c, err := s.q.ContactGetByID(ctx, tx, dbsqlc.ContactGetByIDParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrContactNotFound
	}
	if err != nil {
		return c, fmt.Errorf("get contact: %w", err)
	}
	return c, nil
}

// UpdateContact applies a patch when want matches its version, and records
// the change against the row as it locked it.
func (s *Service) UpdateContact(ctx context.Context, tx database.Tx, env settings.Env, id uuid.UUID, want precondition.IfMatch, p ContactPatch) (dbsqlc.CustomerContact, error) {
	cur, err := s.lockContact(ctx, tx, id)
	if err != nil {
		return cur, err
	}
	if !want.Matches(cur.Version) {
		return cur, ErrVersionMismatch
	}
	f := contactFields{name: cur.Name, role: cur.Role, email: cur.Email, phone: cur.Phone, isPrimary: cur.IsPrimary}
	if err := p.apply(&f, env); err != nil {
		return cur, err
	}
	if f.isPrimary && !cur.IsPrimary {
		if err := s.clearPrimary(ctx, tx, cur.CustomerID, id); err != nil {
			return cur, err
		}
	}
	c, err := s.q.ContactUpdate(ctx, tx, dbsqlc.ContactUpdateParams{
		TenantID: tx.TenantID(), ID: id, Name: f.name, Role: f.role, Email: f.email, Phone: f.phone, IsPrimary: f.isPrimary,
	})
	if err != nil {
		return cur, fmt.Errorf("update contact: %w", err)
	}
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityContact, EntityID: id, CustomerID: &c.CustomerID, Action: audit.ActionUpdate,
		Before: toContactResponse(cur), After: toContactResponse(c)})
	if err != nil {
		return cur, err
	}
	return c, nil
}

// lockContact reads a contact of a visible customer FOR UPDATE.
func (s *Service) lockContact(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.CustomerContact, error) {
	c, err := s.q.ContactGetByIDForUpdate(ctx, tx, dbsqlc.ContactGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrContactNotFound
	}
	if err != nil {
		return c, fmt.Errorf("lock contact: %w", err)
	}
	return c, nil
}

// DeleteContact removes a contact, locked first, records the audit event
// and returns the contact as it was.
func (s *Service) DeleteContact(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.CustomerContact, error) {
	c, err := s.lockContact(ctx, tx, id)
	if err != nil {
		return c, err
	}
	if _, err := s.q.ContactDelete(ctx, tx, dbsqlc.ContactDeleteParams{TenantID: tx.TenantID(), ID: id}); err != nil {
		return c, fmt.Errorf("delete contact: %w", err)
	}
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityContact, EntityID: id, CustomerID: &c.CustomerID, Action: audit.ActionDelete,
		Before: toContactResponse(c)})
	if err != nil {
		return c, err
	}
	return c, nil
}
