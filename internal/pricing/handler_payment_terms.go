package pricing

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// ---- payment terms ----------------------------------------------------------

type createPaymentTermsRequest struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	DueDays *int64 `json:"due_days"`
}

type patchPaymentTermsRequest struct {
	Code    patch.Field[string] `json:"code"`
	Name    patch.Field[string] `json:"name"`
	DueDays patch.Field[int64]  `json:"due_days"`
}

type paymentTermsListResponse struct {
	Items      []paymentTermsResponse `json:"items"`
	NextCursor *string                `json:"next_cursor"`
}

// toInput converts and validates the body; due_days has no sensible
// default (0 means due at once), so it must be sent.
func (req createPaymentTermsRequest) toInput() (PaymentTermsInput, error) {
	in := PaymentTermsInput{Code: req.Code, Name: req.Name}
	if req.DueDays != nil {
		in.DueDays = *req.DueDays
	}
	err := in.Validate()
	if req.DueDays != nil {
		return in, err
	}
	errs, _ := err.(validation.Errors)
	errs.Add("due_days", "required", "must be given: the number of days until payment is due")
	return in, errs
}

func (h *Handler) createPaymentTerms(c *fiber.Ctx) error {
	var req createPaymentTermsRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in, err := req.toInput()
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		pt, err := h.svc.PaymentTermsCreate(ctx, tx, in)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(pt.Version))
		c.Set(fiber.HeaderLocation, "/v1/payment-terms/"+pt.ID.String())
		return c.Status(fiber.StatusCreated).JSON(toPaymentTermsResponse(pt))
	})
}

func (h *Handler) listPaymentTerms(c *fiber.Ctx) error {
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	after, err := pageCursor(c)
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		rows, err := h.svc.PaymentTermsList(ctx, tx, after, limit+1)
		if err != nil {
			return err
		}
		resp := paymentTermsListResponse{Items: make([]paymentTermsResponse, 0, len(rows))}
		if len(rows) > int(limit) {
			rows = rows[:limit]
			last := rows[len(rows)-1]
			next := httpapi.EncodeCursor(Cursor{Code: last.Code, ID: last.ID})
			resp.NextCursor = &next
		}
		for _, r := range rows {
			resp.Items = append(resp.Items, toPaymentTermsResponse(r))
		}
		return c.JSON(resp)
	}, database.ReadOnly)
}

func (h *Handler) getPaymentTerms(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		pt, err := h.svc.PaymentTermsGet(ctx, tx, id)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(pt.Version))
		return c.JSON(toPaymentTermsResponse(pt))
	}, database.ReadOnly)
}

func (h *Handler) patchPaymentTerms(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	want, err := httpapi.IfMatch(c)
	if err != nil {
		return err
	}
	var req patchPaymentTermsRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	if err := patch.NotNull(req).Err(); err != nil {
		return err
	}
	change := PaymentTermsPatch{Code: req.Code.Value, Name: req.Name.Value, DueDays: req.DueDays.Value}
	if err := change.Validate(); err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		after, err := h.svc.PaymentTermsUpdate(ctx, tx, id, want, change)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(after.Version))
		return c.JSON(toPaymentTermsResponse(after))
	})
}

func (h *Handler) deletePaymentTerms(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		if _, err := h.svc.PaymentTermsDelete(ctx, tx, id); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}
