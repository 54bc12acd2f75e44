-- 000002: the customer master (issue 3): tenant settings, payment terms and
-- price lists (referenced by customers and groups), the full customer
-- record with its maintained figures, contacts, custom field definitions,
-- group categories, groups and memberships, locations, explicit grants,
-- saved list views, the audit trail and idempotency keys.
--
-- Visibility grows: a user with visibility 'assigned' sees a customer when
-- they are its sales rep, the sales rep of one of its locations, or were
-- granted it. The customers policy cannot look at customer_locations
-- directly (the locations policy looks at customers: PostgreSQL refuses the
-- recursion), so location reps are mirrored by a trigger into
-- customer_location_reps, a table whose policy is the plain tenant rule.

CREATE EXTENSION IF NOT EXISTS btree_gin;

-- Settings move from the global tenants table to a tenant table: only the
-- tenant itself can read them.
CREATE TABLE tenant_settings (
    tenant_id                uuid        NOT NULL REFERENCES tenants (id),
    required_fields          text[]      NOT NULL DEFAULT '{}',
    default_country          text        NOT NULL DEFAULT 'US',
    default_currency         text        NOT NULL DEFAULT 'USD',
    default_payment_terms_id uuid,
    default_credit_policy    text        NOT NULL DEFAULT 'none',
    dormant_after_days       integer     NOT NULL DEFAULT 365,
    version                  bigint      NOT NULL DEFAULT 1,
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenant_settings_pkey PRIMARY KEY (tenant_id),
    CONSTRAINT tenant_settings_credit_policy_check CHECK (default_credit_policy IN ('none', 'warn', 'block')),
    CONSTRAINT tenant_settings_dormant_check CHECK (dormant_after_days BETWEEN 1 AND 3650)
);
INSERT INTO tenant_settings (tenant_id, default_country, default_currency)
SELECT id, default_country, default_currency FROM tenants;
ALTER TABLE tenants DROP COLUMN default_country, DROP COLUMN default_currency;

CREATE TABLE payment_terms (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    id         uuid        NOT NULL,
    code       text        NOT NULL,
    name       text        NOT NULL,
    due_days   integer     NOT NULL,
    version    bigint      NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payment_terms_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT payment_terms_code_key UNIQUE (tenant_id, code),
    CONSTRAINT payment_terms_due_days_check CHECK (due_days BETWEEN 0 AND 3650)
);
ALTER TABLE tenant_settings ADD CONSTRAINT tenant_settings_payment_terms_fkey
    FOREIGN KEY (tenant_id, default_payment_terms_id) REFERENCES payment_terms (tenant_id, id);

CREATE TABLE price_lists (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    id         uuid        NOT NULL,
    code       text        NOT NULL,
    name       text        NOT NULL,
    currency   text        NOT NULL,
    version    bigint      NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT price_lists_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT price_lists_code_key UNIQUE (tenant_id, code)
);

