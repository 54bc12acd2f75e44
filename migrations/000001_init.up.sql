-- 000001: tenants, users, roles, tokens, customers, and the row-level security
-- that isolates tenants. See DESIGN.md section 3.
--
-- Conventions every later migration follows:
--   * A tenant table has tenant_id uuid NOT NULL as the first column of its
--     primary key and of every unique key; foreign keys between tenant tables
--     include tenant_id (Citus-ready: tenant_id is the distribution column).
--   * Row-level security is ENABLEd and FORCEd, with a policy that compares
--     tenant_id to app_tenant_id() in USING and WITH CHECK.
--   * The application role customerhub_app gets DML grants only; it owns
--     nothing and has no BYPASSRLS (created by `customerhub db-init`).
--   * No ON DELETE SET NULL / SET DEFAULT and no ON UPDATE CASCADE on tenant
--     foreign keys (Citus rejects them when the key includes tenant_id).

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Request context. app_set_context is the only way the application sets it:
-- SET LOCAL (transaction-scoped, safe on pooled connections) with quoted
-- literals, because on Citus only SET LOCAL reaches the worker nodes.
CREATE FUNCTION app_set_context(p_tenant uuid, p_user uuid, p_visibility text, p_customer uuid)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_visibility IS NOT NULL AND p_visibility NOT IN ('all', 'assigned', 'portal') THEN
        RAISE EXCEPTION 'invalid visibility %', p_visibility USING ERRCODE = '22023';
    END IF;
    EXECUTE format('SET LOCAL app.tenant_id = %L', coalesce(p_tenant::text, ''));
    EXECUTE format('SET LOCAL app.user_id = %L', coalesce(p_user::text, ''));
    EXECUTE format('SET LOCAL app.visibility = %L', coalesce(p_visibility, ''));
    EXECUTE format('SET LOCAL app.customer_id = %L', coalesce(p_customer::text, ''));
END
$$;

-- The readers treat an unset setting and an empty one alike: after a
-- transaction-local value reverts, a pooled connection reads '' (not NULL),
-- and both must mean "no tenant", which matches no row.
CREATE FUNCTION app_tenant_id() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;
CREATE FUNCTION app_user_id() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;
CREATE FUNCTION app_visibility() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('app.visibility', true), '') $$;
CREATE FUNCTION app_customer_id() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('app.customer_id', true), '')::uuid $$;

-- Global table (a reference table on Citus): one row per company.
CREATE TABLE tenants (
    id               uuid        NOT NULL,
    slug             text        NOT NULL,
    name             text        NOT NULL,
    status           text        NOT NULL DEFAULT 'active',
    default_country  text        NOT NULL DEFAULT 'US',
    default_currency text        NOT NULL DEFAULT 'USD',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenants_pkey PRIMARY KEY (id),
    CONSTRAINT tenants_slug_key UNIQUE (slug),
    CONSTRAINT tenants_status_check CHECK (status IN ('active', 'suspended'))
);

-- Global table: failed-login counters, per account and per client IP. Keys
-- are SHA-256 digests, so it holds no tenant data. Kept in PostgreSQL so a
-- Redis outage cannot lift a lockout.
CREATE TABLE auth_throttle (
    key           bytea       NOT NULL,
    failures      integer     NOT NULL DEFAULT 0,
    window_start  timestamptz NOT NULL DEFAULT now(),
    locked_until  timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT auth_throttle_pkey PRIMARY KEY (key)
);

-- Custom roles; the built-in roles (admin, manager, ...) live in code.
CREATE TABLE roles (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    id          uuid        NOT NULL,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    permissions text[]      NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT roles_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT roles_name_key UNIQUE (tenant_id, name)
);

