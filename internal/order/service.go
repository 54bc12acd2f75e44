package order

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/precondition"
	"github.com/customerhub/customerhub/internal/pricing"
	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// Service implements orders and payments inside the caller's transaction.
type Service struct {
	q         *dbsqlc.Queries
	logger    *slog.Logger
	customers *customer.Service
	pricing   *pricing.Service
	// nowFunc is the clock for default order and payment dates.
	nowFunc func() time.Time
}

// NewService returns a Service.
func NewService(logger *slog.Logger, customers *customer.Service, prices *pricing.Service) *Service {
	return &Service{q: dbsqlc.New(), logger: logger, customers: customers, pricing: prices, nowFunc: time.Now}
}

// today is the current date in UTC.
func (s *Service) today() time.Time {
	n := s.nowFunc().UTC()
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

// LineInput is one line of an order as asked for. A nil UnitPrice is
// resolved from the customer's prices; a nil DiscountRate is the
// customer's effective discount.
type LineInput struct {
	SKU          string
	Quantity     money.Value
	UnitPrice    *money.Value
	DiscountRate *money.Value
}

// Input creates or replaces the editable part of an order.
type Input struct {
	CustomerID     uuid.UUID
	LocationID     *uuid.UUID
	OrderDate      *time.Time
	Notes          *string
	Lines          []LineInput
	OverrideCredit bool
}

// Validate checks the input's shape (not prices or credit).
func (in *Input) Validate() error {
	var errs validation.Errors
	if len(in.Lines) == 0 {
		errs.Add("lines", "required", "an order needs at least one line")
	}
	if len(in.Lines) > 500 {
		errs.Add("lines", "too_many", "at most 500 lines")
	}
	for i, l := range in.Lines {
		f := fmt.Sprintf("lines.%d.", i)
		in.Lines[i].SKU = errs.Text(f+"sku", l.SKU, 1, 64)
		checkDecimal(&errs, f+"quantity", &l.Quantity, decimal.New(1, -4), decimal.New(1, 9), 4)
		if l.UnitPrice != nil {
			checkDecimal(&errs, f+"unit_price", l.UnitPrice, decimal.Zero, decimal.New(1, 12), 4)
		}
		if l.DiscountRate != nil {
			checkDecimal(&errs, f+"discount_rate", l.DiscountRate, decimal.Zero, decimal.NewFromInt(100), 2)
		}
	}
	if in.Notes != nil {
		v := errs.Text("notes", *in.Notes, 0, 2000)
		in.Notes = &v
	}
	return errs.Err()
}

func checkDecimal(errs *validation.Errors, field string, v *money.Value, lo, hi decimal.Decimal, scale int32) {
	switch {
	case v.Err != nil:
		errs.Add(field, "invalid_decimal", v.Err.Error())
	case v.Decimal.LessThan(lo) || v.Decimal.GreaterThan(hi):
		errs.Add(field, "out_of_range", "must be from "+lo.String()+" to "+hi.String())
	case -v.Decimal.Exponent() > scale:
		errs.Add(field, "too_precise", fmt.Sprintf("must have at most %d decimals", scale))
	}
}

// Order is an order with its lines.
type Order struct {
	dbsqlc.SalesOrder
	Lines []dbsqlc.SalesOrderLine
	// Warnings are the credit rules the order broke under policy warn (or
	// block, overridden).
	Warnings []CreditIssue
}

// customerState is the locked customer and what pricing and credit need.
type customerState struct {
	detail customer.Detail
	env    settings.Env
	eff    customer.Effective
}

// lockCustomer locks the customer row for the rest of the transaction:
// every order or payment write for a customer takes this lock first, so
// concurrent writers take turns and each one's credit check and figures
// see the others' committed rows.
func (s *Service) lockCustomer(ctx context.Context, tx database.Tx, id uuid.UUID) (customerState, error) {
	_, err := s.q.CustomerGetByIDForUpdate(ctx, tx, dbsqlc.CustomerGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return customerState{}, ErrCustomerNotFound
	}
	if err != nil {
		return customerState{}, fmt.Errorf("lock customer: %w", err)
	}
	d, err := s.customers.Get(ctx, tx, id)
	if err != nil {
		return customerState{}, err
	}
	env, err := s.customers.Env(ctx, tx)
	if err != nil {
		return customerState{}, err
	}
	return customerState{detail: d, env: env, eff: customer.ResolveEffective(d.Customer, d.Groups, env.Settings)}, nil
}

// reactivate brings a dormant customer back when it gets a new order or
// payment (audited as an update of the customer's status), with its row
// locked; the sweep re-checks a customer under that lock, so it cannot
// mark dormant a customer whose order or payment commits first.
func (s *Service) reactivate(ctx context.Context, tx database.Tx, cs *customerState) error {
	d, err := s.customers.ReactivateForActivity(ctx, tx, cs.env, cs.detail)
	if err != nil {
		return err
	}
	cs.detail = d
	return nil
}

// priced is an order's lines, amounts and total, worked out.
type priced struct {
	params dbsqlc.OrderLinesInsertParams
	total  decimal.Decimal
}

// price resolves and computes the lines of an order for the customer.
func (s *Service) price(ctx context.Context, tx database.Tx, cs customerState, lines []LineInput) (priced, error) {
	skus := make([]string, len(lines))
	for i, l := range lines {
		skus[i] = l.SKU
	}
	quotes, err := s.pricing.Quotes(ctx, tx, pricing.TermsFor(cs.detail, cs.env), skus)
	var unknown *pricing.UnknownSKUError
	if errors.As(err, &unknown) {
		for i, l := range lines {
			if l.SKU == unknown.SKU {
				return priced{}, validation.Errors{{Field: fmt.Sprintf("lines.%d.sku", i), Code: "unknown_item", Message: "no active item with this SKU"}}
			}
		}
	}
	if err != nil {
		return priced{}, err
	}
	currency := *cs.eff.Currency.Value
	minor := money.MinorUnits(currency)
	var errs validation.Errors
	var p priced
	p.total = decimal.Zero
	for i, l := range lines {
		q := quotes[i]
		unit, source := q.ListPrice, q.Source
		if l.UnitPrice != nil {
			unit, source = &l.UnitPrice.Decimal, "given"
		}
		if unit == nil {
			errs.Add(fmt.Sprintf("lines.%d.unit_price", i), "no_price",
				"no price for this item applies to this customer in "+currency+"; give unit_price")
			continue
		}
		discount := q.DiscountRate
		if l.DiscountRate != nil {
			discount = l.DiscountRate.Decimal
		}
		amount := lineAmount(l.Quantity.Decimal, *unit, discount, minor)
		p.total = p.total.Add(amount)
		p.params.LineNos = append(p.params.LineNos, int32(i+1))
		p.params.ItemIds = append(p.params.ItemIds, q.ItemID)
		p.params.Skus = append(p.params.Skus, q.SKU)
		p.params.Names = append(p.params.Names, q.Name)
		p.params.Quantities = append(p.params.Quantities, l.Quantity.Decimal)
		p.params.UnitPrices = append(p.params.UnitPrices, *unit)
		p.params.DiscountRates = append(p.params.DiscountRates, discount)
		p.params.Amounts = append(p.params.Amounts, amount)
		p.params.PriceSources = append(p.params.PriceSources, source)
	}
	if p.total.GreaterThanOrEqual(decimal.New(1, 15)) {
		errs.Add("lines", "total_too_large", "the order total must be less than 10^15")
	}
	return p, errs.Err()
}

// creditIssues checks an order of total against the customer's effective
// credit limit and period.
func (s *Service) creditIssues(ctx context.Context, tx database.Tx, cs customerState, total decimal.Decimal) ([]CreditIssue, error) {
	var issues []CreditIssue
	c := cs.detail.Customer
	balance := c.Balance
	if limit := cs.eff.CreditLimit.Value; limit != nil && balance.Add(total).GreaterThan(*limit) {
		issues = append(issues, CreditIssue{Code: "credit_limit_exceeded", Limit: limit, Balance: balance, OrderTotal: total,
			Message: "the order would take the balance over the credit limit"})
	}
	if days := cs.eff.CreditPeriodDays.Value; days != nil {
		oldest, err := s.q.OrderOldestOpen(ctx, tx, dbsqlc.OrderOldestOpenParams{TenantID: tx.TenantID(), CustomerID: c.ID})
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return nil, fmt.Errorf("oldest open order: %w", err)
		case oldest.OrderDate.Before(s.today().AddDate(0, 0, -int(*days))):
			issues = append(issues, CreditIssue{Code: "credit_period_exceeded", OldestOpenOrder: oldest.Number, PeriodDays: *days,
				Balance: balance, OrderTotal: total,
				Message: fmt.Sprintf("order %s is unpaid for longer than the credit period of %d days", oldest.Number, *days)})
		}
	}
	return issues, nil
}

