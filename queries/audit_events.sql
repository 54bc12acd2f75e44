-- AuditInsert stamps the event with clock_timestamp(), not now(): several
-- events of one transaction keep their order.
-- name: AuditInsert :exec
INSERT INTO audit_events (tenant_id, id, at, actor_id, action, entity, entity_id, changes, request_id, customer_id)
VALUES (@tenant_id, @id, clock_timestamp(), sqlc.narg(actor_id), @action, @entity, @entity_id, @changes, sqlc.narg(request_id),
        sqlc.narg(customer_id));

-- AuditList pages through one entity's events, newest first, as the
-- caller may read them: audit_trail holds the events of the tenant's own
-- objects and of the customers the caller sees (migration 000010).
-- name: AuditList :many
SELECT e.* FROM audit_trail e
WHERE e.tenant_id = @tenant_id AND e.entity = @entity AND e.entity_id = @entity_id
  AND (sqlc.narg(before_at)::timestamptz IS NULL OR (e.at, e.id) < (sqlc.narg(before_at)::timestamptz, sqlc.narg(before_id)::uuid))
ORDER BY e.at DESC, e.id DESC
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
-- entity_ids, customer_ids and changes are parallel arrays (the ids come
-- from the caller: Citus must not see a volatile function in an INSERT ...
-- SELECT on a table under row-level security).
-- name: AuditInsertMany :exec
INSERT INTO audit_events (tenant_id, id, at, actor_id, action, entity, entity_id, changes, request_id, customer_id)
SELECT @tenant_id, unnest(@ids::uuid[]), @at, sqlc.narg(actor_id), @action, @entity,
       unnest(@entity_ids::uuid[]), unnest(@changes::jsonb[]), sqlc.narg(request_id), unnest(@customer_ids::uuid[]);
