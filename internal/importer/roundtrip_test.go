package importer_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/group"
	"github.com/customerhub/customerhub/internal/importer"
	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/xlsx"
)

// TestColumnTableRoundTrip writes the tenant's customers as an export
// does (the column table's values through the xlsx and CSV writers) and
// imports the file back in upsert mode: every row is unchanged, and
// nothing is written.
func TestColumnTableRoundTrip(t *testing.T) {
	t.Parallel()
	app := newApp(t)
	tn := app.Signup(t)
	rep := app.CreateUser(t, tn, "sales_rep", nil)
	post := func(path string, body map[string]any) string {
		r := app.Post(t, path, tn.AdminToken, body)
		require.Equal(t, http.StatusCreated, r.Status, "%s: %s", path, r.Body)
		return r.Map(t)["id"].(string)
	}
	terms := post("/v1/payment-terms", map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
	list := post("/v1/price-lists", map[string]any{"code": "WHOLESALE", "name": "Wholesale", "currency": "USD"})
	post("/v1/customer-groups", map[string]any{"category": "segment", "code": "RETAIL", "name": "Retail"})
	post("/v1/custom-fields", map[string]any{"key": "loyalty", "label": "Loyalty", "type": "text"})
	full := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Toko Makmur", "code": "00042", "email": "toko@example.com",
		"phone": "+62 812 3456 7890", "website": "https://toko.example", "tax_number": "01.234.567.8-901.000", "currency": "IDR",
		"discount_rate": "12.5", "credit_limit": "1500000.50", "credit_period_days": 30, "basis_date": "2026-03-15",
		"sales_rep_id": rep.ID, "payment_terms_id": terms, "price_list_id": list, "notes": "=not a formula",
		"groups": map[string]any{"segment": "RETAIL"}, "custom": map[string]any{"loyalty": "L-1"}})
	post("/v1/customers/"+full["id"].(string)+"/locations", map[string]any{"label": "HQ", "line1": "Jl. Merdeka 5", "city": "Bandung",
		"postal_code": "40111", "country": "ID", "kinds": []string{"billing", "shipping"}})
	app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "서울상사"})
	app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Bare", "type": "individual", "kind": "vendor"})

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := settings.NewService(logger)
	customers := customer.NewService(logger, group.NewService(logger), st)
	files := map[xlsx.Format]*bytes.Buffer{xlsx.FormatXLSX: {}, xlsx.FormatCSV: {}}
	err := database.WithTenantTx(context.Background(), app.DB.App, database.SystemScope(uuid.MustParse(tn.ID)), func(ctx context.Context, tx database.Tx) error {
		env, err := st.Env(ctx, tx)
		require.NoError(t, err)
		tl, err := importer.LoadTenant(ctx, tx, env)
		require.NoError(t, err)
		cols := importer.CustomerColumns(tl)
		rows, err := tx.Query(ctx, `SELECT id FROM customers WHERE tenant_id = $1 ORDER BY code`, tx.TenantID())
		require.NoError(t, err)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		require.NoError(t, err)
		require.Len(t, ids, 3)
		var ds []customer.Detail
		for _, id := range ids {
			d, err := customers.Get(ctx, tx, id)
			require.NoError(t, err)
			ds = append(ds, d)
		}
		recs, err := importer.NewExportFiller(tl).Fill(ctx, tx, ds)
		require.NoError(t, err)
		for format, buf := range files {
			var wcols []xlsx.Column
			for _, c := range cols {
				wcols = append(wcols, xlsx.Column{Header: c.Header, Required: c.Required})
			}
			w, err := xlsx.NewWriter(buf, format, xlsx.WriterOptions{Columns: wcols})
			require.NoError(t, err)
			for i := range recs {
				vals := make([]any, len(cols))
				for j, c := range cols {
					vals[j] = c.Export(&recs[i])
				}
				require.NoError(t, w.WriteRow(vals))
			}
			require.NoError(t, w.Close())
		}
		return nil
	}, database.ReadOnly)
	require.NoError(t, err)
	for format, buf := range files {
		v := importFile(t, app, tn.AdminToken, "export."+format.String(), buf.String(), map[string]string{"mode": "upsert"})
		require.Equal(t, "succeeded", v.State, "%s", format)
		require.Equal(t, int64(3), v.Counts.Unchanged, "%s: %+v %v", format, v.Counts, errorsOf(v))
	}
	after := app.Get(t, "/v1/customers/"+full["id"].(string), tn.AdminToken).Map(t)
	require.EqualValues(t, 1, after["version"], "nothing was written")
}
