package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/server"
	"github.com/customerhub/customerhub/internal/tenant"
)

// BenchmarkJobEventsPoll measures one poll of an event stream: a
// read-only transaction in the watcher's scope reading the job (and
// River's row, for a job not yet over), the price of polling that the
// choice against LISTEN/NOTIFY rests on (jobs/events.go).
func BenchmarkJobEventsPoll(b *testing.B) {
	app := apptest.New(b, dbtest.Fresh(b), nil)
	tn := app.Signup(b)
	for i := range 3 {
		app.CreateCustomer(b, tn.AdminToken, map[string]any{"name": fmt.Sprintf("Poll %d", i)})
	}
	id := uuid.MustParse(apptest.JobID(b, app.Post(b, "/v1/customers/bulk-update", tn.AdminToken, map[string]any{
		"selection": map[string]any{"filter": map[string]any{}}, "set": map[string]any{"status": "dormant"}})))
	svc := jobs.NewService(app.River, server.JobKinds(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	uid := uuid.MustParse(tn.AdminID)
	scope := database.ScopeFor(&tenant.Principal{TenantID: uuid.MustParse(tn.ID), UserID: uid, Visibility: tenant.VisibilityAll})
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		v, err := database.WithTenantTxV(ctx, app.DB.App, scope, func(ctx context.Context, tx database.Tx) (jobs.View, error) {
			return svc.Get(ctx, tx, id)
		}, database.ReadOnly)
		require.NoError(b, err)
		require.Equal(b, jobs.StateQueued, v.State)
	}
}
