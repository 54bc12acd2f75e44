-- ReceivablesByCustomer returns one page of the receivables aging: one row
-- per customer and currency with something outstanding or unapplied
-- credit, in (name, id, currency) order after the cursor.
--
-- Outstanding is total - paid_amount of the orders neither cancelled nor
-- fully paid (exactly the rows of the partial index sales_orders_open_idx),
-- aged by days past due as of @as_of (as_of - due_date): current when not
-- yet due, then 1-30, 31-60, 61-90 and over 90. Unapplied credit is what
-- the customer's payments hold beyond their allocations to orders. No
-- amount is summed across currencies.
--
-- No query here filters by visibility: sales_orders, payments and
-- customer_group_members follow their customer's row-level security
-- policy, so an 'assigned' user's report covers only the customers they
-- see.
--
-- The walk follows customers_name_idx and reads each customer's open
-- orders and payments through their per-customer indexes, so a page costs
-- about its own rows when most customers owe something. The cursor's
-- (name, id) bound is the part the index can use; the currency breaks ties
-- between one customer's rows.
-- name: ReceivablesByCustomer :many
SELECT c.id, c.code, c.name, b.currency,
       b.current::numeric AS current, b.days_1_30::numeric AS days_1_30, b.days_31_60::numeric AS days_31_60,
       b.days_61_90::numeric AS days_61_90, b.days_90_plus::numeric AS days_90_plus,
       b.unapplied_credit::numeric AS unapplied_credit
FROM customers c
CROSS JOIN LATERAL (
    SELECT e.currency,
           coalesce(sum(e.outstanding) FILTER (WHERE e.due_date >= @as_of::date), 0) AS current,
           coalesce(sum(e.outstanding) FILTER (WHERE (@as_of::date) - e.due_date BETWEEN 1 AND 30), 0) AS days_1_30,
           coalesce(sum(e.outstanding) FILTER (WHERE (@as_of::date) - e.due_date BETWEEN 31 AND 60), 0) AS days_31_60,
           coalesce(sum(e.outstanding) FILTER (WHERE (@as_of::date) - e.due_date BETWEEN 61 AND 90), 0) AS days_61_90,
           coalesce(sum(e.outstanding) FILTER (WHERE (@as_of::date) - e.due_date > 90), 0) AS days_90_plus,
           coalesce(sum(e.unapplied), 0) AS unapplied_credit
    FROM (
        SELECT o.currency, o.due_date, o.total - o.paid_amount AS outstanding, 0::numeric AS unapplied
          FROM sales_orders o
         WHERE o.tenant_id = @tenant_id AND o.customer_id = c.id
           AND o.status <> 'cancelled' AND o.paid_amount < o.total
        UNION ALL
        SELECT p.currency, NULL::date, 0::numeric,
               p.amount - coalesce((SELECT sum(a.amount) FROM payment_allocations a
                                     WHERE a.tenant_id = @tenant_id AND a.payment_id = p.id), 0)
          FROM payments p
         WHERE p.tenant_id = @tenant_id AND p.customer_id = c.id
    ) e
    GROUP BY e.currency
    HAVING sum(e.outstanding) <> 0 OR sum(e.unapplied) <> 0
) b
WHERE c.tenant_id = @tenant_id
  AND (sqlc.narg(after_id)::uuid IS NULL
       OR ((c.name, c.id) >= (sqlc.narg(after_name)::text, sqlc.narg(after_id)::uuid)
           AND (c.name, c.id, b.currency) > (sqlc.narg(after_name)::text, sqlc.narg(after_id)::uuid, sqlc.narg(after_currency)::text)))
ORDER BY c.name, c.id, b.currency
LIMIT @row_limit;

