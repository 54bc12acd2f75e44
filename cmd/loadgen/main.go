// Command loadgen drives HTTP load against a running customerhub for the
// request-path benchmarks (make bench): it is a process of its own, so the
// service under test shares the machine with a client as it would in use,
// and what it measures is what a user sees (connection, TLS-free HTTP/1.1
// with keep-alive, the whole answer read).
//
// It reads a plan as JSON on standard input,
//
//	{"workers": 8, "duration": "10s", "timeout": "5s",
//	 "targets": [{"method": "GET", "url": "http://...", "header": {"Authorization": ["Bearer ..."]},
//	              "body": "<base64>"}, ...]}
//
// sends the targets round robin from that many concurrent connections as
// fast as the service answers (a closed loop: each worker waits for its
// answer before the next request), and prints the measurements as JSON:
// requests, throughput (2xx answers per second), latency percentiles, the
// status codes and any transport errors.
//
// The attack and its measurements are vegeta's (github.com/tsenart/vegeta),
// used as a library: a maintained load generator whose latency statistics
// (an HDR-style quantile estimator) we would otherwise write again.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/customerhub/customerhub/internal/loadplan"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	var p loadplan.Plan
	if err := json.NewDecoder(in).Decode(&p); err != nil {
		return fmt.Errorf("read the plan: %w", err)
	}
	if len(p.Targets) == 0 {
		return errors.New("the plan has no targets")
	}
	if p.Workers == 0 {
		p.Workers = 8
	}
	duration, err := time.ParseDuration(p.Duration)
	if err != nil || duration <= 0 {
		return fmt.Errorf("duration %q: a positive Go duration is required", p.Duration)
	}
	timeout := 10 * time.Second
	if p.Timeout != "" {
		if timeout, err = time.ParseDuration(p.Timeout); err != nil || timeout <= 0 {
			return fmt.Errorf("timeout %q: a positive Go duration is required", p.Timeout)
		}
	}
	attacker := vegeta.NewAttacker(
		vegeta.Workers(p.Workers), vegeta.MaxWorkers(p.Workers),
		vegeta.Connections(int(p.Workers)), vegeta.MaxConnections(int(p.Workers)),
		vegeta.KeepAlive(true), vegeta.Timeout(timeout), vegeta.Redirects(vegeta.NoFollow),
	)
	var metrics vegeta.Metrics
	// A zero rate with as many workers as connections: every worker sends
	// its next request as soon as its answer is in.
	for res := range attacker.Attack(roundRobin(p.Targets), vegeta.Rate{Freq: 0}, duration, "loadgen") {
		metrics.Add(res)
	}
	metrics.Close()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	r := loadplan.Report{
		Requests: metrics.Requests, Seconds: metrics.Duration.Seconds(), Throughput: metrics.Throughput,
		Success: metrics.Success, P50: ms(metrics.Latencies.P50), P90: ms(metrics.Latencies.P90),
		P95: ms(metrics.Latencies.P95), P99: ms(metrics.Latencies.P99), Max: ms(metrics.Latencies.Max),
		StatusCodes: metrics.StatusCodes, Errors: metrics.Errors,
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// roundRobin hands the targets out in turn to concurrent workers.
func roundRobin(ts []vegeta.Target) vegeta.Targeter {
	var next atomic.Uint64
	return func(t *vegeta.Target) error {
		if t == nil {
			return vegeta.ErrNilTarget
		}
		src := ts[(next.Add(1)-1)%uint64(len(ts))]
		t.Method, t.URL, t.Body = src.Method, src.URL, src.Body
		t.Header = http.Header{}
		for k, v := range src.Header {
			t.Header[k] = append([]string(nil), v...)
		}
		return nil
	}
}
