package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/files"
	"github.com/customerhub/customerhub/internal/httpapi"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/xlsx"
)

// Handler serves /v1/imports.
type Handler struct {
	db   database.Beginner
	svc  *Service
	jobs *jobs.Service
}

// NewHandler returns a Handler.
func NewHandler(db database.Beginner, svc *Service, js *jobs.Service) *Handler {
	return &Handler{db: db, svc: svc, jobs: js}
}

// UploadPath is the route whose body is streamed (the server's body limit
// does not apply to it; the import's own does).
const UploadPath = "/v1/imports"

// Routes registers the import routes. GET /v1/imports/:id passes
// /v1/imports/template.xlsx and .csv (the template's routes) on to them.
func (h *Handler) Routes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: fiber.MethodPost, Path: "/imports", Permission: auth.PermCustomersImport, Tag: "imports",
		Summary: "Import customers (kind=customers) or customer item prices (kind=customer_prices) from an .xlsx or .csv file " +
			"(multipart/form-data: file, kind, mode = create|update|upsert, match_on = code|tax_number|email, dry_run, " +
			"all_or_nothing, mapping = {\"<header>\": \"<field>\"}, sheet); the format is recognised by content (415 otherwise); " +
			"the file is stored and imported by a background job",
		Request: uploadForm{}, RequestMedia: httpapi.MIMEMultipartForm,
		Status: fiber.StatusAccepted, Response: AcceptedResponse{}, StreamBody: true, Handler: h.create})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/imports", Permission: auth.PermCustomersImport, Tag: "imports",
		Summary: "Imports you can see (yours, or all if you see every customer), newest first",
		Query:   httpapi.PageParams, Response: ListResponse{}, Handler: h.list})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/imports/:id", Permission: auth.PermCustomersImport, Tag: "imports",
		Summary: "An import: state, counts, progress, unknown columns and a page of row errors (limit, cursor)",
		Query:   httpapi.PageParams, Response: View{}, Handler: h.get})
	r.Handle(httpapi.Route{Method: fiber.MethodGet, Path: "/imports/:id/errors.xlsx", Permission: auth.PermCustomersImport,
		Tag: "imports", Summary: "The rows that failed, exactly as uploaded, with an error column, as an xlsx workbook",
		Handler: h.errorsWorkbook})
}

// AcceptedResponse is the answer of POST /v1/imports.
type AcceptedResponse struct {
	Import View      `json:"import"`
	Job    jobs.View `json:"job"`
}

// ListResponse is a page of imports.
type ListResponse struct {
	Items      []View  `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func mapError(err error) error {
	if errors.Is(err, ErrNotFound) {
		return httpapi.NotFound("import")
	}
	return err
}

// UploadTimeout bounds reading and storing an upload, in place of the
// server's read timeout and request timeout (CUSTOMERHUB_REQUEST_TIMEOUT),
// which are sized for ordinary requests: 50 MB needs only 85 KB/s.
const UploadTimeout = 10 * time.Minute

// maxField bounds a form field other than the file.
const maxField = 64 << 10

// formFields are the form fields besides file (uploadForm's members).
var formFields = []string{"kind", "mode", "match_on", "dry_run", "all_or_nothing", "mapping", "sheet"}

// uploadForm describes POST /v1/imports's multipart body for the OpenAPI
// document; create reads the parts themselves, as a stream.
type uploadForm struct {
	File         string `json:"file"`
	Kind         string `json:"kind,omitempty"`
	Mode         string `json:"mode,omitempty"`
	MatchOn      string `json:"match_on,omitempty"`
	DryRun       bool   `json:"dry_run,omitempty"`
	AllOrNothing bool   `json:"all_or_nothing,omitempty"`
	Mapping      string `json:"mapping,omitempty"`
	Sheet        string `json:"sheet,omitempty"`
}

// OpenAPIFields documents the form's fields, with the choices parseParams
// accepts.
func (uploadForm) OpenAPIFields() map[string]httpapi.FieldDoc {
	return map[string]httpapi.FieldDoc{
		"file": {Schema: map[string]any{"type": "string", "contentMediaType": "application/octet-stream"},
			Description: "The spreadsheet: .xlsx or .csv, recognised by its content."},
		"kind":           {Enum: kinds, Description: "What the rows are; customers when absent."},
		"mode":           {Enum: modes, Description: "create (the default) adds rows, update changes matched ones, upsert does either."},
		"match_on":       {Enum: matches, Description: "The column an update or upsert matches existing customers on; code when absent."},
		"dry_run":        {Description: "Check every row and report, writing nothing."},
		"all_or_nothing": {Description: "Write nothing when any row fails."},
		"mapping":        {Description: `A JSON object from the file's column headers to fields, {"<header>": "<field>"}, for headers the import does not recognise.`},
		"sheet":          {Description: "The workbook's sheet to read; the first when absent."},
	}
}

