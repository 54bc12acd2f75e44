DROP POLICY IF EXISTS system_purge ON idempotency_keys;
DROP POLICY IF EXISTS system_read ON idempotency_keys;
