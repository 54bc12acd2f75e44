package importer

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/pricing"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/xlsx"
)

// PriceColumns is the column table of kind customer_prices: a customer's
// own price for an item, the customer by code and the item by SKU.
func PriceColumns() []Column {
	return []Column{
		{Header: "customer_code", Field: "customer_code", Kind: KindText, Required: true, Common: true,
			Aliases: []string{"customer", "customer code", "code", "account", "customer no", "customer number"}},
		{Header: "sku", Field: "sku", Kind: KindText, Required: true, Common: true,
			Aliases: []string{"item", "item code", "item sku", "product", "product code", "article"}},
		{Header: "price", Field: "price", Kind: KindDecimal, Required: true, Common: true,
			Aliases: []string{"unit price", "customer price", "special price", "amount"}},
	}
}

// priceRow is a parsed row of a prices import.
type priceRow struct {
	code, sku  string
	price      decimal.Decimal
	customerID uuid.UUID
	itemID     uuid.UUID
	reach      []uuid.UUID
}

type priceTable struct {
	mode string
	cols []Column
	idx  []int // column of each header cell, -1 when unknown
	loc  locale
}

func matchPrices(ctx context.Context, tx database.Tx, s *Service, _ *tenant.Principal, p Params, headers []string) (*matched, error) {
	env, err := s.customers.Env(ctx, tx)
	if err != nil {
		return nil, err
	}
	cols := PriceColumns()
	idx, unknown, err := matchHeaders(cols, headers, p.Mapping)
	if err != nil {
		return nil, err
	}
	if err := requireColumns(cols, idx, func(c Column) bool { return c.Required }); err != nil {
		return nil, err
	}
	return &matched{table: &priceTable{mode: p.Mode, cols: cols, idx: idx, loc: localeOf(env.Settings.DefaultCountry)}, unknown: unknown}, nil
}

func (t *priceTable) parse(num int, cells []xlsx.Cell) *row {
	r := &row{num: num}
	pr := &priceRow{}
	r.val = pr
	for i, c := range cells {
		if i >= len(t.idx) || t.idx[i] < 0 {
			continue
		}
		col := t.cols[t.idx[i]]
		v, ok := readCell(r, col.Header, c, col.Kind, t.loc)
		if !ok {
			continue
		}
		switch col.Header {
		case "customer_code":
			pr.code, _ = v.(string)
		case "sku":
			pr.sku, _ = v.(string)
		case "price":
			if d, ok := v.(decimal.Decimal); ok {
				pr.price = d
			} else {
				r.fail("price", "", "required", "must not be empty")
			}
		}
	}
	if pr.code == "" && !r.failed("customer_code") {
		r.fail("customer_code", "", "required", "must not be empty")
	}
	if pr.sku == "" && !r.failed("sku") {
		r.fail("sku", "", "required", "must not be empty")
	}
	if !r.failed("price") {
		switch {
		case pr.price.IsNegative():
			r.fail("price", pr.price.String(), "out_of_range", "must not be negative")
		case pr.price.Exponent() < -4 && !pr.price.Equal(pr.price.Round(4)):
			r.fail("price", pr.price.String(), "too_precise", "must have at most 4 decimals")
		case pr.price.GreaterThanOrEqual(decimal.New(1, 15)):
			r.fail("price", pr.price.String(), "out_of_range", "is too large")
		}
	}
	if pr.code != "" && pr.sku != "" {
		// A customer has one price per item.
		r.keys = []rowKey{{column: "customer_code, sku", value: pr.code + " / " + pr.sku}}
	}
	return r
}

// failed reports whether the row has an error about column.
func (r *row) failed(column string) bool {
	for _, e := range r.errs {
		if e.Column == column {
			return true
		}
	}
	return false
}

// stagePrices is the staging table of a batch of prices (dropped at the
// batch's commit).
const stagePrices = `CREATE TEMP TABLE import_stage_prices (
	customer_id uuid NOT NULL, item_id uuid NOT NULL, price numeric(19, 4) NOT NULL, reach uuid[] NOT NULL) ON COMMIT DROP`

// movePrices writes the staged prices: one statement for the batch. ON
// CONFLICT makes it an upsert, and is what Citus needs to run an INSERT ...
// SELECT from a temporary table into a table under row-level security.
const movePrices = `INSERT INTO customer_prices (tenant_id, customer_id, item_id, price, reach)
	SELECT $1::uuid, customer_id, item_id, price, reach FROM import_stage_prices
	ON CONFLICT ON CONSTRAINT customer_prices_pkey DO UPDATE
	SET price = excluded.price, reach = excluded.reach, updated_at = excluded.updated_at`

