package pricing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/group"
	"github.com/customerhub/customerhub/internal/precondition"
	"github.com/customerhub/customerhub/internal/settings"
)

// Service implements the package's operations inside the caller's tenant
// transaction.
type Service struct {
	q         *dbsqlc.Queries
	logger    *slog.Logger
	customers *customer.Service
	settings  *settings.Service
}

// NewService returns a Service. It builds the customer and settings
// services it reads customers and the tenant's currency through: they hold
// nothing but a query set and the logger, so its own copies behave exactly
// like the ones the server wires.
func NewService(logger *slog.Logger) *Service {
	st := settings.NewService(logger)
	return &Service{q: dbsqlc.New(), logger: logger, settings: st,
		customers: customer.NewService(logger, group.NewService(logger), st)}
}

// Cursor is the position after the last row of a page ordered by code.
type Cursor struct {
	Code string    `json:"c"`
	ID   uuid.UUID `json:"i"`
}

// ---- payment terms ----------------------------------------------------------

// PaymentTermsCreate adds payment terms and records the audit event.
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
	if err := audit.Record(ctx, tx, audit.Event{Entity: EntityPaymentTerms, EntityID: pt.ID, Action: audit.ActionCreate, After: toPaymentTermsResponse(pt)}); err != nil {
		return dbsqlc.PaymentTerm{}, err
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

// PaymentTermsUpdate applies a patch when want matches the stored version,
// records the change against the row as it locked it, and returns the
// terms after.
func (s *Service) PaymentTermsUpdate(ctx context.Context, tx database.Tx, id uuid.UUID, want precondition.IfMatch, p PaymentTermsPatch) (dbsqlc.PaymentTerm, error) {
	cur, err := s.q.PaymentTermsGetByIDForUpdate(ctx, tx, dbsqlc.PaymentTermsGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.PaymentTerm{}, ErrPaymentTermsNotFound
	}
	if err != nil {
		return dbsqlc.PaymentTerm{}, fmt.Errorf("lock payment terms: %w", err)
	}
	if !want.Matches(cur.Version) {
		return dbsqlc.PaymentTerm{}, ErrVersionMismatch
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
		return dbsqlc.PaymentTerm{}, ErrCodeTaken
	}
	if err != nil {
		return dbsqlc.PaymentTerm{}, fmt.Errorf("update payment terms: %w", err)
	}
	err = audit.Record(ctx, tx, audit.Event{Entity: EntityPaymentTerms, EntityID: id, Action: audit.ActionUpdate,
		Before: toPaymentTermsResponse(cur), After: toPaymentTermsResponse(pt)})
	if err != nil {
		return dbsqlc.PaymentTerm{}, err
	}
	return pt, nil
}

// PaymentTermsDelete removes payment terms nothing refers to, records the
// audit event and returns them as they were; ErrPaymentTermsInUse while a customer, a group or the
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
	return cur, audit.Record(ctx, tx, audit.Event{Entity: EntityPaymentTerms, EntityID: id, Action: audit.ActionDelete, Before: toPaymentTermsResponse(cur)})
}

// ---- price lists ------------------------------------------------------------

