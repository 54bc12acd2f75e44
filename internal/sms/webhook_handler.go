package sms

import (
	"context"
	"errors"
	"mime"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
)

// Webhook paths, under /v1: Twilio calls them, with no user. The status
// callback URL the sender gives Twilio for a message is
// {CUSTOMERHUB_PUBLIC_BASE_URL}/v1/webhooks/twilio/{tenant_id}/status?message_id={id};
// the inbound URL is set on the tenant's number (or Messaging Service) in
// Twilio's console.
const (
	WebhookStatusPath  = "/webhooks/twilio/:tenant/status"
	WebhookInboundPath = "/webhooks/twilio/:tenant/inbound"
)

// StatusCallbackURL is the status callback URL of a message.
func StatusCallbackURL(publicBaseURL string, tenantID, messageID uuid.UUID) string {
	return strings.TrimRight(publicBaseURL, "/") + "/v1/webhooks/twilio/" + tenantID.String() + "/status?message_id=" + messageID.String()
}

// InboundURL is the URL to set as a tenant's number's incoming-message
// webhook.
func InboundURL(publicBaseURL string, tenantID uuid.UUID) string {
	return strings.TrimRight(publicBaseURL, "/") + "/v1/webhooks/twilio/" + tenantID.String() + "/inbound"
}

// statusCallbackForm describes, for the OpenAPI document, the fields of
// Twilio's status callback that ParseStatusCallback reads; Twilio sends
// more, which are signed and otherwise ignored.
type statusCallbackForm struct {
	MessageSid    string `json:"MessageSid"`
	MessageStatus string `json:"MessageStatus"`
	ErrorCode     string `json:"ErrorCode,omitempty"`
	AccountSid    string `json:"AccountSid,omitempty"`
}

// OpenAPIFields documents the callback's fields.
func (statusCallbackForm) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{
		"MessageSid":    {Description: "Twilio's id of the message (SmsSid in older callbacks)."},
		"MessageStatus": {Description: "Its status: delivered, undelivered and failed move the message on; queued, sent and the like say nothing new."},
		"ErrorCode":     {Pattern: "^[0-9]+$", Description: "Twilio's error code, for undelivered and failed."},
	}
}

// inboundForm describes the fields of Twilio's incoming-message webhook
// that webhookInbound reads.
type inboundForm struct {
	From       string `json:"From"`
	Body       string `json:"Body"`
	To         string `json:"To,omitempty"`
	MessageSid string `json:"MessageSid,omitempty"`
	AccountSid string `json:"AccountSid,omitempty"`
}

// OpenAPIFields documents the message's fields.
func (inboundForm) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{
		"From": {Description: "The sender's number, E.164."},
		"Body": {Description: "The message: STOP and its synonyms record an opt-out of From, START, YES and UNSTOP remove it."},
	}
}

// maxWebhookBody bounds a webhook's form: Twilio's are a few kilobytes
// (an SMS body is at most 1,600 characters).
const maxWebhookBody = 64 << 10

// emptyTwiML answers an inbound message with no reply: Twilio itself
// answers STOP and START with its standard confirmations.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response/>`

// webhookError maps the webhooks' errors: an unknown tenant is 404, a
// missing or wrong signature 403 (nothing changed either way).
func webhookError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrTenantNotFound):
		return httpapi.NotFound("tenant")
	case errors.Is(err, ErrBadSignature):
		return &httpapi.Error{Status: fiber.StatusForbidden, Code: "invalid_signature",
			Message: "X-Twilio-Signature is missing or does not match this request", Internal: err}
	case errors.Is(err, ErrMessageNotFound):
		return httpapi.NotFound("sms message")
	}
	return mapError(err)
}

// webhook verifies a Twilio request to the tenant of the path and runs fn
// with its form in a transaction of that tenant that sees all its
// customers and has no user. The signature is checked against the public
// URL Twilio requested (CUSTOMERHUB_PUBLIC_BASE_URL, the path and query as
// received) and the form; a bad one rolls back and answers 403.
func (h *Handler) webhook(c *fiber.Ctx, fn func(ctx context.Context, tx database.Tx, form url.Values) error) error {
	tid, err := uuid.Parse(c.Params("tenant"))
	if err != nil {
		return httpapi.NotFound("tenant")
	}
	if mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); err != nil || mt != fiber.MIMEApplicationForm {
		return &httpapi.Error{Status: fiber.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Message: "a Twilio webhook's body is " + fiber.MIMEApplicationForm}
	}
	body := c.Body()
	if len(body) > maxWebhookBody {
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, "a Twilio webhook body is at most 64 KiB")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		form = url.Values{}
	}
	fullURL := strings.TrimRight(h.PublicBaseURL, "/") + c.OriginalURL()
	sig := c.Get("X-Twilio-Signature")
	return webhookError(database.WithTenantTx(c.UserContext(), h.db, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
		if err := h.svc.VerifyWebhook(ctx, tx, fullURL, body, sig); err != nil {
			return err
		}
		return fn(ctx, tx, form)
	}))
}

func (h *Handler) webhookStatus(c *fiber.Ctx) error {
	messageID := c.Query("message_id")
	return h.webhook(c, func(ctx context.Context, tx database.Tx, form url.Values) error {
		// Parsed after the signature: an unsigned request learns nothing.
		cb, err := ParseStatusCallback(messageID, form)
		if err != nil {
			return err
		}
		if _, err := h.svc.ApplyStatus(ctx, tx, cb, time.Now()); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

func (h *Handler) webhookInbound(c *fiber.Ctx) error {
	return h.webhook(c, func(ctx context.Context, tx database.Tx, form url.Values) error {
		if _, err := h.svc.ApplyInbound(ctx, tx, form.Get("From"), form.Get("Body")); err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextXMLCharsetUTF8)
		return c.SendString(emptyTwiML)
	})
}