func (t *priceTable) apply(ctx context.Context, tx database.Tx, _ *tenant.Principal, rows []*row, write bool, _ *Summary) error {
	q := dbsqlc.New()
	var codes, skus []string
	for _, r := range rows {
		pr := r.val.(*priceRow)
		codes = append(codes, pr.code)
		skus = append(skus, pr.sku)
	}
	custs, err := q.ImportCustomersByCode(ctx, tx, dbsqlc.ImportCustomersByCodeParams{TenantID: tx.TenantID(), Codes: codes})
	if err != nil {
		return fmt.Errorf("find customers: %w", err)
	}
	byCode := make(map[string]dbsqlc.ImportCustomersByCodeRow, len(custs))
	for _, c := range custs {
		byCode[c.Code] = c
	}
	items, err := q.ImportItemsBySKU(ctx, tx, dbsqlc.ImportItemsBySKUParams{TenantID: tx.TenantID(), Skus: skus})
	if err != nil {
		return fmt.Errorf("find items: %w", err)
	}
	bySKU := make(map[string]uuid.UUID, len(items))
	for _, it := range items {
		bySKU[it.Sku] = it.ID
	}
	var custIDs, itemIDs []uuid.UUID
	for _, r := range rows {
		pr := r.val.(*priceRow)
		c, ok := byCode[pr.code]
		if !ok {
			r.fail("customer_code", pr.code, "not_found", "no customer you can see has this code")
		}
		item, iok := bySKU[pr.sku]
		if !iok {
			r.fail("sku", pr.sku, "not_found", "no item has this SKU")
		}
		if ok && iok {
			pr.customerID, pr.reach, pr.itemID = c.ID, c.Reach, item
			custIDs = append(custIDs, c.ID)
			itemIDs = append(itemIDs, item)
		}
	}
	cur, err := q.ImportCustomerPrices(ctx, tx, dbsqlc.ImportCustomerPricesParams{TenantID: tx.TenantID(), CustomerIds: custIDs, ItemIds: itemIDs})
	if err != nil {
		return fmt.Errorf("read customer prices: %w", err)
	}
	type pair struct{ c, i uuid.UUID }
	have := make(map[pair]decimal.Decimal, len(cur))
	for _, c := range cur {
		have[pair{c.CustomerID, c.ItemID}] = c.Price
	}
	var stage [][]any
	events := map[string]*priceEvents{audit.ActionCreate: {}, audit.ActionUpdate: {}}
	for _, r := range rows {
		if len(r.errs) > 0 {
			continue
		}
		pr := r.val.(*priceRow)
		before, ok := have[pair{pr.customerID, pr.itemID}]
		switch {
		case ok && t.mode == ModeCreate:
			r.fail("sku", pr.sku, "already_exists", "the customer already has its own price for this item (import in upsert or update mode to change it)")
			continue
		case !ok && t.mode == ModeUpdate:
			r.fail("sku", pr.sku, "not_found", "the customer has no price of its own for this item to update")
			continue
		case ok && before.Equal(pr.price):
			r.outcome = outcomeUnchanged
			continue
		case ok:
			r.outcome = outcomeUpdated
		default:
			r.outcome = outcomeCreated
		}
		var from any
		if ok {
			from = before.String()
		}
		stage = append(stage, []any{pr.customerID, pr.itemID, pr.price, pr.reach})
		ev := events[audit.ActionUpdate]
		if !ok {
			ev = events[audit.ActionCreate]
		}
		ev.items = append(ev.items, pr.itemID)
		ev.customers = append(ev.customers, pr.customerID)
		ev.changes = append(ev.changes, map[string]audit.Change{"sku": {From: nil, To: pr.sku}, "price": {From: from, To: pr.price.String()}})
	}
	if !write || len(stage) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, stagePrices); err != nil {
		return fmt.Errorf("create staging table: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_stage_prices"}, []string{"customer_id", "item_id", "price", "reach"},
		pgx.CopyFromRows(stage)); err != nil {
		return fmt.Errorf("stage prices: %w", err)
	}
	if _, err := tx.Exec(ctx, movePrices, tx.TenantID()); err != nil {
		return fmt.Errorf("write prices: %w", err)
	}
	// One audit event per price set, as PUT .../prices/{sku} records.
	for _, action := range []string{audit.ActionCreate, audit.ActionUpdate} {
		ev := events[action]
		if err := audit.RecordMany(ctx, tx, pricing.EntityPrice, action, ev.items, ev.customers, ev.changes); err != nil {
			return err
		}
	}
	return nil
}

// priceEvents are the audit events of one action.
type priceEvents struct {
	items, customers []uuid.UUID
	changes          []map[string]audit.Change
}
