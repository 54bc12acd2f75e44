-- name: PriceListItemGetForUpdate :one
SELECT * FROM price_list_items
WHERE tenant_id = @tenant_id AND price_list_id = @price_list_id AND item_id = @item_id
FOR UPDATE;

-- PriceListItemUpsert sets an item's price in a list. updated_at moves
-- only when the price changes, to the inserted row's default, now(), as
-- EXCLUDED.updated_at (Citus refuses now() itself in DO UPDATE SET).
-- name: PriceListItemUpsert :one
INSERT INTO price_list_items (tenant_id, price_list_id, item_id, price)
VALUES (@tenant_id, @price_list_id, @item_id, @price)
ON CONFLICT ON CONSTRAINT price_list_items_pkey DO UPDATE
SET price = excluded.price,
    updated_at = CASE WHEN price_list_items.price = excluded.price THEN price_list_items.updated_at ELSE excluded.updated_at END
RETURNING *;

-- PriceListItemList pages through a list's item prices by (sku, item id).
-- name: PriceListItemList :many
SELECT p.price_list_id, p.item_id, p.price, p.updated_at, i.sku, i.name
FROM price_list_items p
JOIN items i ON i.tenant_id = p.tenant_id AND i.id = p.item_id
WHERE p.tenant_id = @tenant_id AND p.price_list_id = @price_list_id
  AND (sqlc.narg(after_sku)::text IS NULL OR (i.sku, i.id) > (sqlc.narg(after_sku)::text, sqlc.narg(after_id)::uuid))
ORDER BY i.sku, i.id
LIMIT @row_limit;

-- name: PriceListItemDelete :one
DELETE FROM price_list_items
WHERE tenant_id = @tenant_id AND price_list_id = @price_list_id AND item_id = @item_id
RETURNING *;

-- PriceListItemExists reports whether a list holds any item price (its
-- currency is then fixed).
-- name: PriceListItemExists :one
SELECT EXISTS (SELECT 1 FROM price_list_items WHERE tenant_id = @tenant_id AND price_list_id = @price_list_id)::boolean;

-- PriceListItemLockList reads the list an item price is written to and
-- holds a share lock on it: its currency, which the price is in, cannot
-- change until the write commits (PriceListUpdate then sees the price and
-- refuses the change).
-- name: PriceListItemLockList :one
SELECT * FROM price_lists WHERE tenant_id = @tenant_id AND id = @id FOR SHARE;
