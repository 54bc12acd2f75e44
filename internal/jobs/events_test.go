package jobs_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/jobs"
)

// sseEvent is one event of a text/event-stream.
type sseEvent struct {
	Name string
	Data string
}

// sseReader reads the events of a text/event-stream.
type sseReader struct {
	sc       *bufio.Scanner
	comments int
}

func newSSEReader(r io.Reader) *sseReader { return &sseReader{sc: bufio.NewScanner(r)} }

// next returns the next event, or false at the end of the stream.
func (r *sseReader) next(t *testing.T) (sseEvent, bool) {
	t.Helper()
	var cur sseEvent
	for r.sc.Scan() {
		line := r.sc.Text()
		switch {
		case line == "":
			if cur.Name != "" || cur.Data != "" {
				return cur, true
			}
		case strings.HasPrefix(line, ":"):
			r.comments++
		case strings.HasPrefix(line, "event: "):
			cur.Name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.Data += strings.TrimPrefix(line, "data: ")
		case strings.HasPrefix(line, "retry: "):
		default:
			t.Fatalf("unexpected line in event stream: %q", line)
		}
	}
	require.NoError(t, r.sc.Err())
	return sseEvent{}, false
}

// all reads the rest of the stream.
func (r *sseReader) all(t *testing.T) []sseEvent {
	t.Helper()
	var out []sseEvent
	for {
		e, ok := r.next(t)
		if !ok {
			return out
		}
		out = append(out, e)
	}
}

// readEvents reads a whole stream: its events and how many comment lines
// (heartbeats) it held.
func readEvents(t *testing.T, r io.Reader) ([]sseEvent, int) {
	t.Helper()
	sr := newSSEReader(r)
	events := sr.all(t)
	return events, sr.comments
}

// openEvents opens GET /v1/jobs/{id}/events with a real HTTP client.
func openEvents(t *testing.T, base, token, id string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/v1/jobs/"+id+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// TestJobEvents follows a bulk update through its event stream, read by a
// real HTTP client: queued while no worker runs, then progress as workers
// take it, then one finished event with the job as GET /v1/jobs/{id}
// shows it, and the stream ends.
func TestJobEvents(t *testing.T) {
	t.Parallel()
	b := setupRun(t, 30)
	app, tn := b.app, b.tn
	base := app.Listen(t)
	rep := app.CreateUser(t, tn, "sales_rep", nil)

	t.Run("RunningJob", func(t *testing.T) {
		id := b.bulkStatus(t, tn.AdminToken, "dormant")
		resp := openEvents(t, base, tn.AdminToken, id)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))

		// No worker yet: the first event is the queued job.
		sr := newSSEReader(resp.Body)
		first, ok := sr.next(t)
		require.True(t, ok)
		require.Equal(t, "progress", first.Name)
		require.JSONEq(t, `{"processed":0,"total":null,"state":"queued"}`, first.Data)

		app.StartWorkers(t)
		events := sr.all(t)
		require.NotEmpty(t, events)
		last := events[len(events)-1]
		require.Equal(t, "finished", last.Name)
		var processed int64
		for _, e := range events[:len(events)-1] {
			require.Equal(t, "progress", e.Name, "exactly one finished event, last")
			var p jobs.ProgressEvent
			require.NoError(t, json.Unmarshal([]byte(e.Data), &p))
			require.GreaterOrEqual(t, p.Processed, processed, "progress never goes back")
			processed = p.Processed
		}
		var fin map[string]any
		require.NoError(t, json.Unmarshal([]byte(last.Data), &fin))
		require.Equal(t, "succeeded", fin["state"])
		require.Equal(t, map[string]any{"processed": float64(30), "total": float64(30)}, fin["progress"])
		require.Equal(t, app.Get(t, "/v1/jobs/"+id, tn.AdminToken).Map(t)["result"], fin["result"])
	})

	t.Run("FinishedJob", func(t *testing.T) {
		app.StartWorkers(t)
		// Every customer, whatever the first subtest left them as.
		id := apptest.JobID(t, app.Post(t, "/v1/customers/bulk-update", tn.AdminToken, map[string]any{
			"selection": map[string]any{"filter": map[string]any{"status": "all"}}, "set": map[string]any{"status": "active"}}))
		app.WaitJob(t, tn.AdminToken, id)
		start := time.Now()
		resp := openEvents(t, base, tn.AdminToken, id)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		events, comments := readEvents(t, resp.Body)
		require.Less(t, time.Since(start), 2*time.Second, "a finished job's stream ends at once")
		require.Zero(t, comments)
		require.Len(t, events, 2)
		require.Equal(t, "progress", events[0].Name)
		require.JSONEq(t, `{"processed":30,"total":30,"state":"succeeded"}`, events[0].Data)
		require.Equal(t, "finished", events[1].Name)
		var fin map[string]any
		require.NoError(t, json.Unmarshal([]byte(events[1].Data), &fin))
		require.Equal(t, id, fin["id"])
		require.Equal(t, "succeeded", fin["state"])
	})

	t.Run("NotFound", func(t *testing.T) {
		// Another rep's job, another tenant's job and no job at all are
		// alike: 404 problem, nothing streamed.
		own := b.bulkStatus(t, rep.Token, "active")
		other := app.CreateUser(t, tn, "sales_rep", nil)
		otherTenant := app.Signup(t)
		for _, tc := range []struct{ token, id string }{
			{other.Token, own},
			{otherTenant.AdminToken, own},
			{tn.AdminToken, uuid.NewString()},
		} {
			resp := openEvents(t, base, tc.token, tc.id)
			require.Equal(t, http.StatusNotFound, resp.StatusCode)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Contains(t, string(body), `"code":"not_found"`)
		}
		// The rep's own stream works.
		resp := openEvents(t, base, rep.Token, own)
		require.Equal(t, http.StatusOK, resp.StatusCode)
	})
}

