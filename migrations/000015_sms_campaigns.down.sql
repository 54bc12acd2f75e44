-- The reach refresh of migration 000010, without sms_messages.
CREATE OR REPLACE FUNCTION customer_reach_refresh(p_customers uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t uuid := app_tenant_id();
BEGIN
    IF t IS NULL OR p_customers IS NULL OR cardinality(p_customers) = 0 THEN
        RETURN;
    END IF;
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
    UPDATE sales_order_lines x SET reach = o.reach FROM sales_orders o
    WHERE x.tenant_id = t AND o.tenant_id = t AND o.id = x.order_id AND o.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM o.reach;
    UPDATE payment_allocations x SET reach = p.reach FROM payments p
    WHERE x.tenant_id = t AND p.tenant_id = t AND p.id = x.payment_id AND p.customer_id = ANY (p_customers)
      AND x.reach IS DISTINCT FROM p.reach;
    EXECUTE 'SET LOCAL app.bookkeeping = off';
END
$$;
ALTER TABLE customers DROP COLUMN IF EXISTS last_notice_at;
DROP TABLE IF EXISTS sms_messages;
DROP TABLE IF EXISTS sms_opt_outs;
DROP TABLE IF EXISTS sms_campaigns;
