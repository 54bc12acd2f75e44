-- Back to the subquery policies of 000002-000004 and the location rep
-- mirror they read.

CREATE TABLE customer_location_reps (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    location_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    user_id     uuid NOT NULL,
    CONSTRAINT customer_location_reps_pkey PRIMARY KEY (tenant_id, location_id),
    CONSTRAINT customer_location_reps_location_fkey FOREIGN KEY (tenant_id, location_id) REFERENCES customer_locations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_location_reps_user_idx ON customer_location_reps (tenant_id, user_id, customer_id);
CREATE INDEX customer_location_reps_customer_idx ON customer_location_reps (tenant_id, customer_id, user_id);

CREATE FUNCTION customer_location_reps_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RETURN OLD; -- the ON DELETE CASCADE removes the mirror row
    END IF;
    IF NEW.sales_rep_id IS NULL THEN
        DELETE FROM customer_location_reps WHERE tenant_id = NEW.tenant_id AND location_id = NEW.id;
    ELSE
        INSERT INTO customer_location_reps (tenant_id, location_id, customer_id, user_id)
        VALUES (NEW.tenant_id, NEW.id, NEW.customer_id, NEW.sales_rep_id)
        ON CONFLICT ON CONSTRAINT customer_location_reps_pkey
        DO UPDATE SET user_id = EXCLUDED.user_id, customer_id = EXCLUDED.customer_id;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER customer_locations_reps_sync
    AFTER INSERT OR UPDATE OF sales_rep_id, customer_id ON customer_locations
    FOR EACH ROW EXECUTE FUNCTION customer_location_reps_sync();

ALTER TABLE customer_location_reps ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_location_reps FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_location_reps
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON customer_location_reps TO customerhub_app;
GRANT SELECT ON customer_location_reps, customer_grants TO customerhub_search;
ALTER TABLE customer_location_reps NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_locations NO FORCE ROW LEVEL SECURITY;
INSERT INTO customer_location_reps (tenant_id, location_id, customer_id, user_id)
SELECT tenant_id, id, customer_id, sales_rep_id FROM customer_locations WHERE sales_rep_id IS NOT NULL;
ALTER TABLE customer_location_reps FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_locations FORCE ROW LEVEL SECURITY;


CREATE OR REPLACE FUNCTION customer_search_ids(p_pattern text, p_limit integer) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    -- EXECUTE plans with the actual values (a one-shot custom plan), so the
    -- trigram index is chosen on the pattern's real selectivity. An
    -- 'assigned' user's matches are read per way of seeing a customer, so
    -- the rep's own ones come straight from the (tenant, rep, text) index.
    IF public.app_visibility() = 'assigned' THEN
        RETURN QUERY EXECUTE
            'SELECT c.id FROM public.customers c
              WHERE c.tenant_id = public.app_tenant_id() AND c.sales_rep_id = public.app_user_id()
                AND c.search_text LIKE $1
             UNION
             SELECT c.id FROM public.customers c
               JOIN public.customer_location_reps r ON r.tenant_id = c.tenant_id AND r.customer_id = c.id
              WHERE c.tenant_id = public.app_tenant_id() AND r.user_id = public.app_user_id() AND c.search_text LIKE $1
             UNION
             SELECT c.id FROM public.customers c
               JOIN public.customer_grants g ON g.tenant_id = c.tenant_id AND g.customer_id = c.id
              WHERE c.tenant_id = public.app_tenant_id() AND g.user_id = public.app_user_id() AND c.search_text LIKE $1
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
    -- An 'assigned' user's matches, read per way of seeing a customer so
    -- the rep's own come straight from the (tenant, rep, text) index.
    assigned constant text := '(
            SELECT c.* FROM public.customers c
             WHERE c.tenant_id = public.app_tenant_id() AND c.sales_rep_id = public.app_user_id() AND c.search_text LIKE $1
            UNION
            SELECT c.* FROM public.customers c
              JOIN public.customer_location_reps r ON r.tenant_id = c.tenant_id AND r.customer_id = c.id
             WHERE c.tenant_id = public.app_tenant_id() AND r.user_id = public.app_user_id() AND c.search_text LIKE $1
            UNION
            SELECT c.* FROM public.customers c
              JOIN public.customer_grants g ON g.tenant_id = c.tenant_id AND g.customer_id = c.id
             WHERE c.tenant_id = public.app_tenant_id() AND g.user_id = public.app_user_id() AND c.search_text LIKE $1) m';
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


DROP FUNCTION assigned_customer_ids(uuid[]);
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
GRANT CREATE ON SCHEMA public TO customerhub_search;
ALTER FUNCTION assigned_customer_ids(uuid[]) OWNER TO customerhub_search;
REVOKE CREATE ON SCHEMA public FROM customerhub_search;
GRANT EXECUTE ON FUNCTION assigned_customer_ids(uuid[]) TO customerhub_app;


DROP POLICY tenant_isolation ON customers;
DROP POLICY tenant_isolation ON customer_contacts;
DROP POLICY tenant_isolation ON customer_locations;
DROP POLICY tenant_isolation ON customer_group_members;
DROP POLICY tenant_isolation ON customer_prices;
DROP POLICY tenant_isolation ON customer_merges;
DROP POLICY tenant_isolation ON sales_orders;
DROP POLICY tenant_isolation ON payments;
DROP POLICY tenant_isolation ON sales_order_lines;
DROP POLICY tenant_isolation ON payment_allocations;
DROP POLICY tenant_isolation ON customer_grants;
CREATE POLICY tenant_isolation ON customer_grants
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