CREATE TABLE users (
    tenant_id     uuid        NOT NULL REFERENCES tenants (id),
    id            uuid        NOT NULL,
    email         text        NOT NULL,
    name          text        NOT NULL,
    password_hash text        NOT NULL,
    -- Exactly one of builtin_role and role_id is set.
    builtin_role  text,
    role_id       uuid,
    visibility    text        NOT NULL DEFAULT 'all',
    -- For portal users: the one customer account they see.
    customer_id   uuid,
    status        text        NOT NULL DEFAULT 'active',
    version       bigint      NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT users_email_key UNIQUE (tenant_id, email),
    CONSTRAINT users_role_fkey FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id),
    CONSTRAINT users_one_role_check CHECK ((builtin_role IS NULL) <> (role_id IS NULL)),
    CONSTRAINT users_visibility_check CHECK (visibility IN ('all', 'assigned')),
    CONSTRAINT users_status_check CHECK (status IN ('active', 'disabled'))
);
CREATE INDEX users_role_idx ON users (tenant_id, role_id) WHERE role_id IS NOT NULL;

-- Bearer tokens: sessions from login and personal API tokens. Only the
-- SHA-256 of the secret is stored.
CREATE TABLE api_tokens (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    id           uuid        NOT NULL,
    user_id      uuid        NOT NULL,
    kind         text        NOT NULL,
    name         text        NOT NULL DEFAULT '',
    token_hash   bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    CONSTRAINT api_tokens_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT api_tokens_hash_key UNIQUE (tenant_id, token_hash),
    CONSTRAINT api_tokens_user_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT api_tokens_kind_check CHECK (kind IN ('session', 'personal'))
);
CREATE INDEX api_tokens_user_idx ON api_tokens (tenant_id, user_id);
CREATE INDEX api_tokens_expires_idx ON api_tokens (expires_at) WHERE expires_at IS NOT NULL;

-- Per-tenant counters, e.g. the next generated customer code.
CREATE TABLE tenant_counters (
    tenant_id uuid   NOT NULL REFERENCES tenants (id),
    name      text   NOT NULL,
    value     bigint NOT NULL DEFAULT 0,
    CONSTRAINT tenant_counters_pkey PRIMARY KEY (tenant_id, name)
);

CREATE TABLE customers (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    id           uuid        NOT NULL,
    code         text        NOT NULL,
    name         text        NOT NULL,
    type         text        NOT NULL DEFAULT 'company',
    email        text,
    phone        text,
    sales_rep_id uuid,
    status       text        NOT NULL DEFAULT 'active',
    version      bigint      NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customers_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT customers_code_key UNIQUE (tenant_id, code),
    CONSTRAINT customers_sales_rep_fkey FOREIGN KEY (tenant_id, sales_rep_id) REFERENCES users (tenant_id, id),
    CONSTRAINT customers_type_check CHECK (type IN ('individual', 'company')),
    CONSTRAINT customers_status_check CHECK (status IN ('active', 'dormant', 'inactive'))
);
CREATE INDEX customers_name_idx ON customers (tenant_id, name, id);
CREATE INDEX customers_sales_rep_idx ON customers (tenant_id, sales_rep_id, name, id);

ALTER TABLE users ADD CONSTRAINT users_customer_fkey
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id);

-- Row-level security. Tables whose rows every user of a tenant may see get
-- the plain tenant policy; customers add the visibility rule of DESIGN.md
-- section 3 (sales reps with visibility 'assigned' see their own accounts,
-- portal users the one account linked to them). An unset visibility matches
-- nothing, so a forgotten context fails closed.
ALTER TABLE roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE roles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON roles
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_tokens
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE tenant_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_counters
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR (app_visibility() = 'assigned' AND sales_rep_id = app_user_id())
                OR (app_visibility() = 'portal' AND id = app_customer_id())))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR (app_visibility() = 'assigned' AND sales_rep_id = app_user_id())
                OR (app_visibility() = 'portal' AND id = app_customer_id())));

GRANT SELECT, INSERT, UPDATE ON tenants TO customerhub_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON auth_throttle TO customerhub_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON roles, users, api_tokens, tenant_counters, customers TO customerhub_app;

-- The service checks at start that no migration is pending.
GRANT SELECT ON schema_migrations TO customerhub_app;

-- River's tables live in their own schema, created by River's migrations
-- (run right after these, by the same owner role): the default privileges
-- give the application role DML on them as they appear.
CREATE SCHEMA IF NOT EXISTS river;
GRANT USAGE ON SCHEMA river TO customerhub_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA river GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO customerhub_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA river GRANT USAGE, SELECT ON SEQUENCES TO customerhub_app;
