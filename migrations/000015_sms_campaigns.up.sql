-- Receivable-notice campaigns, their messages, and opt-outs (issue 12).
--
-- A campaign is one request to send receivable notices to a selection of
-- customers: it copies the body it sends (a template changed later changes
-- no campaign) and is tracked by a job (jobs row of kind sms_campaign).
-- Campaigns are the tenant's; what a user sees of one (its messages and
-- their counts) follows the messages' reach.
CREATE TABLE sms_campaigns (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    id           uuid        NOT NULL,
    job_id       uuid,
    created_by   uuid,
    template_id  uuid,
    body         text        NOT NULL,
    selection    jsonb       NOT NULL DEFAULT '{}',
    min_balance  numeric     NOT NULL DEFAULT 0,
    overdue_only boolean     NOT NULL DEFAULT false,
    state        text        NOT NULL DEFAULT 'sending',
    total        integer     NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    CONSTRAINT sms_campaigns_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT sms_campaigns_created_by_fkey FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id),
    CONSTRAINT sms_campaigns_state_check CHECK (state IN ('sending', 'finished', 'cancelled')),
    CONSTRAINT sms_campaigns_body_check CHECK (length(body) BETWEEN 1 AND 1600),
    CONSTRAINT sms_campaigns_min_balance_check CHECK (min_balance >= 0)
);
CREATE INDEX sms_campaigns_created_idx ON sms_campaigns (tenant_id, created_at DESC, id DESC);

-- One message per (campaign, customer), made with the campaign: a retried
-- request or job finds the row and never makes a second. selected_id is
-- the customer the campaign selected (the key of that uniqueness, never
-- changed); customer_id is the customer the message belongs to now (a
-- merge moves the duplicate's messages to the customer kept). States:
--   queued      waiting for its job;
--   sending     claimed, the attempt recorded and committed, the call to
--               Twilio under way (or its process died: see unknown);
--   unknown     the request may have reached Twilio and no answer came
--               back (5xx, reset, timeout): reconciled by listing the
--               sender's messages to the number before any new attempt;
--   sent        Twilio accepted it (twilio_sid set);
--   delivered, undelivered, failed   as Twilio's status callbacks say
--               (failed also: refused by Twilio, never retried);
--   skipped     never sent, skip_reason says why;
--   opted_out   the recipient has unsubscribed (Twilio's 21610 or STOP).
-- attempts is the list of attempts, each with its outcome, appended when
-- claimed and completed after the call. to_phone and body are as sent
-- (read when the message is sent, not when the campaign was made).
CREATE TABLE sms_messages (
    tenant_id     uuid        NOT NULL REFERENCES tenants (id),
    id            uuid        NOT NULL,
    campaign_id   uuid        NOT NULL,
    selected_id   uuid        NOT NULL,
    customer_id   uuid        NOT NULL,
    reach         uuid[]      NOT NULL DEFAULT '{}',
    to_phone      text,
    body          text,
    state         text        NOT NULL DEFAULT 'queued',
    skip_reason   text,
    twilio_sid    text,
    error_code    integer,
    attempts      jsonb       NOT NULL DEFAULT '[]',
    sent_at       timestamptz,
    delivered_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sms_messages_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT sms_messages_campaign_fkey FOREIGN KEY (tenant_id, campaign_id) REFERENCES sms_campaigns (tenant_id, id),
    CONSTRAINT sms_messages_campaign_selected_key UNIQUE (tenant_id, campaign_id, selected_id),
    CONSTRAINT sms_messages_twilio_sid_key UNIQUE (tenant_id, twilio_sid),
    CONSTRAINT sms_messages_state_check CHECK (state IN ('queued', 'sending', 'unknown', 'sent', 'delivered',
                                                         'undelivered', 'failed', 'skipped', 'opted_out')),
    CONSTRAINT sms_messages_skip_check CHECK ((state = 'skipped') = (skip_reason IS NOT NULL)),
    CONSTRAINT sms_messages_attempts_check CHECK (jsonb_typeof(attempts) = 'array')
);
CREATE INDEX sms_messages_campaign_idx ON sms_messages (tenant_id, campaign_id, state);
CREATE INDEX sms_messages_customer_idx ON sms_messages (tenant_id, customer_id, created_at DESC);

-- Numbers that said STOP (or that Twilio reports unsubscribed), in E.164:
-- no notice goes to them until they say START.
CREATE TABLE sms_opt_outs (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    phone      text        NOT NULL,
    source     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sms_opt_outs_pkey PRIMARY KEY (tenant_id, phone),
    CONSTRAINT sms_opt_outs_source_check CHECK (source IN ('inbound', 'twilio', 'api'))
);

-- When the customer was last sent a notice (the minimum interval between
-- two is counted from it).
ALTER TABLE customers ADD COLUMN last_notice_at timestamptz;

ALTER TABLE sms_campaigns ENABLE ROW LEVEL SECURITY;
ALTER TABLE sms_campaigns FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sms_campaigns
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE sms_opt_outs ENABLE ROW LEVEL SECURITY;
ALTER TABLE sms_opt_outs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sms_opt_outs
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

-- A message belongs to its customer: it carries the customer's reach (as
-- every customer's row does, migration 000010) and is seen by whoever sees
-- the customer.
ALTER TABLE sms_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE sms_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sms_messages
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR (app_visibility() = 'assigned' AND reach @> ARRAY[app_user_id()])
                OR (app_visibility() = 'portal' AND reach @> ARRAY[app_customer_id()])
                OR app_bookkeeping()))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR (app_visibility() = 'assigned' AND reach @> ARRAY[app_user_id()])
                OR (app_visibility() = 'portal' AND reach @> ARRAY[app_customer_id()])
                OR app_bookkeeping()));

