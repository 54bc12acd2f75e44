package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// outcome is one request the load sent, as its client saw it.
type outcome struct {
	At      time.Time
	Op      string // get, create, patch
	Status  int    // 0: no answer (transport error)
	Problem bool   // the answer was application/problem+json
	Latency time.Duration
	Err     string
	Tries   int
}

// load is mixed reads and writes from workers goroutines, each a client
// of its own, round robin over the API bases: get a customer (60 %),
// create one with an Idempotency-Key (20 %), patch one's notes with
// If-Match: * (20 %). It keeps every outcome and the id of every customer
// whose create was acknowledged (2xx).
type load struct {
	bases   []string
	token   string
	ids     []uuid.UUID
	label   string // names the customers it creates
	timeout time.Duration
	// retry: a request that got no answer or a 503 is sent again, the
	// same request with the same Idempotency-Key, to the next base, for
	// up to retryFor (a client that retries idempotently).
	retry    bool
	retryFor time.Duration

	next     atomic.Uint64
	mu       sync.Mutex
	outcomes []outcome
	created  []uuid.UUID
}

// run sends requests from workers goroutines until ctx is done.
func (l *load) run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: l.timeout}
			for i := 0; ctx.Err() == nil; i++ {
				l.one(ctx, client, w, i)
			}
		}()
	}
	wg.Wait()
}

// request is one request of the mix, ready to send (again).
type request struct {
	op, method, path string
	body             []byte
	header           map[string]string
}

func (l *load) pick(w, i int) request {
	id := l.ids[rand.IntN(len(l.ids))].String()
	switch i % 10 {
	case 0, 1, 2, 3, 4, 5:
		return request{op: "get", method: http.MethodGet, path: "/v1/customers/" + id}
	case 6, 7:
		return request{op: "create", method: http.MethodPost, path: "/v1/customers",
			body:   fmt.Appendf(nil, `{"name":"%s %d-%d"}`, l.label, w, i),
			header: map[string]string{"Idempotency-Key": uuid.NewString()}}
	default:
		return request{op: "patch", method: http.MethodPatch, path: "/v1/customers/" + id,
			body: fmt.Appendf(nil, `{"notes":"%s %d-%d"}`, l.label, w, i), header: map[string]string{"If-Match": "*"}}
	}
}

func (l *load) one(ctx context.Context, client *http.Client, w, i int) {
	r := l.pick(w, i)
	start := time.Now()
	o := outcome{At: start, Op: r.op}
	for {
		o.Tries++
		base := l.bases[l.next.Add(1)%uint64(len(l.bases))]
		sent := time.Now()
		status, problem, body, err := l.send(ctx, client, base, r)
		o.Latency = time.Since(sent)
		o.Status, o.Problem, o.Err = status, problem, ""
		if err != nil {
			o.Err = err.Error()
		}
		if status/100 == 2 && r.op == "create" {
			var c struct {
				ID uuid.UUID `json:"id"`
			}
			if json.Unmarshal(body, &c) == nil && c.ID != uuid.Nil {
				l.mu.Lock()
				l.created = append(l.created, c.ID)
				l.mu.Unlock()
			}
		}
		retryable := err != nil || status == http.StatusServiceUnavailable
		// A retrying client keeps trying after the run's end: it wants
		// its answer.
		if !l.retry || !retryable || time.Since(start) > l.retryFor {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.mu.Lock()
	l.outcomes = append(l.outcomes, o)
	l.mu.Unlock()
}

func (l *load) send(ctx context.Context, client *http.Client, base string, r request) (int, bool, []byte, error) {
	// The request is not tied to ctx: one in flight when the run ends
	// finishes, so that an acknowledged write is always seen.
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), r.method, base+r.path, bytes.NewReader(r.body))
	if err != nil {
		return 0, false, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+l.token)
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, false, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	problem := strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json")
	return resp.StatusCode, problem, body, err
}

// results answers the outcomes and the acknowledged creates so far.
func (l *load) results() ([]outcome, []uuid.UUID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]outcome(nil), l.outcomes...), append([]uuid.UUID(nil), l.created...)
}

// summary counts outcomes: answers by class, and the slowest.
type summary struct {
	Requests, OK, Status429, Status503, Other5xx, Other4xx, Transport int
	NotProblem                                                        int // a 4xx or 5xx that was not problem+json
	Max                                                               time.Duration
	Retried                                                           int      // outcomes that took more than one try
	Errors                                                            []string // the first few distinct transport errors
}

