package grant

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
	"github.com/customerhub/customerhub/internal/tenant"
)

// Service implements the package's operations inside the caller's tenant
// transaction. A customer the caller cannot see is ErrCustomerNotFound,
// and a grant of it ErrNotFound, exactly like missing ones.
//
// A grant widens (or, revoked, narrows) what its user reaches, so the
// acting user must be able to manage that user (auth.Service.CheckManage):
// not themselves, and not a user who reaches further than they do.
type Service struct {
	q      *dbsqlc.Queries
	auth   *auth.Service
	logger *slog.Logger
}

// NewService returns a Service.
func NewService(logger *slog.Logger, authSvc *auth.Service) *Service {
	return &Service{q: dbsqlc.New(), auth: authSvc, logger: logger}
}

// CheckUser reports ErrUserNotFound unless the user exists in the tenant.
// Handlers call it before anything else about a request, so that another
// tenant's user is a 404 whatever the rest of the request holds.
func (s *Service) CheckUser(ctx context.Context, tx database.Tx, userID uuid.UUID) error {
	_, err := s.q.UserGetByID(ctx, tx, dbsqlc.UserGetByIDParams{TenantID: tx.TenantID(), ID: userID})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrUserNotFound
	}
	if err != nil {
		return fmt.Errorf("get user: %w", err)
	}
	return nil
}

// Create grants a customer the actor can see to a user the actor may
// manage, recording the actor as created_by, and records the audit event.
func (s *Service) Create(ctx context.Context, tx database.Tx, actor *tenant.Principal, userID, customerID uuid.UUID) (Grant, error) {
	if err := s.checkManage(ctx, tx, actor, userID); err != nil {
		return Grant{}, err
	}
	c, err := s.q.GrantCustomerGet(ctx, tx, dbsqlc.GrantCustomerGetParams{TenantID: tx.TenantID(), ID: customerID})
	if errors.Is(err, pgx.ErrNoRows) {
		return Grant{}, ErrCustomerNotFound
	}
	if err != nil {
		return Grant{}, fmt.Errorf("get customer: %w", err)
	}
	reach, err := customer.ReachForShare(ctx, tx, customerID)
	if errors.Is(err, customer.ErrNotFound) {
		return Grant{}, ErrCustomerNotFound
	}
	if err != nil {
		return Grant{}, err
	}
	by := actor.UserID
	g, err := s.q.GrantInsert(ctx, tx, dbsqlc.GrantInsertParams{
		TenantID: tx.TenantID(), UserID: userID, CustomerID: customerID, CreatedBy: &by, Reach: reach,
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Grant{}, ErrAlreadyGranted
	case database.IsForeignKeyViolation(err, "customer_grants_customer_fkey"):
		return Grant{}, ErrCustomerNotFound // deleted since we read it
	case err != nil:
		return Grant{}, fmt.Errorf("insert grant: %w", err)
	}
	if err := customer.RefreshReach(ctx, tx, customerID); err != nil {
		return Grant{}, err
	}
	created := Grant{CustomerGrant: g, CustomerCode: c.Code, CustomerName: c.Name}
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityGrant, EntityID: userID, CustomerID: &created.CustomerID,
		Action: audit.ActionCreate, After: toGrantResponse(created)})
	if err != nil {
		return Grant{}, err
	}
	return created, nil
}

// List returns up to limit of a user's grants, by customer name, starting
// after the cursor. Grants of customers the caller cannot see are left out.
func (s *Service) List(ctx context.Context, tx database.Tx, userID uuid.UUID, after *Cursor, limit int32) ([]Grant, error) {
	if err := s.CheckUser(ctx, tx, userID); err != nil {
		return nil, err
	}
	p := dbsqlc.GrantListParams{TenantID: tx.TenantID(), UserID: userID, RowLimit: limit}
	if after != nil {
		p.AfterName, p.AfterID = &after.CustomerName, &after.CustomerID
	}
	rows, err := s.q.GrantList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	out := make([]Grant, 0, len(rows))
	for _, r := range rows {
		out = append(out, Grant{CustomerGrant: r.CustomerGrant, CustomerCode: r.CustomerCode, CustomerName: r.CustomerName})
	}
	return out, nil
}

// Delete revokes a grant of a user the actor may manage, locked first,
// records the audit event and returns the grant as it was.
// The user loses sight of the customer when the transaction commits, unless
// they see it another way.
func (s *Service) Delete(ctx context.Context, tx database.Tx, actor *tenant.Principal, userID, customerID uuid.UUID) (Grant, error) {
	if err := s.checkManage(ctx, tx, actor, userID); err != nil {
		return Grant{}, err
	}
	row, err := s.q.GrantGetForUpdate(ctx, tx, dbsqlc.GrantGetForUpdateParams{TenantID: tx.TenantID(), UserID: userID, CustomerID: customerID})
	if errors.Is(err, pgx.ErrNoRows) {
		return Grant{}, ErrNotFound
	}
	if err != nil {
		return Grant{}, fmt.Errorf("lock grant: %w", err)
	}
	if _, err := s.q.GrantDelete(ctx, tx, dbsqlc.GrantDeleteParams{TenantID: tx.TenantID(), UserID: userID, CustomerID: customerID}); err != nil {
		return Grant{}, fmt.Errorf("delete grant: %w", err)
	}
	if err := customer.RefreshReach(ctx, tx, customerID); err != nil {
		return Grant{}, err
	}
	g := Grant{CustomerGrant: row.CustomerGrant, CustomerCode: row.CustomerCode, CustomerName: row.CustomerName}
	err = audit.Record(ctx, tx, audit.Event{Entity: audit.EntityGrant, EntityID: userID, CustomerID: &g.CustomerID,
		Action: audit.ActionDelete, Before: toGrantResponse(g)})
	if err != nil {
		return Grant{}, err
	}
	return g, nil
}

// checkManage is auth's CheckManage with the package's own not-found error.
func (s *Service) checkManage(ctx context.Context, tx database.Tx, actor *tenant.Principal, userID uuid.UUID) error {
	err := s.auth.CheckManage(ctx, tx, actor, userID, "customer_id")
	if errors.Is(err, auth.ErrUserNotFound) {
		return ErrUserNotFound
	}
	return err
}
