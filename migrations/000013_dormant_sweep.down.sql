DROP TRIGGER customers_reactivated_stamp ON customers;
DROP FUNCTION customer_reactivated_stamp();
ALTER TABLE customers DROP COLUMN reactivated_at, DROP COLUMN last_payment_at;
ALTER TABLE tenant_settings DROP CONSTRAINT tenant_settings_dormant_sweep_hour_check,
    DROP COLUMN dormant_sweep_hour, DROP COLUMN dormant_include_open_balance;
