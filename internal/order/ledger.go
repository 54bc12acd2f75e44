package order

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
)

// LedgerCursor is the position after the last ledger entry of a page.
type LedgerCursor struct {
	Date    time.Time `json:"d"`
	Created time.Time `json:"c"`
	ID      uuid.UUID `json:"i"`
}

// Ledger returns a page of a visible customer's orders and payments in
// date order, each with the balance after it.
func (s *Service) Ledger(ctx context.Context, tx database.Tx, customerID uuid.UUID, from, to *time.Time, after *LedgerCursor, limit int32) ([]dbsqlc.LedgerRow, string, error) {
	if err := s.CustomerVisible(ctx, tx, customerID); err != nil {
		return nil, "", err
	}
	d, err := s.customers.Get(ctx, tx, customerID)
	if err != nil {
		return nil, "", err
	}
	env, err := s.customers.Env(ctx, tx)
	if err != nil {
		return nil, "", err
	}
	currency := *customer.ResolveEffective(d.Customer, d.Groups, env.Settings).Currency.Value
	p := dbsqlc.LedgerParams{TenantID: tx.TenantID(), CustomerID: customerID, DateFrom: from, DateTo: to, RowLimit: limit}
	if after != nil {
		p.AfterDate, p.AfterCreated, p.AfterID = &after.Date, &after.Created, &after.ID
	}
	rows, err := s.q.Ledger(ctx, tx, p)
	if err != nil {
		return nil, "", fmt.Errorf("ledger: %w", err)
	}
	return rows, currency, nil
}

// RefreshOverdue recomputes the overdue amounts of a tenant's customers
// whose unpaid orders came due since they were last written (periodic job).
func (s *Service) RefreshOverdue(ctx context.Context, tx database.Tx) (int64, error) {
	n, err := s.q.CustomerOverdueRefresh(ctx, tx, tx.TenantID())
	if err != nil {
		return 0, fmt.Errorf("refresh overdue amounts: %w", err)
	}
	return n, nil
}