// create reads the multipart body as a stream: the file part goes into the
// file store as it arrives (within the upload limit), so memory stays
// bounded whatever the file's size.
func (h *Handler) create(c *fiber.Ctx) error {
	mt, mp, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != fiber.MIMEMultipartForm || mp["boundary"] == "" {
		return httpapi.BadRequest("file", "multipart_required", "send multipart/form-data with the file in a part named file")
	}
	limit := h.svc.maxBytes()
	if cl := c.Request().Header.ContentLength(); cl > 0 && int64(cl) > limit+maxField*int64(len(formFields)+1) {
		return tooLarge(limit)
	}
	// An upload may take longer than an ordinary request: the connection
	// may read for UploadTimeout, and the request's work (storing the
	// file, queueing the job) gets as long.
	if conn := c.Context().Conn(); conn != nil {
		_ = conn.SetReadDeadline(time.Now().Add(UploadTimeout))
	}
	uctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), UploadTimeout)
	defer cancel()
	c.SetUserContext(uctx)
	body := c.Context().RequestBodyStream()
	if body == nil {
		body = bytes.NewReader(c.Body())
	}
	boundary := mp["boundary"]
	return mapError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
		mr := multipart.NewReader(body, boundary)
		values := map[string]string{}
		var stored *files.File
		var format xlsx.Format
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return httpapi.BadRequest("file", "invalid_multipart", "the multipart body could not be read: "+err.Error())
			}
			name := part.FormName()
			switch {
			case name == "file":
				if stored != nil {
					return httpapi.BadRequest("file", "duplicate", "send one file")
				}
				f, fm, err := h.store(ctx, tx, actor, part, limit)
				if err != nil {
					return err
				}
				stored, format = &f, fm
			case slices.Contains(formFields, name):
				if _, dup := values[name]; dup {
					return httpapi.BadRequest(name, "duplicate", "send it once")
				}
				b, err := io.ReadAll(io.LimitReader(part, maxField+1))
				if err != nil {
					return httpapi.BadRequest(name, "invalid_multipart", "could not be read")
				}
				if len(b) > maxField || !utf8.Valid(b) {
					return httpapi.BadRequest(name, "invalid", "must be UTF-8 text of at most 64 KiB")
				}
				values[name] = string(b)
			default:
				return httpapi.BadRequest(name, "unknown_field", "is not a field of an import; send "+strings.Join(append([]string{"file"}, formFields...), ", "))
			}
		}
		if stored == nil {
			return httpapi.BadRequest("file", "required", "send the spreadsheet in a part named file")
		}
		p, err := parseParams(values)
		if err != nil {
			return err
		}
		v, jv, err := h.svc.Create(ctx, tx, h.jobs, actor, NewImport{Params: p, Format: format.String(), FileName: stored.Name, FileID: stored.ID})
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderLocation, "/v1/imports/"+v.ID.String())
		return c.Status(fiber.StatusAccepted).JSON(AcceptedResponse{Import: v, Job: jv})
	}))
}

func tooLarge(limit int64) error {
	return &httpapi.Error{Status: fiber.StatusRequestEntityTooLarge, Code: "file_too_large",
		Message: fmt.Sprintf("the file is larger than the import limit of %d bytes", limit),
		Extra:   map[string]any{"limit": limit}}
}

