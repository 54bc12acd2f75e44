package customer

import (
	"context"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// bulkRoutes registers POST /customers/bulk-update.
func (h *Handler) bulkRoutes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/customers/bulk-update", Permission: auth.PermCustomersWrite,
		Tag: "customers", Summary: "Set sales rep, payment terms, billing status, basis date, status or groups on many customers " +
			"(selected by ids or by the list's filters) in a background job; dry_run answers how many it matches and would change; " +
			auth.AssignRule,
		Status: fiber.StatusAccepted, Request: bulkRequest{}, Response: jobs.AcceptedResponse{},
		Also: map[int]any{fiber.StatusOK: jobs.Preview{}}, Handler: h.bulkUpdate})
}

// bulkRequest is the body of POST /customers/bulk-update.
type bulkRequest struct {
	Selection patch.Field[jobs.Selection] `json:"selection"`
	Set       patch.Field[bulkSetRequest] `json:"set"`
	DryRun    bool                        `json:"dry_run"`
}

type bulkSetRequest struct {
	SalesRepID     patch.Field[uuid.UUID]          `json:"sales_rep_id"`
	PaymentTermsID patch.Field[uuid.UUID]          `json:"payment_terms_id"`
	BillingStatus  patch.Field[string]             `json:"billing_status"`
	BasisDate      patch.Field[string]             `json:"basis_date"`
	Status         patch.Field[string]             `json:"status"`
	Groups         patch.Field[map[string]*string] `json:"groups"`
}

func (req bulkRequest) params() (BulkParams, error) {
	var errs validation.Errors
	if req.Selection.Value == nil {
		errs.Add("selection", "required", "give selection.ids or selection.filter")
	}
	if req.Set.Value == nil {
		errs.Add("set", "required", "give the fields to set")
	} else if req.Set.Value.Groups.IsNull() {
		errs.Add("set.groups", "not_nullable", "send an object; a category set to null leaves that group")
	}
	if len(errs) > 0 {
		return BulkParams{}, httpapi.Validation(errs)
	}
	s := req.Set.Value
	return BulkParams{
		Selection: *req.Selection.Value,
		Set: BulkSet{SalesRepID: s.SalesRepID, PaymentTermsID: s.PaymentTermsID, BillingStatus: s.BillingStatus,
			BasisDate: s.BasisDate, Status: s.Status, Groups: s.Groups.Or(nil)},
	}, nil
}

func (h *Handler) bulkUpdate(c *fiber.Ctx) error {
	var req bulkRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	bp, err := req.params()
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		env, err := h.svc.Env(ctx, tx)
		if err != nil {
			return err
		}
		if err := h.svc.ValidateBulk(ctx, tx, actor, env, &bp); err != nil {
			return httpapi.Unprocessable(err)
		}
		if req.DryRun {
			pv, err := h.svc.BulkPreview(ctx, tx, actor, bp)
			if err != nil {
				return httpapi.Unprocessable(err)
			}
			return c.JSON(pv)
		}
		v, err := h.jobs.Enqueue(ctx, tx, actor, bp, nil, func(ref jobs.Ref) jobs.Args { return BulkUpdateArgs{Ref: ref} })
		if err != nil {
			return err
		}
		return jobs.Accepted(c, v)
	})
}
