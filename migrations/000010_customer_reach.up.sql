-- Visibility the database enforces without subqueries in its policies
-- (issue 10), so that every tenant table can be distributed on Citus, which
-- refuses a policy with a subquery, and so that a plain query under the
-- policy costs what it costs without one.
--
-- The design: who may see a customer's rows by assignment is kept on the
-- rows themselves, in `reach`, an array of access keys:
--   * on customers: the customer's sales rep, the reps of its locations
--     (rep overrides), the users it is granted to, and the customer's own
--     id, the key of its portal users;
--   * on every table of rows that belong to a customer (contacts,
--     locations, group memberships, own prices, grants, merge tombstones,
--     orders and their lines, payments and their allocations, and audit
--     events, see below): a copy of their customer's reach.
-- The policy of each of these tables is then a comparison of the row's
-- own columns with the transaction's context, as for every other table:
--     tenant_id = app_tenant_id()
--     AND (app_visibility() = 'all'
--          OR (app_visibility() = 'assigned' AND reach @> ARRAY[app_user_id()])
--          OR (app_visibility() = 'portal' AND reach @> ARRAY[app_customer_id()])
--          OR app_bookkeeping())
-- (the last: the database's own bookkeeping, see customer_reach_refresh),
-- which is exactly the old rule (rep, location rep or grant for 'assigned';
-- the linked customer for 'portal'; children follow their customer) as
-- long as reach is right. User ids and customer ids are random UUIDs, so a
-- user's key and a customer's key never meet.
--
-- Keeping reach right. Reach is derived, never given: it changes only
-- through customer_reach_refresh(customers), which recomputes it from its
-- sources (customers.sales_rep_id, customer_locations.sales_rep_id,
-- customer_grants) and copies it to the customer's rows, in the caller's
-- transaction. The application calls it wherever a source changes (a
-- customer's rep, single or bulk; a location's rep override, created,
-- changed, deleted or moved; a grant given or taken; a merge), and a test
-- compares every row's reach with its sources after exercising all of them.
-- A new customer is inserted with the reach of its rep, and a new child row
-- takes its customer's reach as read, under the customers policy, with the
-- customer's row locked (FOR SHARE, or FOR UPDATE by order and payment
-- writes) until the transaction ends. The refresh locks the customers
-- before it reads anything, so it waits for, or is waited for by, any such
-- insert: a child row never keeps a reach its customer has since lost.
-- (The value is passed to a plain INSERT: Citus cannot push an INSERT ...
-- SELECT with RETURNING down to a shard under row-level security.)
--
-- Writes. A row can be inserted only visible to the writer, and changed or
-- deleted only when visible (and, PostgreSQL adds, staying visible), but
-- for the refresh (below). Whether a user may change a source at all is the
-- application's rule (auth.CheckSalesRep, the reach rules of users and
-- grants).
--
-- The old mirror of location reps (customer_location_reps and its trigger,
-- which Citus accepts only as an "unsafe" trigger) is gone: reach is read
-- straight from the locations.

