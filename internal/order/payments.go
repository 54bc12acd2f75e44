package order

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// PaymentInput records a payment.
type PaymentInput struct {
	CustomerID uuid.UUID
	Amount     money.Value
	ReceivedAt *time.Time
	OrderID    *uuid.UUID
	Method     *string
	Reference  *string
}

// Validate checks the input's shape.
func (in *PaymentInput) Validate() error {
	var errs validation.Errors
	checkDecimal(&errs, "amount", &in.Amount, decimal.New(1, -4), decimal.New(1, 15).Sub(decimal.New(1, -4)), 4)
	if in.Method != nil {
		v := strings.TrimSpace(*in.Method)
		errs.OneOf("method", v, customer.PaymentMethods...)
		in.Method = &v
	}
	if in.Reference != nil {
		v := errs.Text("reference", *in.Reference, 0, 100)
		in.Reference = &v
	}
	return errs.Err()
}

// Payment is a payment with its allocations to orders.
type Payment struct {
	dbsqlc.Payment
	Allocations []dbsqlc.PaymentAllocationsRow
}

// CreatePayment records a payment from a customer. With an order, as much
// of it as the order still owes is applied to it (the rest stays on the
// customer's account as credit), and an invoiced order it covers becomes
// paid. It records the audit event.
func (s *Service) CreatePayment(ctx context.Context, tx database.Tx, actor *tenant.Principal, in PaymentInput) (Payment, error) {
	cs, err := s.lockCustomer(ctx, tx, in.CustomerID)
	if err != nil {
		return Payment{}, err
	}
	if err := s.reactivate(ctx, tx, &cs); err != nil {
		return Payment{}, err
	}
	currency := *cs.eff.Currency.Value
	if -in.Amount.Decimal.Exponent() > money.MinorUnits(currency) {
		return Payment{}, validation.Errors{{Field: "amount", Code: "too_precise",
			Message: fmt.Sprintf("%s has %d decimals", currency, money.MinorUnits(currency))}}
	}
	var o dbsqlc.SalesOrder
	if in.OrderID != nil {
		o, err = s.q.OrderGetByIDForUpdate(ctx, tx, dbsqlc.OrderGetByIDForUpdateParams{TenantID: tx.TenantID(), ID: *in.OrderID})
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && o.CustomerID != in.CustomerID) {
			return Payment{}, validation.Errors{{Field: "order_id", Code: "not_found", Message: "no order of this customer has this id"}}
		}
		if err != nil {
			return Payment{}, fmt.Errorf("lock order: %w", err)
		}
		switch {
		case o.Status == StatusCancelled:
			return Payment{}, ErrOrderCancelled
		case o.PaidAmount.Equal(o.Total):
			return Payment{}, ErrOrderPaid
		}
	}
	received := s.today()
	if in.ReceivedAt != nil {
		received = *in.ReceivedAt
	}
	n, err := s.q.CounterNext(ctx, tx, dbsqlc.CounterNextParams{TenantID: tx.TenantID(), Name: "payment"})
	if err != nil {
		return Payment{}, fmt.Errorf("next payment number: %w", err)
	}
	uid := actor.UserID
	pm, err := s.q.PaymentInsert(ctx, tx, dbsqlc.PaymentInsertParams{
		TenantID: tx.TenantID(), ID: uuid.New(), Number: fmt.Sprintf("PAY-%06d", n), CustomerID: in.CustomerID,
		Amount: in.Amount.Decimal, Currency: currency, ReceivedAt: received, Method: in.Method, Reference: in.Reference, CreatedBy: &uid,
		Reach: cs.detail.Customer.Reach, // read with the customer locked
	})
	if err != nil {
		return Payment{}, fmt.Errorf("insert payment: %w", err)
	}
	if in.OrderID != nil {
		applied := decimal.Min(in.Amount.Decimal, o.Total.Sub(o.PaidAmount))
		if err := s.q.PaymentAllocationInsert(ctx, tx, dbsqlc.PaymentAllocationInsertParams{
			TenantID: tx.TenantID(), PaymentID: pm.ID, OrderID: o.ID, Amount: applied,
		}); err != nil {
			return Payment{}, fmt.Errorf("allocate payment: %w", err)
		}
		o, err = s.q.OrderAddPaid(ctx, tx, dbsqlc.OrderAddPaidParams{TenantID: tx.TenantID(), ID: o.ID, Amount: applied})
		if err != nil {
			return Payment{}, fmt.Errorf("update order paid: %w", err)
		}
		if o.Status == StatusInvoiced && o.PaidAmount.Equal(o.Total) {
			if _, err := s.q.OrderSetStatus(ctx, tx, dbsqlc.OrderSetStatusParams{TenantID: tx.TenantID(), ID: o.ID, Status: StatusPaid, Now: s.nowFunc()}); err != nil {
				return Payment{}, fmt.Errorf("mark order paid: %w", err)
			}
		}
	}
	if err := s.Recompute(ctx, tx, in.CustomerID); err != nil {
		return Payment{}, err
	}
	out, err := s.GetPayment(ctx, tx, pm.ID)
	if err != nil {
		return Payment{}, err
	}
	err = audit.Record(ctx, tx, audit.Event{Entity: EntityPayment, EntityID: out.ID, CustomerID: &out.CustomerID, Action: audit.ActionCreate,
		After: toPaymentResponse(out)})
	if err != nil {
		return Payment{}, err
	}
	return out, nil
}

// GetPayment returns a payment the actor can see.
func (s *Service) GetPayment(ctx context.Context, tx database.Tx, id uuid.UUID) (Payment, error) {
	pm, err := s.q.PaymentGetByID(ctx, tx, dbsqlc.PaymentGetByIDParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return Payment{}, ErrPaymentNotFound
	}
	if err != nil {
		return Payment{}, fmt.Errorf("get payment: %w", err)
	}
	ps, err := s.withAllocations(ctx, tx, []dbsqlc.Payment{pm})
	if err != nil {
		return Payment{}, err
	}
	return ps[0], nil
}

func (s *Service) withAllocations(ctx context.Context, tx database.Tx, pms []dbsqlc.Payment) ([]Payment, error) {
	ids := make([]uuid.UUID, len(pms))
	for i, p := range pms {
		ids[i] = p.ID
	}
	allocs, err := s.q.PaymentAllocations(ctx, tx, dbsqlc.PaymentAllocationsParams{TenantID: tx.TenantID(), PaymentIds: ids})
	if err != nil {
		return nil, fmt.Errorf("payment allocations: %w", err)
	}
	by := map[uuid.UUID][]dbsqlc.PaymentAllocationsRow{}
	for _, a := range allocs {
		by[a.PaymentID] = append(by[a.PaymentID], a)
	}
	out := make([]Payment, len(pms))
	for i, p := range pms {
		out[i] = Payment{Payment: p, Allocations: by[p.ID]}
	}
	return out, nil
}

// ListPayments returns a page of the payments the actor can see, newest
// first.
func (s *Service) ListPayments(ctx context.Context, tx database.Tx, lp ListParams) ([]Payment, error) {
	p := dbsqlc.PaymentListParams{TenantID: tx.TenantID(), CustomerID: lp.CustomerID, DateFrom: lp.From, DateTo: lp.To, RowLimit: lp.Limit}
	if lp.After != nil {
		p.AfterDate, p.AfterID = &lp.After.Date, &lp.After.ID
	}
	rows, err := s.q.PaymentList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list payments: %w", err)
	}
	return s.withAllocations(ctx, tx, rows)
}
