package main

import (
	"context"
	"fmt"
	"slices"
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
// enqueued once per period (only River's elected leader schedules, and a
// leader's start-up run is unique per period) over every worker the run
// started, stopped and killed; a campaign of 300 SMS notices at the tenant's rate of 20 a
// second is sent by both workers and reaches Twilio (the stand-in) at no
// more than that rate over any 3 s (its burst of 2 and 10 % slack),
// one message per recipient.
func cluster(ctx context.Context, e *env, c *checks) error {
	const limit, smsRate = 40, 20
	st, err := startStandin(e.tmp, "cluster-standin", 0)
	if err != nil {
		return err
	}
	defer st.close()
	// The front's address is chosen first: it is every process's public
	// base URL (status callbacks come through it).
	addr, err := harness.FreeAddr()
	if err != nil {
		return err
	}
	var apis []*harness.Proc
	var bases []string
	for i := 1; i <= 2; i++ {
		p, err := e.start(ctx, fmt.Sprintf("cluster-api-%d", i), "api", append(smsEnv(st), "CUSTOMERHUB_PUBLIC_BASE_URL=http://"+addr,
			fmt.Sprintf("CUSTOMERHUB_RATE_LIMIT_TENANT=%d", limit), "CUSTOMERHUB_TRUSTED_PROXIES=127.0.0.1/32")...)
		if err != nil {
			return err
		}
		apis, bases = append(apis, p), append(bases, p.Base)
	}
	for i := 1; i <= 2; i++ {
		if _, err := e.start(ctx, fmt.Sprintf("cluster-worker-%d", i), "worker",
			// Two bulk jobs at a time per worker: eight at once need both.
			workerEnv(st, "http://"+addr, "CUSTOMERHUB_BULK_BATCH=20", "CUSTOMERHUB_BULK_CONCURRENCY=2")...); err != nil {
			return err
		}
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
	perWorker, err := e.jobsPerWorker(ctx, "customer_bulk_update", jobsStarted)
	if err != nil {
		return err
	}
	c.figure("bulk updates per worker: %v", perWorker)
	c.expect(len(perWorker) == 2, "jobs spread over both workers", "worked by %d worker(s): %v", len(perWorker), perWorker)

	// Periodic jobs: once per period (their unique key), whatever the
	// number of workers and however often a leader changed: counted per
	// kind and period since the run began, over every worker this run
	// started, stopped and killed.
	var counts map[string]int
	var twice []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows, err := e.db.Query(ctx, `SELECT kind, date_trunc(CASE kind WHEN 'jobs_purge' THEN 'day' ELSE 'hour' END, created_at AT TIME ZONE 'UTC'), count(*)
			FROM river.river_job WHERE kind = ANY($1) AND created_at >= $2 GROUP BY 1, 2`, periodicKinds, e.began)
		if err != nil {
			return err
		}
		counts, twice = map[string]int{}, nil
		for rows.Next() {
			var kind string
			var period time.Time
			var n int
			if err := rows.Scan(&kind, &period, &n); err != nil {
				rows.Close()
				return err
			}
			counts[kind] += n
			if n != 1 {
				twice = append(twice, fmt.Sprintf("%s %d times in the period from %s", kind, n, period.Format(time.DateTime)))
			}
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
	var workers int
	if err := e.db.QueryRow(ctx, `SELECT count(DISTINCT w) FROM river.river_job, unnest(attempted_by) AS w WHERE created_at >= $1`, e.began).Scan(&workers); err != nil {
		return err
	}
	c.figure("periodic jobs enqueued since the run began (%d worker processes): %v", workers, counts)
	c.expect(len(counts) == len(periodicKinds) && len(twice) == 0, "each periodic job enqueued once per period", "%v; %s", counts, firstFew(twice))
	return clusterSMS(ctx, e, c, st, e.api(apis[1]), smsRate)
}

// clusterSMS sends a campaign at rate messages a second through the
// cluster's two workers and checks the rate Twilio saw.
func clusterSMS(ctx context.Context, e *env, c *checks, st *standin, a *api, rate int) error {
	if err := configureSMS(ctx, a, rate); err != nil {
		return err
	}
	r, err := e.prepareRecipients(ctx, e.smsRecipients(2), 4)
	if err != nil {
		return err
	}
	sent := time.Now()
	campaignID, jobID, err := e.startCampaign(ctx, a, r)
	if err != nil {
		return err
	}
	j, err := a.waitJob(ctx, jobID, 3*time.Minute)
	if err != nil {
		return err
	}
	if err := e.checkCampaign(ctx, c, a, st, campaignID, j, r); err != nil {
		return err
	}
	var times []time.Time
	for _, m := range st.Messages() {
		if r.eligible[m.To] {
			times = append(times, m.DateCreated)
		}
	}
	// Judged over any 3 s: arrival times carry the network's and the
	// scheduler's jitter, which bunches a second's messages now and then
	// without raising the rate.
	const window = 3
	peak, peak3 := peakIn(times, time.Second), peakIn(times, window*time.Second)
	allowed := int(float64(window*rate+max(1, rate/10))*1.1) + 1
	span := time.Duration(0)
	if len(times) > 1 {
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		span = times[len(times)-1].Sub(times[0])
	}
	c.figure("SMS: %d messages in %s (%.1f/s), at most %d in any second and %d in any %d s (rate %d/s)", len(times), span.Round(time.Millisecond),
		float64(len(times))/max(span.Seconds(), 1), peak, peak3, window, rate)
	c.expect(peak3 <= allowed, "the SMS rate holds across both workers", "%d messages in %d s, at most %d", peak3, window, allowed)
	perWorker, err := e.jobsPerWorker(ctx, "sms_send", sent)
	if err != nil {
		return err
	}
	c.figure("SMS send jobs per worker: %v", perWorker)
	c.expect(len(perWorker) == 2, "both workers sent", "sent by %d worker(s)", len(perWorker))
	return nil
}

// jobsPerWorker counts the River jobs of kind inserted since, by the
// worker (River client) that last attempted each.
func (e *env) jobsPerWorker(ctx context.Context, kind string, since time.Time) (map[string]int, error) {
	rows, err := e.db.Query(ctx, `SELECT attempted_by[array_length(attempted_by, 1)], count(*) FROM river.river_job
		WHERE kind = $1 AND created_at >= $2 AND attempted_by IS NOT NULL GROUP BY 1`, kind, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	perWorker := map[string]int{}
	for rows.Next() {
		var worker string
		var n int
		if err := rows.Scan(&worker, &n); err != nil {
			return nil, err
		}
		perWorker[worker] = n
	}
	return perWorker, rows.Err()
}

// peakIn answers the most of times that fall in any window of length w.
func peakIn(times []time.Time, w time.Duration) int {
	ts := slices.Clone(times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	peak, lo := 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= w {
			lo++
		}
		peak = max(peak, hi-lo+1)
	}
	return peak
}

// requestsServed reads how many requests an api process has answered.
func requestsServed(ctx context.Context, metricsURL string) (float64, error) {
	v, _, err := harness.Metric(ctx, metricsURL, "customerhub_http_requests_total")
	return v, err
}
