-- ItemInsert returns no row when the SKU is already taken in the tenant.
-- name: ItemInsert :one
INSERT INTO items (tenant_id, id, sku, name, base_price)
VALUES (@tenant_id, @id, @sku, @name, @base_price)
ON CONFLICT ON CONSTRAINT items_sku_key DO NOTHING
RETURNING *;

-- name: ItemGetByID :one
SELECT * FROM items WHERE tenant_id = @tenant_id AND id = @id;

-- name: ItemGetByIDForUpdate :one
SELECT * FROM items WHERE tenant_id = @tenant_id AND id = @id FOR UPDATE;

-- ItemGetBySKU finds an item, active or not, for setting its prices.
-- name: ItemGetBySKU :one
SELECT * FROM items WHERE tenant_id = @tenant_id AND sku = @sku;

-- ItemList pages through items by (sku, id). pattern is a LIKE pattern
-- (wildcards in the user's text escaped) matched against the SKU and the
-- name, ignoring case.
-- name: ItemList :many
SELECT * FROM items
WHERE tenant_id = @tenant_id
  AND (sqlc.narg(pattern)::text IS NULL OR sku ILIKE sqlc.narg(pattern)::text OR name ILIKE sqlc.narg(pattern)::text)
  AND (sqlc.narg(active)::boolean IS NULL OR active = sqlc.narg(active)::boolean)
  AND (sqlc.narg(after_sku)::text IS NULL OR (sku, id) > (sqlc.narg(after_sku)::text, sqlc.narg(after_id)::uuid))
ORDER BY sku, id
LIMIT @row_limit;

-- name: ItemUpdate :one
UPDATE items SET sku = @sku, name = @name, base_price = @base_price, active = @active,
    version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id
RETURNING *;

-- ItemDelete fails with a foreign key violation while an order line uses
-- the item (row-level security does not hide the line from the check); the
-- item's list and customer prices go with it.
-- name: ItemDelete :execrows
DELETE FROM items WHERE tenant_id = @tenant_id AND id = @id;

-- ItemQuoteList gathers, in one query, the active items with the given
-- SKUs and every candidate price for a customer: the customer's own price,
-- the price in the customer's own list and in its group's default list,
-- each list with its currency (the caller compares it with the customer's).
-- A list id that is null joins nothing: it is compared as the nil UUID,
-- which no list has (list ids are random), never as NULL, which Citus
-- cannot plan in an outer join's ON clause. customer_prices follows the
-- customer's visibility, so a customer the caller cannot see has no own
-- prices here.
-- name: ItemQuoteList :many
SELECT i.id, i.sku, i.name, i.base_price,
    cp.price AS customer_price,
    own.price AS own_list_price, own_list.currency AS own_list_currency,
    grp.price AS group_list_price, grp_list.currency AS group_list_currency
FROM items i
LEFT JOIN customer_prices cp
    ON cp.tenant_id = i.tenant_id AND cp.customer_id = @customer_id AND cp.item_id = i.id
LEFT JOIN price_list_items own
    ON own.tenant_id = i.tenant_id AND own.price_list_id = coalesce(sqlc.narg(own_list_id)::uuid, '00000000-0000-0000-0000-000000000000') AND own.item_id = i.id
LEFT JOIN price_lists own_list
    ON own_list.tenant_id = own.tenant_id AND own_list.id = own.price_list_id
LEFT JOIN price_list_items grp
    ON grp.tenant_id = i.tenant_id AND grp.price_list_id = coalesce(sqlc.narg(group_list_id)::uuid, '00000000-0000-0000-0000-000000000000') AND grp.item_id = i.id
LEFT JOIN price_lists grp_list
    ON grp_list.tenant_id = grp.tenant_id AND grp_list.id = grp.price_list_id
WHERE i.tenant_id = @tenant_id AND i.sku = ANY (@skus::text[]) AND i.active;
