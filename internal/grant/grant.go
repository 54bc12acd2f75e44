// Package grant manages explicit grants of a customer to a user, one of the
// ways an 'assigned' user comes to see a customer: the customers policy
// reads customer_grants directly, so a grant takes effect (and a revoke
// ends it) with the transaction that writes it.
package grant

import (
	"errors"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/dbsqlc"
)

// Sentinel errors.
var (
	ErrNotFound         = errors.New("grant not found")
	ErrUserNotFound     = errors.New("user not found")
	ErrCustomerNotFound = errors.New("customer not found")
	ErrAlreadyGranted   = errors.New("customer already granted to the user")
)

// Grant is one customer granted to one user, with the customer's code and
// name.
type Grant struct {
	dbsqlc.CustomerGrant
	CustomerCode string
	CustomerName string
}

// Cursor is the position after the last grant of a page.
type Cursor struct {
	CustomerName string    `json:"n"`
	CustomerID   uuid.UUID `json:"i"`
}

// CursorAfter returns the cursor positioned after g.
func CursorAfter(g Grant) Cursor {
	return Cursor{CustomerName: g.CustomerName, CustomerID: g.CustomerID}
}
