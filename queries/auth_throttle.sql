-- ThrottleLockedUntil returns the latest lock among the given keys that is
-- still in force at @now (no row when none is).
-- name: ThrottleLockedUntil :one
SELECT locked_until FROM auth_throttle
WHERE key = ANY(@keys::bytea[]) AND locked_until > @now::timestamptz
ORDER BY locked_until DESC LIMIT 1;

-- ThrottleReserve counts one login attempt against a key before its
-- password is hashed, and answers whether it may go ahead: no row when the
-- key is locked at @now (the attempt is refused and not counted), else the
-- attempt's number in the current window. Attempts older than the window
-- start a new count. The attempt that reaches @max_attempts locks the key at
-- once, for @lock_seconds doubled for each attempt past the limit, at most
-- @lock_max_seconds: every attempt that arrives while it is being checked is
-- refused, so a burst sent all at once gets no more checks than attempts
-- sent one by one. A successful login lifts the lock (ThrottleReset,
-- ThrottleRelease).
--
-- One statement, so concurrent attempts on a key serialize on its row. The
-- times come from the caller, as Citus allows only IMMUTABLE functions and
-- operators in ON CONFLICT DO UPDATE (now() is STABLE, and so is
-- timestamptz + interval): @window_cutoff is @now minus the window (a
-- window that started before it is over), and a lock ends @now_unix (@now
-- in seconds since the epoch) plus its length, through the IMMUTABLE
-- to_timestamp(float8). A new window's first lock is the inserted row's.
-- name: ThrottleReserve :one
INSERT INTO auth_throttle AS t (key, failures, window_start, locked_until, updated_at)
VALUES (@key, 1, @now::timestamptz,
        CASE WHEN 1 >= @max_attempts::integer
             THEN to_timestamp(least(@lock_seconds::float8, @lock_max_seconds::float8) + @now_unix::float8) END,
        @now::timestamptz)
ON CONFLICT ON CONSTRAINT auth_throttle_pkey DO UPDATE SET
    failures = CASE WHEN t.window_start < @window_cutoff::timestamptz THEN 1 ELSE t.failures + 1 END,
    window_start = CASE WHEN t.window_start < @window_cutoff::timestamptz THEN @now::timestamptz ELSE t.window_start END,
    locked_until = CASE
        WHEN t.window_start < @window_cutoff::timestamptz THEN EXCLUDED.locked_until
        WHEN t.failures + 1 >= @max_attempts::integer
            THEN to_timestamp(least(power(2::float8, least(t.failures + 1 - @max_attempts::integer, 30)) * @lock_seconds::float8,
                                    @lock_max_seconds::float8) + @now_unix::float8)
        ELSE t.locked_until END,
    updated_at = @now::timestamptz
WHERE t.locked_until IS NULL OR t.locked_until <= @now::timestamptz
RETURNING failures;

-- ThrottleRelease gives back one attempt ThrottleReserve counted but that
-- did not fail (the login succeeded, or another key refused it), and lifts
-- the lock when the count falls below the limit again: the lock may be the
-- one this very attempt set on reaching the limit.
-- name: ThrottleRelease :exec
UPDATE auth_throttle SET
    failures = greatest(failures - 1, 0),
    locked_until = CASE WHEN failures - 1 < @max_attempts::integer THEN NULL ELSE locked_until END,
    updated_at = @now::timestamptz
WHERE key = @key;

-- name: ThrottleReset :exec
DELETE FROM auth_throttle WHERE key = @key;

-- ThrottlePurge removes counters that neither lock nor count any more.
-- name: ThrottlePurge :execrows
DELETE FROM auth_throttle
WHERE updated_at < now() - make_interval(secs => @older_than_seconds::float8)
  AND (locked_until IS NULL OR locked_until < now());
