package grant

import (
	"time"

	"github.com/google/uuid"
)

// The API's view of a grant: what the handlers answer with and what the
// service records in the audit trail (package audit), under the user's id.

type customerRef struct {
	ID   uuid.UUID `json:"id"`
	Code string    `json:"code"`
	Name string    `json:"name"`
}

type grantResponse struct {
	UserID     uuid.UUID   `json:"user_id"`
	CustomerID uuid.UUID   `json:"customer_id"`
	Customer   customerRef `json:"customer"`
	CreatedAt  time.Time   `json:"created_at"`
	CreatedBy  *uuid.UUID  `json:"created_by"`
}

func toGrantResponse(g Grant) grantResponse {
	return grantResponse{UserID: g.UserID, CustomerID: g.CustomerID,
		Customer:  customerRef{ID: g.CustomerID, Code: g.CustomerCode, Name: g.CustomerName},
		CreatedAt: g.CreatedAt, CreatedBy: g.CreatedBy}
}
