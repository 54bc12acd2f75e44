package order

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

type lineRequest struct {
	SKU          string       `json:"sku"`
	Quantity     money.Value  `json:"quantity"`
	UnitPrice    *money.Value `json:"unit_price,omitempty"`
	DiscountRate *money.Value `json:"discount_rate,omitempty"`
}

type orderRequest struct {
	CustomerID     uuid.UUID     `json:"customer_id"`
	LocationID     *uuid.UUID    `json:"location_id,omitempty"`
	OrderDate      *string       `json:"order_date,omitempty"`
	Notes          *string       `json:"notes,omitempty"`
	Lines          []lineRequest `json:"lines"`
	OverrideCredit bool          `json:"override_credit,omitempty"`
}

// orderPatchRequest replaces a pending order's editable part.
type orderPatchRequest struct {
	LocationID     *uuid.UUID    `json:"location_id,omitempty"`
	OrderDate      *string       `json:"order_date,omitempty"`
	Notes          *string       `json:"notes,omitempty"`
	Lines          []lineRequest `json:"lines"`
	OverrideCredit bool          `json:"override_credit,omitempty"`
}

func parseDate(errs *validation.Errors, field string, s *string) *time.Time {
	if s == nil {
		return nil
	}
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(*s))
	if err != nil {
		errs.Add(field, "invalid_date", "must be a date such as 2026-03-31")
		return nil
	}
	return &d
}

// toInput converts a create (customerID set) or patch (nil) body.
func toInput(customerID *uuid.UUID, loc *uuid.UUID, date, notes *string, lines []lineRequest, override bool) (Input, error) {
	var errs validation.Errors
	in := Input{LocationID: loc, OrderDate: parseDate(&errs, "order_date", date), Notes: notes, OverrideCredit: override}
	for _, l := range lines {
		in.Lines = append(in.Lines, LineInput(l))
	}
	if customerID != nil {
		in.CustomerID = *customerID
		if *customerID == uuid.Nil {
			errs.Add("customer_id", "required", "must be a customer's id")
		}
	}
	if err := in.Validate(); err != nil {
		var ve validation.Errors
		errors.As(err, &ve)
		errs = append(errs, ve...)
	}
	return in, errs.Err()
}

type orderListResponse struct {
	Items      []orderResponse `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

func (h *Handler) create(c *fiber.Ctx) error {
	var req orderRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in, err := toInput(&req.CustomerID, req.LocationID, req.OrderDate, req.Notes, req.Lines, req.OverrideCredit)
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		o, err := h.svc.Create(ctx, tx, actor, in)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(o.Version))
		c.Set(fiber.HeaderLocation, "/v1/sales-orders/"+o.ID.String())
		return c.Status(fiber.StatusCreated).JSON(toOrderResponse(o))
	})
}

func (h *Handler) get(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		o, err := h.svc.Get(ctx, tx, id)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(o.Version))
		return c.JSON(toOrderResponse(o))
	}, database.ReadOnly)
}

func (h *Handler) patch(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	want, err := httpapi.IfMatch(c)
	if err != nil {
		return err
	}
	var req orderPatchRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	in, err := toInput(nil, req.LocationID, req.OrderDate, req.Notes, req.Lines, req.OverrideCredit)
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		o, err := h.svc.Update(ctx, tx, actor, id, want, in)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(o.Version))
		return c.JSON(toOrderResponse(o))
	})
}

func (h *Handler) transition(action string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := httpapi.UUIDParam(c, "id")
		if err != nil {
			return err
		}
		return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
			o, err := h.svc.Transition(ctx, tx, id, action)
			if err != nil {
				return err
			}
			c.Set(fiber.HeaderETag, httpapi.ETag(o.Version))
			return c.JSON(toOrderResponse(o))
		})
	}
}

func (h *Handler) list(c *fiber.Ctx) error {
	lp, err := orderListParams(c, true)
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		return h.writeOrders(ctx, tx, c, lp)
	}, database.ReadOnly, database.CustomPlans)
}

func (h *Handler) customerOrders(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	lp, err := orderListParams(c, false)
	if err != nil {
		return err
	}
	lp.CustomerID = &id
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		if err := h.svc.CustomerVisible(ctx, tx, id); err != nil {
			return err
		}
		return h.writeOrders(ctx, tx, c, lp)
	}, database.ReadOnly, database.CustomPlans)
}

func (h *Handler) writeOrders(ctx context.Context, tx database.Tx, c *fiber.Ctx, lp ListParams) error {
	orders, err := h.svc.List(ctx, tx, lp)
	if err != nil {
		return err
	}
	resp := orderListResponse{Items: make([]orderResponse, 0, len(orders))}
	if limit := int(lp.Limit - 1); len(orders) > limit {
		orders = orders[:limit]
		last := orders[len(orders)-1]
		next := httpapi.EncodeCursor(Cursor{Date: last.OrderDate, ID: last.ID})
		resp.NextCursor = &next
	}
	for _, o := range orders {
		resp.Items = append(resp.Items, toOrderResponse(o))
	}
	return c.JSON(resp)
}
