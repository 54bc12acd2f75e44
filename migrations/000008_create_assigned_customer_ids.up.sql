-- Who may manage whom: a user with users:manage may only change a user
-- whose reach (role, visibility, customers) their own covers. For an
-- 'assigned' user the customers they see are partly hidden from an
-- 'assigned' manager by row-level security itself (customers.sales_rep_id
-- is only readable on customers the manager sees), so the check "does this
-- user see a customer I do not" needs the other user's customers from
-- outside the caller's scope.
--
-- assigned_customer_ids returns the ids of the customers the given users
-- would see with visibility 'assigned' (as sales rep, as a location's rep,
-- or by grant: the three ways of the customers policy), in the current
-- tenant. It runs as customerhub_search, the BYPASSRLS role that owns the
-- search functions, under the same rules (see customer_search_ids):
--   * the tenant comes from the transaction's own context (app_tenant_id);
--     without one it returns nothing;
--   * it returns ids, never data; its one caller (UsersSeeBeyondCaller)
--     keeps only the ids that the caller does NOT see, by reading customers
--     under the unchanged policy, and answers a single boolean;
--   * SECURITY DEFINER with a fixed search_path, EXECUTE revoked from
--     PUBLIC and granted to the application role only; no dynamic SQL.
CREATE FUNCTION assigned_customer_ids(p_users uuid[]) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT c.id FROM public.customers c
     WHERE c.tenant_id = public.app_tenant_id() AND c.sales_rep_id = ANY (p_users)
    UNION
    SELECT r.customer_id FROM public.customer_location_reps r
     WHERE r.tenant_id = public.app_tenant_id() AND r.user_id = ANY (p_users)
    UNION
    SELECT g.customer_id FROM public.customer_grants g
     WHERE g.tenant_id = public.app_tenant_id() AND g.user_id = ANY (p_users)
$$;

REVOKE ALL ON FUNCTION assigned_customer_ids(uuid[]) FROM PUBLIC;
-- A new owner needs CREATE on the schema; it keeps ownership once that is
-- taken back.
GRANT CREATE ON SCHEMA public TO customerhub_search;
ALTER FUNCTION assigned_customer_ids(uuid[]) OWNER TO customerhub_search;
REVOKE CREATE ON SCHEMA public FROM customerhub_search;
GRANT EXECUTE ON FUNCTION assigned_customer_ids(uuid[]) TO customerhub_app;
