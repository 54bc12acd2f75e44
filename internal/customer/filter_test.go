package customer_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/customer/gen/filtergen"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/sms"
	"github.com/customerhub/customerhub/internal/twiliostandin"
)

// TestGeneratedFilterCurrent fails when filter_gen.go is not what the
// filter's fragment and the sqlc output generate now (run make generate).
func TestGeneratedFilterCurrent(t *testing.T) {
	t.Parallel()
	want, err := filtergen.Source("../../queries", "../dbsqlc")
	require.NoError(t, err)
	got, err := os.ReadFile("filter_gen.go")
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "filter_gen.go is stale: run make generate")
}

// TestFilterSelectsAlike holds every way the list's filter selects
// customers to the same customers, for every filter the list takes and
// as an admin and as a user who sees only the customers assigned to them:
// the list (paged), its count, the CSV export, a bulk update's selection
// (the job's targets) and an SMS campaign's (its messages). Each filter's
// value selects some but not all of the fixture's customers.
func TestFilterSelectsAlike(t *testing.T) {
	t.Parallel()
	const acct, authToken = "AC0123456789abcdef0123456789abcdef", "Tok3nSecretValue0123456789abcXYZ"
	st := twiliostandin.New(twiliostandin.Options{Accounts: []twiliostandin.Account{{SID: acct, AuthToken: authToken}}})
	hs := httptest.NewServer(st)
	t.Cleanup(func() { hs.Close(); st.Close() })
	key := make([]byte, sms.SecretKeySize)
	_, err := rand.Read(key)
	require.NoError(t, err)
	// A database of its own: its workers run this test's bulk updates
	// and send its notices to this test's stand-in.
	app := apptest.New(t, dbtest.Fresh(t), map[string]string{
		"CUSTOMERHUB_SECRET_KEY":      base64.StdEncoding.EncodeToString(key),
		"CUSTOMERHUB_TWILIO_API_URL":  hs.URL,
		"CUSTOMERHUB_PUBLIC_BASE_URL": "http://127.0.0.1:1",
	})
	app.StartWorkers(t)
	tn := app.Signup(t)
	admin := tn.AdminToken
	now := time.Now().UTC()
	resp := app.Patch(t, "/v1/sms/settings", admin, `"1"`, map[string]any{
		"account_sid": acct, "auth_token": authToken, "from_number": "+14155550100", "time_zone": "UTC",
		"quiet_start": now.Add(-time.Hour).Format("15:04"), "quiet_end": now.Add(3 * time.Hour).Format("15:04"),
		"rate_per_second": 50,
	})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	// rep sees the customers assigned to them and may export, update in
	// bulk and send notices.
	rep := app.CreateUser(t, tn, "manager", map[string]any{"visibility": "assigned"})
	terms := app.Post(t, "/v1/payment-terms", admin, map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30}).Map(t)["id"].(string)
	app.Post(t, "/v1/customer-groups", admin, map[string]any{"category": "tier", "code": "GOLD", "name": "Gold"})
	app.Post(t, "/v1/custom-fields", admin, map[string]any{"key": "region", "label": "Region", "type": "text"})

	recent, old := now.AddDate(0, -1, 0), now.AddDate(-2, 0, 0)
	type fixture struct {
		body             map[string]any
		balance, overdue string
		lastOrder        *time.Time
		country          string
	}
	fixtures := []fixture{
		{map[string]any{"name": "Alpha Ltd", "sales_rep_id": rep.ID, "payment_terms_id": terms, "billing_status": "current",
			"groups": map[string]any{"tier": "GOLD"}, "custom": map[string]any{"region": "north"}}, "100.00", "40.00", &recent, "DE"},
		{map[string]any{"name": "Beta Person", "type": "individual", "sales_rep_id": rep.ID, "billing_status": "on_hold"}, "-20.00", "0", &old, "US"},
		{map[string]any{"name": "Gamma GmbH", "kind": "vendor", "payment_terms_id": terms, "groups": map[string]any{"tier": "GOLD"},
			"custom": map[string]any{"region": "north"}}, "0", "0", nil, "DE"},
		{map[string]any{"name": "Delta Co", "kind": "both", "status": "dormant", "sales_rep_id": rep.ID}, "50.00", "50.00", &old, "FR"},
		{map[string]any{"name": "Epsilon", "type": "individual", "billing_status": "on_hold", "custom": map[string]any{"region": "south"}},
			"10.00", "0", &recent, "US"},
		{map[string]any{"name": "Zeta", "status": "inactive", "sales_rep_id": rep.ID, "groups": map[string]any{"tier": "GOLD"}}, "0", "0", nil, ""},
		{map[string]any{"name": "Eta Widget", "sales_rep_id": rep.ID, "payment_terms_id": terms}, "-5.00", "0", &recent, "DE"},
		{map[string]any{"name": "Theta Widget", "kind": "vendor"}, "30.00", "10.00", &old, ""},
	}
	byCode := map[string]string{}
	for i, f := range fixtures {
		f.body["code"] = fmt.Sprintf("F%d", i)
		id := app.CreateCustomer(t, admin, f.body)["id"].(string)
		byCode[f.body["code"].(string)] = id
		setFigures(t, app, tn, id, f.balance, "0", f.lastOrder, ", overdue_amount = $5, country = nullif($6, '')", f.overdue, f.country)
	}

	// One case per filter the list takes (ListFilters, group.<category>,
	// custom.<key>); status=all would select every customer, so status
	// names two.
	between := func(t time.Time) string { return t.Format(time.DateOnly) }
	cases := map[string]map[string]string{
		"q":                {"q": "widget"},
		"type":             {"type": "individual"},
		"kind":             {"kind": "vendor"},
		"status":           {"status": "active,dormant"},
		"sales_rep_id":     {"sales_rep_id": rep.ID},
		"payment_terms_id": {"payment_terms_id": terms},
		"billing_status":   {"billing_status": "on_hold"},
		"country":          {"country": "de"},
		"has_balance":      {"has_balance": "true"},
		"has_credit":       {"has_credit": "true"},
		"overdue":          {"overdue": "true"},
		"engaged":          {"engaged": "true"},
		"last_order_from":  {"last_order_from": between(now.AddDate(0, -6, 0))},
		"last_order_to":    {"last_order_to": between(now.AddDate(0, -6, 0))},
		"group.":           {"group.tier": "GOLD"},
		"custom.":          {"custom.region": "north"},
	}
	for _, name := range append(slices.Clone(customer.ListFilters), "group.", "custom.") {
		require.Contains(t, cases, name, "a case for every list filter")
	}
	require.Len(t, cases, len(customer.ListFilters)+2)

	// sets sorts ids for comparison.
	sets := func(ids []string) []string {
		out := append([]string{}, ids...)
		sort.Strings(out)
		return out
	}
	query := func(f map[string]string) string {
		v := url.Values{}
		for k, val := range f {
			v.Set(k, val)
		}
		return v.Encode()
	}
	list := func(t *testing.T, token string, f map[string]string) []string {
		return sets(collect(t, app, token, query(f), 2))
	}
	count := func(t *testing.T, token string, f map[string]string) int64 {
		var page listPage
		resp := app.Get(t, "/v1/customers?count=exact&limit=1&"+query(f), token)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		resp.JSON(t, &page)
		return *page.Total
	}
	export := func(t *testing.T, token string, f map[string]string) []string {
		resp := app.Get(t, "/v1/customers/export?format=csv&fields=code&"+query(f), token)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(resp.Body, []byte("\xef\xbb\xbf")))).ReadAll()
		require.NoError(t, err)
		var ids []string
		for _, r := range recs[1:] {
			ids = append(ids, byCode[r[0]])
		}
		return sets(ids)
	}
	selection := func(f map[string]string) map[string]any {
		filter := map[string]any{}
		for k, v := range f {
			filter[k] = v
		}
		return map[string]any{"filter": filter}
	}
	day := 0
	bulkTargets := func(t *testing.T, token string, f map[string]string) []string {
		// The job drops its targets when it ends; it changes each of them
		// (to a basis date none has yet, harmless to the filters) and
		// records an audit event for each.
		day++
		resp := app.Post(t, "/v1/customers/bulk-update", token,
			bulk(selection(f), map[string]any{"basis_date": between(now.AddDate(0, 0, -day))}, false))
		require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
		jobID := apptest.JobID(t, resp)
		job := app.WaitJob(t, token, jobID)
		require.Equal(t, "succeeded", job["state"], "%v", job)
		var ids []string
		tid := uuid.MustParse(tn.ID)
		err := database.WithTenantTx(context.Background(), app.DB.App, database.SystemScope(tid),
			func(ctx context.Context, tx database.Tx) error {
				rows, err := tx.Query(ctx, `SELECT entity_id::text FROM audit_events
					WHERE tenant_id = $1 AND request_id = $2 AND entity = 'customer'`, tid, "job:"+jobID)
				if err != nil {
					return err
				}
				ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
				return err
			})
		require.NoError(t, err)
		require.EqualValues(t, len(ids), job["result"].(map[string]any)["matched"], "%v", job)
		return sets(ids)
	}
	noticed := func(t *testing.T, token string, f map[string]string) []string {
		resp := app.Post(t, "/v1/sms/receivable-notices", token, map[string]any{"selection": selection(f), "template": "Please settle {balance}"})
		require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
		var camp struct {
			Campaign struct {
				ID string `json:"id"`
			} `json:"campaign"`
		}
		resp.JSON(t, &camp)
		require.NotEmpty(t, camp.Campaign.ID, "%s", resp.Body)
		var msgs struct {
			Items []struct {
				SelectedID string `json:"selected_id"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		resp = app.Get(t, "/v1/sms/messages?limit=200&campaign_id="+camp.Campaign.ID, token)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		resp.JSON(t, &msgs)
		require.Nil(t, msgs.NextCursor)
		var ids []string
		for _, m := range msgs.Items {
			ids = append(ids, m.SelectedID)
		}
		return sets(ids)
	}

	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f := cases[name]
		t.Run(strings.TrimSuffix(name, "."), func(t *testing.T) {
			wantAdmin := list(t, admin, f)
			require.NotEmpty(t, wantAdmin, "the value selects some customers")
			require.Less(t, len(wantAdmin), len(fixtures), "the value selects not all customers")
			for _, who := range []struct{ name, token string }{{"Admin", admin}, {"Assigned", rep.Token}} {
				want := wantAdmin
				if who.token != admin {
					want = list(t, who.token, f)
					require.Subset(t, wantAdmin, want)
				}
				require.EqualValues(t, len(want), count(t, who.token, f), "%s: count", who.name)
				require.Equal(t, want, export(t, who.token, f), "%s: export", who.name)
				require.Equal(t, want, bulkTargets(t, who.token, f), "%s: bulk selection", who.name)
				require.Equal(t, want, noticed(t, who.token, f), "%s: SMS notice selection", who.name)
			}
		})
	}
}
