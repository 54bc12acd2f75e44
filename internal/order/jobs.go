package order

import (
	"time"

	"github.com/riverqueue/river"
)

// RefreshOverdueArgs is the periodic job that recomputes overdue amounts
// time has changed (an unpaid order whose due date passed), tenant by
// tenant. Recomputing is idempotent, so a repeated run is harmless.
type RefreshOverdueArgs struct{}

// Kind implements river.JobArgs.
func (RefreshOverdueArgs) Kind() string { return "order_overdue_refresh" }

// InsertOpts makes the job unique per hour.
func (RefreshOverdueArgs) InsertOpts() river.InsertOpts {
	// Periodic: a few attempts, then the next period's run takes over.
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}
