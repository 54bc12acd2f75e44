-- CustomFieldDefInsert returns no row when the key is already taken in the
-- tenant.
-- name: CustomFieldDefInsert :one
INSERT INTO custom_field_defs (tenant_id, id, key, label, type, required, options, position)
VALUES (@tenant_id, @id, @key, @label, @type, @required, @options, @position)
ON CONFLICT ON CONSTRAINT custom_field_defs_key_key DO NOTHING
RETURNING *;

-- name: CustomFieldDefGetByID :one
SELECT * FROM custom_field_defs WHERE tenant_id = @tenant_id AND id = @id;

-- name: CustomFieldDefGetByIDForUpdate :one
SELECT * FROM custom_field_defs WHERE tenant_id = @tenant_id AND id = @id FOR UPDATE;

-- CustomFieldDefList pages through definitions by (position, key).
-- name: CustomFieldDefList :many
SELECT * FROM custom_field_defs
WHERE tenant_id = @tenant_id
  AND (sqlc.narg(after_position)::integer IS NULL
       OR (position, key) > (sqlc.narg(after_position)::integer, sqlc.narg(after_key)::text))
ORDER BY position, key
LIMIT @row_limit;

-- name: CustomFieldDefCount :one
SELECT count(*) FROM custom_field_defs WHERE tenant_id = @tenant_id;

-- name: CustomFieldDefUpdate :one
UPDATE custom_field_defs SET label = @label, required = @required, options = @options, position = @position,
    version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id
RETURNING *;

-- name: CustomFieldDefDelete :execrows
DELETE FROM custom_field_defs WHERE tenant_id = @tenant_id AND id = @id;

-- CustomFieldValuesDelete removes one key from the custom values of every
-- customer of the tenant the transaction can see (run it with visibility
-- 'all'). The GIN index on custom (jsonb_path_ops) cannot answer `?`, so
-- this reads all the tenant's customers: acceptable for a rare schema
-- change. Versions are not bumped: a key without a definition is never
-- shown, so no client-visible representation changes.
-- name: CustomFieldValuesDelete :execrows
UPDATE customers SET custom = custom - @key::text
WHERE tenant_id = @tenant_id AND custom ? @key::text;
