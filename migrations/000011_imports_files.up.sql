-- 000011: a durable file store and customer imports (issue 11).
--
-- files / file_chunks: files kept in PostgreSQL, in chunks of about 1 MiB,
-- so that any API or worker process can read them and a crash loses
-- nothing: an upload is the input of its import job, an export's result
-- waits there for its download. A file is written once (its row and
-- chunks in one transaction), read chunk by chunk (bounded memory) and
-- deleted when it expires (the files_purge job) or with what owns it.
-- Chunks are stored uncompressed (STORAGE EXTERNAL): spreadsheets are zip
-- archives already, and compressing them again costs time for nothing.
--
-- imports / import_errors: an import (POST /v1/imports) and the errors of
-- its rows, paged by row. The import runs as a tenant job (jobs); its
-- row-level errors are rows here, not a JSON array, so that a file with
-- 100,000 bad rows pages its errors instead of loading them all.
--
-- Visibility is the jobs' (000004): users who see every customer see every
-- file and import of the tenant, others those they created. The system
-- scope (no user, visibility 'all') of the purge jobs sees them all. Every
-- policy compares columns with the context settings, without subqueries:
-- chunks and errors carry created_by themselves.

CREATE TABLE files (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    id           uuid        NOT NULL,
    purpose      text        NOT NULL,
    name         text        NOT NULL,
    content_type text        NOT NULL,
    size         bigint      NOT NULL DEFAULT 0,
    -- Set when the last chunk is written: NULL marks a file still being
    -- written (never seen outside its transaction).
    sha256       bytea,
    created_by   uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    CONSTRAINT files_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT files_created_by_fkey FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id),
    CONSTRAINT files_size_check CHECK (size >= 0)
);
CREATE INDEX files_expires_idx ON files (tenant_id, expires_at);

CREATE TABLE file_chunks (
    tenant_id  uuid    NOT NULL REFERENCES tenants (id),
    file_id    uuid    NOT NULL,
    seq        integer NOT NULL,
    data       bytea   NOT NULL,
    created_by uuid,
    CONSTRAINT file_chunks_pkey PRIMARY KEY (tenant_id, file_id, seq),
    CONSTRAINT file_chunks_file_fkey FOREIGN KEY (tenant_id, file_id) REFERENCES files (tenant_id, id) ON DELETE CASCADE
);
ALTER TABLE file_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE imports (
    tenant_id       uuid        NOT NULL REFERENCES tenants (id),
    id              uuid        NOT NULL,
    kind            text        NOT NULL,
    mode            text        NOT NULL,
    match_on        text        NOT NULL,
    dry_run         boolean     NOT NULL DEFAULT false,
    all_or_nothing  boolean     NOT NULL DEFAULT false,
    -- {"<header>": "<field>"} as asked; headers not named here match by
    -- name and alias.
    mapping         jsonb       NOT NULL DEFAULT '{}',
    sheet           text,
    format          text        NOT NULL,
    file_name       text        NOT NULL DEFAULT '',
    file_id         uuid        NOT NULL,
    -- The tenant job that runs it. Not a foreign key: finished jobs are
    -- purged on their own schedule.
    job_id          uuid        NOT NULL,
    state           text        NOT NULL DEFAULT 'queued',
    -- {"total", "created", "updated", "unchanged", "failed"}
    counts          jsonb       NOT NULL DEFAULT '{"total": 0, "created": 0, "updated": 0, "unchanged": 0, "failed": 0}',
    unknown_columns text[]      NOT NULL DEFAULT '{}',
    -- What the import did besides rows: payment terms it created, ...
    summary         jsonb       NOT NULL DEFAULT '{}',
    -- Why a file was refused as a whole (state failed).
    reason          text,
    created_by      uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    expires_at      timestamptz NOT NULL,
    CONSTRAINT imports_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT imports_created_by_fkey FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id),
    CONSTRAINT imports_file_fkey FOREIGN KEY (tenant_id, file_id) REFERENCES files (tenant_id, id),
    CONSTRAINT imports_kind_check CHECK (kind IN ('customers', 'customer_prices')),
    CONSTRAINT imports_mode_check CHECK (mode IN ('create', 'update', 'upsert')),
    CONSTRAINT imports_match_on_check CHECK (match_on IN ('code', 'tax_number', 'email')),
    CONSTRAINT imports_state_check CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    CONSTRAINT imports_format_check CHECK (format IN ('xlsx', 'csv'))
);
CREATE INDEX imports_created_idx ON imports (tenant_id, created_at DESC, id DESC);
CREATE INDEX imports_creator_idx ON imports (tenant_id, created_by, created_at DESC, id DESC);
CREATE INDEX imports_expires_idx ON imports (tenant_id, expires_at);
CREATE INDEX imports_file_idx ON imports (tenant_id, file_id);

-- One row per error: a row may have several (one per bad cell). row is
-- the spreadsheet's row number (the header is row 1); seq orders a row's
-- errors.
CREATE TABLE import_errors (
    tenant_id  uuid    NOT NULL REFERENCES tenants (id),
    import_id  uuid    NOT NULL,
    row        integer NOT NULL,
    seq        integer NOT NULL,
    "column"   text    NOT NULL DEFAULT '',
    value      text    NOT NULL DEFAULT '',
    code       text    NOT NULL,
    message    text    NOT NULL,
    created_by uuid,
    CONSTRAINT import_errors_pkey PRIMARY KEY (tenant_id, import_id, row, seq),
    CONSTRAINT import_errors_import_fkey FOREIGN KEY (tenant_id, import_id) REFERENCES imports (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE files ENABLE ROW LEVEL SECURITY;
ALTER TABLE files FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON files
    USING (tenant_id = app_tenant_id() AND (app_visibility() = 'all' OR created_by = app_user_id()))
    WITH CHECK (tenant_id = app_tenant_id() AND (app_visibility() = 'all' OR created_by = app_user_id()));

ALTER TABLE file_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE file_chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON file_chunks
    USING (tenant_id = app_tenant_id() AND (app_visibility() = 'all' OR created_by = app_user_id()))
    WITH CHECK (tenant_id = app_tenant_id() AND (app_visibility() = 'all' OR created_by = app_user_id()));

ALTER TABLE imports ENABLE ROW LEVEL SECURITY;
ALTER TABLE imports FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON imports
    USING (tenant_id = app_tenant_id() AND (app_visibility() = 'all' OR created_by = app_user_id()))
    WITH CHECK (tenant_id = app_tenant_id() AND (app_visibility() = 'all' OR created_by = app_user_id()));

ALTER TABLE import_errors ENABLE ROW LEVEL SECURITY;
ALTER TABLE import_errors FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON import_errors
    USING (tenant_id = app_tenant_id() AND (app_visibility() = 'all' OR created_by = app_user_id()))
    WITH CHECK (tenant_id = app_tenant_id() AND (app_visibility() = 'all' OR created_by = app_user_id()));

GRANT SELECT, INSERT, UPDATE, DELETE ON files, file_chunks, imports, import_errors TO customerhub_app;
