-- The row-level security policies' context functions are parallel safe.
--
-- app_tenant_id, app_user_id, app_visibility, app_customer_id (000001) and
-- app_bookkeeping (000010) were created with the default PARALLEL UNSAFE
-- marking. Every policy calls them, and the planner checks a statement's
-- parallel safety before it inlines them: one unsafe function in a policy
-- kept every statement on a table under row-level security from a
-- parallel plan. An export of 1,000,000 customers (BenchmarkExport) sorted
-- them in one process, spilling some 260 MB to disk, in 14.5 s, where the
-- same statement with parallel workers took 7.0 s (EXPLAIN ANALYZE, the
-- benchmark's data set).
--
-- They are safe: each only reads a setting (current_setting, itself
-- parallel safe), and a parallel worker starts with its leader's settings,
-- the transaction-local ones set by app_set_context and audit_record
-- included, which no statement changes while workers run (set_config is
-- parallel unsafe, so a statement that sets one never runs in parallel).
ALTER FUNCTION app_tenant_id() PARALLEL SAFE;
ALTER FUNCTION app_user_id() PARALLEL SAFE;
ALTER FUNCTION app_visibility() PARALLEL SAFE;
ALTER FUNCTION app_customer_id() PARALLEL SAFE;
ALTER FUNCTION app_bookkeeping() PARALLEL SAFE;
