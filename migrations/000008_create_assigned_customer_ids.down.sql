DROP FUNCTION IF EXISTS assigned_customer_ids(uuid[]);