// PriceListCreate adds a price list and records the audit event.
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
	if err := audit.Record(ctx, tx, audit.Event{Entity: EntityPriceList, EntityID: pl.ID, Action: audit.ActionCreate, After: toPriceListResponse(pl)}); err != nil {
		return dbsqlc.PriceList{}, err
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

// PriceListUpdate applies a patch when want matches the stored version and
// returns the list before and after. The currency may change only while
// the list holds no item prices (ErrPriceListHasPrices): they are amounts
// in the old currency. The lock taken here makes a concurrent price write
// (whose foreign key check locks the list's row) wait, or be seen.
func (s *Service) PriceListUpdate(ctx context.Context, tx database.Tx, id uuid.UUID, want precondition.IfMatch, p PriceListPatch) (dbsqlc.PriceList, error) {
	cur, err := s.q.PriceListGetByIDForUpdate(ctx, tx, dbsqlc.PriceListGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.PriceList{}, ErrPriceListNotFound
	}
	if err != nil {
		return dbsqlc.PriceList{}, fmt.Errorf("lock price list: %w", err)
	}
	if !want.Matches(cur.Version) {
		return dbsqlc.PriceList{}, ErrVersionMismatch
	}
	next := dbsqlc.PriceListUpdateParams{TenantID: tx.TenantID(), ID: id, Code: cur.Code, Name: cur.Name, Currency: cur.Currency}
	if p.Code != nil {
		next.Code = *p.Code
	}
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.Currency != nil && *p.Currency != cur.Currency {
		has, err := s.q.PriceListItemExists(ctx, tx, dbsqlc.PriceListItemExistsParams{TenantID: tx.TenantID(), PriceListID: id})
		if err != nil {
			return dbsqlc.PriceList{}, fmt.Errorf("check price list items: %w", err)
		}
		if has {
			return dbsqlc.PriceList{}, ErrPriceListHasPrices
		}
		next.Currency = *p.Currency
	}
	pl, err := s.q.PriceListUpdate(ctx, tx, next)
	if database.IsUniqueViolation(err, "price_lists_code_key") {
		return dbsqlc.PriceList{}, ErrCodeTaken
	}
	if err != nil {
		return dbsqlc.PriceList{}, fmt.Errorf("update price list: %w", err)
	}
	err = audit.Record(ctx, tx, audit.Event{Entity: EntityPriceList, EntityID: id, Action: audit.ActionUpdate,
		Before: toPriceListResponse(cur), After: toPriceListResponse(pl)})
	if err != nil {
		return dbsqlc.PriceList{}, err
	}
	return pl, nil
}

// PriceListDelete removes a price list nothing refers to, records the
// audit event and returns it as it was; ErrPriceListInUse while a customer or a group refers to it.
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
	return cur, audit.Record(ctx, tx, audit.Event{Entity: EntityPriceList, EntityID: id, Action: audit.ActionDelete, Before: toPriceListResponse(cur)})
}

// ---- items ------------------------------------------------------------------

// ItemCursor is the position after the last row of a page ordered by SKU.
type ItemCursor struct {
	SKU string    `json:"s"`
	ID  uuid.UUID `json:"i"`
}

// TenantCurrency returns the tenant's default currency: the currency of
// items' base prices.
func (s *Service) TenantCurrency(ctx context.Context, tx database.Tx) (string, error) {
	st, err := s.settings.Get(ctx, tx)
	if err != nil {
		return "", err
	}
	return st.DefaultCurrency, nil
}

