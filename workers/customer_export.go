package workers

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/importer"
)

// CustomerExportWorker writes exports too large to answer at once.
type CustomerExportWorker struct {
	river.WorkerDefaults[importer.ExportArgs]
	deps Deps
}

// NewCustomerExportWorker returns the worker.
func NewCustomerExportWorker(d Deps) *CustomerExportWorker { return &CustomerExportWorker{deps: d} }

// Timeout implements river.Worker: one attempt writes the whole file.
func (w *CustomerExportWorker) Timeout(*river.Job[importer.ExportArgs]) time.Duration {
	return w.deps.ExportRunner.Timeout
}

// Work implements river.Worker.
func (w *CustomerExportWorker) Work(ctx context.Context, job *river.Job[importer.ExportArgs]) error {
	return w.deps.Exports.Work(ctx, w.deps.ExportRunner, job)
}
