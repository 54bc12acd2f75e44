package location_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
)

func TestBulkUpdateLocations(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), map[string]string{"CUSTOMERHUB_BULK_BATCH": "3"})
	app.StartWorkers(t)
	tn := app.Signup(t)
	rep := app.CreateUser(t, tn, "sales_rep", nil)
	role := app.Post(t, "/v1/roles", tn.AdminToken, map[string]any{"name": "lead", "permissions": []string{"customers:read", "customers:write", "customers:assign"}})
	require.Equal(t, http.StatusCreated, role.Status, "%s", role.Body)
	// other sees only their assigned customers but may assign reps.
	other := app.CreateUser(t, tn, "lead", map[string]any{"visibility": "assigned"})

	addLocation := func(customerID, city string) string {
		resp := app.Post(t, "/v1/customers/"+customerID+"/locations", tn.AdminToken, map[string]any{
			"label": "Site " + city + " " + uuid.NewString()[:6], "line1": "1 Main St", "city": city, "country": "US", "kinds": []string{"shipping"}})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		return resp.Map(t)["id"].(string)
	}
	var springfield, shelbyville []string
	for i := range 4 {
		c := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": fmt.Sprintf("Located %d", i)})
		springfield = append(springfield, addLocation(c["id"].(string), "Springfield"), addLocation(c["id"].(string), "Springfield"))
		shelbyville = append(shelbyville, addLocation(c["id"].(string), "Shelbyville"))
	}
	filter := map[string]any{"filter": map[string]any{"city": "springfield"}}
	post := func(token string, body map[string]any) *apptest.Response {
		return app.Post(t, "/v1/locations/bulk-update", token, body)
	}

	t.Run("DryRunCounts", func(t *testing.T) {
		resp := post(tn.AdminToken, map[string]any{"selection": filter, "set": map[string]any{"sales_rep_id": rep.ID}, "dry_run": true})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.EqualValues(t, map[string]any{"matched": float64(8), "would_change": float64(8)}, resp.Map(t))
	})

	t.Run("SetsTheOverrideAndTheRepSeesTheCustomers", func(t *testing.T) {
		job := app.WaitJob(t, tn.AdminToken, apptest.JobID(t, post(tn.AdminToken, map[string]any{
			"selection": filter, "set": map[string]any{"sales_rep_id": rep.ID}})))
		require.Equal(t, "succeeded", job["state"], "%v", job)
		require.Equal(t, map[string]any{"matched": float64(8), "changed": float64(8), "unchanged": float64(0), "skipped": float64(0)}, job["result"])
		for _, id := range springfield {
			require.Equal(t, rep.ID, app.Get(t, "/v1/locations/"+id, tn.AdminToken).Map(t)["sales_rep_id"])
		}
		for _, id := range shelbyville {
			require.Nil(t, app.Get(t, "/v1/locations/"+id, tn.AdminToken).Map(t)["sales_rep_id"])
		}
		// The override makes the customers visible to the rep.
		var list struct{ Items []any }
		app.Get(t, "/v1/customers", rep.Token).JSON(t, &list)
		require.Len(t, list.Items, 4)
		var events struct{ Items []map[string]any }
		app.Get(t, "/v1/audit?entity=location&id="+springfield[0], tn.AdminToken).JSON(t, &events)
		require.Equal(t, map[string]any{"from": nil, "to": rep.ID}, events.Items[0]["changes"].(map[string]any)["sales_rep_id"])
	})

	t.Run("RemovesTheOverrideByIDs", func(t *testing.T) {
		job := app.WaitJob(t, tn.AdminToken, apptest.JobID(t, post(tn.AdminToken, map[string]any{
			"selection": map[string]any{"ids": springfield[:2]}, "set": map[string]any{"sales_rep_id": nil}})))
		require.Equal(t, "succeeded", job["state"], "%v", job)
		require.EqualValues(t, 2, job["result"].(map[string]any)["changed"])
		require.Nil(t, app.Get(t, "/v1/locations/"+springfield[0], tn.AdminToken).Map(t)["sales_rep_id"])
		require.Equal(t, rep.ID, app.Get(t, "/v1/locations/"+springfield[2], tn.AdminToken).Map(t)["sales_rep_id"])
	})

	t.Run("ARepCannotSetOverrides", func(t *testing.T) {
		// rep sees three customers through their overrides, yet may not
		// share them, nor drop the overrides.
		for _, set := range []any{other.ID, rep.ID, nil} {
			for _, dry := range []bool{true, false} {
				resp := post(rep.Token, map[string]any{"selection": map[string]any{"ids": springfield}, "set": map[string]any{"sales_rep_id": set}, "dry_run": dry})
				require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
				require.Contains(t, string(resp.Body), `{"field":"set.sales_rep_id","code":"not_allowed"`)
			}
		}
		require.Equal(t, rep.ID, app.Get(t, "/v1/locations/"+springfield[2], tn.AdminToken).Map(t)["sales_rep_id"])
	})

	t.Run("AnAssignedUserReachesOnlyLocationsTheySee", func(t *testing.T) {
		// rep sees three customers through their overrides; other sees none.
		resp := post(other.Token, map[string]any{"selection": map[string]any{"ids": springfield}, "set": map[string]any{"sales_rep_id": other.ID}, "dry_run": true})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.EqualValues(t, 0, resp.Map(t)["matched"])
		job := app.WaitJob(t, other.Token, apptest.JobID(t, post(other.Token, map[string]any{
			"selection": map[string]any{"filter": map[string]any{}}, "set": map[string]any{"sales_rep_id": other.ID}})))
		require.Equal(t, "succeeded", job["state"], "%v", job)
		require.EqualValues(t, 0, job["result"].(map[string]any)["matched"])
		require.Equal(t, rep.ID, app.Get(t, "/v1/locations/"+springfield[2], tn.AdminToken).Map(t)["sales_rep_id"])
	})

	t.Run("Validation", func(t *testing.T) {
		for name, tc := range map[string]struct {
			body   map[string]any
			status int
			field  string
		}{
			"UnknownRep":    {map[string]any{"selection": filter, "set": map[string]any{"sales_rep_id": uuid.NewString()}}, 422, "set.sales_rep_id"},
			"NoRep":         {map[string]any{"selection": filter, "set": map[string]any{}}, 400, "set.sales_rep_id"},
			"UnknownFilter": {map[string]any{"selection": map[string]any{"filter": map[string]any{"zip": "1"}}, "set": map[string]any{"sales_rep_id": nil}}, 422, "selection.filter.zip"},
			"BadCountry":    {map[string]any{"selection": map[string]any{"filter": map[string]any{"country": "XX"}}, "set": map[string]any{"sales_rep_id": nil}}, 422, "selection.filter.country"},
			"TooManyIDs":    {map[string]any{"selection": map[string]any{"ids": []string{}}, "set": map[string]any{"sales_rep_id": nil}}, 422, "selection.ids"},
		} {
			t.Run(name, func(t *testing.T) {
				resp := post(tn.AdminToken, tc.body)
				require.Equal(t, tc.status, resp.Status, "%s", resp.Body)
				require.Contains(t, string(resp.Body), `"field":"`+tc.field+`"`)
			})
		}
	})
}

