package server

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/customerhub/customerhub/internal/database"
)

// RiverOptions shapes the River client.
type RiverOptions struct {
	// Work makes a client that works jobs (serve, worker); otherwise it
	// only inserts them (api).
	Work         bool
	Workers      *river.Workers
	PeriodicJobs []*river.PeriodicJob
	Concurrency  int
	// RescueStuckAfter bounds how long a job whose worker died (kill -9)
	// stays "running" before another worker retries it.
	RescueStuckAfter time.Duration
	Logger           *slog.Logger
}

// NewRiver builds the River client on the application role's pool.
func NewRiver(pool *pgxpool.Pool, o RiverOptions) (*river.Client[pgx.Tx], error) {
	cfg := &river.Config{
		Schema:  database.RiverSchema,
		Workers: o.Workers,
		Logger:  o.Logger,
		// The reindexer needs to own River's indexes, and the application
		// role owns nothing; operators reindex with the owner role.
		ReindexerSchedule: river.NeverSchedule(),
		JobTimeout:        5 * time.Minute,
	}
	if o.RescueStuckAfter > 0 {
		cfg.RescueStuckJobsAfter = o.RescueStuckAfter
	}
	if o.Work {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.Concurrency}}
		cfg.PeriodicJobs = o.PeriodicJobs
		cfg.SoftStopTimeout = 20 * time.Second
	}
	c, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return c, nil
}
