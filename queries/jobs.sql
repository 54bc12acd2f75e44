-- name: JobInsert :one
INSERT INTO jobs (tenant_id, id, river_job_id, kind, created_by, params, total)
VALUES (@tenant_id, @id, @river_job_id, @kind, sqlc.narg(created_by), @params, sqlc.narg(total))
RETURNING *;

-- name: JobGet :one
SELECT * FROM jobs WHERE tenant_id = @tenant_id AND id = @id;

-- name: JobGetForUpdate :one
SELECT * FROM jobs WHERE tenant_id = @tenant_id AND id = @id FOR UPDATE;

-- JobList pages through the jobs the caller can see, newest first.
-- name: JobList :many
SELECT * FROM jobs
WHERE tenant_id = @tenant_id
  AND (sqlc.narg(kind)::text IS NULL OR kind = sqlc.narg(kind)::text)
  AND (sqlc.narg(state)::text IS NULL OR state = sqlc.narg(state)::text)
  AND (sqlc.narg(created_by)::uuid IS NULL OR created_by = sqlc.narg(created_by)::uuid)
  AND (sqlc.narg(after_created_at)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(after_created_at)::timestamptz, sqlc.narg(after_id)::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @row_limit;

-- JobMarkRunning records that an attempt started; the first start time is
-- kept. The time comes from the caller: Citus refuses now() inside
-- COALESCE.
-- name: JobMarkRunning :exec
UPDATE jobs SET state = 'running', started_at = coalesce(started_at, @now::timestamptz), updated_at = @now::timestamptz
WHERE tenant_id = @tenant_id AND id = @id AND state IN ('queued', 'running');

-- name: JobSetTotal :exec
UPDATE jobs SET total = @total, updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id;

-- name: JobSaveProgress :exec
UPDATE jobs SET processed = @processed, cursor = sqlc.narg(cursor), result = sqlc.narg(result), updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id;

-- JobFinish ends a job at @now, the time its transaction stamps its other
-- changes to the job with (the start, a cancel request).
-- name: JobFinish :exec
UPDATE jobs SET state = @state, result = sqlc.narg(result), processed = @processed, cursor = NULL,
    finished_at = @now::timestamptz, updated_at = @now::timestamptz
WHERE tenant_id = @tenant_id AND id = @id;

-- name: JobAppendError :exec
UPDATE jobs SET errors = errors || jsonb_build_array(@error::jsonb), updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id;

-- JobRequestCancel records a cancel request; the first one's time is kept.
-- The time comes from the caller: Citus refuses now() inside COALESCE.
-- name: JobRequestCancel :exec
UPDATE jobs SET cancel_requested_at = coalesce(cancel_requested_at, @now::timestamptz), updated_at = @now::timestamptz
WHERE tenant_id = @tenant_id AND id = @id;

-- JobPurgeFinished deletes jobs finished before the cutoff (their targets
-- go with them).
-- name: JobPurgeFinished :execrows
DELETE FROM jobs WHERE tenant_id = @tenant_id AND finished_at < @before;

-- name: JobTargetsNext :many
SELECT seq, target_id FROM job_targets
WHERE tenant_id = @tenant_id AND job_id = @job_id AND seq > @after
ORDER BY seq
LIMIT @row_limit;

-- name: JobTargetsDelete :exec
DELETE FROM job_targets WHERE tenant_id = @tenant_id AND job_id = @job_id;
