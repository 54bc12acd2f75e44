package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/files"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/xlsx"
)

// ExportStreamTimeout bounds an export answered at once (at most
// CUSTOMERHUB_EXPORT_SYNC_MAX customers); larger ones are jobs.
const ExportStreamTimeout = 15 * time.Minute

// ExportHandler serves exports, the results of jobs and the import
// templates.
type ExportHandler struct {
	db       database.Beginner
	exporter *Exporter
	jobs     *jobs.Service
	kinds    jobs.Kinds
	logger   *slog.Logger
	// SyncMax is the most customers an export answers at once
	// (CUSTOMERHUB_EXPORT_SYNC_MAX).
	SyncMax int
	// WriteTimeout bounds each write of a streamed answer (the server's
	// write timeout, renewed for every chunk).
	WriteTimeout time.Duration
}

// NewExportHandler returns an ExportHandler; kinds maps job kinds to the
// permission that reads their results.
func NewExportHandler(db database.Beginner, exporter *Exporter, js *jobs.Service, kinds jobs.Kinds, logger *slog.Logger) *ExportHandler {
	return &ExportHandler{db: db, exporter: exporter, jobs: js, kinds: kinds, logger: logger}
}

// exportOwnParams are the parameters of an export beyond the list's.
var exportOwnParams = []httpapi.Param{
	{Name: "format", Description: "xlsx (default) or csv"},
	{Name: "fields", Description: "comma-separated template headers to export, in order (default: every column of the import template, so the file re-imports as it is)"},
	{Name: "include", Description: "locations: one row per location of each customer, with location_* columns"},
}

// exportQuery is every query parameter GET /v1/customers/export accepts:
// the list's filters, sort and view, and its own.
func exportQuery() []httpapi.Param {
	var out []httpapi.Param
	for _, p := range customer.ListQuery() {
		switch p.Name {
		case "fields", "count", "limit", "cursor":
			continue
		}
		out = append(out, p)
	}
	return append(out, exportOwnParams...)
}

// Routes registers the routes. They are fixed paths, registered before
// /customers/:id and /imports/:id take them.
func (h *ExportHandler) Routes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/customers/export", Permission: auth.PermCustomersExport, Tag: "customers",
		Summary: "Export the customers you can see, with the list's filters and sort, as xlsx or csv (attachment). " +
			"Up to CUSTOMERHUB_EXPORT_SYNC_MAX customers the file is the answer, streamed from one consistent snapshot; " +
			"beyond it the answer is 202 with a customer_export job whose file is downloaded from GET /v1/jobs/{id}/result",
		Produces: []string{xlsx.FormatXLSX.ContentType(), "text/csv"}, Query: exportQuery(), Handler: h.export})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/jobs/:id/result", Permission: httpapi.Authenticated, Tag: "jobs",
		Summary: "Download the file a job made (an export): 404 until the job has succeeded, 410 once the file has expired. " +
			"Visible as GET /v1/jobs/{id} is, and needs the permission of the job's kind",
		Produces: []string{"application/octet-stream"}, Handler: h.result})
	for _, f := range []xlsx.Format{xlsx.FormatXLSX, xlsx.FormatCSV} {
		media, lists := f.ContentType(), ", and drop-down lists on the coded columns"
		if f == xlsx.FormatCSV {
			media, lists = "text/csv", ""
		}
		r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/imports/template." + f.String(), Permission: auth.PermCustomersImport,
			Tag: "imports", Summary: "This tenant's import template as " + f.String() + ": the headers of every column " +
				"(custom fields and group categories included, required ones marked with *), an example row" + lists,
			Produces: []string{media}, Handler: h.template(f)})
	}
}

// template answers the import template in format f; it is small (one
// example row), so it is written whole before it is sent.
func (h *ExportHandler) template(f xlsx.Format) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var buf bytes.Buffer
		err := httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
			buf.Reset() // a read-only transaction may run twice
			env, err := h.exporter.Customers.Env(ctx, tx)
			if err != nil {
				return err
			}
			t, err := LoadTenant(ctx, tx, env)
			if err != nil {
				return err
			}
			return WriteTemplate(&buf, f, t)
		}, database.ReadOnly)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, f.ContentType())
		c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": TemplateName(f)}))
		return c.Send(buf.Bytes())
	}
}

