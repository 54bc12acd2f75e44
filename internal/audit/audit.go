// Package audit records who changed what: every create, update and delete
// of customers, groups, locations, settings and users writes one event in
// the same transaction as the change, with the changed fields before and
// after. The application role may insert and read events, never alter them.
//
// One convention, in every package: the service that makes a write records
// its event, in the transaction it is given. For an update or a delete it
// first locks the row (SELECT ... FOR UPDATE, or the package's locking
// query; a DELETE ... RETURNING locks and reads at once) and takes that row
// as the before, so the before is always what the last committed write
// left; then it writes and calls Record (RecordMany for bulk work) with the
// before and the after as the API shows them (each package's response.go).
// Handlers decode, call the service and encode: they never call Record,
// nor read a row to build a before.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/tenant"
)

// Actions.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// Entity names, as used in GET /v1/audit?entity=.
const (
	EntityCustomer = "customer"
	EntityContact  = "contact"
	EntityGroup    = "group"
	// EntityGroupCategory events carry the category's id (listed with it).
	EntityGroupCategory = "group_category"
	EntityLocation      = "location"
	EntitySettings      = "settings"
	EntityCustomField   = "custom_field"
	EntityUser          = "user"
	EntityRole          = "role"
	EntityGrant         = "grant"
)

// Change is one field's value before and after.
type Change struct {
	From any `json:"from"`
	To   any `json:"to"`
}

// Event is one change to record. Before and After are the entity as the API
// shows it (any JSON-encodable value); Before is nil on create, After on
// delete.
type Event struct {
	Entity   string
	EntityID uuid.UUID
	// CustomerID is the customer the entity belongs to (the customer itself,
	// a contact's, a location's, an order's ...), nil for what belongs to
	// the tenant as a whole. Only readers who can see that customer read
	// the event, even after the entity is gone.
	CustomerID *uuid.UUID
	Action     string
	Before     any
	After      any
}

// ignored fields change on every write or are derived; recording them
// would only add noise.
var ignored = map[string]bool{"version": true, "updated_at": true, "created_at": true, "effective": true}

// Record writes the event in tx. An update that changes nothing visible
// records nothing.
func Record(ctx context.Context, tx database.Tx, e Event) error {
	changes, err := Diff(e.Before, e.After)
	if err != nil {
		return err
	}
	if e.Action == ActionUpdate && len(changes) == 0 {
		return nil
	}
	raw, err := json.Marshal(changes)
	if err != nil {
		return fmt.Errorf("encode audit changes: %w", err)
	}
	var reqID *string
	if id := tenant.RequestID(ctx); id != "" {
		reqID = &id
	}
	err = dbsqlc.New().AuditInsert(ctx, tx, dbsqlc.AuditInsertParams{
		ID: uuid.New(), At: time.Now(), ActorID: tx.Scope().UserID, Action: e.Action,
		Entity: e.Entity, EntityID: e.EntityID, Changes: raw, RequestID: reqID, CustomerID: e.CustomerID,
	})
	if err != nil {
		return fmt.Errorf("record audit event: %w", err)
	}
	return nil
}

// RecordMany writes one event per entity in a single statement, for bulk
// work: changes[i] are the changes of entityIDs[i], in the form Diff
// returns, and customerIDs[i] is the customer it belongs to (see
// Event.CustomerID).
func RecordMany(ctx context.Context, tx database.Tx, entity, action string, entityIDs, customerIDs []uuid.UUID, changes []map[string]Change) error {
	if len(entityIDs) == 0 {
		return nil
	}
	raws := make([]json.RawMessage, len(changes))
	for i, c := range changes {
		raw, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("encode audit changes: %w", err)
		}
		raws[i] = raw
	}
	var reqID *string
	if id := tenant.RequestID(ctx); id != "" {
		reqID = &id
	}
	// Time-ordered ids: a bulk batch's events fill audit_events_pkey's
	// last pages instead of one random page each.
	ids := make([]uuid.UUID, len(entityIDs))
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7())
	}
	err := dbsqlc.New().AuditInsertMany(ctx, tx, dbsqlc.AuditInsertManyParams{
		Ids: ids, At: time.Now(), ActorID: tx.Scope().UserID, Action: action, Entity: entity,
		EntityIds: entityIDs, Changes: raws, RequestID: reqID, CustomerIds: customerIDs,
	})
	if err != nil {
		return fmt.Errorf("record audit events: %w", err)
	}
	return nil
}

// Diff compares two JSON-encodable values field by field (top-level JSON
// members) and returns the members that differ.
func Diff(before, after any) (map[string]Change, error) {
	b, err := toMap(before)
	if err != nil {
		return nil, err
	}
	a, err := toMap(after)
	if err != nil {
		return nil, err
	}
	out := map[string]Change{}
	for k, v := range a {
		if ignored[k] {
			continue
		}
		if old, ok := b[k]; !ok || !reflect.DeepEqual(old, v) {
			if !ok && v == nil {
				continue
			}
			out[k] = Change{From: old, To: v}
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok && !ignored[k] && v != nil {
			out[k] = Change{From: v, To: nil}
		}
	}
	return out, nil
}

func toMap(v any) (map[string]any, error) {
	if v == nil {
		return map[string]any{}, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode audit value: %w", err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("audit value is not an object: %w", err)
	}
	return m, nil
}