-- reach_norm is an array of access keys as stored: distinct, sorted, no
-- NULL, so that equal sets compare equal. (PL/pgSQL, not SQL: Citus cannot
-- plan a SQL function's parameters inside a distributed query.)
CREATE FUNCTION reach_norm(p_keys uuid[]) RETURNS uuid[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN ARRAY(SELECT DISTINCT k FROM unnest(p_keys) AS k WHERE k IS NOT NULL ORDER BY k);
END
$$;

ALTER TABLE customers ADD COLUMN reach uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE customer_contacts ADD COLUMN reach uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE customer_locations ADD COLUMN reach uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE customer_group_members ADD COLUMN reach uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE customer_prices ADD COLUMN reach uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE customer_merges ADD COLUMN reach uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE sales_orders ADD COLUMN reach uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE payments ADD COLUMN reach uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE sales_order_lines ADD COLUMN reach uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE payment_allocations ADD COLUMN reach uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE customer_grants ADD COLUMN reach uuid[] NOT NULL DEFAULT '{}';

-- Bulk job targets are the job creator's (as jobs are).
ALTER TABLE job_targets ADD COLUMN created_by uuid DEFAULT app_user_id();

-- Fill reach in for the rows there are. The owner reads every tenant's
-- rows only while the policies are not forced, which lasts this
-- migration's transaction (one statement string, one transaction; ALTER
-- TABLE holds its lock until commit).
ALTER TABLE customers NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_contacts NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_locations NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_group_members NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_prices NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_merges NO FORCE ROW LEVEL SECURITY;
ALTER TABLE sales_orders NO FORCE ROW LEVEL SECURITY;
ALTER TABLE payments NO FORCE ROW LEVEL SECURITY;
ALTER TABLE sales_order_lines NO FORCE ROW LEVEL SECURITY;
ALTER TABLE payment_allocations NO FORCE ROW LEVEL SECURITY;
ALTER TABLE job_targets NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_grants NO FORCE ROW LEVEL SECURITY;
ALTER TABLE jobs NO FORCE ROW LEVEL SECURITY;

UPDATE customers c SET reach = reach_norm(
    ARRAY[c.id, c.sales_rep_id]
    || ARRAY(SELECT l.sales_rep_id FROM customer_locations l WHERE l.tenant_id = c.tenant_id AND l.customer_id = c.id)
    || ARRAY(SELECT g.user_id FROM customer_grants g WHERE g.tenant_id = c.tenant_id AND g.customer_id = c.id));
UPDATE customer_contacts x SET reach = c.reach FROM customers c
WHERE c.tenant_id = x.tenant_id AND c.id = x.customer_id;
UPDATE customer_locations x SET reach = c.reach FROM customers c
WHERE c.tenant_id = x.tenant_id AND c.id = x.customer_id;
UPDATE customer_group_members x SET reach = c.reach FROM customers c
WHERE c.tenant_id = x.tenant_id AND c.id = x.customer_id;
UPDATE customer_prices x SET reach = c.reach FROM customers c
WHERE c.tenant_id = x.tenant_id AND c.id = x.customer_id;
UPDATE customer_merges x SET reach = c.reach FROM customers c
WHERE c.tenant_id = x.tenant_id AND c.id = x.kept_id;
UPDATE customer_grants x SET reach = c.reach FROM customers c
WHERE c.tenant_id = x.tenant_id AND c.id = x.customer_id;
UPDATE sales_orders x SET reach = c.reach FROM customers c
WHERE c.tenant_id = x.tenant_id AND c.id = x.customer_id;
UPDATE payments x SET reach = c.reach FROM customers c
WHERE c.tenant_id = x.tenant_id AND c.id = x.customer_id;
UPDATE sales_order_lines x SET reach = o.reach FROM sales_orders o
WHERE o.tenant_id = x.tenant_id AND o.id = x.order_id;
UPDATE payment_allocations x SET reach = p.reach FROM payments p
WHERE p.tenant_id = x.tenant_id AND p.id = x.payment_id;
UPDATE job_targets t SET created_by = j.created_by FROM jobs j
WHERE j.tenant_id = t.tenant_id AND j.id = t.job_id;

ALTER TABLE customers FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_contacts FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_locations FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_group_members FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_prices FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_merges FORCE ROW LEVEL SECURITY;
ALTER TABLE sales_orders FORCE ROW LEVEL SECURITY;
ALTER TABLE payments FORCE ROW LEVEL SECURITY;
ALTER TABLE sales_order_lines FORCE ROW LEVEL SECURITY;
ALTER TABLE payment_allocations FORCE ROW LEVEL SECURITY;
ALTER TABLE job_targets FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_grants FORCE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;

-- customer_reach_refresh recomputes the reach of the given customers of
-- the transaction's tenant from its sources and copies it to their rows,
-- changing only what differs. Every statement names the tenant, so on
-- Citus each is routed to the tenant's shards.
--
-- It runs as the caller. A refresh may take the caller's own key out of a
-- reach (a rep gives up a location override, a lead hands a location on),
-- and PostgreSQL checks an updated row against the SELECT policy too. So
-- the database's own bookkeeping (this refresh, and recording an audit
-- event, see audit_record) raises app.bookkeeping around its statements,
-- and the policies accept it (app_bookkeeping()). (A SECURITY DEFINER
-- function cannot do it on Citus: it would reach the shards over
-- connections of another role, which may not touch rows this transaction
-- changed.) Why this is safe:
--   * the flag is raised and lowered by these functions alone, around
--     their own statements, which are fixed: the refresh reads the sources
--     of reach (customers.sales_rep_id, customer_locations.sales_rep_id,
--     customer_grants) and writes nothing but reach; audit_record adds one
--     event;
--   * reach is derived from those sources as they are, and they are
--     written by the caller under their own policies and the
--     application's rules: refreshing any customer any number of times
--     gives the same result, so nothing is gained by refreshing customers
--     one did not change;
--   * like app.tenant_id itself, the setting is the application role's to
--     make: a caller able to run arbitrary SQL could set any tenant. It
--     never crosses tenants.
--
-- It first locks the customers (in id order), and only then reads the
-- sources, in a statement of its own: under READ COMMITTED each statement
-- of a function sees what was committed when it began, so two
-- transactions that each change a source (two grants of one customer)
-- cannot both compute reach without the other's change: the second waits
-- for the first to commit, then sees its source too. A child row inserted
-- meanwhile (its insert reads the customer FOR SHARE) is committed before
-- the lock is granted, so the copies below reach it.
CREATE FUNCTION app_bookkeeping() RETURNS boolean LANGUAGE sql STABLE AS
$$ SELECT coalesce(current_setting('app.bookkeeping', true), '') = 'on' $$;

