package location

import (
	"context"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// bulkRequest is the body of POST /locations/bulk-update.
type bulkRequest struct {
	Selection patch.Field[jobs.Selection] `json:"selection"`
	Set       patch.Field[bulkSet]        `json:"set"`
	DryRun    bool                        `json:"dry_run"`
}

// bulkSet: sales_rep_id is required; null removes the override.
type bulkSet struct {
	SalesRepID patch.Field[uuid.UUID] `json:"sales_rep_id"`
}

func (req bulkRequest) params() (BulkParams, error) {
	var errs validation.Errors
	if req.Selection.Value == nil {
		errs.Add("selection", "required", "give selection.ids or selection.filter")
	}
	if req.Set.Value == nil || !req.Set.Value.SalesRepID.Set {
		errs.Add("set.sales_rep_id", "required", "give the sales rep to set, or null to remove the override")
	}
	if len(errs) > 0 {
		return BulkParams{}, httpapi.Validation(errs)
	}
	bp := BulkParams{Selection: *req.Selection.Value}
	bp.Set.SalesRepID = req.Set.Value.SalesRepID.Value
	return bp, nil
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
	return mapError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		if err := h.svc.ValidateBulk(ctx, tx, actor, &bp); err != nil {
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
	}))
}
