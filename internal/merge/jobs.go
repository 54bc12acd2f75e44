package merge

import (
	"encoding/json"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/jobs"
)

// Args are the args of a merge job (a merge too big for one request).
// They carry ids only; each step reads both customers afresh, as the
// acting user sees them then.
type Args struct {
	jobs.Ref
	KeptID      uuid.UUID `json:"kept_id"`
	DuplicateID uuid.UUID `json:"duplicate_id"`
	Force       bool      `json:"force"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return "customer_merge" }

// Permission implements jobs.Args: every step of a merge needs the right
// to merge customers.
func (Args) Permission() string { return auth.PermCustomersMerge }

// InsertOpts puts merges on the bulk queue. A step that fails for a
// reason a retry can fix (a lost connection, a deadlock victim) is
// retried; nothing it did has committed.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueBulk, MaxAttempts: 10}
}

// Cursor values: the phase a merge job is in. The batched phases move one
// kind of row each; the last moves whatever is left and finishes.
const (
	phaseOrders   = "sales_orders"
	phasePayments = "payments"
	phaseContacts = "contacts"
	phaseFinal    = "final"
)

// jobState is a merge job's result while it runs: the report so far and
// the two customers as they were when it started (the duplicate's record
// goes into the audit trail when it is deleted). When the job ends it is
// the report, the duplicate as it was, and the kept customer as it is.
type jobState struct {
	Merge      Report          `json:"merge"`
	Duplicate  json.RawMessage `json:"duplicate"`
	KeptBefore json.RawMessage `json:"kept_before,omitempty"`
	Customer   json.RawMessage `json:"customer,omitempty"`
}
