package customer

import (
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/group"
	"github.com/customerhub/customerhub/internal/settings"
)

// Sources of an effective value.
const (
	SourceCustomer = "customer"
	SourceGroup    = "group"
	SourceTenant   = "tenant"
	SourceNone     = "none"
)

// Resolved is an effective value and where it came from. Group is set when
// Source is SourceGroup.
type Resolved[T any] struct {
	Value  *T
	Source string
	Group  *group.Membership
}

// Effective holds the values that apply to a customer once empty fields
// fall back: the customer's own value, else the first of its groups (by
// category position) that sets a default, else the tenant's default.
// Showing where each value came from answers "why does this customer get
// these terms?", which nobody can see in most systems.
type Effective struct {
	PaymentTermsID   Resolved[uuid.UUID]
	PriceListID      Resolved[uuid.UUID]
	CreditLimit      Resolved[decimal.Decimal]
	CreditPeriodDays Resolved[int32]
	DiscountRate     Resolved[decimal.Decimal]
	Currency         Resolved[string]
	CreditPolicy     Resolved[string]
}

// ResolveEffective computes a customer's effective values. groups must be
// in precedence order (group.Service.ForCustomers and
// group.DecodeMemberships return them so).
func ResolveEffective(c dbsqlc.Customer, groups []group.Membership, s settings.Settings) Effective {
	return Effective{
		PaymentTermsID:   pick(c.PaymentTermsID, groups, func(m group.Membership) *uuid.UUID { return m.PaymentTermsID }, s.DefaultPaymentTermsID),
		PriceListID:      pick(c.PriceListID, groups, func(m group.Membership) *uuid.UUID { return m.PriceListID }, nil),
		CreditLimit:      pick(c.CreditLimit, groups, func(m group.Membership) *decimal.Decimal { return m.CreditLimit }, nil),
		CreditPeriodDays: pick(c.CreditPeriodDays, groups, func(m group.Membership) *int32 { return m.CreditDays }, nil),
		DiscountRate:     pick(c.DiscountRate, groups, func(m group.Membership) *decimal.Decimal { return m.DiscountRate }, nil),
		Currency:         pick(c.Currency, nil, nil, &s.DefaultCurrency),
		CreditPolicy:     pick(c.CreditPolicy, nil, nil, &s.DefaultCreditPolicy),
	}
}

func pick[T any](own *T, groups []group.Membership, fromGroup func(group.Membership) *T, tenantDefault *T) Resolved[T] {
	if own != nil {
		return Resolved[T]{Value: own, Source: SourceCustomer}
	}
	for i := range groups {
		if v := fromGroup(groups[i]); v != nil {
			return Resolved[T]{Value: v, Source: SourceGroup, Group: &groups[i]}
		}
	}
	if tenantDefault != nil {
		return Resolved[T]{Value: tenantDefault, Source: SourceTenant}
	}
	return Resolved[T]{Source: SourceNone}
}
