-- name: UserInsert :one
INSERT INTO users (tenant_id, id, email, name, password_hash, builtin_role, role_id, visibility, customer_id)
VALUES (@tenant_id, @id, @email, @name, @password_hash, sqlc.narg(builtin_role), sqlc.narg(role_id), @visibility, sqlc.narg(customer_id))
ON CONFLICT ON CONSTRAINT users_email_key DO NOTHING
RETURNING *;

-- name: UserGetByID :one
SELECT sqlc.embed(u), r.name AS role_name
FROM users u LEFT JOIN roles r ON r.tenant_id = u.tenant_id AND r.id = u.role_id
WHERE u.tenant_id = @tenant_id AND u.id = @id;

-- name: UserGetByIDForUpdate :one
SELECT * FROM users WHERE tenant_id = @tenant_id AND id = @id FOR UPDATE;

-- name: UserGetByEmail :one
SELECT * FROM users WHERE tenant_id = @tenant_id AND email = @email;

-- UserList pages through users by (name, id).
-- name: UserList :many
SELECT sqlc.embed(u), r.name AS role_name
FROM users u LEFT JOIN roles r ON r.tenant_id = u.tenant_id AND r.id = u.role_id
WHERE u.tenant_id = @tenant_id
  AND (sqlc.narg(after_name)::text IS NULL OR (u.name, u.id) > (sqlc.narg(after_name)::text, sqlc.narg(after_id)::uuid))
  AND (sqlc.narg(status)::text IS NULL OR u.status = sqlc.narg(status)::text)
ORDER BY u.name, u.id
LIMIT @row_limit;

-- name: UserUpdate :one
UPDATE users SET email = @email, name = @name, password_hash = @password_hash,
    builtin_role = sqlc.narg(builtin_role), role_id = sqlc.narg(role_id), visibility = @visibility,
    customer_id = sqlc.narg(customer_id), status = @status,
    version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id
RETURNING *;


-- UserLockActiveAdmins locks the active admins, so that demoting or
-- disabling one can check another remains.
-- name: UserLockActiveAdmins :many
SELECT id FROM users
WHERE tenant_id = @tenant_id AND builtin_role = 'admin' AND status = 'active'
ORDER BY id
FOR UPDATE;

-- UserPrincipal is what a job needs to act as the user who started it:
-- role, visibility, and whether the user and tenant are still active.
-- name: UserPrincipal :one
SELECT u.id AS user_id, u.email, u.name, u.builtin_role, u.visibility, u.customer_id,
       u.status AS user_status, r.name AS role_name, r.permissions AS role_permissions,
       tn.status AS tenant_status, tn.slug AS tenant_slug
FROM users u
JOIN tenants tn ON tn.id = u.tenant_id
LEFT JOIN roles r ON r.tenant_id = u.tenant_id AND r.id = u.role_id
WHERE u.tenant_id = @tenant_id AND u.id = @id;

-- UsersAssignedCustomerIDs lists the customers the users, with visibility
-- 'assigned', see: from assigned_customer_ids, outside the caller's scope
-- (its own statement: on Citus the function must run on the coordinator,
-- not inside a query pushed to a shard).
-- name: UsersAssignedCustomerIDs :many
SELECT a.id::uuid AS id FROM assigned_customer_ids(@user_ids::uuid[]) AS a(id);

-- CustomersVisibleCount counts the given customers the caller sees (the
-- customers policy decides).
-- name: CustomersVisibleCount :one
SELECT count(*) FROM customers WHERE tenant_id = @tenant_id AND id = ANY (@ids::uuid[]);

-- UserListByRole returns the holders of a custom role, whatever their
-- status: changing the role changes what each of them may do.
-- name: UserListByRole :many
SELECT id, visibility FROM users
WHERE tenant_id = @tenant_id AND role_id = @role_id
ORDER BY id;

-- UserEmailsByIDs returns the e-mail addresses of these users (an export
-- shows a batch's sales reps by e-mail with one statement).
-- name: UserEmailsByIDs :many
SELECT id, email FROM users WHERE tenant_id = @tenant_id AND id = ANY (@ids::uuid[]);

-- UserIDsByEmails finds users by e-mail address (stored lower-case), with
-- their status: an import resolves a batch's sales reps with one statement.
-- name: UserIDsByEmails :many
SELECT id, email, status FROM users WHERE tenant_id = @tenant_id AND email = ANY (@emails::text[]);
