-- IdempotencyClaim records a key for this request. When another request
-- holds the same key in an open transaction, this waits for it to finish;
-- no row comes back when the key exists.
-- name: IdempotencyClaim :execrows
INSERT INTO idempotency_keys (tenant_id, user_id, key, method, path, fingerprint)
VALUES (@tenant_id, @user_id, @key, @method, @path, @fingerprint)
ON CONFLICT ON CONSTRAINT idempotency_keys_pkey DO NOTHING;

-- name: IdempotencyGet :one
SELECT * FROM idempotency_keys WHERE tenant_id = @tenant_id AND user_id = @user_id AND key = @key;

-- name: IdempotencyComplete :exec
UPDATE idempotency_keys SET status = @status, headers = @headers, body = @body
WHERE tenant_id = @tenant_id AND user_id = @user_id AND key = @key;

-- IdempotencyPurge forgets keys older than the retention (24 hours).
-- name: IdempotencyPurge :execrows
DELETE FROM idempotency_keys WHERE tenant_id = @tenant_id AND created_at < now() - interval '24 hours';
