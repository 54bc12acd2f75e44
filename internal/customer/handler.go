package customer

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// Handler serves customers, their contacts and saved list views, bulk
// updates and merges.
type Handler struct {
	db   database.Beginner
	svc  *Service
	jobs *jobs.Service
}

// NewHandler returns a Handler; js starts the background jobs of bulk
// updates and large merges.
func NewHandler(db database.Beginner, svc *Service, js *jobs.Service) *Handler {
	return &Handler{db: db, svc: svc, jobs: js}
}

// listQuery is every query parameter GET /v1/customers accepts.
var listQuery = append([]httpapi.Param{
	{Name: "q", Description: "text found in name, code, contact name, e-mail, phone, tax number or city"},
	{Name: "sort", Description: "name (default), code, balance, total_order_value, last_order_at, updated_at, created_at; a leading - is descending"},
	{Name: "fields", Description: "comma-separated customer fields to return (id is always included)"},
	{Name: "count", Description: "exact or estimated: add total (estimated stops counting at 10,000)"},
	{Name: "view", Description: "name of one of your saved views: its columns, filters and sort apply unless given here"},
	{Name: "status", Description: "active (default), dormant, inactive, comma-separated, or all"},
	{Name: "type", Description: "individual or company"},
	{Name: "kind", Description: "customer, vendor or both"},
	{Name: "sales_rep_id"}, {Name: "payment_terms_id"},
	{Name: "billing_status", Description: "current, on_hold, collections or closed"},
	{Name: "country", Description: "ISO 3166 code of the primary address"},
	{Name: "has_balance", Type: "boolean", Description: "owes money (balance > 0)"},
	{Name: "has_credit", Type: "boolean", Description: "in credit (balance < 0)"},
	{Name: "overdue", Type: "boolean", Description: "has an overdue amount"},
	{Name: "engaged", Type: "boolean", Description: "ordered in the last 365 days"},
	{Name: "last_order_from", Description: "date or RFC 3339 time"},
	{Name: "last_order_to", Description: "date (inclusive) or RFC 3339 time"},
	{Name: "group.*", Description: "group.<category>=<group code>"},
	{Name: "custom.*", Description: "custom.<key>=<value>: custom field equality"},
}, httpapi.PageParams...)

// Routes registers the routes.
func (h *Handler) Routes(r *httpapi.Router) {
	r = r.WithErrors(mapError)
	// Fixed paths first, so that /customers/:id does not take them.
	h.bulkRoutes(r)
	h.dormantRoutes(r)
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/customers", Permission: auth.PermCustomersWrite, Tag: "customers",
		Summary: "Create a customer (code generated when omitted); a user who sees only their assigned customers is its sales rep", Status: fiber.StatusCreated,
		Request: customerRequest{}, Response: customerResponse{}, Handler: h.create})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/customers", Permission: auth.PermCustomersRead, Tag: "customers",
		Summary: "List, search, filter and sort the customers you can see", Response: customerListResponse{},
		Query: listQuery, Handler: h.list})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/customers/:id", Permission: auth.PermCustomersRead, Tag: "customers",
		Summary: "Get a customer, with its effective values and where they come from", Response: customerResponse{}, Handler: h.get})
	r.Handle(httpapi.Route{Method: fiber.MethodPatch, Path: "/customers/:id", Permission: auth.PermCustomersWrite, Tag: "customers",
		Summary: "Change a customer (needs If-Match); " + auth.AssignRule, Request: customerRequest{}, Response: customerResponse{}, IfMatch: true, Handler: h.patch})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/customers/:id", Permission: auth.PermCustomersDelete, Tag: "customers",
		Summary: "Delete a customer without orders, payments or messages", Status: fiber.StatusNoContent, Handler: h.delete})

	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/customers/:id/contacts", Permission: auth.PermCustomersRead, Tag: "contacts",
		Summary: "A customer's contact persons, primary first", Response: contactListResponse{}, Handler: h.listContacts})
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/customers/:id/contacts", Permission: auth.PermCustomersWrite, Tag: "contacts",
		Summary: "Add a contact person", Status: fiber.StatusCreated, Request: contactRequest{}, Response: contactResponse{}, Handler: h.createContact})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/contacts/:id", Permission: auth.PermCustomersRead, Tag: "contacts",
		Summary: "Get a contact person", Response: contactResponse{}, Handler: h.getContact})
	r.Handle(httpapi.Route{Method: fiber.MethodPatch, Path: "/contacts/:id", Permission: auth.PermCustomersWrite, Tag: "contacts",
		Summary: "Change a contact person (needs If-Match)", Request: contactRequest{}, Response: contactResponse{}, IfMatch: true, Handler: h.patchContact})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/contacts/:id", Permission: auth.PermCustomersWrite, Tag: "contacts",
		Summary: "Remove a contact person", Status: fiber.StatusNoContent, Handler: h.deleteContact})

	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/views", Permission: auth.PermCustomersRead, Tag: "views",
		Summary: "Your saved customer list views", Response: viewListResponse{}, Handler: h.listViews})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/views/:name", Permission: auth.PermCustomersRead, Tag: "views",
		Summary: "One of your saved views", Response: viewResponse{}, Handler: h.getView})
	r.Handle(httpapi.Route{Method: fiber.MethodPut, Path: "/views/:name", Permission: auth.PermCustomersRead, Tag: "views",
		Summary: "Save a list view: columns, filters and sort", Request: viewRequest{}, Response: viewResponse{}, Handler: h.putView})
	r.Handle(httpapi.Route{Method: fiber.MethodDelete, Path: "/views/:name", Permission: auth.PermCustomersRead, Tag: "views",
		Summary: "Delete one of your saved views", Status: fiber.StatusNoContent, Handler: h.deleteView})
}

