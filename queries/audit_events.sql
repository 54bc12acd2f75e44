-- AuditInsert records one event (audit_record, migration 000010). @at is
-- the caller's clock, read per event so that several events of one
-- transaction keep their order.
-- name: AuditInsert :exec
SELECT audit_record(@id::uuid, @at::timestamptz, sqlc.narg(actor_id)::uuid, @action::text, @entity::text,
    @entity_id::uuid, @changes::jsonb, sqlc.narg(request_id)::text, sqlc.narg(customer_id)::uuid);

-- AuditList pages through one entity's events, newest first (row-level
-- security shows the events of customers the caller sees, and those of the
-- tenant's own objects).
-- name: AuditList :many
SELECT * FROM audit_events
WHERE tenant_id = @tenant_id AND entity = @entity AND entity_id = @entity_id
  AND (sqlc.narg(before_at)::timestamptz IS NULL OR (at, id) < (sqlc.narg(before_at)::timestamptz, sqlc.narg(before_id)::uuid))
ORDER BY at DESC, id DESC
LIMIT @row_limit;

-- AuditSubject tells whether an audit trail is about an object that
-- belongs to a customer (customer_scoped: a customer, contact, location,
-- order or payment) and whether the caller can see that object now
-- (row-level security decides). Other entities are the tenant's; their
-- events are listed by the customer each one names, if any.
-- name: AuditSubject :one
SELECT (@entity::text IN ('customer', 'contact', 'location', 'order', 'payment'))::boolean AS customer_scoped,
       CASE @entity::text
           WHEN 'customer' THEN EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = @tenant_id::uuid AND c.id = @entity_id::uuid)
           WHEN 'contact' THEN EXISTS (SELECT 1 FROM customer_contacts k WHERE k.tenant_id = @tenant_id::uuid AND k.id = @entity_id::uuid)
           WHEN 'location' THEN EXISTS (SELECT 1 FROM customer_locations l WHERE l.tenant_id = @tenant_id::uuid AND l.id = @entity_id::uuid)
           WHEN 'order' THEN EXISTS (SELECT 1 FROM sales_orders o WHERE o.tenant_id = @tenant_id::uuid AND o.id = @entity_id::uuid)
           WHEN 'payment' THEN EXISTS (SELECT 1 FROM payments p WHERE p.tenant_id = @tenant_id::uuid AND p.id = @entity_id::uuid)
           ELSE false
       END::boolean AS visible;

-- AuditInsertMany records one event per entity, for bulk work: ids,
-- entity_ids, customer_ids and changes are parallel arrays
-- (audit_record_many).
-- name: AuditInsertMany :exec
SELECT audit_record_many(@ids::uuid[], @at::timestamptz, sqlc.narg(actor_id)::uuid, @action::text, @entity::text,
    @entity_ids::uuid[], @changes::jsonb[], sqlc.narg(request_id)::text, @customer_ids::uuid[]);
