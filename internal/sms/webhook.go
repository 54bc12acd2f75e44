package sms

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/twilio/twilio-go/client"

	"github.com/customerhub/customerhub/internal/audit"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/validation"
)

// EntityOptOut names opt-out changes in the audit trail. An opt-out is
// keyed by its phone number; its audit events carry OptOutEntityID.
const EntityOptOut = "sms_opt_out"

// Opt-out sources, as stored.
const (
	OptOutInbound = "inbound" // the recipient texted STOP
	OptOutTwilio  = "twilio"  // Twilio reported the recipient unsubscribed (21610)
	OptOutAPI     = "api"     // recorded by the office (a STOP taken by phone)
)

// ErrorUnsubscribed is Twilio's error code for a recipient who replied STOP
// to the sender.
const ErrorUnsubscribed = 21610

// Errors of the webhooks and the read API.
var (
	ErrTenantNotFound   = errors.New("tenant not found")
	ErrBadSignature     = errors.New("twilio signature missing or wrong")
	ErrMessageNotFound  = errors.New("sms message not found")
	ErrCampaignNotFound = errors.New("sms campaign not found")
	ErrOptOutNotFound   = errors.New("sms opt-out not found")
)

// Message states, in the order a message moves through them (skipped and
// opted_out are terminal and reached only by the sender).
const (
	StateQueued      = "queued"
	StateSending     = "sending"
	StateUnknown     = "unknown"
	StateSent        = "sent"
	StateDelivered   = "delivered"
	StateUndelivered = "undelivered"
	StateFailed      = "failed"
	StateSkipped     = "skipped"
	StateOptedOut    = "opted_out"
)

// States lists every message state.
var States = []string{StateQueued, StateSending, StateSent, StateDelivered, StateFailed, StateUndelivered,
	StateUnknown, StateSkipped, StateOptedOut}

// OptOutEntityID is the audit entity id of a tenant's opt-out of a number:
// a name-based UUID, so that every event about one number shares it.
func OptOutEntityID(tenantID uuid.UUID, phone string) uuid.UUID {
	return uuid.NewSHA1(tenantID, []byte(phone))
}

// VerifyWebhook checks a Twilio webhook to the transaction's tenant: the
// tenant exists (ErrTenantNotFound) and signature is the
// X-Twilio-Signature Twilio computes with the tenant's auth token over
// fullURL (the public URL Twilio requested, query included) and the
// form-encoded body (ErrBadSignature, also when the tenant has no auth
// token to check it with). Nothing is changed either way.
func (s *Service) VerifyWebhook(ctx context.Context, tx database.Tx, fullURL string, body []byte, signature string) error {
	if _, err := s.q.TenantGetByID(ctx, tx, tx.TenantID()); errors.Is(err, pgx.ErrNoRows) {
		return ErrTenantNotFound
	} else if err != nil {
		return fmt.Errorf("get tenant: %w", err)
	}
	if signature == "" {
		return fmt.Errorf("%w: no X-Twilio-Signature header", ErrBadSignature)
	}
	r, err := s.row(ctx, tx, false)
	if err != nil {
		return err
	}
	if r.AuthTokenSealed == nil {
		// Twilio signs with the account's auth token: a tenant that
		// configured only an API key cannot check webhooks.
		return fmt.Errorf("%w: the tenant has no auth token to check it with", ErrBadSignature)
	}
	token, err := s.box.Open(tx.TenantID(), FieldAuthToken, *r.AuthTokenSealed)
	if err != nil {
		return fmt.Errorf("open auth token: %w", err)
	}
	rv := client.NewRequestValidator(token)
	if !rv.ValidateBody(fullURL, body, signature) {
		return ErrBadSignature
	}
	return nil
}

// StatusCallback is what a status callback says about a message.
type StatusCallback struct {
	// MessageID is the message_id of the callback URL, when present.
	MessageID *uuid.UUID
	// MessageSID and Status are Twilio's MessageSid and MessageStatus.
	MessageSID string
	Status     string
	// ErrorCode is Twilio's ErrorCode, for undelivered and failed.
	ErrorCode *int32
}

