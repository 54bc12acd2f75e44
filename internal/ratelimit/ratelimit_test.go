package ratelimit

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

const (
	warnFallback = "redis unavailable; rate limits are per process"
	infoRecovery = "redis available again; rate limits are shared"
)

// testRedisURL is the Redis the tests use; REDIS_URL overrides it.
func testRedisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// testClient returns a client from Connect, closed when the test ends.
func testClient(t *testing.T, rawURL string) *redis.Client {
	t.Helper()
	rdb, err := Connect(rawURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// liveClient returns a client of the test Redis, failing the test if that
// Redis does not answer.
func liveClient(t *testing.T) *redis.Client {
	t.Helper()
	rdb := testClient(t, testRedisURL())
	require.NoError(t, rdb.Ping(t.Context()).Err(), "tests need Redis at %s (set REDIS_URL)", testRedisURL())
	return rdb
}

// testKey returns a key no other test or test run uses.
func testKey(t *testing.T) string {
	t.Helper()
	return "test:" + t.Name() + ":" + rand.Text()
}

// testClock is a manual clock for Limiter.nowFunc. Tests call it from one
// goroutine only.
type testClock struct{ t time.Time }

func newTestClock() *testClock { return &testClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *testClock) now() time.Time { return c.t }

func (c *testClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// logBuffer collects a logger's output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// count returns how many times msg was logged.
func (b *logBuffer) count(msg string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), msg)
}

// failHook makes every command fail while fail is set, and records the
// deadlines of the commands' contexts.
type failHook struct {
	fail       atomic.Bool
	noDeadline atomic.Bool  // a command had no deadline
	maxLeft    atomic.Int64 // longest time.Duration left before a deadline
}

func (h *failHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *failHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		deadline, ok := ctx.Deadline()
		if !ok {
			h.noDeadline.Store(true)
		} else if left := time.Until(deadline); left > time.Duration(h.maxLeft.Load()) {
			h.maxLeft.Store(int64(left))
		}
		if h.fail.Load() {
			err := errors.New("injected failure")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func (h *failHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

type testBundle struct {
	limiter *Limiter
	clock   *testClock
	logs    *logBuffer
}

// setup returns a Limiter on rdb (nil: in-process only) with a manual clock
// and captured logs.
func setup(t *testing.T, rdb redis.UniversalClient) *testBundle {
	t.Helper()
	b := &testBundle{clock: newTestClock(), logs: &logBuffer{}}
	b.limiter = New(rdb, slog.New(slog.NewTextHandler(b.logs, nil)))
	b.limiter.nowFunc = b.clock.now
	return b
}

// requireExactly calls Allow n+extra times at once and checks that the first
// n are allowed, counting Remaining down, and the rest are denied with a
// RetryAfter in (0, maxRetry].
func requireExactly(t *testing.T, l *Limiter, key string, lim Limit, n, extra int, maxRetry time.Duration) {
	t.Helper()
	for i := range n {
		res := l.Allow(t.Context(), key, lim)
		require.Equal(t, Result{Allowed: true, Remaining: n - 1 - i}, res, "call %d", i+1)
	}
	for i := range extra {
		res := l.Allow(t.Context(), key, lim)
		require.False(t, res.Allowed, "call %d", n+i+1)
		require.Zero(t, res.Remaining)
		require.Positive(t, res.RetryAfter)
		require.LessOrEqual(t, res.RetryAfter, maxRetry)
	}
}

func TestPerSecondPerMinute(t *testing.T) {
	t.Parallel()

	require.Equal(t, Limit{Rate: 3, Period: time.Second}, PerSecond(3))
	require.Equal(t, Limit{Rate: 7, Period: time.Minute}, PerMinute(7))
}

func TestAllowRedis(t *testing.T) {
	t.Parallel()

	t.Run("AllowsExactlyRate", func(t *testing.T) {
		t.Parallel()
		rdb := liveClient(t)
		b := setup(t, rdb)
		key := testKey(t)

		// 5 per minute: one event every 12 s once the burst is spent.
		requireExactly(t, b.limiter, key, PerMinute(5), 5, 3, 12*time.Second)

		require.Equal(t, int64(8), b.limiter.redisAttempts.Load())
		require.Zero(t, b.limiter.local.len(), "the local fallback must not be used")
		n, err := rdb.Exists(t.Context(), "rate:"+key).Result()
		require.NoError(t, err)
		require.Equal(t, int64(1), n)
	})

	t.Run("Burst", func(t *testing.T) {
		t.Parallel()
		b := setup(t, liveClient(t))

		requireExactly(t, b.limiter, testKey(t), Limit{Rate: 1, Period: time.Minute, Burst: 4}, 4, 2, time.Minute)
	})

	t.Run("SharedAcrossLimiters", func(t *testing.T) {
		t.Parallel()
		// Two clients and two limiters stand for two API replicas.
		replicas := []*Limiter{setup(t, liveClient(t)).limiter, setup(t, liveClient(t)).limiter}
		key := testKey(t)
		lim := PerMinute(4)

		var allowed []bool
		for i := range 6 {
			allowed = append(allowed, replicas[i%2].Allow(t.Context(), key, lim).Allowed)
		}
		require.Equal(t, []bool{true, true, true, true, false, false}, allowed)
	})

	t.Run("AtomicUnderConcurrency", func(t *testing.T) {
		t.Parallel()
		b := setup(t, liveClient(t))
		key := testKey(t)
		lim := PerMinute(10)

		var allowed atomic.Int64
		var wg sync.WaitGroup
		for range 30 {
			wg.Go(func() {
				if b.limiter.Allow(t.Context(), key, lim).Allowed {
					allowed.Add(1)
				}
			})
		}
		wg.Wait()
		require.Equal(t, int64(10), allowed.Load())
		require.Zero(t, b.limiter.local.len())
	})

	t.Run("KeysIndependent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, liveClient(t))
		lim := PerMinute(1)

		keyA, keyB := testKey(t), testKey(t)
		require.True(t, b.limiter.Allow(t.Context(), keyA, lim).Allowed)
		require.False(t, b.limiter.Allow(t.Context(), keyA, lim).Allowed)
		require.True(t, b.limiter.Allow(t.Context(), keyB, lim).Allowed)
	})

	t.Run("ShortTimeoutPerCall", func(t *testing.T) {
		t.Parallel()
		rdb := liveClient(t)
		hook := &failHook{}
		rdb.AddHook(hook)
		b := setup(t, rdb)

		require.True(t, b.limiter.Allow(context.Background(), testKey(t), PerSecond(1)).Allowed)
		require.False(t, hook.noDeadline.Load(), "every Redis command needs a deadline")
		left := time.Duration(hook.maxLeft.Load())
		require.Positive(t, left)
		require.LessOrEqual(t, left, redisTimeout)
	})

	t.Run("CancelledCallerDoesNotTripBreaker", func(t *testing.T) {
		t.Parallel()
		b := setup(t, liveClient(t))
		key := testKey(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()

		res := b.limiter.Allow(ctx, key, PerMinute(2))
		require.Equal(t, Result{Allowed: true, Remaining: 1}, res, "answered locally")
		require.Zero(t, b.limiter.redisAttempts.Load())

		res = b.limiter.Allow(t.Context(), key, PerMinute(2))
		require.Equal(t, Result{Allowed: true, Remaining: 1}, res, "answered by Redis, which has not seen the first call")
		require.Equal(t, int64(1), b.limiter.redisAttempts.Load())
		require.Zero(t, b.logs.count(warnFallback))
	})
}

func TestAllowInProcess(t *testing.T) {
	t.Parallel()

	t.Run("AllowsExactlyRate", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)

		requireExactly(t, b.limiter, "api:tenant-1", PerMinute(5), 5, 3, 12*time.Second)
		require.Zero(t, b.limiter.redisAttempts.Load())
	})

	t.Run("RetryAfterIsExact", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		lim := PerSecond(4) // one event every 250 ms

		requireExactly(t, b.limiter, "k", lim, 4, 0, 0)
		require.Equal(t, Result{RetryAfter: 250 * time.Millisecond}, b.limiter.Allow(t.Context(), "k", lim))

		b.clock.advance(100 * time.Millisecond)
		require.Equal(t, Result{RetryAfter: 150 * time.Millisecond}, b.limiter.Allow(t.Context(), "k", lim))

		b.clock.advance(150 * time.Millisecond)
		require.Equal(t, Result{Allowed: true}, b.limiter.Allow(t.Context(), "k", lim))
		require.False(t, b.limiter.Allow(t.Context(), "k", lim).Allowed)

		// After a whole period the full burst is back.
		b.clock.advance(time.Second)
		requireExactly(t, b.limiter, "k", lim, 4, 1, 250*time.Millisecond)
	})

	t.Run("Burst", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)

		requireExactly(t, b.limiter, "k", Limit{Rate: 1, Period: time.Hour, Burst: 4}, 4, 2, time.Hour)
	})

	t.Run("KeysIndependent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		lim := PerMinute(1)

		require.True(t, b.limiter.Allow(t.Context(), "a", lim).Allowed)
		require.False(t, b.limiter.Allow(t.Context(), "a", lim).Allowed)
		require.True(t, b.limiter.Allow(t.Context(), "b", lim).Allowed)
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		l := New(nil, nil)
		lim := PerMinute(10)

		var allowed atomic.Int64
		var wg sync.WaitGroup
		for range 30 {
			wg.Go(func() {
				if l.Allow(t.Context(), "k", lim).Allowed {
					allowed.Add(1)
				}
			})
		}
		wg.Wait()
		require.Equal(t, int64(10), allowed.Load())
	})
}

