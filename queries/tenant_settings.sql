-- name: SettingsInsert :one
INSERT INTO tenant_settings (tenant_id, default_country, default_currency)
VALUES (@tenant_id, @default_country, @default_currency)
RETURNING *;

-- name: SettingsGet :one
SELECT * FROM tenant_settings WHERE tenant_id = @tenant_id;

-- SettingsGetForUpdate also serializes changes that count against a
-- per-tenant limit (custom field definitions).
-- name: SettingsGetForUpdate :one
SELECT * FROM tenant_settings WHERE tenant_id = @tenant_id FOR UPDATE;

-- name: SettingsUpdate :one
UPDATE tenant_settings SET required_fields = @required_fields, default_country = @default_country,
    default_currency = @default_currency, default_payment_terms_id = sqlc.narg(default_payment_terms_id),
    default_credit_policy = @default_credit_policy, dormant_after_days = @dormant_after_days,
    dormant_include_open_balance = @dormant_include_open_balance, dormant_sweep_hour = @dormant_sweep_hour,
    version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id
RETURNING *;

-- SettingsWithFields loads the settings and every custom field definition
-- in one round trip: every customer read and write needs both.
-- name: SettingsWithFields :one
SELECT sqlc.embed(s),
       coalesce((SELECT jsonb_agg(jsonb_build_object('id', d.id, 'key', d.key, 'label', d.label, 'type', d.type,
                                                     'required', d.required, 'options', d.options, 'position', d.position)
                                  ORDER BY d.position, d.key)
                 FROM custom_field_defs d WHERE d.tenant_id = s.tenant_id), '[]')::jsonb AS fields
FROM tenant_settings s WHERE s.tenant_id = @tenant_id;

-- SettingsFieldsChanged moves the version of the tenant's custom field
-- definitions: every write to them runs it, in its transaction (processes
-- keep a copy of the definitions per version, settings.envCache).
-- name: SettingsFieldsChanged :exec
UPDATE tenant_settings SET fields_version = fields_version + 1 WHERE tenant_id = @tenant_id;
