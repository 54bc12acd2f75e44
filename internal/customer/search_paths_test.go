package customer_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// TestSearchPathsAgree pages through whole-tenant searches that take each
// of customer_search_page's ways (a common word fills the page while the
// sort's index is walked; a rare one is collected through the trigram
// index; one the walk does not meet but with more matches than the
// collection's cap is walked to the end) in several sorts, and holds every
// answer to a plain query's, in order, ties included.
func TestSearchPathsAgree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	app := apptest.New(t, dbtest.Shared(t), nil)
	tn := app.Signup(t)
	// 3,000 customers: "common" in every second one; "rare" in ten;
	// "lowword" in the 1,200 of lowest balance, which a walk of the
	// highest balances does not meet (the collection's cap is 1,000).
	// created_at is one value for all: that sort is decided by id.
	err := database.WithTenantTx(ctx, app.DB.App, database.SystemScope(uuid.MustParse(tn.ID)),
		func(ctx context.Context, tx database.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, code, name, balance, custom)
				SELECT $1, gen_random_uuid(), 'P' || lpad((g * 7919 % 3000)::text, 4, '0'),
				       'Item ' || g || CASE WHEN g % 2 = 0 THEN ' common' ELSE '' END
				                   || CASE WHEN g % 300 = 7 THEN ' rare' ELSE '' END
				                   || CASE WHEN g <= 1200 THEN ' lowword' ELSE '' END,
				       g, '{}'
				  FROM generate_series(1, 3000) g
				ON CONFLICT ON CONSTRAINT customers_pkey DO NOTHING`, tn.ID)
			return err
		})
	require.NoError(t, err)

	orders := map[string]string{ // sort → ORDER BY of the reference (constants of this test)
		"-balance": "balance DESC, id DESC", "name": "name, id", "-code": "code DESC, id DESC", "created_at": "created_at, id",
	}
	for _, term := range []string{"common", "rare", "lowword"} {
		for sort, order := range orders {
			var want []string
			err := database.WithTenantTx(ctx, app.DB.App, database.SystemScope(uuid.MustParse(tn.ID)),
				func(ctx context.Context, tx database.Tx) error {
					rows, err := tx.Query(ctx, `SELECT id::text FROM customers
						WHERE tenant_id = $1 AND status = 'active' AND search_text LIKE '%' || $2 || '%'
						ORDER BY `+order, tn.ID, term)
					if err != nil {
						return err
					}
					want, err = pgx.CollectRows(rows, pgx.RowTo[string])
					return err
				}, database.ReadOnly)
			require.NoError(t, err)
			require.NotEmpty(t, want)
			got := collect(t, app, tn.AdminToken, "q="+term+"&sort="+url.QueryEscape(sort), 51)
			require.Equal(t, want, got, "q=%s sort=%s", term, sort)
		}
	}
}

// TestRepSearchSeesTheirReach: a sales rep's search, alone or with another
// filter (customer_search_page, customer_search_ids), finds their own
// customers, those granted to them and those whose location they are the
// rep of, once each, and no other.
func TestRepSearchSeesTheirReach(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	tn := app.Signup(t)
	rep := app.CreateUser(t, tn, "sales_rep", nil)
	other := app.CreateUser(t, tn, "sales_rep", nil)
	customer := func(name, repID string) string {
		body := map[string]any{"name": name}
		if repID != "" {
			body["sales_rep_id"] = repID
		}
		return app.CreateCustomer(t, tn.AdminToken, body)["id"].(string)
	}
	own := customer("Acme Own", rep.ID)
	granted := customer("Acme Granted", other.ID)
	resp := app.Post(t, "/v1/users/"+rep.ID+"/customer-grants", tn.AdminToken, map[string]any{"customer_id": granted})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	located := customer("Acme Located", other.ID)
	resp = app.Post(t, "/v1/customers/"+located+"/locations", tn.AdminToken, map[string]any{
		"label": "Depot", "line1": "1 Main St", "city": "Cork", "country": "IE", "kinds": []string{"shipping"}, "sales_rep_id": rep.ID})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	customer("Acme Elsewhere", other.ID)
	customer("Acme Nobody's", "")

	want := []string{granted, located, own} // by name
	require.Equal(t, want, collect(t, app, rep.Token, "q=acme", 2))
	require.Equal(t, want, collect(t, app, rep.Token, "q=acme&type=company", 2))
	require.Equal(t, []string{granted}, collect(t, app, rep.Token, "q=granted", 10))
	require.Empty(t, collect(t, app, rep.Token, "q=elsewhere", 10))
}
