package sms

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// Handler serves /v1/sms/settings, /v1/sms/templates, the campaign and
// message reads, opt-outs and Twilio's webhooks.
type Handler struct {
	db  database.Beginner
	svc *Service
	// PublicBaseURL is CUSTOMERHUB_PUBLIC_BASE_URL: Twilio signs webhooks
	// over the public URL it requested, which is checked against it.
	PublicBaseURL string
}

// NewHandler returns a Handler.
func NewHandler(db database.Beginner, svc *Service) *Handler {
	return &Handler{db: db, svc: svc}
}

// Routes registers the package's routes.
//
// Settings hold the tenant's Twilio credentials: reading and changing them
// is settings:manage. Templates are the tenant's approved wording of
// notices to its customers, so writing them is settings:manage too, while
// those who send notices (sms:send) read them and preview messages; a
// preview shows a customer's balance only when the caller sees the
// customer.
func (h *Handler) Routes(r *httpapi.Router) {
	r = r.WithErrors(mapError)
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/sms/settings", Permission: auth.PermSettingsManage, Tag: "sms",
		Summary:  "The tenant's SMS settings (credentials shown only as set and their last four characters)",
		Response: settingsResponse{}, Handler: h.getSettings})
	r.Handle(httpapi.Route{Method: fiber.MethodPatch, Path: "/sms/settings", Permission: auth.PermSettingsManage, Tag: "sms",
		Summary: "Change the tenant's SMS settings (needs If-Match)", Request: patchSettingsRequest{},
		Response: settingsResponse{}, IfMatch: true, Handler: h.patchSettings})

	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/sms/templates/preview", Permission: auth.PermSMSSend, Tag: "sms",
		Summary: "Render a body or a template for a customer: text, encoding (GSM-7 or UCS-2) and segments",
		Request: previewRequest{}, Response: previewResponse{}, Handler: h.preview})
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/sms/templates", Permission: auth.PermSettingsManage, Tag: "sms",
		Summary: "Create a message template", Status: fiber.StatusCreated, Request: createTemplateRequest{},
		Response: templateResponse{}, Handler: h.createTemplate})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/sms/templates", Permission: auth.PermSMSSend, Tag: "sms",
		Summary: "List message templates by name", Response: templateListResponse{}, Query: httpapi.PageParams,
		Handler: h.listTemplates})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/sms/templates/:id", Permission: auth.PermSMSSend, Tag: "sms",
		Summary: "Get a message template", Response: templateResponse{}, Handler: h.getTemplate})
	r.Handle(httpapi.Route{Method: fiber.MethodPatch, Path: "/sms/templates/:id", Permission: auth.PermSettingsManage, Tag: "sms",
		Summary: "Change a message template's name or body (needs If-Match)", Request: patchTemplateRequest{},
		Response: templateResponse{}, IfMatch: true, Handler: h.patchTemplate})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/sms/templates/:id", Permission: auth.PermSettingsManage, Tag: "sms",
		Summary: "Delete a message template (campaigns keep the text they were made with)", Status: fiber.StatusNoContent,
		Handler: h.deleteTemplate})

	// Campaigns and messages are read with customers:read: a message
	// belongs to its customer and is seen by whoever sees the customer
	// (row-level security by reach), so a sales rep reads their own
	// customers' notices without being able to send any.
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/sms/campaigns", Permission: auth.PermCustomersRead, Tag: "sms",
		Summary:  "List receivable-notice campaigns, newest first, with their messages counted by state as the caller sees them",
		Response: campaignListResponse{}, Query: httpapi.PageParams, Handler: h.listCampaigns})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/sms/campaigns/:id", Permission: auth.PermCustomersRead, Tag: "sms",
		Summary: "Get a campaign with its messages counted by state as the caller sees them", Response: campaignResponse{},
		Handler: h.getCampaign})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/sms/messages", Permission: auth.PermCustomersRead, Tag: "sms",
		Summary: "List the SMS messages the caller sees, newest first", Response: messageListResponse{}, Query: messageQuery,
		Handler: h.listMessages})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/sms/messages/:id", Permission: auth.PermCustomersRead, Tag: "sms",
		Summary: "Get an SMS message with its attempts", Response: messageResponse{}, Handler: h.getMessage})

	// Opt-outs are numbers no notice goes to; an office records a STOP
	// taken by phone, or removes one on the customer's request.
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/sms/opt-outs", Permission: auth.PermSettingsManage, Tag: "sms",
		Summary: "List the numbers that opted out, by number", Response: optOutListResponse{}, Query: httpapi.PageParams,
		Handler: h.listOptOuts})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/sms/opt-outs/:phone", Permission: auth.PermSettingsManage, Tag: "sms",
		Summary: "Get a number's opt-out (the + may be sent as %2B)", Response: OptOut{}, Handler: h.getOptOut})
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/sms/opt-outs", Permission: auth.PermSettingsManage, Tag: "sms",
		Summary: "Record that a number opted out (201; 200 with the first record when it already had)", Status: fiber.StatusCreated,
		Request: optOutRequest{}, Response: OptOut{}, Handler: h.createOptOut})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/sms/opt-outs/:phone", Permission: auth.PermSettingsManage, Tag: "sms",
		Summary: "Remove a number's opt-out (the + may be sent as %2B)", Status: fiber.StatusNoContent, Handler: h.deleteOptOut})

	// Twilio's webhooks: no user; the tenant is the path's and the request
	// must carry Twilio's signature with the tenant's auth token.
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: WebhookStatusPath, Permission: httpapi.Public, Tag: "sms",
		Summary: "Twilio status callback (form-encoded, signed with X-Twilio-Signature): moves a message forward only",
		Status:  fiber.StatusNoContent, Query: []httpapi.Param{{Name: "message_id", Description: "the message's id"}},
		Request: statusCallbackForm{}, RequestMedia: fiber.MIMEApplicationForm, Handler: h.webhookStatus})
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: WebhookInboundPath, Permission: httpapi.Public, Tag: "sms",
		Summary: "Twilio incoming message (form-encoded, signed): STOP and its synonyms record an opt-out, START, YES, UNSTOP remove it",
		Request: inboundForm{}, RequestMedia: fiber.MIMEApplicationForm,
		Produces: []string{fiber.MIMETextXML}, Handler: h.webhookInbound})
}

