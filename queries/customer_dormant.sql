-- The dormant-customer sweep (issue 12). A customer is a candidate when it
-- is active, was created before the cutoff, has had no order and no
-- payment since it (last_order_at, last_payment_at: dates of the
-- transactions), was not brought back from dormant since it
-- (reactivated_at), and owes nothing unless the tenant sweeps open
-- balances too. The same condition is written in every query below; a
-- test holds them to the same rows.

-- CustomerDormantSelect evaluates the sweep into the job's targets, in
-- the rows' physical order (see job_targets). ON CONFLICT never fires (the
-- job is new); Citus needs it (customer_bulk.sql).
-- name: CustomerDormantSelect :execrows
INSERT INTO job_targets (tenant_id, job_id, seq, target_id)
SELECT c.tenant_id, @job_id, row_number() OVER (ORDER BY c.ctid), c.id FROM customers c
WHERE c.tenant_id = @tenant_id AND c.status = 'active' AND c.created_at < @before::timestamptz
  AND (c.last_order_at IS NULL OR c.last_order_at < @before::timestamptz)
  AND (c.last_payment_at IS NULL OR c.last_payment_at < @before::timestamptz)
  AND (c.reactivated_at IS NULL OR c.reactivated_at < @before::timestamptz)
  AND (@include_open_balance::boolean OR c.balance <= 0)
ON CONFLICT ON CONSTRAINT job_targets_pkey DO NOTHING;

-- CustomerDormantMark marks a batch dormant, re-checking the condition on
-- each row as it is written: an order or payment write locks the
-- customer's row and rewrites its figures, so a batch that waited for it
-- sees the new figures and leaves the customer alone.
-- name: CustomerDormantMark :many
UPDATE customers c SET status = 'dormant', version = c.version + 1, updated_at = now()
WHERE c.tenant_id = @tenant_id AND c.id = ANY (@ids::uuid[]) AND c.status = 'active'
  AND c.created_at < @before::timestamptz
  AND (c.last_order_at IS NULL OR c.last_order_at < @before::timestamptz)
  AND (c.last_payment_at IS NULL OR c.last_payment_at < @before::timestamptz)
  AND (c.reactivated_at IS NULL OR c.reactivated_at < @before::timestamptz)
  AND (@include_open_balance::boolean OR c.balance <= 0)
RETURNING c.id;

-- CustomerDormantCount counts what a sweep would mark now (a dry run).
-- name: CustomerDormantCount :one
SELECT count(*) FROM customers c
WHERE c.tenant_id = @tenant_id AND c.status = 'active' AND c.created_at < @before::timestamptz
  AND (c.last_order_at IS NULL OR c.last_order_at < @before::timestamptz)
  AND (c.last_payment_at IS NULL OR c.last_payment_at < @before::timestamptz)
  AND (c.reactivated_at IS NULL OR c.reactivated_at < @before::timestamptz)
  AND (@include_open_balance::boolean OR c.balance <= 0);

-- CustomerDormantPage is the first page of a dry run, by name.
-- name: CustomerDormantPage :many
SELECT c.* FROM customers c
WHERE c.tenant_id = @tenant_id AND c.status = 'active' AND c.created_at < @before::timestamptz
  AND (c.last_order_at IS NULL OR c.last_order_at < @before::timestamptz)
  AND (c.last_payment_at IS NULL OR c.last_payment_at < @before::timestamptz)
  AND (c.reactivated_at IS NULL OR c.reactivated_at < @before::timestamptz)
  AND (@include_open_balance::boolean OR c.balance <= 0)
ORDER BY c.name, c.id
LIMIT @row_limit;

-- CustomerReactivate brings a dormant customer back (the trigger of
-- migration 000013 stamps reactivated_at); the caller holds its row.
-- name: CustomerReactivate :one
UPDATE customers SET status = 'active', version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id AND status = 'dormant'
RETURNING *;
