package sms

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// campaignCounts are a campaign's messages by state: every state always.
type campaignCounts struct {
	Queued      int64 `json:"queued"`
	Sending     int64 `json:"sending"`
	Sent        int64 `json:"sent"`
	Delivered   int64 `json:"delivered"`
	Failed      int64 `json:"failed"`
	Undelivered int64 `json:"undelivered"`
	Unknown     int64 `json:"unknown"`
	Skipped     int64 `json:"skipped"`
	OptedOut    int64 `json:"opted_out"`
}

type campaignResponse struct {
	ID    uuid.UUID `json:"id"`
	State string    `json:"state"`
	// Counts are the campaign's messages by state, as the caller sees
	// them (a sales rep counts only their customers' messages).
	Counts campaignCounts `json:"counts"`
	// Body is the text the campaign sends, placeholders unfilled.
	Body string `json:"body"`
	// Total is the number of customers the campaign selected.
	Total       int32      `json:"total"`
	TemplateID  *uuid.UUID `json:"template_id"`
	MinBalance  string     `json:"min_balance"`
	OverdueOnly bool       `json:"overdue_only"`
	JobID       *uuid.UUID `json:"job_id"`
	CreatedBy   *uuid.UUID `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	FinishedAt  *time.Time `json:"finished_at"`
}

func toCampaignResponse(c Campaign) campaignResponse {
	n := c.Counts
	return campaignResponse{ID: c.ID, State: c.State, Counts: campaignCounts{
		Queued: n[StateQueued], Sending: n[StateSending], Sent: n[StateSent], Delivered: n[StateDelivered], Failed: n[StateFailed],
		Undelivered: n[StateUndelivered], Unknown: n[StateUnknown], Skipped: n[StateSkipped], OptedOut: n[StateOptedOut],
	}, Body: c.Body, Total: c.Total, TemplateID: c.TemplateID, MinBalance: c.MinBalance.String(), OverdueOnly: c.OverdueOnly, JobID: c.JobID,
		CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, FinishedAt: c.FinishedAt}
}

type campaignListResponse struct {
	Items      []campaignResponse `json:"items"`
	NextCursor *string            `json:"next_cursor"`
}

type messageResponse struct {
	ID         uuid.UUID `json:"id"`
	CampaignID uuid.UUID `json:"campaign_id"`
	// CustomerID is the customer the message belongs to now (a merge
	// moves messages to the customer kept); SelectedID the customer the
	// campaign selected.
	CustomerID uuid.UUID `json:"customer_id"`
	SelectedID uuid.UUID `json:"selected_id"`
	// To and Body are as sent (null until the message is sent or skipped).
	To         *string `json:"to"`
	Body       *string `json:"body"`
	State      string  `json:"state"`
	SkipReason *string `json:"skip_reason"`
	TwilioSID  *string `json:"twilio_sid"`
	// ErrorCode is Twilio's error code of a failed or undelivered message.
	ErrorCode *int32 `json:"error_code"`
	// Attempts are the send attempts, each {"n", "started_at",
	// "finished_at", "outcome", "http_status"?, "error_code"?,
	// "twilio_sid"?}.
	Attempts    json.RawMessage `json:"attempts"`
	SentAt      *time.Time      `json:"sent_at"`
	DeliveredAt *time.Time      `json:"delivered_at"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

func toMessageResponse(m dbsqlc.SmsMessage) messageResponse {
	attempts := m.Attempts
	if len(attempts) == 0 {
		attempts = json.RawMessage("[]")
	}
	return messageResponse{ID: m.ID, CampaignID: m.CampaignID, CustomerID: m.CustomerID, SelectedID: m.SelectedID, To: m.ToPhone,
		Body: m.Body, State: m.State, SkipReason: m.SkipReason, TwilioSID: m.TwilioSid, ErrorCode: m.ErrorCode, Attempts: attempts,
		SentAt: m.SentAt, DeliveredAt: m.DeliveredAt, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
}

type messageListResponse struct {
	Items      []messageResponse `json:"items"`
	NextCursor *string           `json:"next_cursor"`
}

// messageQuery are the filters GET /v1/sms/messages accepts.
var messageQuery = append([]httpapi.Param{
	{Name: "campaign_id", Description: "only this campaign's messages"},
	{Name: "customer_id", Description: "only the messages of this customer (the one a message belongs to now)"},
	{Name: "state", Description: "only messages in this state: " + strings.Join(States, ", ")},
}, httpapi.PageParams...)

// readError maps the read API's errors.
func readError(err error) error {
	switch {
	case errors.Is(err, ErrCampaignNotFound):
		return httpapi.NotFound("sms campaign")
	case errors.Is(err, ErrMessageNotFound):
		return httpapi.NotFound("sms message")
	case errors.Is(err, ErrOptOutNotFound):
		return httpapi.NotFound("sms opt-out")
	}
	return err
}

func (h *Handler) listCampaigns(c *fiber.Ctx) error {
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	var after Cursor
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return err
	}
	var cursor *Cursor
	if has {
		cursor = &after
	}
	return readError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		rows, err := h.svc.CampaignList(ctx, tx, cursor, limit+1)
		if err != nil {
			return err
		}
		resp := campaignListResponse{Items: make([]campaignResponse, 0, len(rows))}
		rows, resp.NextCursor = httpapi.NextPage(rows, limit, func(last Campaign) any {
			return Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
		})
		for _, r := range rows {
			resp.Items = append(resp.Items, toCampaignResponse(r))
		}
		return c.JSON(resp)
	}, database.ReadOnly))
}

