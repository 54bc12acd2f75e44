package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("metrics: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				return 0, fmt.Errorf("go_goroutines: %w", err)
			}
			return int(v), nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	return 0, fmt.Errorf("metrics at %s have no go_goroutines", metricsURL)
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
