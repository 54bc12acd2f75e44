-- GroupInsert returns no row when the code is already taken in the
-- category.
-- name: GroupInsert :one
INSERT INTO customer_groups (tenant_id, id, category, code, name, price_list_id, payment_terms_id,
    credit_limit, credit_days, discount_rate)
VALUES (@tenant_id, @id, @category, @code, @name, sqlc.narg(price_list_id), sqlc.narg(payment_terms_id),
    sqlc.narg(credit_limit), sqlc.narg(credit_days), sqlc.narg(discount_rate))
ON CONFLICT ON CONSTRAINT customer_groups_code_key DO NOTHING
RETURNING *;

-- GroupGetByID reads a group with its category and the number of its
-- members the caller can see: customer_group_members' policy follows the
-- customer's visibility, so a sales rep counts only their own customers.
-- With members_only (portal users) a group the caller's customer is not in
-- is not found.
-- name: GroupGetByID :one
SELECT sqlc.embed(g), c.name AS category_name, c.position AS category_position,
    (SELECT count(*) FROM customer_group_members m WHERE m.tenant_id = @tenant_id AND m.group_id = g.id) AS customer_count
FROM customer_groups g
JOIN group_categories c ON c.tenant_id = @tenant_id AND c.key = g.category
WHERE g.tenant_id = @tenant_id AND g.id = @id
  AND (NOT @members_only::boolean
       OR EXISTS (SELECT 1 FROM customer_group_members m WHERE m.tenant_id = @tenant_id AND m.group_id = g.id));

-- GroupGetByIDForUpdate is GroupGetByID locking the group row.
-- name: GroupGetByIDForUpdate :one
SELECT sqlc.embed(g), c.name AS category_name, c.position AS category_position,
    (SELECT count(*) FROM customer_group_members m WHERE m.tenant_id = @tenant_id AND m.group_id = g.id) AS customer_count
FROM customer_groups g
JOIN group_categories c ON c.tenant_id = @tenant_id AND c.key = g.category
WHERE g.tenant_id = @tenant_id AND g.id = @id
FOR UPDATE OF g;

-- GroupList pages through groups, most recently modified first, keyset on
-- (updated_at, id). The patterns are ILIKE patterns built by the service
-- from user text with LIKE wildcards escaped; the match mode decides where
-- the service puts %.
-- name: GroupList :many
SELECT sqlc.embed(g), c.name AS category_name, c.position AS category_position,
    (SELECT count(*) FROM customer_group_members m WHERE m.tenant_id = @tenant_id AND m.group_id = g.id) AS customer_count
FROM customer_groups g
JOIN group_categories c ON c.tenant_id = @tenant_id AND c.key = g.category
WHERE g.tenant_id = @tenant_id
  AND (sqlc.narg(category)::text IS NULL OR g.category = sqlc.narg(category)::text)
  AND (sqlc.narg(code_pattern)::text IS NULL OR g.code ILIKE sqlc.narg(code_pattern)::text)
  AND (sqlc.narg(name_pattern)::text IS NULL OR g.name ILIKE sqlc.narg(name_pattern)::text)
  AND (sqlc.narg(after_updated_at)::timestamptz IS NULL
       OR (g.updated_at, g.id) < (sqlc.narg(after_updated_at)::timestamptz, sqlc.narg(after_id)::uuid))
  AND (NOT @members_only::boolean
       OR EXISTS (SELECT 1 FROM customer_group_members m WHERE m.tenant_id = @tenant_id AND m.group_id = g.id))
ORDER BY g.updated_at DESC, g.id DESC
LIMIT @row_limit;

-- GroupListByCodes finds the groups named by (category, code) pairs, the
-- two arrays being read in step.
-- name: GroupListByCodes :many
SELECT sqlc.embed(g), c.name AS category_name, c.position AS category_position
FROM customer_groups g
JOIN group_categories c ON c.tenant_id = @tenant_id AND c.key = g.category
JOIN (SELECT unnest(@categories::text[]) AS category, unnest(@codes::text[]) AS code) w ON w.category = g.category AND w.code = g.code
WHERE g.tenant_id = @tenant_id;

-- name: GroupUpdate :one
UPDATE customer_groups SET code = @code, name = @name, price_list_id = sqlc.narg(price_list_id),
    payment_terms_id = sqlc.narg(payment_terms_id), credit_limit = sqlc.narg(credit_limit),
    credit_days = sqlc.narg(credit_days), discount_rate = sqlc.narg(discount_rate),
    version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id
RETURNING *;

-- GroupDelete fails on customer_group_members_group_fkey while the group
-- has members, including members the caller cannot see (foreign key checks
-- bypass row-level security).
-- name: GroupDelete :execrows
DELETE FROM customer_groups WHERE tenant_id = @tenant_id AND id = @id;

-- GroupCodeList lists every group of the tenant by category and code, up
-- to @row_limit: the import template's validation lists and an import's
-- resolution of group codes read them once per file.
-- name: GroupCodeList :many
SELECT id, category, code FROM customer_groups
WHERE tenant_id = @tenant_id
ORDER BY category, code
LIMIT @row_limit;