GRANT SELECT, INSERT, UPDATE ON sms_campaigns TO customerhub_app;
GRANT SELECT, INSERT, UPDATE ON sms_messages TO customerhub_app;
GRANT SELECT, INSERT, DELETE ON sms_opt_outs TO customerhub_app;

-- The reach refresh keeps the messages' reach too: the function of
-- migration 000010 with sms_messages added.
CREATE OR REPLACE FUNCTION customer_reach_refresh(p_customers uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t uuid := app_tenant_id();
BEGIN
    IF t IS NULL OR p_customers IS NULL OR cardinality(p_customers) = 0 THEN
        RETURN;
    END IF;
    -- SET LOCAL (not set_config) reaches Citus's workers.
    EXECUTE 'SET LOCAL app.bookkeeping = on';
    PERFORM 1 FROM customers c WHERE c.tenant_id = t AND c.id = ANY (p_customers) ORDER BY c.id FOR NO KEY UPDATE;
    UPDATE customers c SET reach = r.reach
    FROM (SELECT s.id, reach_norm(
                     ARRAY[s.id, s.sales_rep_id]
                     || ARRAY(SELECT l.sales_rep_id FROM customer_locations l
                              WHERE l.tenant_id = t AND l.customer_id = s.id AND l.sales_rep_id IS NOT NULL)
                     || ARRAY(SELECT g.user_id FROM customer_grants g
                              WHERE g.tenant_id = t AND g.customer_id = s.id)) AS reach
          FROM customers s
          WHERE s.tenant_id = t AND s.id = ANY (p_customers)) r
    WHERE c.tenant_id = t AND c.id = r.id AND c.reach IS DISTINCT FROM r.reach;

    UPDATE customer_contacts x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.customer_id AND x.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE customer_locations x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.customer_id AND x.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE customer_group_members x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.customer_id AND x.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE customer_prices x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.customer_id AND x.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE customer_merges x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.kept_id AND x.kept_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE customer_grants x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.customer_id AND x.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE audit_events x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.customer_id AND x.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE sales_orders x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.customer_id AND x.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE payments x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.customer_id AND x.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE sms_messages x SET reach = c.reach FROM customers c
    WHERE x.tenant_id = t AND c.tenant_id = t AND c.id = x.customer_id AND x.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM c.reach;
    UPDATE sales_order_lines x SET reach = o.reach FROM sales_orders o
    WHERE x.tenant_id = t AND o.tenant_id = t AND o.id = x.order_id AND o.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM o.reach;
    UPDATE payment_allocations x SET reach = p.reach FROM payments p
    WHERE x.tenant_id = t AND p.tenant_id = t AND p.id = x.payment_id AND p.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM p.reach;
    EXECUTE 'SET LOCAL app.bookkeeping = off';
END
$$;
