package order_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/order"
	"github.com/customerhub/customerhub/internal/server"
	"github.com/customerhub/customerhub/workers"
)

// runOverdueRefresh works the periodic overdue job once, as River would.
func runOverdueRefresh(t *testing.T, b testBundle) {
	t.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := server.NewServices(b.app.Config, b.app.DB.App, logger)
	w := workers.NewOverdueRefreshWorker(workers.Deps{Pool: b.app.DB.App, Orders: svc.Orders, Logger: logger})
	tw := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{Schema: database.RiverSchema}, w)
	tx, err := b.app.DB.App.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx) //nolint:errcheck // test transaction
	res, err := tw.Work(ctx, t, tx, order.RefreshOverdueArgs{}, nil)
	require.NoError(t, err)
	require.Equal(t, river.EventKindJobCompleted, res.EventKind)
}
