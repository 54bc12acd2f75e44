package merge

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/money"
	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// Handler serves merges and the duplicate list.
type Handler struct {
	db   database.Beginner
	svc  *Service
	jobs *jobs.Service
}

// NewHandler returns a Handler; js starts the jobs of large merges.
func NewHandler(db database.Beginner, svc *Service, js *jobs.Service) *Handler {
	return &Handler{db: db, svc: svc, jobs: js}
}

// Routes registers the routes. Mount them before the customer routes, so
// that GET /customers/:id does not take /customers/duplicates.
func (h *Handler) Routes(r *httpapi.Router) {
	r = r.WithErrors(mapError)
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/customers/duplicates", Permission: auth.PermCustomersRead, Tag: "customers",
		Summary:  "Likely duplicates among the customers you can see: same tax number, e-mail, phone or (normalized) name",
		Response: duplicateListResponse{}, Handler: h.duplicates,
		Query: append([]httpapi.Param{{Name: "reason", Description: "tax_number, email, phone or name, comma-separated (default all)"}},
			httpapi.PageParams...)})
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/customers/:id/merge", Permission: auth.PermCustomersMerge, Tag: "customers",
		Summary: "Merge duplicate_id into this customer: its orders, payments, locations, contacts, prices, groups, grants " +
			"and portal users move here, empty fields are filled, and duplicate_id then answers 410 with merged_into. " +
			"200 with this customer and a \"merge\" report; 202 with a job for a large history",
		Request:  mergeRequest{},
		Response: customer.Response(customer.Detail{}, settings.Env{}, time.Time{}), Handler: h.merge})
}

func mapError(err error) error {
	var gone *GoneError
	var mismatch *MismatchError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrSelf):
		return &httpapi.Error{Status: fiber.StatusUnprocessableEntity, Code: "self_merge", Message: "duplicate_id: " + ErrSelf.Error(),
			Fields: validation.Errors{{Field: "duplicate_id", Code: "self_merge", Message: ErrSelf.Error()}}}
	case errors.Is(err, ErrKeptNotFound):
		return httpapi.NotFound("customer")
	case errors.Is(err, ErrDuplicateNotFound):
		return &httpapi.Error{Status: fiber.StatusNotFound, Code: "not_found", Message: "duplicate customer not found",
			Fields: validation.Errors{{Field: "duplicate_id", Code: "not_found", Message: "no customer you can see has this id"}}}
	case errors.As(err, &gone):
		e := &httpapi.Error{Status: fiber.StatusGone, Code: "customer_merged",
			Message: "this customer was merged into another one; follow merged_into",
			Extra:   map[string]any{"merged_into": gone.MergedInto}}
		if gone.Duplicate {
			e.Message = "duplicate_id: this customer was already merged into another one (merged_into)"
			e.Fields = validation.Errors{{Field: "duplicate_id", Code: "customer_merged", Message: "already merged"}}
		}
		return e
	case errors.As(err, &mismatch):
		what := "currencies"
		if mismatch.Code == CodeKindMismatch {
			what = "kinds"
		}
		e := httpapi.Conflict("duplicate_id", mismatch.Code, "the two customers have different "+what+
			" ("+mismatch.Kept+" kept, "+mismatch.Duplicate+" duplicate); send \"force\": true to merge them anyway")
		e.Extra = map[string]any{"kept": mismatch.Kept, "duplicate": mismatch.Duplicate}
		return e
	}
	return err
}

// mergeRequest is the body of POST /customers/{id}/merge.
type mergeRequest struct {
	DuplicateID *uuid.UUID `json:"duplicate_id"`
	// Force merges customers whose currencies or kinds differ.
	Force *bool `json:"force"`
}

func (h *Handler) merge(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var req mergeRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	if req.DuplicateID == nil {
		return httpapi.Validation(validation.Errors{{Field: "duplicate_id", Code: "required", Message: "name the customer to merge into this one"}})
	}
	in := Input{KeptID: id, DuplicateID: *req.DuplicateID, Force: req.Force != nil && *req.Force}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		plan, err := h.svc.Prepare(ctx, tx, in)
		if err != nil {
			return err
		}
		if plan.Large() {
			view, err := h.jobs.Enqueue(ctx, tx, actor, plan.Params(), nil, plan.JobArgs)
			if err != nil {
				return err
			}
			return jobs.Accepted(c, view)
		}
		res, err := h.svc.Merge(ctx, tx, actor, plan)
		if err != nil {
			return err
		}
		body, err := withMember(customer.Response(res.Customer, res.Env, time.Now()), "merge", res.Report)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(res.Customer.Customer.Version))
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Status(fiber.StatusOK).Send(body)
	})
}

// duplicateCustomer is a customer as the duplicate list shows it: enough
// to tell which one to keep.
type duplicateCustomer struct {
	ID         uuid.UUID `json:"id"`
	Code       string    `json:"code"`
	Name       string    `json:"name"`
	Email      *string   `json:"email"`
	Phone      *string   `json:"phone"`
	TaxNumber  *string   `json:"tax_number"`
	Status     string    `json:"status"`
	OrderCount int32     `json:"order_count"`
	Balance    string    `json:"balance"`
}

type duplicateGroup struct {
	// Reason is tax_number, email, phone or name.
	Reason string `json:"reason"`
	// Key is the normalized value the customers share.
	Key string `json:"key"`
	// Count is how many customers share it; at most 20 are listed.
	Count     int64               `json:"count"`
	Customers []duplicateCustomer `json:"customers"`
}

type duplicateListResponse struct {
	Items      []duplicateGroup `json:"items"`
	NextCursor *string          `json:"next_cursor"`
}

func (h *Handler) duplicates(c *fiber.Ctx) error {
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	dp := DuplicateParams{Limit: limit}
	if raw := c.Query("reason"); raw != "" {
		for _, r := range strings.Split(raw, ",") {
			r = strings.TrimSpace(r)
			if !slices.Contains(Reasons, r) {
				return httpapi.BadRequest("reason", "invalid_choice", "must be tax_number, email, phone or name, comma-separated")
			}
			dp.Reasons = append(dp.Reasons, strings.Clone(r))
		}
	}
	var after DuplicateCursor
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return err
	}
	if has {
		dp.After = &after
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		env, err := h.svc.customers.Env(ctx, tx)
		if err != nil {
			return err
		}
		groups, next, err := h.svc.Duplicates(ctx, tx, actor, dp)
		if err != nil {
			return err
		}
		resp := duplicateListResponse{Items: make([]duplicateGroup, 0, len(groups))}
		for _, g := range groups {
			item := duplicateGroup{Reason: g.Reason, Key: g.Key, Count: g.Count, Customers: make([]duplicateCustomer, 0, len(g.Customers))}
			for _, cu := range g.Customers {
				cur := *customer.ResolveEffective(cu, nil, env.Settings).Currency.Value
				item.Customers = append(item.Customers, duplicateCustomer{ID: cu.ID, Code: cu.Code, Name: cu.Name,
					Email: cu.Email, Phone: cu.Phone, TaxNumber: cu.TaxNumber, Status: cu.Status,
					OrderCount: cu.OrderCount, Balance: money.Format(cu.Balance, cur)})
			}
			resp.Items = append(resp.Items, item)
		}
		if next != nil {
			s := httpapi.EncodeCursor(next)
			resp.NextCursor = &s
		}
		return c.JSON(resp)
	}, database.ReadOnly, database.CustomPlans)
}
