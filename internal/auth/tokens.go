package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// TokenInput creates a personal API token.
type TokenInput struct {
	Name      string
	ExpiresAt *time.Time
}

// Validate checks and normalizes the input.
func (in *TokenInput) Validate(now time.Time) error {
	var errs validation.Errors
	in.Name = errs.Text("name", in.Name, 1, 100)
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		errs.Add("expires_at", "in_past", "must be in the future")
	}
	return errs.Err()
}

// CreateToken issues a personal API token for the acting user. The token
// is returned once; only its hash is kept.
func (s *Service) CreateToken(ctx context.Context, tx database.Tx, actor *tenant.Principal, in TokenInput) (dbsqlc.ApiToken, string, error) {
	token, hash := newToken(tx.TenantID())
	row, err := s.q.APITokenInsert(ctx, tx, dbsqlc.APITokenInsertParams{
		TenantID: tx.TenantID(), ID: uuid.New(), UserID: actor.UserID, Kind: "personal", Name: in.Name, TokenHash: hash, ExpiresAt: in.ExpiresAt,
	})
	if err != nil {
		return dbsqlc.ApiToken{}, "", fmt.Errorf("insert token: %w", err)
	}
	return row, token, nil
}

// ListTokens lists the acting user's unexpired personal tokens.
func (s *Service) ListTokens(ctx context.Context, tx database.Tx, actor *tenant.Principal) ([]dbsqlc.ApiToken, error) {
	rows, err := s.q.APITokenListByUser(ctx, tx, dbsqlc.APITokenListByUserParams{TenantID: tx.TenantID(), UserID: actor.UserID, Kind: "personal"})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return rows, nil
}

// DeleteToken revokes one of the acting user's tokens.
func (s *Service) DeleteToken(ctx context.Context, tx database.Tx, actor *tenant.Principal, id uuid.UUID) error {
	n, err := s.q.APITokenDelete(ctx, tx, dbsqlc.APITokenDeleteParams{TenantID: tx.TenantID(), ID: id, UserID: actor.UserID})
	if err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	if n == 0 {
		return ErrTokenNotFound
	}
	return nil
}

// Logout revokes the token the request came with.
func (s *Service) Logout(ctx context.Context, tx database.Tx, actor *tenant.Principal) error {
	err := s.DeleteToken(ctx, tx, actor, actor.TokenID)
	if errors.Is(err, ErrTokenNotFound) {
		return nil // already gone: logging out twice is harmless
	}
	return err
}

// PurgeExpiredTokens deletes a tenant's expired tokens (maintenance job).
func (s *Service) PurgeExpiredTokens(ctx context.Context, tx database.Tx) (int64, error) {
	n, err := s.q.APITokenDeleteExpired(ctx, tx, tx.TenantID())
	if err != nil {
		return 0, fmt.Errorf("purge expired tokens: %w", err)
	}
	return n, nil
}

// PurgeThrottle deletes login counters idle for longer than the window
// (maintenance job; global table).
func (s *Service) PurgeThrottle(ctx context.Context, db dbsqlc.DBTX) (int64, error) {
	n, err := s.q.ThrottlePurge(ctx, db, s.opts.LoginWindow.Seconds()*2)
	if err != nil {
		return 0, fmt.Errorf("purge login throttle: %w", err)
	}
	return n, nil
}

// IssueSession creates a session token for a user without a password
// check: for operator tooling and the demo, never reachable over HTTP.
func (s *Service) IssueSession(ctx context.Context, tx database.Tx, userID uuid.UUID) (string, error) {
	return s.insertToken(ctx, tx, userID, "session", "issued", s.sessionExpiry())
}
