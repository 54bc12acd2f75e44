package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/customerhub/customerhub/internal/harness"
)

func jsonBody(v any) ([]byte, error)            { return json.Marshal(v) }
func jsonUnmarshal(data []byte, v any) error    { return json.Unmarshal(data, v) }
func within(o outcome, from, to time.Time) bool { return !o.At.Before(from) && o.At.Before(to) }

// background runs l with workers goroutines until the returned stop is
// called, which waits for the requests in flight.
func background(ctx context.Context, l *load, workers int) (stop func()) {
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { l.run(lctx, workers); close(done) }()
	return func() { cancel(); <-done }
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// waitDB waits until the checking pool reaches PostgreSQL again (each
// failed ping drops a connection the restart ended).
func (e *env) waitDB(ctx context.Context) error {
	var err error
	for range 100 {
		if err = e.db.Ping(ctx); err == nil {
			return nil
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("database did not come back: %w", err)
}

// checkAcknowledged checks that every create the load saw acknowledged
// is in the database.
func (e *env) checkAcknowledged(ctx context.Context, c *checks, created []uuid.UUID) error {
	have, err := e.countExisting(ctx, created)
	if err != nil {
		return err
	}
	c.expect(have == len(created), "every acknowledged create is stored", "%d of %d acknowledged creates found", have, len(created))
	return nil
}

// pgRestartRows is the size of pg-restart's import.
const pgRestartRows = 5000

// pgRestart: PostgreSQL stopped as by a crash (immediate: no checkpoint,
// recovery from the WAL at the next start) for 5 s under mixed load,
// while a bulk update of 4,000 customers and an import of 5,000 rows run.
//
// Invariants: while it is down the API answers 503 problem+json, never
// slower than the request timeout; it serves again by itself within 30 s
// of the restart, with no 503 outside the outage; no other 5xx and no
// dropped connection at any time; every acknowledged create is stored;
// both jobs, running through the outage, succeed with exact counts.
func pgRestart(ctx context.Context, e *env, c *checks) error {
	apiP, err := e.start(ctx, "pg-restart-api", "api")
	if err != nil {
		return err
	}
	// Small batches, so that both jobs are still running when the
	// database goes.
	if _, err := e.start(ctx, "pg-restart-worker", "worker", "CUSTOMERHUB_BULK_BATCH=10", "CUSTOMERHUB_IMPORT_BATCH=50"); err != nil {
		return err
	}
	a := e.api(apiP)
	l := e.load("pg-restart "+e.runID, apiP)
	stop := background(ctx, l, 4)
	defer stop()
	if err := sleep(ctx, 3*time.Second); err != nil {
		return err
	}
	bulkIDs := e.ids[:min(4000, len(e.ids))]
	bulkJob, err := e.startBulk(ctx, a, bulkIDs, "collections", "current")
	if err != nil {
		return err
	}
	prefix := "PGR" + e.runID + "-"
	importJob, err := e.startImport(ctx, a, prefix, pgRestartRows)
	if err != nil {
		return err
	}
	if err := a.waitProgress(ctx, bulkJob, 100, time.Minute); err != nil {
		return err
	}
	down := time.Now()
	if err := e.pg.Stop(ctx, "immediate"); err != nil {
		return err
	}
	if err := sleep(ctx, 5*time.Second); err != nil {
		return err
	}
	if err := e.pg.Start(ctx); err != nil {
		return err
	}
	up := time.Now()
	if err := sleep(ctx, 15*time.Second); err != nil {
		return err
	}
	stop()
	outcomes, created := l.results()

	// When the API served again: the first 2xx after the restart.
	var recovered time.Time
	for _, o := range outcomes {
		if o.Status/100 == 2 && o.At.After(up) && (recovered.IsZero() || o.At.Before(recovered)) {
			recovered = o.At
		}
	}
	s := summarize(outcomes)
	during := summarize(filter(outcomes, func(o outcome) bool { return within(o, down, recovered) }))
	outside := summarize(filter(outcomes, func(o outcome) bool {
		return o.At.Before(down.Add(-time.Second)) || o.At.After(recovered.Add(2*time.Second))
	}))
	c.figure("load: %s", s)
	c.figure("outage: %s; served again %s after the restart", during, recovered.Sub(up).Round(time.Millisecond))
	c.expect(during.Status503 > 0, "the outage was felt (503s answered)", "no 503 while down: %s", during)
	c.expect(s.NotProblem == 0 && s.Other5xx == 0 && s.Other4xx == 0 && s.Status429 == 0, "every failure is a 503 problem+json",
		"%s; %d not problem+json", s, s.NotProblem)
	c.expect(s.Transport == 0, "no request left without an answer", "%d without an answer", s.Transport)
	c.expect(s.Max <= requestTimeout+time.Second, "no answer slower than the request timeout", "slowest %s", s.Max)
	c.expect(!recovered.IsZero() && recovered.Sub(up) <= 30*time.Second, "serves again by itself within 30 s", "recovered %v after", recovered.Sub(up))
	c.expect(outside.Status503 == 0, "no 503 outside the outage", "%s", outside)

	if err := e.waitDB(ctx); err != nil {
		return err
	}
	if err := e.checkAcknowledged(ctx, c, created); err != nil {
		return err
	}
	bj, err := a.waitJob(ctx, bulkJob, 3*time.Minute)
	if err != nil {
		return err
	}
	if err := e.checkBulk(ctx, c, "the bulk update", bj, bulkIDs, "collections"); err != nil {
		return err
	}
	ij, err := a.waitJob(ctx, importJob, 3*time.Minute)
	if err != nil {
		return err
	}
	for _, j := range []jobView{bj, ij} {
		var started, finished time.Time
		if err := e.db.QueryRow(ctx, `SELECT started_at, finished_at FROM jobs WHERE id = $1`, uuid.MustParse(j.ID)).Scan(&started, &finished); err != nil {
			return err
		}
		c.figure("%s job: ran %s, finished %s after the restart", j.Kind, finished.Sub(started).Round(time.Millisecond), finished.Sub(up).Round(time.Millisecond))
		c.expect(started.Before(down) && finished.After(up), "the "+j.Kind+" job ran through the outage",
			"started %s, finished %s; down %s, up %s", started.Format(time.TimeOnly), finished.Format(time.TimeOnly), down.Format(time.TimeOnly), up.Format(time.TimeOnly))
	}
	return e.checkImport(ctx, c, "the import", ij, prefix, pgRestartRows)
}

func filter(os []outcome, keep func(outcome) bool) []outcome {
	var out []outcome
	for _, o := range os {
		if keep(o) {
			out = append(out, o)
		}
	}
	return out
}

// redisStop: Redis killed for 10 s and started again (empty) under load
// above the tenant's limit of 40 requests a second.
//
// Invariants: no 5xx and no dropped connection; in each 10 s phase
// (before, down, after) the tenant got no more than its limit (and one
// second's burst, 20 % slack) and some requests were refused with 429: the
// limit held throughout; after the restart the limiter uses Redis again
// (its keys are there).
func redisStop(ctx context.Context, e *env, c *checks) error {
	const limit = 40
	apiP, err := e.start(ctx, "redis-stop-api", "api", fmt.Sprintf("CUSTOMERHUB_RATE_LIMIT_TENANT=%d", limit))
	if err != nil {
		return err
	}
	l := e.load("redis-stop "+e.runID, apiP)
	stop := background(ctx, l, 4)
	defer stop()
	const phase = 10 * time.Second
	t0 := time.Now()
	if err := sleep(ctx, phase); err != nil {
		return err
	}
	t1 := time.Now()
	e.redis.Stop()
	if err := sleep(ctx, phase); err != nil {
		return err
	}
	if err := e.redis.Start(ctx); err != nil {
		return err
	}
	t2 := time.Now()
	if err := sleep(ctx, phase); err != nil {
		return err
	}
	t3 := time.Now()
	stop()
	outcomes, created := l.results()
	s := summarize(outcomes)
	c.figure("load: %s", s)
	c.expect(s.Other5xx == 0 && s.Status503 == 0, "no 5xx", "%s", s)
	c.expect(s.Transport == 0, "no request left without an answer", "%d without an answer", s.Transport)
	for i, p := range []struct {
		name     string
		from, to time.Time
	}{{"before", t0, t1}, {"Redis down", t1, t2}, {"after", t2, t3}} {
		ps := summarize(filter(outcomes, func(o outcome) bool { return within(o, p.from, p.to) }))
		secs := p.to.Sub(p.from).Seconds()
		allowed := int(float64(limit)*(secs+1)*1.2) + 1
		c.figure("%s: %.0f/s served, %d refused (limit %d/s)", p.name, float64(ps.OK)/secs, ps.Status429, limit)
		c.expect(ps.OK <= allowed && ps.Status429 > 0, fmt.Sprintf("limit held (%d: %s)", i+1, p.name),
			"%d served in %.1f s (at most %d), %d refused", ps.OK, secs, allowed, ps.Status429)
	}
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", e.redis.Port)})
	defer rdb.Close()
	keys, err := rdb.DBSize(ctx).Result()
	if err != nil {
		return err
	}
	c.expect(keys > 0, "the limiter is back on Redis", "Redis holds no keys after the restart")
	return e.checkAcknowledged(ctx, c, created)
}

// workerKill: the worker process killed with SIGKILL in the middle of an
// import of 5,000 rows, a bulk update of 2,500 customers, a merge of a
// duplicate with 300 orders (a job: moved 10 at a time) and a dormant
// sweep of every active customer, each time with a new worker started
// after.
//
// Invariants: each job succeeds with exact counts: every row imported
// once, every customer changed once, every order of the duplicate moved
// once and the duplicate merged once, the sweep's count equal to its dry
// run's and to the customers now dormant.
func workerKill(ctx context.Context, e *env, c *checks) error {
	apiP, err := e.start(ctx, "worker-kill-api", "api", "CUSTOMERHUB_MERGE_INLINE_MAX=50")
	if err != nil {
		return err
	}
	a := e.api(apiP)
	n := 0
	worker, err := e.start(ctx, fmt.Sprintf("worker-kill-worker-%d", n), "worker", "CUSTOMERHUB_MERGE_BATCH=10")
	if err != nil {
		return err
	}
	// strike kills the worker once job has done at least done items and
	// starts the next one.
	strike := func(job string, done int64) error {
		if err := a.waitProgress(ctx, job, done, time.Minute); err != nil {
			return err
		}
		worker.Kill()
		n++
		worker, err = e.start(ctx, fmt.Sprintf("worker-kill-worker-%d", n), "worker", "CUSTOMERHUB_MERGE_BATCH=10")
		return err
	}

	prefix := "KIL" + e.runID + "-"
	importJob, err := e.startImport(ctx, a, prefix, 5000)
	if err != nil {
		return err
	}
	if err := strike(importJob, 600); err != nil {
		return err
	}
	ij, err := a.waitJob(ctx, importJob, 3*time.Minute)
	if err != nil {
		return err
	}
	if err := e.checkImport(ctx, c, "the import", ij, prefix, 5000); err != nil {
		return err
	}

	bulkIDs := e.ids[:2500]
	bulkJob, err := e.startBulk(ctx, a, bulkIDs, "on_hold", "current")
	if err != nil {
		return err
	}
	if err := strike(bulkJob, 300); err != nil {
		return err
	}
	bj, err := a.waitJob(ctx, bulkJob, 3*time.Minute)
	if err != nil {
		return err
	}
	if err := e.checkBulk(ctx, c, "the bulk update", bj, bulkIDs, "on_hold"); err != nil {
		return err
	}

	if err := e.mergeStruck(ctx, c, a, strike); err != nil {
		return err
	}

	// The sweep: everything active with no order or payment since now.
	before := time.Now().UTC().Format(time.RFC3339)
	var preview struct {
		Count int64 `json:"count"`
	}
	if err := a.call(ctx, http.MethodPost, "/v1/dormant-sweeps", "application/json",
		[]byte(`{"dry_run":true,"before":"`+before+`"}`), http.StatusOK, &preview); err != nil {
		return err
	}
	var dormantBefore int64
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM customers WHERE status = 'dormant'`).Scan(&dormantBefore); err != nil {
		return err
	}
	var acc struct {
		Job jobView `json:"job"`
	}
	if err := a.call(ctx, http.MethodPost, "/v1/dormant-sweeps", "application/json",
		[]byte(`{"before":"`+before+`"}`), http.StatusAccepted, &acc); err != nil {
		return err
	}
	if err := strike(acc.Job.ID, 300); err != nil {
		return err
	}
	sj, err := a.waitJob(ctx, acc.Job.ID, 3*time.Minute)
	if err != nil {
		return err
	}
	var r bulkResult
	if err := jsonUnmarshal(sj.Result, &r); err != nil {
		return err
	}
	var dormantAfter int64
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM customers WHERE status = 'dormant'`).Scan(&dormantAfter); err != nil {
		return err
	}
	c.expect(sj.State == "succeeded" && r.Changed == preview.Count && dormantAfter-dormantBefore == preview.Count,
		"the sweep marked each customer once", "job %s %s, result %s; dry run %d; dormant %d → %d",
		sj.ID, sj.State, sj.Result, preview.Count, dormantBefore, dormantAfter)
	c.figure("import of 5,000 rows, bulk update of %d customers, merge of %d orders, sweep of %d customers; %d workers killed",
		len(bulkIDs), mergeOrders, preview.Count, n)
	return nil
}

// mergeOrders is how many orders the duplicate of workerKill's merge has.
const mergeOrders = 300

// mergeStruck merges a duplicate customer with mergeOrders orders into
// another as a job, strikes the job after 50 orders moved, and checks
// that every order moved exactly once and the duplicate is gone, merged
// once.
func (e *env) mergeStruck(ctx context.Context, c *checks, a *api, strike func(job string, done int64) error) error {
	sku := "KIL" + e.runID
	if err := a.call(ctx, http.MethodPost, "/v1/items", "application/json",
		[]byte(`{"sku":"`+sku+`","name":"Fault item","base_price":"5.00"}`), http.StatusCreated, nil); err != nil {
		return err
	}
	var kept, dup struct {
		ID uuid.UUID `json:"id"`
	}
	for _, p := range []struct {
		name string
		into *struct {
			ID uuid.UUID `json:"id"`
		}
	}{{"Merge Kept " + e.runID, &kept}, {"Merge Duplicate " + e.runID, &dup}} {
		if err := a.call(ctx, http.MethodPost, "/v1/customers", "application/json", []byte(`{"name":"`+p.name+`"}`), http.StatusCreated, p.into); err != nil {
			return err
		}
	}
	order := []byte(`{"customer_id":"` + dup.ID.String() + `","lines":[{"sku":"` + sku + `","quantity":"1"}]}`)
	for range mergeOrders {
		if err := a.call(ctx, http.MethodPost, "/v1/sales-orders", "application/json", order, http.StatusCreated, nil); err != nil {
			return err
		}
	}
	var acc struct {
		Job jobView `json:"job"`
	}
	if err := a.call(ctx, http.MethodPost, "/v1/customers/"+kept.ID.String()+"/merge", "application/json",
		[]byte(`{"duplicate_id":"`+dup.ID.String()+`"}`), http.StatusAccepted, &acc); err != nil {
		return err
	}
	if err := strike(acc.Job.ID, 50); err != nil {
		return err
	}
	j, err := a.waitJob(ctx, acc.Job.ID, 3*time.Minute)
	if err != nil {
		return err
	}
	var onKept, onDup, dupLeft, merges int
	if err := e.db.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM sales_orders WHERE customer_id = $1),
			(SELECT count(*) FROM sales_orders WHERE customer_id = $2),
			(SELECT count(*) FROM customers WHERE id = $2),
			(SELECT count(*) FROM customer_merges WHERE merged_id = $2)`, kept.ID, dup.ID).Scan(&onKept, &onDup, &dupLeft, &merges); err != nil {
		return err
	}
	c.expect(j.State == "succeeded" && onKept == mergeOrders && onDup == 0 && dupLeft == 0 && merges == 1,
		"the merge moved every order once", "job %s %s; orders on the kept customer %d (want %d), on the duplicate %d; duplicate rows %d, merges %d",
		j.ID, j.State, onKept, mergeOrders, onDup, dupLeft, merges)
	return nil
}

// poolExhausted: a lock held on the customers table for 8 s while twice
// as many customer reads as the API has pooled connections (4) wait on
// it, and other requests (payment terms, which need a connection but not
// that table) keep coming.
//
// Invariants: the other requests are answered quickly (within 2.5 s:
// 200, or 503 problem+json when no connection came free) and the blocked
// reads within the request timeout; nothing is left without an answer;
// once the lock is gone every request is served again within 3 s and no
// statement of the API's is left waiting (nothing deadlocked).
func poolExhausted(ctx context.Context, e *env, c *checks) error {
	apiP, err := e.start(ctx, "pool-api", "api", "CUSTOMERHUB_DB_MAX_CONNS=4", "CUSTOMERHUB_DB_ACQUIRE_TIMEOUT=1s")
	if err != nil {
		return err
	}
	a := e.api(apiP)
	tx, err := e.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `LOCK TABLE customers IN ACCESS EXCLUSIVE MODE`); err != nil {
		return err
	}
	locked := time.Now()
	var mu sync.Mutex
	var blocked, others []outcome
	probe := func(path string, into *[]outcome) {
		start := time.Now()
		err := a.call(ctx, http.MethodGet, path, "", nil, http.StatusOK, nil)
		o := outcome{At: start, Latency: time.Since(start), Status: http.StatusOK}
		if err != nil {
			o.Status, o.Problem = statusOf(err)
			o.Err = err.Error()
		}
		mu.Lock()
		*into = append(*into, o)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); probe("/v1/customers/"+e.ids[i].String(), &blocked) }()
	}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(locked) < 8*time.Second {
				probe("/v1/payment-terms", &others)
				_ = sleep(ctx, 100*time.Millisecond)
			}
		}()
	}
	wg.Wait()
	if err := tx.Rollback(ctx); err != nil {
		return err
	}
	released := time.Now()

	bs, os := summarize(blocked), summarize(others)
	c.figure("blocked reads: %s", bs)
	c.figure("other requests: %s", os)
	c.expect(bs.Transport == 0 && os.Transport == 0, "no request left without an answer", "blocked %s; others %s", bs, os)
	c.expect(bs.Max <= requestTimeout+time.Second && bs.OK+bs.Status503 == bs.Requests, "blocked reads end in the request timeout as 503", "%s", bs)
	c.expect(os.Max <= 2500*time.Millisecond && os.OK+os.Status503 == os.Requests, "other requests answered quickly", "%s", os)
	c.expect(os.Status503 > 0, "the pool was exhausted (503s answered)", "%s", os)

	// Recovery: customer reads and the others served again.
	var back time.Duration
	for {
		errA := a.call(ctx, http.MethodGet, "/v1/customers/"+e.ids[0].String(), "", nil, http.StatusOK, nil)
		errB := a.call(ctx, http.MethodGet, "/v1/payment-terms", "", nil, http.StatusOK, nil)
		if errA == nil && errB == nil {
			back = time.Since(released)
			break
		}
		if time.Since(released) > 10*time.Second {
			back = time.Since(released)
			break
		}
		_ = sleep(ctx, 100*time.Millisecond)
	}
	c.figure("served again %s after the lock was released", back.Round(time.Millisecond))
	c.expect(back <= 3*time.Second, "served again within 3 s", "took %s", back)
	var waiting int
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE usename = 'customerhub_app' AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
		return err
	}
	c.expect(waiting == 0, "no statement left waiting", "%d of the API's statements wait on a lock", waiting)
	return nil
}

// sigterm: one api and one worker process of two each stopped with
// SIGTERM under load that retries idempotently (the same request, the same
// Idempotency-Key, to the other api) and in the middle of a bulk update of
// 4,000 customers.
//
// Invariants: the stopped processes exit cleanly (code 0) within the
// shutdown timeout; the clients see no error: every request ends 2xx;
// every acknowledged create is stored once; the bulk update stops at a
// batch boundary, finishes on the other worker and changes each customer
// exactly once.
func sigterm(ctx context.Context, e *env, c *checks) error {
	api1, err := e.start(ctx, "sigterm-api-1", "api")
	if err != nil {
		return err
	}
	api2, err := e.start(ctx, "sigterm-api-2", "api")
	if err != nil {
		return err
	}
	worker1, err := e.start(ctx, "sigterm-worker-1", "worker", "CUSTOMERHUB_BULK_BATCH=20")
	if err != nil {
		return err
	}
	a := e.api(api2)
	l := e.load("sigterm "+e.runID, api1, api2)
	l.retry, l.retryFor = true, 30*time.Second
	stop := background(ctx, l, 4)
	defer stop()
	if err := sleep(ctx, 3*time.Second); err != nil {
		return err
	}
	n := min(4000, len(e.ids))
	bulkIDs := e.ids[:n]
	job, err := e.startBulk(ctx, a, bulkIDs, "collections", "current")
	if err != nil {
		return err
	}
	if err := a.waitProgress(ctx, job, 200, time.Minute); err != nil {
		return err
	}
	if _, err := e.start(ctx, "sigterm-worker-2", "worker", "CUSTOMERHUB_BULK_BATCH=20"); err != nil {
		return err
	}
	termAt := time.Now()
	for _, p := range []*harness.Proc{api1, worker1} {
		if err := p.Signal(syscall.SIGTERM); err != nil {
			return err
		}
	}
	exits := map[string]string{}
	var workerGone time.Time
	for _, p := range []*harness.Proc{api1, worker1} {
		select {
		case <-p.Done():
			code, _ := p.ExitCode()
			exits[p.Name] = fmt.Sprintf("exit %d after %s", code, time.Since(termAt).Round(time.Millisecond))
			c.expect(code == 0, p.Name+" exits cleanly", "exit code %d", code)
			if p == worker1 {
				workerGone = time.Now()
			}
		case <-time.After(25 * time.Second):
			c.expect(false, p.Name+" exits within the shutdown timeout", "still running 25 s after SIGTERM")
		}
	}
	c.figure("SIGTERM: %s: %s; %s: %s", api1.Name, exits[api1.Name], worker1.Name, exits[worker1.Name])
	if err := sleep(ctx, 5*time.Second); err != nil {
		return err
	}
	stop()
	outcomes, created := l.results()
	s := summarize(outcomes)
	c.figure("load (retrying): %s; %d retried", s, s.Retried)
	c.expect(s.OK == s.Requests, "clients that retry see no error", "%s", s)
	if err := e.checkAcknowledged(ctx, c, created); err != nil {
		return err
	}
	var names int
	if err := e.db.QueryRow(ctx, `SELECT count(*) - count(DISTINCT name) FROM customers WHERE name LIKE $1`, "sigterm "+e.runID+" %").Scan(&names); err != nil {
		return err
	}
	c.expect(names == 0, "no create stored twice", "%d names stored more than once", names)
	j, err := a.waitJob(ctx, job, 3*time.Minute)
	if err != nil {
		return err
	}
	var finished time.Time
	if err := e.db.QueryRow(ctx, `SELECT finished_at FROM jobs WHERE id = $1`, uuid.MustParse(j.ID)).Scan(&finished); err != nil {
		return err
	}
	c.expect(!workerGone.IsZero() && finished.After(workerGone), "the bulk update finished on the other worker",
		"finished %s, worker 1 gone %s", finished.Format(time.TimeOnly), workerGone.Format(time.TimeOnly))
	return e.checkBulk(ctx, c, "the bulk update", j, bulkIDs, "collections")
}