func (h *Handler) getCampaign(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return readError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		camp, err := h.svc.CampaignGet(ctx, tx, id)
		if err != nil {
			return err
		}
		return c.JSON(toCampaignResponse(camp))
	}, database.ReadOnly))
}

func (h *Handler) listMessages(c *fiber.Ctx) error {
	var f MessageFilter
	var errs validation.Errors
	for _, p := range []struct {
		name string
		dst  **uuid.UUID
	}{{"campaign_id", &f.CampaignID}, {"customer_id", &f.CustomerID}} {
		if raw := c.Query(p.name); raw != "" {
			id, err := uuid.Parse(raw)
			if err != nil || len(raw) != 36 {
				errs.Add(p.name, "invalid_uuid", "must be a UUID")
				continue
			}
			*p.dst = &id
		}
	}
	if raw := c.Query("state"); raw != "" {
		if !ValidState(raw) {
			errs.Add("state", "invalid_choice", "must be one of "+strings.Join(States, ", "))
		} else {
			st := strings.Clone(raw)
			f.State = &st
		}
	}
	if err := errs.Err(); err != nil {
		return httpapi.Validation(errs)
	}
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	var after Cursor
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return err
	}
	var cursor *Cursor
	if has {
		cursor = &after
	}
	return readError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		rows, err := h.svc.MessageList(ctx, tx, f, cursor, limit+1)
		if err != nil {
			return err
		}
		resp := messageListResponse{Items: make([]messageResponse, 0, len(rows))}
		rows, resp.NextCursor = httpapi.NextPage(rows, limit, func(last dbsqlc.SmsMessage) any {
			return Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
		})
		for _, r := range rows {
			resp.Items = append(resp.Items, toMessageResponse(r))
		}
		return c.JSON(resp)
	}, database.ReadOnly))
}

func (h *Handler) getMessage(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return readError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		m, err := h.svc.MessageGet(ctx, tx, id)
		if err != nil {
			return err
		}
		return c.JSON(toMessageResponse(m))
	}, database.ReadOnly))
}

// ---- opt-outs ------------------------------------------------------------------

type optOutRequest struct {
	// Phone is the number in E.164 (+ and up to 15 digits).
	Phone string `json:"phone"`
}

type optOutListResponse struct {
	Items      []OptOut `json:"items"`
	NextCursor *string  `json:"next_cursor"`
}

// phoneParam reads an E.164 number from the path (its + may arrive
// percent-encoded as %2B, or as a space when a client form-encoded it).
func phoneParam(c *fiber.Ctx) (string, error) {
	raw := c.Params("phone")
	if v, err := url.PathUnescape(raw); err == nil {
		raw = v
	}
	if strings.HasPrefix(raw, " ") {
		raw = "+" + raw[1:]
	}
	if !E164Pattern.MatchString(raw) {
		return "", httpapi.BadRequest("phone", "invalid_phone", "must be an E.164 number such as +14155550100")
	}
	return strings.Clone(raw), nil
}

func (h *Handler) listOptOuts(c *fiber.Ctx) error {
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	var after struct {
		Phone string `json:"p"`
	}
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return err
	}
	var cursor *string
	if has {
		cursor = &after.Phone
	}
	return readError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		rows, err := h.svc.OptOutList(ctx, tx, cursor, limit+1)
		if err != nil {
			return err
		}
		resp := optOutListResponse{}
		resp.Items, resp.NextCursor = httpapi.NextPage(rows, limit, func(last OptOut) any {
			return struct {
				Phone string `json:"p"`
			}{last.Phone}
		})
		return c.JSON(resp)
	}, database.ReadOnly))
}

func (h *Handler) getOptOut(c *fiber.Ctx) error {
	phone, err := phoneParam(c)
	if err != nil {
		return err
	}
	return readError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		o, err := h.svc.OptOutGet(ctx, tx, phone)
		if err != nil {
			return err
		}
		return c.JSON(o)
	}, database.ReadOnly))
}

func (h *Handler) createOptOut(c *fiber.Ctx) error {
	var req optOutRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	phone := strings.TrimSpace(req.Phone)
	if !E164Pattern.MatchString(phone) {
		return httpapi.Validation(validation.Errors{{Field: "phone", Code: "invalid_phone",
			Message: "must be an E.164 number such as +14155550100"}})
	}
	return readError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		o, created, err := h.svc.OptOutAdd(ctx, tx, phone, OptOutAPI)
		if err != nil {
			return err
		}
		status := fiber.StatusOK
		if created {
			status = fiber.StatusCreated
		}
		return c.Status(status).JSON(o)
	}))
}

func (h *Handler) deleteOptOut(c *fiber.Ctx) error {
	phone, err := phoneParam(c)
	if err != nil {
		return err
	}
	return readError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		_, removed, err := h.svc.OptOutRemove(ctx, tx, phone)
		if err != nil {
			return err
		}
		if !removed {
			return ErrOptOutNotFound
		}
		return c.SendStatus(fiber.StatusNoContent)
	}))
}