// ItemCreate adds an item and records the audit event. It returns the item
// and the currency of its base price (the tenant's default currency).
func (s *Service) ItemCreate(ctx context.Context, tx database.Tx, in ItemInput) (it dbsqlc.Item, currency string, err error) {
	it, err = s.q.ItemInsert(ctx, tx, dbsqlc.ItemInsertParams{
		TenantID: tx.TenantID(), ID: uuid.New(), Sku: in.SKU, Name: in.Name, BasePrice: in.BasePrice.Decimal,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.Item{}, "", ErrSKUTaken
	}
	if err != nil {
		return dbsqlc.Item{}, "", fmt.Errorf("insert item: %w", err)
	}
	if currency, err = s.TenantCurrency(ctx, tx); err != nil {
		return dbsqlc.Item{}, "", err
	}
	err = audit.Record(ctx, tx, audit.Event{Entity: EntityItem, EntityID: it.ID, Action: audit.ActionCreate, After: toItemResponse(it, currency)})
	if err != nil {
		return dbsqlc.Item{}, "", err
	}
	return it, currency, nil
}

// ItemGet returns an item of the tenant, or ErrItemNotFound.
func (s *Service) ItemGet(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.Item, error) {
	it, err := s.q.ItemGetByID(ctx, tx, dbsqlc.ItemGetByIDParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.Item{}, ErrItemNotFound
	}
	if err != nil {
		return dbsqlc.Item{}, fmt.Errorf("get item: %w", err)
	}
	return it, nil
}

// itemBySKU returns an item, active or not, by SKU, or ErrItemNotFound.
func (s *Service) itemBySKU(ctx context.Context, tx database.Tx, sku string) (dbsqlc.Item, error) {
	if !ValidSKU(sku) {
		return dbsqlc.Item{}, ErrItemNotFound
	}
	it, err := s.q.ItemGetBySKU(ctx, tx, dbsqlc.ItemGetBySKUParams{TenantID: tx.TenantID(), Sku: sku})
	if errors.Is(err, pgx.ErrNoRows) {
		return dbsqlc.Item{}, ErrItemNotFound
	}
	if err != nil {
		return dbsqlc.Item{}, fmt.Errorf("get item by sku: %w", err)
	}
	return it, nil
}

// ItemList returns up to p.Limit items after the cursor, by SKU.
func (s *Service) ItemList(ctx context.Context, tx database.Tx, p ItemListParams) ([]dbsqlc.Item, error) {
	params := dbsqlc.ItemListParams{TenantID: tx.TenantID(), Active: p.Active, RowLimit: p.Limit}
	if p.Q != nil {
		pattern := "%" + escapeLike(*p.Q) + "%"
		params.Pattern = &pattern
	}
	if p.After != nil {
		params.AfterSku, params.AfterID = &p.After.SKU, &p.After.ID
	}
	rows, err := s.q.ItemList(ctx, tx, params)
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	return rows, nil
}

// escapeLike makes user text match literally inside a LIKE pattern.
func escapeLike(v string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(v)
}

// ItemUpdate applies a patch when want matches the stored version, records
// the change against the row as it locked it, and returns the item after
// and the currency of its base price. A patch that changes nothing leaves
// the item (and its version) as it is.
func (s *Service) ItemUpdate(ctx context.Context, tx database.Tx, id uuid.UUID, want precondition.IfMatch, p ItemPatch) (dbsqlc.Item, string, error) {
	cur, after, err := s.itemUpdate(ctx, tx, id, want, p)
	if err != nil {
		return dbsqlc.Item{}, "", err
	}
	currency, err := s.TenantCurrency(ctx, tx)
	if err != nil {
		return dbsqlc.Item{}, "", err
	}
	err = audit.Record(ctx, tx, audit.Event{Entity: EntityItem, EntityID: id, Action: audit.ActionUpdate,
		Before: toItemResponse(cur, currency), After: toItemResponse(after, currency)})
	if err != nil {
		return dbsqlc.Item{}, "", err
	}
	return after, currency, nil
}

func (s *Service) itemUpdate(ctx context.Context, tx database.Tx, id uuid.UUID, want precondition.IfMatch, p ItemPatch) (before, after dbsqlc.Item, err error) {
	cur, err := s.q.ItemGetByIDForUpdate(ctx, tx, dbsqlc.ItemGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return cur, cur, ErrItemNotFound
	}
	if err != nil {
		return cur, cur, fmt.Errorf("lock item: %w", err)
	}
	if !want.Matches(cur.Version) {
		return cur, cur, ErrVersionMismatch
	}
	next := dbsqlc.ItemUpdateParams{TenantID: tx.TenantID(), ID: id, Sku: cur.Sku, Name: cur.Name, BasePrice: cur.BasePrice, Active: cur.Active}
	if p.SKU != nil {
		next.Sku = *p.SKU
	}
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.BasePrice != nil {
		next.BasePrice = p.BasePrice.Decimal
	}
	if p.Active != nil {
		next.Active = *p.Active
	}
	if next.Sku == cur.Sku && next.Name == cur.Name && next.BasePrice.Equal(cur.BasePrice) && next.Active == cur.Active {
		return cur, cur, nil
	}
	it, err := s.q.ItemUpdate(ctx, tx, next)
	if database.IsUniqueViolation(err, "items_sku_key") {
		return cur, cur, ErrSKUTaken
	}
	if err != nil {
		return cur, cur, fmt.Errorf("update item: %w", err)
	}
	return cur, it, nil
}

// ItemDelete removes an item no order line uses, with its prices, records
// the audit event and returns it as it was; ErrItemInUse while an order line uses it (retire it
// with active=false instead).
func (s *Service) ItemDelete(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.Item, error) {
	cur, err := s.q.ItemGetByIDForUpdate(ctx, tx, dbsqlc.ItemGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return cur, ErrItemNotFound
	}
	if err != nil {
		return cur, fmt.Errorf("lock item: %w", err)
	}
	// The foreign key decides: it also sees lines of orders the caller's
	// visibility hides and lines written concurrently.
	if _, err := s.q.ItemDelete(ctx, tx, dbsqlc.ItemDeleteParams{TenantID: tx.TenantID(), ID: id}); err != nil {
		if database.IsForeignKeyViolation(err, "sales_order_lines_item_fkey") {
			return cur, ErrItemInUse
		}
		return cur, fmt.Errorf("delete item: %w", err)
	}
	currency, err := s.TenantCurrency(ctx, tx)
	if err != nil {
		return cur, err
	}
	return cur, audit.Record(ctx, tx, audit.Event{Entity: EntityItem, EntityID: id, Action: audit.ActionDelete, Before: toItemResponse(cur, currency)})
}

// ---- item prices ------------------------------------------------------------

// ItemPrice is an item's price in a price list (PriceListID set) or for a
// customer (CustomerID set), in Currency.
type ItemPrice struct {
	PriceListID *uuid.UUID
	CustomerID  *uuid.UUID
	ItemID      uuid.UUID
	SKU, Name   string
	Price       decimal.Decimal
	Currency    string
	UpdatedAt   time.Time
}

// lockPriceList reads a price list, holding a share lock so that its
// currency cannot change until the transaction ends (PriceListUpdate
// waits).
func (s *Service) lockPriceList(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.PriceList, error) {
	pl, err := s.q.PriceListItemLockList(ctx, tx, dbsqlc.PriceListItemLockListParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return pl, ErrPriceListNotFound
	}
	if err != nil {
		return pl, fmt.Errorf("lock price list: %w", err)
	}
	return pl, nil
}

// PriceListItemSet sets an item's price in a price list, in the list's
// currency, records the audit event (a create when the price is new) and
// returns the price after and whether it is new. ErrPriceListNotFound or
// ErrItemNotFound, checked in that order.
func (s *Service) PriceListItemSet(ctx context.Context, tx database.Tx, listID uuid.UUID, sku string, price decimal.Decimal) (after ItemPrice, created bool, err error) {
	before, after, err := s.priceListItemSet(ctx, tx, listID, sku, price)
	if err != nil {
		return ItemPrice{}, false, err
	}
	var old any
	if before != nil {
		old = toListPriceResponse(*before)
	}
	if err := recordPrice(ctx, tx, after.ItemID, nil, old, toListPriceResponse(after)); err != nil {
		return ItemPrice{}, false, err
	}
	return after, before == nil, nil
}

// recordPrice audits a price write: a create when there was no price, an
// update otherwise (nothing when the price did not change). customerID is
// the customer of a customer's own price, nil for a price list's.
func recordPrice(ctx context.Context, tx database.Tx, itemID uuid.UUID, customerID *uuid.UUID, before, after any) error {
	action := audit.ActionUpdate
	if before == nil {
		action = audit.ActionCreate
	}
	return audit.Record(ctx, tx, audit.Event{Entity: EntityPrice, EntityID: itemID, CustomerID: customerID, Action: action, Before: before, After: after})
}

func (s *Service) priceListItemSet(ctx context.Context, tx database.Tx, listID uuid.UUID, sku string, price decimal.Decimal) (before *ItemPrice, after ItemPrice, err error) {
	pl, err := s.lockPriceList(ctx, tx, listID)
	if err != nil {
		return nil, after, err
	}
	it, err := s.itemBySKU(ctx, tx, sku)
	if err != nil {
		return nil, after, err
	}
	cur, err := s.q.PriceListItemGetForUpdate(ctx, tx, dbsqlc.PriceListItemGetForUpdateParams{TenantID: tx.TenantID(), PriceListID: listID, ItemID: it.ID})
	switch {
	case err == nil:
		b := listPrice(pl, it, cur)
		before = &b
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, after, fmt.Errorf("lock price list item: %w", err)
	}
	row, err := s.q.PriceListItemUpsert(ctx, tx, dbsqlc.PriceListItemUpsertParams{TenantID: tx.TenantID(), PriceListID: listID, ItemID: it.ID, Price: price})
	if err != nil {
		return nil, after, fmt.Errorf("set price list item: %w", err)
	}
	return before, listPrice(pl, it, row), nil
}

func listPrice(pl dbsqlc.PriceList, it dbsqlc.Item, row dbsqlc.PriceListItem) ItemPrice {
	id := pl.ID
	return ItemPrice{PriceListID: &id, ItemID: it.ID, SKU: it.Sku, Name: it.Name, Price: row.Price, Currency: pl.Currency, UpdatedAt: row.UpdatedAt}
}

// PriceListItemList returns up to limit item prices of a list after the
// cursor, by SKU; ErrPriceListNotFound for an unknown list.
func (s *Service) PriceListItemList(ctx context.Context, tx database.Tx, listID uuid.UUID, after *ItemCursor, limit int32) ([]ItemPrice, error) {
	pl, err := s.PriceListGet(ctx, tx, listID)
	if err != nil {
		return nil, err
	}
	p := dbsqlc.PriceListItemListParams{TenantID: tx.TenantID(), PriceListID: listID, RowLimit: limit}
	if after != nil {
		p.AfterSku, p.AfterID = &after.SKU, &after.ID
	}
	rows, err := s.q.PriceListItemList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list price list items: %w", err)
	}
	out := make([]ItemPrice, 0, len(rows))
	for _, r := range rows {
		id := r.PriceListID
		out = append(out, ItemPrice{PriceListID: &id, ItemID: r.ItemID, SKU: r.Sku, Name: r.Name, Price: r.Price,
			Currency: pl.Currency, UpdatedAt: r.UpdatedAt})
	}
	return out, nil
}

