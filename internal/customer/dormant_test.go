package customer_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/server"
	"github.com/customerhub/customerhub/workers"
)

// dormantTenant is a tenant seeded with one customer of every case the
// sweep must tell apart.
type dormantTenant struct {
	tn  apptest.Tenant
	ids map[string]string
	// swept are the names the sweep must mark (with the default settings).
	swept []string
}

// dormantBundle is what the dormant tests share: a database of their own
// (the scheduler walks every tenant), workers, and a superuser connection
// to age customers.
type dormantBundle struct {
	app *apptest.App
	raw *pgx.Conn
}

func newDormantBundle(t *testing.T) dormantBundle {
	t.Helper()
	db := dbtest.Fresh(t)
	app := apptest.New(t, db, smallBatches)
	app.StartWorkers(t)
	raw, err := pgx.Connect(context.Background(), dbtest.URLFor(db.Name, "postgres"))
	require.NoError(t, err)
	t.Cleanup(func() { raw.Close(context.Background()) })
	return dormantBundle{app: app, raw: raw}
}

func daysAgo(n int) string { return time.Now().UTC().AddDate(0, 0, -n).Format(time.DateOnly) }

func (b dormantBundle) post(t *testing.T, token, path string, body any, want int) map[string]any {
	t.Helper()
	resp := b.app.Post(t, path, token, body)
	require.Equal(t, want, resp.Status, "POST %s: %s", path, resp.Body)
	return resp.Map(t)
}