// fakeJob is a job whose polls follow a script.
type fakeJob struct {
	views []jobs.View
	polls atomic.Int32
}

func (f *fakeJob) poll(context.Context) (jobs.View, error) {
	n := int(f.polls.Add(1))
	if n >= len(f.views) {
		return f.views[len(f.views)-1], nil
	}
	return f.views[n], nil
}

func view(state string, processed int64) jobs.View {
	total := int64(10)
	return jobs.View{ID: uuid.New(), State: state, Progress: jobs.ProgressView{Processed: processed, Total: &total}}
}

// failingWriter fails every write after the first n bytes: a client gone.
type failingWriter struct{ left int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		return 0, errors.New("broken pipe")
	}
	w.left -= len(p)
	return len(p), nil
}

func TestEventStream(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	fast := jobs.EventOptions{PollMin: time.Millisecond, PollMax: 4 * time.Millisecond, Heartbeat: time.Hour, MaxDuration: time.Minute}

	t.Run("ProgressOnlyWhenItChanges", func(t *testing.T) {
		t.Parallel()
		f := &fakeJob{views: []jobs.View{view("queued", 0), view("queued", 0), view("running", 0), view("running", 0),
			view("running", 5), view("running", 5), view("succeeded", 10)}}
		var buf bytes.Buffer
		w := bufio.NewWriter(&buf)
		err := jobs.EventStream{Poll: f.poll, Options: fast, Logger: logger}.Run(context.Background(), w, f.views[0])
		require.NoError(t, err)
		events, _ := readEvents(t, &buf)
		var names, data []string
		for _, e := range events {
			names = append(names, e.Name)
			data = append(data, e.Data)
		}
		require.Equal(t, []string{"progress", "progress", "progress", "progress", "finished"}, names)
		require.Equal(t, []string{
			`{"processed":0,"total":10,"state":"queued"}`, `{"processed":0,"total":10,"state":"running"}`,
			`{"processed":5,"total":10,"state":"running"}`, `{"processed":10,"total":10,"state":"succeeded"}`,
		}, data[:4])
	})

	t.Run("Heartbeats", func(t *testing.T) {
		t.Parallel()
		f := &fakeJob{views: make([]jobs.View, 40)}
		for i := range f.views {
			f.views[i] = view("running", 1)
		}
		f.views[39] = view("failed", 1)
		opts := fast
		opts.Heartbeat = 5 * time.Millisecond
		var buf bytes.Buffer
		var renewed atomic.Int32
		err := jobs.EventStream{Poll: f.poll, Options: opts, Logger: logger, BeforeWrite: func() { renewed.Add(1) }}.
			Run(context.Background(), bufio.NewWriter(&buf), f.views[0])
		require.NoError(t, err)
		events, comments := readEvents(t, &buf)
		require.Len(t, events, 3) // running, failed, finished
		require.Positive(t, comments)
		require.EqualValues(t, len(events)+comments, renewed.Load(), "the write deadline is renewed before every write")
	})

	t.Run("ClientGone", func(t *testing.T) {
		t.Parallel()
		f := &fakeJob{views: []jobs.View{view("running", 0), view("running", 1), view("running", 2), view("running", 3)}}
		err := jobs.EventStream{Poll: f.poll, Options: fast, Logger: logger}.
			Run(context.Background(), bufio.NewWriterSize(&failingWriter{left: 80}, 16), f.views[0])
		require.ErrorIs(t, err, jobs.ErrStreamClientGone)
	})

	t.Run("ServerShutdown", func(t *testing.T) {
		t.Parallel()
		f := &fakeJob{views: []jobs.View{view("running", 0)}}
		stop := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- jobs.EventStream{Poll: f.poll, Stop: stop, Options: fast, Logger: logger}.
				Run(context.Background(), bufio.NewWriter(io.Discard), f.views[0])
		}()
		require.Eventually(t, func() bool { return f.polls.Load() > 3 }, 10*time.Second, time.Millisecond)
		close(stop)
		select {
		case err := <-done:
			require.ErrorIs(t, err, jobs.ErrStreamStopped)
		case <-time.After(10 * time.Second):
			t.Fatal("the stream did not stop at shutdown")
		}
	})

	t.Run("ExpiresAndJobGone", func(t *testing.T) {
		t.Parallel()
		f := &fakeJob{views: []jobs.View{view("running", 0)}}
		opts := fast
		opts.MaxDuration = 20 * time.Millisecond
		err := jobs.EventStream{Poll: f.poll, Options: opts, Logger: logger}.Run(context.Background(), bufio.NewWriter(io.Discard), f.views[0])
		require.ErrorIs(t, err, jobs.ErrStreamExpired)

		gone := func(context.Context) (jobs.View, error) { return jobs.View{}, jobs.ErrNotFound }
		err = jobs.EventStream{Poll: gone, Options: fast, Logger: logger}.Run(context.Background(), bufio.NewWriter(io.Discard), f.views[0])
		require.ErrorIs(t, err, jobs.ErrStreamJobGone)
	})
}