// applyCreditPolicy decides what broken credit rules mean: nothing under
// policy none, warnings under warn, and under block a refusal unless an
// actor with credit:override asked to override.
func applyCreditPolicy(cs customerState, issues []CreditIssue, actor *tenant.Principal, override bool) (warnings []CreditIssue, overridden bool, err error) {
	if len(issues) == 0 {
		return nil, false, nil
	}
	switch *cs.eff.CreditPolicy.Value {
	case "warn":
		return issues, false, nil
	case "block":
		if !override {
			return nil, false, &CreditBlockedError{Issues: issues, Currency: *cs.eff.Currency.Value}
		}
		if !actor.Can(auth.PermCreditOverride) {
			return nil, false, ErrCreditOverrideDen
		}
		return issues, true, nil
	}
	return nil, false, nil
}

// dueDate is the order date plus the customer's effective payment terms.
func (s *Service) dueDate(ctx context.Context, tx database.Tx, cs customerState, orderDate time.Time) (time.Time, *uuid.UUID, error) {
	termsID := cs.eff.PaymentTermsID.Value
	if termsID == nil {
		return orderDate, nil, nil
	}
	t, err := s.pricing.PaymentTermsGet(ctx, tx, *termsID)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("payment terms: %w", err)
	}
	return orderDate.AddDate(0, 0, int(t.DueDays)), termsID, nil
}

