-- Brings level the databases migrated at an earlier commit of main.
-- Migrations 000002 and 000004 were edited after they were first
-- committed; golang-migrate applies a version once, so a database migrated
-- before an edit never received it (internal/database TestMigrationHistory
-- migrates one at each such commit, then forward, and compares its schema
-- with a fresh one). Everything here is written to be a no-op on a database
-- migrated from today's files: functions are replaced by the same text,
-- indexes created only when missing or different, policies re-created as
-- they are, and the two changed tables rebuilt only in their old shape.
-- Landed migrations never change: checksums.txt now guards them.

-- 000002 (be648c5): idempotency keys replay their headers, not only the
-- content type. The table is rebuilt rather than altered so that its
-- columns stand in today's order (queries read it with SELECT *); the keys
-- it holds are kept.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_schema = 'public' AND table_name = 'idempotency_keys' AND column_name = 'content_type') THEN
        ALTER TABLE idempotency_keys RENAME TO idempotency_keys_old;
        ALTER TABLE idempotency_keys_old DROP CONSTRAINT idempotency_keys_pkey;
        ALTER TABLE idempotency_keys_old DROP CONSTRAINT idempotency_keys_tenant_id_fkey;
        DROP INDEX idempotency_keys_created_idx;
        CREATE TABLE idempotency_keys (
            tenant_id    uuid        NOT NULL REFERENCES tenants (id),
            user_id      uuid        NOT NULL,
            key          text        NOT NULL,
            method       text        NOT NULL,
            path         text        NOT NULL,
            fingerprint  bytea       NOT NULL,
            status       integer,
            headers      jsonb,
            body         bytea,
            created_at   timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT idempotency_keys_pkey PRIMARY KEY (tenant_id, user_id, key)
        );
        CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
        ALTER TABLE idempotency_keys_old NO FORCE ROW LEVEL SECURITY;
        INSERT INTO idempotency_keys (tenant_id, user_id, key, method, path, fingerprint, status, headers, body, created_at)
        SELECT tenant_id, user_id, key, method, path, fingerprint, status,
               CASE WHEN content_type IS NOT NULL THEN jsonb_build_object('Content-Type', content_type) END, body, created_at
        FROM idempotency_keys_old;
        DROP TABLE idempotency_keys_old;
        ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
        ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
        CREATE POLICY tenant_isolation ON idempotency_keys
            USING (tenant_id = app_tenant_id() AND user_id = app_user_id())
            WITH CHECK (tenant_id = app_tenant_id() AND user_id = app_user_id());
        GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO customerhub_app;
    END IF;
END
$$;

-- 000002 (5c23951, 1055796): filter and sort indexes; the rep-aware
-- trigram index; groups listed newest first.
CREATE INDEX IF NOT EXISTS customers_payment_terms_idx ON customers (tenant_id, payment_terms_id) WHERE payment_terms_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS customers_price_list_idx ON customers (tenant_id, price_list_id) WHERE price_list_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS customers_billing_status_idx ON customers (tenant_id, billing_status) WHERE billing_status IS NOT NULL;
DO $$
BEGIN
    IF pg_get_indexdef('customers_search_trgm_idx'::regclass) NOT LIKE '%sales_rep_id%' THEN
        DROP INDEX customers_search_trgm_idx;
        CREATE INDEX customers_search_trgm_idx ON customers USING gin (tenant_id, sales_rep_id, search_text gin_trgm_ops);
    END IF;
    IF pg_get_indexdef('customer_groups_updated_idx'::regclass) NOT LIKE '%id DESC)' THEN
        DROP INDEX customer_groups_updated_idx;
        CREATE INDEX customer_groups_updated_idx ON customer_groups (tenant_id, updated_at DESC, id DESC);
    END IF;
END
$$;

-- 000002 (1055796): child tables skip the per-row customer lookup for
-- users who see every customer.
DROP POLICY tenant_isolation ON customer_contacts;
CREATE POLICY tenant_isolation ON customer_contacts
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_contacts.tenant_id AND c.id = customer_contacts.customer_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_contacts.tenant_id AND c.id = customer_contacts.customer_id)));

DROP POLICY tenant_isolation ON customer_group_members;
CREATE POLICY tenant_isolation ON customer_group_members
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_group_members.tenant_id AND c.id = customer_group_members.customer_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_group_members.tenant_id AND c.id = customer_group_members.customer_id)));

DROP POLICY tenant_isolation ON customer_locations;
CREATE POLICY tenant_isolation ON customer_locations
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_locations.tenant_id AND c.id = customer_locations.customer_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_locations.tenant_id AND c.id = customer_locations.customer_id)));

-- 000002 (5c23951, 1055796): the search functions as they are today (see
-- 000002 for why they are safe). The first version took no limit.
DROP FUNCTION IF EXISTS customer_search_ids(text);
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

