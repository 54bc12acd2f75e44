-- SMS settings and message templates (issue 12).
--
-- sms_settings holds one row per tenant that has configured SMS; a tenant
-- without a row has the defaults (no credentials, UTC, 08:00-21:00, one
-- message per second, seven days between two notices to a customer).
-- Credentials are sealed by the application (AES-256-GCM under
-- CUSTOMERHUB_SECRET_KEY, see internal/sms.SecretBox) before they reach
-- the database: the *_sealed columns hold "v1:<key id>:<ciphertext>", and
-- the CHECKs refuse anything else, so a bug cannot store one in the clear.
-- Only the last four characters are kept readable, for the API to show.
--
-- quiet_start and quiet_end bound the sending window in the tenant's time
-- zone (messages wait outside it); the names are the API's.
CREATE TABLE sms_settings (
    tenant_id             uuid        NOT NULL REFERENCES tenants (id),
    account_sid           text,
    auth_token_sealed     text,
    auth_token_last4      text,
    api_key_sid           text,
    api_key_secret_sealed text,
    api_key_secret_last4  text,
    from_number           text,
    messaging_service_sid text,
    time_zone             text        NOT NULL DEFAULT 'UTC',
    quiet_start           text        NOT NULL DEFAULT '08:00',
    quiet_end             text        NOT NULL DEFAULT '21:00',
    rate_per_second       integer     NOT NULL DEFAULT 1,
    min_days_between      integer     NOT NULL DEFAULT 7,
    portal_url            text,
    version               bigint      NOT NULL DEFAULT 1,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sms_settings_pkey PRIMARY KEY (tenant_id),
    CONSTRAINT sms_settings_auth_token_sealed_check CHECK (auth_token_sealed ~ '^v1:[0-9a-f]{8}:[A-Za-z0-9_-]+$'),
    CONSTRAINT sms_settings_api_key_secret_sealed_check CHECK (api_key_secret_sealed ~ '^v1:[0-9a-f]{8}:[A-Za-z0-9_-]+$'),
    CONSTRAINT sms_settings_sender_check CHECK (from_number IS NULL OR messaging_service_sid IS NULL),
    CONSTRAINT sms_settings_quiet_check CHECK (quiet_start ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
                                               AND quiet_end ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$' AND quiet_start <> quiet_end),
    CONSTRAINT sms_settings_rate_check CHECK (rate_per_second BETWEEN 1 AND 1000),
    CONSTRAINT sms_settings_min_days_check CHECK (min_days_between BETWEEN 0 AND 365)
);

-- Message templates: a name unique in the tenant and a body with
-- placeholders, checked by the application when saved. A campaign copies
-- the body it sends, so changing or deleting a template changes no
-- campaign already made.
CREATE TABLE sms_templates (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    id         uuid        NOT NULL,
    name       text        NOT NULL,
    body       text        NOT NULL,
    version    bigint      NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sms_templates_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT sms_templates_name_key UNIQUE (tenant_id, name),
    CONSTRAINT sms_templates_body_check CHECK (length(body) BETWEEN 1 AND 1600)
);

ALTER TABLE sms_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE sms_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sms_settings
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE sms_templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE sms_templates FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sms_templates
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

GRANT SELECT, INSERT, UPDATE ON sms_settings TO customerhub_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON sms_templates TO customerhub_app;
