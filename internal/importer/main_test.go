package importer_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/group"
	"github.com/customerhub/customerhub/internal/importer"
	"github.com/customerhub/customerhub/internal/settings"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestColumnsFromDatabase: LoadTenant, the Resolver and the ExportFiller
// on a real tenant: a customer made through the API exports with its
// references by code and e-mail, its group and its addresses, and its
// exported row resolves back to the same ids; another tenant's codes and
// users resolve to nothing.
func TestColumnsFromDatabase(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	tn := app.Signup(t)
	other := app.Signup(t)
	rep := app.CreateUser(t, tn, "sales_rep", nil)
	otherRep := app.CreateUser(t, other, "sales_rep", nil)

	created := func(tok, path string, body map[string]any) string {
		resp := app.Post(t, path, tok, body)
		require.Equal(t, http.StatusCreated, resp.Status, "%s: %s", path, resp.Body)
		return resp.Map(t)["id"].(string)
	}
	termsID := created(tn.AdminToken, "/v1/payment-terms", map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
	listID := created(tn.AdminToken, "/v1/price-lists", map[string]any{"code": "WHOLESALE", "name": "Wholesale", "currency": "USD"})
	created(tn.AdminToken, "/v1/customer-groups", map[string]any{"category": "segment", "code": "RETAIL", "name": "Retail"})
	created(other.AdminToken, "/v1/customer-groups", map[string]any{"category": "segment", "code": "ELSEWHERE", "name": "Other tenant's"})
	cust := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Toko Makmur", "email": "toko@example.com",
		"sales_rep_id": rep.ID, "payment_terms_id": termsID, "price_list_id": listID, "groups": map[string]any{"segment": "RETAIL"}})
	custID := cust["id"].(string)
	created(tn.AdminToken, "/v1/customers/"+custID+"/locations", map[string]any{"label": "Head office", "line1": "Jl. Merdeka 5",
		"city": "Bandung", "postal_code": "40111", "country": "ID", "kinds": []string{"billing", "shipping"},
		"default_billing": true, "default_shipping": true})

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	groups := group.NewService(logger)
	st := settings.NewService(logger)
	customers := customer.NewService(logger, groups, st)
	ctx := context.Background()
	err := database.WithTenantTx(ctx, app.DB.App, database.SystemScope(uuid.MustParse(tn.ID)), func(ctx context.Context, tx database.Tx) error {
		env, err := st.Env(ctx, tx)
		require.NoError(t, err)
		tenantLists, err := importer.LoadTenant(ctx, tx, env)
		require.NoError(t, err)
		require.Len(t, tenantLists.Categories, 1)
		require.Len(t, tenantLists.Groups, 1, "only this tenant's groups")
		cols := importer.CustomerColumns(tenantLists)

		d, err := customers.Get(ctx, tx, uuid.MustParse(custID))
		require.NoError(t, err)
		recs, err := importer.NewExportFiller(tenantLists).Fill(ctx, tx, []customer.Detail{d})
		require.NoError(t, err)
		require.Len(t, recs, 1)
		rec := &recs[0]
		values := map[string]any{}
		for _, c := range cols {
			values[c.Header] = c.Export(rec)
		}
		require.Equal(t, rep.Email, values["sales_rep_email"])
		require.Equal(t, "NET30", values["payment_terms"])
		require.Equal(t, "WHOLESALE", values["price_list"])
		require.Equal(t, "RETAIL", values["group_code"])
		require.Equal(t, "Jl. Merdeka 5", values["billing_address_line1"])
		require.Equal(t, "Bandung", values["shipping_city"])
		require.Equal(t, "40111", values["postal_code"])

		rows := make([]importer.Row, 2)
		for _, c := range cols {
			require.NoError(t, c.Import(&rows[0], values[c.Header]), c.Header)
		}
		for h, v := range map[string]any{"sales_rep_email": otherRep.Email, "group_code": "ELSEWHERE", "name": "x"} {
			c, _ := importer.ForField(cols, map[string]string{"sales_rep_email": "sales_rep_id", "group_code": "groups.segment", "name": "name"}[h])
			require.NoError(t, c.Import(&rows[1], v))
		}
		res := importer.NewResolver(tenantLists)
		require.NoError(t, res.LoadSalesReps(ctx, tx, rows))
		require.Empty(t, res.Resolve(&rows[0]))
		require.Equal(t, rep.ID, rows[0].Customer.SalesRepID.Value.String())
		require.Equal(t, termsID, rows[0].Customer.PaymentTermsID.Value.String())
		require.Equal(t, listID, rows[0].Customer.PriceListID.Value.String())

		errs := res.Resolve(&rows[1])
		var fields []string
		for _, e := range errs {
			fields = append(fields, e.Field)
		}
		require.Equal(t, []string{"sales_rep_email", "group_code"}, fields, "another tenant's user and group are unknown here")
		return nil
	}, database.ReadOnly)
	require.NoError(t, err)
}
