package importer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/importer"
)

// upload posts a file (and form fields) to POST /v1/imports.
func upload(t *testing.T, app *apptest.App, token, name string, content []byte, fields map[string]string) *apptest.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	if content != nil {
		fw, err := mw.CreateFormFile("file", name)
		require.NoError(t, err)
		_, err = fw.Write(content)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	req := httptest.NewRequest(http.MethodPost, "/v1/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := app.Server.App.Test(req, -1)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return &apptest.Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

type importView struct {
	ID     string `json:"id"`
	State  string `json:"state"`
	Counts struct {
		Total, Created, Updated, Unchanged, Failed int64
	} `json:"counts"`
	UnknownColumns []string `json:"unknown_columns"`
	Errors         []struct {
		Row     int    `json:"row"`
		Column  string `json:"column"`
		Value   string `json:"value"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
	ErrorsNextCursor *string         `json:"errors_next_cursor"`
	Reason           *string         `json:"reason"`
	Summary          json.RawMessage `json:"summary"`
	JobID            string          `json:"job_id"`
}

// importFile uploads a file and waits for its import to end.
func importFile(t *testing.T, app *apptest.App, token, name, content string, fields map[string]string) importView {
	t.Helper()
	resp := upload(t, app, token, name, []byte(content), fields)
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	var acc struct {
		Import importView `json:"import"`
		Job    struct{ ID string }
	}
	resp.JSON(t, &acc)
	require.Equal(t, "/v1/imports/"+acc.Import.ID, resp.Header.Get("Location"))
	app.WaitJob(t, token, acc.Job.ID)
	return getImport(t, app, token, acc.Import.ID)
}

func getImport(t *testing.T, app *apptest.App, token, id string) importView {
	t.Helper()
	r := app.Get(t, "/v1/imports/"+id+"?limit=200", token)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var v importView
	r.JSON(t, &v)
	return v
}

// errorsOf lists an import's errors as "row column code".
func errorsOf(v importView) []string {
	var out []string
	for _, e := range v.Errors {
		out = append(out, fmt.Sprintf("%d %s %s", e.Row, e.Column, e.Code))
	}
	return out
}

func customerByCode(t *testing.T, app *apptest.App, token, code string) map[string]any {
	t.Helper()
	r := app.Get(t, "/v1/customers?limit=200&q="+url.QueryEscape(code), token)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var page struct{ Items []map[string]any }
	r.JSON(t, &page)
	for _, c := range page.Items {
		if c["code"] == code {
			return c
		}
	}
	return nil
}

func newApp(t *testing.T) *apptest.App {
	app := apptest.New(t, dbtest.Shared(t), map[string]string{"CUSTOMERHUB_IMPORT_BATCH": "3"})
	app.StartWorkers(t)
	return app
}

// TestImportModes: create, then upsert of the same file reports every row
// unchanged and writes nothing, an upsert with changes updates and
// creates, update refuses unknown codes, create refuses existing ones.
func TestImportModes(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	tn := app.Signup(t)
	file := "code,name,email,discount_rate,credit_limit\r\n" +
		"00123,Toko Makmur,toko@example.com,12.5,\"1,500.25\"\r\n" +
		"C2,서울상사,seoul@example.kr,,\r\n" +
		"C3,شركة النور,noor@example.sa,5,100\r\n" +
		"C4,Four,four@example.com,,\r\n"
	v := importFile(t, app, tn.AdminToken, "customers.csv", file, map[string]string{"mode": "create"})
	require.Equal(t, "succeeded", v.State, "%+v", v)
	require.Equal(t, int64(4), v.Counts.Total)
	require.Equal(t, int64(4), v.Counts.Created, "%v", errorsOf(v))
	c := customerByCode(t, app, tn.AdminToken, "00123")
	require.NotNil(t, c, "the code keeps its leading zeros")
	require.Equal(t, "Toko Makmur", c["name"])
	require.Equal(t, "12.50", fmt.Sprint(c["discount_rate"]))
	require.Contains(t, fmt.Sprint(c["credit_limit"]), "1500.25")
	require.Equal(t, "서울상사", customerByCode(t, app, tn.AdminToken, "C2")["name"])

	again := importFile(t, app, tn.AdminToken, "customers.csv", file, map[string]string{"mode": "upsert"})
	require.Equal(t, int64(4), again.Counts.Unchanged, "re-importing the same file changes nothing: %+v %v", again.Counts, errorsOf(again))
	require.Zero(t, again.Counts.Created+again.Counts.Updated+again.Counts.Failed)

	changed := "code,name\nC2,Seoul Trading\nC9,Nine\n"
	up := importFile(t, app, tn.AdminToken, "c.csv", changed, map[string]string{"mode": "upsert"})
	require.Equal(t, int64(1), up.Counts.Updated, "%v", errorsOf(up))
	require.Equal(t, int64(1), up.Counts.Created)
	require.Equal(t, "Seoul Trading", customerByCode(t, app, tn.AdminToken, "C2")["name"])

	upd := importFile(t, app, tn.AdminToken, "c.csv", "code,name\nC3,Nur\nNOPE,x\n", map[string]string{"mode": "update"})
	require.Equal(t, int64(1), upd.Counts.Updated)
	require.Equal(t, []string{"3 code not_found"}, errorsOf(upd))

	cr := importFile(t, app, tn.AdminToken, "c.csv", "name,code\nAgain,C4\nNew one,\n", map[string]string{"mode": "create"})
	require.Equal(t, int64(1), cr.Counts.Created, "a missing code is generated")
	require.Equal(t, []string{"2 code already_exists"}, errorsOf(cr))
}

// TestImportMatchOnEmail: update on e-mail needs the email column, and
// finds customers by it regardless of case.
func TestImportMatchOnEmail(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	tn := app.Signup(t)
	app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "A", "email": "a@example.com", "code": "A1"})
	v := importFile(t, app, tn.AdminToken, "c.csv", "E-mail,Customer Name\nA@Example.com,Renamed\n", map[string]string{"mode": "update", "match_on": "email"})
	require.Equal(t, int64(1), v.Counts.Updated, "%v", errorsOf(v))
	require.Equal(t, "Renamed", customerByCode(t, app, tn.AdminToken, "A1")["name"])

	f := importFile(t, app, tn.AdminToken, "c.csv", "code,name\nA1,x\n", map[string]string{"mode": "update", "match_on": "email"})
	require.Equal(t, "failed", f.State)
	require.NotNil(t, f.Reason)
	require.Contains(t, *f.Reason, "email")
}

// TestImportBadRows: every bad row is reported with its row and column,
// the good rows are written, duplicates name both rows, unknown columns
// are listed.
func TestImportBadRows(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	tn := app.Signup(t)
	file := "code,name,email,discount_rate,basis_date,sales_rep_email,payment_terms,Favourite Colour\n" +
		"B1,Good,good@example.com,1,2026-03-15,,,blue\n" + // 2
		"B2,,x@example.com,,,,,\n" + // 3: name required
		"B3,Bad mail,not-an-email,,,,,\n" + // 4
		"B4,Bad rate,,abc,,,,\n" + // 5
		"B5,Bad date,,,31/31/2026,,,\n" + // 6
		"B6,Bad rep,,,,nobody@example.com,,\n" + // 7
		"B1,Dup,,,,,,\n" + // 8: duplicate of row 2
		"B8,Terms,,,,,Net 45,\n" + // 9: creates terms
		"B9,Bad terms,,,,,Whenever,\n" // 10
	v := importFile(t, app, tn.AdminToken, "c.csv", file, nil)
	require.Equal(t, int64(9), v.Counts.Total)
	require.Equal(t, int64(2), v.Counts.Created, "%v", errorsOf(v))
	require.Equal(t, int64(7), v.Counts.Failed)
	require.Equal(t, []string{"Favourite Colour"}, v.UnknownColumns)
	require.Equal(t, []string{
		"3 name required", "4 email invalid_email", "5 discount_rate invalid_number", "6 basis_date invalid_date",
		"7 sales_rep_email unknown_reference", "8 code duplicate_in_file", "10 payment_terms unknown_reference",
	}, errorsOf(v))
	require.Contains(t, v.Errors[5].Message, "rows 2 and 8")
	require.Contains(t, string(v.Summary), "NET45")
	require.NotNil(t, customerByCode(t, app, tn.AdminToken, "B8")["payment_terms_id"])
}

// TestImportAllOrNothingAndDryRun: one bad row and nothing is written; a
// dry run counts without writing.
func TestImportAllOrNothingAndDryRun(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	tn := app.Signup(t)
	bad := "code,name\nX1,One\nX2,Two\nX3,\nX4,Four\n"
	v := importFile(t, app, tn.AdminToken, "c.csv", bad, map[string]string{"all_or_nothing": "true"})
	require.Equal(t, "failed", v.State)
	require.NotNil(t, v.Reason)
	require.Contains(t, *v.Reason, "1 of 4 rows")
	require.Equal(t, []string{"4 name required"}, errorsOf(v))
	require.Equal(t, int64(1), v.Counts.Failed)
	require.Zero(t, v.Counts.Created)
	require.Nil(t, customerByCode(t, app, tn.AdminToken, "X1"), "nothing written")

	good := "code,name\nX1,One\nX2,Two\nX3,Three\nX4,Four\n"
	d := importFile(t, app, tn.AdminToken, "c.csv", good, map[string]string{"dry_run": "true"})
	require.Equal(t, int64(4), d.Counts.Created, "a dry run counts what it would create")
	require.Nil(t, customerByCode(t, app, tn.AdminToken, "X1"), "a dry run writes nothing")

	ok := importFile(t, app, tn.AdminToken, "c.csv", good, map[string]string{"all_or_nothing": "true"})
	require.Equal(t, int64(4), ok.Counts.Created, "%v", errorsOf(ok))
	require.NotNil(t, customerByCode(t, app, tn.AdminToken, "X4"))
}

// TestImportRefusals: refused uploads are 4xx problems naming what is
// wrong, and queue nothing.
func TestImportRefusals(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), map[string]string{"CUSTOMERHUB_IMPORT_MAX_BYTES": "2048"})
	tn := app.Signup(t)
	html := upload(t, app, tn.AdminToken, "c.xlsx", []byte("<!DOCTYPE html><html><body>hi</body></html>"), nil)
	require.Equal(t, http.StatusUnsupportedMediaType, html.Status, "%s", html.Body)
	require.Contains(t, string(html.Body), "html")
	xls := upload(t, app, tn.AdminToken, "c.xlsx", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 600)...), nil)
	require.Equal(t, http.StatusUnsupportedMediaType, xls.Status, "%s", xls.Body)
	big := upload(t, app, tn.AdminToken, "c.csv", []byte("code,name\n"+strings.Repeat("C1,aaaaaaaaaa\n", 400)), nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, big.Status, "%s", big.Body)
	for field, value := range map[string]string{"mode": "merge", "match_on": "phone", "dry_run": "maybe", "mapping": "{not json", "kind": "orders"} {
		r := upload(t, app, tn.AdminToken, "c.csv", []byte("code,name\nC1,x\n"), map[string]string{field: value})
		require.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", field, r.Body)
		require.Contains(t, string(r.Body), `"field":"`+field+`"`)
	}
	none := upload(t, app, tn.AdminToken, "", nil, map[string]string{"mode": "create"})
	require.Equal(t, http.StatusBadRequest, none.Status)
	viewer := app.CreateUser(t, tn, "viewer", nil)
	r := upload(t, app, viewer.Token, "c.csv", []byte("code,name\nC1,x\n"), nil)
	require.Equal(t, http.StatusForbidden, r.Status, "customers:import is needed")
	list := app.Get(t, "/v1/imports", tn.AdminToken)
	require.Equal(t, http.StatusOK, list.Status)
	require.Contains(t, string(list.Body), `"items":[]`, "nothing was queued")
}

// TestImportIsolation: another tenant, and another user who sees only
// their own, get 404 for an import; its errors workbook too.
func TestImportIsolation(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	tn := app.Signup(t)
	other := app.Signup(t)
	v := importFile(t, app, tn.AdminToken, "c.csv", "code,name\nI1,One\nI1,Dup\n", nil)
	rep := importingRep(t, app, tn)
	for _, tok := range []string{other.AdminToken, rep.Token} {
		require.Equal(t, http.StatusNotFound, app.Get(t, "/v1/imports/"+v.ID, tok).Status)
		require.Equal(t, http.StatusNotFound, app.Get(t, "/v1/imports/"+v.ID+"/errors.xlsx", tok).Status)
	}
	wb := app.Get(t, "/v1/imports/"+v.ID+"/errors.xlsx", tn.AdminToken)
	require.Equal(t, http.StatusOK, wb.Status, "%s", wb.Body)
	require.True(t, bytes.HasPrefix(wb.Body, []byte("PK")), "an xlsx workbook")
}

// TestImportCustomerPrices: kind=customer_prices sets a customer's own
// prices through the same pipeline; unknown customers and SKUs are row
// errors; the same file again is unchanged.
func TestImportCustomerPrices(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	tn := app.Signup(t)
	app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "P", "code": "P1"})
	r := app.Post(t, "/v1/items", tn.AdminToken, map[string]any{"sku": "SKU-1", "name": "Widget", "base_price": "10.00"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	file := "customer_code,sku,price\nP1,SKU-1,8.50\nP1,SKU-2,1\nP9,SKU-1,1\nP1,SKU-1,7\n"
	v := importFile(t, app, tn.AdminToken, "p.csv", file, map[string]string{"kind": "customer_prices", "mode": "upsert"})
	require.Equal(t, int64(1), v.Counts.Created, "%v", errorsOf(v))
	require.Equal(t, []string{"3 sku not_found", "4 customer_code not_found", "5 customer_code, sku duplicate_in_file"}, errorsOf(v))
	again := importFile(t, app, tn.AdminToken, "p.csv", "customer_code,sku,price\nP1,SKU-1,8.5\n", map[string]string{"kind": "customer_prices", "mode": "upsert"})
	require.Equal(t, int64(1), again.Counts.Unchanged)
}

// importingRep is a user who sees only their customers and may import.
func importingRep(t *testing.T, app *apptest.App, tn apptest.Tenant) apptest.User {
	t.Helper()
	resp := app.Post(t, "/v1/roles", tn.AdminToken, map[string]any{"name": "importer",
		"permissions": []string{"customers:read", "customers:write", "customers:import"}})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	return app.CreateUser(t, tn, "importer", map[string]any{"visibility": "assigned"})
}

// TestImportSalesRepReach: a sales rep's import creates customers that
// are theirs and updates only customers they see; rows about others are
// row errors, never silent writes.
func TestImportSalesRepReach(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	tn := app.Signup(t)
	rep := importingRep(t, app, tn)
	other := app.CreateUser(t, tn, "sales_rep", nil)
	app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Mine", "code": "R1", "sales_rep_id": rep.ID})
	app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Theirs", "code": "R2", "sales_rep_id": other.ID})
	file := "code,name,sales_rep_email\nR1,Mine renamed,\nR2,Taken over,\nR3,New,\nR4,For another," + other.Email + "\n"
	v := importFile(t, app, rep.Token, "c.csv", file, map[string]string{"mode": "upsert"})
	require.Equal(t, []string{"3 code code_taken", "5 sales_rep_email own_only"}, errorsOf(v))
	require.Equal(t, int64(1), v.Counts.Updated)
	require.Equal(t, int64(1), v.Counts.Created)
	require.Equal(t, "Theirs", customerByCode(t, app, tn.AdminToken, "R2")["name"], "a customer the rep does not see is not written")
	require.Equal(t, rep.ID, customerByCode(t, app, rep.Token, "R3")["sales_rep_id"], "a rep's new customer is theirs")
}

// TestImportAddressesGroupsCustomFields: one row carries the customer with
// its billing and shipping address, its group and a custom field; the
// same file again is unchanged; a changed city updates the location.
func TestImportAddressesGroupsCustomFields(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	tn := app.Signup(t)
	for path, body := range map[string]map[string]any{
		"/v1/customer-groups": {"category": "segment", "code": "RETAIL", "name": "Retail"},
		"/v1/custom-fields":   {"key": "loyalty", "label": "Loyalty Number", "type": "text"},
	} {
		r := app.Post(t, path, tn.AdminToken, body)
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	}
	file := "code,name,group_code,billing_address_line1,billing_city,billing_country,shipping_address_line1,shipping_city,shipping_country,Loyalty Number\n" +
		"G1,Groupie,retail,Jl. Merdeka 5,Bandung,ID,Gudang 2,Cimahi,ID,L-77\n" +
		"G2,Bad group,WHOLESALE,,,,,,,\n" +
		"G3,Bad country,,1 Main St,Springfield,Narnia,,,,\n"
	v := importFile(t, app, tn.AdminToken, "c.csv", file, nil)
	require.Equal(t, int64(1), v.Counts.Created, "%v", errorsOf(v))
	require.Equal(t, []string{"3 group_code unknown_reference", "4 billing_country invalid_country"}, errorsOf(v))
	c := customerByCode(t, app, tn.AdminToken, "G1")
	id := c["id"].(string)
	d := app.Get(t, "/v1/customers/"+id, tn.AdminToken)
	require.Contains(t, string(d.Body), `"RETAIL"`)
	require.Contains(t, string(d.Body), `"L-77"`)
	locs := app.Get(t, "/v1/customers/"+id+"/locations", tn.AdminToken)
	require.Equal(t, http.StatusOK, locs.Status, "%s", locs.Body)
	require.Contains(t, string(locs.Body), "Jl. Merdeka 5")
	require.Contains(t, string(locs.Body), "Cimahi")

	same := importFile(t, app, tn.AdminToken, "c.csv", file, map[string]string{"mode": "upsert"})
	require.Equal(t, int64(1), same.Counts.Unchanged, "%v", errorsOf(same))
	moved := strings.Replace(file, "Bandung", "Jakarta", 1)
	up := importFile(t, app, tn.AdminToken, "c.csv", moved, map[string]string{"mode": "upsert"})
	require.Equal(t, int64(1), up.Counts.Updated, "%v", errorsOf(up))
	locs = app.Get(t, "/v1/customers/"+id+"/locations", tn.AdminToken)
	require.Contains(t, string(locs.Body), "Jakarta")
	require.NotContains(t, string(locs.Body), "Bandung")
}

// TestImportRealFiles imports the same customers as LibreOffice saved them
// (xlsx, CSV with comma, semicolon, UTF-16 with tabs) for a tenant that
// writes dates day first: unicode names, a code with leading zeros, a
// percent cell, thousands separators, an unknown and a blank header, a
// quoted newline; a number in the other locale's format is a row error
// naming its column. The .ods and .xls saves of it are refused with 415.
func TestImportRealFiles(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	for _, name := range []string{"lo-customers.xlsx", "lo-customers-comma.csv", "lo-customers-semicolon.csv", "lo-customers-utf16-tab.csv"} {
		t.Run(name, func(t *testing.T) {
			tn := app.Signup(t)
			r := app.Patch(t, "/v1/settings", tn.AdminToken, "", map[string]any{"default_country": "GB"})
			if r.Status == http.StatusPreconditionRequired || r.Status == http.StatusPreconditionFailed {
				r = app.Do(t, apptest.Req{Method: http.MethodPatch, Path: "/v1/settings", Token: tn.AdminToken,
					Body: map[string]any{"default_country": "GB"}, Headers: map[string]string{"If-Match": "*"}})
			}
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			content, err := os.ReadFile(filepath.Join("..", "xlsx", "testdata", name))
			require.NoError(t, err)
			v := importFile(t, app, tn.AdminToken, name, string(content), nil)
			require.Equal(t, int64(3), v.Counts.Total)
			require.Equal(t, int64(2), v.Counts.Created, "%v", errorsOf(v))
			require.Equal(t, []string{"4 credit_limit invalid_number"}, errorsOf(v), "1.234.567,89 is not a number where 1,234,567.89 is")
			require.Equal(t, []string{"Favourite colour"}, v.UnknownColumns)
			id := customerByCode(t, app, tn.AdminToken, "00123")
			require.NotNil(t, id, "the code keeps its leading zeros")
			c := app.Get(t, "/v1/customers/"+id["id"].(string), tn.AdminToken).Map(t)
			require.Equal(t, "PT Maju Jaya Sentosa", c["name"])
			require.Equal(t, "12.50", c["discount_rate"], "a 12.5% cell is a 12.5 % discount")
			require.Contains(t, fmt.Sprint(c["credit_limit"]), "1234567.89")
			require.Equal(t, "2026-03-15", c["basis_date"], "15/03/2026, day first")
			require.Equal(t, "+6281234567890", c["phone"])
			k := customerByCode(t, app, tn.AdminToken, "000042")
			require.NotNil(t, k, "a zero-padded number keeps its digits")
			require.Equal(t, "주식회사 한빛", k["name"])
			kd := app.Get(t, "/v1/customers/"+k["id"].(string), tn.AdminToken).Map(t)
			require.Equal(t, "1999-12-31", kd["basis_date"])
			require.Equal(t, "=SUM(1,2)", kd["notes"], "text that looks like a formula stays text")
		})
	}
	tn := app.Signup(t)
	for _, name := range []string{"lo-customers.ods", "lo-customers.xls", "excelize-encrypted.xlsx"} {
		content, err := os.ReadFile(filepath.Join("..", "xlsx", "testdata", name))
		require.NoError(t, err)
		r := upload(t, app, tn.AdminToken, "customers.xlsx", content, nil)
		require.Equal(t, http.StatusUnsupportedMediaType, r.Status, "%s: %s", name, r.Body)
	}
}

// TestImportFileFailures: what can only be known by reading the file
// fails the import as a whole with a reason, writing nothing: a truncated
// workbook, text that turns invalid (named by row), a header without rows,
// more than 200 columns.
func TestImportFileFailures(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	tn := app.Signup(t)
	xl, err := os.ReadFile(filepath.Join("..", "xlsx", "testdata", "lo-customers.xlsx"))
	require.NoError(t, err)
	latin1, err := os.ReadFile(filepath.Join("..", "xlsx", "testdata", "latin1-row3.csv"))
	require.NoError(t, err)
	for name, c := range map[string]struct {
		content []byte
		reason  string
	}{
		"truncated.xlsx": {xl[:len(xl)/2], "damaged"},
		"latin1.csv":     {latin1, "row 3"},
		"header.csv":     {[]byte("code,name\r\n"), "no rows"},
		"wide.csv":       {[]byte("code,name" + strings.Repeat(",x", 199) + "\r\nW1,Wide\r\n"), "column"},
	} {
		r := upload(t, app, tn.AdminToken, name, c.content, nil)
		if r.Status == http.StatusUnsupportedMediaType {
			require.Equal(t, "truncated.xlsx", name, "%s", r.Body)
			continue
		}
		require.Equal(t, http.StatusAccepted, r.Status, "%s: %s", name, r.Body)
		var acc struct {
			Import importView `json:"import"`
			Job    struct{ ID string }
		}
		r.JSON(t, &acc)
		app.WaitJob(t, tn.AdminToken, acc.Job.ID)
		v := getImport(t, app, tn.AdminToken, acc.Import.ID)
		require.Equal(t, "failed", v.State, "%s: %+v", name, v)
		require.NotNil(t, v.Reason, name)
		require.Contains(t, *v.Reason, c.reason, name)
		require.Zero(t, v.Counts.Created, name)
	}
}

// TestImportErrorsPagedAndPurged: row errors page by row with
// errors_next_cursor; an import past its retention is deleted with its
// errors and its uploaded file by the purge, in the tenant's system scope.
func TestImportErrorsPagedAndPurged(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	tn := app.Signup(t)
	var file strings.Builder
	file.WriteString("code,name\n")
	for i := range 7 {
		fmt.Fprintf(&file, "E%d,\n", i)
	}
	v := importFile(t, app, tn.AdminToken, "c.csv", file.String(), nil)
	require.Equal(t, int64(7), v.Counts.Failed)
	var rows []int
	path := "/v1/imports/" + v.ID + "?limit=3"
	for path != "" {
		r := app.Get(t, path, tn.AdminToken)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var page importView
		r.JSON(t, &page)
		require.LessOrEqual(t, len(page.Errors), 3)
		for _, e := range page.Errors {
			rows = append(rows, e.Row)
		}
		path = ""
		if page.ErrorsNextCursor != nil {
			path = "/v1/imports/" + v.ID + "?limit=3&cursor=" + url.QueryEscape(*page.ErrorsNextCursor)
		}
	}
	require.Equal(t, []int{2, 3, 4, 5, 6, 7, 8}, rows)

	ctx := context.Background()
	tid := uuid.MustParse(tn.ID)
	sys := database.SystemScope(tid)
	var fileID uuid.UUID
	require.NoError(t, database.WithTenantTx(ctx, app.DB.App, sys, func(ctx context.Context, tx database.Tx) error {
		return tx.QueryRow(ctx, `UPDATE imports SET expires_at = now() - interval '1 hour' WHERE tenant_id = $1 AND id = $2 RETURNING file_id`,
			tid, uuid.MustParse(v.ID)).Scan(&fileID)
	}))
	svc := importer.NewService(app.DB.App, nil, nil, nil)
	n, err := database.WithTenantTxV(ctx, app.DB.App, sys, func(ctx context.Context, tx database.Tx) (int64, error) {
		return svc.Purge(ctx, tx, time.Now())
	})
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	require.Equal(t, http.StatusNotFound, app.Get(t, "/v1/imports/"+v.ID, tn.AdminToken).Status)
	require.NoError(t, database.WithTenantTx(ctx, app.DB.App, sys, func(ctx context.Context, tx database.Tx) error {
		var files, errs int
		require.NoError(t, tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM files WHERE tenant_id = $1 AND id = $2),
			(SELECT count(*) FROM import_errors WHERE tenant_id = $1 AND import_id = $3)`, tid, fileID, uuid.MustParse(v.ID)).Scan(&files, &errs))
		require.Zero(t, files, "the upload is deleted")
		require.Zero(t, errs, "the errors are deleted")
		return nil
	}))
}

// TestImportRecodeTaken: matched on e-mail, a row that gives its customer
// a code another customer has fails alone, under code; the other rows of
// the batch are written.
func TestImportRecodeTaken(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	tn := app.Signup(t)
	app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "A", "code": "A1", "email": "a@example.com"})
	app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "B", "code": "B1", "email": "b@example.com"})
	v := importFile(t, app, tn.AdminToken, "c.csv", "email,code,name\na@example.com,B1,A\nb@example.com,B2,Bee\n",
		map[string]string{"mode": "update", "match_on": "email"})
	require.Equal(t, []string{"2 code code_taken"}, errorsOf(v))
	require.Equal(t, int64(1), v.Counts.Updated)
	require.Equal(t, "Bee", customerByCode(t, app, tn.AdminToken, "B2")["name"])
	require.Equal(t, "A", customerByCode(t, app, tn.AdminToken, "A1")["name"])
}
