package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/harness"
)

// rss reads a process's resident set size (VmRSS) in bytes.
func rss(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS of %d: %w", pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}

// goroutines reads go_goroutines from a process's Prometheus metrics.
func goroutines(ctx context.Context, metricsURL string) (int, error) {
	v, ok, err := harness.Metric(ctx, metricsURL, "go_goroutines")
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("metrics at %s have no go_goroutines", metricsURL)
	}
	return int(v), nil
}

// dbStats reads the soak database's connections and table sizes. The
// connection is the superuser's on the soak database: the counts are of
// every tenant's rows, which only a role outside row-level security sees
// (this is a measuring tool, not a request path).
func dbStats(ctx context.Context, conn *pgx.Conn, s *sample) error {
	err := conn.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()),
		       (SELECT count(*) FROM idempotency_keys),
		       (SELECT count(*) FROM audit_events),
		       (SELECT count(*) FROM river.river_job),
		       (SELECT count(*) FROM jobs),
		       pg_database_size(current_database())`).
		Scan(&s.DBConnections, &s.IdempotencyKeys, &s.AuditEvents, &s.RiverJobs, &s.Jobs, &s.DBBytes)
	if err != nil {
		return fmt.Errorf("database figures: %w", err)
	}
	return nil
}
