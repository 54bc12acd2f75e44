package main

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/harness"
)

// periodicKinds are the River kinds of workers.PeriodicJobs.
var periodicKinds = []string{"auth_purge", "order_overdue_refresh", "jobs_purge", "idempotency_purge",
	"files_purge", "imports_purge", "customer_dormant_schedule"}

// cluster: two api and two worker processes on one database behind the
// round-robin front of make run-cluster (harness.Front).
//
// Invariants: under load through the front above the tenant's limit of 40
// requests a second, the tenant gets no more than that limit across both
// api processes together (one second's burst, 20 % slack) and both
// processes serve; eight bulk updates started at once are worked by both
// workers, each changing its customers exactly once; each periodic job is
// enqueued exactly once while two workers run (only River's elected leader
// schedules).
func cluster(ctx context.Context, e *env, c *checks) error {
	const limit = 40
	started := time.Now()
	var apis []*harness.Proc
	var bases []string
	for i := 1; i <= 2; i++ {
		p, err := e.start(ctx, fmt.Sprintf("cluster-api-%d", i), "api",
			fmt.Sprintf("CUSTOMERHUB_RATE_LIMIT_TENANT=%d", limit), "CUSTOMERHUB_TRUSTED_PROXIES=127.0.0.1/32")
		if err != nil {
			return err
		}
		apis, bases = append(apis, p), append(bases, p.Base)
	}
	for i := 1; i <= 2; i++ {
		if _, err := e.start(ctx, fmt.Sprintf("cluster-worker-%d", i), "worker", "CUSTOMERHUB_BULK_BATCH=20"); err != nil {
			return err
		}
	}
	addr, err := harness.FreeAddr()
	if err != nil {
		return err
	}
	front, err := harness.StartFront(addr, bases)
	if err != nil {
		return err
	}
	defer front.Close()

	// The shared limit: load through the front.
	l := e.load("cluster "+e.runID, &harness.Proc{Base: front.URL})
	before := make([]float64, len(apis))
	for i, p := range apis {
		if before[i], err = requestsServed(ctx, p.Metrics); err != nil {
			return err
		}
	}
	stop := background(ctx, l, 4)
	t0 := time.Now()
	if err := sleep(ctx, 10*time.Second); err != nil {
		stop()
		return err
	}
	stop()
	secs := time.Since(t0).Seconds()
	outcomes, created := l.results()
	s := summarize(outcomes)
	allowed := int(float64(limit)*(secs+1)*1.2) + 1
	c.figure("load through the front: %s", s)
	c.figure("served %.0f/s across both api processes (limit %d/s)", float64(s.OK)/secs, limit)
	c.expect(s.OK <= allowed && s.Status429 > 0, "the tenant's limit holds across processes",
		"%d served in %.1f s (at most %d), %d refused", s.OK, secs, allowed, s.Status429)
	c.expect(s.Other5xx+s.Status503+s.Transport == 0, "no 5xx through the front", "%s", s)
	for i, p := range apis {
		after, err := requestsServed(ctx, p.Metrics)
		if err != nil {
			return err
		}
		c.expect(after-before[i] > float64(s.Requests)/4, p.Name+" took its share", "%.0f of %d requests", after-before[i], s.Requests)
	}
	if err := e.checkAcknowledged(ctx, c, created); err != nil {
		return err
	}

	// Jobs spread: eight bulk updates of 300 customers each, at once.
	a := e.api(apis[0])
	jobsStarted := time.Now()
	type bulk struct {
		id  string
		ids []uuid.UUID
	}
	var bulks []bulk
	for i := range 8 {
		ids := e.ids[i*300 : (i+1)*300]
		id, err := e.startBulk(ctx, a, ids, "on_hold", "current")
		if err != nil {
			return err
		}
		bulks = append(bulks, bulk{id, ids})
	}
	for _, b := range bulks {
		j, err := a.waitJob(ctx, b.id, 3*time.Minute)
		if err != nil {
			return err
		}
		if err := e.checkBulk(ctx, c, "bulk update "+b.id[:8], j, b.ids, "on_hold"); err != nil {
			return err
		}
	}
	rows, err := e.db.Query(ctx, `SELECT attempted_by[array_length(attempted_by, 1)], count(*) FROM river.river_job
		WHERE kind = 'customer_bulk_update' AND created_at >= $1 GROUP BY 1 ORDER BY 1`, jobsStarted)
	if err != nil {
		return err
	}
	perWorker := map[string]int{}
	for rows.Next() {
		var worker string
		var n int
		if err := rows.Scan(&worker, &n); err != nil {
			return err
		}
		perWorker[worker] = n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	c.figure("bulk updates per worker: %v", perWorker)
	c.expect(len(perWorker) == 2, "jobs spread over both workers", "worked by %d worker(s): %v", len(perWorker), perWorker)

	// Periodic jobs: each once since the two workers started.
	counts := map[string]int{}
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows, err := e.db.Query(ctx, `SELECT kind, count(*) FROM river.river_job WHERE kind = ANY($1) AND created_at >= $2 GROUP BY kind`,
			periodicKinds, started)
		if err != nil {
			return err
		}
		counts = map[string]int{}
		for rows.Next() {
			var kind string
			var n int
			if err := rows.Scan(&kind, &n); err != nil {
				return err
			}
			counts[kind] = n
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(counts) == len(periodicKinds) || time.Now().After(deadline) {
			break
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	once := len(counts) == len(periodicKinds)
	for _, n := range counts {
		once = once && n == 1
	}
	c.figure("periodic jobs enqueued since the cluster started: %v", counts)
	c.expect(once, "each periodic job enqueued once with two workers", "%v", counts)
	return nil
}

// requestsServed reads how many requests an api process has answered.
func requestsServed(ctx context.Context, metricsURL string) (float64, error) {
	v, _, err := harness.Metric(ctx, metricsURL, "customerhub_http_requests_total")
	return v, err
}
