package customer

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/precondition"
	"github.com/customerhub/customerhub/internal/tenant"
)

// dormantPreviewLimit is how many customers a sweep's dry run shows.
const dormantPreviewLimit = 50

// dormantRoutes registers the sweep and reactivation.
//
// Sweeping marks customers across the whole tenant, so it takes
// customers:write and visibility all: what the user could do by hand with
// a bulk update of every customer they see, and never a change to a
// customer they cannot see (a sales rep gets 403).
func (h *Handler) dormantRoutes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/dormant-sweeps", Permission: auth.PermCustomersWrite, Tag: "customers",
		Summary: "Mark the active customers without an order or payment since before (default: the tenant's dormant_after_days ago) " +
			"as dormant, in a background job; dry_run answers how many and the first of them. Needs visibility all",
		Status: fiber.StatusAccepted, Request: dormantSweepRequest{}, Response: jobs.AcceptedResponse{},
		Also: map[int]any{fiber.StatusOK: dormantPreviewResponse{}}, Handler: h.dormantSweep})
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/customers/:id/reactivate", Permission: auth.PermCustomersWrite, Tag: "customers",
		Summary: "Bring a dormant customer back to active (an active one is answered as it is; an inactive one is 409). " +
			"If-Match is optional: when sent, a stale version is 412",
		Response: customerResponse{}, Handler: h.reactivate})
}

// dormantSweepRequest is the body of POST /dormant-sweeps.
type dormantSweepRequest struct {
	DryRun bool `json:"dry_run,omitempty"`
	// Before is the cutoff: a date (midnight UTC) or an RFC 3339 time, not
	// in the future.
	Before *string `json:"before,omitempty"`
}

type dormantPreviewResponse struct {
	Count int64              `json:"count"`
	Items []customerResponse `json:"items"`
}

func parseBefore(v *string) (*time.Time, error) {
	if v == nil {
		return nil, nil
	}
	s := strings.TrimSpace(*v)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &t, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil, httpapi.BadRequest("before", "invalid_date", "must be a date (2026-03-31) or an RFC 3339 time")
	}
	return &d, nil
}

func (h *Handler) dormantSweep(c *fiber.Ctx) error {
	var req dormantSweepRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	before, err := parseBefore(req.Before)
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		if actor.Visibility != tenant.VisibilityAll {
			return httpapi.Forbidden("sweeping dormant customers takes a user who sees every customer")
		}
		now := time.Now()
		dp, err := h.svc.DormantParamsFor(ctx, tx, now, before)
		if err != nil {
			return httpapi.Unprocessable(err)
		}
		if req.DryRun {
			n, details, err := h.svc.DormantPreview(ctx, tx, dp, dormantPreviewLimit)
			if err != nil {
				return err
			}
			env, err := h.svc.Env(ctx, tx)
			if err != nil {
				return err
			}
			resp := dormantPreviewResponse{Count: n, Items: make([]customerResponse, len(details))}
			for i, d := range details {
				resp.Items[i] = toCustomerResponse(d, env, now)
			}
			return c.JSON(resp)
		}
		v, err := h.jobs.Enqueue(ctx, tx, actor, dp, nil, func(ref jobs.Ref) jobs.Args { return DormantSweepArgs{Ref: ref} })
		if err != nil {
			return err
		}
		return jobs.Accepted(c, v)
	})
}

func (h *Handler) reactivate(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var want *precondition.IfMatch
	if len(c.Request().Header.Peek(httpapi.HeaderIfMatch)) > 0 {
		w, err := httpapi.IfMatch(c)
		if err != nil {
			return err
		}
		want = &w
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		env, err := h.svc.Env(ctx, tx)
		if err != nil {
			return err
		}
		d, _, err := h.svc.Reactivate(ctx, tx, env, id, want)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(d.Customer.Version))
		return c.JSON(toCustomerResponse(d, env, time.Now()))
	})
}