func TestAllowInvalidLimit(t *testing.T) {
	t.Parallel()

	for _, lim := range []Limit{{}, PerSecond(0), PerMinute(-1), {Rate: 5}, {Rate: 5, Period: -time.Second}} {
		res := New(nil, nil).Allow(t.Context(), "k", lim)
		require.False(t, res.Allowed, "%+v", lim)
		require.Positive(t, res.RetryAfter, "%+v", lim)
	}
}

func TestAllowRedisDown(t *testing.T) {
	t.Parallel()

	// setupDown returns a Limiter whose Redis refuses connections: nothing
	// listens on port 1 (tcpmux, privileged and unused).
	setupDown := func(t *testing.T) *testBundle {
		t.Helper()
		return setup(t, testClient(t, "redis://127.0.0.1:1"))
	}

	t.Run("LimitsLocally", func(t *testing.T) {
		t.Parallel()
		b := setupDown(t)

		requireExactly(t, b.limiter, testKey(t), PerMinute(3), 3, 3, 20*time.Second)
	})

	t.Run("BreakerSkipsRedis", func(t *testing.T) {
		t.Parallel()
		b := setupDown(t)
		key := testKey(t)
		lim := PerMinute(100)

		for range 10 {
			require.True(t, b.limiter.Allow(t.Context(), key, lim).Allowed)
		}
		require.Equal(t, int64(1), b.limiter.redisAttempts.Load(), "only the first call tries Redis")
		require.Equal(t, 1, b.logs.count(warnFallback))

		b.clock.advance(breakerCooldown - time.Millisecond)
		require.True(t, b.limiter.Allow(t.Context(), key, lim).Allowed)
		require.Equal(t, int64(1), b.limiter.redisAttempts.Load())

		// After the cooldown one call probes Redis; it fails, and the breaker
		// opens again without another Warn.
		b.clock.advance(time.Millisecond)
		for range 10 {
			require.True(t, b.limiter.Allow(t.Context(), key, lim).Allowed)
		}
		require.Equal(t, int64(2), b.limiter.redisAttempts.Load())
		require.Equal(t, 1, b.logs.count(warnFallback))
		require.Zero(t, b.logs.count(infoRecovery))
	})

	t.Run("HungRedisDoesNotStall", func(t *testing.T) {
		t.Parallel()
		// A server that accepts connections and never answers, as a stuck
		// Redis or a black-holed network would.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var conns []net.Conn
		wg.Go(func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return // listener closed
				}
				mu.Lock()
				conns = append(conns, conn)
				mu.Unlock()
			}
		})
		t.Cleanup(func() {
			_ = ln.Close()
			wg.Wait()
			for _, conn := range conns {
				_ = conn.Close()
			}
		})
		b := setup(t, testClient(t, "redis://"+ln.Addr().String()))

		start := time.Now()
		requireExactly(t, b.limiter, testKey(t), PerMinute(2), 2, 2, 30*time.Second)
		// Loose bound: go-redis defaults would wait 5 s or more per call.
		require.Less(t, time.Since(start), time.Second)
		require.Equal(t, int64(1), b.limiter.redisAttempts.Load())
		require.Equal(t, 1, b.logs.count(warnFallback))
	})

	t.Run("Recovers", func(t *testing.T) {
		t.Parallel()
		rdb := liveClient(t)
		hook := &failHook{}
		rdb.AddHook(hook)
		b := setup(t, rdb)
		key := testKey(t)
		lim := PerMinute(100)

		hook.fail.Store(true)
		require.True(t, b.limiter.Allow(t.Context(), key, lim).Allowed)
		require.True(t, b.limiter.Allow(t.Context(), key, lim).Allowed)
		require.Equal(t, int64(1), b.limiter.redisAttempts.Load())
		require.Equal(t, 1, b.limiter.local.len())
		require.Equal(t, 1, b.logs.count(warnFallback))

		hook.fail.Store(false)
		b.clock.advance(breakerCooldown)
		for range 3 {
			res := b.limiter.Allow(t.Context(), key, lim)
			require.True(t, res.Allowed)
		}
		require.Equal(t, int64(4), b.limiter.redisAttempts.Load(), "all calls go to Redis again")
		require.Equal(t, 1, b.logs.count(infoRecovery))
		require.Equal(t, 1, b.logs.count(warnFallback))
	})
}

