-- Merging duplicate customers (issue 5): moving a duplicate's history to
-- the customer kept, the tombstone the duplicate leaves behind, and the
-- search for likely duplicates. Every statement runs under the acting
-- user's row-level security, so both customers must be visible to them.

-- CustomerMergeGet returns the customer a merged-away id now lives on.
-- The join hides a tombstone whose kept customer the caller cannot see or
-- that was deleted since: for them the id is simply unknown (404).
-- name: CustomerMergeGet :one
SELECT m.kept_id FROM customer_merges m
JOIN customers c ON c.tenant_id = m.tenant_id AND c.id = m.kept_id
WHERE m.tenant_id = @tenant_id AND c.tenant_id = @tenant_id AND m.merged_id = @merged_id;

-- CustomerMergeInsert leaves the tombstone, with the kept customer's
-- reach.
-- name: CustomerMergeInsert :exec
INSERT INTO customer_merges (tenant_id, merged_id, kept_id, merged_by, job_id, reach)
SELECT c.tenant_id, @merged_id::uuid, c.id, sqlc.narg(merged_by)::uuid, sqlc.narg(job_id)::uuid, c.reach
FROM customers c WHERE c.tenant_id = @tenant_id AND c.id = @kept_id
FOR SHARE OF c;

-- CustomerMergeRepoint moves the tombstones of customers merged into the
-- duplicate earlier onto the customer kept, so that every tombstone names
-- a live customer in one hop.
-- name: CustomerMergeRepoint :execrows
UPDATE customer_merges SET kept_id = @kept_id
WHERE tenant_id = @tenant_id AND kept_id = @merged_id;

-- MergeHistoryCount counts the duplicate's orders, payments, locations and
-- contacts, each up to @cap rows: enough to tell a small merge (one
-- transaction) from a big one (a job) without counting a huge history.
-- name: MergeHistoryCount :one
SELECT ((SELECT count(*) FROM (SELECT 1 FROM sales_orders o
                               WHERE o.tenant_id = @tenant_id AND o.customer_id = @customer_id LIMIT @cap) o)
      + (SELECT count(*) FROM (SELECT 1 FROM payments p
                               WHERE p.tenant_id = @tenant_id AND p.customer_id = @customer_id LIMIT @cap) p)
      + (SELECT count(*) FROM (SELECT 1 FROM customer_locations l
                               WHERE l.tenant_id = @tenant_id AND l.customer_id = @customer_id LIMIT @cap) l)
      + (SELECT count(*) FROM (SELECT 1 FROM customer_contacts k
                               WHERE k.tenant_id = @tenant_id AND k.customer_id = @customer_id LIMIT @cap) k))::bigint AS rows;

-- MergeMoveOrders moves up to @max_rows of the duplicate's sales orders.
-- Moved rows no longer match, so repeating it never moves a row twice.
-- name: MergeMoveOrders :execrows
UPDATE sales_orders m SET customer_id = @kept_id, version = m.version + 1, updated_at = now()
WHERE m.tenant_id = @tenant_id
  AND m.id IN (SELECT o.id FROM sales_orders o
             WHERE o.tenant_id = @tenant_id AND o.customer_id = @duplicate_id LIMIT @max_rows);

-- name: MergeMovePayments :execrows
UPDATE payments m SET customer_id = @kept_id
WHERE m.tenant_id = @tenant_id
  AND m.id IN (SELECT p.id FROM payments p
             WHERE p.tenant_id = @tenant_id AND p.customer_id = @duplicate_id LIMIT @max_rows);

-- MergeDemoteContact takes the primary flag off the duplicate's primary
-- contact when the kept customer has one (one primary per customer).
-- name: MergeDemoteContact :many
UPDATE customer_contacts m SET is_primary = false, version = m.version + 1, updated_at = now()
WHERE m.tenant_id = @tenant_id AND m.customer_id = @duplicate_id AND m.is_primary
  AND EXISTS (SELECT 1 FROM customer_contacts k
              WHERE k.tenant_id = @tenant_id AND k.customer_id = @kept_id AND k.is_primary)
RETURNING m.id;

-- name: MergeMoveContacts :execrows
UPDATE customer_contacts m SET customer_id = @kept_id, version = m.version + 1, updated_at = now()
WHERE m.tenant_id = @tenant_id
  AND m.id IN (SELECT k.id FROM customer_contacts k
             WHERE k.tenant_id = @tenant_id AND k.customer_id = @duplicate_id LIMIT @max_rows);