// PriceListItemDelete removes an item's price from a list, records the
// audit event and returns the price as it was;
// ErrPriceListNotFound, ErrItemNotFound or ErrPriceNotFound.
func (s *Service) PriceListItemDelete(ctx context.Context, tx database.Tx, listID uuid.UUID, sku string) (ItemPrice, error) {
	pl, err := s.PriceListGet(ctx, tx, listID)
	if err != nil {
		return ItemPrice{}, err
	}
	it, err := s.itemBySKU(ctx, tx, sku)
	if err != nil {
		return ItemPrice{}, err
	}
	row, err := s.q.PriceListItemDelete(ctx, tx, dbsqlc.PriceListItemDeleteParams{TenantID: tx.TenantID(), PriceListID: listID, ItemID: it.ID})
	if errors.Is(err, pgx.ErrNoRows) {
		return ItemPrice{}, ErrPriceNotFound
	}
	if err != nil {
		return ItemPrice{}, fmt.Errorf("delete price list item: %w", err)
	}
	before := listPrice(pl, it, row)
	err = audit.Record(ctx, tx, audit.Event{Entity: EntityPrice, EntityID: before.ItemID, Action: audit.ActionDelete,
		Before: toListPriceResponse(before)})
	if err != nil {
		return ItemPrice{}, err
	}
	return before, nil
}