func (s *Service) checkLocation(ctx context.Context, tx database.Tx, customerID uuid.UUID, loc *uuid.UUID) error {
	if loc == nil {
		return nil
	}
	ok, err := s.q.LocationOfCustomer(ctx, tx, dbsqlc.LocationOfCustomerParams{TenantID: tx.TenantID(), ID: *loc, CustomerID: customerID})
	if err != nil {
		return fmt.Errorf("check location: %w", err)
	}
	if !ok {
		return validation.Errors{{Field: "location_id", Code: "not_found", Message: "no location of this customer has this id"}}
	}
	return nil
}

// Create places an order: it prices the lines, applies credit control,
// numbers the order, recomputes the customer's figures and records the
// audit event, all in tx.
func (s *Service) Create(ctx context.Context, tx database.Tx, actor *tenant.Principal, in Input) (Order, error) {
	cs, err := s.lockCustomer(ctx, tx, in.CustomerID)
	if err != nil {
		return Order{}, err
	}
	if err := s.reactivate(ctx, tx, &cs); err != nil {
		return Order{}, err
	}
	if err := s.checkLocation(ctx, tx, in.CustomerID, in.LocationID); err != nil {
		return Order{}, err
	}
	p, err := s.price(ctx, tx, cs, in.Lines)
	if err != nil {
		return Order{}, err
	}
	issues, err := s.creditIssues(ctx, tx, cs, p.total)
	if err != nil {
		return Order{}, err
	}
	warnings, overridden, err := applyCreditPolicy(cs, issues, actor, in.OverrideCredit)
	if err != nil {
		return Order{}, err
	}
	orderDate := s.today()
	if in.OrderDate != nil {
		orderDate = *in.OrderDate
	}
	due, termsID, err := s.dueDate(ctx, tx, cs, orderDate)
	if err != nil {
		return Order{}, err
	}
	n, err := s.q.CounterNext(ctx, tx, dbsqlc.CounterNextParams{TenantID: tx.TenantID(), Name: "sales_order"})
	if err != nil {
		return Order{}, fmt.Errorf("next order number: %w", err)
	}
	uid := actor.UserID
	o, err := s.q.OrderInsert(ctx, tx, dbsqlc.OrderInsertParams{
		TenantID: tx.TenantID(), ID: uuid.New(), Number: fmt.Sprintf("SO-%06d", n), CustomerID: in.CustomerID,
		LocationID: in.LocationID, Currency: *cs.eff.Currency.Value, OrderDate: orderDate, DueDate: due,
		PaymentTermsID: termsID, Total: p.total, Notes: in.Notes, CreditOverride: overridden, CreatedBy: &uid,
		Reach: cs.detail.Customer.Reach, // read with the customer locked
	})
	if err != nil {
		return Order{}, fmt.Errorf("insert order: %w", err)
	}
	p.params.TenantID, p.params.OrderID = tx.TenantID(), o.ID
	if err := s.q.OrderLinesInsert(ctx, tx, p.params); err != nil {
		return Order{}, fmt.Errorf("insert order lines: %w", err)
	}
	if err := s.Recompute(ctx, tx, in.CustomerID); err != nil {
		return Order{}, err
	}
	out, err := s.Get(ctx, tx, o.ID)
	if err != nil {
		return out, err
	}
	out.Warnings = warnings
	err = audit.Record(ctx, tx, audit.Event{Entity: EntityOrder, EntityID: o.ID, CustomerID: &out.CustomerID, Action: audit.ActionCreate,
		After: toOrderResponse(out)})
	if err != nil {
		return Order{}, err
	}
	return out, nil
}

