-- 000013: the dormant-customer sweep (issue 12).
--
-- Tenant settings: whether customers with an open balance are swept too,
-- and the hour (UTC) of the tenant's daily sweep.
--
-- Customers: what the sweep reads besides last_order_at, on the
-- customer's own row so that a sweep batch's UPDATE re-checks it under the
-- row lock an order or payment write takes first (a condition on another
-- table would be judged on the statement's snapshot and miss a payment
-- committed while the batch waited for the row):
--   last_payment_at, the latest payment's received date (a figure kept by
--   CustomerFiguresRecompute, like last_order_at);
--   reactivated_at, when the customer last left the dormant status, by
--   whatever path (reactivation, PATCH, bulk update, import, a new order or
--   payment), set by a trigger: the sweep's window starts again from it,
--   so that a customer brought back by hand is not swept again the next
--   night.
ALTER TABLE tenant_settings
    ADD COLUMN dormant_include_open_balance boolean NOT NULL DEFAULT false,
    ADD COLUMN dormant_sweep_hour           integer NOT NULL DEFAULT 2,
    ADD CONSTRAINT tenant_settings_dormant_sweep_hour_check CHECK (dormant_sweep_hour BETWEEN 0 AND 23);

ALTER TABLE customers
    ADD COLUMN last_payment_at timestamptz,
    ADD COLUMN reactivated_at  timestamptz;

-- Backfill, as the owner without the forced policies (000010 did the same).
ALTER TABLE customers NO FORCE ROW LEVEL SECURITY;
ALTER TABLE payments NO FORCE ROW LEVEL SECURITY;
UPDATE customers c SET last_payment_at = p.last_paid
FROM (SELECT tenant_id, customer_id, max(received_at)::timestamptz AS last_paid
        FROM payments GROUP BY tenant_id, customer_id) p
WHERE c.tenant_id = p.tenant_id AND c.id = p.customer_id;
ALTER TABLE payments FORCE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;

-- The trigger only changes the row being updated (safe on Citus, where
-- `citus distribute` enables triggers on distributed tables). Its WHEN
-- clause is evaluated without calling the function, so other updates pay
-- nothing.
CREATE FUNCTION customer_reactivated_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.reactivated_at := statement_timestamp();
    RETURN NEW;
END
$$;
CREATE TRIGGER customers_reactivated_stamp
    BEFORE UPDATE OF status ON customers
    FOR EACH ROW WHEN (OLD.status = 'dormant' AND NEW.status <> 'dormant')
    EXECUTE FUNCTION customer_reactivated_stamp();
