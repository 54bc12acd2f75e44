-- PaymentInsert records a payment with its customer's reach (the caller
-- holds the customer's row locked).
-- name: PaymentInsert :one
INSERT INTO payments (tenant_id, id, number, customer_id, amount, currency, received_at, method, reference, created_by, reach)
VALUES (@tenant_id, @id, @number, @customer_id, @amount, @currency, @received_at, sqlc.narg(method), sqlc.narg(reference), sqlc.narg(created_by), @reach)
RETURNING *;

-- name: PaymentAllocationInsert :exec
INSERT INTO payment_allocations (tenant_id, payment_id, order_id, amount, reach)
SELECT p.tenant_id, p.id, @order_id::uuid, @amount::numeric, p.reach
FROM payments p WHERE p.tenant_id = @tenant_id AND p.id = @payment_id;

-- name: PaymentGetByID :one
SELECT * FROM payments WHERE tenant_id = @tenant_id AND id = @id;

-- name: PaymentAllocations :many
SELECT a.*, o.number AS order_number FROM payment_allocations a
JOIN sales_orders o ON o.tenant_id = a.tenant_id AND o.id = a.order_id
WHERE a.tenant_id = @tenant_id AND a.payment_id = ANY (@payment_ids::uuid[])
ORDER BY a.payment_id, o.number;

-- name: PaymentList :many
SELECT * FROM payments
WHERE tenant_id = @tenant_id
  AND (sqlc.narg(customer_id)::uuid IS NULL OR customer_id = sqlc.narg(customer_id)::uuid)
  AND (sqlc.narg(date_from)::date IS NULL OR received_at >= sqlc.narg(date_from)::date)
  AND (sqlc.narg(date_to)::date IS NULL OR received_at <= sqlc.narg(date_to)::date)
  AND (sqlc.narg(after_id)::uuid IS NULL OR (received_at, id) < (sqlc.narg(after_date)::date, sqlc.narg(after_id)::uuid))
ORDER BY received_at DESC, id DESC
LIMIT @row_limit;

-- Ledger lists a customer's orders (not cancelled) and payments in date
-- order with the running balance from the start of its history; the page
-- starts after the cursor.
-- name: Ledger :many
SELECT * FROM (
    SELECT e.kind, e.id, e.number, e.entry_date, e.created_at, e.amount, coalesce(e.status, '')::text AS status,
           (sum(e.amount) OVER (ORDER BY e.entry_date, e.created_at, e.id))::numeric AS running_balance
    FROM (
        SELECT 'order'::text AS kind, o.id, o.number, o.order_date AS entry_date, o.created_at, o.total AS amount, o.status
          FROM sales_orders o
         WHERE o.tenant_id = @tenant_id AND o.customer_id = @customer_id AND o.status <> 'cancelled'
        UNION ALL
        SELECT 'payment'::text, p.id, p.number, p.received_at, p.created_at, -p.amount, NULL::text
          FROM payments p
         WHERE p.tenant_id = @tenant_id AND p.customer_id = @customer_id
    ) e
) l
WHERE (sqlc.narg(after_id)::uuid IS NULL
       OR (l.entry_date, l.created_at, l.id) > (sqlc.narg(after_date)::date, sqlc.narg(after_created)::timestamptz, sqlc.narg(after_id)::uuid))
  AND (sqlc.narg(date_from)::date IS NULL OR l.entry_date >= sqlc.narg(date_from)::date)
  AND (sqlc.narg(date_to)::date IS NULL OR l.entry_date <= sqlc.narg(date_to)::date)
ORDER BY l.entry_date, l.created_at, l.id
LIMIT @row_limit;