func mapError(err error) error {
	var merged *MergedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &merged):
		return &httpapi.Error{Status: fiber.StatusGone, Code: "customer_merged",
			Message: "this customer was merged into another one; follow merged_into",
			Extra:   map[string]any{"merged_into": merged.MergedInto}}
	case errors.Is(err, ErrNotFound):
		return httpapi.NotFound("customer")
	case errors.Is(err, ErrContactNotFound):
		return httpapi.NotFound("contact")
	case errors.Is(err, ErrViewNotFound):
		return httpapi.NotFound("view")
	case errors.Is(err, ErrCodeTaken):
		return httpapi.Conflict("code", "code_taken", "another customer already has this code")
	case errors.Is(err, ErrVersionMismatch):
		return httpapi.PreconditionFailed()
	case errors.Is(err, ErrNotDormant):
		return httpapi.Conflict("", "customer_inactive", "this customer is inactive, not dormant; change its status with PATCH")
	case errors.Is(err, ErrHasHistory):
		return httpapi.Conflict("", "customer_has_history",
			"this customer has orders, payments, messages or portal users and cannot be deleted; set its status to inactive, or merge it into another customer")
	}
	return err
}

// ---- customers ---------------------------------------------------------

func (req customerRequest) toPatch() (Patch, error) {
	p := req.fieldsPatch()
	p.Groups, p.Custom = req.Groups.Or(nil), req.Custom.Or(nil)
	var errs validation.Errors
	if req.Groups.IsNull() {
		errs.Add("groups", "not_nullable", "send an object; a category set to null leaves that group")
	}
	if req.Custom.IsNull() {
		errs.Add("custom", "not_nullable", "send an object; a field set to null clears it")
	}
	return p, errs.Err()
}

type customerListResponse struct {
	Items      []any   `json:"items"`
	NextCursor *string `json:"next_cursor"`
	// Total is present when count= is asked for; with count=estimated it
	// stops at 10,000 and TotalExact is false.
	Total      *int64 `json:"total,omitempty"`
	TotalExact *bool  `json:"total_exact,omitempty"`
}

func (h *Handler) create(c *fiber.Ctx) error {
	var req customerRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	p, err := req.toPatch()
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		env, err := h.svc.Env(ctx, tx)
		if err != nil {
			return err
		}
		d, err := h.svc.Create(ctx, tx, actor, env, p)
		if err != nil {
			return err
		}
		resp := toCustomerResponse(d, env, time.Now())
		c.Set(fiber.HeaderETag, httpapi.ETag(d.Customer.Version))
		c.Set(fiber.HeaderLocation, "/v1/customers/"+d.Customer.ID.String())
		return c.Status(fiber.StatusCreated).JSON(resp)
	})
}

