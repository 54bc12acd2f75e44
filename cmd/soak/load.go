package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/customerhub/customerhub/internal/demodata"
	"github.com/customerhub/customerhub/internal/loadplan"
	"github.com/google/uuid"
)

// tally is what the load has done so far; safe for concurrent use.
type tally struct {
	mu              sync.Mutex
	requests        uint64
	errors5xx       uint64
	errorsTransport uint64
	errors4xx       uint64
	messages        []string // distinct transport errors and failures, for the report
	jobsStarted     int
	jobsFinished    int // succeeded
	jobFailures     []string
}

// addReport counts a loadgen round. vegeta records a transport error
// (refused, reset, timed out) as status 0.
func (t *tally) addReport(r loadplan.Report) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests += r.Requests
	for code, n := range r.StatusCodes {
		switch {
		case code == "0":
			t.errorsTransport += uint64(n)
		case strings.HasPrefix(code, "5"):
			t.errors5xx += uint64(n)
		case strings.HasPrefix(code, "4"):
			t.errors4xx += uint64(n)
		}
	}
	for _, e := range r.Errors {
		t.note(e)
	}
}

// note keeps the first few distinct messages; the caller holds mu.
func (t *tally) note(msg string) {
	if len(t.messages) >= 20 {
		return
	}
	for _, m := range t.messages {
		if m == msg {
			return
		}
	}
	t.messages = append(t.messages, msg)
}

// fill copies the counters into s.
func (t *tally) fill(s *sample) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s.Requests, s.Errors5xx, s.ErrorsTransport, s.Errors4xx = t.requests, t.errors5xx, t.errorsTransport, t.errors4xx
	s.JobsStarted, s.JobsFinished = t.jobsStarted, t.jobsFinished
}

// driver sends the load: rounds of cmd/loadgen and the background jobs.
type driver struct {
	base    string
	token   string // the admin's session; in memory only
	loadgen string // the cmd/loadgen binary
	workers int
	ids     []uuid.UUID // customers to read, patch and bulk-update
	tally   *tally
	client  *http.Client
}

func (d *driver) header(extra ...string) map[string][]string {
	h := map[string][]string{"Authorization": {"Bearer " + d.token}, "Accept": {"application/json"}}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = []string{extra[i+1]}
	}
	return h
}

// targets is one round's mix, interleaved so that every stretch of the
// round has each kind: reads (get 40 %, list 10 %, search 10 %), creates
// with a fresh Idempotency-Key each (20 %) and patches with If-Match: *
// (20 %). A key repeats only when the round wraps its list, which is a
// client's retry, answered from the stored response.
func (d *driver) targets(round int) []loadplan.Target {
	const n = 4000
	ts := make([]loadplan.Target, 0, n)
	for i := 0; len(ts) < n; i++ {
		id := d.ids[rand.IntN(len(d.ids))].String()
		switch i % 10 {
		case 0, 1, 2, 3:
			ts = append(ts, loadplan.Target{Method: http.MethodGet, URL: d.base + "/v1/customers/" + id, Header: d.header()})
		case 4:
			ts = append(ts, loadplan.Target{Method: http.MethodGet, URL: d.base + "/v1/customers?limit=50&sort=-balance", Header: d.header()})
		case 5:
			term := demodata.SearchTerms[i/10%len(demodata.SearchTerms)]
			ts = append(ts, loadplan.Target{Method: http.MethodGet, URL: d.base + "/v1/customers?limit=50&q=" + url.QueryEscape(term), Header: d.header()})
		case 6, 7:
			ts = append(ts, loadplan.Target{Method: http.MethodPost, URL: d.base + "/v1/customers",
				Header: d.header("Content-Type", "application/json", "Idempotency-Key", uuid.NewString()),
				Body:   []byte(fmt.Sprintf(`{"name":"Soak %d-%d"}`, round, i))})
		default:
			ts = append(ts, loadplan.Target{Method: http.MethodPatch, URL: d.base + "/v1/customers/" + id,
				Header: d.header("Content-Type", "application/json", "If-Match", "*"),
				Body:   []byte(fmt.Sprintf(`{"notes":"soak %d-%d"}`, round, i))})
		}
	}
	return ts
}

// round runs cmd/loadgen for length and counts what it did.
func (d *driver) round(ctx context.Context, round int, length time.Duration) (loadplan.Report, error) {
	r, err := loadplan.Run(ctx, d.loadgen, loadplan.Plan{Workers: uint64(d.workers), Duration: length.String(), Timeout: "10s",
		Targets: d.targets(round)})
	if err != nil {
		return loadplan.Report{}, err
	}
	d.tally.addReport(r)
	return r, nil
}