CREATE FUNCTION customer_reach_refresh(p_customers uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t uuid := app_tenant_id();
BEGIN
    IF t IS NULL OR p_customers IS NULL OR cardinality(p_customers) = 0 THEN
        RETURN;
    END IF;
    -- SET LOCAL (not set_config) reaches Citus's workers.
    EXECUTE 'SET LOCAL app.bookkeeping = on';
    PERFORM 1 FROM customers c WHERE c.tenant_id = t AND c.id = ANY (p_customers) ORDER BY c.id FOR NO KEY UPDATE;
    UPDATE customers c SET reach = r.reach
    FROM (SELECT s.id, reach_norm(
                     ARRAY[s.id, s.sales_rep_id]
                     || ARRAY(SELECT l.sales_rep_id FROM customer_locations l
                              WHERE l.tenant_id = t AND l.customer_id = s.id AND l.sales_rep_id IS NOT NULL)
                     || ARRAY(SELECT g.user_id FROM customer_grants g
                              WHERE g.tenant_id = t AND g.customer_id = s.id)) AS reach
          FROM customers s
          WHERE s.tenant_id = t AND s.id = ANY (p_customers)) r
    WHERE c.tenant_id = t AND c.id = r.id AND c.reach IS DISTINCT FROM r.reach;

    UPDATE customer_contacts x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.customer_id AND x.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE customer_locations x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.customer_id AND x.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE customer_group_members x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.customer_id AND x.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE customer_prices x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.customer_id AND x.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE customer_merges x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.kept_id AND x.kept_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE customer_grants x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.customer_id AND x.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE audit_events x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.customer_id AND x.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE sales_orders x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.customer_id AND x.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE payments x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.customer_id AND x.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE sales_order_lines x SET reach = o.reach FROM sales_orders o
    WHERE x.tenant_id = t AND o.tenant_id = t AND o.id = x.order_id AND o.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM o.reach;
    UPDATE payment_allocations x SET reach = p.reach FROM payments p
    WHERE x.tenant_id = t AND p.tenant_id = t AND p.id = x.payment_id AND p.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM p.reach;
    EXECUTE 'SET LOCAL app.bookkeeping = off';
END
$$;
REVOKE ALL ON FUNCTION customer_reach_refresh(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_reach_refresh(uuid[]) TO customerhub_app;
-- The search functions no longer read the grants.
REVOKE SELECT ON customer_grants FROM customerhub_search;

-- The policies: read, insert, change and delete what is visible (or
-- whatever the running reach refresh touches).
DO $$
DECLARE
    tbl text;
    vis constant text := $v$tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR (app_visibility() = 'assigned' AND reach @> ARRAY[app_user_id()])
                OR (app_visibility() = 'portal' AND reach @> ARRAY[app_customer_id()])
                OR app_bookkeeping())$v$;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['customers', 'customer_contacts', 'customer_locations', 'customer_group_members', 'customer_prices', 'customer_merges', 'sales_orders', 'payments', 'sales_order_lines', 'payment_allocations', 'customer_grants'] LOOP
        EXECUTE format('DROP POLICY tenant_isolation ON %I', tbl);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (%s) WITH CHECK (%s)', tbl, vis, vis);
    END LOOP;
END
$$;

-- Job targets follow their job: its creator, or users who see every
-- customer.
DROP POLICY tenant_isolation ON job_targets;
CREATE POLICY tenant_isolation ON job_targets
    USING (tenant_id = app_tenant_id() AND (app_visibility() = 'all' OR created_by = app_user_id()))
    WITH CHECK (tenant_id = app_tenant_id() AND (app_visibility() = 'all' OR created_by = app_user_id()));

-- The functions that read customers past row-level security (search,
-- assigned_customer_ids) find a user's customers by reach. (Under the
-- policy itself the GIN index cannot serve a query's own reach filter:
-- array containment is not LEAKPROOF.)
CREATE INDEX customers_reach_idx ON customers USING gin (reach);

