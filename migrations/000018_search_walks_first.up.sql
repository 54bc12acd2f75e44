-- Searches: the whole tenant's walks the sort's index first; a sales rep's
-- reads their own customers once.
--
-- customer_search_page (000010) found a page of a whole-tenant search by
-- collecting up to a few thousand trigram matches first, and walked the
-- sort's index only when there were more: a common word ("smith", in 2.5%
-- of a 1,000,000-customer tenant) paid for collecting 3,000 matches
-- (about 30 ms) before a walk that takes 5. It now walks a few thousand
-- rows of the sort's index first, which fills the page of a common word,
-- and otherwise estimates from that walk how common the text is. The
-- argument for the function's row-level security is unchanged (000002,
-- 000006, 000010): it returns ids of the caller's tenant only, and the
-- caller reads the rows through the policy.
--
-- An 'assigned' user's search (here and in customer_search_ids) read their
-- own customers twice: from the (tenant, rep, text) trigram index, and
-- again through reach, which holds the rep too. The second part now reads
-- only the customers they see beyond their own, from a small index.

-- The keys of a customer's reach beyond its sales rep and its own id (a
-- location's rep, a grant), indexed only where there are any: an
-- 'assigned' user's search reads their own customers from the (tenant,
-- rep, text) trigram index and the few others from here. (Through the
-- whole reach, as 000010 did, it read every own customer a second time.)
CREATE INDEX customers_reach_extra_idx ON customers USING gin (array_remove(array_remove(reach, sales_rep_id), id))
    WHERE cardinality(array_remove(array_remove(reach, sales_rep_id), id)) > 0;

CREATE OR REPLACE FUNCTION customer_search_ids(p_pattern text, p_limit integer) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    -- EXECUTE plans with the actual values (a one-shot custom plan), so the
    -- trigram index is chosen on the pattern's real selectivity. An
    -- 'assigned' user's own customers come straight from the (tenant, rep,
    -- text) index; the others they see (location rep, grant) from
    -- customers_reach_extra_idx, which holds only those.
    IF public.app_visibility() = 'assigned' THEN
        RETURN QUERY EXECUTE
            'SELECT c.id FROM public.customers c
              WHERE c.tenant_id = public.app_tenant_id() AND c.sales_rep_id = public.app_user_id()
                AND c.search_text LIKE $1
             UNION ALL
             SELECT c.id FROM public.customers c
              WHERE c.tenant_id = public.app_tenant_id()
                AND array_remove(array_remove(c.reach, c.sales_rep_id), c.id) @> ARRAY[public.app_user_id()]
                AND cardinality(array_remove(array_remove(c.reach, c.sales_rep_id), c.id)) > 0
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

