-- 000009: idempotency keys expire (issue 9). A key and the response it
-- stores are kept for CUSTOMERHUB_IDEMPOTENCY_TTL (24 hours by default):
-- a claim treats an older key as new (queries/idempotency_keys.sql), and
-- the hourly maintenance job idempotency_purge deletes older keys, tenant
-- by tenant, so that the table (whole response bodies) stops growing.
--
-- The purge runs like every maintenance job: in each tenant's system
-- scope (database.SystemScope: app.tenant_id set, no acting user, so
-- app_user_id() IS NULL, and visibility 'all'). The policy of 000002
-- matches only the acting user's own keys (user_id = app_user_id()), which
-- in that scope is no row at all: the purge could delete nothing. These
-- policies let the system scope, and nothing else, read and delete the
-- tenant's keys. Both are needed: PostgreSQL applies SELECT policies to a
-- DELETE whose WHERE clause reads the rows. There is no INSERT or UPDATE
-- policy for it, so the system scope can forget a key but never write
-- one (it cannot plant a response to be replayed to a user).
--
-- Why this is safe: every transaction a user starts (a request, a job
-- acting for them) sets its user through app_set_context
-- (database.ScopeFor always sets it), so no user-driven transaction has
-- app_user_id() NULL and none gains anything here; within a tenant a user
-- still sees and replays only their own keys. The system scope is opened
-- only by the server's own code paths (signup, login and token checks,
-- maintenance jobs), of which only the purge touches this table; and it
-- stays bound to one tenant, like every policy here.
--
-- Chosen over the alternatives: a SECURITY DEFINER purge function would
-- need a role that bypasses row-level security (the application role owns
-- nothing, by design), and a separate BYPASSRLS maintenance connection
-- would be a second credential for one DELETE. The policies are plain
-- comparisons of columns with the context settings, without subqueries,
-- so the schema stays Citus-compatible (policies propagate to shards;
-- tenant_id routes the DELETE to one).
CREATE POLICY system_read ON idempotency_keys FOR SELECT
    USING (tenant_id = app_tenant_id() AND app_user_id() IS NULL AND app_visibility() = 'all');
CREATE POLICY system_purge ON idempotency_keys FOR DELETE
    USING (tenant_id = app_tenant_id() AND app_user_id() IS NULL AND app_visibility() = 'all');