func (h *ExportHandler) export(c *fiber.Ctx) error {
	req := ExportRequest{Query: map[string]string{}}
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		switch name, value := string(k), string(v); name {
		case "format":
			req.Format = value
		case "fields":
			req.Fields = splitList(value)
		case "include":
			req.Include = splitList(value)
		default:
			req.Query[name] = value
		}
	})
	var plan ExportPlan
	async := false
	err := httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		var err error
		if plan, err = h.exporter.Plan(ctx, tx, actor, req); err != nil {
			return err
		}
		limit := int64(h.SyncMax)
		if plan.Format == xlsx.FormatXLSX {
			limit = max(limit, xlsxMaxRows)
		}
		n, err := h.exporter.Count(ctx, tx, actor, plan, limit+1)
		if err != nil {
			return err
		}
		if plan.Format == xlsx.FormatXLSX && n > xlsxMaxRows {
			return &httpapi.Error{Status: fiber.StatusUnprocessableEntity, Code: "too_many_rows",
				Message: fmt.Sprintf("more than %d customers do not fit one xlsx sheet; export them as csv", xlsxMaxRows)}
		}
		if n <= int64(h.SyncMax) {
			return nil
		}
		async = true
		v, err := h.jobs.Enqueue(ctx, tx, actor, req, nil, func(ref jobs.Ref) jobs.Args { return ExportArgs{Ref: ref} })
		if err != nil {
			return err
		}
		return jobs.Accepted(c, v)
	}, database.CustomPlans)
	if err != nil || async {
		return err
	}

	p := tenant.MustFromContext(c.UserContext())
	scope := database.ScopeFor(p)
	// The request's own context ends with the handler; the stream keeps
	// its values only, under a deadline of its own.
	ctx := context.WithoutCancel(c.UserContext())
	stop := c.Context().Done()
	conn := c.Context().Conn()
	c.Set(fiber.HeaderContentType, plan.Format.ContentType())
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": plan.FileName(time.Now())}))
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(ctx, ExportStreamTimeout)
		defer cancel()
		go func() {
			select {
			case <-stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		out := &deadlineWriter{w: w, conn: conn, timeout: h.WriteTimeout}
		err := h.stream(ctx, scope, p, plan, out)
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			// The status line has gone; closing the connection mid-body is
			// how the client learns that the file is incomplete (a chunked
			// body without its last chunk), never a short file that looks
			// whole.
			h.logger.ErrorContext(ctx, "export stream failed", "error", err)
			if conn != nil {
				_ = conn.Close()
			}
		}
	})
	return nil
}

// stream writes the whole export in one REPEATABLE READ read-only
// transaction (Exporter.Stream: one statement, or pages for
// include=locations, from the same snapshot).
func (h *ExportHandler) stream(ctx context.Context, scope database.Scope, actor *tenant.Principal, plan ExportPlan, out *deadlineWriter) error {
	return database.WithTenantTx(ctx, h.db, scope, func(ctx context.Context, tx database.Tx) error {
		if out.written > 0 {
			// A read-only transaction is retried once when the database
			// went away; the file has begun and cannot start again.
			return errors.New("export interrupted after it began")
		}
		run, err := h.exporter.Start(plan, out)
		if err != nil {
			return err
		}
		if err := h.exporter.Stream(ctx, tx, actor, run, 0, ExportStreamTimeout); err != nil {
			run.Abort()
			return err
		}
		return run.Close()
	}, database.ReadOnly, database.RepeatableRead, database.CustomPlans)
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// result streams the file of a finished job from the file store, chunk by
// chunk, each read in a short transaction of its own.
func (h *ExportHandler) result(c *fiber.Ctx) error {
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var f files.File
	err = httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		v, err := h.jobs.Get(ctx, tx, id)
		if errors.Is(err, jobs.ErrNotFound) {
			return httpapi.NotFound("job")
		}
		if err != nil {
			return err
		}
		if perm, ok := h.kinds[v.Kind]; !ok || !actor.Can(perm) {
			return httpapi.Forbidden("your role lacks the permission " + perm + " this job's result needs")
		}
		var res struct {
			File *ResultFile `json:"file"`
		}
		if v.State != jobs.StateSucceeded || json.Unmarshal(v.Result, &res) != nil || res.File == nil {
			return &httpapi.Error{Status: fiber.StatusNotFound, Code: "result_not_ready",
				Message: "this job has no file to download (yet): its state is " + v.State}
		}
		f, err = files.Get(ctx, tx, res.File.ID)
		if errors.Is(err, files.ErrNotFound) || err == nil && !f.ExpiresAt.After(time.Now()) {
			return &httpapi.Error{Status: fiber.StatusGone, Code: "result_expired",
				Message: "this job's file has expired; run it again"}
		}
		return err
	}, database.ReadOnly)
	if err != nil {
		return err
	}
	scope := database.ScopeFor(tenant.MustFromContext(c.UserContext()))
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), ExportStreamTimeout)
	r, err := files.OpenEach(ctx, h.db, scope, f.ID)
	if err != nil {
		cancel()
		return err
	}
	c.Set(fiber.HeaderContentType, f.ContentType)
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	c.Context().SetBodyStream(&deadlineReader{r: r, conn: c.Context().Conn(), timeout: h.WriteTimeout, done: cancel}, int(f.Size))
	return nil
}

// deadlineWriter renews the connection's write deadline as a streamed
// answer is written, so that the server's write timeout bounds each write
// rather than the whole answer, and counts what was written.
type deadlineWriter struct {
	w       io.Writer
	conn    net.Conn
	timeout time.Duration
	renewed time.Time
	written int64
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if d.conn != nil && d.timeout > 0 && time.Since(d.renewed) > time.Second {
		d.renewed = time.Now()
		_ = d.conn.SetWriteDeadline(d.renewed.Add(d.timeout))
	}
	n, err := d.w.Write(p)
	d.written += int64(n)
	return n, err
}

// deadlineReader is deadlineWriter for a body the server reads from; done
// runs at its end.
type deadlineReader struct {
	r       io.Reader
	conn    net.Conn
	timeout time.Duration
	renewed time.Time
	done    func()
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	if d.conn != nil && d.timeout > 0 && time.Since(d.renewed) > time.Second {
		d.renewed = time.Now()
		_ = d.conn.SetWriteDeadline(d.renewed.Add(d.timeout))
	}
	return d.r.Read(p)
}

// Close implements io.Closer: fasthttp closes a body stream when it is done
// with it.
func (d *deadlineReader) Close() error {
	d.done()
	return nil
}