// Recompute rewrites the customer's figures (order count, totals, last
// order, balance, overdue) from its orders and payments. Every write of
// an order or payment, and a merge of customers, calls it in its own
// transaction.
func (s *Service) Recompute(ctx context.Context, tx database.Tx, customerID uuid.UUID) error {
	err := s.q.CustomerFiguresRecompute(ctx, tx, dbsqlc.CustomerFiguresRecomputeParams{TenantID: tx.TenantID(), CustomerID: customerID})
	if err != nil {
		return fmt.Errorf("recompute customer figures: %w", err)
	}
	return nil
}

// Get returns an order the actor can see, with its lines.
func (s *Service) Get(ctx context.Context, tx database.Tx, id uuid.UUID) (Order, error) {
	o, err := s.q.OrderGetByID(ctx, tx, dbsqlc.OrderGetByIDParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return Order{}, ErrNotFound
	}
	if err != nil {
		return Order{}, fmt.Errorf("get order: %w", err)
	}
	orders, err := s.withLines(ctx, tx, []dbsqlc.SalesOrder{o})
	if err != nil {
		return Order{}, err
	}
	return orders[0], nil
}

func (s *Service) withLines(ctx context.Context, tx database.Tx, os []dbsqlc.SalesOrder) ([]Order, error) {
	ids := make([]uuid.UUID, len(os))
	for i, o := range os {
		ids[i] = o.ID
	}
	lines, err := s.q.OrderLines(ctx, tx, dbsqlc.OrderLinesParams{TenantID: tx.TenantID(), OrderIds: ids})
	if err != nil {
		return nil, fmt.Errorf("order lines: %w", err)
	}
	byOrder := map[uuid.UUID][]dbsqlc.SalesOrderLine{}
	for _, l := range lines {
		byOrder[l.OrderID] = append(byOrder[l.OrderID], l)
	}
	out := make([]Order, len(os))
	for i, o := range os {
		out[i] = Order{SalesOrder: o, Lines: byOrder[o.ID]}
	}
	return out, nil
}

