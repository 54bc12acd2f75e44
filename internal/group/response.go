package group

import (
	"time"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/money"
)

// The API's view of a group and of a category: what the handlers answer
// with and what the service records in the audit trail (package audit).

type groupResponse struct {
	ID             uuid.UUID  `json:"id"`
	Category       string     `json:"category"`
	CategoryName   string     `json:"category_name"`
	Code           string     `json:"code"`
	Name           string     `json:"name"`
	PriceListID    *uuid.UUID `json:"price_list_id"`
	PaymentTermsID *uuid.UUID `json:"payment_terms_id"`
	// CreditLimit has two decimals: a group has no currency of its own.
	CreditLimit  *string `json:"credit_limit"`
	CreditDays   *int32  `json:"credit_days"`
	DiscountRate *string `json:"discount_rate"`
	// CustomerCount counts the members the caller can see.
	CustomerCount int64     `json:"customer_count"`
	Version       int64     `json:"version"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func toGroupResponse(g Group) groupResponse {
	resp := groupResponse{
		ID: g.ID, Category: g.Category, CategoryName: g.CategoryName, Code: g.Code, Name: g.Name,
		PriceListID: g.PriceListID, PaymentTermsID: g.PaymentTermsID, CreditDays: g.CreditDays,
		CustomerCount: g.CustomerCount, Version: g.Version, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt,
	}
	if g.CreditLimit != nil {
		v := money.Format(*g.CreditLimit, "")
		resp.CreditLimit = &v
	}
	if g.DiscountRate != nil {
		v := money.FormatRate(*g.DiscountRate)
		resp.DiscountRate = &v
	}
	return resp
}

type categoryResponse struct {
	ID         uuid.UUID `json:"id"`
	Key        string    `json:"key"`
	Name       string    `json:"name"`
	Position   int32     `json:"position"`
	GroupCount int64     `json:"group_count"`
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func toCategoryResponse(cat Category) categoryResponse {
	return categoryResponse(cat)
}
