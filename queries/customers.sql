-- CustomerInsert returns no row when the code is already taken in the
-- tenant; the unique check sees every row of the tenant, including those
-- the caller cannot see.
-- name: CustomerInsert :one
INSERT INTO customers (tenant_id, id, code, name, type, email, phone, sales_rep_id, status)
VALUES (@tenant_id, @id, @code, @name, @type, sqlc.narg(email), sqlc.narg(phone), sqlc.narg(sales_rep_id), @status)
ON CONFLICT ON CONSTRAINT customers_code_key DO NOTHING
RETURNING *;

-- name: CustomerGetByID :one
SELECT * FROM customers WHERE tenant_id = @tenant_id AND id = @id;

-- name: CustomerGetByIDForUpdate :one
SELECT * FROM customers WHERE tenant_id = @tenant_id AND id = @id FOR UPDATE;

-- CustomerList pages through customers by (name, id). The scope arguments
-- repeat the visibility rule of the row-level security policy so that the
-- planner can use the sales-rep index; the policy still applies.
-- name: CustomerList :many
SELECT * FROM customers
WHERE tenant_id = @tenant_id
  AND (sqlc.narg(scope_rep_id)::uuid IS NULL OR sales_rep_id = sqlc.narg(scope_rep_id)::uuid)
  AND (sqlc.narg(scope_customer_id)::uuid IS NULL OR id = sqlc.narg(scope_customer_id)::uuid)
  AND (sqlc.narg(q)::text IS NULL
       OR name ILIKE sqlc.narg(q)::text OR code ILIKE sqlc.narg(q)::text
       OR email ILIKE sqlc.narg(q)::text OR phone ILIKE sqlc.narg(q)::text)
  AND (sqlc.narg(after_name)::text IS NULL OR (name, id) > (sqlc.narg(after_name)::text, sqlc.narg(after_id)::uuid))
ORDER BY name, id
LIMIT @row_limit;

-- name: CustomerUpdate :one
UPDATE customers SET code = @code, name = @name, type = @type, email = sqlc.narg(email), phone = sqlc.narg(phone),
    sales_rep_id = sqlc.narg(sales_rep_id), status = @status,
    version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id
RETURNING *;

-- name: CustomerDelete :execrows
DELETE FROM customers WHERE tenant_id = @tenant_id AND id = @id;
