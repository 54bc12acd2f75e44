-- ContextSet sets the tenant, acting user, visibility and portal customer
-- for the rest of the current transaction (SET LOCAL through
-- app_set_context). Every tenant transaction runs it first; row-level
-- security reads these settings.
-- name: ContextSet :exec
SELECT app_set_context(@tenant_id::uuid, sqlc.narg(user_id)::uuid, sqlc.narg(visibility)::text, sqlc.narg(customer_id)::uuid);

-- PlannerCustomPlans makes the rest of the transaction plan each statement
-- with its actual parameters (see database.CustomPlans).
-- name: PlannerCustomPlans :exec
SELECT set_config('plan_cache_mode', 'force_custom_plan', true);

-- StatementTimeoutSet sets the statement timeout for the rest of the
-- transaction: an export answered at once is one statement whose rows are
-- read as the client takes them, so it may outlast the pool's default.
-- name: StatementTimeoutSet :exec
SELECT set_config('statement_timeout', @timeout::text, true);
