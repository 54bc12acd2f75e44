package jobs_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
)

// TestCancelNeedsTheKindsPermission: cancelling a job takes the permission
// of its kind, and the job must be the caller's own unless they see every
// customer. A job the caller cannot see is 404; one they see but may not
// stop is 403.
func TestCancelNeedsTheKindsPermission(t *testing.T) {
	t.Parallel()
	b := setupRun(t, 0) // no workers: the jobs stay queued
	app, tn := b.app, b.tn
	manager := app.CreateUser(t, tn, "manager", nil)
	viewer := app.CreateUser(t, tn, "viewer", nil)
	rep := app.CreateUser(t, tn, "sales_rep", nil)
	other := app.CreateUser(t, tn, "sales_rep", nil)
	app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Rep's", "sales_rep_id": rep.ID})
	cancel := func(token, id string) *apptest.Response {
		return app.Post(t, "/v1/jobs/"+id+"/cancel", token, nil)
	}
	requireForbidden := func(t *testing.T, resp *apptest.Response) {
		t.Helper()
		require.Equal(t, http.StatusForbidden, resp.Status, "%s", resp.Body)
		require.Equal(t, "forbidden", resp.Map(t)["code"])
		require.Contains(t, string(resp.Body), "customers:write")
	}

	t.Run("ViewerIsForbidden", func(t *testing.T) {
		id := b.bulkStatus(t, manager.Token, "dormant")
		require.Equal(t, http.StatusOK, app.Get(t, "/v1/jobs/"+id, viewer.Token).Status, "a viewer sees every job")
		requireForbidden(t, cancel(viewer.Token, id))
		require.Equal(t, "queued", app.Get(t, "/v1/jobs/"+id, tn.AdminToken).Map(t)["state"])
	})
	t.Run("OtherRepIsNotFound", func(t *testing.T) {
		id := b.bulkStatus(t, rep.Token, "dormant")
		require.Equal(t, http.StatusNotFound, cancel(other.Token, id).Status)
		require.Equal(t, "queued", app.Get(t, "/v1/jobs/"+id, tn.AdminToken).Map(t)["state"])
	})
	t.Run("CreatorCancels", func(t *testing.T) {
		id := b.bulkStatus(t, rep.Token, "dormant")
		resp := cancel(rep.Token, id)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, "cancelled", resp.Map(t)["state"])
		// A queued job ends with the request: one time stamps both.
		var requested, finished *time.Time
		err := database.WithTenantTx(context.Background(), app.DB.App, database.SystemScope(b.tenant), func(ctx context.Context, tx database.Tx) error {
			return tx.QueryRow(ctx, `SELECT cancel_requested_at, finished_at FROM jobs WHERE tenant_id = $1 AND id = $2`, b.tenant, id).
				Scan(&requested, &finished)
		})
		require.NoError(t, err)
		require.NotNil(t, requested)
		require.Equal(t, requested, finished)
	})
	t.Run("AdminCancelsAnyones", func(t *testing.T) {
		for _, token := range []string{manager.Token, rep.Token} {
			id := b.bulkStatus(t, token, "dormant")
			resp := cancel(tn.AdminToken, id)
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
			require.Equal(t, "cancelled", resp.Map(t)["state"])
		}
	})
	t.Run("ManagerCancelsAnothersJob", func(t *testing.T) {
		id := b.bulkStatus(t, rep.Token, "dormant")
		resp := cancel(manager.Token, id)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	})
	t.Run("DemotedCreatorIsForbidden", func(t *testing.T) {
		clerk := app.CreateUser(t, tn, "manager", nil)
		id := b.bulkStatus(t, clerk.Token, "dormant")
		b.patchUser(t, clerk.ID, 1, map[string]any{"role": "viewer"}) // ends their sessions
		requireForbidden(t, cancel(app.Login(t, tn.Slug, clerk.Email), id))
	})
	t.Run("FinishedIsConflictOnlyForThoseWhoMayCancel", func(t *testing.T) {
		id := b.bulkStatus(t, manager.Token, "dormant")
		require.Equal(t, http.StatusOK, cancel(manager.Token, id).Status)
		require.Equal(t, http.StatusConflict, cancel(manager.Token, id).Status)
		requireForbidden(t, cancel(viewer.Token, id))
	})
}