// customer returns a customer the caller can see, with its Terms.
func (s *Service) customer(ctx context.Context, tx database.Tx, id uuid.UUID) (customer.Detail, settings.Env, Terms, error) {
	d, err := s.customers.Get(ctx, tx, id)
	if errors.Is(err, customer.ErrNotFound) {
		return d, settings.Env{}, Terms{}, ErrCustomerNotFound
	}
	if err != nil {
		return d, settings.Env{}, Terms{}, err
	}
	env, err := s.settings.Env(ctx, tx)
	if err != nil {
		return d, env, Terms{}, err
	}
	return d, env, TermsFor(d, env), nil
}

func customerPrice(t Terms, it dbsqlc.Item, row dbsqlc.CustomerPrice) ItemPrice {
	id := row.CustomerID
	return ItemPrice{CustomerID: &id, ItemID: it.ID, SKU: it.Sku, Name: it.Name, Price: row.Price, Currency: t.Currency, UpdatedAt: row.UpdatedAt}
}

// CustomerPriceSet sets a customer's own price for an item, in the
// customer's effective currency, records the audit event (a create when
// the price is new) and returns the price after and whether it is new.
// ErrCustomerNotFound (also for a customer the caller cannot see) or
// ErrItemNotFound, checked in that order.
func (s *Service) CustomerPriceSet(ctx context.Context, tx database.Tx, customerID uuid.UUID, sku string, price decimal.Decimal) (after ItemPrice, created bool, err error) {
	before, after, err := s.customerPriceSet(ctx, tx, customerID, sku, price)
	if err != nil {
		return ItemPrice{}, false, err
	}
	var old any
	if before != nil {
		old = toCustomerPriceResponse(*before)
	}
	if err := recordPrice(ctx, tx, after.ItemID, after.CustomerID, old, toCustomerPriceResponse(after)); err != nil {
		return ItemPrice{}, false, err
	}
	return after, before == nil, nil
}