REVOKE ALL ON FUNCTION customer_search_ids(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_search_page(text, text[], text, text, numeric, timestamptz, uuid, integer) FROM PUBLIC;
GRANT CREATE ON SCHEMA public TO customerhub_search;
ALTER FUNCTION customer_search_ids(text, integer) OWNER TO customerhub_search;
ALTER FUNCTION customer_search_page(text, text[], text, text, numeric, timestamptz, uuid, integer) OWNER TO customerhub_search;
REVOKE CREATE ON SCHEMA public FROM customerhub_search;
GRANT EXECUTE ON FUNCTION customer_search_ids(text, integer) TO customerhub_app;
GRANT EXECUTE ON FUNCTION customer_search_page(text, text[], text, text, numeric, timestamptz, uuid, integer) TO customerhub_app;

-- 000004 (b4c65d6): bulk jobs walk their targets in seq order (the rows'
-- physical order when selected). Rebuilt, as above, for the column order;
-- the targets of jobs in flight keep the order they were walked in (by
-- target id).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = 'public' AND table_name = 'job_targets' AND column_name = 'seq') THEN
        ALTER TABLE job_targets RENAME TO job_targets_old;
        ALTER TABLE job_targets_old DROP CONSTRAINT job_targets_pkey;
        ALTER TABLE job_targets_old DROP CONSTRAINT job_targets_job_fkey;
        ALTER TABLE job_targets_old DROP CONSTRAINT job_targets_tenant_id_fkey;
        CREATE TABLE job_targets (
            tenant_id uuid   NOT NULL REFERENCES tenants (id),
            job_id    uuid   NOT NULL,
            seq       bigint NOT NULL,
            target_id uuid   NOT NULL,
            CONSTRAINT job_targets_pkey PRIMARY KEY (tenant_id, job_id, seq),
            CONSTRAINT job_targets_job_fkey FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id) ON DELETE CASCADE
        );
        ALTER TABLE job_targets_old NO FORCE ROW LEVEL SECURITY;
        INSERT INTO job_targets (tenant_id, job_id, seq, target_id)
        SELECT tenant_id, job_id, row_number() OVER (PARTITION BY tenant_id, job_id ORDER BY target_id), target_id
        FROM job_targets_old;
        DROP TABLE job_targets_old;
        ALTER TABLE job_targets ENABLE ROW LEVEL SECURITY;
        ALTER TABLE job_targets FORCE ROW LEVEL SECURITY;
        CREATE POLICY tenant_isolation ON job_targets
            USING (tenant_id = app_tenant_id()
                   AND (app_visibility() = 'all'
                        OR EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = job_targets.tenant_id AND j.id = job_targets.job_id)))
            WITH CHECK (tenant_id = app_tenant_id()
                   AND (app_visibility() = 'all'
                        OR EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = job_targets.tenant_id AND j.id = job_targets.job_id)));
        GRANT SELECT, INSERT, UPDATE, DELETE ON job_targets TO customerhub_app;
    END IF;
END
$$;

-- 000004 (d446c49): likely duplicates and portal users by customer.
CREATE OR REPLACE FUNCTION customer_name_key(p_name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT nullif(btrim(regexp_replace(
        regexp_replace(' ' || regexp_replace(lower(p_name), '[^[:alnum:]]+', ' ', 'g') || ' ',
            ' (?:(?:inc|incorporated|ltd|limited|llc|llp|lp|gmbh|mbh|co|corp|corporation|company|sa|sas|sarl|srl|spa|bv|nv|ag|kg|plc|pty|pte|oy|ab|as) )+',
            ' ', 'g'),
        ' +', ' ', 'g')), '')
$$;

CREATE INDEX IF NOT EXISTS customers_dup_tax_number_idx ON customers
    (tenant_id, (upper(regexp_replace(tax_number, '[^[:alnum:]]+', '', 'g'))))
    INCLUDE (id, sales_rep_id, tax_number) WHERE tax_number IS NOT NULL;
CREATE INDEX IF NOT EXISTS customers_dup_email_idx ON customers (tenant_id, (lower(email)))
    INCLUDE (id, sales_rep_id, email) WHERE email IS NOT NULL;
CREATE INDEX IF NOT EXISTS customers_dup_phone_idx ON customers (tenant_id, (regexp_replace(phone, '[^0-9]+', '', 'g')))
    INCLUDE (id, sales_rep_id, phone) WHERE phone IS NOT NULL;
CREATE INDEX IF NOT EXISTS customers_dup_name_idx ON customers (tenant_id, (customer_name_key(name)))
    INCLUDE (id, sales_rep_id, name);

CREATE INDEX IF NOT EXISTS users_customer_idx ON users (tenant_id, customer_id) WHERE customer_id IS NOT NULL;
