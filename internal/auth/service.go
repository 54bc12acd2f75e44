package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// Options tunes the Service.
type Options struct {
	SessionTTL time.Duration
	// LoginMaxFailures login attempts on one account within LoginWindow
	// that do not succeed start an exponentially growing lock (30 s, 1 min,
	// 2 min, ... 15 min). Attempts are counted before the password is
	// checked, so attempts sent at once count like attempts sent in turn.
	LoginMaxFailures int
	// LoginIPMaxFailures failed logins from one IP within LoginWindow block
	// that IP for LoginWindow (counted the same way).
	LoginIPMaxFailures int
	LoginWindow        time.Duration
	SignupEnabled      bool
}

// Service implements signup, login, token authentication, users and roles.
type Service struct {
	db     database.Beginner
	q      *dbsqlc.Queries
	hasher *Hasher
	opts   Options
	logger *slog.Logger
}

// NewService returns a Service. db is used by the flows that span several
// transactions (signup, login, token authentication); the rest take the
// caller's transaction.
func NewService(db database.Beginner, hasher *Hasher, opts Options, logger *slog.Logger) *Service {
	return &Service{db: db, q: dbsqlc.New(), hasher: hasher, opts: opts, logger: logger}
}

// Hasher returns the password hasher.
func (s *Service) Hasher() *Hasher { return s.hasher }

