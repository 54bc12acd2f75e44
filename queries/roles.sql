-- name: RoleInsert :one
INSERT INTO roles (tenant_id, id, name, description, permissions)
VALUES (@tenant_id, @id, @name, @description, @permissions)
ON CONFLICT ON CONSTRAINT roles_name_key DO NOTHING
RETURNING *;

-- name: RoleGetByID :one
SELECT * FROM roles WHERE tenant_id = @tenant_id AND id = @id;

-- name: RoleGetByName :one
SELECT * FROM roles WHERE tenant_id = @tenant_id AND name = @name;

-- name: RoleGetByIDForUpdate :one
SELECT * FROM roles WHERE tenant_id = @tenant_id AND id = @id FOR UPDATE;

-- name: RoleList :many
SELECT * FROM roles WHERE tenant_id = @tenant_id ORDER BY name;

-- name: RoleUpdate :one
UPDATE roles SET name = @name, description = @description, permissions = @permissions,
    version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id
RETURNING *;

-- name: RoleDelete :execrows
DELETE FROM roles WHERE tenant_id = @tenant_id AND id = @id;

-- name: RoleUserCount :one
SELECT count(*) FROM users WHERE tenant_id = @tenant_id AND role_id = @role_id;
