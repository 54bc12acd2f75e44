-- AuditInsert records one event. @at is the caller's clock, read per
-- event so that several events of one transaction keep their order (and a
-- volatile clock in an INSERT ... SELECT would make Citus copy the rows
-- through the coordinator, which row-level security refuses). An event of
-- a customer's object takes the customer's reach, or, when the customer is
-- gone (its delete), the reach its last event recorded (migration 000010).
-- name: AuditInsert :exec
INSERT INTO audit_events (tenant_id, id, at, actor_id, action, entity, entity_id, changes, request_id, customer_id, reach)
SELECT @tenant_id::uuid, @id::uuid, @at::timestamptz, sqlc.narg(actor_id)::uuid, @action::text, @entity::text,
       @entity_id::uuid, @changes::jsonb, sqlc.narg(request_id)::text, sqlc.narg(customer_id)::uuid,
       coalesce((SELECT c.reach FROM customers c WHERE c.tenant_id = @tenant_id::uuid AND c.id = sqlc.narg(customer_id)::uuid),
                (SELECT e.reach FROM audit_events e
                 WHERE e.tenant_id = @tenant_id::uuid AND e.customer_id = sqlc.narg(customer_id)::uuid
                 ORDER BY e.at DESC LIMIT 1),
                '{}');

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
-- entity_ids, customer_ids and changes are parallel arrays (ids and time
-- from the caller, as for AuditInsert). Each event takes its customer's
-- reach.
-- name: AuditInsertMany :exec
INSERT INTO audit_events (tenant_id, id, at, actor_id, action, entity, entity_id, changes, request_id, customer_id, reach)
SELECT c.tenant_id, u.id, @at, sqlc.narg(actor_id), @action, @entity, u.entity_id, u.changes, sqlc.narg(request_id), c.id, c.reach
FROM customers c
JOIN (SELECT unnest(@ids::uuid[]) AS id, unnest(@entity_ids::uuid[]) AS entity_id, unnest(@changes::jsonb[]) AS changes,
             unnest(@customer_ids::uuid[]) AS customer_id) u ON u.customer_id = c.id
WHERE c.tenant_id = @tenant_id;