CREATE OR REPLACE FUNCTION customer_search_page(p_pattern text, p_statuses text[], p_sort text, p_after_text text,
    p_after_num numeric, p_after_ts timestamptz, p_after_id uuid, p_limit integer) RETURNS SETOF uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    -- The sort key over rows m and its keyset value, chosen from the list
    -- of sorts (p_sort itself never enters the statement's text). One
    -- column instead of 000010's CASE per sort: a statement planned on
    -- every call plans in a fraction of the time.
    sort_name constant text := CASE WHEN left(p_sort, 1) = '-' THEN substr(p_sort, 2) ELSE p_sort END;
    sort_key constant text := CASE sort_name
        WHEN 'name' THEN 'm.name' WHEN 'code' THEN 'm.code' WHEN 'balance' THEN 'm.balance'
        WHEN 'total_order_value' THEN 'm.total_order_value'
        WHEN 'last_order_at' THEN 'coalesce(m.last_order_at, ''-infinity'')'
        WHEN 'updated_at' THEN 'm.updated_at' WHEN 'created_at' THEN 'm.created_at' END;
    after_key constant text := CASE sort_name
        WHEN 'name' THEN '$4' WHEN 'code' THEN '$4' WHEN 'balance' THEN '$5' WHEN 'total_order_value' THEN '$5'
        WHEN 'last_order_at' THEN 'coalesce($6, ''-infinity'')' ELSE '$6' END;
    descending constant boolean := left(p_sort, 1) = '-';
    -- The page's status filter and keyset, and its order.
    page_where constant text := ' m.status = ANY ($2) AND ($7 IS NULL OR (' || sort_key || ', m.id) '
        || CASE WHEN descending THEN '<' ELSE '>' END || ' (' || after_key || ', $7)) ';
    page_order constant text := ' ORDER BY ' || sort_key || CASE WHEN descending THEN ' DESC, m.id DESC ' ELSE ', m.id ' END;
    -- An 'assigned' user's matches: their own customers straight from the
    -- (tenant, rep, text) index, and the few they see beyond those (a
    -- location's rep, a grant) from customers_reach_extra_idx. The two are
    -- disjoint: the second excludes the user's own by construction.
    assigned constant text := '(
            SELECT c.* FROM public.customers c
             WHERE c.tenant_id = public.app_tenant_id() AND c.sales_rep_id = public.app_user_id() AND c.search_text LIKE $1
            UNION ALL
            SELECT c.* FROM public.customers c
             WHERE c.tenant_id = public.app_tenant_id()
               AND array_remove(array_remove(c.reach, c.sales_rep_id), c.id) @> ARRAY[public.app_user_id()]
               AND cardinality(array_remove(array_remove(c.reach, c.sales_rep_id), c.id)) > 0
               AND c.search_text LIKE $1) m';
    tenant_rows float8;
    probe_cap integer;
    walk_rows integer;
    matched bigint;
    ids uuid[];
BEGIN
    IF sort_key IS NULL THEN
        RAISE EXCEPTION 'customer_search_page: unknown sort %', p_sort USING ERRCODE = 'invalid_parameter_value';
    END IF;
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
    -- 1.5 s, and walked nothing for a 30,000-match one: 110 ms). Measured
    -- on a 1,000,000-customer tenant: collecting a match through the
    -- trigram index costs about 8 us, walking a row of the sort's index
    -- about 1.7 us. So:
    -- 1. Walk the first rows of the sort's index, 20 pages' worth. A
    --    common text fills the page there (a word in 5% of the rows needs
    --    about 1,000), and that page is the answer: the rows come in order.
    -- 2. Otherwise the walk tells how common the text is. Collecting its
    --    matches costs 8 us x matches; walking until the page is full,
    --    1.7 us x limit / frequency. Collecting is cheaper below about
    --    sqrt(10 x tenant rows) matches (the tenant's rows from the
    --    planner's statistics): then collect through the trigram index, up
    --    to a cap of twice that in case the estimate was low, and sort in
    --    memory.
    -- 3. Otherwise, or past the cap, walk the sort's index until the page
    --    is full (its first rows are in the cache from step 1).
    walk_rows := greatest(1000, 20 * p_limit);
    -- The walk stops as soon as the page is full: the rows come out of
    -- the index in the page's order.
    EXECUTE 'SELECT array(SELECT m.id FROM (
                 SELECT m.id, m.name, m.code, m.balance, m.total_order_value, m.last_order_at, m.updated_at,
                        m.created_at, m.search_text
                   FROM public.customers m
                  WHERE m.tenant_id = public.app_tenant_id() AND ' || page_where || page_order || ' LIMIT $9) m
             WHERE m.search_text LIKE $1 ' || page_order || ' LIMIT $8)'
        INTO ids USING p_pattern, p_statuses, p_sort, p_after_text, p_after_num, p_after_ts, p_after_id, p_limit, walk_rows;
    matched := cardinality(ids);
    IF matched >= p_limit THEN
        RETURN QUERY SELECT unnest(ids);
        RETURN;
    END IF;
    SELECT coalesce((SELECT u.f FROM pg_catalog.pg_stats s
                       CROSS JOIN LATERAL unnest(s.most_common_vals::text::uuid[], s.most_common_freqs) AS u(v, f)
                      WHERE s.schemaname = 'public' AND s.tablename = 'customers' AND s.attname = 'tenant_id'
                        AND u.v = public.app_tenant_id()), 0)
           * greatest((SELECT c.reltuples FROM pg_catalog.pg_class c WHERE c.oid = 'public.customers'::regclass), 0)
      INTO tenant_rows;
    probe_cap := greatest(500, least(5000, sqrt(10 * tenant_rows)::integer));
    IF (matched + 1) * tenant_rows / walk_rows < probe_cap THEN
        EXECUTE 'WITH m AS MATERIALIZED (
                     SELECT c.* FROM public.customers c
                      WHERE c.tenant_id = public.app_tenant_id() AND c.search_text LIKE $1 LIMIT $9)
                 SELECT (SELECT count(*) FROM m),
                        array(SELECT m.id FROM m WHERE ' || page_where || page_order || ' LIMIT $8)'
            INTO matched, ids USING p_pattern, p_statuses, p_sort, p_after_text, p_after_num, p_after_ts, p_after_id, p_limit, 2 * probe_cap;
        IF matched < 2 * probe_cap THEN
            RETURN QUERY SELECT unnest(ids);
            RETURN;
        END IF;
    END IF;
    -- The planner would pick a bitmap scan of the whole tenant instead of
    -- the walk, so that is switched off for this statement.
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
