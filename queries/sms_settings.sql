-- name: SmsSettingsGet :one
SELECT * FROM sms_settings WHERE tenant_id = @tenant_id;

-- name: SmsSettingsGetForUpdate :one
SELECT * FROM sms_settings WHERE tenant_id = @tenant_id FOR UPDATE;

-- SmsSettingsInsert writes a tenant's first SMS settings. Callers hold
-- the tenant_settings row locked (SettingsGetForUpdate), so two first
-- writes take turns and the second updates what the first inserted. The
-- defaults a tenant has before (no row) are version 1, so the first write
-- makes version 2.
-- name: SmsSettingsInsert :one
INSERT INTO sms_settings (tenant_id, account_sid, auth_token_sealed, auth_token_last4, api_key_sid, api_key_secret_sealed,
    api_key_secret_last4, from_number, messaging_service_sid, time_zone, quiet_start, quiet_end, rate_per_second,
    min_days_between, portal_url, version)
VALUES (@tenant_id, sqlc.narg(account_sid), sqlc.narg(auth_token_sealed), sqlc.narg(auth_token_last4), sqlc.narg(api_key_sid),
    sqlc.narg(api_key_secret_sealed), sqlc.narg(api_key_secret_last4), sqlc.narg(from_number), sqlc.narg(messaging_service_sid),
    @time_zone, @quiet_start, @quiet_end, @rate_per_second, @min_days_between, sqlc.narg(portal_url), 2)
RETURNING *;

-- name: SmsSettingsUpdate :one
UPDATE sms_settings SET account_sid = sqlc.narg(account_sid), auth_token_sealed = sqlc.narg(auth_token_sealed),
    auth_token_last4 = sqlc.narg(auth_token_last4), api_key_sid = sqlc.narg(api_key_sid),
    api_key_secret_sealed = sqlc.narg(api_key_secret_sealed), api_key_secret_last4 = sqlc.narg(api_key_secret_last4),
    from_number = sqlc.narg(from_number), messaging_service_sid = sqlc.narg(messaging_service_sid),
    time_zone = @time_zone, quiet_start = @quiet_start, quiet_end = @quiet_end, rate_per_second = @rate_per_second,
    min_days_between = @min_days_between, portal_url = sqlc.narg(portal_url),
    version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id
RETURNING *;

-- SmsSettingsResealed stores credentials sealed again under the current
-- key (customerhub secrets rotate): the same secrets, so neither the
-- version nor updated_at changes.
-- name: SmsSettingsResealed :exec
UPDATE sms_settings SET auth_token_sealed = sqlc.narg(auth_token_sealed), api_key_secret_sealed = sqlc.narg(api_key_secret_sealed)
WHERE tenant_id = @tenant_id;

-- TenantIDsAll lists every tenant, suspended ones included, for
-- operator commands that must reach each tenant's rows (secrets rotate).
-- name: TenantIDsAll :many
SELECT id FROM tenants ORDER BY id;

-- SmsCustomerVars reads what a message's placeholders need of a customer,
-- as the caller sees it (the customers policy applies): its name, balance
-- and overdue amount in its currency (its own, else the tenant's default),
-- the due date of its oldest unpaid order, and the tenant's name. The date is '' when nothing is unpaid.
-- name: SmsCustomerVars :one
SELECT c.name, c.balance, c.overdue_amount, coalesce(c.currency, s.default_currency)::text AS currency,
       coalesce(to_char((SELECT min(o.due_date) FROM sales_orders o
                          WHERE o.tenant_id = @tenant_id AND o.customer_id = c.id
                            AND o.status <> 'cancelled' AND o.paid_amount < o.total), 'YYYY-MM-DD'), '')::text AS oldest_due_date,
       t.name AS company
FROM customers c
JOIN tenant_settings s ON s.tenant_id = c.tenant_id
JOIN tenants t ON t.id = c.tenant_id
WHERE c.tenant_id = @tenant_id AND c.id = @id;