func TestLocalEviction(t *testing.T) {
	t.Parallel()

	t.Run("SweepsRecoveredKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		perSecond := PerSecond(1)
		hourly := Limit{Rate: 1, Period: time.Hour}

		require.True(t, b.limiter.Allow(t.Context(), "a", perSecond).Allowed)
		require.True(t, b.limiter.Allow(t.Context(), "b", perSecond).Allowed)
		require.True(t, b.limiter.Allow(t.Context(), "hourly", hourly).Allowed)
		require.Equal(t, 3, b.limiter.local.len())

		// Idle, but no sweep is due yet.
		b.clock.advance(localSweepInterval / 2)
		require.True(t, b.limiter.Allow(t.Context(), "c", perSecond).Allowed)
		require.Equal(t, 4, b.limiter.local.len())

		// The sweep drops the recovered keys and keeps "hourly", whose
		// limit still applies.
		b.clock.advance(localSweepInterval / 2)
		require.True(t, b.limiter.Allow(t.Context(), "d", perSecond).Allowed)
		require.Equal(t, 2, b.limiter.local.len())
		res := b.limiter.Allow(t.Context(), "hourly", hourly)
		require.False(t, res.Allowed)
		require.Equal(t, time.Hour-localSweepInterval, res.RetryAfter)
	})

	t.Run("CapsKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		b.limiter.local.maxKeys = 3
		lim := Limit{Rate: 1, Period: time.Hour}

		for _, key := range []string{"a", "b", "c", "d", "e", "f"} {
			require.True(t, b.limiter.Allow(t.Context(), key, lim).Allowed)
		}
		require.Equal(t, 3, b.limiter.local.len())
	})
}

