package auth

import (
	"time"

	"github.com/riverqueue/river"
)

// PurgeArgs is the periodic job that deletes expired tokens and idle
// login counters. It is system work across tenants: the worker visits
// each tenant in that tenant's own scope.
type PurgeArgs struct{}

// Kind implements river.JobArgs.
func (PurgeArgs) Kind() string { return "auth_purge" }

// InsertOpts makes the job unique per hour, so that a leader change or a
// restart does not run it twice in a row.
func (PurgeArgs) InsertOpts() river.InsertOpts {
	// Periodic: a few attempts, then the next period's run takes over.
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}
