// Package order manages a customer's money: sales orders with lines,
// their status (pending → shipped → invoiced → paid, or cancelled),
// payments and their allocation to orders, the customer's ledger, credit
// control, and the customer figures (order count, totals, balance,
// overdue) that every order and payment write recomputes in its own
// transaction. Amounts are exact decimals in the customer's currency.
package order

import (
	"errors"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"
)

// Sentinel errors.
var (
	ErrNotFound          = errors.New("order not found")
	ErrPaymentNotFound   = errors.New("payment not found")
	ErrCustomerNotFound  = errors.New("customer not found")
	ErrVersionMismatch   = errors.New("order version mismatch")
	ErrNotEditable       = errors.New("only pending orders can be changed")
	ErrOrderPaid         = errors.New("order already fully paid")
	ErrOrderCancelled    = errors.New("order is cancelled")
	ErrCreditOverrideDen = errors.New("credit override needs the credit:override permission")
)

// Order statuses.
const (
	StatusPending   = "pending"
	StatusShipped   = "shipped"
	StatusInvoiced  = "invoiced"
	StatusPaid      = "paid"
	StatusCancelled = "cancelled"
)

// Statuses lists every status.
var Statuses = []string{StatusPending, StatusShipped, StatusInvoiced, StatusPaid, StatusCancelled}

// Actions and the statuses they move an order from and to. Paid is never
// an action: an invoiced order becomes paid when payments cover it.
var transitions = map[string]struct {
	from []string
	to   string
}{
	"ship":    {from: []string{StatusPending}, to: StatusShipped},
	"invoice": {from: []string{StatusShipped}, to: StatusInvoiced},
	"cancel":  {from: []string{StatusPending, StatusShipped, StatusInvoiced}, to: StatusCancelled},
}

// TransitionError is an action an order's status does not allow.
type TransitionError struct {
	Action, Status string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("cannot %s an order that is %s", e.Action, e.Status)
}

// nextStatus returns the status an action moves an order to.
func nextStatus(action, status string) (string, error) {
	t, ok := transitions[action]
	if !ok || !slices.Contains(t.from, status) {
		return "", &TransitionError{Action: action, Status: status}
	}
	return t.to, nil
}

// CreditIssue is one credit rule an order breaks.
type CreditIssue struct {
	// Code is credit_limit_exceeded or credit_period_exceeded.
	Code    string
	Message string
	// For the limit: the limit, the balance before the order, the order's
	// total.
	Limit      *decimal.Decimal
	Balance    decimal.Decimal
	OrderTotal decimal.Decimal
	// For the period: the oldest unpaid order and the allowed days.
	OldestOpenOrder string
	PeriodDays      int32
}

// CreditBlockedError means the customer's credit policy is block and the
// order breaks a rule; nothing was written.
type CreditBlockedError struct {
	Issues   []CreditIssue
	Currency string
}

func (e *CreditBlockedError) Error() string { return "credit check failed: " + e.Issues[0].Message }

// lineAmount is quantity × unit price less the discount, rounded to the
// currency's minor units (half away from zero).
func lineAmount(quantity, unitPrice, discountRate decimal.Decimal, minorUnits int32) decimal.Decimal {
	hundred := decimal.NewFromInt(100)
	return quantity.Mul(unitPrice).Mul(hundred.Sub(discountRate)).Div(hundred).Round(minorUnits)
}