func (h *Handler) get(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		env, err := h.svc.Env(ctx, tx)
		if err != nil {
			return err
		}
		d, err := h.svc.Get(ctx, tx, id)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(d.Customer.Version))
		return c.JSON(toCustomerResponse(d, env, time.Now()))
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
	var req customerRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	p, err := req.toPatch()
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		env, err := h.svc.Env(ctx, tx)
		if err != nil {
			return err
		}
		d, err := h.svc.Update(ctx, tx, actor, env, id, want, p)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(d.Customer.Version))
		return c.JSON(toCustomerResponse(d, env, time.Now()))
	})
}

func (h *Handler) delete(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		env, err := h.svc.Env(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := h.svc.Delete(ctx, tx, env, id); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

// listRequest is a parsed GET /v1/customers.
type listRequest struct {
	params ListParams
	fields []string
	count  string
}

func (h *Handler) list(c *fiber.Ctx) error {
	values := map[string]string{}
	c.Context().QueryArgs().VisitAll(func(k, v []byte) { values[string(k)] = string(v) })
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	var after Cursor
	hasCursor, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		lr, err := h.listRequest(ctx, tx, actor, values)
		if err != nil {
			return err
		}
		if hasCursor {
			if !after.check(lr.params.Sort) {
				return httpapi.BadRequest("cursor", "invalid_cursor", "not a cursor of this list and sort")
			}
			lr.params.After = &after
		}
		lr.params.Limit = limit + 1
		env, err := h.svc.Env(ctx, tx)
		if err != nil {
			return err
		}
		details, err := h.svc.List(ctx, tx, actor, env, lr.params)
		if err != nil {
			return err
		}
		resp := customerListResponse{Items: make([]any, 0, len(details))}
		if len(details) > int(limit) {
			details = details[:limit]
			last := details[len(details)-1].Customer
			next := httpapi.EncodeCursor(cursorFor(lr.params.Sort, rowKeys{
				id: last.ID, name: last.Name, code: last.Code, balance: last.Balance, totalOrderValue: last.TotalOrderValue,
				lastOrderAt: last.LastOrderAt, updatedAt: last.UpdatedAt, createdAt: last.CreatedAt,
			}))
			resp.NextCursor = &next
		}
		now := time.Now()
		for _, d := range details {
			item := toCustomerResponse(d, env, now)
			if len(lr.fields) == 0 {
				resp.Items = append(resp.Items, item)
				continue
			}
			projected, err := project(item, lr.fields)
			if err != nil {
				return err
			}
			resp.Items = append(resp.Items, projected)
		}
		if lr.count != "" {
			limitCount := int64(1) << 40
			if lr.count == "estimated" {
				limitCount = 10_001
			}
			n, err := h.svc.Count(ctx, tx, actor, env, lr.params, limitCount)
			if err != nil {
				return err
			}
			exact := n < limitCount
			if !exact {
				n = limitCount - 1
			}
			resp.Total, resp.TotalExact = &n, &exact
		}
		return c.JSON(resp)
	}, database.ReadOnly, database.CustomPlans)
}

// listRequest reads the list's parameters (ParseListRequest).
func (h *Handler) listRequest(ctx context.Context, tx database.Tx, actor *tenant.Principal, values map[string]string) (listRequest, error) {
	lr, err := h.svc.ParseListRequest(ctx, tx, actor, values)
	return listRequest{params: lr.Params, fields: lr.Fields, count: lr.Count}, err
}

// project keeps only the named fields of a customer (and its id).
func project(item customerResponse, fields []string) (map[string]json.RawMessage, error) {
	raw, err := json.Marshal(item)
	if err != nil {
		return nil, err
	}
	all := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{"id": all["id"]}
	for _, f := range fields {
		out[f] = all[f]
	}
	return out, nil
}

// ---- contacts ------------------------------------------------------------

type contactRequest struct {
	Name    patch.Field[string] `json:"name"`
	Role    patch.Field[string] `json:"role"`
	Email   patch.Field[string] `json:"email"`
	Phone   patch.Field[string] `json:"phone"`
	Primary patch.Field[bool]   `json:"primary"`
}