CREATE POLICY tenant_isolation ON customers
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR (app_visibility() = 'assigned'
                    AND (sales_rep_id = app_user_id()
                         OR EXISTS (SELECT 1 FROM customer_location_reps r
                                    WHERE r.tenant_id = customers.tenant_id AND r.customer_id = customers.id
                                      AND r.user_id = app_user_id())
                         OR EXISTS (SELECT 1 FROM customer_grants g
                                    WHERE g.tenant_id = customers.tenant_id AND g.customer_id = customers.id
                                      AND g.user_id = app_user_id())))
                OR (app_visibility() = 'portal' AND id = app_customer_id())))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR (app_visibility() = 'assigned'
                    AND (sales_rep_id = app_user_id()
                         OR EXISTS (SELECT 1 FROM customer_location_reps r
                                    WHERE r.tenant_id = customers.tenant_id AND r.customer_id = customers.id
                                      AND r.user_id = app_user_id())
                         OR EXISTS (SELECT 1 FROM customer_grants g
                                    WHERE g.tenant_id = customers.tenant_id AND g.customer_id = customers.id
                                      AND g.user_id = app_user_id())))
                OR (app_visibility() = 'portal' AND id = app_customer_id())));

CREATE POLICY tenant_isolation ON customer_contacts
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_contacts.tenant_id AND c.id = customer_contacts.customer_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_contacts.tenant_id AND c.id = customer_contacts.customer_id)));
CREATE POLICY tenant_isolation ON customer_locations
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_locations.tenant_id AND c.id = customer_locations.customer_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_locations.tenant_id AND c.id = customer_locations.customer_id)));
CREATE POLICY tenant_isolation ON customer_group_members
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_group_members.tenant_id AND c.id = customer_group_members.customer_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_group_members.tenant_id AND c.id = customer_group_members.customer_id)));
CREATE POLICY tenant_isolation ON customer_prices
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_prices.tenant_id AND c.id = customer_prices.customer_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_prices.tenant_id AND c.id = customer_prices.customer_id)));
CREATE POLICY tenant_isolation ON customer_merges
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_merges.tenant_id AND c.id = customer_merges.kept_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_merges.tenant_id AND c.id = customer_merges.kept_id)));
CREATE POLICY tenant_isolation ON sales_orders
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = sales_orders.tenant_id AND c.id = sales_orders.customer_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = sales_orders.tenant_id AND c.id = sales_orders.customer_id)));
CREATE POLICY tenant_isolation ON payments
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = payments.tenant_id AND c.id = payments.customer_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = payments.tenant_id AND c.id = payments.customer_id)));
CREATE POLICY tenant_isolation ON sales_order_lines
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM sales_orders o WHERE o.tenant_id = sales_order_lines.tenant_id AND o.id = sales_order_lines.order_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM sales_orders o WHERE o.tenant_id = sales_order_lines.tenant_id AND o.id = sales_order_lines.order_id)));
CREATE POLICY tenant_isolation ON payment_allocations
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM payments p WHERE p.tenant_id = payment_allocations.tenant_id AND p.id = payment_allocations.payment_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM payments p WHERE p.tenant_id = payment_allocations.tenant_id AND p.id = payment_allocations.payment_id)));
DROP POLICY tenant_isolation ON job_targets;
CREATE POLICY tenant_isolation ON job_targets
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = job_targets.tenant_id AND j.id = job_targets.job_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = job_targets.tenant_id AND j.id = job_targets.job_id)));

DROP INDEX customers_reach_idx;
ALTER TABLE job_targets DROP COLUMN created_by;
ALTER TABLE customers DROP COLUMN reach;
ALTER TABLE customer_contacts DROP COLUMN reach;
ALTER TABLE customer_locations DROP COLUMN reach;
ALTER TABLE customer_group_members DROP COLUMN reach;
ALTER TABLE customer_prices DROP COLUMN reach;
ALTER TABLE customer_merges DROP COLUMN reach;
ALTER TABLE sales_orders DROP COLUMN reach;
ALTER TABLE payments DROP COLUMN reach;
ALTER TABLE sales_order_lines DROP COLUMN reach;
ALTER TABLE payment_allocations DROP COLUMN reach;
ALTER TABLE customer_grants DROP COLUMN reach;
DROP POLICY tenant_isolation ON audit_events;
CREATE POLICY tenant_isolation ON audit_events
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
DROP INDEX audit_events_customer_idx;
REVOKE UPDATE (reach) ON audit_events FROM customerhub_app;
ALTER TABLE audit_events DROP COLUMN reach;
DROP FUNCTION customer_reach_refresh(uuid[]);
DROP FUNCTION audit_record(uuid, timestamptz, uuid, text, text, uuid, jsonb, text, uuid);
DROP FUNCTION audit_record_many(uuid[], timestamptz, uuid, text, text, uuid[], jsonb[], text, uuid[]);
DROP FUNCTION app_bookkeeping();
DROP FUNCTION reach_norm(uuid[]);
