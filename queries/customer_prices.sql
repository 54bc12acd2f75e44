-- name: CustomerPriceGetForUpdate :one
SELECT * FROM customer_prices
WHERE tenant_id = @tenant_id AND customer_id = @customer_id AND item_id = @item_id
FOR UPDATE;

-- CustomerPriceUpsert sets a customer's own price for an item. updated_at
-- moves only when the price changes, to the inserted row's default,
-- now(), as EXCLUDED.updated_at (Citus refuses now() itself in DO UPDATE
-- SET).
-- The row takes its customer's reach as CustomerReachForShare read it.
-- name: CustomerPriceUpsert :one
INSERT INTO customer_prices (tenant_id, customer_id, item_id, price, reach)
VALUES (@tenant_id, @customer_id, @item_id, @price, @reach)
ON CONFLICT ON CONSTRAINT customer_prices_pkey DO UPDATE
SET price = excluded.price,
    updated_at = CASE WHEN customer_prices.price = excluded.price THEN customer_prices.updated_at ELSE excluded.updated_at END
RETURNING *;

-- name: CustomerPriceDelete :one
DELETE FROM customer_prices
WHERE tenant_id = @tenant_id AND customer_id = @customer_id AND item_id = @item_id
RETURNING *;
