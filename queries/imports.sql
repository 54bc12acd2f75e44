-- name: ImportInsert :one
INSERT INTO imports (tenant_id, id, kind, mode, match_on, dry_run, all_or_nothing, mapping, sheet, format, file_name,
    file_id, job_id, created_by, created_at, expires_at)
VALUES (@tenant_id, @id, @kind, @mode, @match_on, @dry_run, @all_or_nothing, @mapping, sqlc.narg(sheet), @format, @file_name,
    @file_id, @job_id, sqlc.narg(created_by), @created_at, @expires_at)
RETURNING *;

-- name: ImportGet :one
SELECT * FROM imports WHERE tenant_id = @tenant_id AND id = @id;

-- name: ImportGetForUpdate :one
SELECT * FROM imports WHERE tenant_id = @tenant_id AND id = @id FOR UPDATE;

-- ImportList pages through the imports the caller can see, newest first.
-- name: ImportList :many
SELECT * FROM imports
WHERE tenant_id = @tenant_id
  AND (sqlc.narg(after_created_at)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(after_created_at)::timestamptz, sqlc.narg(after_id)::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @row_limit;

-- ImportSetState saves what a step of the import job learnt: its state,
-- counts, unknown columns and summary.
-- name: ImportSetState :exec
UPDATE imports SET state = @state, counts = @counts, unknown_columns = @unknown_columns, summary = @summary,
    reason = sqlc.narg(reason), finished_at = sqlc.narg(finished_at)
WHERE tenant_id = @tenant_id AND id = @id;

-- ImportErrorsInsert adds a batch's row errors.
-- name: ImportErrorsInsert :exec
INSERT INTO import_errors (tenant_id, import_id, row, seq, "column", value, code, message, created_by)
SELECT @tenant_id::uuid, @import_id::uuid, unnest(@rows::integer[]), unnest(@seqs::integer[]), unnest(@columns::text[]),
    unnest(@vals::text[]), unnest(@codes::text[]), unnest(@messages::text[]), sqlc.narg(created_by)::uuid
ON CONFLICT (tenant_id, import_id, row, seq) DO NOTHING;

-- ImportErrorsPage returns the errors of rows after @after_row (and, in
-- that row, after @after_seq), in row order.
-- name: ImportErrorsPage :many
SELECT row, seq, "column", value, code, message FROM import_errors
WHERE tenant_id = @tenant_id AND import_id = @import_id AND (row, seq) > (@after_row::integer, @after_seq::integer)
ORDER BY row, seq
LIMIT @row_limit;

-- ImportErrorRows lists the rows with errors after @after_row, each with
-- its messages joined, for the errors workbook.
-- name: ImportErrorRows :many
SELECT row, string_agg(CASE WHEN "column" = '' THEN message ELSE "column" || ': ' || message END, '; ' ORDER BY seq)::text AS messages
FROM import_errors
WHERE tenant_id = @tenant_id AND import_id = @import_id AND row > @after_row::integer
GROUP BY row
ORDER BY row
LIMIT @row_limit;

-- ImportErrorsDeleteFrom forgets the errors recorded from a row on: a
-- batch that runs again records its errors again.
-- name: ImportErrorsDeleteFrom :exec
DELETE FROM import_errors WHERE tenant_id = @tenant_id AND import_id = @import_id AND row >= @from_row::integer;

-- ImportPurgeExpired deletes the imports expired before @before (their
-- errors go with them) and returns their files, which the caller deletes.
-- name: ImportPurgeExpired :many
DELETE FROM imports WHERE tenant_id = @tenant_id AND expires_at < @before
RETURNING file_id;

-- ImportCustomersByCode finds the customers of these codes that the caller
-- sees (a sales rep's import reaches only theirs), locking them against a
-- concurrent change of who sees them while a batch copies their reach.
-- name: ImportCustomersByCode :many
SELECT id, code, reach FROM customers
WHERE tenant_id = @tenant_id AND code = ANY (@codes::text[])
FOR SHARE;

-- name: ImportItemsBySKU :many
SELECT id, sku FROM items WHERE tenant_id = @tenant_id AND sku = ANY (@skus::text[]);

-- name: ImportCustomerPrices :many
SELECT customer_id, item_id, price FROM customer_prices
WHERE tenant_id = @tenant_id AND customer_id = ANY (@customer_ids::uuid[]) AND item_id = ANY (@item_ids::uuid[]);

-- The customers an import's rows match, as the caller sees them (a sales
-- rep's import reaches only theirs). No lock: the batch writes only
-- customers still at the version read.
-- name: ImportCustomersByCodes :many
SELECT * FROM customers WHERE tenant_id = @tenant_id AND code = ANY (@codes::text[]);

-- name: ImportCustomersByEmail :many
SELECT * FROM customers WHERE tenant_id = @tenant_id AND lower(email) = ANY (@emails::text[]);

-- name: ImportCustomersByTaxNumber :many
SELECT * FROM customers
WHERE tenant_id = @tenant_id AND upper(regexp_replace(tax_number, '[^[:alnum:]]+', '', 'g')) = ANY (@tax_numbers::text[]);

-- name: ImportGroupMembers :many
SELECT customer_id, category, group_id FROM customer_group_members
WHERE tenant_id = @tenant_id AND customer_id = ANY (@customer_ids::uuid[]);
