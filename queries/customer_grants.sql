-- GrantCustomerGet returns the code and name of a customer the caller can
-- see (row-level security hides the others).
-- name: GrantCustomerGet :one
SELECT id, code, name FROM customers WHERE tenant_id = @tenant_id AND id = @id;

-- GrantInsert returns no row when the user already holds the grant. The
-- grant takes the customer's reach as CustomerReachForShare read it; the
-- refresh that follows adds the user to it.
-- name: GrantInsert :one
INSERT INTO customer_grants (tenant_id, user_id, customer_id, created_by, reach)
VALUES (@tenant_id, @user_id, @customer_id, sqlc.narg(created_by), @reach)
ON CONFLICT ON CONSTRAINT customer_grants_pkey DO NOTHING
RETURNING *;

-- GrantGetForUpdate returns and locks one grant, with its customer's code
-- and name. The join hides grants of customers the caller cannot see: for
-- them the grant does not exist either.
-- name: GrantGetForUpdate :one
SELECT sqlc.embed(g), c.code AS customer_code, c.name AS customer_name
FROM customer_grants g
JOIN customers c ON c.tenant_id = g.tenant_id AND c.id = g.customer_id
WHERE g.tenant_id = @tenant_id AND g.user_id = @user_id AND g.customer_id = @customer_id
FOR UPDATE OF g;

-- name: GrantDelete :execrows
DELETE FROM customer_grants WHERE tenant_id = @tenant_id AND user_id = @user_id AND customer_id = @customer_id;

-- GrantList pages through one user's grants by customer name, then id,
-- leaving out customers the caller cannot see.
-- name: GrantList :many
SELECT sqlc.embed(g), c.code AS customer_code, c.name AS customer_name
FROM customer_grants g
JOIN customers c ON c.tenant_id = g.tenant_id AND c.id = g.customer_id
WHERE g.tenant_id = @tenant_id AND c.tenant_id = @tenant_id AND g.user_id = @user_id
  AND (sqlc.narg(after_id)::uuid IS NULL
       OR (c.name, c.id) > (sqlc.narg(after_name)::text, sqlc.narg(after_id)::uuid))
ORDER BY c.name, c.id
LIMIT @row_limit;
