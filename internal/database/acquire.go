package database

import (
	"context"
	"time"
)

type acquireWaitKey struct{}

// WithAcquireWait returns ctx under which beginning a transaction waits at
// most d for a pooled connection (BeginRequest, WithTenantTx). A request
// gets one: when every connection is held (slow statements, a lock), it
// is answered 503 after d instead of queueing until its own deadline, and
// the pool's queue stays short. Jobs have none and wait their turn.
func WithAcquireWait(ctx context.Context, d time.Duration) context.Context {
	if d <= 0 {
		return ctx
	}
	return context.WithValue(ctx, acquireWaitKey{}, d)
}

// beginContext answers the context to begin a transaction under: ctx
// bounded by its acquire wait, if it has one.
func beginContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Value(acquireWaitKey{}).(time.Duration); ok {
		return context.WithTimeout(ctx, d)
	}
	return ctx, func() {}
}
