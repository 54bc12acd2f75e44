ALTER TABLE audit_events DROP COLUMN customer_id;
