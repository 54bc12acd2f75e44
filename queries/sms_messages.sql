-- Reading receivable-notice campaigns and their messages, Twilio's status
-- callbacks and inbound opt-outs (issue 12). Messages follow their
-- customer's reach under row-level security (migration 000015), so every
-- read below shows what the caller may see; campaigns are the tenant's,
-- and a caller who does not see every customer sees a campaign only
-- through the messages it sees (@see_all is false for them).

-- SmsCampaignList pages the campaigns newest first.
-- name: SmsCampaignList :many
SELECT * FROM sms_campaigns c
WHERE c.tenant_id = @tenant_id
  AND (@see_all::boolean OR EXISTS (SELECT 1 FROM sms_messages m
                                    WHERE m.tenant_id = @tenant_id AND m.campaign_id = c.id))
  AND (sqlc.narg(after_id)::uuid IS NULL
       OR (c.created_at, c.id) < (sqlc.narg(after_created_at)::timestamptz, sqlc.narg(after_id)::uuid))
ORDER BY c.created_at DESC, c.id DESC
LIMIT @row_limit;

-- name: SmsCampaignGetVisible :one
SELECT * FROM sms_campaigns c
WHERE c.tenant_id = @tenant_id AND c.id = @id
  AND (@see_all::boolean OR EXISTS (SELECT 1 FROM sms_messages m
                                    WHERE m.tenant_id = @tenant_id AND m.campaign_id = c.id));

-- SmsMessageCountsByCampaign counts the messages of campaigns by state,
-- as the caller sees them.
-- name: SmsMessageCountsByCampaign :many
SELECT m.campaign_id, m.state, count(*)::bigint AS n
FROM sms_messages m
WHERE m.tenant_id = @tenant_id AND m.campaign_id = ANY (@campaign_ids::uuid[])
GROUP BY m.campaign_id, m.state;

-- SmsMessageList pages the messages newest first, filtered by campaign,
-- customer (the one the message belongs to now) and state.
-- name: SmsMessageList :many
SELECT * FROM sms_messages m
WHERE m.tenant_id = @tenant_id
  AND (sqlc.narg(campaign_id)::uuid IS NULL OR m.campaign_id = sqlc.narg(campaign_id)::uuid)
  AND (sqlc.narg(customer_id)::uuid IS NULL OR m.customer_id = sqlc.narg(customer_id)::uuid)
  AND (sqlc.narg(state)::text IS NULL OR m.state = sqlc.narg(state)::text)
  AND (sqlc.narg(after_id)::uuid IS NULL
       OR (m.created_at, m.id) < (sqlc.narg(after_created_at)::timestamptz, sqlc.narg(after_id)::uuid))
ORDER BY m.created_at DESC, m.id DESC
LIMIT @row_limit;

-- name: SmsMessageGetByID :one
SELECT * FROM sms_messages WHERE tenant_id = @tenant_id AND id = @id;

-- name: SmsMessageGetByTwilioSID :one
SELECT * FROM sms_messages WHERE tenant_id = @tenant_id AND twilio_sid = @twilio_sid;

-- SmsMessageStatusAdvance applies a status callback: it moves the message
-- to @state only from one of @from_states (earlier states: a message never
-- moves backwards, and a duplicated callback finds it already there), and
-- only when the callback is about the Twilio message it has (or it has
-- none yet: the callback may overtake the sender's storing of the SID).
-- The update re-checks its WHERE on the latest row, so two concurrent
-- callbacks cannot both move it. No row: nothing to change.
-- name: SmsMessageStatusAdvance :one
UPDATE sms_messages
SET state = @state::text,
    twilio_sid = coalesce(twilio_sid, @twilio_sid::text),
    error_code = coalesce(sqlc.narg(error_code)::integer, error_code),
    sent_at = coalesce(sent_at, @at::timestamptz),
    delivered_at = CASE WHEN @state::text = 'delivered' THEN coalesce(delivered_at, @at::timestamptz) ELSE delivered_at END,
    updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id
  AND state = ANY (@from_states::text[])
  AND (twilio_sid IS NULL OR twilio_sid = @twilio_sid::text)
RETURNING *;

-- SmsOptOutInsert records an opt-out; no row when the number had already
-- opted out (the first record, with its source and time, stays).
-- name: SmsOptOutInsert :one
INSERT INTO sms_opt_outs (tenant_id, phone, source)
VALUES (@tenant_id, @phone, @source)
ON CONFLICT ON CONSTRAINT sms_opt_outs_pkey DO NOTHING
RETURNING *;

-- SmsOptOutDelete removes an opt-out; no row when there was none.
-- name: SmsOptOutDelete :one
DELETE FROM sms_opt_outs WHERE tenant_id = @tenant_id AND phone = @phone
RETURNING *;

-- name: SmsOptOutGet :one
SELECT * FROM sms_opt_outs WHERE tenant_id = @tenant_id AND phone = @phone;

-- name: SmsOptOutList :many
SELECT * FROM sms_opt_outs
WHERE tenant_id = @tenant_id
  AND (sqlc.narg(after_phone)::text IS NULL OR phone > sqlc.narg(after_phone)::text)
ORDER BY phone
LIMIT @row_limit;

-- MergeMoveSmsMessages gives the duplicate's messages to the customer
-- kept, with its reach (selected_id, the customer the campaign selected,
-- stays: a campaign still never sends twice to what it selected).
-- name: MergeMoveSmsMessages :execrows
UPDATE sms_messages m SET customer_id = k.id, reach = k.reach, updated_at = now()
FROM customers k
WHERE m.tenant_id = @tenant_id AND k.tenant_id = @tenant_id AND k.id = @kept_id
  AND m.customer_id = @duplicate_id;

-- MergeKeepLastNotice keeps the later of the two customers' last notices
-- on the customer kept, so that merging does not restart the minimum
-- interval between two notices.
-- name: MergeKeepLastNotice :execrows
UPDATE customers k SET last_notice_at = d.last_notice_at
FROM customers d
WHERE k.tenant_id = @tenant_id AND d.tenant_id = @tenant_id AND k.id = @kept_id AND d.id = @duplicate_id
  AND d.last_notice_at IS NOT NULL AND (k.last_notice_at IS NULL OR k.last_notice_at < d.last_notice_at);
