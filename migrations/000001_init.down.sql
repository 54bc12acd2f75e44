DROP SCHEMA IF EXISTS river CASCADE;
DROP TABLE IF EXISTS users, customers, api_tokens, tenant_counters, roles, auth_throttle, tenants CASCADE;
DROP FUNCTION IF EXISTS app_set_context(uuid, uuid, text, uuid);
DROP FUNCTION IF EXISTS app_tenant_id();
DROP FUNCTION IF EXISTS app_user_id();
DROP FUNCTION IF EXISTS app_visibility();
DROP FUNCTION IF EXISTS app_customer_id();