func (s *Service) customerPriceSet(ctx context.Context, tx database.Tx, customerID uuid.UUID, sku string, price decimal.Decimal) (before *ItemPrice, after ItemPrice, err error) {
	_, _, t, err := s.customer(ctx, tx, customerID)
	if err != nil {
		return nil, after, err
	}
	it, err := s.itemBySKU(ctx, tx, sku)
	if err != nil {
		return nil, after, err
	}
	cur, err := s.q.CustomerPriceGetForUpdate(ctx, tx, dbsqlc.CustomerPriceGetForUpdateParams{TenantID: tx.TenantID(), CustomerID: customerID, ItemID: it.ID})
	switch {
	case err == nil:
		b := customerPrice(t, it, cur)
		before = &b
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, after, fmt.Errorf("lock customer price: %w", err)
	}
	reach, err := customer.ReachForShare(ctx, tx, customerID)
	if errors.Is(err, customer.ErrNotFound) {
		return nil, after, ErrCustomerNotFound
	}
	if err != nil {
		return nil, after, err
	}
	row, err := s.q.CustomerPriceUpsert(ctx, tx, dbsqlc.CustomerPriceUpsertParams{TenantID: tx.TenantID(), CustomerID: customerID, ItemID: it.ID, Price: price, Reach: reach})
	if err != nil {
		return nil, after, fmt.Errorf("set customer price: %w", err)
	}
	return before, customerPrice(t, it, row), nil
}