// User is a user as the API shows it.
type User struct {
	ID         uuid.UUID
	Email      string
	Name       string
	Role       string
	RoleID     *uuid.UUID
	Visibility string
	CustomerID *uuid.UUID
	Status     string
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func toUser(u dbsqlc.User, roleName *string) User {
	role := ""
	switch {
	case u.BuiltinRole != nil:
		role = *u.BuiltinRole
	case roleName != nil:
		role = *roleName
	}
	return User{ID: u.ID, Email: u.Email, Name: u.Name, Role: role, RoleID: u.RoleID, Visibility: u.Visibility,
		CustomerID: u.CustomerID, Status: u.Status, Version: u.Version, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// ---- Signup -------------------------------------------------------------

// SignupInput creates a tenant and its first admin.
type SignupInput struct {
	Company  string
	Slug     string // empty: derived from Company
	Email    string
	Name     string
	Password string
}

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$`)

// Validate checks and normalizes the input.
func (in *SignupInput) Validate() error {
	var errs validation.Errors
	in.Company = errs.Text("company", in.Company, 1, 200)
	if in.Slug != "" {
		in.Slug = strings.ToLower(strings.TrimSpace(in.Slug))
		if !slugRE.MatchString(in.Slug) {
			errs.Add("slug", "invalid_slug", "must be 3 to 40 lower-case letters, digits or hyphens, starting and ending with a letter or digit")
		}
	}
	in.Email = errs.Email("email", in.Email)
	in.Name = errs.Text("name", in.Name, 1, 200)
	checkPassword(&errs, "password", in.Password)
	return errs.Err()
}

func checkPassword(errs *validation.Errors, field, pw string) {
	n := len([]rune(pw))
	switch {
	case n < 10:
		errs.Add(field, "too_short", "must be at least 10 characters")
	case len(pw) > 256:
		errs.Add(field, "too_long", "must be at most 256 bytes")
	case strings.ContainsRune(pw, 0):
		errs.Add(field, "invalid_characters", "must not contain NUL")
	}
}

// SignupResult is what signup creates.
type SignupResult struct {
	Tenant dbsqlc.Tenant
	User   User
	Token  string
}

// Signup creates a tenant, its first user (role admin) and a session token,
// in one transaction. Public signup can be switched off; the operator's
// `customerhub tenant create` calls CreateTenant directly.
func (s *Service) Signup(ctx context.Context, in SignupInput) (SignupResult, error) {
	if !s.opts.SignupEnabled {
		return SignupResult{}, ErrSignupDisabled
	}
	return s.CreateTenant(ctx, in)
}

// CreateTenant is Signup without the configuration switch.
func (s *Service) CreateTenant(ctx context.Context, in SignupInput) (SignupResult, error) {
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return SignupResult{}, err
	}
	explicit := in.Slug != ""
	base := in.Slug
	if !explicit {
		base = slugify(in.Company)
	}
	for attempt := 0; ; attempt++ {
		slug := base
		if !explicit && attempt > 0 {
			slug = trimSlug(base, 35) + "-" + randomHex(2)
		}
		res, err := s.createTenant(ctx, in, slug, hash)
		if errors.Is(err, ErrSlugTaken) && !explicit && attempt < 5 {
			continue
		}
		return res, err
	}
}

func (s *Service) createTenant(ctx context.Context, in SignupInput, slug, hash string) (SignupResult, error) {
	tenantID := uuid.New()
	return database.WithTenantTxV(ctx, s.db, database.SystemScope(tenantID), func(ctx context.Context, tx database.Tx) (SignupResult, error) {
		t, err := s.q.TenantInsert(ctx, tx, dbsqlc.TenantInsertParams{ID: tenantID, Slug: slug, Name: in.Company})
		if errors.Is(err, pgx.ErrNoRows) {
			return SignupResult{}, ErrSlugTaken
		}
		if err != nil {
			return SignupResult{}, fmt.Errorf("insert tenant: %w", err)
		}
		if _, err := s.q.SettingsInsert(ctx, tx, dbsqlc.SettingsInsertParams{
			TenantID: tenantID, DefaultCountry: "US", DefaultCurrency: "USD",
		}); err != nil {
			return SignupResult{}, fmt.Errorf("insert tenant settings: %w", err)
		}
		role := RoleAdmin
		u, err := s.q.UserInsert(ctx, tx, dbsqlc.UserInsertParams{
			TenantID: tenantID, ID: uuid.New(), Email: in.Email, Name: in.Name, PasswordHash: hash,
			BuiltinRole: &role, Visibility: tenant.VisibilityAll,
		})
		if err != nil {
			return SignupResult{}, fmt.Errorf("insert first user: %w", err)
		}
		token, err := s.insertToken(ctx, tx, u.ID, "session", "signup", s.sessionExpiry())
		if err != nil {
			return SignupResult{}, err
		}
		return SignupResult{Tenant: t, User: toUser(u, nil), Token: token}, nil
	})
}

func slugify(company string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(company) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(trimSlug(b.String(), 40), "-")
	if len(s) < 3 {
		s = "tenant-" + randomHex(3)
	}
	return s
}

func trimSlug(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.TrimRight(s, "-")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Service) sessionExpiry() *time.Time {
	t := time.Now().Add(s.opts.SessionTTL)
	return &t
}

func (s *Service) insertToken(ctx context.Context, tx database.Tx, userID uuid.UUID, kind, name string, expires *time.Time) (string, error) {
	token, hash := newToken(tx.TenantID())
	_, err := s.q.APITokenInsert(ctx, tx, dbsqlc.APITokenInsertParams{
		TenantID: tx.TenantID(), ID: uuid.New(), UserID: userID, Kind: kind, Name: name, TokenHash: hash, ExpiresAt: expires,
	})
	if err != nil {
		return "", fmt.Errorf("insert token: %w", err)
	}
	return token, nil
}

// ---- Login --------------------------------------------------------------

// LockedError means logins are refused for a while for this account or IP.
type LockedError struct{ RetryAfter time.Duration }

func (e *LockedError) Error() string {
	return fmt.Sprintf("too many failed logins; retry in %s", e.RetryAfter)
}

// LoginInput is a password login.
type LoginInput struct {
	Tenant   string
	Email    string
	Password string
	IP       string
}

// Login checks a password and returns a new session token. Attempts are
// counted per account and per client IP in PostgreSQL before the password
// is hashed (ThrottleReserve), so past the limits the answer is a
// LockedError, whatever the password and however many attempts arrive at
// once, without hashing, until the lock expires.
func (s *Service) Login(ctx context.Context, in LoginInput) (string, error) {
	slug := strings.ToLower(strings.TrimSpace(in.Tenant))
	email := strings.ToLower(strings.TrimSpace(in.Email))
	acctKey := throttleKey("acct", slug, email)
	ipKey := throttleKey("ip", in.IP)

	if err := s.reserveAttempt(ctx, acctKey, ipKey); err != nil {
		return "", err
	}

	var user dbsqlc.User
	t, err := s.q.TenantGetBySlug(ctx, s.pool(), slug)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return "", fmt.Errorf("look up tenant: %w", err)
	default:
		user, err = database.WithTenantTxV(ctx, s.db, database.SystemScope(t.ID), func(ctx context.Context, tx database.Tx) (dbsqlc.User, error) {
			return s.q.UserGetByEmail(ctx, tx, dbsqlc.UserGetByEmailParams{TenantID: tx.TenantID(), Email: email})
		}, database.ReadOnly)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return "", fmt.Errorf("look up user: %w", err)
		}
	}
	// Always hash, so unknown tenants and e-mails take as long as a wrong
	// password.
	ok, err := s.hasher.Verify(ctx, in.Password, user.PasswordHash)
	if err != nil {
		return "", fmt.Errorf("verify password: %w", err)
	}
	if !ok || user.Status != "active" || t.Status != "active" {
		// The attempt was counted when it was reserved.
		return "", ErrInvalidCredentials
	}
	if err := s.q.ThrottleReset(ctx, s.pool(), acctKey); err != nil {
		return "", fmt.Errorf("reset login throttle: %w", err)
	}
	if err := s.releaseIPAttempt(ctx, ipKey); err != nil {
		return "", err
	}
	return database.WithTenantTxV(ctx, s.db, database.SystemScope(t.ID), func(ctx context.Context, tx database.Tx) (string, error) {
		return s.insertToken(ctx, tx, user.ID, "session", "login", s.sessionExpiry())
	})
}

// pool gives the global queries (tenants, auth_throttle) a connection
// outside any tenant transaction.
func (s *Service) pool() dbsqlc.DBTX {
	if p, ok := s.db.(dbsqlc.DBTX); ok {
		return p
	}
	panic("auth: database handle cannot run queries outside a transaction")
}

func throttleKey(parts ...string) []byte {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return sum[:]
}

// Account locks start at accountLockBase once an account reaches
// LoginMaxFailures and double with each further attempt, up to
// accountLockMax.
const (
	accountLockBase = 30 * time.Second
	accountLockMax  = 15 * time.Minute
)

// reserveAttempt counts a login attempt against the client IP and then the
// account, each in one atomic statement, and returns a LockedError when
// either is locked. The IP comes first so that a blocked IP's attempts do
// not count against (and lock) the accounts it tries; an attempt the
// account refuses is given back to the IP, like a success. Each statement
// commits on its own: a reservation must stay counted whatever happens to
// the attempt afterwards.
func (s *Service) reserveAttempt(ctx context.Context, acctKey, ipKey []byte) error {
	now := time.Now()
	window := s.opts.LoginWindow.Seconds()
	nowUnix, cutoff := float64(now.UnixMicro())/1e6, now.Add(-s.opts.LoginWindow)
	_, err := s.q.ThrottleReserve(ctx, s.pool(), dbsqlc.ThrottleReserveParams{
		Key: ipKey, Now: now, NowUnix: nowUnix, WindowCutoff: cutoff, MaxAttempts: int32(s.opts.LoginIPMaxFailures),
		LockSeconds: window, LockMaxSeconds: window,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return s.lockedError(ctx, ipKey, now)
	}
	if err != nil {
		return fmt.Errorf("count login attempt: %w", err)
	}
	_, err = s.q.ThrottleReserve(ctx, s.pool(), dbsqlc.ThrottleReserveParams{
		Key: acctKey, Now: now, NowUnix: nowUnix, WindowCutoff: cutoff, MaxAttempts: int32(s.opts.LoginMaxFailures),
		LockSeconds: accountLockBase.Seconds(), LockMaxSeconds: accountLockMax.Seconds(),
	})
	if errors.Is(err, pgx.ErrNoRows) {
		if err := s.releaseIPAttempt(ctx, ipKey); err != nil {
			return err
		}
		return s.lockedError(ctx, acctKey, now)
	}
	if err != nil {
		return fmt.Errorf("count login attempt: %w", err)
	}
	return nil
}

// releaseIPAttempt gives back an attempt counted against the IP that did
// not fail: the IP limit counts failures, so that many people behind one
// address can still log in.
func (s *Service) releaseIPAttempt(ctx context.Context, ipKey []byte) error {
	err := s.q.ThrottleRelease(ctx, s.pool(), dbsqlc.ThrottleReleaseParams{
		Key: ipKey, Now: time.Now(), MaxAttempts: int32(s.opts.LoginIPMaxFailures),
	})
	if err != nil {
		return fmt.Errorf("release login attempt: %w", err)
	}
	return nil
}

// lockedError reads how long the key stays locked, for Retry-After. The lock
// may have lapsed since the attempt was refused; the client then retries
// after a second.
func (s *Service) lockedError(ctx context.Context, key []byte, now time.Time) error {
	until, err := s.q.ThrottleLockedUntil(ctx, s.pool(), dbsqlc.ThrottleLockedUntilParams{Keys: [][]byte{key}, Now: now})
	switch {
	case errors.Is(err, pgx.ErrNoRows), err == nil && until == nil:
		return &LockedError{RetryAfter: time.Second}
	case err != nil:
		return fmt.Errorf("read login throttle: %w", err)
	}
	return &LockedError{RetryAfter: until.Sub(now)}
}

// ---- Token authentication ----------------------------------------------

// Authenticated is a request's principal with the transaction its
// authentication began (AuthenticateRequest).
type Authenticated struct {
	Principal *tenant.Principal
	Tx        *database.RequestTx
	// TouchDue says the token's last use was recorded over a minute ago:
	// Touch records this one once the request is over.
	TouchDue bool
}

// AuthenticateRequest resolves a bearer token in the first statement of
// the request's transaction (read only when readOnly), which it begins:
// app_authenticate (migration 000017) looks the token up and sets the
// request's context, so that the handler's transaction, which takes this
// one over (database.RequestTx), runs its query next. The principal is
// built here, from the same row, and must come to the scope the statement
// set; a difference is refused as an internal error, never served.
func (s *Service) AuthenticateRequest(ctx context.Context, token string, readOnly bool) (Authenticated, error) {
	tenantID, hash, ok := parseToken(token)
	if !ok {
		return Authenticated{}, ErrUnauthenticated
	}
	a, rt, err := database.BeginRequest(ctx, s.db, readOnly, func(ctx context.Context, q dbsqlc.DBTX) (Authenticated, database.Scope, error) {
		row, err := s.q.APITokenAuthenticateRequest(ctx, q, dbsqlc.APITokenAuthenticateRequestParams{TenantID: tenantID, TokenHash: hash})
		if errors.Is(err, pgx.ErrNoRows) {
			return Authenticated{}, database.Scope{}, ErrUnauthenticated
		}
		if err != nil {
			return Authenticated{}, database.Scope{}, fmt.Errorf("authenticate token: %w", err)
		}
		if row.Expired || row.UserStatus != "active" {
			return Authenticated{}, database.Scope{}, ErrUnauthenticated
		}
		if row.TenantStatus != "active" {
			return Authenticated{}, database.Scope{}, ErrTenantSuspended
		}
		var builtin, roleName *string
		if row.BuiltinRole != "" {
			builtin = &row.BuiltinRole
		}
		if row.RoleName != "" {
			roleName = &row.RoleName
		}
		var customerID *uuid.UUID
		if row.ScopeCustomerID != uuid.Nil {
			customerID = &row.ScopeCustomerID
		}
		p := principal(tenantID, row.TenantSlug, row.UserID, row.Email, row.Name, row.ScopeVisibility, builtin, customerID, roleName, row.RolePermissions)
		p.TokenID = row.TokenID
		p.SettingsVersion, p.FieldsVersion = row.SettingsVersion, row.FieldsVersion
		uid := row.UserID
		set := database.Scope{TenantID: tenantID, UserID: &uid, Visibility: row.ScopeVisibility, CustomerID: customerID}
		if !set.Equal(database.ScopeFor(p)) {
			return Authenticated{}, database.Scope{}, fmt.Errorf("authenticate token: the context set (%+v) is not the principal's", set)
		}
		return Authenticated{Principal: p, TouchDue: row.TouchDue}, set, nil
	})
	if err != nil {
		return Authenticated{}, err
	}
	a.Tx = rt
	return a, nil
}

// Touch records a token's use (at most once a minute), in a transaction of
// its own: the request's may be read only.
func (s *Service) Touch(ctx context.Context, p *tenant.Principal) error {
	return database.WithTenantTx(ctx, s.db, database.SystemScope(p.TenantID), func(ctx context.Context, tx database.Tx) error {
		return s.q.APITokenTouch(ctx, tx, dbsqlc.APITokenTouchParams{TenantID: p.TenantID, ID: p.TokenID})
	})
}

// principal assembles a principal from a user and their role.
func principal(tenantID uuid.UUID, slug string, userID uuid.UUID, email, name, visibility string,
	builtin *string, customerID *uuid.UUID, roleName *string, rolePerms []string) *tenant.Principal {
	p := &tenant.Principal{TenantID: tenantID, TenantSlug: slug, UserID: userID, Email: email, Name: name, Visibility: visibility}
	switch {
	case builtin != nil:
		br, _ := Builtin(*builtin)
		p.Role, p.Permissions = br.Name, br.Permissions
		if br.Name == RolePortal {
			p.Visibility, p.CustomerID = tenant.VisibilityPortal, customerID
		}
	case roleName != nil:
		p.Role, p.Permissions = *roleName, rolePerms
	}
	return p
}

// PrincipalFor returns the user as a job acting for them sees themselves
// now: their current role and visibility, so a job started before a
// demotion cannot do more than the user may do today. An inactive user or
// tenant is ErrUnauthenticated or ErrTenantSuspended.
func (s *Service) PrincipalFor(ctx context.Context, tx database.Tx, userID uuid.UUID) (*tenant.Principal, error) {
	row, err := s.q.UserPrincipal(ctx, tx, dbsqlc.UserPrincipalParams{TenantID: tx.TenantID(), ID: userID})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("look up user: %w", err)
	}
	if row.UserStatus != "active" {
		return nil, ErrUnauthenticated
	}
	if row.TenantStatus != "active" {
		return nil, ErrTenantSuspended
	}
	return principal(tx.TenantID(), row.TenantSlug, row.UserID, row.Email, row.Name, row.Visibility,
		row.BuiltinRole, row.CustomerID, row.RoleName, row.RolePermissions), nil
}
