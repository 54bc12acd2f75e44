-- name: FileInsert :exec
INSERT INTO files (tenant_id, id, purpose, name, content_type, created_by, created_at, expires_at)
VALUES (@tenant_id, @id, @purpose, @name, @content_type, sqlc.narg(created_by), @created_at, @expires_at);

-- name: FileChunkInsert :exec
INSERT INTO file_chunks (tenant_id, file_id, seq, data, created_by)
VALUES (@tenant_id, @file_id, @seq, @data, sqlc.narg(created_by));

-- FileComplete records the size and digest once the last chunk is in.
-- name: FileComplete :exec
UPDATE files SET size = @size, sha256 = @sha256
WHERE tenant_id = @tenant_id AND id = @id;

-- name: FileGet :one
SELECT * FROM files WHERE tenant_id = @tenant_id AND id = @id AND sha256 IS NOT NULL;

-- name: FileChunkGet :one
SELECT data FROM file_chunks WHERE tenant_id = @tenant_id AND file_id = @file_id AND seq = @seq;

-- name: FileDelete :execrows
DELETE FROM files WHERE tenant_id = @tenant_id AND id = @id;

-- FilePurgeExpired deletes the files expired before @before that nothing
-- refers to any longer (an import's file goes with its import); their
-- chunks go with them.
-- name: FilePurgeExpired :execrows
DELETE FROM files f WHERE f.tenant_id = @tenant_id AND f.expires_at < @before
  AND f.id NOT IN (SELECT i.file_id FROM imports i WHERE i.tenant_id = @tenant_id);
