package order

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

type paymentRequest struct {
	CustomerID uuid.UUID   `json:"customer_id"`
	Amount     money.Value `json:"amount"`
	ReceivedAt *string     `json:"received_at,omitempty"`
	OrderID    *uuid.UUID  `json:"order_id,omitempty"`
	Method     *string     `json:"method,omitempty"`
	Reference  *string     `json:"reference,omitempty"`
}

type paymentListResponse struct {
	Items      []paymentResponse `json:"items"`
	NextCursor *string           `json:"next_cursor"`
}

func (h *Handler) createPayment(c *fiber.Ctx) error {
	var req paymentRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	var errs validation.Errors
	in := PaymentInput{CustomerID: req.CustomerID, Amount: req.Amount, ReceivedAt: parseDate(&errs, "received_at", req.ReceivedAt),
		OrderID: req.OrderID, Method: req.Method, Reference: req.Reference}
	if req.CustomerID == uuid.Nil {
		errs.Add("customer_id", "required", "must be a customer's id")
	}
	if err := in.Validate(); err != nil {
		var ve validation.Errors
		errors.As(err, &ve)
		errs = append(errs, ve...)
	}
	if err := errs.Err(); err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		p, err := h.svc.CreatePayment(ctx, tx, actor, in)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderLocation, "/v1/payments/"+p.ID.String())
		return c.Status(fiber.StatusCreated).JSON(toPaymentResponse(p))
	})
}

func (h *Handler) getPayment(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		p, err := h.svc.GetPayment(ctx, tx, id)
		if err != nil {
			return err
		}
		return c.JSON(toPaymentResponse(p))
	}, database.ReadOnly)
}

func (h *Handler) listPayments(c *fiber.Ctx) error {
	lp, err := orderListParams(c, true)
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		ps, err := h.svc.ListPayments(ctx, tx, lp)
		if err != nil {
			return err
		}
		resp := paymentListResponse{Items: make([]paymentResponse, 0, len(ps))}
		if limit := int(lp.Limit - 1); len(ps) > limit {
			ps = ps[:limit]
			last := ps[len(ps)-1]
			next := httpapi.EncodeCursor(Cursor{Date: last.ReceivedAt, ID: last.ID})
			resp.NextCursor = &next
		}
		for _, p := range ps {
			resp.Items = append(resp.Items, toPaymentResponse(p))
		}
		return c.JSON(resp)
	}, database.ReadOnly, database.CustomPlans)
}