// jobs starts a bulk update of a few hundred customers and an export
// every interval until ctx is done, each through the public API, and
// waits for each to finish; it returns when the last has.
func (d *driver) jobs(ctx context.Context, interval time.Duration) {
	var wg sync.WaitGroup
	statuses := []string{"current", "on_hold", "collections"}
	for n := 0; ; n++ {
		wg.Add(2)
		go func() { defer wg.Done(); d.job(d.startBulk(statuses[n%len(statuses)])) }()
		go func() { defer wg.Done(); d.job(d.startExport()) }()
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-time.After(interval):
		}
	}
}

// startBulk asks for a bulk update of 300 random customers' billing
// status and answers the job's id.
func (d *driver) startBulk(status string) (string, string, error) {
	seen := map[uuid.UUID]bool{}
	for len(seen) < min(300, len(d.ids)) {
		seen[d.ids[rand.IntN(len(d.ids))]] = true
	}
	ids := make([]uuid.UUID, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	body, err := json.Marshal(map[string]any{"selection": map[string]any{"ids": ids}, "set": map[string]any{"billing_status": status}})
	if err != nil {
		return "bulk_update", "", err
	}
	id, err := d.accepted(http.MethodPost, "/v1/customers/bulk-update", body)
	return "bulk_update", id, err
}

// startExport asks for a CSV export of every customer; with
// CUSTOMERHUB_EXPORT_SYNC_MAX=0 it is a job.
func (d *driver) startExport() (string, string, error) {
	id, err := d.accepted(http.MethodGet, "/v1/customers/export?format=csv", nil)
	return "export", id, err
}

// accepted sends a request that must answer 202 {"job": {"id": ...}}.
func (d *driver) accepted(method, path string, body []byte) (string, error) {
	var resp struct {
		Job struct {
			ID string `json:"id"`
		} `json:"job"`
	}
	if err := d.call(method, path, body, http.StatusAccepted, &resp); err != nil {
		return "", err
	}
	if resp.Job.ID == "" {
		return "", fmt.Errorf("%s %s: no job in the answer", method, path)
	}
	return resp.Job.ID, nil
}

// call sends one request and decodes the answer into out when it has the
// wanted status.
func (d *driver) call(method, path string, body []byte, want int, out any) error {
	req, err := http.NewRequest(method, d.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range d.header("Content-Type", "application/json") {
		req.Header[k] = v
	}
	resp, err := d.client.Do(req)
	d.tally.mu.Lock()
	d.tally.requests++
	switch {
	case err != nil:
		d.tally.errorsTransport++
	case resp.StatusCode >= 500:
		d.tally.errors5xx++
	case resp.StatusCode >= 400 && resp.StatusCode != want:
		d.tally.errors4xx++
	}
	d.tally.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s, want %d", method, path, resp.Status, want)
	}
	if out == nil {
		_, err = bytes.NewBuffer(nil).ReadFrom(resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// job waits for a started job to finish (polling GET /v1/jobs/{id}, for
// up to five minutes) and counts it; an export's file is downloaded too.
func (d *driver) job(kind, id string, err error) {
	d.tally.mu.Lock()
	d.tally.jobsStarted++
	d.tally.mu.Unlock()
	fail := func(err error) {
		d.tally.mu.Lock()
		d.tally.jobFailures = append(d.tally.jobFailures, fmt.Sprintf("%s job %s: %v", kind, id, err))
		d.tally.mu.Unlock()
	}
	if err != nil {
		fail(err)
		return
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var v struct {
			State string `json:"state"`
		}
		if err := d.call(http.MethodGet, "/v1/jobs/"+id, nil, http.StatusOK, &v); err != nil {
			fail(err)
			return
		}
		state := v.State
		switch state {
		case "succeeded":
			if kind == "export" {
				if err := d.call(http.MethodGet, "/v1/jobs/"+id+"/result", nil, http.StatusOK, nil); err != nil {
					fail(err)
					return
				}
			}
			d.tally.mu.Lock()
			d.tally.jobsFinished++
			d.tally.mu.Unlock()
			return
		case "failed", "cancelled":
			fail(fmt.Errorf("ended %s", state))
			return
		}
		if time.Now().After(deadline) {
			fail(fmt.Errorf("still %s after five minutes", state))
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}
