-- name: SmsCampaignInsert :one
INSERT INTO sms_campaigns (tenant_id, id, job_id, created_by, template_id, body, selection, min_balance, overdue_only)
VALUES (@tenant_id, @id, @job_id, @created_by, sqlc.narg(template_id), @body, @selection, @min_balance, @overdue_only)
RETURNING *;

-- name: SmsCampaignSetTotal :exec
UPDATE sms_campaigns SET total = @total WHERE tenant_id = @tenant_id AND id = @id;

-- name: SmsCampaignEnd :exec
UPDATE sms_campaigns SET state = @state, finished_at = @now
WHERE tenant_id = @tenant_id AND id = @id AND state = 'sending';

-- SmsMessagesInsertFromTargets makes one message per customer of the job's
-- targets the caller sees (the customers policy applies), each queued or
-- skipped with the reason already known now. Precedence of reasons:
-- dormant, inactive, no_phone, invalid_phone, opted_out,
-- balance_below_minimum (the overdue amount with overdue_only; never a
-- notice for zero or a credit), notified_recently (a notice after
-- notice_cutoff, now less the tenant's minimum interval). The message carries its
-- customer's reach, as every row of a customer does.
-- name: SmsMessagesInsertFromTargets :execrows
INSERT INTO sms_messages (tenant_id, id, campaign_id, selected_id, customer_id, reach, to_phone, state, skip_reason)
SELECT c.tenant_id, gen_random_uuid(), @campaign_id::uuid, c.id, c.id, c.reach, c.phone,
       CASE WHEN r.reason IS NULL THEN 'queued' ELSE 'skipped' END, r.reason
FROM job_targets t
JOIN customers c ON c.tenant_id = t.tenant_id AND c.id = t.target_id
CROSS JOIN LATERAL (SELECT CASE
    WHEN c.status = 'dormant' THEN 'dormant'
    WHEN c.status <> 'active' THEN 'inactive'
    WHEN c.phone IS NULL OR btrim(c.phone) = '' THEN 'no_phone'
    WHEN c.phone !~ '^\+[1-9][0-9]{6,14}$' THEN 'invalid_phone'
    WHEN EXISTS (SELECT 1 FROM sms_opt_outs o WHERE o.tenant_id = c.tenant_id AND o.phone = c.phone) THEN 'opted_out'
    WHEN (CASE WHEN @overdue_only::boolean THEN c.overdue_amount ELSE c.balance END) <= @min_balance::numeric
         THEN 'balance_below_minimum'
    WHEN c.last_notice_at IS NOT NULL AND c.last_notice_at > @notice_cutoff::timestamptz
         THEN 'notified_recently'
    END AS reason) r
WHERE t.tenant_id = @tenant_id AND t.job_id = @job_id
ORDER BY t.seq
ON CONFLICT ON CONSTRAINT sms_messages_campaign_selected_key DO NOTHING;

-- name: SmsMessagesQueued :many
SELECT id, selected_id FROM sms_messages
WHERE tenant_id = @tenant_id AND campaign_id = @campaign_id AND state = 'queued'
ORDER BY id;

-- name: SmsMessagesPreview :many
SELECT id, customer_id FROM sms_messages
WHERE tenant_id = @tenant_id AND campaign_id = @campaign_id AND state = 'queued'
ORDER BY created_at, id
LIMIT @row_limit;

-- SmsCampaignCounts counts a campaign's messages the caller sees by state
-- and skip reason.
-- name: SmsCampaignCounts :many
SELECT state, coalesce(skip_reason, '')::text AS skip_reason, count(*) AS n FROM sms_messages
WHERE tenant_id = @tenant_id AND campaign_id = @campaign_id
GROUP BY state, skip_reason;

-- SmsCampaignProgress counts all of a campaign's messages (in the system
-- scope of the campaign's tracker) and those settled: no longer waiting
-- for a send or its outcome.
-- name: SmsCampaignProgress :one
SELECT count(*) AS total,
       count(*) FILTER (WHERE state NOT IN ('queued', 'sending', 'unknown')) AS settled
FROM sms_messages WHERE tenant_id = @tenant_id AND campaign_id = @campaign_id;

-- SmsMessagesCancelQueued skips the campaign's messages no job has
-- claimed yet.
-- name: SmsMessagesCancelQueued :execrows
UPDATE sms_messages SET state = 'skipped', skip_reason = 'campaign_cancelled', updated_at = now()
WHERE tenant_id = @tenant_id AND campaign_id = @campaign_id AND state = 'queued';

-- SmsMessageForSend locks a message for its send job, with its campaign
-- and whether the campaign's job was cancelled.
-- name: SmsMessageForSend :one
SELECT m.id, m.campaign_id, m.customer_id, m.state, m.to_phone, m.body, m.attempts, m.twilio_sid,
       c.body AS campaign_body, c.min_balance, c.overdue_only, c.state AS campaign_state,
       coalesce(j.state = 'cancelled' OR j.cancel_requested_at IS NOT NULL, false)::boolean AS cancelled
FROM sms_messages m
JOIN sms_campaigns c ON c.tenant_id = m.tenant_id AND c.id = m.campaign_id
LEFT JOIN jobs j ON j.tenant_id = c.tenant_id AND j.id = c.job_id
WHERE m.tenant_id = @tenant_id AND m.id = @id
FOR UPDATE OF m;

-- SmsMessageUpdate writes what a send job decided about a message.
-- name: SmsMessageUpdate :exec
UPDATE sms_messages
SET state = @state, skip_reason = sqlc.narg(skip_reason), to_phone = sqlc.narg(to_phone), body = sqlc.narg(body),
    twilio_sid = sqlc.narg(twilio_sid), error_code = sqlc.narg(error_code), attempts = @attempts,
    sent_at = sqlc.narg(sent_at), updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id;

-- SmsSendCustomer reads what sending needs of a customer, as the caller
-- sees it.
-- name: SmsSendCustomer :one
SELECT c.status, c.phone, c.balance, c.overdue_amount, c.last_notice_at,
       EXISTS (SELECT 1 FROM sms_opt_outs o WHERE o.tenant_id = c.tenant_id AND o.phone = c.phone)::boolean AS opted_out
FROM customers c WHERE c.tenant_id = @tenant_id AND c.id = @id;

-- SmsSendCustomerTakeTurn locks the customer, so that two campaigns'
-- messages to one customer are checked and claimed one after the other. It
-- is a statement of its own, run before SmsSendCustomerLock: under READ
-- COMMITTED a statement that waits for a row lock still reads every other
-- table as of its start, so a single statement would miss the claim the
-- lock's holder just committed.
-- name: SmsSendCustomerTakeTurn :exec
SELECT 1 FROM customers c WHERE c.tenant_id = @tenant_id AND c.id = @id FOR NO KEY UPDATE OF c;

-- SmsSendCustomerLock is SmsSendCustomer for the send itself, after
-- SmsSendCustomerTakeTurn: it says whether another message of the
-- customer's is under way (sending, or its outcome unknown), whose
-- outcome decides whether this one may go.
-- name: SmsSendCustomerLock :one
SELECT c.status, c.phone, c.balance, c.overdue_amount, c.last_notice_at,
       EXISTS (SELECT 1 FROM sms_opt_outs o WHERE o.tenant_id = c.tenant_id AND o.phone = c.phone)::boolean AS opted_out,
       EXISTS (SELECT 1 FROM sms_messages m WHERE m.tenant_id = c.tenant_id AND m.customer_id = c.id
               AND m.state IN ('sending', 'unknown') AND m.id <> @message_id)::boolean AS other_in_flight
FROM customers c WHERE c.tenant_id = @tenant_id AND c.id = @id
FOR NO KEY UPDATE OF c;

-- SmsCustomerNoticed records when a customer was last sent a notice
-- (never moving it back).
-- name: SmsCustomerNoticed :exec
UPDATE customers SET last_notice_at = @at
WHERE tenant_id = @tenant_id AND id = @id AND (last_notice_at IS NULL OR last_notice_at < @at);

-- SmsSidUsed reports whether another message already holds a Twilio SID.
-- name: SmsSidUsed :one
SELECT EXISTS (SELECT 1 FROM sms_messages WHERE tenant_id = @tenant_id AND twilio_sid = @twilio_sid)::boolean;

-- SmsMessagesQueuedPhones lists the distinct numbers of a campaign's
-- queued messages (for the number-type check, sms.MobileCapable).
-- name: SmsMessagesQueuedPhones :many
SELECT DISTINCT to_phone::text FROM sms_messages
WHERE tenant_id = @tenant_id AND campaign_id = @campaign_id AND state = 'queued' AND to_phone IS NOT NULL;

-- SmsMessagesSkipPhones skips a campaign's queued messages to the given
-- numbers with a reason.
-- name: SmsMessagesSkipPhones :execrows
UPDATE sms_messages SET state = 'skipped', skip_reason = @reason::text, updated_at = now()
WHERE tenant_id = @tenant_id AND campaign_id = @campaign_id AND state = 'queued' AND to_phone = ANY (@phones::text[]);
