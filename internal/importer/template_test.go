package importer_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/xlsx"
)

// TestImportTemplate: the template carries this tenant's columns (custom
// fields and group categories included), required ones marked, an example
// row, and in xlsx drop-down lists on the coded columns.
func TestImportTemplate(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	tn := app.Signup(t)
	other := app.Signup(t)
	for path, body := range map[string]map[string]any{
		"/v1/custom-fields":   {"key": "tier", "label": "Tier", "type": "select", "options": []string{"gold", "silver"}, "required": true},
		"/v1/customer-groups": {"category": "region", "code": "NORTH", "name": "North"},
		"/v1/payment-terms":   {"code": "NET30", "name": "Net 30", "due_days": 30},
	} {
		resp := app.Post(t, path, tn.AdminToken, body)
		require.Equal(t, http.StatusCreated, resp.Status, "%s: %s", path, resp.Body)
	}
	settings := app.Get(t, "/v1/settings", tn.AdminToken)
	resp := app.Patch(t, "/v1/settings", tn.AdminToken, settings.Header.Get("ETag"), map[string]any{"required_fields": []string{"email"}})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	t.Run("XLSX", func(t *testing.T) {
		resp := app.Get(t, "/v1/imports/template.xlsx", tn.AdminToken)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, xlsx.FormatXLSX.ContentType(), resp.Header.Get("Content-Type"))
		require.Equal(t, "attachment; filename=customers-import-template.xlsx", resp.Header.Get("Content-Disposition"))
		f, err := excelize.OpenReader(bytes.NewReader(resp.Body))
		require.NoError(t, err)
		defer f.Close()
		sheet := f.GetSheetName(0)
		rows, err := f.GetRows(sheet)
		require.NoError(t, err)
		require.Len(t, rows, 2, "the header and one example row")
		header := rows[0]
		require.Equal(t, []string{"code", "name *", "customer_type", "email *"}, header[:4], "required columns marked")
		require.Contains(t, header, "group_code")
		require.Contains(t, header, "payment_terms")
		require.Contains(t, header, "tier *", "a required custom field")
		example := rows[1]
		require.Equal(t, "C-0001", example[0])
		require.Equal(t, "Example Trading Ltd", example[1])
		require.Equal(t, "NORTH", example[slices.Index(header, "group_code")])
		require.Equal(t, "gold", example[slices.Index(header, "tier *")])

		// Drop-down lists on the coded columns.
		dvs, err := f.GetDataValidations(sheet)
		require.NoError(t, err)
		lists := map[string]string{}
		for _, dv := range dvs {
			col := strings.TrimRight(strings.Split(dv.Sqref, ":")[0], "0123456789")
			n, err := excelize.ColumnNameToNumber(col)
			require.NoError(t, err)
			lists[header[n-1]] = dv.Formula1
		}
		require.Contains(t, lists["customer_type"], "individual,company")
		require.Contains(t, lists["group_code"], "NORTH")
		require.Contains(t, lists["payment_terms"], "NET30")
		require.Contains(t, lists["tier *"], "gold,silver")
		require.NotContains(t, lists, "name *", "free text has no list")
	})

	t.Run("CSV", func(t *testing.T) {
		resp := app.Get(t, "/v1/imports/template.csv", tn.AdminToken)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, xlsx.FormatCSV.ContentType(), resp.Header.Get("Content-Type"))
		header, rows := readCSV(t, resp.Body)
		require.Equal(t, []string{"code", "name *", "customer_type", "email *"}, header[:4])
		require.Contains(t, header, "tier *")
		require.Len(t, rows, 1)
		require.Equal(t, "accounts@example.com", rows[0][3])
	})

	t.Run("OtherTenantHasItsOwn", func(t *testing.T) {
		resp := app.Get(t, "/v1/imports/template.csv", other.AdminToken)
		require.Equal(t, http.StatusOK, resp.Status)
		header, _ := readCSV(t, resp.Body)
		require.NotContains(t, header, "tier *")
		require.NotContains(t, header, "tier")
		require.Equal(t, "email", header[3], "the other tenant does not require e-mail")
	})

	t.Run("NeedsImportPermission", func(t *testing.T) {
		for _, role := range []string{"viewer", "sales_rep", "accounts"} {
			u := app.CreateUser(t, tn, role, nil)
			require.Equal(t, http.StatusForbidden, app.Get(t, "/v1/imports/template.xlsx", u.Token).Status, role)
		}
		manager := app.CreateUser(t, tn, "manager", nil)
		require.Equal(t, http.StatusOK, app.Get(t, "/v1/imports/template.xlsx", manager.Token).Status)
	})
}
