-- Bulk updates of customers (issue 5). The selection is evaluated once,
-- when the job starts, into job_targets (numbered in the rows' physical
-- order); batches then walk the targets in that order. (The inserts' ON
-- CONFLICT never fires, the job being new: Citus must gather the numbered
-- rows on the coordinator, and without it would COPY them back, which
-- row-level security refuses.)

-- CustomerSelectionInsertIDs keeps the given ids the caller can see (the
-- customers policy filters the rest).
-- name: CustomerSelectionInsertIDs :execrows
INSERT INTO job_targets (tenant_id, job_id, seq, target_id)
SELECT c.tenant_id, @job_id, row_number() OVER (ORDER BY c.ctid), c.id FROM customers c
WHERE c.tenant_id = @tenant_id AND c.id = ANY (@ids::uuid[])
ON CONFLICT ON CONSTRAINT job_targets_pkey DO NOTHING;

-- CustomerSelectionInsert selects what GET /v1/customers would list with
-- the same filters: its WHERE clause is the list's filter
-- (queries/fragments/customer_filter.sql), and TestFilterSelectsAlike
-- holds the two to the same customers for every filter.
-- name: CustomerSelectionInsert :execrows
INSERT INTO job_targets (tenant_id, job_id, seq, target_id)
SELECT c.tenant_id, @job_id, row_number() OVER (ORDER BY c.ctid), c.id FROM customers c
WHERE
  -- fragment: customer_filter (generated from queries/fragments/customer_filter.sql: edit it there and run make generate)
  c.tenant_id = @tenant_id
  AND (sqlc.narg(scope_user_id)::uuid IS NULL OR c.reach @> ARRAY[sqlc.narg(scope_user_id)::uuid])
  AND (sqlc.narg(scope_customer_id)::uuid IS NULL OR c.id = sqlc.narg(scope_customer_id)::uuid)
  AND (sqlc.narg(search_ids)::uuid[] IS NULL OR c.id = ANY (sqlc.narg(search_ids)::uuid[]))
  AND (sqlc.narg(search_like)::text IS NULL OR c.search_text LIKE sqlc.narg(search_like)::text)
  AND c.status = ANY (@statuses::text[])
  AND (sqlc.narg(type)::text IS NULL OR c.type = sqlc.narg(type)::text)
  AND (sqlc.narg(kind)::text IS NULL OR c.kind = sqlc.narg(kind)::text)
  AND (sqlc.narg(sales_rep_id)::uuid IS NULL OR c.sales_rep_id = sqlc.narg(sales_rep_id)::uuid)
  AND (sqlc.narg(payment_terms_id)::uuid IS NULL OR c.payment_terms_id = sqlc.narg(payment_terms_id)::uuid)
  AND (sqlc.narg(billing_status)::text IS NULL OR c.billing_status = sqlc.narg(billing_status)::text)
  AND (sqlc.narg(country)::text IS NULL OR c.country = sqlc.narg(country)::text)
  AND (sqlc.narg(has_balance)::boolean IS NULL OR (c.balance > 0) = sqlc.narg(has_balance)::boolean)
  AND (sqlc.narg(has_credit)::boolean IS NULL OR (c.balance < 0) = sqlc.narg(has_credit)::boolean)
  AND (sqlc.narg(overdue)::boolean IS NULL OR (c.overdue_amount > 0) = sqlc.narg(overdue)::boolean)
  AND (sqlc.narg(last_order_from)::timestamptz IS NULL OR c.last_order_at >= sqlc.narg(last_order_from)::timestamptz)
  AND (sqlc.narg(last_order_to)::timestamptz IS NULL OR c.last_order_at < sqlc.narg(last_order_to)::timestamptz)
  AND (sqlc.narg(engaged)::boolean IS NULL
       OR (c.last_order_at IS NOT NULL AND c.last_order_at >= now() - interval '365 days') = sqlc.narg(engaged)::boolean)
  AND (sqlc.narg(custom)::jsonb IS NULL OR c.custom @> sqlc.narg(custom)::jsonb)
  AND (cardinality(@group_filters::text[]) = 0
       OR cardinality(@group_filters::text[]) = (
           SELECT count(*) FROM customer_group_members m
           JOIN customer_groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
           WHERE m.tenant_id = c.tenant_id AND m.customer_id = c.id
             AND m.category || ':' || g.code = ANY (@group_filters::text[])))
  -- end fragment: customer_filter
ON CONFLICT ON CONSTRAINT job_targets_pkey DO NOTHING;

