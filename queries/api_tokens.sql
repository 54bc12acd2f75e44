-- name: APITokenInsert :one
INSERT INTO api_tokens (tenant_id, id, user_id, kind, name, token_hash, expires_at)
VALUES (@tenant_id, @id, @user_id, @kind, @name, @token_hash, sqlc.narg(expires_at))
RETURNING *;

-- APITokenAuthenticate resolves a token to its user, role and tenant state.
-- Expiry is judged by the database clock, not the caller's.
-- name: APITokenAuthenticate :one
SELECT t.id AS token_id, t.kind AS token_kind, t.last_used_at,
       (t.expires_at IS NOT NULL AND t.expires_at <= now())::bool AS expired,
       u.id AS user_id, u.email, u.name, u.builtin_role, u.role_id, u.visibility, u.customer_id,
       u.status AS user_status, r.name AS role_name, r.permissions AS role_permissions,
       tn.status AS tenant_status, tn.slug AS tenant_slug
FROM api_tokens t
JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
JOIN tenants tn ON tn.id = t.tenant_id
LEFT JOIN roles r ON r.tenant_id = u.tenant_id AND r.id = u.role_id
WHERE t.tenant_id = @tenant_id AND t.token_hash = @token_hash;

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