// seed makes the tenant's customers. All but "fresh" were created 800
// days ago; the window is the default 365 days.
func (b dormantBundle) seed(t *testing.T) dormantTenant {
	t.Helper()
	app := b.app
	tn := app.Signup(t)
	d := dormantTenant{tn: tn, ids: map[string]string{}}
	b.post(t, tn.AdminToken, "/v1/items", map[string]any{"sku": "W", "name": "Widget", "base_price": "100.00"}, http.StatusCreated)
	mk := func(name string) string {
		id := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": name})["id"].(string)
		d.ids[name] = id
		return id
	}
	order := func(cust, date string) string {
		return b.post(t, tn.AdminToken, "/v1/sales-orders", map[string]any{"customer_id": cust, "order_date": date,
			"lines": []any{map[string]any{"sku": "W", "quantity": "1"}}}, http.StatusCreated)["id"].(string)
	}
	pay := func(cust, date, amount string, orderID *string) {
		body := map[string]any{"customer_id": cust, "amount": amount, "received_at": date}
		if orderID != nil {
			body["order_id"] = *orderID
		}
		b.post(t, tn.AdminToken, "/v1/payments", body, http.StatusCreated)
	}
	for i := range 9 {
		name := fmt.Sprintf("quiet %d", i)
		mk(name)
		d.swept = append(d.swept, name)
	}
	// Ordered and paid long ago: nothing in the window.
	o := order(mk("old order"), daysAgo(700))
	pay(d.ids["old order"], daysAgo(690), "100.00", &o)
	d.swept = append(d.swept, "old order")
	// An order in the window (paid, so only the order keeps it).
	o = order(mk("recent order"), daysAgo(3))
	pay(d.ids["recent order"], daysAgo(700), "100.00", &o)
	// A payment in the window (a credit balance, not an open one).
	pay(mk("recent payment"), daysAgo(2), "10.00", nil)
	// Owes money since long ago.
	order(mk("open balance"), daysAgo(700))
	mk("fresh")
	inactive := mk("inactive")
	resp := app.Patch(t, "/v1/customers/"+inactive, tn.AdminToken, "*", map[string]any{"status": "inactive"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	already := mk("already dormant")
	resp = app.Patch(t, "/v1/customers/"+already, tn.AdminToken, "*", map[string]any{"status": "dormant"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	var aged []uuid.UUID
	for name, id := range d.ids {
		if name != "fresh" {
			aged = append(aged, uuid.MustParse(id))
		}
	}
	_, err := b.raw.Exec(context.Background(), `UPDATE customers SET created_at = now() - interval '800 days' WHERE id = ANY ($1)`, aged)
	require.NoError(t, err)
	return d
}

// statuses reads every customer's status by name.
func (b dormantBundle) statuses(t *testing.T, d dormantTenant) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, id := range d.ids {
		var s string
		require.NoError(t, b.raw.QueryRow(context.Background(), `SELECT status FROM customers WHERE id = $1`, id).Scan(&s))
		out[name] = s
	}
	return out
}

// want is the statuses after the seeded customers in swept became dormant.
func (d dormantTenant) want(swept ...string) map[string]string {
	out := map[string]string{}
	for name := range d.ids {
		out[name] = "active"
	}
	out["inactive"], out["already dormant"] = "inactive", "dormant"
	for _, name := range swept {
		out[name] = "dormant"
	}
	return out
}

type sweepEvent struct {
	CustomerID string
	Actor      *string
	Changes    string
}

// sweepEvents reads the audit events a sweep job recorded.
func (b dormantBundle) sweepEvents(t *testing.T, jobID string) []sweepEvent {
	t.Helper()
	rows, err := b.raw.Query(context.Background(), `SELECT entity_id::text, actor_id::text, changes::text FROM audit_events
		WHERE request_id = $1 AND entity = 'customer' ORDER BY entity_id`, customer.OriginSweep+jobID)
	require.NoError(t, err)
	evs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[sweepEvent])
	require.NoError(t, err)
	return evs
}

func (d dormantTenant) idsOf(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = d.ids[n]
	}
	slices.Sort(out)
	return out
}

func TestDormantSweep(t *testing.T) {
	t.Parallel()
	b := newDormantBundle(t)
	app := b.app
	a, other := b.seed(t), b.seed(t)
	rep := app.CreateUser(t, a.tn, "sales_rep", nil)
	viewer := app.CreateUser(t, a.tn, "viewer", nil)

	t.Run("Forbidden", func(t *testing.T) {
		// A rep may edit customers but does not see them all; a viewer
		// may not edit.
		for _, tok := range []string{rep.Token, viewer.Token} {
			resp := app.Post(t, "/v1/dormant-sweeps", tok, map[string]any{})
			require.Equal(t, http.StatusForbidden, resp.Status, "%s", resp.Body)
		}
		resp := app.Post(t, "/v1/dormant-sweeps", a.tn.AdminToken, map[string]any{"before": "tomorrow"})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		require.Contains(t, string(resp.Body), `"before"`)
		resp = app.Post(t, "/v1/dormant-sweeps", a.tn.AdminToken, map[string]any{"before": time.Now().AddDate(0, 0, 2).Format(time.DateOnly)})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
		require.Contains(t, string(resp.Body), `"before"`)
		resp = app.Post(t, "/v1/dormant-sweeps", a.tn.AdminToken, map[string]any{"dry_run": true, "extra": 1})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		require.Equal(t, a.want(), b.statuses(t, a))
	})

	t.Run("DryRunCounts", func(t *testing.T) {
		out := b.post(t, a.tn.AdminToken, "/v1/dormant-sweeps", map[string]any{"dry_run": true}, http.StatusOK)
		require.EqualValues(t, len(a.swept), out["count"])
		var got []string
		for _, it := range out["items"].([]any) {
			got = append(got, it.(map[string]any)["id"].(string))
		}
		slices.Sort(got)
		require.Equal(t, a.idsOf(a.swept...), got)
		// An earlier cutoff: the old order (700 days ago) is activity
		// since it.
		out = b.post(t, a.tn.AdminToken, "/v1/dormant-sweeps", map[string]any{"dry_run": true, "before": daysAgo(750)}, http.StatusOK)
		require.EqualValues(t, 9, out["count"])
		// Before the customers existed: none.
		out = b.post(t, a.tn.AdminToken, "/v1/dormant-sweeps", map[string]any{"dry_run": true, "before": daysAgo(900)}, http.StatusOK)
		require.EqualValues(t, 0, out["count"])
		require.Equal(t, a.want(), b.statuses(t, a), "a dry run changes nothing")
	})

	var sweptA []string
	t.Run("SweepMarksExactlyTheQuiet", func(t *testing.T) {
		resp := app.Post(t, "/v1/dormant-sweeps", a.tn.AdminToken, map[string]any{})
		jobID := apptest.JobID(t, resp)
		job := app.WaitJob(t, a.tn.AdminToken, jobID)
		require.Equal(t, "succeeded", job["state"], "%v", job)
		require.EqualValues(t, len(a.swept), job["result"].(map[string]any)["changed"])
		require.Equal(t, a.want(a.swept...), b.statuses(t, a))
		require.Equal(t, other.want(), b.statuses(t, other), "the other tenant is untouched")

		evs := b.sweepEvents(t, jobID)
		require.Len(t, evs, len(a.swept))
		for i, e := range evs {
			require.Equal(t, a.idsOf(a.swept...)[i], e.CustomerID)
			require.NotNil(t, e.Actor)
			require.Equal(t, a.tn.AdminID, *e.Actor)
			require.JSONEq(t, `{"status": {"from": "active", "to": "dormant"}}`, e.Changes)
		}
		sweptA = a.swept

		// Again: nothing left to sweep, nothing recorded.
		resp = app.Post(t, "/v1/dormant-sweeps", a.tn.AdminToken, map[string]any{})
		again := apptest.JobID(t, resp)
		job = app.WaitJob(t, a.tn.AdminToken, again)
		require.Equal(t, "succeeded", job["state"], "%v", job)
		require.EqualValues(t, 0, job["result"].(map[string]any)["changed"])
		require.Empty(t, b.sweepEvents(t, again))
		require.Equal(t, a.want(a.swept...), b.statuses(t, a))
	})
	require.NotEmpty(t, sweptA)

	t.Run("ListHidesDormant", func(t *testing.T) {
		names := func(path string) []string {
			resp := app.Get(t, path, a.tn.AdminToken)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
			var out []string
			for _, it := range resp.Map(t)["items"].([]any) {
				out = append(out, it.(map[string]any)["name"].(string))
			}
			slices.Sort(out)
			return out
		}
		require.Equal(t, []string{"fresh", "open balance", "recent order", "recent payment"}, names("/v1/customers?limit=200"))
		require.Equal(t, append([]string{"already dormant", "old order"}, a.swept[:9]...), names("/v1/customers?status=dormant&limit=200"))
		require.Empty(t, names("/v1/customers?q=quiet"))
		require.Len(t, names("/v1/customers?q=quiet&status=dormant"), 9)
		require.Len(t, names("/v1/customers?status=active,inactive&limit=200"), 5)
	})

	t.Run("Reactivate", func(t *testing.T) {
		id := a.ids["quiet 0"]
		path := "/v1/customers/" + id + "/reactivate"
		// Out of sight: another tenant's admin, a rep it is not assigned to.
		require.Equal(t, http.StatusNotFound, app.Post(t, path, other.tn.AdminToken, nil).Status)
		require.Equal(t, http.StatusNotFound, app.Post(t, path, rep.Token, nil).Status)
		require.Equal(t, http.StatusForbidden, app.Post(t, path, viewer.Token, nil).Status)
		stale := app.Do(t, apptest.Req{Method: http.MethodPost, Path: path, Token: a.tn.AdminToken, Headers: map[string]string{"If-Match": `"1"`}})
		require.Equal(t, http.StatusPreconditionFailed, stale.Status, "%s", stale.Body)

		got := b.post(t, a.tn.AdminToken, path, nil, http.StatusOK)
		require.Equal(t, "active", got["status"])
		var changes string
		require.NoError(t, b.raw.QueryRow(context.Background(), `SELECT changes::text FROM audit_events
			WHERE entity_id = $1 AND changes ? 'status' ORDER BY at DESC LIMIT 1`, id).Scan(&changes))
		require.JSONEq(t, `{"status": {"from": "dormant", "to": "active"}}`, changes)
		// Already active: answered as it is.
		require.Equal(t, got["version"], b.post(t, a.tn.AdminToken, path, nil, http.StatusOK)["version"])
		resp := app.Post(t, "/v1/customers/"+a.ids["inactive"]+"/reactivate", a.tn.AdminToken, nil)
		require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)

		// A new order, a new payment.
		b.post(t, a.tn.AdminToken, "/v1/sales-orders", map[string]any{"customer_id": a.ids["quiet 1"],
			"lines": []any{map[string]any{"sku": "W", "quantity": "1"}}}, http.StatusCreated)
		b.post(t, a.tn.AdminToken, "/v1/payments", map[string]any{"customer_id": a.ids["quiet 2"], "amount": "5"}, http.StatusCreated)
		// A bulk update of the status.
		resp = app.Post(t, "/v1/customers/bulk-update", a.tn.AdminToken, bulk(map[string]any{"ids": a.idsOf("quiet 3", "quiet 4")},
			map[string]any{"status": "active"}, false))
		require.Equal(t, "succeeded", app.WaitJob(t, a.tn.AdminToken, apptest.JobID(t, resp))["state"])
		st := b.statuses(t, a)
		for _, name := range []string{"quiet 0", "quiet 1", "quiet 2", "quiet 3", "quiet 4"} {
			require.Equal(t, "active", st[name], name)
			var n int
			require.NoError(t, b.raw.QueryRow(context.Background(), `SELECT count(*) FROM audit_events
				WHERE entity_id = $1 AND action = 'update' AND changes->'status'->>'to' = 'active'`, a.ids[name]).Scan(&n))
			require.Equal(t, 1, n, "one audited reactivation of %s", name)
		}
		// Brought back today: not swept again until a window has passed.
		out := b.post(t, a.tn.AdminToken, "/v1/dormant-sweeps", map[string]any{"dry_run": true}, http.StatusOK)
		require.EqualValues(t, 0, out["count"])
	})

	t.Run("ScheduledOncePerTenantAndDay", func(t *testing.T) {
		// Tenant A now sweeps open balances too; both sweep at hour 0, so
		// they are due whatever the time.
		for _, tn := range []apptest.Tenant{a.tn, other.tn} {
			resp := app.Patch(t, "/v1/settings", tn.AdminToken, "*", map[string]any{"dormant_sweep_hour": 0,
				"dormant_include_open_balance": tn.ID == a.tn.ID})
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
			require.EqualValues(t, 0, resp.Map(t)["dormant_sweep_hour"])
		}
		resp := app.Patch(t, "/v1/settings", a.tn.AdminToken, "*", map[string]any{"dormant_sweep_hour": 24})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		require.Contains(t, string(resp.Body), "dormant_sweep_hour")

		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		deps := workers.Deps{Pool: app.DB.App, Customers: server.NewServices(app.Config, app.DB.App, logger).Customers,
			JobKinds: server.JobKinds(), Logger: logger}
		now := time.Now()
		// Two processes at once, then a third later the same day.
		var wg sync.WaitGroup
		started := make([]int64, 2)
		for i := range started {
			wg.Go(func() {
				_, n, err := workers.ScheduleDormantSweeps(context.Background(), deps, app.River, now)
				require.NoError(t, err)
				started[i] = n
			})
		}
		wg.Wait()
		require.EqualValues(t, 2, started[0]+started[1], "one sweep per tenant")
		_, n, err := workers.ScheduleDormantSweeps(context.Background(), deps, app.River, now.Add(time.Minute))
		require.NoError(t, err)
		require.Zero(t, n)
		var count int
		require.NoError(t, b.raw.QueryRow(context.Background(), `SELECT count(*) FROM jobs WHERE kind = $1 AND created_by IS NULL`,
			customer.KindDormantSweep).Scan(&count))
		require.Equal(t, 2, count)

		for _, d := range []dormantTenant{a, other} {
			jobID := customer.ScheduledSweepID(uuid.MustParse(d.tn.ID), now).String()
			job := app.WaitJob(t, d.tn.AdminToken, jobID)
			require.Equal(t, "succeeded", job["state"], "%v", job)
			require.Nil(t, job["created_by"])
			evs := b.sweepEvents(t, jobID)
			for _, e := range evs {
				require.Nil(t, e.Actor, "a system sweep has no actor")
			}
			if d.tn.ID == a.tn.ID {
				// The open balance now; those reactivated today stay.
				require.Len(t, evs, 1)
				require.Equal(t, d.ids["open balance"], evs[0].CustomerID)
				continue
			}
			require.Len(t, evs, len(other.swept))
			require.Equal(t, other.want(other.swept...), b.statuses(t, other))
		}
		// The job list of a rep shows no system job.
		list := app.Get(t, "/v1/jobs?kind="+customer.KindDormantSweep, rep.Token)
		require.Equal(t, http.StatusOK, list.Status, "%s", list.Body)
		require.Empty(t, list.Map(t)["items"])
	})
}
