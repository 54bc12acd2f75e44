-- name: SmsTemplateInsert :one
INSERT INTO sms_templates (tenant_id, id, name, body)
VALUES (@tenant_id, @id, @name, @body)
ON CONFLICT ON CONSTRAINT sms_templates_name_key DO NOTHING
RETURNING *;

-- name: SmsTemplateGetByID :one
SELECT * FROM sms_templates WHERE tenant_id = @tenant_id AND id = @id;

-- name: SmsTemplateGetByIDForUpdate :one
SELECT * FROM sms_templates WHERE tenant_id = @tenant_id AND id = @id FOR UPDATE;

-- name: SmsTemplateList :many
SELECT * FROM sms_templates
WHERE tenant_id = @tenant_id
  AND (sqlc.narg(after_id)::uuid IS NULL OR (name, id) > (sqlc.narg(after_name)::text, sqlc.narg(after_id)::uuid))
ORDER BY name, id
LIMIT @row_limit;

-- name: SmsTemplateUpdate :one
UPDATE sms_templates SET name = @name, body = @body, version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id
RETURNING *;

-- name: SmsTemplateDelete :execrows
DELETE FROM sms_templates WHERE tenant_id = @tenant_id AND id = @id;
