-- customer_search_ids and customer_search_page as 000010 left them.
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

DROP INDEX IF EXISTS customers_reach_extra_idx;

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
