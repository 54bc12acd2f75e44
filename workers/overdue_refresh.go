package workers

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/order"
)

// OverdueRefreshWorker recomputes each tenant's overdue amounts, in that
// tenant's own scope.
type OverdueRefreshWorker struct {
	river.WorkerDefaults[order.RefreshOverdueArgs]
	deps Deps
}

// NewOverdueRefreshWorker returns the worker.
func NewOverdueRefreshWorker(d Deps) *OverdueRefreshWorker { return &OverdueRefreshWorker{deps: d} }

// Work implements river.Worker.
func (w *OverdueRefreshWorker) Work(ctx context.Context, job *river.Job[order.RefreshOverdueArgs]) error {
	// Listing tenants reads the global tenants table; each refresh runs in
	// its tenant's scope.
	ids, err := dbsqlc.New().TenantListIDs(ctx, w.deps.Pool)
	if err != nil {
		return fmt.Errorf("list tenants: %w", err)
	}
	var changed int64
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := database.WithTenantTxV(ctx, w.deps.Pool, database.SystemScope(id), func(ctx context.Context, tx database.Tx) (int64, error) {
			return w.deps.Orders.RefreshOverdue(ctx, tx)
		})
		if err != nil {
			return fmt.Errorf("refresh tenant %s: %w", id, err)
		}
		changed += n
	}
	return river.RecordOutput(ctx, map[string]int64{"tenants": int64(len(ids)), "customers_changed": changed})
}
