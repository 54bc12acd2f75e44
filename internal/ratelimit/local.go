package ratelimit

import (
	"strings"
	"sync"
	"time"
)

const (
	// localSweepInterval is how often allow drops keys whose limit has fully
	// recovered. Sweeping inside allow needs no goroutine, and so no Close.
	localSweepInterval = time.Minute

	// localMaxKeys caps the in-process map, for keys whose limits recover
	// slowly (long periods) or when callers use very many distinct keys.
	localMaxKeys = 100_000
)

// localLimiter is the in-process fallback. It runs the same GCRA as the
// redis_rate Lua script, so a key behaves the same on either side, and its
// whole state per key is one "theoretical arrival time" (TAT).
//
// A TAT in the past means the key has its full burst again, exactly as if it
// had never been seen, so dropping such keys loses nothing. That is what the
// sweep does; Redis does the same with the key's expiry.
type localLimiter struct {
	mu        sync.Mutex
	tats      map[string]time.Time
	maxKeys   int
	nextSweep time.Time
}

func newLocalLimiter() *localLimiter {
	return &localLimiter{
		tats:    make(map[string]time.Time),
		maxKeys: localMaxKeys,
	}
}

// allow reports whether one event for key may happen at now under lim, which
// must be normalized, and records it if so.
func (l *localLimiter) allow(key string, lim Limit, now time.Time) Result {
	// Time between events at the steady rate; at least 1ns so that the
	// divisions below are defined for absurd limits.
	emission := max(lim.Period/time.Duration(lim.Rate), 1)
	burstOffset := emission * time.Duration(lim.Burst)

	l.mu.Lock()
	defer l.mu.Unlock()

	l.sweep(now)

	tat, seen := l.tats[key]
	if !seen || tat.Before(now) {
		tat = now
	}
	newTAT := tat.Add(emission)
	// diff is how far now is past the earliest time this event may happen.
	diff := now.Sub(newTAT.Add(-burstOffset))
	if diff < 0 {
		return Result{RetryAfter: -diff}
	}

	if !seen {
		if len(l.tats) >= l.maxKeys {
			l.evictOne()
		}
		// The map outlives the call, and a caller's key may alias a buffer
		// that gets reused (Fiber's c.IP() or c.Params() strings).
		key = strings.Clone(key)
	}
	l.tats[key] = newTAT
	return Result{Allowed: true, Remaining: int(diff / emission)}
}

// sweep drops every key whose limit has fully recovered, at most once per
// localSweepInterval, so its cost is spread over many calls.
func (l *localLimiter) sweep(now time.Time) {
	if now.Before(l.nextSweep) {
		return
	}
	l.nextSweep = now.Add(localSweepInterval)
	for key, tat := range l.tats {
		if !tat.After(now) {
			delete(l.tats, key)
		}
	}
}

// evictOne drops an arbitrary key to stay under maxKeys. Go randomises map
// iteration, so this is random eviction in O(1). The evicted key starts over
// with a full burst: acceptable for a fallback, and only reached with more
// live keys than maxKeys.
func (l *localLimiter) evictOne() {
	for key := range l.tats {
		delete(l.tats, key)
		return
	}
}

// len returns the number of keys held, for tests.
func (l *localLimiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tats)
}