// ParseStatusCallback reads a callback's message_id (from the URL) and its
// form fields, naming the field that is wrong.
func ParseStatusCallback(messageID string, form url.Values) (StatusCallback, error) {
	var cb StatusCallback
	var errs validation.Errors
	if messageID != "" {
		id, err := uuid.Parse(messageID)
		if err != nil || len(messageID) != 36 {
			errs.Add("message_id", "invalid_uuid", "must be a UUID")
		} else {
			cb.MessageID = &id
		}
	}
	cb.MessageSID = strings.TrimSpace(form.Get("MessageSid"))
	if cb.MessageSID == "" {
		cb.MessageSID = strings.TrimSpace(form.Get("SmsSid"))
	}
	if cb.MessageSID == "" {
		errs.Add("MessageSid", "required", "is required")
	} else if len(cb.MessageSID) > 64 {
		errs.Add("MessageSid", "too_long", "must be at most 64 characters")
	} else if strings.ContainsFunc(cb.MessageSID, func(r rune) bool { return !isASCIIAlnum(r) }) {
		// Twilio's SIDs are letters and digits; the SID is looked up and
		// stored as text, which cannot hold a NUL or invalid UTF-8.
		errs.Add("MessageSid", "invalid", "must be letters and digits, as Twilio's SIDs are")
	}
	cb.Status = strings.ToLower(strings.TrimSpace(form.Get("MessageStatus")))
	if cb.Status == "" {
		cb.Status = strings.ToLower(strings.TrimSpace(form.Get("SmsStatus")))
	}
	if cb.Status == "" {
		errs.Add("MessageStatus", "required", "is required")
	}
	if v := strings.TrimSpace(form.Get("ErrorCode")); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			errs.Add("ErrorCode", "invalid", "must be a Twilio error code")
		} else {
			c := int32(n)
			cb.ErrorCode = &c
		}
	}
	return cb, errs.Err()
}

// statusTarget maps Twilio's message status to the state it moves a
// message to, "" for statuses that say nothing the message's state does
// not already say (accepted, queued, sending, receiving ...).
func statusTarget(status string) string {
	switch status {
	case "sent":
		return StateSent
	case "delivered", "read":
		return StateDelivered
	case "undelivered", "partially_delivered":
		return StateUndelivered
	case "failed", "canceled":
		return StateFailed
	}
	return ""
}

// earlier lists the states a message may move to target from: the states
// before it. A message in target or beyond it (a duplicated or overtaken
// callback) stays as it is, and a final state (delivered, undelivered,
// failed) is never replaced by another.
func earlier(target string) []string {
	switch target {
	case StateSent, StateDelivered, StateUndelivered, StateFailed:
	default:
		return nil
	}
	var out []string
	for _, st := range []string{StateQueued, StateSending, StateUnknown, StateSent} {
		if stateRank(st) < stateRank(target) {
			out = append(out, st)
		}
	}
	return out
}

// stateRank orders the states a message moves through; a write never
// moves a message to a lower rank.
func stateRank(s string) int {
	switch s {
	case StateQueued:
		return 0
	case StateSending:
		return 1
	case StateUnknown:
		return 2
	case StateSent:
		return 3
	default: // delivered, undelivered, failed, skipped, opted_out
		return 4
	}
}

// StatusResult is what applying a status callback did.
type StatusResult struct {
	Message dbsqlc.SmsMessage
	// Changed is false for a callback that moved nothing: a duplicate, one
	// overtaken by a later status, a status that moves no state, or one
	// about another Twilio message than the message's.
	Changed bool
	// OptedOut is true when the callback reported the recipient
	// unsubscribed (21610) and that recorded a new opt-out.
	OptedOut bool
}