// store recognises the file's format from its first bytes (415 naming a
// refused one, before anything is kept) and streams it into the file store.
func (h *Handler) store(ctx context.Context, tx database.Tx, actor *tenant.Principal, part *multipart.Part, limit int64) (files.File, xlsx.Format, error) {
	br := bufio.NewReaderSize(part, xlsx.DetectSize)
	head, err := br.Peek(xlsx.DetectSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return files.File{}, 0, httpapi.BadRequest("file", "invalid_multipart", "the file could not be read: "+err.Error())
	}
	format, err := xlsx.Detect(head)
	if err != nil {
		var fe *xlsx.FormatError
		if errors.As(err, &fe) {
			return files.File{}, 0, &httpapi.Error{Status: fiber.StatusUnsupportedMediaType, Code: "unsupported_format",
				Message: fe.Error(), Extra: map[string]any{"format": fe.Format}}
		}
		return files.File{}, 0, err
	}
	name := part.FileName()
	if name == "" {
		name = "upload." + format.String()
	}
	uid := actor.UserID
	f, err := files.Save(ctx, tx, files.New{Purpose: "import", Name: truncate(name, 255), ContentType: format.ContentType(),
		CreatedBy: &uid, ExpiresAt: h.expiry()}, br, limit)
	var tl *files.TooLargeError
	if errors.As(err, &tl) {
		return files.File{}, 0, tooLarge(limit)
	}
	return f, format, err
}

func (h *Handler) expiry() time.Time { return time.Now().Add(h.svc.retention()) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// parseParams checks the form fields, naming each bad one.
func parseParams(values map[string]string) (Params, error) {
	p := Params{Kind: KindCustomers, Mode: ModeCreate, MatchOn: MatchCode}
	choice := func(name string, dst *string, allowed []string) error {
		if v, ok := values[name]; ok {
			v = strings.TrimSpace(v)
			if !slices.Contains(allowed, v) {
				return httpapi.BadRequest(name, "invalid_choice", "must be one of "+strings.Join(allowed, ", "))
			}
			*dst = v
		}
		return nil
	}
	boolean := func(name string, dst *bool) error {
		if v, ok := values[name]; ok {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return httpapi.BadRequest(name, "invalid_boolean", "must be true or false")
			}
			*dst = b
		}
		return nil
	}
	for _, err := range []error{
		choice("kind", &p.Kind, kinds), choice("mode", &p.Mode, modes), choice("match_on", &p.MatchOn, matches),
		boolean("dry_run", &p.DryRun), boolean("all_or_nothing", &p.AllOrNothing),
	} {
		if err != nil {
			return Params{}, err
		}
	}
	if v, ok := values["sheet"]; ok && strings.TrimSpace(v) != "" {
		s := strings.TrimSpace(v)
		p.Sheet = &s
	}
	if v, ok := values["mapping"]; ok && strings.TrimSpace(v) != "" {
		dec := json.NewDecoder(strings.NewReader(v))
		var m map[string]string
		if err := dec.Decode(&m); err != nil || dec.More() {
			return Params{}, httpapi.BadRequest("mapping", "invalid_json", `must be a JSON object of strings: {"<header>": "<field>"}`)
		}
		if len(m) > 500 {
			return Params{}, httpapi.BadRequest("mapping", "too_many", "maps at most 500 headers")
		}
		p.Mapping = m
	}
	return p, nil
}

func (h *Handler) list(c *fiber.Ctx) error {
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	var after ListCursor
	has, err := httpapi.DecodeCursor(c, &after)
	if err != nil {
		return err
	}
	return mapError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		var ap *ListCursor
		if has {
			ap = &after
		}
		views, err := h.svc.List(ctx, tx, h.jobs, ap, limit+1)
		if err != nil {
			return err
		}
		var resp ListResponse
		resp.Items, resp.NextCursor = httpapi.NextPage(views, limit, func(last View) any {
			return ListCursor{CreatedAt: last.CreatedAt, ID: last.ID}
		})
		return c.JSON(resp)
	}, database.ReadOnly))
}

func (h *Handler) get(c *fiber.Ctx) error {
	if strings.HasPrefix(c.Params("id"), "template.") {
		// GET /v1/imports/template.xlsx (and .csv) is the template's
		// route, whichever was registered first.
		return c.Next()
	}
	id, err := httpapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	limit, err := httpapi.Limit(c)
	if err != nil {
		return err
	}
	var after ErrorCursor
	if _, err := httpapi.DecodeCursor(c, &after); err != nil {
		return err
	}
	return mapError(httpapi.Tx(c, h.db, func(ctx context.Context, tx database.Tx, _ *tenant.Principal) error {
		v, next, err := h.svc.Get(ctx, tx, h.jobs, id, after, limit)
		if err != nil {
			return err
		}
		if next != nil {
			s := httpapi.EncodeCursor(*next)
			v.ErrorsNextCursor = &s
		}
		return c.JSON(v)
	}, database.ReadOnly))
}
