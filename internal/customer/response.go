package customer

import (
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/group"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/settings"
)

// The API's view of a customer and of a contact: what the handlers answer
// with and what the services record in the audit trail (package audit).

type groupRef struct {
	ID       uuid.UUID `json:"id"`
	Category string    `json:"category"`
	Code     string    `json:"code"`
	Name     string    `json:"name"`
}

// effectiveValue is one effective value: the value that applies, and
// whether it is the customer's own, a group's default (which group) or
// the tenant's default.
type effectiveValue struct {
	Value  any       `json:"value"`
	Source string    `json:"source"`
	Group  *groupRef `json:"group,omitempty"`
}

type effectiveResponse struct {
	PaymentTermsID   effectiveValue `json:"payment_terms_id"`
	PriceListID      effectiveValue `json:"price_list_id"`
	CreditLimit      effectiveValue `json:"credit_limit"`
	CreditPeriodDays effectiveValue `json:"credit_period_days"`
	DiscountRate     effectiveValue `json:"discount_rate"`
	Currency         effectiveValue `json:"currency"`
	CreditPolicy     effectiveValue `json:"credit_policy"`
}

// Response is a customer exactly as GET /v1/customers/{id} shows it, for
// the packages that answer with a customer or record one in the audit
// trail (merges).
func Response(d Detail, env settings.Env, now time.Time) any { return toCustomerResponse(d, env, now) }

func toCustomerResponse(d Detail, env settings.Env, now time.Time) customerResponse {
	c := d.Customer
	eff := ResolveEffective(c, d.Groups, env.Settings)
	cur := *eff.Currency.Value
	r := customerResponse{
		ID: c.ID, Custom: env.Visible(c.Custom), Groups: map[string]string{}, City: c.City, Country: c.Country,
		OrderCount: c.OrderCount, TotalOrderValue: money.Format(c.TotalOrderValue, cur),
		LastOrderAt: c.LastOrderAt, Balance: money.Format(c.Balance, cur), OverdueAmount: money.Format(c.OverdueAmount, cur),
		LastNoticeAt: c.LastNoticeAt,
		Engaged:      c.LastOrderAt != nil && c.LastOrderAt.After(now.AddDate(-1, 0, 0)),
		Version:      c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	r.setFields(&c, cur)
	r.AverageOrderValue = money.Format(c.TotalOrderValue.Div(decimal.NewFromInt32(max(c.OrderCount, 1))), cur)
	for _, m := range d.Groups {
		r.Groups[m.Category] = m.Code
	}
	r.Effective = effectiveResponse{
		PaymentTermsID:   effective(eff.PaymentTermsID, func(v uuid.UUID) any { return v }),
		PriceListID:      effective(eff.PriceListID, func(v uuid.UUID) any { return v }),
		CreditLimit:      effective(eff.CreditLimit, func(v decimal.Decimal) any { return money.Format(v, cur) }),
		CreditPeriodDays: effective(eff.CreditPeriodDays, func(v int32) any { return v }),
		DiscountRate:     effective(eff.DiscountRate, func(v decimal.Decimal) any { return money.FormatRate(v) }),
		Currency:         effective(eff.Currency, func(v string) any { return v }),
		CreditPolicy:     effective(eff.CreditPolicy, func(v string) any { return v }),
	}
	return r
}

func effective[T any](r Resolved[T], show func(T) any) effectiveValue {
	ev := effectiveValue{Source: r.Source}
	if r.Value != nil {
		ev.Value = show(*r.Value)
	}
	if r.Group != nil {
		ev.Group = toGroupRef(*r.Group)
	}
	return ev
}

func toGroupRef(m group.Membership) *groupRef {
	return &groupRef{ID: m.GroupID, Category: m.Category, Code: m.Code, Name: m.Name}
}

type contactResponse struct {
	ID         uuid.UUID `json:"id"`
	CustomerID uuid.UUID `json:"customer_id"`
	Name       string    `json:"name"`
	Role       *string   `json:"role"`
	Email      *string   `json:"email"`
	Phone      *string   `json:"phone"`
	Primary    bool      `json:"primary"`
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func toContactResponse(c dbsqlc.CustomerContact) contactResponse {
	return contactResponse{ID: c.ID, CustomerID: c.CustomerID, Name: c.Name, Role: c.Role, Email: c.Email, Phone: c.Phone,
		Primary: c.IsPrimary, Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}
