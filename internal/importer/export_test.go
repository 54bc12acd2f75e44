package importer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/demodata"
	"github.com/customerhub/customerhub/internal/importer"
	"github.com/customerhub/customerhub/internal/server"
	"github.com/customerhub/customerhub/internal/xlsx"
	"github.com/customerhub/customerhub/workers"
)

// hostile are names a spreadsheet would evaluate if they were written as
// they are.
var hostile = []string{"=1+2", "+SUM(A1:A2)", "-2+3", "@SUM(A1)", "\tTabbed", "\rReturned"}

type exportBundle struct {
	app      *apptest.App
	tn       apptest.Tenant
	rep      apptest.User
	codes    []string // every customer's code, in code order
	repCodes []string
}

// setupExport makes a tenant with a custom field, a group, payment terms,
// a sales rep who may export (a custom role, visibility assigned), and
// customers: two of the rep's, the hostile names, and a few others.
func setupExport(t *testing.T, app *apptest.App) exportBundle {
	t.Helper()
	tn := app.Signup(t)
	created := func(path string, body map[string]any) map[string]any {
		resp := app.Post(t, path, tn.AdminToken, body)
		require.Equal(t, http.StatusCreated, resp.Status, "%s: %s", path, resp.Body)
		return resp.Map(t)
	}
	created("/v1/custom-fields", map[string]any{"key": "po_number", "label": "PO number", "type": "text"})
	created("/v1/customer-groups", map[string]any{"category": "region", "code": "NORTH", "name": "North"})
	terms := created("/v1/payment-terms", map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
	created("/v1/roles", map[string]any{"name": "rep_exporter", "permissions": []string{"customers:read", "customers:export"}})
	rep := app.CreateUser(t, tn, "rep_exporter", map[string]any{"visibility": "assigned"})

	b := exportBundle{app: app, tn: tn, rep: rep}
	add := func(code string, body map[string]any) {
		body["code"] = code
		app.CreateCustomer(t, tn.AdminToken, body)
		b.codes = append(b.codes, code)
	}
	add("C001", map[string]any{"name": "Toko Makmur", "type": "company", "email": "toko@example.com", "payment_terms_id": terms["id"],
		"groups": map[string]any{"region": "NORTH"}, "custom": map[string]any{"po_number": "PO-17"}, "credit_limit": "1500.50",
		"sales_rep_id": rep.ID})
	add("C002", map[string]any{"name": "김민준", "type": "individual", "sales_rep_id": rep.ID})
	for i, name := range hostile {
		add(fmt.Sprintf("H%03d", i), map[string]any{"name": name, "type": "company", "notes": name})
	}
	add("Z001", map[string]any{"name": "مؤسسة النور", "type": "individual"})
	b.repCodes = []string{"C001", "C002"}
	// The API trims text, so a note starting with a tab or a carriage
	// return reaches the table only another way (an older import, SQL):
	// written here directly, the export must still escape it.
	tid := uuid.MustParse(tn.ID)
	err := database.WithTenantTx(context.Background(), app.DB.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
		for i, h := range hostile {
			if _, err := tx.Exec(ctx, `UPDATE customers SET notes = $3 WHERE tenant_id = $1 AND code = $2`, tid, fmt.Sprintf("H%03d", i), h); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	return b
}

// readCSV parses an export answered as CSV: header and rows.
func readCSV(t *testing.T, body []byte) ([]string, [][]string) {
	t.Helper()
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	require.NoError(t, err, "%s", body)
	require.NotEmpty(t, recs)
	return recs[0], recs[1:]
}

// readXLSX reads the first sheet of an xlsx export: header and rows, the
// cells as stored (no number formatting).
func readXLSX(t *testing.T, body []byte) ([]string, [][]string) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(body))
	require.NoError(t, err)
	defer f.Close()
	sheet := f.GetSheetName(0)
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	// No cell is a formula.
	for r := range rows {
		for c := range rows[r] {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			formula, err := f.GetCellFormula(sheet, cell)
			require.NoError(t, err)
			require.Empty(t, formula, cell)
		}
	}
	return rows[0], rows[1:]
}

func column(header []string, rows [][]string, name string) []string {
	i := slices.Index(header, name)
	if i < 0 {
		return nil
	}
	out := make([]string, len(rows))
	for r, row := range rows {
		if i < len(row) {
			out[r] = row[i]
		}
	}
	return out
}

func TestExport(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	b := setupExport(t, app)
	get := func(token, query string) *apptest.Response {
		return app.Get(t, "/v1/customers/export?"+query, token)
	}

	t.Run("CSV", func(t *testing.T) {
		resp := get(b.tn.AdminToken, "format=csv&sort=code")
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, xlsx.FormatCSV.ContentType(), resp.Header.Get("Content-Type"))
		require.Regexp(t, `^attachment; filename=customers-\d{8}-\d{6}\.csv$`, resp.Header.Get("Content-Disposition"))
		header, rows := readCSV(t, resp.Body)
		// The template's columns, in the template's order.
		require.Equal(t, []string{"code", "name", "customer_type", "email", "phone", "website", "tax_number", "currency",
			"discount_rate", "payment_terms", "credit_limit", "group_code", "sales_rep_email"}, header[:13])
		require.Contains(t, header, "po_number")
		require.Equal(t, b.codes, column(header, rows, "code"), "every customer, sorted by code")
		first := rows[0]
		require.Equal(t, "Toko Makmur", first[slices.Index(header, "name")])
		require.Equal(t, "NET30", first[slices.Index(header, "payment_terms")])
		require.Equal(t, "NORTH", first[slices.Index(header, "group_code")])
		require.Equal(t, b.rep.Email, first[slices.Index(header, "sales_rep_email")])
		require.Equal(t, "PO-17", first[slices.Index(header, "po_number")])
		require.Equal(t, "1500.5", strings.TrimRight(first[slices.Index(header, "credit_limit")], "0"))
		require.Equal(t, "김민준", rows[1][1])
		require.Equal(t, "مؤسسة النور", rows[len(rows)-1][1])
	})

	t.Run("FormulaCellsEscapedAndRoundTrip", func(t *testing.T) {
		for _, format := range []string{"csv", "xlsx"} {
			resp := get(b.tn.AdminToken, "format="+format+"&sort=code&fields=code,name,notes")
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
			var header []string
			var rows [][]string
			if format == "csv" {
				header, rows = readCSV(t, resp.Body)
			} else {
				header, rows = readXLSX(t, resp.Body)
			}
			require.Equal(t, []string{"code", "name", "notes"}, header)
			names := column(header, rows, "name")
			notes := column(header, rows, "notes")
			for i, h := range hostile {
				got := notes[2+i]
				require.Equal(t, byte('\''), got[0], "%s: %q is written so that no spreadsheet evaluates it", format, h)
				require.Equal(t, h, xlsx.UnescapeFormula(got), "%s: the import reads it back as it was", format)
				if strings.TrimSpace(h) == h {
					require.Equal(t, h, xlsx.UnescapeFormula(names[2+i]), format)
				}
			}
			require.Equal(t, "Toko Makmur", names[0], "other text is left as it is")
		}
	})

	t.Run("FiltersAndSort", func(t *testing.T) {
		resp := get(b.tn.AdminToken, "format=csv&type=individual&sort=-code&fields=code")
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		_, rows := readCSV(t, resp.Body)
		require.Equal(t, [][]string{{"Z001"}, {"C002"}}, rows)

		resp = get(b.tn.AdminToken, "format=csv&group.region=NORTH&fields=code,group_code")
		_, rows = readCSV(t, resp.Body)
		require.Equal(t, [][]string{{"C001", "NORTH"}}, rows)

		resp = get(b.tn.AdminToken, "format=csv&custom.po_number=PO-17&fields=code")
		_, rows = readCSV(t, resp.Body)
		require.Equal(t, [][]string{{"C001"}}, rows)
	})

	t.Run("BadParametersBeforeStreaming", func(t *testing.T) {
		for query, field := range map[string]string{
			"format=pdf":          "format",
			"fields=code,bogus":   "fields",
			"sort=colour":         "sort",
			"type=alien":          "type",
			"include=orders":      "include",
			"sales_rep_id=x":      "sales_rep_id",
			"view=no-such-view":   "view",
			"colour=blue":         "colour",
			"fields=code,CODE":    "fields",
			"last_order_from=now": "last_order_from",
		} {
			resp := get(b.tn.AdminToken, query)
			require.Equal(t, http.StatusBadRequest, resp.Status, "%s: %s", query, resp.Body)
			require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), query)
			require.Contains(t, string(resp.Body), `"field":"`+field+`"`, query)
		}
	})

	t.Run("IncludeLocations", func(t *testing.T) {
		list := app.Get(t, "/v1/customers?q=Toko", b.tn.AdminToken).Map(t)["items"].([]any)
		id := list[0].(map[string]any)["id"].(string)
		for _, loc := range []map[string]any{
			{"label": "Head office", "line1": "Jl. Merdeka 5", "city": "Bandung", "country": "ID", "kinds": []string{"billing"}, "default_billing": true},
			{"label": "Warehouse", "line1": "Jl. Gudang 9", "city": "Cimahi", "country": "ID", "kinds": []string{"shipping"}},
		} {
			resp := app.Post(t, "/v1/customers/"+id+"/locations", b.tn.AdminToken, loc)
			require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		}
		resp := get(b.tn.AdminToken, "format=csv&sort=code&fields=code,billing_city&include=locations")
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		header, rows := readCSV(t, resp.Body)
		require.Equal(t, "location_label", header[2])
		require.Equal(t, []string{"C001", "Bandung", "Head office", "billing", "TRUE", "FALSE", "Jl. Merdeka 5"}, rows[0][:7])
		require.Equal(t, []string{"C001", "Bandung", "Warehouse", "shipping", "FALSE", "TRUE", "Jl. Gudang 9"}, rows[1][:7])
		require.Equal(t, "C002", rows[2][0])
		require.Equal(t, "", rows[2][2], "a customer without locations keeps its row")
		require.Len(t, rows, len(b.codes)+1)
	})

	t.Run("Visibility", func(t *testing.T) {
		resp := get(b.rep.Token, "format=csv&sort=code&fields=code")
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		_, rows := readCSV(t, resp.Body)
		require.Equal(t, [][]string{{"C001"}, {"C002"}}, rows, "a rep exports only their customers")

		other := app.Signup(t)
		resp = get(other.AdminToken, "format=csv&fields=code")
		require.Equal(t, http.StatusOK, resp.Status)
		header, rows := readCSV(t, resp.Body)
		require.Equal(t, []string{"code"}, header)
		require.Empty(t, rows, "another tenant exports nothing of this one")

		viewer := app.CreateUser(t, b.tn, "viewer", nil)
		require.Equal(t, http.StatusForbidden, get(viewer.Token, "format=csv").Status, "customers:export is needed")
	})

	t.Run("XLSXReimportsAsIs", func(t *testing.T) {
		resp := get(b.tn.AdminToken, "sort=code")
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, xlsx.FormatXLSX.ContentType(), resp.Header.Get("Content-Type"))
		header, rows := readXLSX(t, resp.Body)
		require.Equal(t, "code", header[0])
		require.Equal(t, b.codes, column(header, rows, "code"))
		require.Equal(t, "1500.5", column(header, rows, "credit_limit")[0], "a number cell")
	})
}

