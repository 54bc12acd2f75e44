package audit

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/tenant"
)

// Handler serves GET /v1/audit.
type Handler struct {
	db database.Beginner
	q  *dbsqlc.Queries
	// readPermission is the permission each entity's trail needs (the
	// events are further limited to the customers the caller can see).
	// Given by the caller, as the domains that own the permissions also
	// record events here.
	readPermission map[string]string
}

// NewHandler returns a Handler; readPermission maps each audited entity to
// the permission that reads its trail.
func NewHandler(db database.Beginner, readPermission map[string]string) *Handler {
	return &Handler{db: db, q: dbsqlc.New(), readPermission: readPermission}
}

// Routes registers the route.
func (h *Handler) Routes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/audit", Permission: httpapi.Authenticated, Tag: "audit",
		Summary:  "An object's audit trail, newest first (needs the permission that reads that kind of object; only events of customers you can see)",
		Response: eventListResponse{}, Query: append([]httpapi.Param{
			{Name: "entity", Description: strings.Join(h.entities(), ", ")},
			{Name: "id", Description: "the object's id"},
		}, httpapi.PageParams...), Handler: h.list})
}

// entities lists the audited kinds of object, sorted.
func (h *Handler) entities() []string {
	out := make([]string, 0, len(h.readPermission))
	for e := range h.readPermission {
		out = append(out, e)
	}
	slices.Sort(out)
	return out
}

type eventResponse struct {
	ID        uuid.UUID         `json:"id"`
	At        time.Time         `json:"at"`
	ActorID   *uuid.UUID        `json:"actor_id"`
	Action    string            `json:"action"`
	Entity    string            `json:"entity"`
	EntityID  uuid.UUID         `json:"entity_id"`
	Changes   map[string]Change `json:"changes"`
	RequestID *string           `json:"request_id"`
}

type eventListResponse struct {
	Items      []eventResponse `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

type cursor struct {
	At time.Time `json:"at"`
	ID uuid.UUID `json:"i"`
}

func (h *Handler) list(c *fiber.Ctx) error {
	entity := string([]byte(c.Query("entity")))
	perm, known := h.readPermission[entity]
	if !known {
		return httpapi.BadRequest("entity", "unknown_entity", "must name a kind of object that is audited")
	}
	id, err := httpapi.QueryUUID(c, "id")
	if err != nil {
		return err
	}
	if id == nil {
		return httpapi.BadRequest("id", "required", "the object's id is required")
	}
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	var after cursor
	hasCursor, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return err
	}
	return httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, p *tenant.Principal) error {
		if !p.Can(perm) {
			return httpapi.Forbidden("your role lacks the permission " + perm)
		}
		// The events come through audit_trail: those of the tenant's own
		// objects, and of the customers the reader sees (all of them for
		// who sees every customer): a sales rep never reads another rep's
		// order, nor a portal user another customer's payments.
		subject, err := h.q.AuditSubject(ctx, tx, dbsqlc.AuditSubjectParams{Entity: entity, TenantID: tx.TenantID(), EntityID: *id})
		if err != nil {
			return err
		}
		params := dbsqlc.AuditListParams{TenantID: tx.TenantID(), Entity: entity, EntityID: *id, RowLimit: limit + 1}
		if hasCursor {
			params.BeforeAt, params.BeforeID = &after.At, &after.ID
		}
		rows, err := h.q.AuditList(ctx, tx, params)
		if err != nil {
			return err
		}
		// An object of a customer the reader cannot see does not exist for
		// them, nor does its trail; nor does one that never existed.
		if subject.CustomerScoped && !subject.Visible && len(rows) == 0 && !hasCursor {
			return httpapi.NotFound(entity)
		}
		resp := eventListResponse{Items: make([]eventResponse, 0, len(rows))}
		if len(rows) > int(limit) {
			rows = rows[:limit]
			last := rows[len(rows)-1]
			next := httpapi.EncodeCursor(cursor{At: last.At, ID: last.ID})
			resp.NextCursor = &next
		}
		for _, r := range rows {
			ev := eventResponse{ID: r.ID, At: r.At, ActorID: r.ActorID, Action: r.Action, Entity: r.Entity,
				EntityID: r.EntityID, RequestID: r.RequestID, Changes: map[string]Change{}}
			if err := json.Unmarshal(r.Changes, &ev.Changes); err != nil {
				return err
			}
			resp.Items = append(resp.Items, ev)
		}
		return c.JSON(resp)
	}, database.ReadOnly, database.CustomPlans)
}
