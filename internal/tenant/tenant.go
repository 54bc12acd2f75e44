// Package tenant carries the authenticated principal (tenant, user, role,
// visibility) through a request or job context. It is a leaf package: it
// knows nothing of HTTP or the database.
package tenant

import (
	"context"

	"github.com/google/uuid"
)

// Visibility values, as stored on users and as set in the database context.
const (
	// VisibilityAll sees every customer of the tenant.
	VisibilityAll = "all"
	// VisibilityAssigned sees only the customers the user is in charge of.
	VisibilityAssigned = "assigned"
	// VisibilityPortal sees only the one customer account linked to the user.
	VisibilityPortal = "portal"
)

// Principal is who is acting: a user of one tenant, with the role's
// permissions resolved.
type Principal struct {
	TenantID    uuid.UUID
	TenantSlug  string
	UserID      uuid.UUID
	TokenID     uuid.UUID
	Email       string
	Name        string
	Role        string
	Permissions []string
	Visibility  string
	// CustomerID is set for portal users only.
	CustomerID *uuid.UUID
	// SettingsVersion and FieldsVersion are the versions of the tenant's
	// settings and custom field definitions that authentication read (0
	// when unknown): a process's cached copy of them is current when its
	// versions are these.
	SettingsVersion, FieldsVersion int64
}

// Can reports whether the principal holds the permission.
func (p *Principal) Can(permission string) bool {
	for _, have := range p.Permissions {
		if have == permission {
			return true
		}
	}
	return false
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal stored in ctx, if any.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}

// MustFromContext returns the principal stored in ctx and panics when there
// is none: routes behind authentication always have one, so its absence is a
// wiring bug, not bad input.
func MustFromContext(ctx context.Context) *Principal {
	p, ok := FromContext(ctx)
	if !ok {
		panic("tenant: no principal in context (route not behind authentication)")
	}
	return p
}

type requestIDKey struct{}

// WithRequestID returns a context carrying the request (or job) ID, which
// the audit trail records.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the ID stored by WithRequestID, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