// TestExportJob: above CUSTOMERHUB_EXPORT_SYNC_MAX the export is a job
// whose file is downloaded from /v1/jobs/{id}/result until it expires.
func TestExportJob(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Fresh(t), map[string]string{"CUSTOMERHUB_EXPORT_SYNC_MAX": "3"})
	b := setupExport(t, app)

	// Up to the limit the file is the answer.
	resp := app.Get(t, "/v1/customers/export?format=csv&q=C00&fields=code", b.tn.AdminToken)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	resp = app.Get(t, "/v1/customers/export?format=csv&sort=-code&fields=code,name", b.tn.AdminToken)
	id := apptest.JobID(t, resp)
	require.Equal(t, "customer_export", resp.Map(t)["job"].(map[string]any)["kind"])

	result := "/v1/jobs/" + id + "/result"
	notReady := app.Get(t, result, b.tn.AdminToken)
	require.Equal(t, http.StatusNotFound, notReady.Status, "%s", notReady.Body)
	require.Equal(t, "result_not_ready", notReady.Map(t)["code"])

	app.StartWorkers(t)
	job := app.WaitJob(t, b.tn.AdminToken, id)
	require.Equal(t, "succeeded", job["state"], "%v", job)
	n := float64(len(b.codes))
	require.Equal(t, map[string]any{"processed": n, "total": n}, job["progress"])
	res := job["result"].(map[string]any)
	require.Equal(t, n, res["rows"])
	file := res["file"].(map[string]any)
	require.Equal(t, result, file["url"])

	resp = app.Get(t, result, b.tn.AdminToken)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.Equal(t, xlsx.FormatCSV.ContentType(), resp.Header.Get("Content-Type"))
	require.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
	require.EqualValues(t, file["size"], len(resp.Body))
	header, rows := readCSV(t, resp.Body)
	require.Equal(t, []string{"code", "name"}, header)
	want := slices.Clone(b.codes)
	slices.Reverse(want)
	require.Equal(t, want, column(header, rows, "code"))

	// Someone who does not see the job does not see its file.
	require.Equal(t, http.StatusNotFound, app.Get(t, result, b.rep.Token).Status)
	require.Equal(t, http.StatusNotFound, app.Get(t, result, app.Signup(t).AdminToken).Status)
	require.Equal(t, http.StatusNotFound, app.Get(t, "/v1/jobs/"+uuid.NewString()+"/result", b.tn.AdminToken).Status)

	// Once expired, the file is gone.
	tid := uuid.MustParse(b.tn.ID)
	err := database.WithTenantTx(context.Background(), app.DB.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE files SET expires_at = $3 WHERE tenant_id = $1 AND id = $2`, tid, file["id"], time.Now().Add(-time.Minute))
		return err
	})
	require.NoError(t, err)
	gone := app.Get(t, result, b.tn.AdminToken)
	require.Equal(t, http.StatusGone, gone.Status, "%s", gone.Body)
	require.Equal(t, "result_expired", gone.Map(t)["code"])
}

// TestExportImportRoundTrip: an export, imported again in upsert mode,
// reports every row unchanged, in both formats: references by code and
// e-mail, groups, custom fields, addresses, decimals, dates, unicode and
// formula-like text all read back as they were written.
func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	tn := app.Signup(t)
	created := func(path string, body map[string]any) map[string]any {
		resp := app.Post(t, path, tn.AdminToken, body)
		require.Equal(t, http.StatusCreated, resp.Status, "%s: %s", path, resp.Body)
		return resp.Map(t)
	}
	created("/v1/custom-fields", map[string]any{"key": "po_number", "label": "PO number", "type": "text"})
	created("/v1/custom-fields", map[string]any{"key": "since", "label": "Customer since", "type": "date"})
	created("/v1/customer-groups", map[string]any{"category": "region", "code": "NORTH", "name": "North"})
	terms := created("/v1/payment-terms", map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
	list := created("/v1/price-lists", map[string]any{"code": "WHOLESALE", "name": "Wholesale", "currency": "USD"})
	rep := app.CreateUser(t, tn, "sales_rep", nil)
	full := app.CreateCustomer(t, tn.AdminToken, map[string]any{"code": "00417", "name": "Toko Makmur", "type": "company",
		"email": "toko@example.com", "phone": "+6281234567890", "website": "https://toko.example.com", "tax_number": "01.234.567.8-901.000",
		"currency": "USD", "discount_rate": "12.5", "payment_terms_id": terms["id"], "price_list_id": list["id"], "credit_limit": "1500.50",
		"credit_period_days": 45, "credit_policy": "warn", "billing_status": "on_hold", "basis_date": "2026-01-31",
		"sales_rep_id": rep.ID, "groups": map[string]any{"region": "NORTH"}, "notes": "Pays on Fridays",
		"custom": map[string]any{"po_number": "PO-17", "since": "2019-05-01"}})
	created("/v1/customers/"+full["id"].(string)+"/locations", map[string]any{"label": "Head office", "line1": "Jl. Merdeka 5",
		"line2": "Lantai 3", "city": "Bandung", "region": "Jawa Barat", "postal_code": "40111", "country": "ID",
		"kinds": []string{"billing", "shipping"}, "default_billing": true, "default_shipping": true})
	for i, name := range []string{"=1+2", "+SUM(A1:A2)", "-2+3", "@SUM(A1)", "김민준", "مؤسسة النور"} {
		app.CreateCustomer(t, tn.AdminToken, map[string]any{"code": fmt.Sprintf("R%03d", i), "name": name, "type": "individual", "notes": name})
	}
	const n = 7

	for _, format := range []string{"csv", "xlsx"} {
		resp := app.Get(t, "/v1/customers/export?format="+format, tn.AdminToken)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		v := importFile(t, app, tn.AdminToken, "export."+format, string(resp.Body), map[string]string{"mode": "upsert"})
		require.Equal(t, "succeeded", v.State, "%s: %+v", format, v)
		require.Empty(t, errorsOf(v), format)
		require.Empty(t, v.UnknownColumns, format)
		require.EqualValues(t, n, v.Counts.Total, format)
		require.EqualValues(t, n, v.Counts.Unchanged, "%s: every row unchanged: %+v", format, v.Counts)
	}
	got := customerByCode(t, app, tn.AdminToken, "00417")
	require.EqualValues(t, 1, got["version"], "nothing was written")
}

// TestExportStreamsInBatches: an export larger than one batch
// (importer.DefaultExportPage) writes every customer once, in order.
func TestExportStreamsInBatches(t *testing.T) {
	t.Parallel()
	db := dbtest.Fresh(t)
	ctx := context.Background()
	const n = importer.DefaultExportPage*2 + 517
	ts, err := demodata.Generate(ctx, db.App, demodata.Options{Tenants: 1, Customers: n, SlugPrefix: "batches", PasswordHash: "x", Seed: 7}, io.Discard)
	require.NoError(t, err)
	app := apptest.New(t, db, nil)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	authSvc := auth.NewService(db.App, auth.NewHasher(auth.HashParams{MemoryKiB: 1024, Iterations: 1}), auth.Options{SessionTTL: time.Hour}, logger)
	var token string
	var want []string
	err = database.WithTenantTx(ctx, db.App, database.SystemScope(ts[0].ID), func(ctx context.Context, tx database.Tx) error {
		if token, err = authSvc.IssueSession(ctx, tx, ts[0].AdminID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT code FROM customers WHERE tenant_id = $1 ORDER BY code DESC, id DESC`, ts[0].ID)
		if err != nil {
			return err
		}
		want, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	require.NoError(t, err)
	require.Len(t, want, n)

	resp := app.Get(t, "/v1/customers/export?format=csv&status=all&sort=-code&fields=code", token)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	_, rows := readCSV(t, resp.Body)
	got := make([]string, len(rows))
	for i, r := range rows {
		got[i] = r[0]
	}
	require.Equal(t, want, got)
}

