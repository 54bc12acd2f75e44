package jobs_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/jobs"
)

// TestViewOfAJobThatFinishesMeanwhile: a job read as running whose worker
// commits its completion before River's state is read shows its result,
// not a success without one.
func TestViewOfAJobThatFinishesMeanwhile(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	tn := app.Signup(t)
	c := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Finishing"})
	resp := app.Post(t, "/v1/customers/bulk-update", tn.AdminToken, map[string]any{
		"selection": map[string]any{"ids": []any{c["id"]}}, "set": map[string]any{"status": "dormant"}})
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	id := uuid.MustParse(apptest.JobID(t, resp))
	ctx := context.Background()
	scope := database.SystemScope(uuid.MustParse(tn.ID))
	q := dbsqlc.New()

	var stale dbsqlc.Job
	require.NoError(t, database.WithTenantTx(ctx, app.DB.App, scope, func(ctx context.Context, tx database.Tx) (err error) {
		stale, err = q.JobGet(ctx, tx, dbsqlc.JobGetParams{TenantID: tx.TenantID(), ID: id})
		return err
	}))
	require.Equal(t, jobs.StateQueued, stale.State)
	// The worker's last step: the tenant row and River's row commit together.
	require.NoError(t, database.WithTenantTx(ctx, app.DB.App, scope, func(ctx context.Context, tx database.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE jobs SET state = 'succeeded', result = '{"changed": 1}', finished_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE "+database.RiverSchema+".river_job SET state = 'completed', finalized_at = now() WHERE id = $1", stale.RiverJobID)
		return err
	}))

	svc := jobs.NewService(app.River, nil, nil)
	require.NoError(t, database.WithTenantTx(ctx, app.DB.App, scope, func(ctx context.Context, tx database.Tx) error {
		views, err := jobs.Views(svc, ctx, tx, []dbsqlc.Job{stale})
		if err != nil {
			return err
		}
		require.Equal(t, jobs.StateSucceeded, views[0].State)
		require.JSONEq(t, `{"changed": 1}`, string(views[0].Result))
		require.NotNil(t, views[0].FinishedAt)
		return nil
	}))
}