// mapError turns the package's errors into HTTP errors.
func mapError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNoSecretKey):
		return &httpapi.Error{Status: fiber.StatusServiceUnavailable, Code: "secret_key_missing",
			Message: "this server cannot store SMS credentials: an operator must set CUSTOMERHUB_SECRET_KEY (base64 of 32 random bytes)"}
	case errors.Is(err, ErrVersionMismatch):
		return httpapi.PreconditionFailed()
	case errors.Is(err, ErrTemplateNotFound):
		return httpapi.NotFound("sms template")
	case errors.Is(err, ErrCustomerNotFound):
		return httpapi.NotFound("customer")
	case errors.Is(err, ErrTemplateNameUsed):
		return httpapi.Conflict("name", "name_taken", "a template with this name already exists")
	}
	var ve validation.Errors
	if errors.As(err, &ve) {
		return httpapi.Unprocessable(err)
	}
	return err
}

// invalid answers the field errors of the request itself with 400, as
// httpapi's error handler would: the routes apply mapError to what their
// handlers return, and it answers field errors with 422 (what a request
// asks cannot apply to what is stored, or the package's own checks).
func invalid(err error) error {
	var ve validation.Errors
	if errors.As(err, &ve) {
		return httpapi.Validation(ve)
	}
	return err
}

// ---- settings ------------------------------------------------------------------

type patchSettingsRequest struct {
	AccountSID patch.Field[string] `json:"account_sid"`
	// AuthToken is write-only: answers show auth_token_set and
	// auth_token_last4.
	AuthToken patch.Field[string] `json:"auth_token"`
	APIKeySID patch.Field[string] `json:"api_key_sid"`
	// APIKeySecret is write-only, like auth_token.
	APIKeySecret        patch.Field[string] `json:"api_key_secret"`
	FromNumber          patch.Field[string] `json:"from_number"`
	MessagingServiceSID patch.Field[string] `json:"messaging_service_sid"`
	TimeZone            patch.Field[string] `json:"time_zone"`
	QuietStart          patch.Field[string] `json:"quiet_start"`
	QuietEnd            patch.Field[string] `json:"quiet_end"`
	RatePerSecond       patch.Field[int64]  `json:"rate_per_second"`
	MinDaysBetween      patch.Field[int64]  `json:"min_days_between"`
	PortalURL           patch.Field[string] `json:"portal_url"`
}

func (req patchSettingsRequest) toPatch() (SettingsPatch, error) {
	// A conversion: it stops compiling when the two stop matching.
	p := SettingsPatch(req)
	return p, p.Validate()
}

func (h *Handler) getSettings(c *fiber.Ctx) error {
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		s, err := h.svc.Settings(ctx, tx)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(s.Version))
		return c.JSON(toSettingsResponse(s))
	}, database.ReadOnly)
}

func (h *Handler) patchSettings(c *fiber.Ctx) error {
	want, err := httpapi.IfMatch(c)
	if err != nil {
		return err
	}
	var req patchSettingsRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	patch, err := req.toPatch()
	if err != nil {
		return invalid(err)
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		after, err := h.svc.UpdateSettings(ctx, tx, want, patch)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(after.Version))
		return c.JSON(toSettingsResponse(after))
	})
}

