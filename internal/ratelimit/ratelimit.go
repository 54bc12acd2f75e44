// Package ratelimit throttles events per caller-chosen key, such as API
// requests per tenant or SMS sends per sender.
//
// Counts live in Redis (GCRA in one atomic Lua script, via redis_rate), so
// every API replica and worker shares them. Redis is an optimisation, not a
// dependency: when it is absent, slow or failing, Allow answers from an
// in-process limiter instead, and the limits become per process until Redis
// answers again. Allow therefore never returns an error, and with a client
// from Connect it never waits more than about 100 ms on Redis.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

const (
	// redisTimeout bounds each Redis call, so that an outage adds at most this
	// much latency to the request that discovers it.
	redisTimeout = 100 * time.Millisecond

	// breakerCooldown is how long Allow skips Redis after a Redis error. With
	// it, an outage costs one redisTimeout per cooldown, not one per request.
	breakerCooldown = 5 * time.Second
)

// Limit allows Rate events per Period, with bursts of up to Burst events.
// A Burst of 0 means Burst = Rate. A Limit whose Rate or Period is not
// positive allows nothing: Allow denies every event.
type Limit struct {
	Rate   int
	Period time.Duration
	Burst  int
}

// PerSecond returns a Limit of n events per second, with a burst of n.
func PerSecond(n int) Limit {
	return Limit{Rate: n, Period: time.Second}
}

// PerMinute returns a Limit of n events per minute, with a burst of n.
func PerMinute(n int) Limit {
	return Limit{Rate: n, Period: time.Minute}
}

// PerHour returns a Limit of n events per hour, with a burst of n.
func PerHour(n int) Limit {
	return Limit{Rate: n, Period: time.Hour}
}

// normalize fills in the default Burst and reports whether lim allows any
// event at all. It guards the GCRA arithmetic against division by zero.
func (lim Limit) normalize() (Limit, bool) {
	if lim.Rate <= 0 || lim.Period <= 0 {
		return lim, false
	}
	if lim.Burst <= 0 {
		lim.Burst = lim.Rate
	}
	return lim, true
}

// Result is the answer to one Allow call.
type Result struct {
	// Allowed reports whether the event may happen now.
	Allowed bool
	// Remaining is how many more events the key could have right now.
	Remaining int
	// RetryAfter is how long to wait before the next event can be allowed. It
	// is positive when Allowed is false, and 0 when Allowed is true.
	RetryAfter time.Duration
}

// Limiter decides whether an event for a key may happen now. It is safe for
// concurrent use.
type Limiter struct {
	shared *redis_rate.Limiter // nil: in-process only
	local  *localLimiter
	logger *slog.Logger
	// nowFunc is the clock of the breaker and the local limiter; tests
	// replace it. Redis uses its own clock.
	nowFunc func() time.Time

	// redisAttempts counts calls made to Redis, so tests can see the circuit
	// breaker without measuring time.
	redisAttempts atomic.Int64

	// mu guards the circuit breaker below.
	mu sync.Mutex
	// down is true from a Redis error until Redis answers again. It also
	// makes the fallback Warn and the recovery Info log once per outage.
	down bool
	// retryAt is, while down, the earliest time a request may probe Redis.
	retryAt time.Time
	// probing is true while one request is probing Redis; the others use the
	// local limiter meanwhile rather than also waiting on a dead server.
	probing bool
}

// New returns a Limiter that keeps counts in Redis. rdb may be nil, and the
// Limiter then limits in process only. rdb should come from Connect, or at
// least have ContextTimeoutEnabled or read and write timeouts of about 100 ms:
// otherwise go-redis ignores the per-call context deadline on socket I/O, and
// a hung Redis stalls a request for the client's timeouts (5 s by default).
// New logs a warning when it sees such a client.
func New(rdb redis.UniversalClient, logger *slog.Logger) *Limiter {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// A nil *redis.Client inside the interface is not a nil interface;
	// treat it as "no Redis" rather than panicking on the first call.
	if c, ok := rdb.(*redis.Client); ok && c == nil {
		rdb = nil
	}
	l := &Limiter{
		local:   newLocalLimiter(),
		logger:  logger,
		nowFunc: time.Now,
	}
	if rdb != nil {
		l.shared = redis_rate.NewLimiter(rdb)
		if mayBlock(rdb) {
			logger.Warn("redis client ignores context deadlines; a hung redis can stall rate-limited requests (use ratelimit.Connect)")
		}
	}
	return l
}

// mayBlock reports whether rdb could hold a call well past redisTimeout: with
// ContextTimeoutEnabled off, go-redis bounds socket reads and writes only by
// its own timeouts (5 s by default), whatever the context says.
func mayBlock(rdb redis.UniversalClient) bool {
	slow := func(ctxTimeouts bool, timeouts ...time.Duration) bool {
		if ctxTimeouts {
			return false
		}
		for _, d := range timeouts {
			// After go-redis normalises options, <= 0 means no deadline.
			if d <= 0 || d > 2*redisTimeout {
				return true
			}
		}
		return false
	}
	switch c := rdb.(type) {
	case *redis.Client:
		o := c.Options()
		return slow(o.ContextTimeoutEnabled, o.ReadTimeout, o.WriteTimeout)
	case *redis.ClusterClient:
		o := c.Options()
		return slow(o.ContextTimeoutEnabled, o.ReadTimeout, o.WriteTimeout)
	}
	return false
}

