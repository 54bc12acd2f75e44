package pricing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
)

// Service implements the package's operations inside the caller's tenant
// transaction.
type Service struct {
	q      *dbsqlc.Queries
	logger *slog.Logger
}

// NewService returns a Service.
func NewService(logger *slog.Logger) *Service {
	return &Service{q: dbsqlc.New(), logger: logger}
}

// Cursor is the position after the last row of a page ordered by code.
type Cursor struct {
	Code string    `json:"c"`
	ID   uuid.UUID `json:"i"`
}

// ---- payment terms ----------------------------------------------------------

// PaymentTermsCreate adds payment terms.
func (s *Service) PaymentTermsCreate(ctx context.Context, tx database.Tx, in PaymentTermsInput) (dbsqlc.PaymentTerm, error) {
	pt, err := s.q.PaymentTermsInsert(ctx, tx, dbsqlc.PaymentTermsInsertParams{
		TenantID: tx.TenantID(), ID: uuid.New(), Code: in.Code, Name: in.Name, DueDays: int32(in.DueDays),
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.PaymentTerm{}, ErrCodeTaken
	}
	if err != nil {
		return dbsqlc.PaymentTerm{}, fmt.Errorf("insert payment terms: %w", err)
	}
	return pt, nil
}

// PaymentTermsGet returns payment terms of the tenant, or
// ErrPaymentTermsNotFound.
func (s *Service) PaymentTermsGet(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.PaymentTerm, error) {
	pt, err := s.q.PaymentTermsGetByID(ctx, tx, dbsqlc.PaymentTermsGetByIDParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.PaymentTerm{}, ErrPaymentTermsNotFound
	}
	if err != nil {
		return dbsqlc.PaymentTerm{}, fmt.Errorf("get payment terms: %w", err)
	}
	return pt, nil
}

// PaymentTermsList returns up to limit payment terms after the cursor, by
// code.
func (s *Service) PaymentTermsList(ctx context.Context, tx database.Tx, after *Cursor, limit int32) ([]dbsqlc.PaymentTerm, error) {
	p := dbsqlc.PaymentTermsListParams{TenantID: tx.TenantID(), RowLimit: limit}
	if after != nil {
		p.AfterCode, p.AfterID = &after.Code, &after.ID
	}
	rows, err := s.q.PaymentTermsList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list payment terms: %w", err)
	}
	return rows, nil
}

// PaymentTermsUpdate applies a patch when version matches the stored one
// and returns the terms before and after.
func (s *Service) PaymentTermsUpdate(ctx context.Context, tx database.Tx, id uuid.UUID, version int64, p PaymentTermsPatch) (before, after dbsqlc.PaymentTerm, err error) {
	cur, err := s.q.PaymentTermsGetByIDForUpdate(ctx, tx, dbsqlc.PaymentTermsGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return cur, cur, ErrPaymentTermsNotFound
	}
	if err != nil {
		return cur, cur, fmt.Errorf("lock payment terms: %w", err)
	}
	if cur.Version != version {
		return cur, cur, ErrVersionMismatch
	}
	next := dbsqlc.PaymentTermsUpdateParams{TenantID: tx.TenantID(), ID: id, Code: cur.Code, Name: cur.Name, DueDays: cur.DueDays}
	if p.Code != nil {
		next.Code = *p.Code
	}
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.DueDays != nil {
		next.DueDays = int32(*p.DueDays)
	}
	pt, err := s.q.PaymentTermsUpdate(ctx, tx, next)
	if database.IsUniqueViolation(err, "payment_terms_code_key") {
		return cur, cur, ErrCodeTaken
	}
	if err != nil {
		return cur, cur, fmt.Errorf("update payment terms: %w", err)
	}
	return cur, pt, nil
}

// PaymentTermsDelete removes payment terms nothing refers to and returns
// them as they were; ErrPaymentTermsInUse while a customer, a group or the
// tenant settings refer to them.
func (s *Service) PaymentTermsDelete(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.PaymentTerm, error) {
	cur, err := s.q.PaymentTermsGetByIDForUpdate(ctx, tx, dbsqlc.PaymentTermsGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return cur, ErrPaymentTermsNotFound
	}
	if err != nil {
		return cur, fmt.Errorf("lock payment terms: %w", err)
	}
	// No pre-check by count: the foreign keys (customers, customer_groups,
	// tenant_settings, and whatever refers to terms later) are the one
	// complete list of references, and they also see rows the caller's
	// visibility hides and rows written concurrently.
	if _, err := s.q.PaymentTermsDelete(ctx, tx, dbsqlc.PaymentTermsDeleteParams{TenantID: tx.TenantID(), ID: id}); err != nil {
		if database.IsForeignKeyViolation(err, "") {
			return cur, ErrPaymentTermsInUse
		}
		return cur, fmt.Errorf("delete payment terms: %w", err)
	}
	return cur, nil
}

