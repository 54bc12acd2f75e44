-- AuditInsert stamps the event with clock_timestamp(), not now(): several
-- events of one transaction keep their order.
-- name: AuditInsert :exec
INSERT INTO audit_events (tenant_id, id, at, actor_id, action, entity, entity_id, changes, request_id)
VALUES (@tenant_id, @id, clock_timestamp(), sqlc.narg(actor_id), @action, @entity, @entity_id, @changes, sqlc.narg(request_id));

-- AuditList pages through one entity's events, newest first.
-- name: AuditList :many
SELECT * FROM audit_events
WHERE tenant_id = @tenant_id AND entity = @entity AND entity_id = @entity_id
  AND (sqlc.narg(before_at)::timestamptz IS NULL OR (at, id) < (sqlc.narg(before_at)::timestamptz, sqlc.narg(before_id)::uuid))
ORDER BY at DESC, id DESC
LIMIT @row_limit;

-- AuditSubjectVisible reports whether the caller can see the customer,
-- contact or location an audit trail is about (row-level security decides;
-- other entities are not scoped by visibility).
-- name: AuditSubjectVisible :one
SELECT CASE @entity::text
    WHEN 'customer' THEN EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = @tenant_id::uuid AND c.id = @entity_id::uuid)
    WHEN 'contact' THEN EXISTS (SELECT 1 FROM customer_contacts k WHERE k.tenant_id = @tenant_id::uuid AND k.id = @entity_id::uuid)
    WHEN 'location' THEN EXISTS (SELECT 1 FROM customer_locations l WHERE l.tenant_id = @tenant_id::uuid AND l.id = @entity_id::uuid)
    ELSE true
END::boolean AS visible;

-- AuditInsertMany records one event per entity, for bulk work: entity_ids
-- and changes are parallel arrays.
-- name: AuditInsertMany :exec
INSERT INTO audit_events (tenant_id, id, at, actor_id, action, entity, entity_id, changes, request_id)
SELECT @tenant_id, gen_random_uuid(), clock_timestamp(), sqlc.narg(actor_id), @action, @entity,
       unnest(@entity_ids::uuid[]), unnest(@changes::jsonb[]), sqlc.narg(request_id);
