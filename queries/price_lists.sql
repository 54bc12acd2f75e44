-- PriceListInsert returns no row when the code is already taken in the
-- tenant.
-- name: PriceListInsert :one
INSERT INTO price_lists (tenant_id, id, code, name, currency)
VALUES (@tenant_id, @id, @code, @name, @currency)
ON CONFLICT ON CONSTRAINT price_lists_code_key DO NOTHING
RETURNING *;

-- name: PriceListGetByID :one
SELECT * FROM price_lists WHERE tenant_id = @tenant_id AND id = @id;

-- name: PriceListGetByIDForUpdate :one
SELECT * FROM price_lists WHERE tenant_id = @tenant_id AND id = @id FOR UPDATE;

-- PriceListList pages through price lists by (code, id).
-- name: PriceListList :many
SELECT * FROM price_lists
WHERE tenant_id = @tenant_id
  AND (sqlc.narg(after_code)::text IS NULL OR (code, id) > (sqlc.narg(after_code)::text, sqlc.narg(after_id)::uuid))
ORDER BY code, id
LIMIT @row_limit;

-- name: PriceListUpdate :one
UPDATE price_lists SET code = @code, name = @name, currency = @currency,
    version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id
RETURNING *;

-- PriceListDelete fails with a foreign key violation while a customer or a
-- group refers to the list (row-level security does not hide referencing
-- rows from the check).
-- name: PriceListDelete :execrows
DELETE FROM price_lists WHERE tenant_id = @tenant_id AND id = @id;
