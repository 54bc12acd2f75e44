-- OrderInsert writes an order with its customer's reach (the caller holds
-- the customer's row locked).
-- name: OrderInsert :one
INSERT INTO sales_orders (tenant_id, id, number, customer_id, location_id, currency, order_date, due_date,
    payment_terms_id, total, notes, credit_override, created_by, reach)
VALUES (@tenant_id, @id, @number, @customer_id, sqlc.narg(location_id), @currency, @order_date, @due_date,
    sqlc.narg(payment_terms_id), @total, sqlc.narg(notes), @credit_override, sqlc.narg(created_by), @reach)
RETURNING *;

-- OrderLinesInsert writes every line of an order in one statement (COPY is
-- refused under row-level security).
-- name: OrderLinesInsert :exec
INSERT INTO sales_order_lines (tenant_id, order_id, line_no, item_id, sku, name, quantity, unit_price, discount_rate, amount, price_source, reach)
SELECT o.tenant_id, o.id, l.line_no, l.item_id, l.sku, l.name, l.quantity, l.unit_price, l.discount_rate, l.amount, l.price_source, o.reach
FROM sales_orders o,
     (SELECT unnest(@line_nos::integer[]) AS line_no, unnest(@item_ids::uuid[]) AS item_id, unnest(@skus::text[]) AS sku,
             unnest(@names::text[]) AS name, unnest(@quantities::numeric[]) AS quantity,
             unnest(@unit_prices::numeric[]) AS unit_price, unnest(@discount_rates::numeric[]) AS discount_rate,
             unnest(@amounts::numeric[]) AS amount, unnest(@price_sources::text[]) AS price_source) l
WHERE o.tenant_id = @tenant_id AND o.id = @order_id;

-- name: OrderLinesDelete :exec
DELETE FROM sales_order_lines WHERE tenant_id = @tenant_id AND order_id = @order_id;

-- name: OrderLines :many
SELECT * FROM sales_order_lines WHERE tenant_id = @tenant_id AND order_id = ANY (@order_ids::uuid[]) ORDER BY order_id, line_no;

-- name: OrderGetByID :one
SELECT * FROM sales_orders WHERE tenant_id = @tenant_id AND id = @id;

-- name: OrderGetByIDForUpdate :one
SELECT * FROM sales_orders WHERE tenant_id = @tenant_id AND id = @id FOR UPDATE;

-- name: OrderUpdate :one
UPDATE sales_orders SET location_id = sqlc.narg(location_id), order_date = @order_date, due_date = @due_date,
    payment_terms_id = sqlc.narg(payment_terms_id), total = @total, notes = sqlc.narg(notes),
    credit_override = @credit_override, version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id
RETURNING *;

-- OrderSetStatus moves an order to a status and stamps when it got there,
-- @now: Citus refuses now() inside CASE.
-- name: OrderSetStatus :one
UPDATE sales_orders SET status = @status, version = version + 1, updated_at = @now::timestamptz,
    shipped_at = CASE WHEN @status::text = 'shipped' THEN @now::timestamptz ELSE shipped_at END,
    invoiced_at = CASE WHEN @status::text IN ('invoiced', 'paid') AND invoiced_at IS NULL THEN @now::timestamptz ELSE invoiced_at END,
    paid_at = CASE WHEN @status::text = 'paid' THEN @now::timestamptz ELSE paid_at END,
    cancelled_at = CASE WHEN @status::text = 'cancelled' THEN @now::timestamptz ELSE cancelled_at END
WHERE tenant_id = @tenant_id AND id = @id
RETURNING *;

-- name: OrderAddPaid :one
UPDATE sales_orders SET paid_amount = paid_amount + @amount, version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id
RETURNING *;

-- OrderList pages through orders, newest first, optionally of one
-- customer, in a status and an order-date range.
-- name: OrderList :many
SELECT * FROM sales_orders
WHERE tenant_id = @tenant_id
  AND (sqlc.narg(customer_id)::uuid IS NULL OR customer_id = sqlc.narg(customer_id)::uuid)
  AND (cardinality(@statuses::text[]) = 0 OR status = ANY (@statuses::text[]))
  AND (sqlc.narg(date_from)::date IS NULL OR order_date >= sqlc.narg(date_from)::date)
  AND (sqlc.narg(date_to)::date IS NULL OR order_date <= sqlc.narg(date_to)::date)
  AND (sqlc.narg(after_id)::uuid IS NULL OR (order_date, id) < (sqlc.narg(after_date)::date, sqlc.narg(after_id)::uuid))
ORDER BY order_date DESC, id DESC
LIMIT @row_limit;

-- OrderOldestOpen returns the order date of the customer's oldest order
-- not fully paid (none: no row), for the credit period check.
-- name: OrderOldestOpen :one
SELECT number, order_date FROM sales_orders
WHERE tenant_id = @tenant_id AND customer_id = @customer_id AND status <> 'cancelled' AND paid_amount < total
ORDER BY order_date, id
LIMIT 1;

-- CustomerFiguresRecompute recomputes a customer's figures from its orders
-- and payments (last_payment_at is the dormant sweep's). Callers lock the
-- customer row first, so that concurrent writers for one customer take
-- turns and each sees the other's rows. The version and updated_at stay:
-- figures are derived, not an edit.
-- name: CustomerFiguresRecompute :exec
UPDATE customers c SET
    order_count = f.order_count, total_order_value = f.total, last_order_at = f.last_order_at,
    balance = f.total - p.paid, overdue_amount = f.overdue, last_payment_at = p.last_paid
FROM (SELECT count(*)::integer AS order_count, coalesce(sum(o.total), 0) AS total,
             max(o.order_date)::timestamptz AS last_order_at,
             coalesce(sum(o.total - o.paid_amount) FILTER (WHERE o.due_date < current_date), 0) AS overdue
        FROM sales_orders o
       WHERE o.tenant_id = @tenant_id AND o.customer_id = @customer_id AND o.status <> 'cancelled') f,
     (SELECT coalesce(sum(pm.amount), 0) AS paid, max(pm.received_at)::timestamptz AS last_paid FROM payments pm
       WHERE pm.tenant_id = @tenant_id AND pm.customer_id = @customer_id) p
WHERE c.tenant_id = @tenant_id AND c.id = @customer_id;

-- CustomerOverdueRefresh recomputes overdue amounts that time changed: a
-- due date passing makes an unpaid order overdue with no write to it.
-- name: CustomerOverdueRefresh :execrows
UPDATE customers c SET overdue_amount = f.overdue
FROM (SELECT o.customer_id, coalesce(sum(o.total - o.paid_amount) FILTER (WHERE o.due_date < current_date), 0) AS overdue
        FROM sales_orders o
       WHERE o.tenant_id = @tenant_id AND o.status <> 'cancelled' AND o.paid_amount < o.total
       GROUP BY o.customer_id) f
WHERE c.tenant_id = @tenant_id AND c.id = f.customer_id AND c.overdue_amount <> f.overdue;

-- name: LocationOfCustomer :one
SELECT EXISTS (SELECT 1 FROM customer_locations WHERE tenant_id = @tenant_id AND id = @id AND customer_id = @customer_id);