// ---- templates -----------------------------------------------------------------

type createTemplateRequest struct {
	Name string `json:"name"`
	// Body may use {name}, {balance}, {currency}, {overdue},
	// {oldest_due_date}, {company} and {portal_url}; {{ and }} are
	// literal braces.
	Body string `json:"body"`
}

type patchTemplateRequest struct {
	Name patch.Field[string] `json:"name"`
	Body patch.Field[string] `json:"body"`
}

type templateListResponse struct {
	Items      []templateResponse `json:"items"`
	NextCursor *string            `json:"next_cursor"`
}

func (h *Handler) createTemplate(c *fiber.Ctx) error {
	var req createTemplateRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in := TemplateInput(req)
	if err := in.Validate(); err != nil {
		return mapError(err)
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		t, err := h.svc.TemplateCreate(ctx, tx, in)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(t.Version))
		c.Set(fiber.HeaderLocation, "/v1/sms/templates/"+t.ID.String())
		return c.Status(fiber.StatusCreated).JSON(toTemplateResponse(t))
	})
}

func (h *Handler) listTemplates(c *fiber.Ctx) error {
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	var after TemplateCursor
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return err
	}
	var cursor *TemplateCursor
	if has {
		cursor = &after
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		rows, err := h.svc.TemplateList(ctx, tx, cursor, limit+1)
		if err != nil {
			return err
		}
		resp := templateListResponse{Items: make([]templateResponse, 0, len(rows))}
		rows, resp.NextCursor = httpapi.NextPage(rows, limit, func(last dbsqlc.SmsTemplate) any {
			return TemplateCursor{Name: last.Name, ID: last.ID}
		})
		for _, r := range rows {
			resp.Items = append(resp.Items, toTemplateResponse(r))
		}
		return c.JSON(resp)
	}, database.ReadOnly)
}

func (h *Handler) getTemplate(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		t, err := h.svc.TemplateGet(ctx, tx, id)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(t.Version))
		return c.JSON(toTemplateResponse(t))
	}, database.ReadOnly)
}

func (h *Handler) patchTemplate(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	want, err := httpapi.IfMatch(c)
	if err != nil {
		return err
	}
	var req patchTemplateRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	if nulls := patch.NotNull(req); len(nulls) > 0 {
		return httpapi.Validation(nulls)
	}
	p := TemplatePatch{Name: req.Name.Value, Body: req.Body.Value}
	if err := p.Validate(); err != nil {
		return mapError(err)
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		after, err := h.svc.TemplateUpdate(ctx, tx, id, want, p)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(after.Version))
		return c.JSON(toTemplateResponse(after))
	})
}

func (h *Handler) deleteTemplate(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		if _, err := h.svc.TemplateDelete(ctx, tx, id); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

// ---- preview -------------------------------------------------------------------

type previewRequest struct {
	// Body or TemplateID: exactly one.
	Body       *string    `json:"body"`
	TemplateID *uuid.UUID `json:"template_id"`
	CustomerID *uuid.UUID `json:"customer_id"`
}

type previewResponse struct {
	Text     string `json:"text"`
	Encoding string `json:"encoding"`
	Segments int    `json:"segments"`
	// Characters counts septets for GSM-7 (an extension character counts
	// 2) and UTF-16 code units for UCS-2.
	Characters int `json:"characters"`
}

func (h *Handler) preview(c *fiber.Ctx) error {
	var req previewRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	var errs validation.Errors
	switch {
	case req.Body == nil && req.TemplateID == nil:
		errs.Add("body", "required", "give a body or a template_id")
	case req.Body != nil && req.TemplateID != nil:
		errs.Add("template_id", "exclusive", "give a body or a template_id, not both")
	case req.Body != nil:
		checkBody(&errs, *req.Body)
	}
	if req.CustomerID == nil {
		errs.Add("customer_id", "required", "the customer whose values fill the placeholders")
	}
	if len(errs) > 0 {
		return mapError(errs)
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		body, field := "", "body"
		if req.Body != nil {
			body = *req.Body
		} else {
			t, err := h.svc.TemplateGet(ctx, tx, *req.TemplateID)
			if err != nil {
				return err
			}
			body, field = t.Body, "template_id"
		}
		r, err := h.svc.Render(ctx, tx, field, body, *req.CustomerID)
		if err != nil {
			return err
		}
		return c.JSON(previewResponse{Text: r.Text, Encoding: r.Encoding, Segments: r.Segments, Characters: r.Units})
	}, database.ReadOnly)
}
