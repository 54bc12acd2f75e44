package location

import (
	"time"

	"github.com/google/uuid"
)

// The API's view of a location: what the handlers answer with and what
// the service records in the audit trail (package audit).

type customerRef struct {
	ID   uuid.UUID `json:"id"`
	Code string    `json:"code"`
	Name string    `json:"name"`
}

type locationResponse struct {
	ID              uuid.UUID   `json:"id"`
	CustomerID      uuid.UUID   `json:"customer_id"`
	Customer        customerRef `json:"customer"`
	Label           string      `json:"label"`
	Line1           string      `json:"line1"`
	Line2           *string     `json:"line2"`
	City            string      `json:"city"`
	Region          *string     `json:"region"`
	PostalCode      *string     `json:"postal_code"`
	Country         string      `json:"country"`
	Phone           *string     `json:"phone"`
	Kinds           []string    `json:"kinds"`
	DefaultBilling  bool        `json:"default_billing"`
	DefaultShipping bool        `json:"default_shipping"`
	SalesRepID      *uuid.UUID  `json:"sales_rep_id"`
	Version         int64       `json:"version"`
	CreatedAt       time.Time   `json:"created_at"`
	UpdatedAt       time.Time   `json:"updated_at"`
}

func toLocationResponse(l Location) locationResponse {
	kinds := l.Kinds
	if kinds == nil {
		kinds = []string{}
	}
	return locationResponse{
		ID: l.ID, CustomerID: l.CustomerID, Customer: customerRef{ID: l.Customer.ID, Code: l.Customer.Code, Name: l.Customer.Name},
		Label: l.Label, Line1: l.Line1, Line2: l.Line2, City: l.City, Region: l.Region, PostalCode: l.PostalCode,
		Country: l.Country, Phone: l.Phone, Kinds: kinds, DefaultBilling: l.IsDefaultBilling,
		DefaultShipping: l.IsDefaultShipping, SalesRepID: l.SalesRepID, Version: l.Version,
		CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt,
	}
}