func TestNewWarnsAboutBlockingClient(t *testing.T) {
	t.Parallel()

	const warning = "redis client ignores context deadlines"
	for _, tt := range []struct {
		name string
		rdb  redis.UniversalClient
		want int
	}{
		{"Connect", testClient(t, testRedisURL()), 0},
		{"Defaults", redis.NewClient(&redis.Options{}), 1},
		{"ShortTimeouts", redis.NewClient(&redis.Options{ReadTimeout: redisTimeout}), 0},
		{"ContextTimeouts", redis.NewClient(&redis.Options{ContextTimeoutEnabled: true}), 0},
		{"Cluster", redis.NewClusterClient(&redis.ClusterOptions{}), 1},
	} {
		t.Cleanup(func() { _ = tt.rdb.Close() })
		logs := &logBuffer{}
		New(tt.rdb, slog.New(slog.NewTextHandler(logs, nil)))
		require.Equal(t, tt.want, logs.count(warning), tt.name)
	}
}

func TestConnect(t *testing.T) {
	t.Parallel()

	t.Run("Options", func(t *testing.T) {
		t.Parallel()
		rdb := testClient(t, "redis://user:secret@localhost:6380/2")
		opts := rdb.Options()

		require.Equal(t, "localhost:6380", opts.Addr)
		require.Equal(t, 2, opts.DB)
		require.Equal(t, redisTimeout, opts.DialTimeout)
		require.Equal(t, redisTimeout, opts.ReadTimeout)
		require.Equal(t, redisTimeout, opts.WriteTimeout)
		require.Equal(t, redisTimeout, opts.PoolTimeout)
		require.Zero(t, opts.MaxRetries, "after go-redis normalises -1")
		require.Equal(t, 1, opts.DialerRetries)
		require.True(t, opts.ContextTimeoutEnabled)
	})

	t.Run("InvalidURL", func(t *testing.T) {
		t.Parallel()

		for _, rawURL := range []string{"http://localhost:6379", "redis://user:secret@local host:6379", "redis://localhost/x"} {
			_, err := Connect(rawURL)
			require.Error(t, err, rawURL)
			require.NotContains(t, err.Error(), "secret")
		}
	})
}

func TestNilClientInInterface(t *testing.T) {
	t.Parallel()
	var rdb *redis.Client
	l := New(rdb, nil)
	require.True(t, l.Allow(context.Background(), "typed-nil-"+t.Name(), PerSecond(1)).Allowed)
}