// ---- price lists ------------------------------------------------------------

// PriceListCreate adds a price list.
func (s *Service) PriceListCreate(ctx context.Context, tx database.Tx, in PriceListInput) (dbsqlc.PriceList, error) {
	pl, err := s.q.PriceListInsert(ctx, tx, dbsqlc.PriceListInsertParams{
		TenantID: tx.TenantID(), ID: uuid.New(), Code: in.Code, Name: in.Name, Currency: in.Currency,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.PriceList{}, ErrCodeTaken
	}
	if err != nil {
		return dbsqlc.PriceList{}, fmt.Errorf("insert price list: %w", err)
	}
	return pl, nil
}

// PriceListGet returns a price list of the tenant, or ErrPriceListNotFound.
func (s *Service) PriceListGet(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.PriceList, error) {
	pl, err := s.q.PriceListGetByID(ctx, tx, dbsqlc.PriceListGetByIDParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.PriceList{}, ErrPriceListNotFound
	}
	if err != nil {
		return dbsqlc.PriceList{}, fmt.Errorf("get price list: %w", err)
	}
	return pl, nil
}

// PriceListList returns up to limit price lists after the cursor, by code.
func (s *Service) PriceListList(ctx context.Context, tx database.Tx, after *Cursor, limit int32) ([]dbsqlc.PriceList, error) {
	p := dbsqlc.PriceListListParams{TenantID: tx.TenantID(), RowLimit: limit}
	if after != nil {
		p.AfterCode, p.AfterID = &after.Code, &after.ID
	}
	rows, err := s.q.PriceListList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list price lists: %w", err)
	}
	return rows, nil
}

// PriceListUpdate applies a patch when version matches the stored one and
// returns the list before and after. The currency may change while the list
// holds no item prices; item prices do not exist yet (issue 4), and when
// they do, this is where a change of currency must be refused.
func (s *Service) PriceListUpdate(ctx context.Context, tx database.Tx, id uuid.UUID, version int64, p PriceListPatch) (before, after dbsqlc.PriceList, err error) {
	cur, err := s.q.PriceListGetByIDForUpdate(ctx, tx, dbsqlc.PriceListGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return cur, cur, ErrPriceListNotFound
	}
	if err != nil {
		return cur, cur, fmt.Errorf("lock price list: %w", err)
	}
	if cur.Version != version {
		return cur, cur, ErrVersionMismatch
	}
	next := dbsqlc.PriceListUpdateParams{TenantID: tx.TenantID(), ID: id, Code: cur.Code, Name: cur.Name, Currency: cur.Currency}
	if p.Code != nil {
		next.Code = *p.Code
	}
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.Currency != nil {
		next.Currency = *p.Currency
	}
	pl, err := s.q.PriceListUpdate(ctx, tx, next)
	if database.IsUniqueViolation(err, "price_lists_code_key") {
		return cur, cur, ErrCodeTaken
	}
	if err != nil {
		return cur, cur, fmt.Errorf("update price list: %w", err)
	}
	return cur, pl, nil
}

// PriceListDelete removes a price list nothing refers to and returns it as
// it was; ErrPriceListInUse while a customer or a group refers to it.
func (s *Service) PriceListDelete(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.PriceList, error) {
	cur, err := s.q.PriceListGetByIDForUpdate(ctx, tx, dbsqlc.PriceListGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return cur, ErrPriceListNotFound
	}
	if err != nil {
		return cur, fmt.Errorf("lock price list: %w", err)
	}
	// The foreign keys decide, as for payment terms.
	if _, err := s.q.PriceListDelete(ctx, tx, dbsqlc.PriceListDeleteParams{TenantID: tx.TenantID(), ID: id}); err != nil {
		if database.IsForeignKeyViolation(err, "") {
			return cur, ErrPriceListInUse
		}
		return cur, fmt.Errorf("delete price list: %w", err)
	}
	return cur, nil
}
