-- IdempotencyClaim records a key for this request. A key created before
-- @expired_before (now minus the retention) counts as unused even if the
-- purge has not deleted it yet: this request takes its row over, and what
-- it answered before is forgotten. When another request holds the same
-- key in an open transaction, this waits for it to finish; no row comes
-- back when the key exists and has not expired. The cutoff comes from the
-- caller: Citus refuses now() inside ON CONFLICT DO UPDATE.
-- name: IdempotencyClaim :execrows
INSERT INTO idempotency_keys (tenant_id, user_id, key, method, path, fingerprint)
VALUES (@tenant_id, @user_id, @key, @method, @path, @fingerprint)
ON CONFLICT ON CONSTRAINT idempotency_keys_pkey DO UPDATE
SET method = EXCLUDED.method, path = EXCLUDED.path, fingerprint = EXCLUDED.fingerprint,
    status = NULL, headers = NULL, body = NULL, created_at = EXCLUDED.created_at
WHERE idempotency_keys.created_at < @expired_before;

-- name: IdempotencyGet :one
SELECT * FROM idempotency_keys WHERE tenant_id = @tenant_id AND user_id = @user_id AND key = @key;

-- name: IdempotencyComplete :exec
UPDATE idempotency_keys SET status = @status, headers = @headers, body = @body
WHERE tenant_id = @tenant_id AND user_id = @user_id AND key = @key;

-- IdempotencyPurge forgets the tenant's keys created before @before (now
-- minus the retention), every user's: it runs in the tenant's system
-- scope, which may read and delete them (policies of migration 000009).
-- name: IdempotencyPurge :execrows
DELETE FROM idempotency_keys WHERE tenant_id = @tenant_id AND created_at < @before;