// ApplyStatus applies a verified status callback to its message (found by
// MessageID, else by MessageSID; ErrMessageNotFound when neither names one
// of the tenant's messages). States only move forward.
func (s *Service) ApplyStatus(ctx context.Context, tx database.Tx, cb StatusCallback, now time.Time) (StatusResult, error) {
	var m dbsqlc.SmsMessage
	var err error
	if cb.MessageID != nil {
		m, err = s.q.SmsMessageGetByID(ctx, tx, dbsqlc.SmsMessageGetByIDParams{TenantID: tx.TenantID(), ID: *cb.MessageID})
	} else {
		m, err = s.q.SmsMessageGetByTwilioSID(ctx, tx, dbsqlc.SmsMessageGetByTwilioSIDParams{TenantID: tx.TenantID(), TwilioSid: &cb.MessageSID})
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return StatusResult{}, ErrMessageNotFound
	}
	if err != nil {
		return StatusResult{}, fmt.Errorf("get sms message: %w", err)
	}
	res := StatusResult{Message: m}
	if m.TwilioSid != nil && *m.TwilioSid != cb.MessageSID {
		s.logger.WarnContext(ctx, "sms status callback about another Twilio message than the message's; ignored",
			"message_id", m.ID, "twilio_sid", *m.TwilioSid, "callback_sid", cb.MessageSID)
		return res, nil
	}
	target := statusTarget(cb.Status)
	if target == "" {
		return res, nil
	}
	var code *int32
	if target == StateUndelivered || target == StateFailed {
		code = cb.ErrorCode
	}
	var after dbsqlc.SmsMessage
	// In a savepoint: a SID another message holds (which no correct
	// sender produces) fails this statement alone.
	err = tx.Savepoint(ctx, func(ctx context.Context, tx database.Tx) error {
		var err error
		after, err = s.q.SmsMessageStatusAdvance(ctx, tx, dbsqlc.SmsMessageStatusAdvanceParams{
			TenantID: tx.TenantID(), ID: m.ID, State: target, TwilioSid: cb.MessageSID, ErrorCode: code, At: now,
			FromStates: earlier(target),
		})
		return err
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// Already there or beyond: a duplicate or an overtaken callback.
	case database.IsUniqueViolation(err, "sms_messages_twilio_sid_key"):
		s.logger.WarnContext(ctx, "sms status callback: its MessageSid belongs to another message; ignored",
			"message_id", m.ID, "callback_sid", cb.MessageSID)
		return res, nil
	case err != nil:
		return res, fmt.Errorf("advance sms message: %w", err)
	default:
		res.Message, res.Changed = after, true
		// A notice left: the customer's minimum interval runs from now on.
		// Stamped here too, not only by the sender after its call: a
		// callback can overtake that, and another campaign's notice to
		// the customer, no longer waiting on this one (sending), must not
		// find the customer unnoticed in between.
		if after.State == StateSent || after.State == StateDelivered || after.State == StateUndelivered {
			at := now
			if after.SentAt != nil {
				at = *after.SentAt
			}
			if err := s.q.SmsCustomerNoticed(ctx, tx, dbsqlc.SmsCustomerNoticedParams{TenantID: tx.TenantID(), ID: after.CustomerID, At: &at}); err != nil {
				return res, fmt.Errorf("record last notice: %w", err)
			}
		}
	}
	if code != nil && *code == ErrorUnsubscribed && m.ToPhone != nil && E164Pattern.MatchString(*m.ToPhone) {
		if _, created, err := s.OptOutAdd(ctx, tx, *m.ToPhone, OptOutTwilio); err != nil {
			return res, err
		} else if created {
			res.OptedOut = true
		}
	}
	return res, nil
}

// Inbound keywords: the whole body, case and surrounding space aside.
// STOP and its synonyms are Twilio's default opt-out keywords (OPTOUT and
// REVOKE joined them in 2025; Twilio then refuses to send to the number,
// so recording them spares a refused send), START and its synonyms its
// opt-in keywords.
var (
	optOutKeywords = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true, "END": true,
		"QUIT": true, "OPTOUT": true, "REVOKE": true}
	optInKeywords = map[string]bool{"START": true, "YES": true, "UNSTOP": true}
)

// InboundAction is what an inbound message asks for.
type InboundAction string

// Inbound actions.
const (
	InboundNone   InboundAction = ""
	InboundOptOut InboundAction = "opt_out"
	InboundOptIn  InboundAction = "opt_in"
)

// Keyword reads an inbound message's body: an opt-out or opt-in keyword,
// or nothing. The keywords are ASCII, and so must the body be: upper-cased,
// "ſtop" (a long s) or "quıt" (a dotless i) would read as STOP and QUIT,
// which Twilio does not take them for.
func Keyword(body string) InboundAction {
	k := strings.TrimSpace(body)
	if strings.ContainsFunc(k, func(r rune) bool { return r > unicode.MaxASCII }) {
		return InboundNone
	}
	k = strings.ToUpper(k)
	switch {
	case optOutKeywords[k]:
		return InboundOptOut
	case optInKeywords[k]:
		return InboundOptIn
	}
	return InboundNone
}

func isASCIIAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

// InboundResult is what an inbound message did.
type InboundResult struct {
	Action InboundAction
	// Changed is true when it added or removed an opt-out.
	Changed bool
}

