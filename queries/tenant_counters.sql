-- CounterNext increments a per-tenant counter and returns the new value.
-- The upsert takes a row lock, so concurrent callers get distinct values.
-- name: CounterNext :one
INSERT INTO tenant_counters (tenant_id, name, value) VALUES (@tenant_id, @name, 1)
ON CONFLICT ON CONSTRAINT tenant_counters_pkey DO UPDATE SET value = tenant_counters.value + 1
RETURNING value;