-- The full customer record. Nullable fields with a group fallback
-- (payment terms, price list, credit limit and days, discount) stay NULL
-- when the customer has no value of its own. Figures are maintained by the
-- transactions that write orders and payments.
ALTER TABLE customers
    ADD COLUMN kind                   text NOT NULL DEFAULT 'customer',
    ADD COLUMN contact_name           text,
    ADD COLUMN website                text,
    ADD COLUMN tax_number             text,
    ADD COLUMN currency               text,
    ADD COLUMN discount_rate          numeric(5, 2),
    ADD COLUMN payment_terms_id       uuid,
    ADD COLUMN default_payment_method text,
    ADD COLUMN tax_scheme             text,
    ADD COLUMN price_list_id          uuid,
    ADD COLUMN credit_limit           numeric(19, 4),
    ADD COLUMN credit_period_days     integer,
    ADD COLUMN credit_policy          text,
    ADD COLUMN billing_status         text,
    ADD COLUMN basis_date             date,
    ADD COLUMN notes                  text,
    ADD COLUMN custom                 jsonb NOT NULL DEFAULT '{}',
    -- From the primary address (default billing location, else default
    -- shipping, else the oldest), kept in step by the location writes.
    ADD COLUMN city                   text,
    ADD COLUMN country                text,
    ADD COLUMN order_count            integer NOT NULL DEFAULT 0,
    ADD COLUMN total_order_value      numeric(19, 4) NOT NULL DEFAULT 0,
    ADD COLUMN last_order_at          timestamptz,
    ADD COLUMN balance                numeric(19, 4) NOT NULL DEFAULT 0,
    ADD COLUMN overdue_amount         numeric(19, 4) NOT NULL DEFAULT 0,
    ADD CONSTRAINT customers_kind_check CHECK (kind IN ('customer', 'vendor', 'both')),
    ADD CONSTRAINT customers_discount_check CHECK (discount_rate BETWEEN 0 AND 100),
    ADD CONSTRAINT customers_credit_limit_check CHECK (credit_limit >= 0),
    ADD CONSTRAINT customers_credit_days_check CHECK (credit_period_days BETWEEN 0 AND 3650),
    ADD CONSTRAINT customers_credit_policy_check CHECK (credit_policy IN ('none', 'warn', 'block')),
    ADD CONSTRAINT customers_custom_check CHECK (jsonb_typeof(custom) = 'object'),
    ADD CONSTRAINT customers_payment_terms_fkey FOREIGN KEY (tenant_id, payment_terms_id) REFERENCES payment_terms (tenant_id, id),
    ADD CONSTRAINT customers_price_list_fkey FOREIGN KEY (tenant_id, price_list_id) REFERENCES price_lists (tenant_id, id);

-- Search: one lower-cased text of every searchable field, with a trigram
-- index led by tenant_id (btree_gin). See customer_search_ids below for
-- how the index is reached under row-level security.
ALTER TABLE customers ADD COLUMN search_text text GENERATED ALWAYS AS (
    lower(code || ' ' || name || ' ' || coalesce(contact_name, '') || ' ' || coalesce(email, '') || ' ' ||
          coalesce(phone, '') || ' ' || coalesce(tax_number, '') || ' ' || coalesce(city, ''))
) STORED;
CREATE INDEX customers_search_trgm_idx ON customers USING gin (tenant_id, search_text gin_trgm_ops);

-- One index per sort key, led by tenant_id, ending in id (the keyset
-- tie-breaker). A backward scan serves the descending order.
CREATE INDEX customers_code_sort_idx ON customers (tenant_id, code, id);
CREATE INDEX customers_balance_idx ON customers (tenant_id, balance, id);
CREATE INDEX customers_total_order_value_idx ON customers (tenant_id, total_order_value, id);
CREATE INDEX customers_last_order_idx ON customers (tenant_id, (coalesce(last_order_at, '-infinity'::timestamptz)), id);
CREATE INDEX customers_updated_idx ON customers (tenant_id, updated_at, id);
CREATE INDEX customers_created_idx ON customers (tenant_id, created_at, id);
CREATE INDEX customers_custom_idx ON customers USING gin (tenant_id, custom jsonb_path_ops);

