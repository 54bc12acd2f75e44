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
