package jobs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Server-sent events of a job's progress (GET /v1/jobs/{id}/events).
//
// A watcher's stream polls the job: each poll is one short read-only
// transaction in the watcher's own scope (the same Get that GET
// /v1/jobs/{id} runs, so the stream can never show more than that route).
// Polling was chosen over LISTEN/NOTIFY: a listener holds a connection of
// its own for as long as it listens (a pool of 20 would serve 20 watchers),
// NOTIFY does not pass through PgBouncer in transaction mode (README,
// Scaling out), needs a trigger on jobs that Citus runs on the shards, and
// carries no visibility of its own, so every notification would still be
// followed by the same read. A poll costs about half a millisecond of
// one pooled connection (BenchmarkJobEventsPoll: 0.51 ms on 2 cores, with
// River's row read too while the job is not over); polls back off from
// EventOptions.PollMin to PollMax while nothing changes and return to
// PollMin when something does, so a bar moves smoothly during a batch job
// and an idle stream costs one small read every PollMax.

// Defaults of EventOptions.
const (
	DefaultEventPollMin     = 250 * time.Millisecond
	DefaultEventPollMax     = 2 * time.Second
	DefaultEventHeartbeat   = 15 * time.Second
	DefaultEventMaxDuration = time.Hour
)

// EventOptions shape the event streams.
type EventOptions struct {
	// PollMin and PollMax bound the interval between two reads of the job.
	PollMin, PollMax time.Duration
	// Heartbeat is the longest silence on a stream: a comment line is
	// sent after it, so that proxies keep the connection open and a
	// client that went away is noticed (the write fails).
	Heartbeat time.Duration
	// MaxDuration ends a stream that has not finished by then; the client
	// reconnects (EventSource does so by itself) and is authenticated
	// again, so a revoked token does not watch for ever.
	MaxDuration time.Duration
	// WriteTimeout bounds one write to the client (the server's own write
	// timeout, renewed for every event: a stream outlives it).
	WriteTimeout time.Duration
}

func (o EventOptions) withDefaults() EventOptions {
	if o.PollMin <= 0 {
		o.PollMin = DefaultEventPollMin
	}
	if o.PollMax < o.PollMin {
		o.PollMax = max(DefaultEventPollMax, o.PollMin)
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultEventHeartbeat
	}
	if o.MaxDuration <= 0 {
		o.MaxDuration = DefaultEventMaxDuration
	}
	return o
}

// ProgressEvent is the data of a progress event.
type ProgressEvent struct {
	Processed int64  `json:"processed"`
	Total     *int64 `json:"total"`
	State     string `json:"state"`
}

func progressOf(v View) ProgressEvent {
	return ProgressEvent{Processed: v.Progress.Processed, Total: v.Progress.Total, State: v.State}
}

func (p ProgressEvent) same(o ProgressEvent) bool {
	return p.Processed == o.Processed && p.State == o.State && (p.Total == nil) == (o.Total == nil) &&
		(p.Total == nil || *p.Total == *o.Total)
}

// Event stream endings, as Stream reports them.
var (
	// ErrStreamClientGone: a write to the client failed.
	ErrStreamClientGone = errors.New("the client went away")
	// ErrStreamStopped: the server is shutting down (stop closed).
	ErrStreamStopped = errors.New("the server is shutting down")
	// ErrStreamExpired: EventOptions.MaxDuration passed.
	ErrStreamExpired = errors.New("the stream reached its longest duration")
	// ErrStreamJobGone: the job can no longer be read (purged, or the
	// watcher no longer sees it).
	ErrStreamJobGone = errors.New("the job is no longer visible")
)

// EventStream writes one job's events to one client.
type EventStream struct {
	// Poll reads the job as the watcher sees it now (ErrNotFound when it
	// does not).
	Poll func(ctx context.Context) (View, error)
	// BeforeWrite is called before every flush (renews the connection's
	// write deadline); nil for none.
	BeforeWrite func()
	// Stop closes when the server shuts down; nil for never.
	Stop    <-chan struct{}
	Options EventOptions
	Logger  *slog.Logger
}

// Run writes the stream to w, starting from first (the view the request
// read before streaming began): a progress event, another whenever
// processed, total or state change, comments as heartbeats, and when the
// job has ended exactly one finished event with the final view; then it
// returns nil. It returns one of the ErrStream errors when the stream ends
// otherwise.
func (s EventStream) Run(ctx context.Context, w *bufio.Writer, first View) error {
	o := s.Options.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, o.MaxDuration)
	defer cancel()

	flush := func() error {
		if s.BeforeWrite != nil {
			s.BeforeWrite()
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("%w: %w", ErrStreamClientGone, err)
		}
		return nil
	}
	write := func(event string, data any) error {
		raw, err := json.Marshal(data)
		if err != nil {
			return fmt.Errorf("encode %s event: %w", event, err)
		}
		// JSON never holds a raw newline, so the data is one line.
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, raw); err != nil {
			return fmt.Errorf("%w: %w", ErrStreamClientGone, err)
		}
		return flush()
	}

	// How long a client waits before reconnecting after a dropped stream.
	if _, err := fmt.Fprintf(w, "retry: %d\n\n", o.PollMax.Milliseconds()); err != nil {
		return fmt.Errorf("%w: %w", ErrStreamClientGone, err)
	}
	last := progressOf(first)
	if err := write("progress", last); err != nil {
		return err
	}
	v := first
	interval := o.PollMin
	lastWrite := time.Now()
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		if Terminal(v.State) {
			return write("finished", v)
		}
		select {
		case <-ctx.Done():
			return ErrStreamExpired
		case <-s.Stop:
			return ErrStreamStopped
		case <-timer.C:
		}
		next, err := s.Poll(ctx)
		switch {
		case errors.Is(err, ErrNotFound):
			return ErrStreamJobGone
		case err != nil && ctx.Err() != nil:
			return ErrStreamExpired
		case err != nil:
			// The database may be restarting; try again at the slowest
			// pace, as long as the stream lasts.
			s.Logger.WarnContext(ctx, "job events: read job", "job_id", first.ID, "error", err)
			interval = o.PollMax
		default:
			v = next
			if p := progressOf(v); !p.same(last) {
				last = p
				if err := write("progress", p); err != nil {
					return err
				}
				lastWrite = time.Now()
				interval = o.PollMin
			} else {
				interval = min(interval*2, o.PollMax)
			}
		}
		if !Terminal(v.State) && time.Since(lastWrite) >= o.Heartbeat {
			if _, err := w.WriteString(": keep-alive\n\n"); err != nil {
				return fmt.Errorf("%w: %w", ErrStreamClientGone, err)
			}
			if err := flush(); err != nil {
				return err
			}
			lastWrite = time.Now()
		}
		timer.Reset(interval)
	}
}