-- MergeDemoteLocations takes the default billing or shipping flag off the
-- duplicate's locations where the kept customer already has that default
-- (one of each per customer), and says which flags each location lost.
-- name: MergeDemoteLocations :many
WITH k AS (
    SELECT coalesce(bool_or(l.is_default_billing), false) AS billing,
           coalesce(bool_or(l.is_default_shipping), false) AS shipping
    FROM customer_locations l
    WHERE l.tenant_id = @tenant_id AND l.customer_id = @kept_id
), d AS (
    SELECT l.id, (l.is_default_billing AND k.billing) AS lost_billing, (l.is_default_shipping AND k.shipping) AS lost_shipping
    FROM customer_locations l, k
    WHERE l.tenant_id = @tenant_id AND l.customer_id = @duplicate_id
      AND ((l.is_default_billing AND k.billing) OR (l.is_default_shipping AND k.shipping))
)
UPDATE customer_locations l
SET is_default_billing = l.is_default_billing AND NOT d.lost_billing,
    is_default_shipping = l.is_default_shipping AND NOT d.lost_shipping,
    version = l.version + 1, updated_at = now()
FROM d
WHERE l.tenant_id = @tenant_id AND l.id = d.id
RETURNING l.id, d.lost_billing::boolean AS lost_billing, d.lost_shipping::boolean AS lost_shipping;

-- MergeMoveLocations moves every location of the duplicate (their reps
-- reach the kept customer when the merge refreshes its reach).
-- name: MergeMoveLocations :execrows
UPDATE customer_locations SET customer_id = @kept_id, version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND customer_id = @duplicate_id;

-- MergePriceConflicts lists the items both customers have their own price
-- for: the kept customer's price stays, the duplicate's is reported.
-- name: MergePriceConflicts :many
SELECT d.item_id, i.sku, k.price AS kept_price, d.price AS duplicate_price
FROM customer_prices d
JOIN customer_prices k ON k.tenant_id = d.tenant_id AND k.customer_id = @kept_id AND k.item_id = d.item_id
JOIN items i ON i.tenant_id = d.tenant_id AND i.id = d.item_id
WHERE d.tenant_id = @tenant_id AND k.tenant_id = @tenant_id AND i.tenant_id = @tenant_id
  AND d.customer_id = @duplicate_id
ORDER BY i.sku;

-- name: MergeMovePrices :execrows
UPDATE customer_prices d SET customer_id = @kept_id
WHERE d.tenant_id = @tenant_id AND d.customer_id = @duplicate_id
  AND NOT EXISTS (SELECT 1 FROM customer_prices k
                  WHERE k.tenant_id = @tenant_id AND k.customer_id = @kept_id AND k.item_id = d.item_id);

-- MergeGroupConflicts lists the categories in which the two customers are
-- in different groups: the kept customer's group stays, the duplicate's
-- is reported.
-- name: MergeGroupConflicts :many
SELECT d.category, kg.code AS kept_group, dg.code AS duplicate_group
FROM customer_group_members d
JOIN customer_group_members k ON k.tenant_id = d.tenant_id AND k.customer_id = @kept_id AND k.category = d.category
JOIN customer_groups kg ON kg.tenant_id = k.tenant_id AND kg.id = k.group_id
JOIN customer_groups dg ON dg.tenant_id = d.tenant_id AND dg.id = d.group_id
WHERE d.tenant_id = @tenant_id AND k.tenant_id = @tenant_id AND kg.tenant_id = @tenant_id AND dg.tenant_id = @tenant_id
  AND d.customer_id = @duplicate_id AND d.group_id <> k.group_id
ORDER BY d.category;

-- name: MergeMoveGroups :execrows
UPDATE customer_group_members d SET customer_id = @kept_id
WHERE d.tenant_id = @tenant_id AND d.customer_id = @duplicate_id
  AND NOT EXISTS (SELECT 1 FROM customer_group_members k
                  WHERE k.tenant_id = @tenant_id AND k.customer_id = @kept_id AND k.category = d.category);

-- MergeCopyGrants gives every user granted the duplicate the same grant on
-- the kept customer (a grant they already hold is the same grant), with
-- the kept customer's reach. The duplicate's own grants go with it when it
-- is deleted.
-- name: MergeCopyGrants :execrows
INSERT INTO customer_grants (tenant_id, user_id, customer_id, created_by, created_at, reach)
SELECT g.tenant_id, g.user_id, k.id, g.created_by, g.created_at, k.reach
FROM customer_grants g
JOIN customers k ON k.tenant_id = g.tenant_id AND k.id = @kept_id
WHERE g.tenant_id = @tenant_id AND k.tenant_id = @tenant_id AND g.customer_id = @duplicate_id
ON CONFLICT ON CONSTRAINT customer_grants_pkey DO NOTHING;