// TestExportJobInSteps: an export job writes its file over several steps
// (each a statement of its own, continuing after the last customer the
// previous one wrote), records its progress after each, and its file holds
// every customer once, in order; xlsx too.
func TestExportJobInSteps(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Fresh(t), map[string]string{"CUSTOMERHUB_EXPORT_SYNC_MAX": "0"})
	tn := app.Signup(t)
	var codes []string
	for i := range 11 {
		code := fmt.Sprintf("S%03d", i)
		app.CreateCustomer(t, tn.AdminToken, map[string]any{"code": code, "name": fmt.Sprintf("Step %02d", 10-i)})
		codes = append(codes, code)
	}
	// The application's own export worker, with steps of 4 customers.
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := server.NewServices(app.Config, app.DB.App, logger)
	ws := river.NewWorkers()
	river.AddWorker(ws, workers.NewCustomerExportWorker(workers.Deps{
		Exports:      &importer.ExportJob{Exporter: svc.Exports, Retention: time.Hour, StepRows: 4},
		ExportRunner: server.NewRunner(svc.Auth, app.DB.App, importer.ExportAttemptTimeout, logger),
	}))
	app.StartRiver(t, server.RiverOptions{Work: true, Workers: ws, Concurrency: 1, BulkConcurrency: 1, Logger: logger})

	for _, format := range []string{"csv", "xlsx"} {
		id := apptest.JobID(t, app.Get(t, "/v1/customers/export?sort=code&fields=code,name&format="+format, tn.AdminToken))
		job := app.WaitJob(t, tn.AdminToken, id)
		require.Equal(t, "succeeded", job["state"], "%v", job)
		require.Equal(t, map[string]any{"processed": float64(11), "total": float64(11)}, job["progress"])
		resp := app.Get(t, "/v1/jobs/"+id+"/result", tn.AdminToken)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		var header []string
		var rows [][]string
		if format == "csv" {
			header, rows = readCSV(t, resp.Body)
		} else {
			header, rows = readXLSX(t, resp.Body)
		}
		require.Equal(t, []string{"code", "name"}, header)
		require.Equal(t, codes, column(header, rows, "code"), "%s: every customer once, in order", format)
	}
}