// TestBulkOverridesNeedAssignWhenItRuns: a location bulk update fails with
// permission_revoked, changing nothing, when its user may no longer
// assign reps by the time it runs.
func TestBulkOverridesNeedAssignWhenItRuns(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Fresh(t), nil) // workers start after the requests
	tn := app.Signup(t)
	manager := app.CreateUser(t, tn, "manager", nil)
	c := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Overridden", "sales_rep_id": manager.ID})
	resp := app.Post(t, "/v1/customers/"+c["id"].(string)+"/locations", tn.AdminToken, map[string]any{
		"label": "Site", "line1": "1 Main St", "city": "Springfield", "country": "US", "kinds": []string{"shipping"}})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	loc := resp.Map(t)["id"].(string)
	id := apptest.JobID(t, app.Post(t, "/v1/locations/bulk-update", manager.Token, map[string]any{
		"selection": map[string]any{"ids": []string{loc}}, "set": map[string]any{"sales_rep_id": manager.ID}}))
	resp = app.Patch(t, "/v1/users/"+manager.ID, tn.AdminToken, `"1"`, map[string]any{"role": "sales_rep", "visibility": "assigned"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	app.StartWorkers(t)
	job := app.WaitJob(t, tn.AdminToken, id)
	require.Equal(t, "failed", job["state"], "%v", job)
	errs := job["errors"].([]any)
	require.Equal(t, "permission_revoked", errs[len(errs)-1].(map[string]any)["code"])
	require.Nil(t, app.Get(t, "/v1/locations/"+loc, tn.AdminToken).Map(t)["sales_rep_id"])
}
