package server

import (
	"cmp"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/sms"
)

// RiverOptions shapes the River client.
type RiverOptions struct {
	// Work makes a client that works jobs (serve, worker); otherwise it
	// only inserts them (api).
	Work         bool
	Workers      *river.Workers
	PeriodicJobs []*river.PeriodicJob
	// Concurrency is per process: the maintenance queue's workers, and
	// BulkConcurrency the bulk queue's (bulk updates, merges).
	Concurrency     int
	BulkConcurrency int
	// SMSConcurrency is the SMS queue's workers (sends and campaign
	// tracking); 10 when zero.
	SMSConcurrency int
	// AttemptTimeout bounds one attempt of a tenant job (and is the
	// default timeout of every kind that sets none).
	AttemptTimeout time.Duration
	// RescueStuckAfter bounds how long a job whose worker died (kill -9)
	// stays "running" before another worker retries it.
	RescueStuckAfter time.Duration
	// CallTimeout bounds the longest outside call a job makes (a request
	// to Twilio, whose client takes no context): an attempt can run that
	// much past its own timeout.
	CallTimeout time.Duration
	Logger      *slog.Logger
}

// rescueAfter is how long a job stays running before River's rescuer
// hands it to another worker: RescueStuckAfter, but never before an
// attempt that is still alive must have ended (its timeout, then an
// outside call it was in, and a second of slack). Rescued sooner, a job would
// run twice at once: an SMS send would reconcile its message while the
// first run's call to Twilio is still under way.
func rescueAfter(o RiverOptions, attempt time.Duration) time.Duration {
	return max(o.RescueStuckAfter, attempt+o.CallTimeout+time.Second)
}

// NewRiver builds the River client on the application role's pool.
func NewRiver(pool *pgxpool.Pool, o RiverOptions) (*river.Client[pgx.Tx], error) {
	attempt := o.AttemptTimeout
	if attempt <= 0 {
		attempt = jobs.AttemptTimeout
	}
	cfg := &river.Config{
		Schema:  database.RiverSchema,
		Workers: o.Workers,
		Logger:  o.Logger,
		// The reindexer needs to own River's indexes, and the application
		// role owns nothing; operators reindex with the owner role.
		ReindexerSchedule: river.NeverSchedule(),
		// Tenant jobs work in attempts of at most AttemptTimeout and
		// continue in a fresh attempt (see jobs.Runner), so a job whose
		// worker was killed is rescued and resumed after rescueAfter
		// (one minute by default). Kinds that need longer set their own
		// Timeout; the rescuer leaves them alone until it has passed.
		JobTimeout:           attempt,
		RescueStuckJobsAfter: rescueAfter(o, attempt),
		// Finished jobs are kept a week for operators; the tenant's own
		// record (table jobs) is kept a month.
		CompletedJobRetentionPeriod: 7 * 24 * time.Hour,
		CancelledJobRetentionPeriod: 7 * 24 * time.Hour,
		DiscardedJobRetentionPeriod: 30 * 24 * time.Hour,
	}
	if o.Work {
		cfg.Queues = map[string]river.QueueConfig{
			jobs.QueueMaintenance: {MaxWorkers: max(o.Concurrency, 1)},
			jobs.QueueBulk:        {MaxWorkers: max(o.BulkConcurrency, 1)},
			sms.QueueSMS:          {MaxWorkers: cmp.Or(o.SMSConcurrency, 10)},
		}
		cfg.PeriodicJobs = o.PeriodicJobs
		cfg.SoftStopTimeout = 20 * time.Second
	}
	c, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return c, nil
}
