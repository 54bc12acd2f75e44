package server_test

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/twiliostandin"
)

// importMaxBytes is the import limit of the bad-input app: small, so that
// a file just over it is cheap to send.
const importMaxBytes = 1 << 10

// formPart is one part of a multipart body: a form field, or a file when
// fileName is set.
type formPart struct {
	name, fileName, content string
}

// multipartBody builds a multipart/form-data body of parts and returns it
// with its Content-Type.
func multipartBody(t *testing.T, parts ...formPart) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.fileName != "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.fileName))
			h.Set("Content-Type", "application/octet-stream")
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.name))
		}
		w, err := mw.CreatePart(h)
		require.NoError(t, err)
		_, err = w.Write([]byte(p.content))
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return buf.Bytes(), mw.FormDataContentType()
}

// zipOf is a zip archive of name, content pairs, in order, each entry
// stored uncompressed as ODF writers store their mimetype (a spreadsheet's
// kind is told from its first entries) or deflated.
func zipOf(t *testing.T, method uint16, entries ...string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(entries); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: entries[i], Method: method})
		require.NoError(t, err)
		_, err = w.Write([]byte(entries[i+1]))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.String()
}

// TestBadInputNewRoutes sends malformed, hostile and oversized requests at
// the routes of imports, exports, jobs, bulk updates, dormant sweeps,
// merges, SMS and the Twilio webhooks: each gets a 4xx problem+json with a
// stable code naming the field at fault, never a 5xx, and no row of either
// tenant changes (customers, imports, stored files, jobs, SMS templates,
// campaigns, messages, opt-outs: every table with a tenant_id).
//
// Left out, because they are not refused by the request: an import whose
// file is readable but cannot be imported (a header-only CSV, a mapping
// naming an unknown column or mapping one twice, a NUL inside a CSV
// cell) is accepted with 202, and its job refuses the file, naming the
// column (internal/importer's tests cover those).
func TestBadInputNewRoutes(t *testing.T) {
	t.Parallel()
	key := make([]byte, 32)
	_, err := rand.Read(key)
	require.NoError(t, err)
	app := apptest.New(t, dbtest.Shared(t), map[string]string{
		"CUSTOMERHUB_IMPORT_MAX_BYTES": fmt.Sprint(importMaxBytes),
		"CUSTOMERHUB_SECRET_KEY":       base64.StdEncoding.EncodeToString(key),
		"CUSTOMERHUB_PUBLIC_BASE_URL":  matrixPublicBase,
		"CUSTOMERHUB_TWILIO_API_URL":   "http://127.0.0.1:1",
	})
	tn, other := app.Signup(t), app.Signup(t)
	admin := tn.AdminToken
	for _, x := range []apptest.Tenant{tn, other} {
		resp := app.Patch(t, "/v1/sms/settings", x.AdminToken, `"1"`, map[string]any{
			"account_sid": matrixAccount, "auth_token": matrixAuthToken, "from_number": "+14155550100"})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	}
	custID := app.CreateCustomer(t, admin, map[string]any{"name": "Bad Input Target", "phone": "+14155550111"})["id"].(string)
	dupID := app.CreateCustomer(t, admin, map[string]any{"name": "Bad Input Twin"})["id"].(string)
	tmpl := app.Post(t, "/v1/sms/templates", admin, map[string]any{"name": "Reminder", "body": "Hi {name}, you owe {balance}"})
	require.Equal(t, http.StatusCreated, tmpl.Status, "%s", tmpl.Body)
	tmplID := tmpl.Map(t)["id"].(string)
	otherTmpl := app.Post(t, "/v1/sms/templates", other.AdminToken, map[string]any{"name": "Theirs", "body": "Hi {name}"})
	require.Equal(t, http.StatusCreated, otherTmpl.Status, "%s", otherTmpl.Body)
	otherTmplID := otherTmpl.Map(t)["id"].(string)
	job := app.Post(t, "/v1/customers/bulk-update", admin, map[string]any{
		"selection": map[string]any{"ids": []string{custID}}, "set": map[string]any{"billing_status": "current"}})
	jobID := apptest.JobID(t, job)
	settings := app.Get(t, "/v1/sms/settings", admin)
	require.Equal(t, http.StatusOK, settings.Status, "%s", settings.Body)
	settingsTag := settings.Header.Get("ETag")

	before := map[string]tenantSnapshot{tn.ID: snapshotTenant(t, app, tn.ID), other.ID: snapshotTenant(t, app, other.ID)}
	var total atomic.Int64
	run := func(t *testing.T, def problemCase, cases []problemCase) {
		t.Helper()
		total.Add(int64(len(cases)))
		runCases(t, app, def, cases)
	}
	missing, random := uuid.NewString(), uuid.NewString()

	t.Run("Cases", func(t *testing.T) {
		t.Run("ImportUpload", func(t *testing.T) {
			t.Parallel()
			csv := "code,name\nBAD1,Bad Import\n"
			form := func(parts ...formPart) ([]byte, map[string]string) {
				body, ct := multipartBody(t, parts...)
				return body, map[string]string{"Content-Type": ct}
			}
			file := func(content string) formPart {
				return formPart{name: "file", fileName: "customers.csv", content: content}
			}
			field := func(name, value string) formPart { return formPart{name: name, content: value} }
			upload := func(name string, status int, code, fld, fldCode string, parts ...formPart) problemCase {
				body, headers := form(parts...)
				return problemCase{name: name, body: body, headers: headers, status: status, code: code, field: fld, fieldCode: fldCode}
			}
			valid, validHeaders := form(file(csv))
			boundaryOf := strings.TrimPrefix(validHeaders["Content-Type"], "multipart/form-data; boundary=")
			truncated := valid[:len(valid)-len("--\r\n")-len(boundaryOf)-2]
			bad := func(fld, fldCode string) (int, string, string, string) { return 400, "invalid_request", fld, fldCode }
			cases := []problemCase{
				{name: "JSONContentType", body: csv, status: 400, code: "invalid_request", field: "file", fieldCode: "multipart_required"},
				{name: "TextPlain", body: csv, headers: map[string]string{"Content-Type": "text/csv"}, status: 400, code: "invalid_request", field: "file", fieldCode: "multipart_required"},
				{name: "NoBoundary", body: valid, headers: map[string]string{"Content-Type": "multipart/form-data"}, status: 400, code: "invalid_request", field: "file", fieldCode: "multipart_required"},
				{name: "EmptyBoundary", body: valid, headers: map[string]string{"Content-Type": "multipart/form-data; boundary="}, status: 400, code: "invalid_request", field: "file", fieldCode: "multipart_required"},
				{name: "MixedNotFormData", body: valid, headers: map[string]string{"Content-Type": "multipart/mixed; boundary=" + boundaryOf}, status: 400, code: "invalid_request", field: "file", fieldCode: "multipart_required"},
				{name: "BoundaryMismatch", body: valid, headers: map[string]string{"Content-Type": "multipart/form-data; boundary=not-the-one"}, status: 400, code: "invalid_request", field: "file", fieldCode: "required"},
				{name: "Truncated", body: truncated, headers: validHeaders, status: 400, code: "invalid_request", field: "file", fieldCode: "invalid_multipart"},
				{name: "EmptyBody", body: "", headers: validHeaders, status: 400, code: "invalid_request", field: "file", fieldCode: "required"},
				upload("TwoFileParts", 400, "invalid_request", "file", "duplicate", file(csv), file(csv)),
				upload("FilePartMissing", 400, "invalid_request", "file", "required", field("mode", "create")),
				upload("FileAsPlainField", 400, "invalid_request", "file", "required", field("mode", "create"), formPart{name: "mapping", content: "{}"}),
				upload("EmptyFile", 415, "unsupported_format", "", "", file("")),
				upload("JustOverLimit", 413, "file_too_large", "", "", file("code,name\n"+strings.Repeat("X", importMaxBytes))),
				upload("XLS", 415, "unsupported_format", "", "", file("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"+strings.Repeat("\x00", 504))),
				upload("ODS", 415, "unsupported_format", "", "", file(zipOf(t, zip.Store, "mimetype", "application/vnd.oasis.opendocument.spreadsheet", "content.xml", "<x/>"))),
				upload("Numbers", 415, "unsupported_format", "", "", file(zipOf(t, zip.Deflate, "Index/Document.iwa", "\x00\x01", "Metadata/Properties.plist", "x"))),
				// A zip bomb: 8 MiB of zeros in a workbook part. Its compressed
				// size is over the limit; one under it is recognised as xlsx
				// from its head and left to the job, which bounds what it
				// inflates.
				upload("ZipBombOverLimit", 413, "file_too_large", "", "", file(zipOf(t, zip.Deflate, "xl/worksheets/sheet1.xml", strings.Repeat("0", 8<<20)))),
				upload("EmptyZip", 415, "unsupported_format", "", "", file(zipOf(t, zip.Deflate))),
				upload("PNG", 415, "unsupported_format", "", "", file("\x89PNG\r\n\x1a\n"+strings.Repeat("\x00", 64))),
				upload("PDF", 415, "unsupported_format", "", "", file("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")),
				upload("NULInCSV", 415, "unsupported_format", "", "", file("code,name\nBAD\x00,Nul\n")),
			}
			for _, c := range []struct {
				name, field, value, fieldCode string
			}{
				{"UnknownMode", "mode", "replace", "invalid_choice"},
				{"UnknownMatchOn", "match_on", "phone", "invalid_choice"},
				{"UnknownKind", "kind", "orders", "invalid_choice"},
				{"DryRunNotBool", "dry_run", "maybe", "invalid_boolean"},
				{"AllOrNothingNotBool", "all_or_nothing", "2", "invalid_boolean"},
				{"MappingNotJSON", "mapping", "code=name", "invalid_json"},
				{"MappingArray", "mapping", `["code"]`, "invalid_json"},
				{"MappingNumberValue", "mapping", `{"Code": 1}`, "invalid_json"},
				{"MappingTrailing", "mapping", `{"Code": "code"} {}`, "invalid_json"},
				{"FieldOver64KiB", "sheet", strings.Repeat("s", 64<<10+1), "invalid"},
				{"FieldInvalidUTF8", "sheet", "Sheet\xff", "invalid"},
			} {
				st, code, fld, fc := bad(c.field, c.fieldCode)
				cases = append(cases, upload(c.name, st, code, fld, fc, field(c.field, c.value), file(csv)))
			}
			cases = append(cases,
				upload("MappingTooMany", 400, "invalid_request", "mapping", "too_many", field("mapping", func() string {
					var b strings.Builder
					b.WriteByte('{')
					for i := range 501 {
						if i > 0 {
							b.WriteByte(',')
						}
						fmt.Fprintf(&b, `"h%d":"code"`, i)
					}
					return b.String() + "}"
				}()), file(csv)),
				upload("UnknownFormField", 400, "invalid_request", "tenant_id", "unknown_field", field("tenant_id", other.ID), file(csv)),
				upload("ModeTwice", 400, "invalid_request", "mode", "duplicate", field("mode", "create"), field("mode", "upsert"), file(csv)),
				upload("BadModeAfterFile", 400, "invalid_request", "mode", "invalid_choice", file(csv), field("mode", "delete")),
			)
			run(t, problemCase{method: http.MethodPost, path: "/v1/imports", token: admin}, cases)
		})

		t.Run("ImportRead", func(t *testing.T) {
			t.Parallel()
			run(t, problemCase{method: http.MethodGet, token: admin}, []problemCase{
				{name: "NotUUID", path: "/v1/imports/not-a-uuid", status: 400, code: "invalid_request", field: "id", fieldCode: "invalid_uuid"},
				{name: "Missing", path: "/v1/imports/" + missing, status: 404, code: "not_found"},
				{name: "ErrorsMissing", path: "/v1/imports/" + missing + "/errors.xlsx", status: 404, code: "not_found"},
				{name: "ErrorsNotUUID", path: "/v1/imports/nope/errors.xlsx", status: 400, code: "invalid_request", field: "id", fieldCode: "invalid_uuid"},
				{name: "ListLimitZero", path: "/v1/imports?limit=0", status: 400, code: "invalid_request", field: "limit", fieldCode: "out_of_range"},
				{name: "ListCursorGarbage", path: "/v1/imports?cursor=!!!", status: 400, code: "invalid_request", field: "cursor", fieldCode: "invalid_cursor"},
				{name: "GetCursorGarbage", path: "/v1/imports/" + missing + "?cursor=!!!", status: 400, code: "invalid_request", field: "cursor", fieldCode: "invalid_cursor"},
				{name: "TemplateUnknownParameter", path: "/v1/imports/template.xlsx?tenant_id=" + other.ID, status: 400, code: "invalid_request", field: "tenant_id", fieldCode: "unknown_parameter"},
				{name: "TemplateUnknownFormat", path: "/v1/imports/template.pdf", status: 404, code: "not_found"},
			})
		})

		t.Run("Export", func(t *testing.T) {
			t.Parallel()
			run(t, problemCase{method: http.MethodGet, token: admin}, []problemCase{
				{name: "UnknownFormat", path: "/v1/customers/export?format=pdf", status: 400, code: "validation_failed", field: "format", fieldCode: "invalid_choice"},
				{name: "UnknownColumn", path: "/v1/customers/export?fields=nope", status: 400, code: "validation_failed", field: "fields", fieldCode: "unknown_column"},
				{name: "ColumnTwice", path: "/v1/customers/export?fields=name,name", status: 400, code: "validation_failed", field: "fields", fieldCode: "duplicate_column"},
				{name: "UnknownInclude", path: "/v1/customers/export?include=orders", status: 400, code: "validation_failed", field: "include", fieldCode: "invalid_choice"},
				{name: "UnknownParameter", path: "/v1/customers/export?foo=1", status: 400, code: "invalid_request", field: "foo", fieldCode: "unknown_parameter"},
				{name: "ListOnlyParameter", path: "/v1/customers/export?limit=5", status: 400, code: "invalid_request", field: "limit", fieldCode: "unknown_parameter"},
				{name: "UnknownView", path: "/v1/customers/export?view=nope", status: 400, code: "invalid_request", field: "view", fieldCode: "unknown_view"},
				{name: "BadSort", path: "/v1/customers/export?sort=tenant_id", status: 400, code: "validation_failed", field: "sort", fieldCode: "invalid_choice"},
				{name: "FormatNUL", path: "/v1/customers/export?format=csv%00", status: 400, code: "invalid_request", field: "format", fieldCode: "invalid_characters"},
			})
		})

		t.Run("Jobs", func(t *testing.T) {
			t.Parallel()
			run(t, problemCase{method: http.MethodGet, token: admin}, []problemCase{
				{name: "NotUUID", path: "/v1/jobs/not-a-uuid", status: 400, code: "invalid_request", field: "id", fieldCode: "invalid_uuid"},
				{name: "Missing", path: "/v1/jobs/" + missing, status: 404, code: "not_found"},
				{name: "EventsMissing", path: "/v1/jobs/" + missing + "/events", status: 404, code: "not_found"},
				{name: "ResultMissing", path: "/v1/jobs/" + missing + "/result", status: 404, code: "not_found"},
				{name: "ResultNotUUID", path: "/v1/jobs/%00/result", status: 400, code: "invalid_request", field: "id", fieldCode: "invalid_uuid"},
				{name: "ResultOfBulkUpdate", path: "/v1/jobs/" + jobID + "/result", status: 404, code: "result_not_ready"},
				{name: "CancelMissing", method: http.MethodPost, path: "/v1/jobs/" + missing + "/cancel", status: 404, code: "not_found"},
				{name: "CancelNotUUID", method: http.MethodPost, path: "/v1/jobs/x/cancel", status: 400, code: "invalid_request", field: "id", fieldCode: "invalid_uuid"},
				{name: "ListStateUnknown", path: "/v1/jobs?state=exploded", status: 400, code: "invalid_request", field: "state", fieldCode: "invalid_choice"},
				{name: "ListCreatedByNotUUID", path: "/v1/jobs?created_by=me", status: 400, code: "invalid_request", field: "created_by", fieldCode: "invalid_uuid"},
				{name: "ListKindTooLong", path: "/v1/jobs?kind=" + strings.Repeat("k", 65), status: 400, code: "invalid_request", field: "kind", fieldCode: "too_long"},
				{name: "ListUnknownParameter", path: "/v1/jobs?tenant_id=" + other.ID, status: 400, code: "invalid_request", field: "tenant_id", fieldCode: "unknown_parameter"},
			})
		})

		t.Run("BulkUpdate", func(t *testing.T) {
			t.Parallel()
			ids := `{"ids":[` + str(custID) + `]}`
			set := `{"billing_status":"current"}`
			run(t, problemCase{method: http.MethodPost, path: "/v1/customers/bulk-update", token: admin}, []problemCase{
				{name: "EmptyObject", body: "{}", status: 400, code: "validation_failed", field: "selection", fieldCode: "required"},
				{name: "NoSet", body: obj("selection", ids), status: 400, code: "validation_failed", field: "set", fieldCode: "required"},
				{name: "SetEmpty", body: obj("selection", ids, "set", "{}"), status: 422, code: "validation_failed", field: "set", fieldCode: "required"},
				{name: "IDsAndFilter", body: obj("selection", `{"ids":[`+str(custID)+`],"filter":{"status":"active"}}`, "set", set), status: 422, code: "validation_failed", field: "selection", fieldCode: "ambiguous_selection"},
				{name: "IDNotUUID", body: obj("selection", `{"ids":["nope"]}`, "set", set), status: 400, code: "invalid_request", field: "selection.ids.0", fieldCode: "invalid_value"},
				{name: "UnknownFilter", body: obj("selection", `{"filter":{"tenant_id":`+str(other.ID)+`}}`, "set", set), status: 422, code: "validation_failed", field: "selection.filter.tenant_id", fieldCode: "unknown_filter"},
				{name: "FilterNotString", body: obj("selection", `{"filter":{"status":["active"]}}`, "set", set), status: 400, code: "invalid_request", field: "selection.filter.status", fieldCode: "invalid_type"},
				{name: "BillingStatusUnknown", body: obj("selection", ids, "set", `{"billing_status":"paid-ish"}`), status: 422, code: "validation_failed", field: "set.billing_status", fieldCode: "invalid_choice"},
				{name: "BasisDateBad", body: obj("selection", ids, "set", `{"basis_date":"31/03/2026"}`), status: 422, code: "validation_failed", field: "set.basis_date", fieldCode: "invalid_date"},
				{name: "PaymentTermsUnknown", body: obj("selection", ids, "set", `{"payment_terms_id":`+str(random)+`}`), status: 422, code: "validation_failed", field: "set.payment_terms_id", fieldCode: "not_found"},
				{name: "SetServerOwned", body: obj("selection", ids, "set", `{"balance":"0"}`), status: 400, code: "invalid_request", field: "set.balance", fieldCode: "unknown_field"},
				{name: "SetNull", body: obj("selection", ids, "set", "null"), status: 400, code: "validation_failed", field: "set", fieldCode: "required"},
			})
		})

		t.Run("DormantSweep", func(t *testing.T) {
			t.Parallel()
			run(t, problemCase{method: http.MethodPost, path: "/v1/dormant-sweeps", token: admin}, []problemCase{
				{name: "BeforeNotDate", body: `{"before":"last spring"}`, status: 400, code: "invalid_request", field: "before", fieldCode: "invalid_date"},
				{name: "BeforeNumber", body: `{"before":20260331}`, status: 400, code: "invalid_request", field: "before", fieldCode: "invalid_type"},
				{name: "BeforeFuture", body: `{"before":"2999-01-01"}`, status: 422, code: "validation_failed", field: "before", fieldCode: "in_future"},
				{name: "DryRunString", body: `{"dry_run":"yes"}`, status: 400, code: "invalid_request", field: "dry_run", fieldCode: "invalid_type"},
			})
		})

		t.Run("Merge", func(t *testing.T) {
			t.Parallel()
			run(t, problemCase{method: http.MethodPost, path: "/v1/customers/" + custID + "/merge", token: admin}, []problemCase{
				{name: "Empty", body: "{}", status: 400, code: "validation_failed", field: "duplicate_id", fieldCode: "required"},
				{name: "Self", body: obj("duplicate_id", str(custID)), status: 422, code: "self_merge", field: "duplicate_id", fieldCode: "self_merge"},
				{name: "DuplicateMissing", body: obj("duplicate_id", str(random)), status: 404, code: "not_found", field: "duplicate_id", fieldCode: "not_found"},
				{name: "DuplicateNotUUID", body: obj("duplicate_id", `"twin"`), status: 400, code: "invalid_request", field: "duplicate_id", fieldCode: "invalid_value"},
				{name: "ForceString", body: obj("duplicate_id", str(dupID), "force", `"yes"`), status: 400, code: "invalid_request", field: "force", fieldCode: "invalid_type"},
				{name: "KeptMissing", path: "/v1/customers/" + missing + "/merge", body: obj("duplicate_id", str(dupID)), status: 404, code: "not_found"},
				{name: "DuplicatesReasonUnknown", method: http.MethodGet, path: "/v1/customers/duplicates?reason=vibes", status: 400, code: "invalid_request", field: "reason", fieldCode: "invalid_choice"},
			})
		})

		t.Run("SMSSettings", func(t *testing.T) {
			t.Parallel()
			run(t, problemCase{method: http.MethodPatch, path: "/v1/sms/settings", token: admin, headers: map[string]string{"If-Match": settingsTag}}, []problemCase{
				{name: "FromNotPhone", body: `{"from_number":"call me"}`, status: 400, code: "validation_failed", field: "from_number", fieldCode: "invalid"},
				{name: "AccountSIDBad", body: `{"account_sid":"XX123"}`, status: 400, code: "validation_failed", field: "account_sid", fieldCode: "invalid"},
				{name: "TimeZoneUnknown", body: `{"time_zone":"Mars/Olympus_Mons"}`, status: 400, code: "validation_failed", field: "time_zone", fieldCode: "invalid"},
				{name: "QuietStartBad", body: `{"quiet_start":"25:00"}`, status: 400, code: "validation_failed", field: "quiet_start", fieldCode: "invalid"},
				{name: "RateNegative", body: `{"rate_per_second":-1}`, status: 400, code: "validation_failed", field: "rate_per_second", fieldCode: "out_of_range"},
				{name: "ServerOwned", body: `{"version":9}`, status: 400, code: "invalid_request", field: "version", fieldCode: "unknown_field"},
				{name: "StaleIfMatch", body: `{"from_number":"+14155550101"}`, headers: map[string]string{"If-Match": `"999"`}, status: 412, code: "version_mismatch"},
			})
		})

		t.Run("SMSTemplates", func(t *testing.T) {
			t.Parallel()
			placeholder := func(name, body, fieldCode string) problemCase {
				return problemCase{name: name, body: obj("name", `"Bad template"`, "body", str(body)), status: 422, code: "validation_failed", field: "body", fieldCode: fieldCode}
			}
			cases := []problemCase{
				placeholder("UnknownPlaceholder", "Hi {unknown}", "unknown_placeholder"),
				placeholder("Unclosed", "You owe {balance", "unclosed_placeholder"),
				placeholder("StrayBrace", "You owe } now", "stray_brace"),
				placeholder("NestedOpen", "Hi {{name}", "stray_brace"),
				placeholder("PlaceholderInPlaceholder", "Hi {na{me}}", "stray_brace"),
				placeholder("TenantPlaceholder", "{tenant_id}", "unknown_placeholder"),
				placeholder("HugeBody", strings.Repeat("x", 100_000), "too_long"),
				placeholder("EmptyBody", "", "required"),
				{name: "EmptyName", body: obj("name", `""`, "body", `"Hi"`), status: 422, code: "validation_failed", field: "name", fieldCode: "required"},
				{name: "PatchUnknownPlaceholder", method: http.MethodPatch, path: "/v1/sms/templates/" + tmplID, headers: map[string]string{"If-Match": `"1"`},
					body: obj("body", `"Hi {nope}"`), status: 422, code: "validation_failed", field: "body", fieldCode: "unknown_placeholder"},
				{name: "PatchOtherTenants", method: http.MethodPatch, path: "/v1/sms/templates/" + otherTmplID, headers: map[string]string{"If-Match": `"1"`},
					body: obj("body", `"Hi"`), status: 404, code: "not_found"},
				{name: "PreviewEmpty", path: "/v1/sms/templates/preview", body: "{}", status: 422, code: "validation_failed", field: "body", fieldCode: "required"},
				{name: "PreviewBoth", path: "/v1/sms/templates/preview", body: obj("body", `"Hi"`, "template_id", str(tmplID), "customer_id", str(custID)),
					status: 422, code: "validation_failed", field: "template_id", fieldCode: "exclusive"},
				{name: "PreviewUnknownPlaceholder", path: "/v1/sms/templates/preview", body: obj("body", `"Hi {nope}"`, "customer_id", str(custID)),
					status: 422, code: "validation_failed", field: "body", fieldCode: "unknown_placeholder"},
				{name: "PreviewOtherTenantsTemplate", path: "/v1/sms/templates/preview", body: obj("template_id", str(otherTmplID), "customer_id", str(custID)),
					status: 404, code: "not_found"},
			}
			run(t, problemCase{method: http.MethodPost, path: "/v1/sms/templates", token: admin}, cases)
		})

		t.Run("SMSCampaigns", func(t *testing.T) {
			t.Parallel()
			ids := `{"ids":[` + str(custID) + `]}`
			run(t, problemCase{method: http.MethodPost, path: "/v1/sms/receivable-notices", token: admin}, []problemCase{
				{name: "Empty", body: "{}", status: 400, code: "validation_failed", field: "selection", fieldCode: "required"},
				{name: "UnknownFilter", body: obj("selection", `{"filter":{"reach":"all"}}`, "template", `"Hi {name}"`), status: 422, code: "validation_failed", field: "selection.filter.reach", fieldCode: "unknown_filter"},
				{name: "MinBalanceText", body: obj("selection", ids, "min_balance", `"lots"`, "template", `"Hi {name}"`), status: 400, code: "invalid_request", field: "min_balance", fieldCode: "invalid_value"},
				{name: "MinBalanceNull", body: obj("selection", ids, "min_balance", "null", "template", `"Hi {name}"`), status: 400, code: "validation_failed", field: "min_balance", fieldCode: "not_nullable"},
				{name: "MinBalanceNegative", body: obj("selection", ids, "min_balance", "-5", "template", `"Hi {name}"`), status: 422, code: "validation_failed", field: "min_balance", fieldCode: "out_of_range"},
				{name: "OverdueOnlyNull", body: obj("selection", ids, "overdue_only", "null", "template", `"Hi {name}"`), status: 400, code: "validation_failed", field: "overdue_only", fieldCode: "not_nullable"},
				{name: "TemplateBadPlaceholder", body: obj("selection", ids, "template", `"Hi {whoever}"`), status: 422, code: "validation_failed", field: "template", fieldCode: "unknown_placeholder"},
				{name: "OtherTenantsTemplate", body: obj("selection", ids, "template_id", str(otherTmplID)), status: 422, code: "validation_failed", field: "template_id", fieldCode: "not_found"},
				{name: "ServerOwned", body: obj("selection", ids, "template", `"Hi"`, "total", "1"), status: 400, code: "invalid_request", field: "total", fieldCode: "unknown_field"},
			})
		})

		t.Run("SMSOptOutsAndMessages", func(t *testing.T) {
			t.Parallel()
			run(t, problemCase{method: http.MethodPost, path: "/v1/sms/opt-outs", token: admin}, []problemCase{
				{name: "PhoneWords", body: `{"phone":"call me"}`, status: 400, code: "validation_failed", field: "phone", fieldCode: "invalid_phone"},
				{name: "PhoneSixteenDigits", body: `{"phone":"+1234567890123456"}`, status: 400, code: "validation_failed", field: "phone", fieldCode: "invalid_phone"},
				{name: "PhoneEmpty", body: `{"phone":""}`, status: 400, code: "validation_failed", field: "phone", fieldCode: "invalid_phone"},
				{name: "PhoneNumber", body: `{"phone":14155550100}`, status: 400, code: "invalid_request", field: "phone", fieldCode: "invalid_type"},
				{name: "GetBadPhone", method: http.MethodGet, path: "/v1/sms/opt-outs/not-a-phone", status: 400, code: "invalid_request", field: "phone", fieldCode: "invalid_phone"},
				{name: "DeleteBadPhone", method: http.MethodDelete, path: "/v1/sms/opt-outs/%00", status: 400, code: "invalid_request", field: "phone", fieldCode: "invalid_phone"},
				{name: "MessagesStateUnknown", method: http.MethodGet, path: "/v1/sms/messages?state=lost", status: 400, code: "validation_failed", field: "state", fieldCode: "invalid_choice"},
				{name: "MessagesCustomerNotUUID", method: http.MethodGet, path: "/v1/sms/messages?customer_id=me", status: 400, code: "validation_failed", field: "customer_id", fieldCode: "invalid_uuid"},
			})
		})

		t.Run("TwilioWebhooks", func(t *testing.T) {
			t.Parallel()
			statusPath := "/v1/webhooks/twilio/" + tn.ID + "/status"
			inboundPath := "/v1/webhooks/twilio/" + tn.ID + "/inbound"
			status := url.Values{"AccountSid": {matrixAccount}, "MessageSid": {"SMnone"}, "MessageStatus": {"delivered"}}
			inbound := url.Values{"AccountSid": {matrixAccount}, "MessageSid": {"SMin"}, "From": {"+14155550111"}, "To": {"+14155550100"}, "Body": {"STOP"}}
			form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			signed := func(path string, v url.Values) map[string]string {
				return map[string]string{"Content-Type": "application/x-www-form-urlencoded",
					"X-Twilio-Signature": twiliostandin.Sign(matrixAuthToken, matrixPublicBase+path, v)}
			}
			wrong := map[string]string{"Content-Type": "application/x-www-form-urlencoded",
				"X-Twilio-Signature": twiliostandin.Sign("wrong-token-wrong-token-wrong-tok", matrixPublicBase+inboundPath, inbound)}
			noStatus := url.Values{"AccountSid": {matrixAccount}, "MessageSid": {"SMnone"}}
			noSID := url.Values{"AccountSid": {matrixAccount}, "MessageStatus": {"delivered"}}
			run(t, problemCase{method: http.MethodPost, token: noToken}, []problemCase{
				{name: "StatusUnsigned", path: statusPath, body: status.Encode(), headers: form, status: 403, code: "invalid_signature"},
				{name: "InboundUnsigned", path: inboundPath, body: inbound.Encode(), headers: form, status: 403, code: "invalid_signature"},
				{name: "InboundWrongSignature", path: inboundPath, body: inbound.Encode(), headers: wrong, status: 403, code: "invalid_signature"},
				{name: "InboundSignedOtherBody", path: inboundPath, body: url.Values{"Body": {"START"}, "From": {"+14155550111"}}.Encode(), headers: signed(inboundPath, inbound), status: 403, code: "invalid_signature"},
				{name: "StatusJSON", path: statusPath, body: `{"MessageSid":"SMnone"}`, status: 415, code: "unsupported_media_type"},
				{name: "InboundMultipart", path: inboundPath, body: "x", headers: map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, status: 415, code: "unsupported_media_type"},
				{name: "StatusMissingSID", path: statusPath, body: noSID.Encode(), headers: signed(statusPath, noSID), status: 422, code: "validation_failed", field: "MessageSid", fieldCode: "required"},
				{name: "StatusMissingStatus", path: statusPath, body: noStatus.Encode(), headers: signed(statusPath, noStatus), status: 422, code: "validation_failed", field: "MessageStatus", fieldCode: "required"},
				{name: "StatusUnknownTenant", path: "/v1/webhooks/twilio/" + random + "/status", body: status.Encode(), headers: signed("/v1/webhooks/twilio/"+random+"/status", status), status: 404, code: "not_found"},
			})
		})
	})
	t.Logf("bad-input cases over the new routes: %d", total.Load())
	require.GreaterOrEqual(t, total.Load(), int64(60))
	for id, snap := range before {
		requireUnchanged(t, snap, snapshotTenant(t, app, id))
	}
}
