package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/harness"
)

const (
	sampleEvery = 10 * time.Second
	roundLength = 10 * time.Second
	jobEvery    = 30 * time.Second
)

// soak drives the load for o.duration with jobs beside it, samples every
// sampleEvery into out/soak.csv, and answers the samples.
func soak(ctx context.Context, o options, api, worker *harness.Proc, conn *pgx.Conn, d *driver, stdout io.Writer) ([]sample, error) {
	f, err := os.Create(filepath.Join(o.out, "soak.csv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	csvLog, err := newCSVLog(f)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	// The connection is used by the sampler only, one sample at a time.
	var mu sync.Mutex
	var samples []sample
	take := func() error {
		mu.Lock()
		defer mu.Unlock()
		s := sample{At: time.Since(start)}
		var err error
		if s.APIRSS, err = rss(api.PID()); err != nil {
			return fmt.Errorf("api: %w", err)
		}
		if s.WorkerRSS, err = rss(worker.PID()); err != nil {
			return fmt.Errorf("worker: %w", err)
		}
		if s.APIGoroutines, err = goroutines(ctx, api.Metrics); err != nil {
			return fmt.Errorf("api: %w", err)
		}
		if s.WorkerGoroutines, err = goroutines(ctx, worker.Metrics); err != nil {
			return fmt.Errorf("worker: %w", err)
		}
		if err := dbStats(ctx, conn, &s); err != nil {
			return err
		}
		d.tally.fill(&s)
		samples = append(samples, s)
		return csvLog.Append(s)
	}
	if err := take(); err != nil {
		return nil, err
	}

	// The sampler: every sampleEvery until the load has ended.
	sampleCtx, stopSampling := context.WithCancel(ctx)
	sampleErr := make(chan error, 1)
	go func() {
		tick := time.NewTicker(sampleEvery)
		defer tick.Stop()
		for {
			select {
			case <-sampleCtx.Done():
				sampleErr <- nil
				return
			case <-tick.C:
				if err := take(); err != nil {
					sampleErr <- err
					return
				}
			}
		}
	}()
	// The jobs: a bulk update and an export every jobEvery.
	jobsCtx, stopJobs := context.WithCancel(ctx)
	jobsDone := make(chan struct{})
	go func() { d.jobs(jobsCtx, jobEvery); close(jobsDone) }()

	loadErr := func() error {
		for round := 0; ; round++ {
			left := o.duration - time.Since(start)
			if left < time.Second {
				return nil
			}
			r, err := d.round(ctx, round, min(roundLength, left))
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "soak: %5.0fs  %6d requests  %6.0f/s  p95 %6.1f ms\n",
				time.Since(start).Seconds(), r.Requests, r.Throughput, r.P95)
			select {
			case err := <-sampleErr:
				// The sampler stopped early: a process is gone or the
				// database does not answer.
				sampleErr <- err
				return nil
			default:
			}
		}
	}()
	stopJobs()
	<-jobsDone
	stopSampling()
	if err := <-sampleErr; err != nil {
		return samples, fmt.Errorf("sample: %w", err)
	}
	if loadErr != nil {
		return samples, loadErr
	}
	if err := ctx.Err(); err != nil {
		return samples, fmt.Errorf("interrupted: %w", err)
	}
	// A last sample once the jobs are done.
	if err := take(); err != nil {
		return samples, err
	}
	return samples, nil
}

// finish draws out/soak.svg, prints the table and answers every violation
// of the run's invariants.
func finish(o options, samples []sample, t *tally, stdout io.Writer) error {
	warm := warmUp(o.duration)
	times := make([]time.Duration, len(samples))
	values := func(f func(sample) float64) []float64 {
		vs := make([]float64, len(samples))
		for i, s := range samples {
			vs[i] = f(s)
		}
		return vs
	}
	mb := func(b int64) float64 { return float64(b) / (1 << 20) }
	for i, s := range samples {
		times[i] = s.At
	}
	apiRSS := func(s sample) float64 { return float64(s.APIRSS) }
	wrkRSS := func(s sample) float64 { return float64(s.WorkerRSS) }
	apiG := func(s sample) float64 { return float64(s.APIGoroutines) }
	wrkG := func(s sample) float64 { return float64(s.WorkerGoroutines) }
	panels := []panel{
		{Title: "RSS (MiB)", Format: func(v float64) string { return fmt.Sprintf("%.0f", v) }, Lines: []series{
			{Name: "api", Color: "#1f77b4", Values: values(func(s sample) float64 { return mb(s.APIRSS) })},
			{Name: "worker", Color: "#d62728", Values: values(func(s sample) float64 { return mb(s.WorkerRSS) })},
		}},
		{Title: "goroutines", Format: func(v float64) string { return fmt.Sprintf("%.0f", v) }, Lines: []series{
			{Name: "api", Color: "#1f77b4", Values: values(apiG)},
			{Name: "worker", Color: "#d62728", Values: values(wrkG)},
		}},
	}
	f, err := os.Create(filepath.Join(o.out, "soak.svg"))
	if err != nil {
		return err
	}
	if err := writeSVG(f, times, warm, panels); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}

	first, last := samples[0], samples[len(samples)-1]
	// The growth check reads the samples taken under load: the last one
	// is taken after it, once the jobs are done, and is in the table and
	// the files only.
	loaded := samples[:len(samples)-1]
	growths := []growth{
		checkGrowth("api RSS", loaded, warm, apiRSS), checkGrowth("worker RSS", loaded, warm, wrkRSS),
		checkGrowth("api goroutines", loaded, warm, apiG), checkGrowth("worker goroutines", loaded, warm, wrkG),
	}
	printTable(stdout, o.duration, first, last, growths, t)

	var errs []error
	if last.Errors5xx > 0 || last.ErrorsTransport > 0 {
		errs = append(errs, fmt.Errorf("%d 5xx answers and %d transport errors (want none): %v",
			last.Errors5xx, last.ErrorsTransport, t.messages))
	}
	for _, g := range growths {
		if err := g.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(t.jobFailures) > 0 || t.jobsFinished != t.jobsStarted {
		errs = append(errs, fmt.Errorf("%d of %d jobs did not succeed: %v", t.jobsStarted-t.jobsFinished, t.jobsStarted, t.jobFailures))
	}
	if t.jobsStarted == 0 {
		errs = append(errs, errors.New("no job ran"))
	}
	return errors.Join(errs...)
}

// printTable prints the run's figures: first and last sample, and the
// growth check's means.
func printTable(w io.Writer, d time.Duration, first, last sample, growths []growth, t *tally) {
	mb := func(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }
	fmt.Fprintf(w, "\nsoak %s: %d requests (%.0f/s), %d 5xx, %d transport errors, %d 4xx; jobs %d started, %d succeeded\n",
		d, last.Requests, float64(last.Requests)/last.At.Seconds(), last.Errors5xx, last.ErrorsTransport, last.Errors4xx,
		t.jobsStarted, t.jobsFinished)
	fmt.Fprintf(w, "%-24s %12s %12s\n", "", "start", "end")
	rows := []struct{ name, a, b string }{
		{"api RSS (MiB)", mb(first.APIRSS), mb(last.APIRSS)},
		{"worker RSS (MiB)", mb(first.WorkerRSS), mb(last.WorkerRSS)},
		{"api goroutines", fmt.Sprint(first.APIGoroutines), fmt.Sprint(last.APIGoroutines)},
		{"worker goroutines", fmt.Sprint(first.WorkerGoroutines), fmt.Sprint(last.WorkerGoroutines)},
		{"db connections", fmt.Sprint(first.DBConnections), fmt.Sprint(last.DBConnections)},
		{"idempotency_keys rows", fmt.Sprint(first.IdempotencyKeys), fmt.Sprint(last.IdempotencyKeys)},
		{"audit_events rows", fmt.Sprint(first.AuditEvents), fmt.Sprint(last.AuditEvents)},
		{"river_job rows", fmt.Sprint(first.RiverJobs), fmt.Sprint(last.RiverJobs)},
		{"jobs rows", fmt.Sprint(first.Jobs), fmt.Sprint(last.Jobs)},
		{"database (MiB)", mb(first.DBBytes), mb(last.DBBytes)},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%-24s %12s %12s\n", r.name, r.a, r.b)
	}
	fmt.Fprintln(w, "after warm-up, mean of the first third -> of the last third (RSS in MiB):")
	for _, g := range growths {
		verdict := "ok"
		if err := g.Err(); err != nil {
			verdict = "FAIL"
		}
		if g.Samples < 3 {
			fmt.Fprintf(w, "  %-20s too few samples (%d)  %s\n", g.Name, g.Samples, verdict)
			continue
		}
		first, last := g.First, g.Last
		if strings.HasSuffix(g.Name, "RSS") {
			first, last = first/(1<<20), last/(1<<20) // MiB
		}
		fmt.Fprintf(w, "  %-20s %8.1f -> %8.1f  x%.3f  %s\n", g.Name, first, last, g.Ratio(), verdict)
	}
}