-- Audit events of a customer's objects (audit_events.customer_id,
-- migration 000007) carry its reach too, copied when they are recorded and
-- kept by the refresh; the events of an object since deleted keep the
-- reach its customer had then ("who could see it"). Events of the tenant's
-- own objects (no customer) are everyone's in the tenant. Events are
-- written by the system on the actor's behalf, so a new one only has to
-- stay in the tenant.
ALTER TABLE audit_events ADD COLUMN reach uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE audit_events NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customers NO FORCE ROW LEVEL SECURITY;
UPDATE audit_events e SET reach = c.reach FROM customers c
WHERE c.tenant_id = e.tenant_id AND c.id = e.customer_id;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE INDEX audit_events_customer_idx ON audit_events (tenant_id, customer_id) WHERE customer_id IS NOT NULL;
-- The application still may not change what an event says: only its reach,
-- which the refresh keeps.
GRANT UPDATE (reach) ON audit_events TO customerhub_app;
DROP POLICY tenant_isolation ON audit_events;
CREATE POLICY tenant_isolation ON audit_events
    USING (tenant_id = app_tenant_id()
           AND (customer_id IS NULL
                OR app_visibility() = 'all'
                OR (app_visibility() = 'assigned' AND reach @> ARRAY[app_user_id()])
                OR (app_visibility() = 'portal' AND reach @> ARRAY[app_customer_id()])
                OR app_bookkeeping()))
    WITH CHECK (tenant_id = app_tenant_id());