func (req contactRequest) toPatch() ContactPatch {
	return ContactPatch{Name: req.Name, Role: req.Role, Email: req.Email, Phone: req.Phone, IsPrimary: req.Primary}
}

type contactListResponse struct {
	Items []contactResponse `json:"items"`
}

func (h *Handler) listContacts(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		rows, err := h.svc.Contacts(ctx, tx, id)
		if err != nil {
			return err
		}
		resp := contactListResponse{Items: make([]contactResponse, 0, len(rows))}
		for _, r := range rows {
			resp.Items = append(resp.Items, toContactResponse(r))
		}
		return c.JSON(resp)
	}, database.ReadOnly)
}

func (h *Handler) createContact(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var req contactRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		env, err := h.svc.Env(ctx, tx)
		if err != nil {
			return err
		}
		row, err := h.svc.CreateContact(ctx, tx, env, id, req.toPatch())
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(row.Version))
		c.Set(fiber.HeaderLocation, "/v1/contacts/"+row.ID.String())
		return c.Status(fiber.StatusCreated).JSON(toContactResponse(row))
	})
}

func (h *Handler) getContact(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		row, err := h.svc.Contact(ctx, tx, id)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(row.Version))
		return c.JSON(toContactResponse(row))
	}, database.ReadOnly)
}

func (h *Handler) patchContact(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	want, err := httpapi.IfMatch(c)
	if err != nil {
		return err
	}
	var req contactRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		env, err := h.svc.Env(ctx, tx)
		if err != nil {
			return err
		}
		row, err := h.svc.UpdateContact(ctx, tx, env, id, want, req.toPatch())
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, httpapi.ETag(row.Version))
		return c.JSON(toContactResponse(row))
	})
}

func (h *Handler) deleteContact(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		if _, err := h.svc.DeleteContact(ctx, tx, id); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

// ---- saved views -----------------------------------------------------------

type viewRequest struct {
	Columns []string          `json:"columns"`
	Filters map[string]string `json:"filters"`
	Sort    string            `json:"sort"`
}

type viewResponse struct {
	Name      string            `json:"name"`
	Columns   []string          `json:"columns"`
	Filters   map[string]string `json:"filters"`
	Sort      string            `json:"sort"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

func toViewResponse(v dbsqlc.SavedView) viewResponse {
	cols := v.Columns
	if cols == nil {
		cols = []string{}
	}
	return viewResponse{Name: v.Name, Columns: cols, Filters: ViewFilters(v), Sort: v.Sort, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
}

type viewListResponse struct {
	Items []viewResponse `json:"items"`
}

func viewName(c *fiber.Ctx) string { return strings.Clone(c.Params("name")) }

func (h *Handler) listViews(c *fiber.Ctx) error {
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		vs, err := h.svc.Views(ctx, tx, actor)
		if err != nil {
			return err
		}
		resp := viewListResponse{Items: make([]viewResponse, 0, len(vs))}
		for _, v := range vs {
			resp.Items = append(resp.Items, toViewResponse(v))
		}
		return c.JSON(resp)
	}, database.ReadOnly)
}

func (h *Handler) getView(c *fiber.Ctx) error {
	name := viewName(c)
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		v, err := h.svc.View(ctx, tx, actor, name)
		if err != nil {
			return err
		}
		return c.JSON(toViewResponse(v))
	}, database.ReadOnly)
}

func (h *Handler) putView(c *fiber.Ctx) error {
	var req viewRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	v := SavedView{Name: viewName(c), Columns: req.Columns, Filters: req.Filters, Sort: req.Sort}
	if v.Filters == nil {
		v.Filters = map[string]string{}
	}
	if err := v.Validate(); err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		row, created, err := h.svc.PutView(ctx, tx, actor, v)
		if err != nil {
			return err
		}
		status := fiber.StatusOK
		if created {
			status = fiber.StatusCreated
		}
		return c.Status(status).JSON(toViewResponse(row))
	})
}

func (h *Handler) deleteView(c *fiber.Ctx) error {
	name := viewName(c)
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		if err := h.svc.DeleteView(ctx, tx, actor, name); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}
