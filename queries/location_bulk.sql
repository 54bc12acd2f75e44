-- Bulk updates of locations (issue 5): the sales rep override of many
-- locations at once. Row-level security on customer_locations limits every
-- query to the locations of customers the caller can see.

-- name: LocationSelectionInsertIDs :execrows
INSERT INTO job_targets (tenant_id, job_id, seq, target_id)
SELECT l.tenant_id, @job_id, row_number() OVER (ORDER BY l.ctid), l.id FROM customer_locations l
WHERE l.tenant_id = @tenant_id AND l.id = ANY (@ids::uuid[])
ON CONFLICT ON CONSTRAINT job_targets_pkey DO NOTHING;

-- LocationSelectionInsert selects what GET /v1/locations would list with
-- the same filters.
-- name: LocationSelectionInsert :execrows
INSERT INTO job_targets (tenant_id, job_id, seq, target_id)
SELECT l.tenant_id, @job_id, row_number() OVER (ORDER BY l.ctid), l.id FROM customer_locations l
WHERE l.tenant_id = @tenant_id
  AND (sqlc.narg(customer_id)::uuid IS NULL OR l.customer_id = sqlc.narg(customer_id)::uuid)
  AND (sqlc.narg(city)::text IS NULL OR lower(l.city) = lower(sqlc.narg(city)::text))
  AND (sqlc.narg(country)::text IS NULL OR l.country = sqlc.narg(country)::text)
  AND (sqlc.narg(sales_rep_id)::uuid IS NULL OR l.sales_rep_id = sqlc.narg(sales_rep_id)::uuid)
ON CONFLICT ON CONSTRAINT job_targets_pkey DO NOTHING;

-- LocationBulkCountChanges counts the job's targets (those the caller can
-- see) whose override a bulk update would change: a dry run's answer.
-- name: LocationBulkCountChanges :one
SELECT count(*) FROM job_targets t
JOIN customer_locations l ON l.tenant_id = t.tenant_id AND l.id = t.target_id
WHERE t.tenant_id = @tenant_id AND t.job_id = @job_id
  AND l.sales_rep_id IS DISTINCT FROM sqlc.narg(sales_rep_id)::uuid;

-- name: LocationBulkLock :many
SELECT id, customer_id, sales_rep_id FROM customer_locations
WHERE tenant_id = @tenant_id AND id = ANY (@ids::uuid[])
ORDER BY id
FOR UPDATE;

-- name: LocationBulkSetRep :execrows
UPDATE customer_locations SET sales_rep_id = sqlc.narg(sales_rep_id)::uuid, version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND id = ANY (@ids::uuid[]);
