// Package merge combines duplicate customers (seed 004: "combine the two
// customer codes to one"): the duplicate's sales orders, payments,
// locations, contacts, customer prices, group memberships, grants and
// portal users move to the customer kept; the kept customer's empty fields
// are filled from the duplicate; its figures are recomputed; the merge is
// recorded in the audit trail; and the duplicate is deleted, leaving a
// tombstone (customer_merges) so that its id answers 410 with the id it
// was merged into. Rows that cannot move because the kept customer already
// has their like (a price for the same item, a group in the same category)
// are reported, never dropped quietly.
//
// Small histories merge in the request's transaction; bigger ones in a job
// that moves rows in batches and does the rest in its last step. The
// package also finds likely duplicates (same tax number, e-mail, phone or
// normalized name).
//
// It is its own package because it needs both the customer and the order
// services (order imports customer, so customer cannot do this itself).
package merge

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Threshold is the most history rows (the duplicate's orders, payments,
// locations and contacts) a merge moves inside the request's own
// transaction; a bigger merge runs as a job. Tests lower it before they
// start (never while they run).
var Threshold = 2000

// BatchSize is how many rows of one kind (orders, payments, contacts) one
// step of a merge job moves, in one transaction. Tests lower it before
// they start.
var BatchSize = 2000

// Sentinel errors.
var (
	ErrSelf              = errors.New("a customer cannot be merged into itself")
	ErrKeptNotFound      = errors.New("customer not found")
	ErrDuplicateNotFound = errors.New("duplicate customer not found")
)

// GoneError is a merge naming a customer that was itself merged away
// already. Duplicate says which of the two it was.
type GoneError struct {
	Duplicate  bool
	ID         uuid.UUID
	MergedInto uuid.UUID
}

func (e *GoneError) Error() string {
	return fmt.Sprintf("customer %s was already merged into %s", e.ID, e.MergedInto)
}

// Mismatch codes: merging customers that differ in these needs force.
const (
	CodeCurrencyMismatch = "currency_mismatch"
	CodeKindMismatch     = "kind_mismatch"
)

// MismatchError is a merge of customers with different effective
// currencies or kinds, asked for without force: their orders and prices
// would end up under one customer in two currencies, or a vendor would
// silently become a customer.
type MismatchError struct {
	Code            string
	Kept, Duplicate string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s: kept %s, duplicate %s", e.Code, e.Kept, e.Duplicate)
}

// Input asks for a merge: DuplicateID goes into KeptID.
type Input struct {
	KeptID      uuid.UUID
	DuplicateID uuid.UUID
	// Force merges customers whose currencies or kinds differ.
	Force bool
}

// Report says what a merge did: what moved, which empty fields of the kept
// customer were filled, and what could not move. It is the "merge" member
// of the 200 answer, the result of a merge job, and part of the audit
// event on the kept customer.
type Report struct {
	KeptID        uuid.UUID  `json:"kept_id"`
	DuplicateID   uuid.UUID  `json:"duplicate_id"`
	DuplicateCode string     `json:"duplicate_code"`
	JobID         *uuid.UUID `json:"job_id,omitempty"`
	// Forced lists the mismatches force overrode (currency_mismatch,
	// kind_mismatch).
	Forced []string `json:"forced"`
	Moved  Moved    `json:"moved"`
	// Filled lists the kept customer's fields that were empty and now hold
	// the duplicate's value.
	Filled []string `json:"filled"`
	// KeptValues lists the fields both customers had with different values:
	// the kept customer's value stays (the duplicate's is in the audit
	// trail's record of the duplicate).
	KeptValues []string  `json:"kept_values"`
	Conflicts  Conflicts `json:"conflicts"`
}

// Moved counts the rows moved to the kept customer.
type Moved struct {
	SalesOrders      int64 `json:"sales_orders"`
	Payments         int64 `json:"payments"`
	Locations        int64 `json:"locations"`
	Contacts         int64 `json:"contacts"`
	CustomerPrices   int64 `json:"customer_prices"`
	GroupMemberships int64 `json:"group_memberships"`
	// Grants counts the users who now hold a grant of the kept customer
	// through the duplicate's (a grant they already held is the same one).
	Grants      int64 `json:"grants"`
	PortalUsers int64 `json:"portal_users"`
	// SMSMessages counts the duplicate's SMS notices, now the kept
	// customer's.
	SMSMessages int64 `json:"sms_messages"`
	// Tombstones counts earlier merges into the duplicate, which now point
	// at the kept customer.
	Tombstones int64 `json:"tombstones"`
}

// Conflicts are the duplicate's rows that could not move as they were.
type Conflicts struct {
	// CustomerPrices are items both had a price for: the kept price stays,
	// the duplicate's is deleted with it.
	CustomerPrices []PriceConflict `json:"customer_prices"`
	// GroupMemberships are categories both were grouped in: the kept
	// customer's group stays.
	GroupMemberships []GroupConflict `json:"group_memberships"`
	// DefaultLocations are the duplicate's locations that moved without
	// their default billing or shipping flag, the kept customer having its
	// own default.
	DefaultLocations []LocationFlags `json:"default_locations"`
	// PrimaryContacts are the duplicate's contacts that moved without
	// their primary flag, the kept customer having its own primary contact.
	PrimaryContacts []uuid.UUID `json:"primary_contacts"`
}

// PriceConflict is an item both customers had their own price for.
type PriceConflict struct {
	ItemID         uuid.UUID `json:"item_id"`
	SKU            string    `json:"sku"`
	KeptPrice      string    `json:"kept_price"`
	DuplicatePrice string    `json:"duplicate_price"`
}

// GroupConflict is a category both customers had a (different) group in.
type GroupConflict struct {
	Category       string `json:"category"`
	KeptGroup      string `json:"kept_group"`
	DuplicateGroup string `json:"duplicate_group"`
}

// LocationFlags is a moved location and the default flags it lost
// (default_billing, default_shipping).
type LocationFlags struct {
	LocationID uuid.UUID `json:"location_id"`
	Lost       []string  `json:"lost"`
}

func newReport(in Input, dupCode string, forced []string) Report {
	if forced == nil {
		forced = []string{}
	}
	return Report{
		KeptID: in.KeptID, DuplicateID: in.DuplicateID, DuplicateCode: dupCode, Forced: forced,
		Filled: []string{}, KeptValues: []string{},
		Conflicts: Conflicts{
			CustomerPrices: []PriceConflict{}, GroupMemberships: []GroupConflict{},
			DefaultLocations: []LocationFlags{}, PrimaryContacts: []uuid.UUID{},
		},
	}
}