func summarize(os []outcome) summary {
	var s summary
	for _, o := range os {
		s.Requests++
		s.Max = max(s.Max, o.Latency)
		if o.Tries > 1 {
			s.Retried++
		}
		switch {
		case o.Status == 0:
			s.Transport++
			if len(s.Errors) < 3 && !slices.Contains(s.Errors, o.Err) {
				s.Errors = append(s.Errors, o.Err)
			}
		case o.Status/100 == 2:
			s.OK++
		case o.Status == http.StatusTooManyRequests:
			s.Status429++
		case o.Status == http.StatusServiceUnavailable:
			s.Status503++
		case o.Status >= 500:
			s.Other5xx++
		default:
			s.Other4xx++
		}
		if o.Status >= 400 && !o.Problem {
			s.NotProblem++
		}
	}
	return s
}

func (s summary) String() string {
	out := fmt.Sprintf("%d requests: %d 2xx, %d 429, %d 503, %d other 5xx, %d other 4xx, %d no answer; slowest %s",
		s.Requests, s.OK, s.Status429, s.Status503, s.Other5xx, s.Other4xx, s.Transport, s.Max.Round(time.Millisecond))
	if len(s.Errors) > 0 {
		out += " (" + strings.Join(s.Errors, "; ") + ")"
	}
	return out
}

// api is a client of the public API for the harness's own calls (jobs,
// imports, checks), as the demo tenant's admin.
type api struct {
	base   string
	token  string
	client *http.Client
}

// call sends one request; a non-nil out receives the JSON answer when
// the status is want. A 429 is waited out (Retry-After, up to ten times),
// as a polite client does: the harness's own calls are not the load.
func (a *api) call(ctx context.Context, method, path, contentType string, body []byte, want int, out any) error {
	for try := 0; ; try++ {
		err := a.callOnce(ctx, method, path, contentType, body, want, out)
		var se *statusError
		if !errors.As(err, &se) || se.Status != http.StatusTooManyRequests || want == http.StatusTooManyRequests || try == 10 {
			return err
		}
		wait := time.Second
		if secs, convErr := strconv.Atoi(se.retryAfter); convErr == nil && secs > 0 {
			wait = time.Duration(secs) * time.Second
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func (a *api) callOnce(ctx context.Context, method, path, contentType string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return &statusError{Status: resp.StatusCode, Problem: strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json"),
			retryAfter: resp.Header.Get("Retry-After"),
			msg:        fmt.Sprintf("%s %s: %s, want %d: %s", method, path, resp.Status, want, bytes.TrimSpace(data))}
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// statusError is an answer with another status than the call wanted.
type statusError struct {
	Status     int
	Problem    bool // the answer was application/problem+json
	retryAfter string
	msg        string
}

func (e *statusError) Error() string { return e.msg }

// statusOf answers the status of a call's error and whether it was
// problem+json (0: no answer).
func statusOf(err error) (int, bool) {
	var se *statusError
	if errors.As(err, &se) {
		return se.Status, se.Problem
	}
	return 0, false
}

// jobView is the part of a job the harness reads.
type jobView struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind"`
	State    string          `json:"state"`
	Result   json.RawMessage `json:"result"`
	Attempts int             `json:"attempts"`
	Progress struct {
		Processed int64  `json:"processed"`
		Total     *int64 `json:"total"`
	} `json:"progress"`
}

// waitJob polls a job until it has ended, for up to limit; a 503 or no
// answer while the system recovers is waited through.
func (a *api) waitJob(ctx context.Context, id string, limit time.Duration) (jobView, error) {
	deadline := time.Now().Add(limit)
	var last error
	for {
		var j jobView
		err := a.call(ctx, http.MethodGet, "/v1/jobs/"+id, "", nil, http.StatusOK, &j)
		if err == nil {
			switch j.State {
			case "succeeded", "failed", "cancelled", "discarded":
				return j, nil
			}
			last = fmt.Errorf("still %s (attempt %d, %d processed)", j.State, j.Attempts, j.Progress.Processed)
		} else {
			last = err
		}
		if time.Now().After(deadline) {
			return j, fmt.Errorf("job %s did not end within %s: %w", id, limit, last)
		}
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// waitState polls a job until it is running with at least processed
// items done (a point to strike at), for up to limit.
func (a *api) waitProgress(ctx context.Context, id string, processed int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var j jobView
		if err := a.call(ctx, http.MethodGet, "/v1/jobs/"+id, "", nil, http.StatusOK, &j); err == nil {
			if j.Progress.Processed >= processed && j.State == "running" {
				return nil
			}
			if j.State == "succeeded" || j.State == "failed" {
				return fmt.Errorf("job %s ended (%s) before it could be struck", id, j.State)
			}
		}
		if time.Now().After(deadline) {
			return errors.New("job " + id + " made no progress in time")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
