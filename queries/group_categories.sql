-- GroupCategoryInsert creates a category at the end of the fallback order
-- (position max+1). It returns no row when the key exists already, so
-- concurrent creations of one category on the fly both succeed. Two new
-- categories created at the same moment may share a position; key order
-- breaks that tie.
-- name: GroupCategoryInsert :one
INSERT INTO group_categories (tenant_id, key, name, position)
SELECT @tenant_id::uuid, @key::text, @name::text, coalesce(max(position), 0) + 1
FROM group_categories WHERE tenant_id = @tenant_id::uuid
ON CONFLICT ON CONSTRAINT group_categories_pkey DO NOTHING
RETURNING *;

-- name: GroupCategoryGetByKey :one
SELECT * FROM group_categories WHERE tenant_id = @tenant_id AND key = @key;

-- name: GroupCategoryGetByKeyForUpdate :one
SELECT * FROM group_categories WHERE tenant_id = @tenant_id AND key = @key FOR UPDATE;

-- name: GroupCategoryListByKeys :many
SELECT * FROM group_categories WHERE tenant_id = @tenant_id AND key = ANY(@keys::text[]);

-- GroupCategoryList pages through categories in fallback order (position,
-- key). group_count counts the category's groups; with members_only (portal
-- users) only the groups the caller's customer belongs to.
-- name: GroupCategoryList :many
SELECT sqlc.embed(c),
    (SELECT count(*) FROM customer_groups g
      WHERE g.tenant_id = @tenant_id AND g.category = c.key
        AND (NOT @members_only::boolean
             OR EXISTS (SELECT 1 FROM customer_group_members m WHERE m.tenant_id = @tenant_id AND m.group_id = g.id))
    ) AS group_count
FROM group_categories c
WHERE c.tenant_id = @tenant_id
  AND (sqlc.narg(after_position)::integer IS NULL
       OR (c.position, c.key) > (sqlc.narg(after_position)::integer, sqlc.narg(after_key)::text))
ORDER BY c.position, c.key
LIMIT @row_limit;

-- name: GroupCategoryUpdate :one
UPDATE group_categories SET name = @name, position = @position, version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND key = @key
RETURNING *;

-- name: GroupCategoryGroupCount :one
SELECT count(*) FROM customer_groups g
WHERE g.tenant_id = @tenant_id AND g.category = @category
  AND (NOT @members_only::boolean
       OR EXISTS (SELECT 1 FROM customer_group_members m WHERE m.tenant_id = @tenant_id AND m.group_id = g.id));