// ApplyInbound applies a verified inbound message from a number: an
// opt-out keyword records the number's opt-out (source inbound), an opt-in
// keyword removes it. A sender that is not an E.164 number, or any other
// body, changes nothing.
func (s *Service) ApplyInbound(ctx context.Context, tx database.Tx, from, body string) (InboundResult, error) {
	res := InboundResult{Action: Keyword(body)}
	from = strings.TrimSpace(from)
	if res.Action == InboundNone || !E164Pattern.MatchString(from) {
		return InboundResult{}, nil
	}
	var err error
	if res.Action == InboundOptOut {
		_, res.Changed, err = s.OptOutAdd(ctx, tx, from, OptOutInbound)
	} else {
		_, res.Changed, err = s.OptOutRemove(ctx, tx, from)
	}
	return res, err
}

// OptOut is an opt-out as the API and the audit trail show it.
type OptOut struct {
	Phone     string    `json:"phone"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
}

func toOptOut(r dbsqlc.SmsOptOut) OptOut {
	return OptOut{Phone: r.Phone, Source: r.Source, CreatedAt: r.CreatedAt}
}

// OptOutAdd records that phone (E.164) opted out, audited; created is
// false when it already had (the first record stays).
func (s *Service) OptOutAdd(ctx context.Context, tx database.Tx, phone, source string) (o OptOut, created bool, err error) {
	r, err := s.q.SmsOptOutInsert(ctx, tx, dbsqlc.SmsOptOutInsertParams{TenantID: tx.TenantID(), Phone: phone, Source: source})
	if errors.Is(err, pgx.ErrNoRows) {
		r, err = s.q.SmsOptOutGet(ctx, tx, dbsqlc.SmsOptOutGetParams{TenantID: tx.TenantID(), Phone: phone})
		if err != nil {
			return o, false, fmt.Errorf("get sms opt-out: %w", err)
		}
		return toOptOut(r), false, nil
	}
	if err != nil {
		return o, false, fmt.Errorf("insert sms opt-out: %w", err)
	}
	o = toOptOut(r)
	if err := audit.Record(ctx, tx, audit.Event{Entity: EntityOptOut, EntityID: OptOutEntityID(tx.TenantID(), phone),
		Action: audit.ActionCreate, After: o}); err != nil {
		return o, false, err
	}
	return o, true, nil
}

// OptOutRemove removes phone's opt-out, audited; removed is false when it
// had none.
func (s *Service) OptOutRemove(ctx context.Context, tx database.Tx, phone string) (o OptOut, removed bool, err error) {
	r, err := s.q.SmsOptOutDelete(ctx, tx, dbsqlc.SmsOptOutDeleteParams{TenantID: tx.TenantID(), Phone: phone})
	if errors.Is(err, pgx.ErrNoRows) {
		return o, false, nil
	}
	if err != nil {
		return o, false, fmt.Errorf("delete sms opt-out: %w", err)
	}
	o = toOptOut(r)
	if err := audit.Record(ctx, tx, audit.Event{Entity: EntityOptOut, EntityID: OptOutEntityID(tx.TenantID(), phone),
		Action: audit.ActionDelete, Before: o}); err != nil {
		return o, false, err
	}
	return o, true, nil
}

// OptOutGet returns phone's opt-out (ErrOptOutNotFound when none).
func (s *Service) OptOutGet(ctx context.Context, tx database.Tx, phone string) (OptOut, error) {
	r, err := s.q.SmsOptOutGet(ctx, tx, dbsqlc.SmsOptOutGetParams{TenantID: tx.TenantID(), Phone: phone})
	if errors.Is(err, pgx.ErrNoRows) {
		return OptOut{}, ErrOptOutNotFound
	}
	if err != nil {
		return OptOut{}, fmt.Errorf("get sms opt-out: %w", err)
	}
	return toOptOut(r), nil
}

// OptOutList returns up to limit opt-outs after the phone number after
// (nil: from the first), by number.
func (s *Service) OptOutList(ctx context.Context, tx database.Tx, after *string, limit int32) ([]OptOut, error) {
	rows, err := s.q.SmsOptOutList(ctx, tx, dbsqlc.SmsOptOutListParams{TenantID: tx.TenantID(), AfterPhone: after, RowLimit: limit})
	if err != nil {
		return nil, fmt.Errorf("list sms opt-outs: %w", err)
	}
	out := make([]OptOut, len(rows))
	for i, r := range rows {
		out[i] = toOptOut(r)
	}
	return out, nil
}
