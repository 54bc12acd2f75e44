-- name: APITokenInsert :one
INSERT INTO api_tokens (tenant_id, id, user_id, kind, name, token_hash, expires_at)
VALUES (@tenant_id, @id, @user_id, @kind, @name, @token_hash, sqlc.narg(expires_at))
RETURNING *;

-- APITokenTouch records use at most once a minute, to keep reads cheap.
-- name: APITokenTouch :exec
UPDATE api_tokens SET last_used_at = now()
WHERE tenant_id = @tenant_id AND id = @id
  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');

-- name: APITokenListByUser :many
SELECT * FROM api_tokens
WHERE tenant_id = @tenant_id AND user_id = @user_id AND kind = @kind
  AND (expires_at IS NULL OR expires_at > now())
ORDER BY created_at DESC, id;

-- name: APITokenDelete :execrows
DELETE FROM api_tokens WHERE tenant_id = @tenant_id AND id = @id AND user_id = @user_id;

-- name: APITokenDeleteByUser :execrows
DELETE FROM api_tokens WHERE tenant_id = @tenant_id AND user_id = @user_id;

-- name: APITokenDeleteExpired :execrows
DELETE FROM api_tokens WHERE tenant_id = @tenant_id AND expires_at <= now();

-- APITokenAuthenticateRequest is the first statement of a request's
-- transaction: it resolves the token and, when the token, its user and its
-- tenant are valid, sets the request's context (app_authenticate, migration
-- 000017; every column is NOT NULL, '' or the nil UUID standing for none).
-- When touch_due, last_used_at is moved outside the request (APITokenTouch).
-- name: APITokenAuthenticateRequest :one
SELECT a.token_id::uuid AS token_id, a.touch_due::boolean AS touch_due, a.expired::boolean AS expired,
       a.user_id::uuid AS user_id, a.email::text AS email, a.name::text AS name, a.builtin_role::text AS builtin_role,
       a.user_status::text AS user_status, a.role_name::text AS role_name, a.role_permissions::text[] AS role_permissions,
       a.tenant_status::text AS tenant_status, a.tenant_slug::text AS tenant_slug,
       a.scope_visibility::text AS scope_visibility, a.scope_customer_id::uuid AS scope_customer_id,
       a.settings_version::bigint AS settings_version, a.fields_version::bigint AS fields_version
FROM app_authenticate(@tenant_id::uuid, @token_hash::bytea) a;
