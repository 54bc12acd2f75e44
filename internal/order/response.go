package order

import (
	"time"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/money"
)

// The API's views of an order and a payment: what the handlers answer with
// and what the service records in the audit trail (package audit).

type lineResponse struct {
	LineNo       int32     `json:"line_no"`
	ItemID       uuid.UUID `json:"item_id"`
	SKU          string    `json:"sku"`
	Name         string    `json:"name"`
	Quantity     string    `json:"quantity"`
	UnitPrice    string    `json:"unit_price"`
	DiscountRate string    `json:"discount_rate"`
	Amount       string    `json:"amount"`
	PriceSource  string    `json:"price_source"`
}

// warning is a credit rule an order broke (policy warn, or block
// overridden).
type warning struct {
	Code            string  `json:"code"`
	Message         string  `json:"message"`
	Limit           *string `json:"limit,omitempty"`
	Balance         string  `json:"balance"`
	OrderTotal      string  `json:"order_total"`
	OldestOpenOrder string  `json:"oldest_open_order,omitempty"`
	PeriodDays      int32   `json:"period_days,omitempty"`
}

func toIssues(issues []CreditIssue, currency string) []warning {
	out := make([]warning, 0, len(issues))
	for _, i := range issues {
		w := warning{Code: i.Code, Message: i.Message, Balance: money.Format(i.Balance, currency),
			OrderTotal: money.Format(i.OrderTotal, currency), OldestOpenOrder: i.OldestOpenOrder, PeriodDays: i.PeriodDays}
		if i.Limit != nil {
			s := money.Format(*i.Limit, currency)
			w.Limit = &s
		}
		out = append(out, w)
	}
	return out
}

type orderResponse struct {
	ID             uuid.UUID      `json:"id"`
	Number         string         `json:"number"`
	CustomerID     uuid.UUID      `json:"customer_id"`
	LocationID     *uuid.UUID     `json:"location_id"`
	Status         string         `json:"status"`
	Currency       string         `json:"currency"`
	OrderDate      string         `json:"order_date"`
	DueDate        string         `json:"due_date"`
	PaymentTermsID *uuid.UUID     `json:"payment_terms_id"`
	Total          string         `json:"total"`
	PaidAmount     string         `json:"paid_amount"`
	Outstanding    string         `json:"outstanding"`
	Notes          *string        `json:"notes"`
	CreditOverride bool           `json:"credit_override"`
	Lines          []lineResponse `json:"lines"`
	Warnings       []warning      `json:"warnings"`
	Version        int64          `json:"version"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
	ShippedAt      *time.Time     `json:"shipped_at"`
	InvoicedAt     *time.Time     `json:"invoiced_at"`
	PaidAt         *time.Time     `json:"paid_at"`
	CancelledAt    *time.Time     `json:"cancelled_at"`
}

func toOrderResponse(o Order) orderResponse {
	cur := o.Currency
	r := orderResponse{
		ID: o.ID, Number: o.Number, CustomerID: o.CustomerID, LocationID: o.LocationID, Status: o.Status, Currency: cur,
		OrderDate: o.OrderDate.Format(time.DateOnly), DueDate: o.DueDate.Format(time.DateOnly), PaymentTermsID: o.PaymentTermsID,
		Total: money.Format(o.Total, cur), PaidAmount: money.Format(o.PaidAmount, cur),
		Outstanding: money.Format(o.Total.Sub(o.PaidAmount), cur), Notes: o.Notes, CreditOverride: o.CreditOverride,
		Lines: make([]lineResponse, 0, len(o.Lines)), Warnings: toIssues(o.Warnings, cur), Version: o.Version,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, ShippedAt: o.ShippedAt, InvoicedAt: o.InvoicedAt, PaidAt: o.PaidAt,
		CancelledAt: o.CancelledAt,
	}
	for _, l := range o.Lines {
		r.Lines = append(r.Lines, lineResponse{LineNo: l.LineNo, ItemID: l.ItemID, SKU: l.Sku, Name: l.Name,
			Quantity: l.Quantity.String(), UnitPrice: l.UnitPrice.String(), DiscountRate: money.FormatRate(l.DiscountRate),
			Amount: money.Format(l.Amount, cur), PriceSource: l.PriceSource})
	}
	return r
}

type allocationResponse struct {
	OrderID     uuid.UUID `json:"order_id"`
	OrderNumber string    `json:"order_number"`
	Amount      string    `json:"amount"`
}

type paymentResponse struct {
	ID          uuid.UUID            `json:"id"`
	Number      string               `json:"number"`
	CustomerID  uuid.UUID            `json:"customer_id"`
	Amount      string               `json:"amount"`
	Currency    string               `json:"currency"`
	ReceivedAt  string               `json:"received_at"`
	Method      *string              `json:"method"`
	Reference   *string              `json:"reference"`
	Allocations []allocationResponse `json:"allocations"`
	Unapplied   string               `json:"unapplied"`
	CreatedAt   time.Time            `json:"created_at"`
}

func toPaymentResponse(p Payment) paymentResponse {
	cur := p.Currency
	r := paymentResponse{ID: p.ID, Number: p.Number, CustomerID: p.CustomerID, Amount: money.Format(p.Amount, cur),
		Currency: cur, ReceivedAt: p.ReceivedAt.Format(time.DateOnly), Method: p.Method, Reference: p.Reference,
		Allocations: make([]allocationResponse, 0, len(p.Allocations)), CreatedAt: p.CreatedAt}
	unapplied := p.Amount
	for _, a := range p.Allocations {
		unapplied = unapplied.Sub(a.Amount)
		r.Allocations = append(r.Allocations, allocationResponse{OrderID: a.OrderID, OrderNumber: a.OrderNumber, Amount: money.Format(a.Amount, cur)})
	}
	r.Unapplied = money.Format(unapplied, cur)
	return r
}