CREATE TABLE customer_contacts (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    id          uuid        NOT NULL,
    customer_id uuid        NOT NULL,
    name        text        NOT NULL,
    role        text,
    email       text,
    phone       text,
    is_primary  boolean     NOT NULL DEFAULT false,
    version     bigint      NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_contacts_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT customer_contacts_customer_fkey FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_contacts_customer_idx ON customer_contacts (tenant_id, customer_id);
CREATE UNIQUE INDEX customer_contacts_primary_key ON customer_contacts (tenant_id, customer_id) WHERE is_primary;

CREATE TABLE custom_field_defs (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    id         uuid        NOT NULL,
    key        text        NOT NULL,
    label      text        NOT NULL,
    type       text        NOT NULL,
    required   boolean     NOT NULL DEFAULT false,
    options    text[]      NOT NULL DEFAULT '{}',
    position   integer     NOT NULL DEFAULT 0,
    version    bigint      NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT custom_field_defs_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT custom_field_defs_key_key UNIQUE (tenant_id, key),
    CONSTRAINT custom_field_defs_type_check CHECK (type IN ('text', 'number', 'date', 'bool', 'select'))
);

-- Groups: categories (Region, Segment, Level, Customer/Vendor, ...) order
-- the fallback: a lower position wins when several groups set a default.
CREATE TABLE group_categories (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    key        text        NOT NULL,
    name       text        NOT NULL,
    position   integer     NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT group_categories_pkey PRIMARY KEY (tenant_id, key)
);

CREATE TABLE customer_groups (
    tenant_id        uuid        NOT NULL REFERENCES tenants (id),
    id               uuid        NOT NULL,
    category         text        NOT NULL,
    code             text        NOT NULL,
    name             text        NOT NULL,
    price_list_id    uuid,
    payment_terms_id uuid,
    credit_limit     numeric(19, 4),
    credit_days      integer,
    discount_rate    numeric(5, 2),
    version          bigint      NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_groups_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT customer_groups_code_key UNIQUE (tenant_id, category, code),
    -- Target of the membership foreign key, which pins the category.
    CONSTRAINT customer_groups_id_category_key UNIQUE (tenant_id, id, category),
    CONSTRAINT customer_groups_category_fkey FOREIGN KEY (tenant_id, category) REFERENCES group_categories (tenant_id, key),
    CONSTRAINT customer_groups_price_list_fkey FOREIGN KEY (tenant_id, price_list_id) REFERENCES price_lists (tenant_id, id),
    CONSTRAINT customer_groups_payment_terms_fkey FOREIGN KEY (tenant_id, payment_terms_id) REFERENCES payment_terms (tenant_id, id),
    CONSTRAINT customer_groups_discount_check CHECK (discount_rate BETWEEN 0 AND 100),
    CONSTRAINT customer_groups_credit_limit_check CHECK (credit_limit >= 0),
    CONSTRAINT customer_groups_credit_days_check CHECK (credit_days BETWEEN 0 AND 3650)
);
CREATE INDEX customer_groups_updated_idx ON customer_groups (tenant_id, updated_at DESC, id);

-- At most one group per category per customer: the primary key says so.
CREATE TABLE customer_group_members (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    customer_id uuid        NOT NULL,
    category    text        NOT NULL,
    group_id    uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_group_members_pkey PRIMARY KEY (tenant_id, customer_id, category),
    CONSTRAINT customer_group_members_customer_fkey FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT customer_group_members_group_fkey FOREIGN KEY (tenant_id, group_id, category) REFERENCES customer_groups (tenant_id, id, category)
);
CREATE INDEX customer_group_members_group_idx ON customer_group_members (tenant_id, group_id, customer_id);

CREATE TABLE customer_locations (
    tenant_id           uuid        NOT NULL REFERENCES tenants (id),
    id                  uuid        NOT NULL,
    customer_id         uuid        NOT NULL,
    label               text        NOT NULL,
    line1               text        NOT NULL,
    line2               text,
    city                text        NOT NULL,
    region              text,
    postal_code         text,
    country             text        NOT NULL,
    phone               text,
    kinds               text[]      NOT NULL DEFAULT '{}',
    is_default_billing  boolean     NOT NULL DEFAULT false,
    is_default_shipping boolean     NOT NULL DEFAULT false,
    sales_rep_id        uuid,
    version             bigint      NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_locations_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT customer_locations_customer_fkey FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT customer_locations_sales_rep_fkey FOREIGN KEY (tenant_id, sales_rep_id) REFERENCES users (tenant_id, id),
    CONSTRAINT customer_locations_kinds_check CHECK (kinds <@ ARRAY['billing', 'shipping', 'contact']::text[]),
    CONSTRAINT customer_locations_billing_check CHECK (NOT is_default_billing OR 'billing' = ANY (kinds)),
    CONSTRAINT customer_locations_shipping_check CHECK (NOT is_default_shipping OR 'shipping' = ANY (kinds))
);
CREATE INDEX customer_locations_customer_idx ON customer_locations (tenant_id, customer_id, label, id);
CREATE INDEX customer_locations_sales_rep_idx ON customer_locations (tenant_id, sales_rep_id) WHERE sales_rep_id IS NOT NULL;
CREATE UNIQUE INDEX customer_locations_default_billing_key ON customer_locations (tenant_id, customer_id) WHERE is_default_billing;
CREATE UNIQUE INDEX customer_locations_default_shipping_key ON customer_locations (tenant_id, customer_id) WHERE is_default_shipping;

-- Mirror of customer_locations.sales_rep_id for the customers policy (see
-- the top of this file). Written only by the trigger below.
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

-- Explicit grants of one customer to one user.
CREATE TABLE customer_grants (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    user_id     uuid        NOT NULL,
    customer_id uuid        NOT NULL,
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_grants_pkey PRIMARY KEY (tenant_id, user_id, customer_id),
    CONSTRAINT customer_grants_user_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id),
    CONSTRAINT customer_grants_customer_fkey FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_grants_customer_idx ON customer_grants (tenant_id, customer_id, user_id);

-- Saved list views, per user.
CREATE TABLE saved_views (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    user_id    uuid        NOT NULL,
    name       text        NOT NULL,
    columns    text[]      NOT NULL DEFAULT '{}',
    filters    jsonb       NOT NULL DEFAULT '{}',
    sort       text        NOT NULL DEFAULT 'name',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT saved_views_pkey PRIMARY KEY (tenant_id, user_id, name),
    CONSTRAINT saved_views_user_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);

-- The audit trail is append-only for the application: it may insert and
-- read, never change or delete.
CREATE TABLE audit_events (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    id         uuid        NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    actor_id   uuid,
    action     text        NOT NULL,
    entity     text        NOT NULL,
    entity_id  uuid        NOT NULL,
    changes    jsonb       NOT NULL DEFAULT '{}',
    request_id text,
    CONSTRAINT audit_events_pkey PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_events_entity_idx ON audit_events (tenant_id, entity, entity_id, at DESC, id);

-- Idempotency keys (Stripe semantics): the first response to a key is kept
-- and replayed; the key row is written in the same transaction as the
-- request's effect.
CREATE TABLE idempotency_keys (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    user_id      uuid        NOT NULL,
    key          text        NOT NULL,
    method       text        NOT NULL,
    path         text        NOT NULL,
    fingerprint  bytea       NOT NULL,
    status       integer,
    content_type text,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (tenant_id, user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Row-level security. Tenant-only policies first.
ALTER TABLE tenant_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_settings
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE payment_terms ENABLE ROW LEVEL SECURITY;
ALTER TABLE payment_terms FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON payment_terms
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE price_lists ENABLE ROW LEVEL SECURITY;
ALTER TABLE price_lists FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON price_lists
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE custom_field_defs ENABLE ROW LEVEL SECURITY;
ALTER TABLE custom_field_defs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON custom_field_defs
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE group_categories ENABLE ROW LEVEL SECURITY;
ALTER TABLE group_categories FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON group_categories
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE customer_groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_groups FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_groups
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE customer_location_reps ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_location_reps FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_location_reps
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE customer_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_grants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_grants
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_events
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

-- Per-user tables: the tenant and the acting user.
ALTER TABLE saved_views ENABLE ROW LEVEL SECURITY;
ALTER TABLE saved_views FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON saved_views
    USING (tenant_id = app_tenant_id() AND user_id = app_user_id())
    WITH CHECK (tenant_id = app_tenant_id() AND user_id = app_user_id());

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_keys
    USING (tenant_id = app_tenant_id() AND user_id = app_user_id())
    WITH CHECK (tenant_id = app_tenant_id() AND user_id = app_user_id());

-- The customers policy, with the grown visibility rule.
DROP POLICY tenant_isolation ON customers;
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

-- Child tables follow their customer: a row is visible when its customer
-- is (the subquery runs under the customers policy).
ALTER TABLE customer_contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_contacts
    USING (tenant_id = app_tenant_id()
           AND EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_contacts.tenant_id AND c.id = customer_contacts.customer_id))
    WITH CHECK (tenant_id = app_tenant_id()
           AND EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_contacts.tenant_id AND c.id = customer_contacts.customer_id));

ALTER TABLE customer_group_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_group_members FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_group_members
    USING (tenant_id = app_tenant_id()
           AND EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_group_members.tenant_id AND c.id = customer_group_members.customer_id))
    WITH CHECK (tenant_id = app_tenant_id()
           AND EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_group_members.tenant_id AND c.id = customer_group_members.customer_id));

