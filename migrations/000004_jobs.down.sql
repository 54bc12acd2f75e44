DROP INDEX IF EXISTS users_customer_idx;
DROP INDEX IF EXISTS customers_dup_tax_number_idx, customers_dup_email_idx, customers_dup_phone_idx, customers_dup_name_idx;
DROP FUNCTION IF EXISTS customer_name_key(text);
DROP TABLE IF EXISTS customer_merges, job_targets, jobs CASCADE;