// lockOrder locks an order and its customer, customer first (the same
// order as every writer, so two writers never deadlock).
func (s *Service) lockOrder(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.SalesOrder, customerState, error) {
	o, err := s.q.OrderGetByID(ctx, tx, dbsqlc.OrderGetByIDParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return o, customerState{}, ErrNotFound
	}
	if err != nil {
		return o, customerState{}, fmt.Errorf("get order: %w", err)
	}
	cs, err := s.lockCustomer(ctx, tx, o.CustomerID)
	if errors.Is(err, ErrCustomerNotFound) {
		return o, cs, ErrNotFound
	}
	if err != nil {
		return o, cs, err
	}
	o, err = s.q.OrderGetByIDForUpdate(ctx, tx, dbsqlc.OrderGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return o, cs, ErrNotFound
	}
	if err != nil {
		return o, cs, fmt.Errorf("lock order: %w", err)
	}
	return o, cs, nil
}

// Update replaces the editable part of a pending order (lines, location,
// date, notes) when want matches its version, re-pricing it and checking
// credit again, and records the change against the order as it locked it.
func (s *Service) Update(ctx context.Context, tx database.Tx, actor *tenant.Principal, id uuid.UUID, want precondition.IfMatch, in Input) (Order, error) {
	o, cs, err := s.lockOrder(ctx, tx, id)
	if err != nil {
		return Order{}, err
	}
	if !want.Matches(o.Version) {
		return Order{}, ErrVersionMismatch
	}
	if o.Status != StatusPending {
		return Order{}, ErrNotEditable
	}
	before, err := s.withLines(ctx, tx, []dbsqlc.SalesOrder{o})
	if err != nil {
		return Order{}, err
	}
	if err := s.checkLocation(ctx, tx, o.CustomerID, in.LocationID); err != nil {
		return Order{}, err
	}
	p, err := s.price(ctx, tx, cs, in.Lines)
	if err != nil {
		return Order{}, err
	}
	// The customer's balance includes this order's old total: check the
	// rules with only the increase.
	var warnings []CreditIssue
	overridden := o.CreditOverride
	if increase := p.total.Sub(o.Total); increase.IsPositive() {
		issues, err := s.creditIssues(ctx, tx, cs, increase)
		if err != nil {
			return Order{}, err
		}
		var ov bool
		warnings, ov, err = applyCreditPolicy(cs, issues, actor, in.OverrideCredit)
		if err != nil {
			return Order{}, err
		}
		overridden = overridden || ov
	}
	orderDate := o.OrderDate
	if in.OrderDate != nil {
		orderDate = *in.OrderDate
	}
	due, termsID, err := s.dueDate(ctx, tx, cs, orderDate)
	if err != nil {
		return Order{}, err
	}
	if _, err := s.q.OrderUpdate(ctx, tx, dbsqlc.OrderUpdateParams{
		TenantID: tx.TenantID(), ID: id, LocationID: in.LocationID, OrderDate: orderDate, DueDate: due,
		PaymentTermsID: termsID, Total: p.total, Notes: in.Notes, CreditOverride: overridden,
	}); err != nil {
		return Order{}, fmt.Errorf("update order: %w", err)
	}
	if err := s.q.OrderLinesDelete(ctx, tx, dbsqlc.OrderLinesDeleteParams{TenantID: tx.TenantID(), OrderID: id}); err != nil {
		return Order{}, fmt.Errorf("replace order lines: %w", err)
	}
	p.params.TenantID, p.params.OrderID = tx.TenantID(), id
	if err := s.q.OrderLinesInsert(ctx, tx, p.params); err != nil {
		return Order{}, fmt.Errorf("insert order lines: %w", err)
	}
	if err := s.Recompute(ctx, tx, o.CustomerID); err != nil {
		return Order{}, err
	}
	out, err := s.Get(ctx, tx, id)
	if err != nil {
		return out, err
	}
	out.Warnings = warnings
	return out, s.recordUpdate(ctx, tx, before[0], out)
}

