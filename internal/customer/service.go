package customer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// Service implements the customer operations. Its methods run inside the
// caller's tenant transaction.
type Service struct {
	q      *dbsqlc.Queries
	logger *slog.Logger
}

// NewService returns a Service.
func NewService(logger *slog.Logger) *Service {
	return &Service{q: dbsqlc.New(), logger: logger}
}

func (s *Service) env(ctx context.Context, tx database.Tx) (Env, error) {
	st, err := s.q.SettingsGet(ctx, tx, tx.TenantID())
	if err != nil {
		return Env{}, fmt.Errorf("read tenant settings: %w", err)
	}
	return Env{DefaultCountry: st.DefaultCountry}, nil
}

// checkRep enforces who may be a customer's sales rep: an active user of
// the tenant, and for an 'assigned' actor only themselves (they could not
// see the customer afterwards; row-level security would refuse the write
// anyway).
func (s *Service) checkRep(ctx context.Context, tx database.Tx, actor *tenant.Principal, rep *uuid.UUID) error {
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

// Create adds a customer. Without a code, the next free one of the form
// C000001 is generated.
func (s *Service) Create(ctx context.Context, tx database.Tx, actor *tenant.Principal, p Patch) (dbsqlc.Customer, error) {
	env, err := s.env(ctx, tx)
	if err != nil {
		return dbsqlc.Customer{}, err
	}
	if !p.SalesRepID.Set && actor.Visibility == tenant.VisibilityAssigned {
		uid := actor.UserID
		p.SalesRepID = Nullable[uuid.UUID]{Set: true, Value: &uid}
	}
	r := NewRecord()
	if err := p.Apply(&r, env); err != nil {
		return dbsqlc.Customer{}, err
	}
	if err := r.CheckComplete(); err != nil {
		return dbsqlc.Customer{}, err
	}
	if err := s.checkRep(ctx, tx, actor, r.SalesRepID); err != nil {
		return dbsqlc.Customer{}, err
	}
	generate := r.Code == ""
	for attempt := 0; attempt < 100; attempt++ {
		if generate {
			n, err := s.q.CounterNext(ctx, tx, dbsqlc.CounterNextParams{TenantID: tx.TenantID(), Name: "customer_code"})
			if err != nil {
				return dbsqlc.Customer{}, fmt.Errorf("next customer code: %w", err)
			}
			r.Code = fmt.Sprintf("C%06d", n)
		}
		c, err := s.q.CustomerInsert(ctx, tx, dbsqlc.CustomerInsertParams{
			TenantID: tx.TenantID(), ID: uuid.New(), Code: r.Code, Name: r.Name, Type: r.Type,
			Email: r.Email, Phone: r.Phone, SalesRepID: r.SalesRepID, Status: r.Status,
		})
		switch {
		case errors.Is(err, pgx.ErrNoRows) && generate:
			continue // a hand-entered code took this number; try the next
		case errors.Is(err, pgx.ErrNoRows):
			return dbsqlc.Customer{}, ErrCodeTaken
		case err != nil:
			return dbsqlc.Customer{}, fmt.Errorf("insert customer: %w", err)
		}
		return c, nil
	}
	return dbsqlc.Customer{}, errors.New("no free customer code after 100 attempts")
}

// Get returns a customer the actor can see.
func (s *Service) Get(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.Customer, error) {
	c, err := s.q.CustomerGetByID(ctx, tx, dbsqlc.CustomerGetByIDParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.Customer{}, ErrNotFound
	}
	if err != nil {
		return dbsqlc.Customer{}, fmt.Errorf("get customer: %w", err)
	}
	return c, nil
}

// Update applies a patch when version matches the stored one.
func (s *Service) Update(ctx context.Context, tx database.Tx, actor *tenant.Principal, id uuid.UUID, version int64, p Patch) (dbsqlc.Customer, error) {
	cur, err := s.q.CustomerGetByIDForUpdate(ctx, tx, dbsqlc.CustomerGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.Customer{}, ErrNotFound
	}
	if err != nil {
		return dbsqlc.Customer{}, fmt.Errorf("lock customer: %w", err)
	}
	if cur.Version != version {
		return dbsqlc.Customer{}, ErrVersionMismatch
	}
	env, err := s.env(ctx, tx)
	if err != nil {
		return dbsqlc.Customer{}, err
	}
	r := Record{Code: cur.Code, Name: cur.Name, Type: cur.Type, Email: cur.Email, Phone: cur.Phone, SalesRepID: cur.SalesRepID, Status: cur.Status}
	if err := p.Apply(&r, env); err != nil {
		return dbsqlc.Customer{}, err
	}
	if err := r.CheckComplete(); err != nil {
		return dbsqlc.Customer{}, err
	}
	if p.SalesRepID.Set {
		if err := s.checkRep(ctx, tx, actor, r.SalesRepID); err != nil {
			return dbsqlc.Customer{}, err
		}
	}
	c, err := s.q.CustomerUpdate(ctx, tx, dbsqlc.CustomerUpdateParams{
		TenantID: tx.TenantID(), ID: id, Code: r.Code, Name: r.Name, Type: r.Type,
		Email: r.Email, Phone: r.Phone, SalesRepID: r.SalesRepID, Status: r.Status,
	})
	switch {
	case database.IsUniqueViolation(err, "customers_code_key"):
		return dbsqlc.Customer{}, ErrCodeTaken
	case errors.Is(err, pgx.ErrNoRows):
		return dbsqlc.Customer{}, ErrNotFound
	case err != nil:
		return dbsqlc.Customer{}, fmt.Errorf("update customer: %w", err)
	}
	return c, nil
}

// Delete removes a customer the actor can see.
func (s *Service) Delete(ctx context.Context, tx database.Tx, id uuid.UUID) error {
	n, err := s.q.CustomerDelete(ctx, tx, dbsqlc.CustomerDeleteParams{TenantID: tx.TenantID(), ID: id})
	switch {
	case database.IsForeignKeyViolation(err, ""):
		return ErrReferenced
	case err != nil:
		return fmt.Errorf("delete customer: %w", err)
	case n == 0:
		return ErrNotFound
	}
	return nil
}

// ListParams selects a page of customers.
type ListParams struct {
	Q     *string
	After *Cursor
	Limit int32
}

// Cursor is the position after the last customer of a page.
type Cursor struct {
	Name string    `json:"n"`
	ID   uuid.UUID `json:"i"`
}

// List returns a page of the customers the actor can see, by name.
func (s *Service) List(ctx context.Context, tx database.Tx, actor *tenant.Principal, lp ListParams) ([]dbsqlc.Customer, error) {
	p := dbsqlc.CustomerListParams{TenantID: tx.TenantID(), RowLimit: lp.Limit}
	switch actor.Visibility {
	case tenant.VisibilityAssigned:
		uid := actor.UserID
		p.ScopeRepID = &uid
	case tenant.VisibilityPortal:
		if actor.CustomerID == nil {
			return nil, nil
		}
		p.ScopeCustomerID = actor.CustomerID
	}
	if lp.Q != nil {
		pattern := "%" + escapeLike(*lp.Q) + "%"
		p.Q = &pattern
	}
	if lp.After != nil {
		p.AfterName, p.AfterID = &lp.After.Name, &lp.After.ID
	}
	rows, err := s.q.CustomerList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list customers: %w", err)
	}
	return rows, nil
}

// escapeLike makes user text match literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
