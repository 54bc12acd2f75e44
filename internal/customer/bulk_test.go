package customer_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// smallBatches makes the tests' few customers take several batches.
var smallBatches = map[string]string{"CUSTOMERHUB_BULK_BATCH": "7"}

func bulk(selection, set map[string]any, dryRun bool) map[string]any {
	return map[string]any{"selection": selection, "set": set, "dry_run": dryRun}
}

func ids(cs ...map[string]any) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c["id"].(string)
	}
	return out
}

// auditCount counts the audit events a job recorded.
func auditCount(t *testing.T, app *apptest.App, tenantID, jobID string) int {
	t.Helper()
	var n int
	tid := uuid.MustParse(tenantID)
	err := database.WithTenantTx(context.Background(), app.DB.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND request_id = $2`, tid, "job:"+jobID).Scan(&n)
	})
	require.NoError(t, err)
	return n
}

func TestBulkUpdateCustomers(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), smallBatches)
	app.StartWorkers(t)
	tn := app.Signup(t)
	rep := app.CreateUser(t, tn, "sales_rep", nil)
	terms := app.Post(t, "/v1/payment-terms", tn.AdminToken, map[string]any{"code": "NET45", "name": "Net 45", "due_days": 45}).Map(t)
	grp := app.Post(t, "/v1/customer-groups", tn.AdminToken, map[string]any{"category": "region", "code": "NORTH", "name": "North"})
	require.Equal(t, http.StatusCreated, grp.Status, "%s", grp.Body)

	var selected, others []map[string]any
	for i := range 30 {
		selected = append(selected, app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": fmt.Sprintf("Bulk %02d", i), "type": "individual"}))
	}
	for i := range 5 {
		others = append(others, app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": fmt.Sprintf("Other %02d", i), "type": "company"}))
	}
	// One is already as the update wants it: unchanged, not audited.
	first := "/v1/customers/" + selected[0]["id"].(string)
	resp := app.Patch(t, first, tn.AdminToken, `"1"`, map[string]any{"billing_status": "on_hold", "sales_rep_id": rep.ID,
		"payment_terms_id": terms["id"], "basis_date": "2026-01-31", "groups": map[string]any{"region": "NORTH"}})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	set := map[string]any{"billing_status": "on_hold", "sales_rep_id": rep.ID, "payment_terms_id": terms["id"],
		"basis_date": "2026-01-31", "groups": map[string]any{"region": "NORTH"}}
	filter := map[string]any{"filter": map[string]any{"type": "individual"}}

	t.Run("DryRunCounts", func(t *testing.T) {
		resp := app.Post(t, "/v1/customers/bulk-update", tn.AdminToken, bulk(filter, set, true))
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.EqualValues(t, map[string]any{"matched": float64(30), "would_change": float64(29)}, resp.Map(t))
		resp = app.Post(t, "/v1/customers/bulk-update", tn.AdminToken,
			bulk(map[string]any{"ids": append(ids(others[:2]...), uuid.NewString())}, set, true))
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.EqualValues(t, map[string]any{"matched": float64(2), "would_change": float64(2)}, resp.Map(t))
		// A dry run writes nothing: no job, no change.
		var list struct{ Items []any }
		app.Get(t, "/v1/jobs", tn.AdminToken).JSON(t, &list)
		require.Empty(t, list.Items)
		require.Nil(t, app.Get(t, "/v1/customers/"+others[0]["id"].(string), tn.AdminToken).Map(t)["billing_status"])
	})

	t.Run("ChangesEverySelectedCustomerOnce", func(t *testing.T) {
		resp := app.Post(t, "/v1/customers/bulk-update", tn.AdminToken, bulk(filter, set, false))
		id := apptest.JobID(t, resp)
		accepted := resp.Map(t)["job"].(map[string]any)
		require.Equal(t, "customer_bulk_update", accepted["kind"])
		require.Equal(t, "queued", accepted["state"])

		job := app.WaitJob(t, tn.AdminToken, id)
		require.Equal(t, "succeeded", job["state"], "%v", job)
		require.Equal(t, map[string]any{"matched": float64(30), "changed": float64(29), "unchanged": float64(1), "skipped": float64(0)}, job["result"])
		require.Equal(t, map[string]any{"processed": float64(30), "total": float64(30)}, job["progress"])
		require.NotNil(t, job["started_at"])
		require.NotNil(t, job["finished_at"])
		require.Empty(t, job["errors"])
		require.Equal(t, 29, auditCount(t, app, tn.ID, id))

		for _, c := range selected[1:] {
			got := app.Get(t, "/v1/customers/"+c["id"].(string), tn.AdminToken).Map(t)
			require.Equal(t, "on_hold", got["billing_status"])
			require.Equal(t, rep.ID, got["sales_rep_id"])
			require.Equal(t, terms["id"], got["payment_terms_id"])
			require.Equal(t, "2026-01-31", got["basis_date"])
			require.Equal(t, map[string]any{"region": "NORTH"}, got["groups"])
			require.EqualValues(t, 2, got["version"])
		}
		require.EqualValues(t, 2, app.Get(t, first, tn.AdminToken).Map(t)["version"], "the unchanged one was not written")
		for _, c := range others {
			got := app.Get(t, "/v1/customers/"+c["id"].(string), tn.AdminToken).Map(t)
			require.Nil(t, got["billing_status"])
			require.EqualValues(t, 1, got["version"])
		}
		// The audit trail shows each change like a single edit would.
		var events struct{ Items []map[string]any }
		app.Get(t, "/v1/audit?entity=customer&id="+selected[3]["id"].(string), tn.AdminToken).JSON(t, &events)
		require.Len(t, events.Items, 2)
		changes := events.Items[0]["changes"].(map[string]any)
		require.Equal(t, map[string]any{"from": nil, "to": "on_hold"}, changes["billing_status"])
		require.Equal(t, map[string]any{"from": map[string]any{}, "to": map[string]any{"region": "NORTH"}}, changes["groups"])

		// Running the same update again changes nothing.
		again := app.WaitJob(t, tn.AdminToken, apptest.JobID(t, app.Post(t, "/v1/customers/bulk-update", tn.AdminToken, bulk(filter, set, false))))
		require.Equal(t, map[string]any{"matched": float64(30), "changed": float64(0), "unchanged": float64(30), "skipped": float64(0)}, again["result"])
		require.EqualValues(t, map[string]any{"matched": float64(30), "would_change": float64(0)},
			app.Post(t, "/v1/customers/bulk-update", tn.AdminToken, bulk(filter, set, true)).Map(t))
	})

	t.Run("DryRunComparesEachField", func(t *testing.T) {
		// Three customers set as the first update left them, two untouched.
		sel := map[string]any{"ids": append(ids(selected[:3]...), ids(others[:2]...)...)}
		for _, tc := range []struct {
			set  map[string]any
			want float64
		}{
			{map[string]any{"groups": map[string]any{"region": nil}}, 3},
			{map[string]any{"groups": map[string]any{"region": "NORTH"}}, 2},
			{map[string]any{"status": "active"}, 0},
			{map[string]any{"sales_rep_id": rep.ID}, 2},
			{map[string]any{"sales_rep_id": nil}, 3},
			{map[string]any{"basis_date": "2026-01-31"}, 2},
			{map[string]any{"basis_date": nil, "billing_status": "on_hold"}, 5},
			{map[string]any{"payment_terms_id": terms["id"], "status": "active"}, 2},
		} {
			resp := app.Post(t, "/v1/customers/bulk-update", tn.AdminToken, bulk(sel, tc.set, true))
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
			require.EqualValues(t, map[string]any{"matched": float64(5), "would_change": tc.want}, resp.Map(t), "%v", tc.set)
		}
	})

	t.Run("ClearsAndLeavesGroups", func(t *testing.T) {
		sel := map[string]any{"ids": ids(selected[:3]...)}
		job := app.WaitJob(t, tn.AdminToken, apptest.JobID(t, app.Post(t, "/v1/customers/bulk-update", tn.AdminToken,
			bulk(sel, map[string]any{"basis_date": nil, "groups": map[string]any{"region": nil}, "status": "dormant"}, false))))
		require.Equal(t, "succeeded", job["state"], "%v", job)
		got := app.Get(t, "/v1/customers/"+selected[1]["id"].(string), tn.AdminToken).Map(t)
		require.Nil(t, got["basis_date"])
		require.Empty(t, got["groups"])
		require.Equal(t, "dormant", got["status"])
		require.EqualValues(t, 0, app.Post(t, "/v1/customers/bulk-update", tn.AdminToken,
			bulk(sel, map[string]any{"groups": map[string]any{"region": nil}}, true)).Map(t)["would_change"])
	})
}

func TestBulkUpdateValidation(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	tn := app.Signup(t)
	rep := app.CreateUser(t, tn, "sales_rep", nil)
	other := app.CreateUser(t, tn, "sales_rep", nil)
	c := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Valid"})
	sel := map[string]any{"ids": []string{c["id"].(string)}}

	cases := []struct {
		name   string
		token  string
		body   any
		status int
		field  string
	}{
		{"UnknownStatus", tn.AdminToken, bulk(sel, map[string]any{"status": "gone"}, false), 422, "set.status"},
		{"NullStatus", tn.AdminToken, bulk(sel, map[string]any{"status": nil}, false), 422, "set.status"},
		{"BadDate", tn.AdminToken, bulk(sel, map[string]any{"basis_date": "31/01/2026"}, false), 422, "set.basis_date"},
		{"MissingTerms", tn.AdminToken, bulk(sel, map[string]any{"payment_terms_id": uuid.NewString()}, false), 422, "set.payment_terms_id"},
		{"MissingRep", tn.AdminToken, bulk(sel, map[string]any{"sales_rep_id": uuid.NewString()}, false), 422, "set.sales_rep_id"},
		{"UnknownGroup", tn.AdminToken, bulk(sel, map[string]any{"groups": map[string]any{"nowhere": "X"}}, false), 422, "set.groups.nowhere"},
		{"NothingToSet", tn.AdminToken, bulk(sel, map[string]any{}, false), 422, "set"},
		{"UnknownFilter", tn.AdminToken, bulk(map[string]any{"filter": map[string]any{"colour": "red"}}, map[string]any{"status": "active"}, false), 422, "selection.filter.colour"},
		{"BadFilterValue", tn.AdminToken, bulk(map[string]any{"filter": map[string]any{"has_balance": "maybe"}}, map[string]any{"status": "active"}, false), 422, "selection.filter.has_balance"},
		{"IDsAndFilter", tn.AdminToken, bulk(map[string]any{"ids": []string{c["id"].(string)}, "filter": map[string]any{}}, map[string]any{"status": "active"}, false), 422, "selection"},
		{"NoIDs", tn.AdminToken, bulk(map[string]any{"ids": []string{}}, map[string]any{"status": "active"}, false), 422, "selection.ids"},
		{"RepHandsOver", rep.Token, bulk(sel, map[string]any{"sales_rep_id": other.ID}, false), 422, "set.sales_rep_id"},
		{"NoSelection", tn.AdminToken, map[string]any{"set": map[string]any{"status": "active"}}, 400, "selection"},
		{"UnknownSetField", tn.AdminToken, bulk(sel, map[string]any{"name": "x"}, false), 400, "set.name"},
		{"BadID", tn.AdminToken, bulk(map[string]any{"ids": []string{"nope"}}, map[string]any{"status": "active"}, false), 400, "selection.ids.0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := app.Post(t, "/v1/customers/bulk-update", tc.token, tc.body)
			require.Equal(t, tc.status, resp.Status, "%s", resp.Body)
			require.Contains(t, string(resp.Body), `"field":"`+tc.field+`"`)
		})
	}
	// Nothing was queued.
	var list struct{ Items []any }
	app.Get(t, "/v1/jobs", tn.AdminToken).JSON(t, &list)
	require.Empty(t, list.Items)
	// A viewer may not bulk update at all.
	viewer := app.CreateUser(t, tn, "viewer", nil)
	require.Equal(t, http.StatusForbidden, app.Post(t, "/v1/customers/bulk-update", viewer.Token, bulk(sel, map[string]any{"status": "active"}, true)).Status)
}

// TestBulkUpdateSalesRepScope: a rep's bulk update reaches only their own
// customers, whatever the selection names.
func TestBulkUpdateSalesRepScope(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), smallBatches)
	app.StartWorkers(t)
	tn := app.Signup(t)
	r1 := app.CreateUser(t, tn, "sales_rep", nil)
	r2 := app.CreateUser(t, tn, "sales_rep", nil)
	mine := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Mine", "sales_rep_id": r1.ID})
	theirs := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Theirs", "sales_rep_id": r2.ID})
	nobody := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Nobody's"})

	byIDs := map[string]any{"ids": ids(mine, theirs, nobody)}
	resp := app.Post(t, "/v1/customers/bulk-update", r1.Token, bulk(byIDs, map[string]any{"status": "dormant"}, true))
	require.EqualValues(t, 1, resp.Map(t)["matched"])

	for _, sel := range []map[string]any{byIDs, {"filter": map[string]any{}}} {
		job := app.WaitJob(t, r1.Token, apptest.JobID(t, app.Post(t, "/v1/customers/bulk-update", r1.Token,
			bulk(sel, map[string]any{"billing_status": "collections"}, false))))
		require.Equal(t, "succeeded", job["state"], "%v", job)
		require.EqualValues(t, 1, job["result"].(map[string]any)["matched"])
	}
	require.Equal(t, "collections", app.Get(t, "/v1/customers/"+mine["id"].(string), tn.AdminToken).Map(t)["billing_status"])
	for _, c := range []map[string]any{theirs, nobody} {
		got := app.Get(t, "/v1/customers/"+c["id"].(string), tn.AdminToken).Map(t)
		require.Nil(t, got["billing_status"])
		require.EqualValues(t, 1, got["version"])
	}

	// Jobs: a rep sees their own; the admin sees every job of the tenant.
	var list struct{ Items []map[string]any }
	app.Get(t, "/v1/jobs", r2.Token).JSON(t, &list)
	require.Empty(t, list.Items)
	app.Get(t, "/v1/jobs", r1.Token).JSON(t, &list)
	require.Len(t, list.Items, 2)
	require.Equal(t, http.StatusNotFound, app.Get(t, "/v1/jobs/"+list.Items[0]["id"].(string), r2.Token).Status)
	app.Get(t, "/v1/jobs?state=succeeded&kind=customer_bulk_update", tn.AdminToken).JSON(t, &list)
	require.Len(t, list.Items, 2)
}

// TestBulkSelectionMatchesList: the bulk selection (the list's filter,
// queries/fragments/customer_filter.sql) selects exactly what the list
// counts, in a dry run too (TestFilterSelectsAlike covers every filter).
func TestBulkSelectionMatchesList(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	tn := app.Signup(t)
	rep := app.CreateUser(t, tn, "sales_rep", nil)
	app.Post(t, "/v1/customer-groups", tn.AdminToken, map[string]any{"category": "tier", "code": "GOLD", "name": "Gold"})
	for i := range 12 {
		body := map[string]any{"name": fmt.Sprintf("Match %02d", i), "type": []string{"company", "individual"}[i%2],
			"status": []string{"active", "dormant", "inactive"}[i%3], "email": fmt.Sprintf("m%d@ex.example", i)}
		if i%4 == 0 {
			body["sales_rep_id"] = rep.ID
			body["groups"] = map[string]any{"tier": "GOLD"}
		}
		app.CreateCustomer(t, tn.AdminToken, body)
	}
	filters := []map[string]string{
		{}, {"status": "all"}, {"type": "company"}, {"status": "dormant,inactive"}, {"sales_rep_id": rep.ID},
		{"group.tier": "GOLD", "status": "all"}, {"q": "m1", "status": "all"}, {"has_balance": "false"}, {"engaged": "false"},
	}
	for _, f := range filters {
		query := "?count=exact&limit=1"
		body := map[string]any{}
		for k, v := range f {
			query += "&" + k + "=" + v
			body[k] = v
		}
		want := app.Get(t, "/v1/customers"+query, tn.AdminToken).Map(t)["total"]
		got := app.Post(t, "/v1/customers/bulk-update", tn.AdminToken, bulk(map[string]any{"filter": body}, map[string]any{"status": "active"}, true)).Map(t)["matched"]
		require.Equal(t, want, got, "filter %v", f)
	}
}

func TestJobCancel(t *testing.T) {
	t.Parallel()
	// Its own database: no other test's workers can pick the job up.
	app := apptest.New(t, dbtest.Fresh(t), nil)
	tn := app.Signup(t)
	c := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Cancel me"})
	id := apptest.JobID(t, app.Post(t, "/v1/customers/bulk-update", tn.AdminToken,
		bulk(map[string]any{"ids": ids(c)}, map[string]any{"status": "dormant"}, false)))

	other := app.Signup(t)
	require.Equal(t, http.StatusNotFound, app.Post(t, "/v1/jobs/"+id+"/cancel", other.AdminToken, nil).Status)

	resp := app.Post(t, "/v1/jobs/"+id+"/cancel", tn.AdminToken, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	job := resp.Map(t)
	require.Equal(t, "cancelled", job["state"])
	require.NotNil(t, job["finished_at"])
	require.NotNil(t, job["cancel_requested_at"])

	resp = app.Post(t, "/v1/jobs/"+id+"/cancel", tn.AdminToken, nil)
	require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)
	require.Equal(t, "cancelled", app.Get(t, "/v1/jobs/"+id, tn.AdminToken).Map(t)["state"])

	// A worker started now finds nothing to do.
	app.StartWorkers(t)
	require.Equal(t, "active", app.Get(t, "/v1/customers/"+c["id"].(string), tn.AdminToken).Map(t)["status"])
}

// TestBulkUpdateFailsWhenItCannotApply: what changed between the request
// and the job (the user deactivated, a group deleted) fails the job with
// a reason, and changes nothing.
func TestBulkUpdateFailsWhenItCannotApply(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Fresh(t), nil) // workers start after the requests
	tn := app.Signup(t)
	manager := app.CreateUser(t, tn, "manager", nil)
	c := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Unchanged"})
	grp := app.Post(t, "/v1/customer-groups", tn.AdminToken, map[string]any{"category": "tier", "code": "GONE", "name": "Gone"}).Map(t)
	sel := map[string]any{"ids": ids(c)}

	byManager := apptest.JobID(t, app.Post(t, "/v1/customers/bulk-update", manager.Token, bulk(sel, map[string]any{"status": "dormant"}, false)))
	toGroup := apptest.JobID(t, app.Post(t, "/v1/customers/bulk-update", tn.AdminToken, bulk(sel, map[string]any{"groups": map[string]any{"tier": "GONE"}}, false)))
	resp := app.Patch(t, "/v1/users/"+manager.ID, tn.AdminToken, `"1"`, map[string]any{"status": "disabled"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.Equal(t, http.StatusNoContent, app.Delete(t, "/v1/customer-groups/"+grp["id"].(string), tn.AdminToken).Status)

	app.StartWorkers(t)
	for id, reason := range map[string]string{byManager: "no longer active", toGroup: "groups.tier"} {
		job := app.WaitJob(t, tn.AdminToken, id)
		require.Equal(t, "failed", job["state"], "%v", job)
		require.Contains(t, fmt.Sprint(job["errors"]), reason)
	}
	got := app.Get(t, "/v1/customers/"+c["id"].(string), tn.AdminToken).Map(t)
	require.Equal(t, "active", got["status"])
	require.EqualValues(t, 1, got["version"])
}

// TestBulkSetWritesOnlyTheVersionRead: the bulk write skips a customer
// changed since the batch read it, so the batch re-reads it instead of
// recording a stale "from" in the audit trail.
func TestBulkSetWritesOnlyTheVersionRead(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	tn := app.Signup(t)
	c := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Versioned"})
	id := uuid.MustParse(c["id"].(string))
	status := "on_hold"
	err := database.WithTenantTx(context.Background(), app.DB.App, database.SystemScope(uuid.MustParse(tn.ID)), func(ctx context.Context, tx database.Tx) error {
		q := dbsqlc.New()
		p := dbsqlc.CustomerBulkSetParams{TenantID: tx.TenantID(), Ids: []uuid.UUID{id}, Versions: []int64{2},
			SetBillingStatus: true, BillingStatus: &status}
		done, err := q.CustomerBulkSet(ctx, tx, p)
		require.NoError(t, err)
		require.Empty(t, done, "version 2 was never read")
		p.Versions = []int64{1}
		done, err = q.CustomerBulkSet(ctx, tx, p)
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{id}, done)
		return nil
	})
	require.NoError(t, err)
	got := app.Get(t, "/v1/customers/"+c["id"].(string), tn.AdminToken).Map(t)
	require.Equal(t, "on_hold", got["billing_status"])
	require.EqualValues(t, 2, got["version"])
}

// TestBulkRepChangeNeedsAssignWhenItRuns: a bulk update setting sales reps
// fails with permission_revoked, changing nothing, when its user may no
// longer assign reps by the time it runs (each batch checks again).
func TestBulkRepChangeNeedsAssignWhenItRuns(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Fresh(t), nil) // workers start after the requests
	tn := app.Signup(t)
	manager := app.CreateUser(t, tn, "manager", nil)
	rep := app.CreateUser(t, tn, "sales_rep", nil)
	c := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Kept rep", "sales_rep_id": manager.ID})
	id := apptest.JobID(t, app.Post(t, "/v1/customers/bulk-update", manager.Token,
		bulk(map[string]any{"ids": ids(c)}, map[string]any{"sales_rep_id": rep.ID}, false)))
	// Still allowed to edit customers, no longer to assign them.
	resp := app.Patch(t, "/v1/users/"+manager.ID, tn.AdminToken, `"1"`, map[string]any{"role": "sales_rep", "visibility": "assigned"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	app.StartWorkers(t)
	job := app.WaitJob(t, tn.AdminToken, id)
	require.Equal(t, "failed", job["state"], "%v", job)
	errs := job["errors"].([]any)
	last := errs[len(errs)-1].(map[string]any)
	require.Equal(t, "permission_revoked", last["code"])
	require.Contains(t, last["message"], "customers:assign")
	got := app.Get(t, "/v1/customers/"+c["id"].(string), tn.AdminToken).Map(t)
	require.Equal(t, manager.ID, got["sales_rep_id"])
	require.EqualValues(t, 1, got["version"])
}
