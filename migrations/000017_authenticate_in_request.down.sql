DROP FUNCTION IF EXISTS app_authenticate(uuid, bytea);
ALTER TABLE tenant_settings DROP COLUMN IF EXISTS fields_version;
