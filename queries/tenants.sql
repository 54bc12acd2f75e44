-- name: TenantInsert :one
INSERT INTO tenants (id, slug, name)
VALUES (@id, @slug, @name)
ON CONFLICT ON CONSTRAINT tenants_slug_key DO NOTHING
RETURNING *;

-- name: TenantGetByID :one
SELECT * FROM tenants WHERE id = @id;

-- name: TenantGetBySlug :one
SELECT * FROM tenants WHERE slug = @slug;

-- name: TenantListIDs :many
SELECT id FROM tenants WHERE status = 'active' ORDER BY id;

-- name: TenantSetStatus :one
UPDATE tenants SET status = @status, updated_at = now() WHERE id = @id RETURNING *;
