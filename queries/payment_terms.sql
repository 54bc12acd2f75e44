-- PaymentTermsInsert returns no row when the code is already taken in the
-- tenant.
-- name: PaymentTermsInsert :one
INSERT INTO payment_terms (tenant_id, id, code, name, due_days)
VALUES (@tenant_id, @id, @code, @name, @due_days)
ON CONFLICT ON CONSTRAINT payment_terms_code_key DO NOTHING
RETURNING *;

-- name: PaymentTermsGetByID :one
SELECT * FROM payment_terms WHERE tenant_id = @tenant_id AND id = @id;

-- name: PaymentTermsGetByIDForUpdate :one
SELECT * FROM payment_terms WHERE tenant_id = @tenant_id AND id = @id FOR UPDATE;

-- PaymentTermsList pages through payment terms by (code, id).
-- name: PaymentTermsList :many
SELECT * FROM payment_terms
WHERE tenant_id = @tenant_id
  AND (sqlc.narg(after_code)::text IS NULL OR (code, id) > (sqlc.narg(after_code)::text, sqlc.narg(after_id)::uuid))
ORDER BY code, id
LIMIT @row_limit;

-- name: PaymentTermsUpdate :one
UPDATE payment_terms SET code = @code, name = @name, due_days = @due_days,
    version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id
RETURNING *;

-- PaymentTermsDelete fails with a foreign key violation while a customer,
-- a group or the tenant settings refer to the terms; the check ignores
-- row-level security, so customers the caller cannot see count too.
-- name: PaymentTermsDelete :execrows
DELETE FROM payment_terms WHERE tenant_id = @tenant_id AND id = @id;