-- CustomerBulkRead reads a batch (those the caller can still see) with
-- the fields a bulk update may set and their version. It takes no lock:
-- CustomerBulkSet writes only rows still at the version read, so the
-- audit's "from" values are exact, without the cost of locking every row
-- twice.
-- name: CustomerBulkRead :many
SELECT id, sales_rep_id, payment_terms_id, billing_status, basis_date, status, version
FROM customers
WHERE tenant_id = @tenant_id AND id = ANY (@ids::uuid[])
ORDER BY id;

-- CustomerBulkSet sets the same values on the given customers that are
-- still at the given versions (parallel arrays) and returns those it
-- changed; the set_* flags say which fields the update touches.
-- name: CustomerBulkSet :many
UPDATE customers SET
    sales_rep_id     = CASE WHEN @set_sales_rep_id::boolean THEN sqlc.narg(sales_rep_id)::uuid ELSE sales_rep_id END,
    payment_terms_id = CASE WHEN @set_payment_terms_id::boolean THEN sqlc.narg(payment_terms_id)::uuid ELSE payment_terms_id END,
    billing_status   = CASE WHEN @set_billing_status::boolean THEN sqlc.narg(billing_status)::text ELSE billing_status END,
    basis_date       = CASE WHEN @set_basis_date::boolean THEN sqlc.narg(basis_date)::date ELSE basis_date END,
    status           = CASE WHEN @set_status::boolean THEN @status::text ELSE status END,
    version = version + 1,
    updated_at = now()
WHERE tenant_id = @tenant_id
  AND (id, version) IN (SELECT unnest(@ids::uuid[]), unnest(@versions::bigint[]))
RETURNING id;

-- GroupMembersBulkSet puts the customers into the group, replacing their
-- membership in its category; EXCLUDED.created_at is the inserted row's
-- default, now() (Citus refuses now() itself in DO UPDATE SET).
-- name: GroupMembersBulkSet :exec
INSERT INTO customer_group_members (tenant_id, customer_id, category, group_id, reach)
SELECT c.tenant_id, c.id, @category::text, @group_id::uuid, c.reach
FROM customers c WHERE c.tenant_id = @tenant_id AND c.id = ANY (@customer_ids::uuid[])
FOR SHARE OF c
ON CONFLICT ON CONSTRAINT customer_group_members_pkey
DO UPDATE SET group_id = EXCLUDED.group_id, created_at = EXCLUDED.created_at
WHERE customer_group_members.group_id <> EXCLUDED.group_id;

-- name: GroupMembersBulkRemove :exec
DELETE FROM customer_group_members
WHERE tenant_id = @tenant_id AND customer_id = ANY (@customer_ids::uuid[]) AND category = @category;

-- CustomerBulkCountChanges counts the job's targets (those the caller can
-- see) that a bulk update would change: a dry run's answer, in one
-- statement. It compares like bulkPlan does (a field set to a value it
-- does not have yet; a group the customer is not in; a category it
-- leaves while in it), and a test holds the two to the same count.
-- name: CustomerBulkCountChanges :one
SELECT count(*) FROM job_targets t
JOIN customers c ON c.tenant_id = t.tenant_id AND c.id = t.target_id
WHERE t.tenant_id = @tenant_id AND t.job_id = @job_id
  AND ((@set_sales_rep_id::boolean AND c.sales_rep_id IS DISTINCT FROM sqlc.narg(sales_rep_id)::uuid)
    OR (@set_payment_terms_id::boolean AND c.payment_terms_id IS DISTINCT FROM sqlc.narg(payment_terms_id)::uuid)
    OR (@set_billing_status::boolean AND c.billing_status IS DISTINCT FROM sqlc.narg(billing_status)::text)
    OR (@set_basis_date::boolean AND c.basis_date IS DISTINCT FROM sqlc.narg(basis_date)::date)
    OR (@set_status::boolean AND c.status IS DISTINCT FROM @status::text)
    -- join_groups are "category:group id" (one per category): the
    -- customer is not yet in all of them.
    OR cardinality(@join_groups::text[]) > (
           SELECT count(*) FROM customer_group_members m
           WHERE m.tenant_id = c.tenant_id AND m.customer_id = c.id
             AND m.category || ':' || m.group_id::text = ANY (@join_groups::text[]))
    OR EXISTS (SELECT 1 FROM customer_group_members m
               WHERE m.tenant_id = c.tenant_id AND m.customer_id = c.id
                 AND m.category = ANY (@leave_categories::text[])));
