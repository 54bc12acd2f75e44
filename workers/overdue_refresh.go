package workers

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/database"
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

// Timeout implements river.Worker.
func (w *OverdueRefreshWorker) Timeout(*river.Job[order.RefreshOverdueArgs]) time.Duration {
	return MaintenanceTimeout
}

// Work implements river.Worker.
func (w *OverdueRefreshWorker) Work(ctx context.Context, job *river.Job[order.RefreshOverdueArgs]) error {
	tenants, changed, err := forEachTenant(ctx, w.deps.Pool, func(ctx context.Context, tx database.Tx) (int64, error) {
		return w.deps.Orders.RefreshOverdue(ctx, tx)
	})
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, map[string]int64{"tenants": int64(tenants), "customers_changed": changed})
}