-- MergeMoveUsers links the duplicate's portal users to the kept customer.
-- name: MergeMoveUsers :execrows
UPDATE users SET customer_id = @kept_id::uuid, version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND customer_id = @duplicate_id::uuid;

-- DuplicateScopeIDs lists the customers a user with visibility 'assigned'
-- sees (the customers policy's rule, stated for the planner: their reach):
-- the duplicate search then groups only those.
-- name: DuplicateScopeIDs :many
SELECT c.id FROM customers c WHERE c.tenant_id = @tenant_id AND c.reach @> ARRAY[@user_id::uuid];

-- DuplicateTaxNumbers, DuplicateEmails, DuplicatePhones and DuplicateNames
-- return one page of groups of customers sharing a normalized key, in key
-- order after @after_key, with the group's size and up to @max_members of
-- its ids. Each key is the expression of its index in migration 000004 (so
-- the grouped walk follows that index and stops at the page's end);
-- @scope_ids limits the groups to an 'assigned' user's customers. They
-- run with custom plans, so the unused filters fold away.
-- name: DuplicateTaxNumbers :many
SELECT upper(regexp_replace(c.tax_number, '[^[:alnum:]]+', '', 'g'))::text AS key, count(*)::bigint AS members,
       (array_agg(c.id ORDER BY c.id))[1:@max_members::integer]::uuid[] AS ids
FROM customers c
WHERE c.tenant_id = @tenant_id AND c.tax_number IS NOT NULL
  AND (sqlc.narg(scope_ids)::uuid[] IS NULL OR c.id = ANY (sqlc.narg(scope_ids)::uuid[]))
  AND (sqlc.narg(after_key)::text IS NULL
       OR upper(regexp_replace(c.tax_number, '[^[:alnum:]]+', '', 'g')) > sqlc.narg(after_key)::text)
GROUP BY upper(regexp_replace(c.tax_number, '[^[:alnum:]]+', '', 'g'))
HAVING count(*) > 1 AND upper(regexp_replace(c.tax_number, '[^[:alnum:]]+', '', 'g')) <> ''
ORDER BY upper(regexp_replace(c.tax_number, '[^[:alnum:]]+', '', 'g'))
LIMIT @row_limit;

-- name: DuplicateEmails :many
SELECT lower(c.email)::text AS key, count(*)::bigint AS members,
       (array_agg(c.id ORDER BY c.id))[1:@max_members::integer]::uuid[] AS ids
FROM customers c
WHERE c.tenant_id = @tenant_id AND c.email IS NOT NULL
  AND (sqlc.narg(scope_ids)::uuid[] IS NULL OR c.id = ANY (sqlc.narg(scope_ids)::uuid[]))
  AND (sqlc.narg(after_key)::text IS NULL OR lower(c.email) > sqlc.narg(after_key)::text)
GROUP BY lower(c.email)
HAVING count(*) > 1
ORDER BY lower(c.email)
LIMIT @row_limit;

-- name: DuplicatePhones :many
SELECT regexp_replace(c.phone, '[^0-9]+', '', 'g')::text AS key, count(*)::bigint AS members,
       (array_agg(c.id ORDER BY c.id))[1:@max_members::integer]::uuid[] AS ids
FROM customers c
WHERE c.tenant_id = @tenant_id AND c.phone IS NOT NULL
  AND (sqlc.narg(scope_ids)::uuid[] IS NULL OR c.id = ANY (sqlc.narg(scope_ids)::uuid[]))
  AND (sqlc.narg(after_key)::text IS NULL OR regexp_replace(c.phone, '[^0-9]+', '', 'g') > sqlc.narg(after_key)::text)
GROUP BY regexp_replace(c.phone, '[^0-9]+', '', 'g')
HAVING count(*) > 1 AND regexp_replace(c.phone, '[^0-9]+', '', 'g') <> ''
ORDER BY regexp_replace(c.phone, '[^0-9]+', '', 'g')
LIMIT @row_limit;

-- name: DuplicateNames :many
SELECT customer_name_key(c.name)::text AS key, count(*)::bigint AS members,
       (array_agg(c.id ORDER BY c.id))[1:@max_members::integer]::uuid[] AS ids
FROM customers c
WHERE c.tenant_id = @tenant_id
  AND (sqlc.narg(scope_ids)::uuid[] IS NULL OR c.id = ANY (sqlc.narg(scope_ids)::uuid[]))
  AND (sqlc.narg(after_key)::text IS NULL OR customer_name_key(c.name) > sqlc.narg(after_key)::text)
GROUP BY customer_name_key(c.name)
HAVING count(*) > 1 AND customer_name_key(c.name) IS NOT NULL
ORDER BY customer_name_key(c.name)
LIMIT @row_limit;