-- ReceivablesByGroup sums the aging of every customer the caller sees per
-- group of a category and currency; customers in no group of the category
-- come in the row whose group is NULL. With a NULL category every
-- customer is in that row, which makes it the per-currency totals: it is
-- compared as '', which no category key is (group.NormalizeCategory),
-- never as NULL, which Citus cannot plan in an outer join's ON clause. Sums
-- go per customer first and then per group, both hashed on ids: one
-- membership lookup per customer rather than per order, and no sort of
-- every row (a count(DISTINCT) would force one).
-- name: ReceivablesByGroup :many
WITH e AS (
    SELECT o.customer_id, o.currency, o.due_date, o.total - o.paid_amount AS outstanding, 0::numeric AS unapplied
      FROM sales_orders o
     WHERE o.tenant_id = @tenant_id AND o.status <> 'cancelled' AND o.paid_amount < o.total
    UNION ALL
    SELECT p.customer_id, p.currency, NULL::date, 0::numeric, p.amount - coalesce(al.allocated, 0)
      FROM payments p
      LEFT JOIN (SELECT a.payment_id, sum(a.amount) AS allocated
                   FROM payment_allocations a
                  WHERE a.tenant_id = @tenant_id
                  GROUP BY a.payment_id) al ON al.payment_id = p.id
     WHERE p.tenant_id = @tenant_id AND p.amount > coalesce(al.allocated, 0)
), per_customer AS (
    SELECT e.customer_id, e.currency,
           coalesce(sum(e.outstanding) FILTER (WHERE e.due_date >= @as_of::date), 0) AS current,
           coalesce(sum(e.outstanding) FILTER (WHERE (@as_of::date) - e.due_date BETWEEN 1 AND 30), 0) AS days_1_30,
           coalesce(sum(e.outstanding) FILTER (WHERE (@as_of::date) - e.due_date BETWEEN 31 AND 60), 0) AS days_31_60,
           coalesce(sum(e.outstanding) FILTER (WHERE (@as_of::date) - e.due_date BETWEEN 61 AND 90), 0) AS days_61_90,
           coalesce(sum(e.outstanding) FILTER (WHERE (@as_of::date) - e.due_date > 90), 0) AS days_90_plus,
           sum(e.unapplied) AS unapplied_credit
      FROM e
     GROUP BY e.customer_id, e.currency
), per_group AS (
    SELECT m.group_id, pc.currency,
           sum(pc.current) AS current, sum(pc.days_1_30) AS days_1_30, sum(pc.days_31_60) AS days_31_60,
           sum(pc.days_61_90) AS days_61_90, sum(pc.days_90_plus) AS days_90_plus,
           sum(pc.unapplied_credit) AS unapplied_credit, count(*) AS customer_count
      FROM per_customer pc
      LEFT JOIN customer_group_members m
             ON m.tenant_id = @tenant_id AND m.customer_id = pc.customer_id AND m.category = coalesce(sqlc.narg(category)::text, '')
     GROUP BY m.group_id, pc.currency
)
SELECT g.id AS group_id, g.code AS group_code, g.name AS group_name, x.currency,
       x.current::numeric AS current, x.days_1_30::numeric AS days_1_30, x.days_31_60::numeric AS days_31_60,
       x.days_61_90::numeric AS days_61_90, x.days_90_plus::numeric AS days_90_plus,
       x.unapplied_credit::numeric AS unapplied_credit, x.customer_count::bigint AS customer_count
FROM per_group x
LEFT JOIN customer_groups g ON g.tenant_id = @tenant_id AND g.id = x.group_id
ORDER BY g.code NULLS LAST, g.id, x.currency;

-- SalesByGroup counts and sums the orders that are not cancelled, with an
-- order date in the optional inclusive range, per group of a category and
-- currency (a NULL group for customers in no group of it). The range
-- reads sales_orders_date_idx; sums go per customer first, then per group,
-- as in ReceivablesByGroup.
-- name: SalesByGroup :many
WITH per_customer AS (
    SELECT o.customer_id, o.currency, count(*) AS order_count, sum(o.total) AS total
      FROM sales_orders o
     WHERE o.tenant_id = @tenant_id AND o.status <> 'cancelled'
       AND (sqlc.narg(date_from)::date IS NULL OR o.order_date >= sqlc.narg(date_from)::date)
       AND (sqlc.narg(date_to)::date IS NULL OR o.order_date <= sqlc.narg(date_to)::date)
     GROUP BY o.customer_id, o.currency
), per_group AS (
    SELECT m.group_id, pc.currency, sum(pc.order_count) AS order_count, sum(pc.total) AS total, count(*) AS customer_count
      FROM per_customer pc
      LEFT JOIN customer_group_members m
             ON m.tenant_id = @tenant_id AND m.customer_id = pc.customer_id AND m.category = @category::text
     GROUP BY m.group_id, pc.currency
)
SELECT g.id AS group_id, g.code AS group_code, g.name AS group_name, x.currency,
       x.order_count::bigint AS order_count, x.total::numeric AS total, x.customer_count::bigint AS customer_count
FROM per_group x
LEFT JOIN customer_groups g ON g.tenant_id = @tenant_id AND g.id = x.group_id
ORDER BY x.total DESC, g.code NULLS LAST, g.id, x.currency;
