package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
)

// Service computes the reports inside the caller's tenant transaction.
type Service struct {
	q      *dbsqlc.Queries
	logger *slog.Logger
	now    func() time.Time
}

// NewService returns a Service.
func NewService(logger *slog.Logger) *Service {
	return &Service{q: dbsqlc.New(), logger: logger, now: time.Now}
}

// Today is the current date in UTC, the default as-of date.
func (s *Service) Today() time.Time {
	y, m, d := s.now().UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// checkCategory reports ErrCategoryNotFound unless the tenant has the
// category. A category exists for every caller of the tenant, whatever
// they see, so telling it apart from a missing one leaks nothing.
func (s *Service) checkCategory(ctx context.Context, tx database.Tx, key string) error {
	_, err := s.q.GroupCategoryGetByKey(ctx, tx, dbsqlc.GroupCategoryGetByKeyParams{TenantID: tx.TenantID(), Key: key})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrCategoryNotFound
	}
	if err != nil {
		return fmt.Errorf("get group category: %w", err)
	}
	return nil
}

// Receivables returns the aging as of q.AsOf: up to q.Limit customer rows
// after q.After, the per-group rows when q.Category is set, and the
// per-currency totals. Callers ask for one row more than they show to
// learn whether another page follows.
func (s *Service) Receivables(ctx context.Context, tx database.Tx, q ReceivablesQuery) (Receivables, error) {
	if q.Category != nil {
		if err := s.checkCategory(ctx, tx, *q.Category); err != nil {
			return Receivables{}, err
		}
	}
	p := dbsqlc.ReceivablesByCustomerParams{TenantID: tx.TenantID(), AsOf: q.AsOf, RowLimit: q.Limit}
	if q.After != nil {
		p.AfterName, p.AfterID, p.AfterCurrency = &q.After.Name, &q.After.CustomerID, &q.After.Currency
	}
	rows, err := s.q.ReceivablesByCustomer(ctx, tx, p)
	if err != nil {
		return Receivables{}, fmt.Errorf("receivables by customer: %w", err)
	}
	out := Receivables{Customers: make([]CustomerAging, 0, len(rows))}
	for _, r := range rows {
		out.Customers = append(out.Customers, CustomerAging{CustomerID: r.ID, Code: r.Code, Name: r.Name, Currency: r.Currency,
			Aging: Aging{Current: r.Current, Days1To30: r.Days130, Days31To60: r.Days3160, Days61To90: r.Days6190,
				Days90Plus: r.Days90Plus, UnappliedCredit: r.UnappliedCredit}})
	}

	// Without a category every customer falls in the no-group row, one
	// per currency: the same query then yields the totals.
	grows, err := s.q.ReceivablesByGroup(ctx, tx, dbsqlc.ReceivablesByGroupParams{TenantID: tx.TenantID(), AsOf: q.AsOf, Category: q.Category})
	if err != nil {
		return Receivables{}, fmt.Errorf("receivables by group: %w", err)
	}
	groups := make([]GroupAging, 0, len(grows))
	for _, r := range grows {
		groups = append(groups, GroupAging{Group: groupRef(r.GroupID, r.GroupCode, r.GroupName), Currency: r.Currency,
			CustomerCount: r.CustomerCount,
			Aging: Aging{Current: r.Current, Days1To30: r.Days130, Days31To60: r.Days3160, Days61To90: r.Days6190,
				Days90Plus: r.Days90Plus, UnappliedCredit: r.UnappliedCredit}})
	}
	out.Totals = totalsOf(groups)
	if q.Category != nil {
		out.Groups = groups
	}
	return out, nil
}

// SalesByGroup returns the orders (not cancelled) per group of q.Category
// and currency, largest total first.
func (s *Service) SalesByGroup(ctx context.Context, tx database.Tx, q SalesQuery) ([]GroupSales, error) {
	if err := s.checkCategory(ctx, tx, q.Category); err != nil {
		return nil, err
	}
	rows, err := s.q.SalesByGroup(ctx, tx, dbsqlc.SalesByGroupParams{TenantID: tx.TenantID(), Category: q.Category,
		DateFrom: q.From, DateTo: q.To})
	if err != nil {
		return nil, fmt.Errorf("sales by group: %w", err)
	}
	out := make([]GroupSales, 0, len(rows))
	for _, r := range rows {
		out = append(out, GroupSales{Group: groupRef(r.GroupID, r.GroupCode, r.GroupName), Currency: r.Currency,
			OrderCount: r.OrderCount, Total: r.Total, CustomerCount: r.CustomerCount})
	}
	return out, nil
}

func groupRef(id *uuid.UUID, code, name *string) *GroupRef {
	if id == nil || code == nil || name == nil {
		return nil
	}
	return &GroupRef{ID: *id, Code: *code, Name: *name}
}
