package sms

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// CampaignHandler serves POST /v1/sms/receivable-notices.
type CampaignHandler struct {
	db        database.Beginner
	campaigns *Campaigns
}

// NewCampaignHandler returns a CampaignHandler.
func NewCampaignHandler(db database.Beginner, campaigns *Campaigns) *CampaignHandler {
	return &CampaignHandler{db: db, campaigns: campaigns}
}

// Routes registers the campaign routes.
func (h *CampaignHandler) Routes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/sms/receivable-notices", Permission: auth.PermSMSSend, Tag: "sms",
		Summary: "Send receivable notices by SMS to the selected customers (by ids or by the customer list's filters, as the " +
			"caller sees them): 202 with the campaign and its job; dry_run answers the counts by outcome and the first rendered messages",
		Status: fiber.StatusAccepted, Request: noticeRequest{}, Response: noticeAccepted{},
		Also: map[int]any{fiber.StatusOK: noticeDryRun{}}, Handler: h.create})
}

type noticeRequest struct {
	Selection   patch.Field[jobs.Selection]  `json:"selection"`
	MinBalance  patch.Field[decimal.Decimal] `json:"min_balance"`
	OverdueOnly patch.Field[bool]            `json:"overdue_only"`
	TemplateID  patch.Field[uuid.UUID]       `json:"template_id"`
	Template    patch.Field[string]          `json:"template"`
	DryRun      bool                         `json:"dry_run"`
}

func (req noticeRequest) input() (NoticeInput, error) {
	var errs validation.Errors
	if req.Selection.Value == nil {
		errs.Add("selection", "required", "give selection.ids or selection.filter")
	}
	if req.MinBalance.IsNull() {
		errs.Add("min_balance", "not_nullable", "must be a number (0 when omitted)")
	}
	if req.OverdueOnly.IsNull() {
		errs.Add("overdue_only", "not_nullable", "must be true or false")
	}
	if len(errs) > 0 {
		return NoticeInput{}, httpapi.Validation(errs)
	}
	return NoticeInput{Selection: *req.Selection.Value, MinBalance: req.MinBalance.Or(decimal.Decimal{}), OverdueOnly: req.OverdueOnly.Or(false),
		TemplateID: req.TemplateID.Value, Template: req.Template.Value, DryRun: req.DryRun}, nil
}

type noticeAccepted struct {
	Campaign campaignResponse `json:"campaign"`
	Job      jobs.View        `json:"job"`
}

type noticeDryRun struct {
	Counts  noticeDryCounts `json:"counts"`
	Preview []noticePreview `json:"preview"`
}

type noticeDryCounts struct {
	Eligible int64            `json:"eligible"`
	Skipped  map[string]int64 `json:"skipped"`
}

type noticePreview struct {
	CustomerID uuid.UUID `json:"customer_id"`
	To         string    `json:"to"`
	Text       string    `json:"text"`
	Encoding   string    `json:"encoding"`
	Segments   int       `json:"segments"`
}

func (h *CampaignHandler) create(c *fiber.Ctx) error {
	var req noticeRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in, err := req.input()
	if err != nil {
		return err
	}
	return mapCampaignError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		body, st, err := h.campaigns.Validate(ctx, tx, &in)
		if err != nil {
			return err
		}
		if in.DryRun {
			counts, previews, err := h.campaigns.DryRun(ctx, tx, actor, in, body, st)
			if err != nil {
				return err
			}
			out := noticeDryRun{Counts: noticeDryCounts{Eligible: counts.States[StateQueued], Skipped: counts.Skipped},
				Preview: make([]noticePreview, len(previews))}
			for i, p := range previews {
				out.Preview[i] = noticePreview{CustomerID: p.CustomerID, To: p.To, Text: p.Text, Encoding: p.Encoding, Segments: p.Segments}
			}
			return c.JSON(out)
		}
		camp, view, err := h.campaigns.Create(ctx, tx, actor, in, body, st)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderLocation, "/v1/sms/campaigns/"+camp.ID.String())
		return c.Status(fiber.StatusAccepted).JSON(noticeAccepted{Campaign: toCampaignResponse(camp), Job: view})
	}))
}

func mapCampaignError(err error) error {
	if errors.Is(err, ErrNotConfigured) {
		return &httpapi.Error{Status: fiber.StatusConflict, Code: "sms_not_configured",
			Message: "the tenant's SMS settings are not complete: set the Twilio account, a credential and a sender (PATCH /v1/sms/settings)"}
	}
	return mapError(err)
}
