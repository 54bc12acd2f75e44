-- ThrottleLockedUntil returns the latest lock among the given keys that is
-- still in force (no row when none is).
-- name: ThrottleLockedUntil :one
SELECT locked_until FROM auth_throttle
WHERE key = ANY(@keys::bytea[]) AND locked_until > now()
ORDER BY locked_until DESC LIMIT 1;

-- ThrottleRecordFailure counts one failed login against a key. Failures
-- older than the window start a new count.
-- name: ThrottleRecordFailure :one
INSERT INTO auth_throttle AS t (key, failures, window_start, updated_at)
VALUES (@key, 1, now(), now())
ON CONFLICT ON CONSTRAINT auth_throttle_pkey DO UPDATE SET
    failures = CASE WHEN t.window_start < now() - make_interval(secs => @window_seconds::float8) THEN 1 ELSE t.failures + 1 END,
    window_start = CASE WHEN t.window_start < now() - make_interval(secs => @window_seconds::float8) THEN now() ELSE t.window_start END,
    updated_at = now()
RETURNING failures, window_start;

-- name: ThrottleLock :exec
UPDATE auth_throttle SET locked_until = now() + make_interval(secs => @lock_seconds::float8), updated_at = now()
WHERE key = @key;

-- name: ThrottleReset :exec
DELETE FROM auth_throttle WHERE key = @key;

-- ThrottlePurge removes counters that neither lock nor count any more.
-- name: ThrottlePurge :execrows
DELETE FROM auth_throttle
WHERE updated_at < now() - make_interval(secs => @older_than_seconds::float8)
  AND (locked_until IS NULL OR locked_until < now());