// Allow reports whether one event for key may happen now under lim, and uses
// it up if so. Callers namespace keys by purpose, e.g. "api:{tenantID}" or
// "sms:{sender}"; Redis keys get redis_rate's "rate:" prefix on top.
//
// Allow never fails. When Redis is unavailable it answers from an in-process
// limiter, so each process then enforces lim on its own.
func (l *Limiter) Allow(ctx context.Context, key string, lim Limit) Result {
	lim, ok := lim.normalize()
	if !ok {
		return Result{RetryAfter: max(lim.Period, time.Second)}
	}

	// A caller that has already given up gets a local answer: its cancelled
	// context would make the Redis call fail, which says nothing about Redis.
	if l.shared != nil && ctx.Err() == nil && l.useRedis() {
		res, err := l.allowShared(ctx, key, lim)
		switch {
		case err == nil:
			l.redisSucceeded()
			return res
		case ctx.Err() != nil:
			l.probeAbandoned()
		default:
			l.redisFailed(err)
		}
	}
	return l.local.allow(key, lim, l.nowFunc())
}

// allowShared asks Redis, under its own short timeout so that a slow Redis
// cannot hold the request.
func (l *Limiter) allowShared(ctx context.Context, key string, lim Limit) (Result, error) {
	l.redisAttempts.Add(1)

	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()

	rr, err := l.shared.Allow(ctx, key, redis_rate.Limit{Rate: lim.Rate, Burst: lim.Burst, Period: lim.Period})
	if err != nil {
		return Result{}, fmt.Errorf("redis rate limit %q: %w", key, err)
	}
	if rr.Allowed > 0 {
		return Result{Allowed: true, Remaining: rr.Remaining}, nil
	}
	// redis_rate's RetryAfter is a float number of seconds, converted; keep it
	// positive as Result promises even if the conversion rounds to zero.
	return Result{Remaining: rr.Remaining, RetryAfter: max(rr.RetryAfter, time.Millisecond)}, nil
}

// useRedis reports whether this call should go to Redis: always while Redis
// is healthy; while it is down, only for a single probe once the cooldown has
// passed.
func (l *Limiter) useRedis() bool {
	l.mu.Lock()
	defer l.mu.Unlock()

	if !l.down {
		return true
	}
	if l.probing || l.nowFunc().Before(l.retryAt) {
		return false
	}
	l.probing = true
	return true
}

// redisSucceeded closes the breaker, logging once if Redis was down.
func (l *Limiter) redisSucceeded() {
	l.mu.Lock()
	wasDown := l.down
	l.down, l.probing = false, false
	l.mu.Unlock()

	if wasDown {
		l.logger.Info("redis available again; rate limits are shared")
	}
}

// redisFailed opens the breaker for breakerCooldown, logging only when Redis
// was healthy until now.
func (l *Limiter) redisFailed(err error) {
	l.mu.Lock()
	wasDown := l.down
	l.down, l.probing = true, false
	l.retryAt = l.nowFunc().Add(breakerCooldown)
	l.mu.Unlock()

	if wasDown {
		l.logger.Debug("redis still unavailable", slog.Any("error", err))
		return
	}
	l.logger.Warn("redis unavailable; rate limits are per process",
		slog.Any("error", err), slog.Duration("retry_in", breakerCooldown))
}

// probeAbandoned lets another request probe Redis when the caller cancelled
// the current probe: that says nothing about whether Redis is back.
func (l *Limiter) probeAbandoned() {
	l.mu.Lock()
	l.probing = false
	l.mu.Unlock()
}

// Connect parses a redis://, rediss:// or unix:// URL and returns a client
// tuned for rate limiting: an answer late by more than about 100 ms is worth
// less than the local fallback, so every timeout is short and nothing is
// retried. It does not contact Redis; Allow copes with Redis being down.
func Connect(rawURL string) (*redis.Client, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		// url.Parse errors quote the whole URL, password included.
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			err = uerr.Err
		}
		return nil, fmt.Errorf("parse redis url: %w", err)
	}

	opts.DialTimeout = redisTimeout
	opts.ReadTimeout = redisTimeout
	opts.WriteTimeout = redisTimeout
	opts.PoolTimeout = redisTimeout
	// go-redis treats 0 as "default" for both of these: MaxRetries 0 means 3
	// retries, and DialerRetries <= 0 means 5 dial attempts 100 ms apart.
	opts.MaxRetries = -1
	opts.DialerRetries = 1
	// Let the per-call context deadline bound socket reads and writes too.
	opts.ContextTimeoutEnabled = true

	return redis.NewClient(opts), nil
}
