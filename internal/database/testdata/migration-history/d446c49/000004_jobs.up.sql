-- 000004: background work (issue 5): the tenant-facing record of River
-- jobs, the row sets bulk jobs work through, and the tombstones merged
-- customers leave behind.
--
-- River's own tables (schema "river") are global: they hold job ids and
-- args only (tenant, acting user, our job id; never customer data), and the
-- River UI shows them to platform operators. Everything a tenant sees of a
-- job lives here, under row-level security.

CREATE TABLE jobs (
    tenant_id           uuid        NOT NULL REFERENCES tenants (id),
    id                  uuid        NOT NULL,
    river_job_id        bigint      NOT NULL,
    kind                text        NOT NULL,
    created_by          uuid,
    state               text        NOT NULL DEFAULT 'queued',
    -- What was asked for (selection, values to set), validated when the
    -- job was accepted.
    params              jsonb       NOT NULL DEFAULT '{}',
    processed           bigint      NOT NULL DEFAULT 0,
    total               bigint,
    -- Where the next batch starts; written in the same transaction as the
    -- batch, so a retried job resumes exactly after the last committed one.
    cursor              text,
    result              jsonb,
    errors              jsonb       NOT NULL DEFAULT '[]',
    cancel_requested_at timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT jobs_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT jobs_river_job_key UNIQUE (tenant_id, river_job_id),
    CONSTRAINT jobs_created_by_fkey FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id),
    CONSTRAINT jobs_state_check CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    CONSTRAINT jobs_progress_check CHECK (processed >= 0 AND (total IS NULL OR total >= 0)),
    CONSTRAINT jobs_errors_check CHECK (jsonb_typeof(errors) = 'array')
);
CREATE INDEX jobs_created_idx ON jobs (tenant_id, created_at DESC, id DESC);
CREATE INDEX jobs_creator_idx ON jobs (tenant_id, created_by, created_at DESC, id DESC);
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE finished_at IS NOT NULL;

-- The rows a bulk job works through, fixed when the job starts (the
-- selection is evaluated once, as the acting user sees it) and walked in
-- target_id order, batch by batch. Deleted with the job's last batch.
CREATE TABLE job_targets (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    job_id    uuid NOT NULL,
    target_id uuid NOT NULL,
    CONSTRAINT job_targets_pkey PRIMARY KEY (tenant_id, job_id, target_id),
    CONSTRAINT job_targets_job_fkey FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id) ON DELETE CASCADE
);

-- A merged-away customer: its id answers 410 with the customer it was
-- merged into. kept_id is not a foreign key: the kept customer may later
-- be merged itself (tombstones are then re-pointed) or deleted.
CREATE TABLE customer_merges (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    merged_id  uuid        NOT NULL,
    kept_id    uuid        NOT NULL,
    merged_by  uuid,
    job_id     uuid,
    merged_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_merges_pkey PRIMARY KEY (tenant_id, merged_id),
    CONSTRAINT customer_merges_self_check CHECK (merged_id <> kept_id)
);
CREATE INDEX customer_merges_kept_idx ON customer_merges (tenant_id, kept_id);

-- Jobs: users who see every customer see every job of the tenant; others
-- see the jobs they started.
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON jobs
    USING (tenant_id = app_tenant_id() AND (app_visibility() = 'all' OR created_by = app_user_id()))
    WITH CHECK (tenant_id = app_tenant_id() AND (app_visibility() = 'all' OR created_by = app_user_id()));

ALTER TABLE job_targets ENABLE ROW LEVEL SECURITY;
ALTER TABLE job_targets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON job_targets
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = job_targets.tenant_id AND j.id = job_targets.job_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = job_targets.tenant_id AND j.id = job_targets.job_id)));

-- A tombstone is visible to whoever can see the customer it points to.
ALTER TABLE customer_merges ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_merges FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_merges
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_merges.tenant_id AND c.id = customer_merges.kept_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_merges.tenant_id AND c.id = customer_merges.kept_id)));

GRANT SELECT, INSERT, UPDATE, DELETE ON jobs, job_targets, customer_merges TO customerhub_app;

-- Likely duplicates (GET /v1/customers/duplicates): customers whose
-- normalized tax number, e-mail, phone digits or name are equal. Each key
-- has an index led by tenant_id, so a page of groups is a walk of one index
-- in key order (a grouped scan that stops at the page's end), never a
-- self-join of the tenant's customers.
--
-- Under row-level security a condition on an expression such as
-- lower(email) is not leakproof, so PostgreSQL will not use it as an index
-- condition; the keyset of the next page is then a filter on the ordered
-- walk. The indexes therefore INCLUDE what the customers policy and the
-- queries read (id, sales_rep_id and the column itself), so that the walk
-- is an index-only scan and skipping the earlier keys stays cheap
-- (measured on a 1,000,000-customer tenant: a first page 10 ms; a page
-- past the last key, which walks the whole e-mail index, 240 ms).
--
-- customer_name_key is the name as compared: lower case, punctuation as
-- spaces, common legal-form words (Inc, Ltd, LLC, GmbH, Co, Corp, SA, BV,
-- ...) dropped, spaces collapsed; NULL when nothing is left.
CREATE FUNCTION customer_name_key(p_name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT nullif(btrim(regexp_replace(
        regexp_replace(' ' || regexp_replace(lower(p_name), '[^[:alnum:]]+', ' ', 'g') || ' ',
            ' (?:(?:inc|incorporated|ltd|limited|llc|llp|lp|gmbh|mbh|co|corp|corporation|company|sa|sas|sarl|srl|spa|bv|nv|ag|kg|plc|pty|pte|oy|ab|as) )+',
            ' ', 'g'),
        ' +', ' ', 'g')), '')
$$;

CREATE INDEX customers_dup_tax_number_idx ON customers
    (tenant_id, (upper(regexp_replace(tax_number, '[^[:alnum:]]+', '', 'g'))))
    INCLUDE (id, sales_rep_id, tax_number) WHERE tax_number IS NOT NULL;
CREATE INDEX customers_dup_email_idx ON customers (tenant_id, (lower(email)))
    INCLUDE (id, sales_rep_id, email) WHERE email IS NOT NULL;
CREATE INDEX customers_dup_phone_idx ON customers (tenant_id, (regexp_replace(phone, '[^0-9]+', '', 'g')))
    INCLUDE (id, sales_rep_id, phone) WHERE phone IS NOT NULL;
CREATE INDEX customers_dup_name_idx ON customers (tenant_id, (customer_name_key(name)))
    INCLUDE (id, sales_rep_id, name);

-- Portal users follow their customer when it is merged (and block its
-- deletion): find them without scanning users.
CREATE INDEX users_customer_idx ON users (tenant_id, customer_id) WHERE customer_id IS NOT NULL;
