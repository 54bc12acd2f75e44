package jobs

import (
	"bufio"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/tenant"
)

// Handler serves /v1/jobs.
type Handler struct {
	db  database.Beginner
	svc *Service
	// Events shapes the event streams of GET /v1/jobs/{id}/events.
	Events EventOptions
}

// NewHandler returns a Handler.
func NewHandler(db database.Beginner, svc *Service) *Handler {
	return &Handler{db: db, svc: svc}
}

// Routes registers the job routes. Every user may follow the jobs they
// started; users who see every customer see every job of the tenant.
func (h *Handler) Routes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/jobs", Permission: httpapi.Authenticated, Tag: "jobs",
		Summary: "Background jobs you can see, newest first", Response: ListResponse{},
		Query: append([]httpapi.Param{
			{Name: "kind", Description: "only jobs of this kind"},
			{Name: "state", Description: "queued, running, succeeded, failed or cancelled"},
			{Name: "created_by", Description: "only jobs started by this user"},
		}, httpapi.PageParams...), Handler: h.list})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/jobs/:id", Permission: httpapi.Authenticated, Tag: "jobs",
		Summary: "A job: state, progress, result and errors", Response: View{}, Handler: h.get})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/jobs/:id/events", Permission: httpapi.Authenticated, Tag: "jobs",
		Summary: "A job's progress as server-sent events (text/event-stream): `progress` events " +
			"(data {processed, total, state}) at once and whenever they change, comment lines as heartbeats, " +
			"then exactly one `finished` event whose data is the job as GET /v1/jobs/{id} shows it, and the stream ends. " +
			"Visible exactly when GET /v1/jobs/{id} is (404 otherwise); a stream still open after an hour ends " +
			"without `finished`, and the client reconnects",
		Produces: []string{httpapi.ContentTypeEventStream}, Handler: h.events})
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/jobs/:id/cancel", Permission: httpapi.Authenticated, Tag: "jobs",
		Summary: "Cancel a job; a running job stops after its current batch (finished batches stay done). " +
			"Needs the permission of the job's kind (customers:write for bulk updates, customers:merge for merges), " +
			"and the job must be yours unless you see every customer",
		Response: View{}, Handler: h.cancel})
}

// Accepted answers 202 with the job and its Location, the answer of every
// request that starts a job.
func Accepted(c *fiber.Ctx, v View) error {
	c.Set(fiber.HeaderLocation, "/v1/jobs/"+v.ID.String())
	return c.Status(fiber.StatusAccepted).JSON(AcceptedResponse{Job: v})
}

// AcceptedResponse is the body of a 202.
type AcceptedResponse struct {
	Job View `json:"job"`
}

// ListResponse is a page of jobs.
type ListResponse struct {
	Items      []View  `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func mapError(err error) error {
	var forbidden *ForbiddenError
	switch {
	case errors.As(err, &forbidden):
		return httpapi.Forbidden(forbidden.Error())
	case errors.Is(err, ErrNotFound):
		return httpapi.NotFound("job")
	case errors.Is(err, ErrFinished):
		return httpapi.Conflict("", "job_finished", "the job has already finished")
	}
	return err
}

func (h *Handler) list(c *fiber.Ctx) error {
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	lp := ListParams{Limit: limit + 1}
	if lp.Kind, err = httpapi.QueryText(c, "kind", 64); err != nil {
		return err
	}
	if lp.State, err = httpapi.QueryText(c, "state", 16); err != nil {
		return err
	}
	if lp.State != nil && !slices.Contains(States, *lp.State) {
		return httpapi.BadRequest("state", "invalid_choice", "must be one of queued, running, succeeded, failed, cancelled")
	}
	if lp.CreatedBy, err = httpapi.QueryUUID(c, "created_by"); err != nil {
		return err
	}
	var after Cursor
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return err
	}
	if has {
		lp.After = &after
	}
	return mapError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		views, err := h.svc.List(ctx, tx, lp)
		if err != nil {
			return err
		}
		var resp ListResponse
		resp.Items, resp.NextCursor = httpapi.NextPage(views, limit, func(last View) any {
			return Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
		})
		return c.JSON(resp)
	}, database.ReadOnly))
}

func (h *Handler) get(c *fiber.Ctx) error {
	return h.one(c, func(ctx context.Context, tx database.Tx, _ *tenant.Principal, id uuid.UUID) (View, error) {
		return h.svc.Get(ctx, tx, id)
	}, database.ReadOnly)
}

// events streams a job's progress. The job is read once in the request's
// own transaction, so that a job the caller cannot see is a 404 before
// anything is streamed; the stream then polls it in the caller's scope,
// each read in a short transaction of its own. Fiber runs the stream
// writer after the handler has returned, so everything it needs is copied
// out of the request first.
func (h *Handler) events(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var first View
	err = mapError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		first, err = h.svc.Get(ctx, tx, id)
		return err
	}, database.ReadOnly))
	if err != nil {
		return err
	}
	p := tenant.MustFromContext(c.UserContext())
	scope := database.ScopeFor(p)
	// The request's context is cancelled when the handler returns (its
	// deadline); the stream keeps only its values.
	ctx := context.WithoutCancel(c.UserContext())
	opts := h.Events
	conn := c.Context().Conn()
	stream := EventStream{
		Poll: func(ctx context.Context) (View, error) {
			return database.WithTenantTxV(ctx, h.db, scope, func(ctx context.Context, tx database.Tx) (View, error) {
				return h.svc.Get(ctx, tx, id)
			}, database.ReadOnly)
		},
		Stop:    c.Context().Done(),
		Options: opts,
		Logger:  h.svc.logger,
	}
	if opts.WriteTimeout > 0 && conn != nil {
		// The server sets its write deadline once per response; a stream
		// renews it before every event, so that it bounds each write, not
		// the whole stream.
		stream.BeforeWrite = func() { _ = conn.SetWriteDeadline(time.Now().Add(opts.WriteTimeout)) }
	}
	c.Set(fiber.HeaderContentType, httpapi.ContentTypeEventStream)
	c.Set(fiber.HeaderCacheControl, "no-store")
	// Proxies that buffer responses (nginx) pass this one through at once.
	c.Set("X-Accel-Buffering", "no")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		err := stream.Run(ctx, w, first)
		if err != nil && !errors.Is(err, ErrStreamClientGone) && !errors.Is(err, ErrStreamStopped) {
			h.svc.logger.InfoContext(ctx, "job events: stream ended", "job_id", id, "reason", err)
		}
	})
	return nil
}

func (h *Handler) cancel(c *fiber.Ctx) error {
	return h.one(c, h.svc.Cancel)
}

func (h *Handler) one(c *fiber.Ctx, fn func(ctx context.Context, tx database.Tx, actor *tenant.Principal, id uuid.UUID) (View, error), opts ...database.TxOption) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return mapError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		v, err := fn(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		return c.JSON(v)
	}, opts...))
}