-- audit_record adds one audit event of the transaction's tenant. An event
-- of a customer's object takes the customer's reach as it is now (read as
-- bookkeeping: the actor may just have handed the customer on), or, when
-- the customer is gone (its delete), the reach its last event recorded.
-- The id and time come from the caller (a volatile clock in an INSERT ...
-- SELECT would make Citus copy the row through the coordinator, which
-- row-level security refuses; the ON CONFLICT that never fires, the id
-- being new, lets Citus run the statement on the shard).
CREATE FUNCTION audit_record(p_id uuid, p_at timestamptz, p_actor uuid, p_action text, p_entity text,
    p_entity_id uuid, p_changes jsonb, p_request_id text, p_customer uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t uuid := app_tenant_id();
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'audit_record without a tenant' USING ERRCODE = '22023';
    END IF;
    EXECUTE 'SET LOCAL app.bookkeeping = on';
    INSERT INTO audit_events (tenant_id, id, at, actor_id, action, entity, entity_id, changes, request_id, customer_id, reach)
    SELECT t, p_id, p_at, p_actor, p_action, p_entity, p_entity_id, p_changes, p_request_id, p_customer,
           coalesce((SELECT c.reach FROM customers c WHERE c.tenant_id = t AND c.id = p_customer),
                    (SELECT e.reach FROM audit_events e WHERE e.tenant_id = t AND e.customer_id = p_customer
                     ORDER BY e.at DESC LIMIT 1),
                    '{}')
    ON CONFLICT ON CONSTRAINT audit_events_pkey DO NOTHING;
    EXECUTE 'SET LOCAL app.bookkeeping = off';
END
$$;

-- audit_record_many adds one event per entity for bulk work (parallel
-- arrays), each with its customer's reach.
CREATE FUNCTION audit_record_many(p_ids uuid[], p_at timestamptz, p_actor uuid, p_action text, p_entity text,
    p_entity_ids uuid[], p_changes jsonb[], p_request_id text, p_customers uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t uuid := app_tenant_id();
BEGIN
    IF t IS NULL THEN
        RAISE EXCEPTION 'audit_record_many without a tenant' USING ERRCODE = '22023';
    END IF;
    EXECUTE 'SET LOCAL app.bookkeeping = on';
    INSERT INTO audit_events (tenant_id, id, at, actor_id, action, entity, entity_id, changes, request_id, customer_id, reach)
    SELECT t, u.id, p_at, p_actor, p_action, p_entity, u.entity_id, u.changes, p_request_id, c.id, c.reach
    FROM customers c
    JOIN (SELECT unnest(p_ids) AS id, unnest(p_entity_ids) AS entity_id, unnest(p_changes) AS changes,
                 unnest(p_customers) AS customer_id) u ON u.customer_id = c.id
    WHERE c.tenant_id = t
    ON CONFLICT ON CONSTRAINT audit_events_pkey DO NOTHING;
    EXECUTE 'SET LOCAL app.bookkeeping = off';
END
$$;
REVOKE ALL ON FUNCTION audit_record(uuid, timestamptz, uuid, text, text, uuid, jsonb, text, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_record_many(uuid[], timestamptz, uuid, text, text, uuid[], jsonb[], text, uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_record(uuid, timestamptz, uuid, text, text, uuid, jsonb, text, uuid) TO customerhub_app;
GRANT EXECUTE ON FUNCTION audit_record_many(uuid[], timestamptz, uuid, text, text, uuid[], jsonb[], text, uuid[]) TO customerhub_app;

-- The location rep mirror gives way to reach.
DROP TRIGGER customer_locations_reps_sync ON customer_locations;
DROP FUNCTION customer_location_reps_sync();
DROP TABLE customer_location_reps;

-- The search functions (000002, 000006) and assigned_customer_ids (000008)
-- read reach instead of the mirror and the grants; the argument for their
-- safety is unchanged.

CREATE OR REPLACE FUNCTION customer_search_ids(p_pattern text, p_limit integer) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    -- EXECUTE plans with the actual values (a one-shot custom plan), so the
    -- trigram index is chosen on the pattern's real selectivity. An
    -- 'assigned' user's own customers come straight from the (tenant, rep,
    -- text) index; the others they see (location rep, grant) through their
    -- reach.
    IF public.app_visibility() = 'assigned' THEN
        RETURN QUERY EXECUTE
            'SELECT c.id FROM public.customers c
              WHERE c.tenant_id = public.app_tenant_id() AND c.sales_rep_id = public.app_user_id()
                AND c.search_text LIKE $1
             UNION
             SELECT c.id FROM public.customers c
              WHERE c.tenant_id = public.app_tenant_id() AND c.reach @> ARRAY[public.app_user_id()]
                AND c.search_text LIKE $1
             LIMIT $2'
            USING p_pattern, p_limit;
    ELSIF public.app_visibility() = 'all' THEN
        RETURN QUERY EXECUTE
            'SELECT c.id FROM public.customers c
              WHERE c.tenant_id = public.app_tenant_id() AND c.search_text LIKE $1
              LIMIT $2'
            USING p_pattern, p_limit;
    ELSIF public.app_visibility() = 'portal' THEN
        RETURN QUERY EXECUTE
            'SELECT c.id FROM public.customers c
              WHERE c.tenant_id = public.app_tenant_id() AND c.id = public.app_customer_id()
                AND c.search_text LIKE $1'
            USING p_pattern;
    END IF;
END
$$;

-- customer_search_page is customer_search_ids for the commonest list: a
-- search with only the status filter, sorted and paged. It returns one page
-- of ids in order (the row-level security argument above applies
-- unchanged: the caller reads the rows through the policy). Ordering inside
-- lets the trigram scan feed a top-N sort, as a query without row-level
-- security would, instead of handing every match to the caller. The sort
-- keys fold to one column per call (one-shot plan with the values known),
-- exactly as in CustomerList.
CREATE OR REPLACE FUNCTION customer_search_page(p_pattern text, p_statuses text[], p_sort text, p_after_text text,
    p_after_num numeric, p_after_ts timestamptz, p_after_id uuid, p_limit integer) RETURNS SETOF uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    -- The page's status filter and keyset over rows m, and its order (all
    -- constant text; the sort keys fold to one column per call, as in
    -- CustomerList, because EXECUTE plans with the values known).
    page_where constant text := '
            m.status = ANY ($2)
            AND ($7 IS NULL
                 OR ($3 = ''name'' AND (m.name, m.id) > ($4, $7))
                 OR ($3 = ''-name'' AND (m.name, m.id) < ($4, $7))
                 OR ($3 = ''code'' AND (m.code, m.id) > ($4, $7))
                 OR ($3 = ''-code'' AND (m.code, m.id) < ($4, $7))
                 OR ($3 = ''balance'' AND (m.balance, m.id) > ($5, $7))
                 OR ($3 = ''-balance'' AND (m.balance, m.id) < ($5, $7))
                 OR ($3 = ''total_order_value'' AND (m.total_order_value, m.id) > ($5, $7))
                 OR ($3 = ''-total_order_value'' AND (m.total_order_value, m.id) < ($5, $7))
                 OR ($3 = ''last_order_at'' AND (coalesce(m.last_order_at, ''-infinity''), m.id) > (coalesce($6, ''-infinity''), $7))
                 OR ($3 = ''-last_order_at'' AND (coalesce(m.last_order_at, ''-infinity''), m.id) < (coalesce($6, ''-infinity''), $7))
                 OR ($3 = ''updated_at'' AND (m.updated_at, m.id) > ($6, $7))
                 OR ($3 = ''-updated_at'' AND (m.updated_at, m.id) < ($6, $7))
                 OR ($3 = ''created_at'' AND (m.created_at, m.id) > ($6, $7))
                 OR ($3 = ''-created_at'' AND (m.created_at, m.id) < ($6, $7))) ';
    page_order constant text := '
          ORDER BY
            CASE WHEN $3 = ''name'' THEN m.name END ASC, CASE WHEN $3 = ''-name'' THEN m.name END DESC,
            CASE WHEN $3 = ''code'' THEN m.code END ASC, CASE WHEN $3 = ''-code'' THEN m.code END DESC,
            CASE WHEN $3 = ''balance'' THEN m.balance END ASC, CASE WHEN $3 = ''-balance'' THEN m.balance END DESC,
            CASE WHEN $3 = ''total_order_value'' THEN m.total_order_value END ASC,
            CASE WHEN $3 = ''-total_order_value'' THEN m.total_order_value END DESC,
            CASE WHEN $3 = ''last_order_at'' THEN coalesce(m.last_order_at, ''-infinity'') END ASC,
            CASE WHEN $3 = ''-last_order_at'' THEN coalesce(m.last_order_at, ''-infinity'') END DESC,
            CASE WHEN $3 = ''updated_at'' THEN m.updated_at END ASC, CASE WHEN $3 = ''-updated_at'' THEN m.updated_at END DESC,
            CASE WHEN $3 = ''created_at'' THEN m.created_at END ASC, CASE WHEN $3 = ''-created_at'' THEN m.created_at END DESC,
            CASE WHEN left($3, 1) <> ''-'' THEN m.id END ASC, CASE WHEN left($3, 1) = ''-'' THEN m.id END DESC ';
    -- An 'assigned' user's matches: their own customers straight from the
    -- (tenant, rep, text) index, the others they see through their reach.
    assigned constant text := '(
            SELECT c.* FROM public.customers c
             WHERE c.tenant_id = public.app_tenant_id() AND c.sales_rep_id = public.app_user_id() AND c.search_text LIKE $1
            UNION
            SELECT c.* FROM public.customers c
             WHERE c.tenant_id = public.app_tenant_id() AND c.reach @> ARRAY[public.app_user_id()]
               AND c.search_text LIKE $1) m';
    tenant_rows float8;
    probe_cap integer;
    matched bigint;
    ids uuid[];
BEGIN
    IF public.app_visibility() = 'assigned' THEN
        RETURN QUERY EXECUTE 'SELECT m.id FROM ' || assigned || ' WHERE ' || page_where || page_order || ' LIMIT $8'
            USING p_pattern, p_statuses, p_sort, p_after_text, p_after_num, p_after_ts, p_after_id, p_limit;
        RETURN;
    ELSIF public.app_visibility() = 'portal' THEN
        RETURN QUERY EXECUTE 'SELECT m.id FROM public.customers m
                               WHERE m.tenant_id = public.app_tenant_id() AND m.id = public.app_customer_id()
                                 AND m.search_text LIKE $1 AND ' || page_where || page_order || ' LIMIT $8'
            USING p_pattern, p_statuses, p_sort, p_after_text, p_after_num, p_after_ts, p_after_id, p_limit;
        RETURN;
    ELSIF public.app_visibility() IS DISTINCT FROM 'all' THEN
        RETURN;
    END IF;

    -- The whole tenant. How a page is best found depends on how common the
    -- text is, which the planner cannot tell from a substring (it took a
    -- 100-match code search for a common one and walked a million rows:
    -- 1.5 s, and walked nothing for a 30,000-match one: 110 ms). So:
    -- 1. Collect the matches through the trigram index, up to a cap, and
    --    sort them in memory. The cap is where this costs what walking the
    --    sort's index does, about sqrt(10 x tenant rows) (measured on a
    --    1,000,000-customer tenant: collecting a match ~8 us, walking a
    --    row ~1.7 us); the tenant's rows come from the planner's
    --    statistics.
    SELECT coalesce((SELECT u.f FROM pg_catalog.pg_stats s
                       CROSS JOIN LATERAL unnest(s.most_common_vals::text::uuid[], s.most_common_freqs) AS u(v, f)
                      WHERE s.schemaname = 'public' AND s.tablename = 'customers' AND s.attname = 'tenant_id'
                        AND u.v = public.app_tenant_id()), 0)
           * greatest((SELECT c.reltuples FROM pg_catalog.pg_class c WHERE c.oid = 'public.customers'::regclass), 0)
      INTO tenant_rows;
    probe_cap := greatest(500, least(5000, sqrt(10 * tenant_rows)::integer));
    EXECUTE 'WITH m AS MATERIALIZED (
                 SELECT c.* FROM public.customers c
                  WHERE c.tenant_id = public.app_tenant_id() AND c.search_text LIKE $1 LIMIT $9)
             SELECT (SELECT count(*) FROM m),
                    array(SELECT m.id FROM m WHERE ' || page_where || page_order || ' LIMIT $8)'
        INTO matched, ids USING p_pattern, p_statuses, p_sort, p_after_text, p_after_num, p_after_ts, p_after_id, p_limit, probe_cap;
    IF matched < probe_cap THEN
        RETURN QUERY SELECT unnest(ids);
        RETURN;
    END IF;
    -- 2. Common enough: walk the sort's index until the page is full. The
    --    planner would pick a bitmap scan of the whole tenant instead, so
    --    that is switched off for this statement.
    PERFORM set_config('enable_bitmapscan', 'off', true);
    PERFORM set_config('enable_seqscan', 'off', true);
    RETURN QUERY EXECUTE 'SELECT m.id FROM public.customers m
                           WHERE m.tenant_id = public.app_tenant_id() AND m.search_text LIKE $1 AND '
                          || page_where || page_order || ' LIMIT $8'
        USING p_pattern, p_statuses, p_sort, p_after_text, p_after_num, p_after_ts, p_after_id, p_limit;
    PERFORM set_config('enable_bitmapscan', 'on', true);
    PERFORM set_config('enable_seqscan', 'on', true);
END
$$;

-- assigned_customer_ids becomes PL/pgSQL for Citus (a SQL function's
-- parameters cannot be planned there), the tenant a parameter so that the
-- query is routed to one shard.
DROP FUNCTION assigned_customer_ids(uuid[]);
CREATE FUNCTION assigned_customer_ids(p_users uuid[]) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    t uuid := public.app_tenant_id();
BEGIN
    IF t IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT c.id FROM public.customers c WHERE c.tenant_id = t AND c.reach && p_users;
END
$$;
REVOKE ALL ON FUNCTION assigned_customer_ids(uuid[]) FROM PUBLIC;
GRANT CREATE ON SCHEMA public TO customerhub_search;
ALTER FUNCTION assigned_customer_ids(uuid[]) OWNER TO customerhub_search;
REVOKE CREATE ON SCHEMA public FROM customerhub_search;
GRANT EXECUTE ON FUNCTION assigned_customer_ids(uuid[]) TO customerhub_app;