ALTER TABLE customer_locations ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_locations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_locations
    USING (tenant_id = app_tenant_id()
           AND EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_locations.tenant_id AND c.id = customer_locations.customer_id))
    WITH CHECK (tenant_id = app_tenant_id()
           AND EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_locations.tenant_id AND c.id = customer_locations.customer_id));

-- Search under row-level security. ILIKE/LIKE and pg_trgm's operators are
-- not LEAKPROOF, so PostgreSQL will not evaluate them inside an index scan
-- ahead of a table's policy: under RLS a substring search reads every row
-- of the tenant. customer_search_ids runs the trigram search as
-- customerhub_search, a role with BYPASSRLS that can only SELECT the
-- customers table, and returns ids only. Why this is safe:
--   * it states the same tenant and visibility rules as the policy, read
--     from the same transaction-local settings (app_set_context);
--   * it returns ids, never data, and every caller reads the rows through
--     the customers table under the unchanged policy: an id the policy
--     would hide is filtered there again, so a bug in this function can at
--     worst make a search miss rows, never show another tenant's or another
--     rep's customer;
--   * SECURITY DEFINER with a fixed search_path, EXECUTE revoked from
--     PUBLIC and granted to the application role only; the pattern is a
--     bound parameter of a constant query (no dynamic SQL from input).
CREATE FUNCTION customer_search_ids(p_pattern text) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    -- EXECUTE plans with the actual pattern (a custom plan), so the
    -- trigram index is chosen on the pattern's real selectivity.
    RETURN QUERY EXECUTE
        'SELECT c.id FROM public.customers c
          WHERE c.tenant_id = public.app_tenant_id()
            AND c.search_text LIKE $1
            AND (public.app_visibility() = ''all''
                 OR (public.app_visibility() = ''assigned''
                     AND (c.sales_rep_id = public.app_user_id()
                          OR EXISTS (SELECT 1 FROM public.customer_location_reps r
                                     WHERE r.tenant_id = c.tenant_id AND r.customer_id = c.id AND r.user_id = public.app_user_id())
                          OR EXISTS (SELECT 1 FROM public.customer_grants g
                                     WHERE g.tenant_id = c.tenant_id AND g.customer_id = c.id AND g.user_id = public.app_user_id())))
                 OR (public.app_visibility() = ''portal'' AND c.id = public.app_customer_id()))'
        USING p_pattern;
END
$$;
REVOKE ALL ON FUNCTION customer_search_ids(text) FROM PUBLIC;
GRANT SELECT ON customers, customer_location_reps, customer_grants TO customerhub_search;
-- A new owner needs CREATE on the schema; it keeps ownership once that is
-- taken back.
GRANT CREATE ON SCHEMA public TO customerhub_search;
ALTER FUNCTION customer_search_ids(text) OWNER TO customerhub_search;
REVOKE CREATE ON SCHEMA public FROM customerhub_search;
GRANT EXECUTE ON FUNCTION customer_search_ids(text) TO customerhub_app;

GRANT SELECT, INSERT, UPDATE ON tenant_settings TO customerhub_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON payment_terms, price_lists, customer_contacts, custom_field_defs,
    group_categories, customer_groups, customer_group_members, customer_locations, customer_location_reps,
    customer_grants, saved_views, idempotency_keys TO customerhub_app;
GRANT SELECT, INSERT ON audit_events TO customerhub_app;