// CustomerPriceDelete removes a customer's own price for an item, records
// the audit event and returns the price as it was; ErrCustomerNotFound, ErrItemNotFound or ErrPriceNotFound.
func (s *Service) CustomerPriceDelete(ctx context.Context, tx database.Tx, customerID uuid.UUID, sku string) (ItemPrice, error) {
	_, _, t, err := s.customer(ctx, tx, customerID)
	if err != nil {
		return ItemPrice{}, err
	}
	it, err := s.itemBySKU(ctx, tx, sku)
	if err != nil {
		return ItemPrice{}, err
	}
	row, err := s.q.CustomerPriceDelete(ctx, tx, dbsqlc.CustomerPriceDeleteParams{TenantID: tx.TenantID(), CustomerID: customerID, ItemID: it.ID})
	if errors.Is(err, pgx.ErrNoRows) {
		return ItemPrice{}, ErrPriceNotFound
	}
	if err != nil {
		return ItemPrice{}, fmt.Errorf("delete customer price: %w", err)
	}
	before := customerPrice(t, it, row)
	err = audit.Record(ctx, tx, audit.Event{Entity: EntityPrice, EntityID: before.ItemID, CustomerID: before.CustomerID,
		Action: audit.ActionDelete, Before: toCustomerPriceResponse(before)})
	if err != nil {
		return ItemPrice{}, err
	}
	return before, nil
}

// ---- resolution -------------------------------------------------------------

// Quotes resolves prices for the SKUs (in the given order; duplicates
// allowed); an unknown or inactive SKU is an *UnknownSKUError{SKU}. One
// query gathers every candidate price of every SKU.
func (s *Service) Quotes(ctx context.Context, tx database.Tx, t Terms, skus []string) ([]Quote, error) {
	if len(skus) == 0 {
		return []Quote{}, nil
	}
	rows, err := s.q.ItemQuoteList(ctx, tx, dbsqlc.ItemQuoteListParams{
		TenantID: tx.TenantID(), CustomerID: t.CustomerID, OwnListID: t.PriceListID, GroupListID: t.GroupPriceListID, Skus: skus,
	})
	if err != nil {
		return nil, fmt.Errorf("gather item prices: %w", err)
	}
	bySKU := make(map[string]dbsqlc.ItemQuoteListRow, len(rows))
	for _, r := range rows {
		bySKU[r.Sku] = r
	}
	out := make([]Quote, 0, len(skus))
	for _, sku := range skus {
		r, ok := bySKU[sku]
		if !ok {
			return nil, &UnknownSKUError{SKU: sku}
		}
		ownOK := r.OwnListCurrency != nil && *r.OwnListCurrency == t.Currency
		groupOK := r.GroupListCurrency != nil && *r.GroupListCurrency == t.Currency
		list, source := Resolve(t, r.CustomerPrice, r.OwnListPrice, r.GroupListPrice, ownOK, groupOK, r.BasePrice)
		out = append(out, quote(t, r.ID, r.Sku, r.Name, list, source))
	}
	return out, nil
}

// CustomerQuotes is a customer's prices for some items, with what showing
// them needs.
type CustomerQuotes struct {
	Detail customer.Detail
	Terms  Terms
	Quotes []Quote
	// PriceLists holds the lists the quotes came from, by id.
	PriceLists map[uuid.UUID]dbsqlc.PriceList
}

// QuotesForCustomer resolves the prices of the SKUs for a customer the
// caller can see (ErrCustomerNotFound otherwise).
func (s *Service) QuotesForCustomer(ctx context.Context, tx database.Tx, customerID uuid.UUID, skus []string) (CustomerQuotes, error) {
	d, _, t, err := s.customer(ctx, tx, customerID)
	if err != nil {
		return CustomerQuotes{}, err
	}
	quotes, err := s.Quotes(ctx, tx, t, skus)
	if err != nil {
		return CustomerQuotes{}, err
	}
	out := CustomerQuotes{Detail: d, Terms: t, Quotes: quotes, PriceLists: map[uuid.UUID]dbsqlc.PriceList{}}
	for _, q := range quotes {
		if q.PriceListID == nil {
			continue
		}
		if _, ok := out.PriceLists[*q.PriceListID]; ok {
			continue
		}
		pl, err := s.PriceListGet(ctx, tx, *q.PriceListID)
		if err != nil {
			return CustomerQuotes{}, err
		}
		out.PriceLists[pl.ID] = pl
	}
	return out, nil
}