// recordUpdate records an order's change in the audit trail.
func (s *Service) recordUpdate(ctx context.Context, tx database.Tx, before, after Order) error {
	return audit.Record(ctx, tx, audit.Event{Entity: EntityOrder, EntityID: after.ID, CustomerID: &after.CustomerID, Action: audit.ActionUpdate,
		Before: toOrderResponse(before), After: toOrderResponse(after)})
}

// Transition applies a status action (ship, invoice, cancel). An invoiced
// order that payments already cover becomes paid at once; a cancelled one
// must have no payment applied to it. The change is recorded against the
// order as Transition locked it.
func (s *Service) Transition(ctx context.Context, tx database.Tx, id uuid.UUID, action string) (Order, error) {
	o, _, err := s.lockOrder(ctx, tx, id)
	if err != nil {
		return Order{}, err
	}
	next, err := nextStatus(action, o.Status)
	if err != nil {
		return Order{}, err
	}
	if next == StatusCancelled && o.PaidAmount.IsPositive() {
		return Order{}, &TransitionError{Action: action, Status: o.Status + " with payments applied"}
	}
	if next == StatusInvoiced && o.PaidAmount.Equal(o.Total) {
		next = StatusPaid
	}
	before, err := s.withLines(ctx, tx, []dbsqlc.SalesOrder{o})
	if err != nil {
		return Order{}, err
	}
	if _, err := s.q.OrderSetStatus(ctx, tx, dbsqlc.OrderSetStatusParams{TenantID: tx.TenantID(), ID: id, Status: next, Now: s.nowFunc()}); err != nil {
		return Order{}, fmt.Errorf("set order status: %w", err)
	}
	if err := s.Recompute(ctx, tx, o.CustomerID); err != nil {
		return Order{}, err
	}
	out, err := s.Get(ctx, tx, id)
	if err != nil {
		return out, err
	}
	if err := s.recordUpdate(ctx, tx, before[0], out); err != nil {
		return Order{}, err
	}
	return out, nil
}

// ListParams selects orders.
type ListParams struct {
	CustomerID *uuid.UUID
	Statuses   []string
	From, To   *time.Time
	After      *Cursor
	Limit      int32
}

// Cursor is the position after the last order or payment of a page.
type Cursor struct {
	Date time.Time `json:"d"`
	ID   uuid.UUID `json:"i"`
}

// List returns a page of the orders the actor can see, newest first.
func (s *Service) List(ctx context.Context, tx database.Tx, lp ListParams) ([]Order, error) {
	p := dbsqlc.OrderListParams{TenantID: tx.TenantID(), CustomerID: lp.CustomerID, Statuses: lp.Statuses,
		DateFrom: lp.From, DateTo: lp.To, RowLimit: lp.Limit}
	if p.Statuses == nil {
		p.Statuses = []string{}
	}
	if lp.After != nil {
		p.AfterDate, p.AfterID = &lp.After.Date, &lp.After.ID
	}
	rows, err := s.q.OrderList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	return s.withLines(ctx, tx, rows)
}

// CustomerVisible reports ErrCustomerNotFound for a customer the actor
// cannot see.
func (s *Service) CustomerVisible(ctx context.Context, tx database.Tx, id uuid.UUID) error {
	_, err := s.customers.Get(ctx, tx, id)
	if errors.Is(err, customer.ErrNotFound) {
		return ErrCustomerNotFound
	}
	return err
}
