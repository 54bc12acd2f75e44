// Package config loads and validates the service configuration from
// environment variables. Load reports every bad variable at once, naming
// each; secrets are masked when the configuration is logged.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Config is the whole service configuration.
type Config struct {
	// DatabaseURL is how the service connects: as the application role.
	DatabaseURL string
	// MigrateDatabaseURL is how `migrate` connects: as the owner role.
	MigrateDatabaseURL string
	// RedisURL is optional; empty means in-process rate limits.
	RedisURL string

	ListenAddr string
	// MetricsAddr is the operators' listener: Prometheus metrics at
	// /metrics, never on the public ListenAddr.
	MetricsAddr   string
	PublicBaseURL string
	SignupEnabled bool
	// Console serves the web console at /app (CUSTOMERHUB_CONSOLE).
	Console           bool
	SessionTTL        time.Duration
	RequestTimeout    time.Duration
	StatementTimeout  time.Duration
	ShutdownTimeout   time.Duration
	BodyLimit         int
	DBMaxConns        int32
	DBAcquireTimeout  time.Duration // how long a request waits for a pooled connection
	TrustedProxies    []string
	LogLevel          slog.Level
	LogFormat         string
	RateLimitTenant   int // requests per second per tenant
	RateLimitIP       int // requests per second per client IP
	SignupPerIPHour   int // public signups per client IP per hour (each costs a hash and a tenant)
	LoginMaxFailures  int // per account before it is slowed down
	LoginIPMaxFails   int // per IP per window before it is blocked
	LoginWindow       time.Duration
	HashConcurrency   int
	Argon2MemoryKiB   uint32
	Argon2Iterations  uint32
	WorkerConcurrency int
	BulkConcurrency   int
	// BulkBatch is how many rows one transaction of a bulk job changes.
	BulkBatch int
	// ImportMaxBytes bounds an uploaded import file (POST /v1/imports is
	// the one route whose body may exceed BodyLimit).
	ImportMaxBytes int64
	// ImportRetention is how long an import, its row errors and its
	// uploaded file are kept.
	ImportRetention time.Duration
	// ImportBatch is how many rows one transaction of an import writes.
	ImportBatch int
	// MergeInlineMax is the most history rows (the duplicate's orders,
	// payments, locations, contacts) a merge moves within its request; a
	// bigger one is a job, moving MergeBatch rows of a kind per step.
	MergeInlineMax int
	MergeBatch     int
	// JobAttemptTimeout bounds one attempt of a tenant job; long jobs
	// continue in further attempts. With RescueStuckAfter it sets how soon
	// a killed worker's job is picked up again.
	JobAttemptTimeout time.Duration
	RescueStuckAfter  time.Duration
	// IdempotencyTTL is how long an Idempotency-Key and the response it
	// stores are kept: an older key counts as unused, and the hourly purge
	// deletes it.
	IdempotencyTTL time.Duration
	// ExportSyncMax is the most customers an export answers at once;
	// a larger one (counted first) runs as a job whose file is downloaded
	// later. 0 sends every export with any customer to a job.
	ExportSyncMax int
	// ExportRetention is how long the file of an export job is kept for
	// download.
	ExportRetention time.Duration
	MigrateOnStart  bool
	// AdminUser and AdminPassword guard the operators' River UI at
	// /admin/river (HTTP basic auth); without a password it is not served.
	AdminUser     string
	AdminPassword string
	// SecretKey seals tenants' SMS credentials at rest (AES-256-GCM);
	// without it they cannot be stored. OldSecretKeys still open values
	// sealed before a rotation (`customerhub secrets rotate`).
	SecretKey     []byte
	OldSecretKeys [][]byte
	// TwilioAPIURL is where Twilio requests go: Twilio itself by default,
	// the stand-in in development.
	TwilioAPIURL string
	// TwilioTimeout bounds one request to Twilio.
	TwilioTimeout time.Duration
	// TwilioStandinAddr, when set, makes serve, api and worker also run
	// the Twilio stand-in on this address (development only).
	TwilioStandinAddr string
	// SMSConcurrency is how many SMS jobs (sends, campaign tracking) a
	// worker process runs at once; the sender's rate is shared anyway.
	SMSConcurrency int
	// SMSReconcileAfter is how long after a call to Twilio whose outcome
	// is unknown the sender lists Twilio's messages to reconcile it.
	SMSReconcileAfter time.Duration
	// SMSTrackInterval is how often a campaign's job counts its settled
	// messages.
	SMSTrackInterval time.Duration
}

// Load reads the configuration through lookup (os.LookupEnv in main, a map
// in tests), applies defaults and validates it.
func Load(lookup func(string) (string, bool)) (Config, error) {
	l := loader{lookup: lookup}
	c := Config{
		DatabaseURL:        l.url("DATABASE_URL", "postgres://customerhub_app@127.0.0.1:5432/customerhub?sslmode=disable", "postgres", "postgresql"),
		MigrateDatabaseURL: l.url("MIGRATE_DATABASE_URL", "postgres://customerhub_owner@127.0.0.1:5432/customerhub?sslmode=disable", "postgres", "postgresql"),
		RedisURL:           l.optionalURL("REDIS_URL", "redis", "rediss"),
		ListenAddr:         l.addr("CUSTOMERHUB_LISTEN_ADDR", ":8080"),
		MetricsAddr:        l.addr("CUSTOMERHUB_METRICS_ADDR", "127.0.0.1:9091"),
		PublicBaseURL:      l.url("CUSTOMERHUB_PUBLIC_BASE_URL", "http://localhost:8080", "http", "https"),
		SignupEnabled:      l.bool("CUSTOMERHUB_SIGNUP_ENABLED", true),
		Console:            l.bool("CUSTOMERHUB_CONSOLE", true),
		SessionTTL:         l.duration("CUSTOMERHUB_SESSION_TTL", 30*24*time.Hour, time.Minute, 365*24*time.Hour),
		RequestTimeout:     l.duration("CUSTOMERHUB_REQUEST_TIMEOUT", 15*time.Second, 100*time.Millisecond, 10*time.Minute),
		StatementTimeout:   l.duration("CUSTOMERHUB_STATEMENT_TIMEOUT", 30*time.Second, 100*time.Millisecond, time.Hour),
		ShutdownTimeout:    l.duration("CUSTOMERHUB_SHUTDOWN_TIMEOUT", 30*time.Second, time.Second, time.Hour),
		BodyLimit:          l.int("CUSTOMERHUB_BODY_LIMIT", 1<<20, 1<<10, 1<<30),
		DBMaxConns:         int32(l.int("CUSTOMERHUB_DB_MAX_CONNS", 20, 2, 1000)),
		DBAcquireTimeout:   l.duration("CUSTOMERHUB_DB_ACQUIRE_TIMEOUT", 2*time.Second, 10*time.Millisecond, 10*time.Minute),
		TrustedProxies:     l.cidrs("CUSTOMERHUB_TRUSTED_PROXIES"),
		LogLevel:           l.level("CUSTOMERHUB_LOG_LEVEL", slog.LevelInfo),
		LogFormat:          l.choice("CUSTOMERHUB_LOG_FORMAT", "json", "json", "text"),
		RateLimitTenant:    l.int("CUSTOMERHUB_RATE_LIMIT_TENANT", 100, 1, 1_000_000),
		RateLimitIP:        l.int("CUSTOMERHUB_RATE_LIMIT_IP", 50, 1, 1_000_000),
		SignupPerIPHour:    l.int("CUSTOMERHUB_SIGNUP_PER_IP_HOUR", 10, 1, 1_000_000),
		LoginMaxFailures:   l.int("CUSTOMERHUB_LOGIN_MAX_FAILURES", 5, 1, 1000),
		LoginIPMaxFails:    l.int("CUSTOMERHUB_LOGIN_IP_MAX_FAILURES", 50, 1, 100_000),
		LoginWindow:        l.duration("CUSTOMERHUB_LOGIN_WINDOW", 15*time.Minute, time.Second, 24*time.Hour),
		HashConcurrency:    l.int("CUSTOMERHUB_HASH_CONCURRENCY", runtime.NumCPU(), 1, 1024),
		Argon2MemoryKiB:    uint32(l.int("CUSTOMERHUB_ARGON2_MEMORY_KIB", 19*1024, 1024, 4*1024*1024)),
		Argon2Iterations:   uint32(l.int("CUSTOMERHUB_ARGON2_ITERATIONS", 2, 1, 100)),
		WorkerConcurrency:  l.int("CUSTOMERHUB_WORKER_CONCURRENCY", 20, 1, 10_000),
		BulkConcurrency:    l.int("CUSTOMERHUB_BULK_CONCURRENCY", 4, 1, 1000),
		BulkBatch:          l.int("CUSTOMERHUB_BULK_BATCH", 2000, 1, 50_000),
		ImportMaxBytes:     int64(l.int("CUSTOMERHUB_IMPORT_MAX_BYTES", 50_000_000, 1<<10, 1<<31)),
		ImportRetention:    l.duration("CUSTOMERHUB_IMPORT_RETENTION", 30*24*time.Hour, time.Minute, 3650*24*time.Hour),
		ImportBatch:        l.int("CUSTOMERHUB_IMPORT_BATCH", 2000, 1, 50_000),
		MergeInlineMax:     l.int("CUSTOMERHUB_MERGE_INLINE_MAX", 2000, 1, 50_000),
		MergeBatch:         l.int("CUSTOMERHUB_MERGE_BATCH", 2000, 1, 50_000),
		JobAttemptTimeout:  l.duration("CUSTOMERHUB_JOB_ATTEMPT_TIMEOUT", time.Minute, 2*time.Second, time.Hour),
		RescueStuckAfter:   l.duration("CUSTOMERHUB_RESCUE_STUCK_AFTER", time.Minute, 2*time.Second, 24*time.Hour),
		IdempotencyTTL:     l.duration("CUSTOMERHUB_IDEMPOTENCY_TTL", 24*time.Hour, time.Minute, 30*24*time.Hour),
		ExportSyncMax:      l.int("CUSTOMERHUB_EXPORT_SYNC_MAX", 100_000, 0, 10_000_000),
		ExportRetention:    l.duration("CUSTOMERHUB_EXPORT_RETENTION", 7*24*time.Hour, time.Minute, 90*24*time.Hour),
		AdminUser:          l.text("CUSTOMERHUB_ADMIN_USER", "operator"),
		AdminPassword:      l.secret("CUSTOMERHUB_ADMIN_PASSWORD", 12),
		MigrateOnStart:     l.bool("CUSTOMERHUB_MIGRATE_ON_START", false),
		SecretKey:          l.key("CUSTOMERHUB_SECRET_KEY"),
		OldSecretKeys:      l.keys("CUSTOMERHUB_SECRET_KEYS_OLD"),
		TwilioAPIURL:       strings.TrimRight(l.url("CUSTOMERHUB_TWILIO_API_URL", "https://api.twilio.com", "https", "http"), "/"),
		TwilioTimeout:      l.duration("CUSTOMERHUB_TWILIO_TIMEOUT", 10*time.Second, 100*time.Millisecond, time.Minute),
		TwilioStandinAddr:  l.optionalAddr("CUSTOMERHUB_TWILIO_STANDIN_ADDR"),
		SMSConcurrency:     l.int("CUSTOMERHUB_SMS_CONCURRENCY", 10, 1, 1000),
		SMSReconcileAfter:  l.duration("CUSTOMERHUB_SMS_RECONCILE_AFTER", 10*time.Second, time.Millisecond, time.Hour),
		SMSTrackInterval:   l.duration("CUSTOMERHUB_SMS_TRACK_INTERVAL", 5*time.Second, 10*time.Millisecond, time.Hour),
	}
	if sameListener(c.ListenAddr, c.MetricsAddr) {
		l.fail("CUSTOMERHUB_METRICS_ADDR", "must differ from CUSTOMERHUB_LISTEN_ADDR (%s): metrics are not served on the public port", c.ListenAddr)
	}
	if len(l.errs) > 0 {
		return Config{}, errors.Join(l.errs...)
	}
	return c, nil
}

// LogValue masks secrets (passwords inside URLs) when the configuration is
// logged.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("database_url", maskURL(c.DatabaseURL)),
		slog.String("migrate_database_url", maskURL(c.MigrateDatabaseURL)),
		slog.String("redis_url", maskURL(c.RedisURL)),
		slog.String("listen_addr", c.ListenAddr),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.String("public_base_url", c.PublicBaseURL),
		slog.Bool("signup_enabled", c.SignupEnabled),
		slog.Duration("session_ttl", c.SessionTTL),
		slog.Duration("request_timeout", c.RequestTimeout),
		slog.Int("body_limit", c.BodyLimit),
		slog.Int("db_max_conns", int(c.DBMaxConns)),
		slog.Duration("db_acquire_timeout", c.DBAcquireTimeout),
		slog.Int("rate_limit_tenant", c.RateLimitTenant),
		slog.Int("rate_limit_ip", c.RateLimitIP),
		slog.Int("signup_per_ip_hour", c.SignupPerIPHour),
		slog.Int("worker_concurrency", c.WorkerConcurrency),
		slog.Int("bulk_concurrency", c.BulkConcurrency),
		slog.Int("sms_concurrency", c.SMSConcurrency),
		slog.Duration("sms_reconcile_after", c.SMSReconcileAfter),
		slog.Duration("sms_track_interval", c.SMSTrackInterval),
		slog.Int("bulk_batch", c.BulkBatch),
		slog.Int64("import_max_bytes", c.ImportMaxBytes),
		slog.Duration("import_retention", c.ImportRetention),
		slog.Int("import_batch", c.ImportBatch),
		slog.Int("merge_inline_max", c.MergeInlineMax),
		slog.Int("merge_batch", c.MergeBatch),
		slog.Duration("job_attempt_timeout", c.JobAttemptTimeout),
		slog.Duration("rescue_stuck_after", c.RescueStuckAfter),
		slog.Duration("idempotency_ttl", c.IdempotencyTTL),
		slog.Int("export_sync_max", c.ExportSyncMax),
		slog.Duration("export_retention", c.ExportRetention),
		slog.String("admin_user", c.AdminUser),
		slog.Bool("admin_ui", c.AdminPassword != ""),
		slog.Bool("secret_key", c.SecretKey != nil),
		slog.Int("old_secret_keys", len(c.OldSecretKeys)),
		slog.String("twilio_api_url", maskURL(c.TwilioAPIURL)),
		slog.String("twilio_standin_addr", c.TwilioStandinAddr),
	)
}

// sameListener reports whether two listen addresses would claim the same
// port: the same (non-ephemeral) port on the same host or on a wildcard.
func sameListener(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil || pa != pb || pa == "0" {
		return false
	}
	wildcard := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return ha == hb || wildcard(ha) || wildcard(hb)
}

func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

type loader struct {
	lookup func(string) (string, bool)
	errs   []error
}

func (l *loader) get(name string) (string, bool) {
	v, ok := l.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

func (l *loader) fail(name, format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

func (l *loader) url(name, def string, schemes ...string) string {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	l.checkURL(name, v, schemes)
	return v
}

func (l *loader) optionalURL(name string, schemes ...string) string {
	v, ok := l.get(name)
	if !ok {
		return ""
	}
	l.checkURL(name, v, schemes)
	return v
}

func (l *loader) checkURL(name, v string, schemes []string) {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		l.fail(name, "must be a URL such as %s://host:port/...", schemes[0])
		return
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return
		}
	}
	l.fail(name, "scheme must be one of %s", strings.Join(schemes, ", "))
}

func (l *loader) addr(name, def string) string {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		l.fail(name, "must be host:port or :port, got %q", v)
	}
	return v
}

func (l *loader) bool(name string, def bool) bool {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		l.fail(name, "must be true or false, got %q", v)
	}
	return b
}

func (l *loader) int(name string, def, min, max int) int {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		l.fail(name, "must be an integer from %d to %d, got %q", min, max, v)
		return def
	}
	return n
}

func (l *loader) duration(name string, def, min, max time.Duration) time.Duration {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < min || d > max {
		l.fail(name, "must be a duration (e.g. 30s, 15m) from %s to %s, got %q", min, max, v)
		return def
	}
	return d
}

func (l *loader) choice(name, def string, allowed ...string) string {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	l.fail(name, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
	return def
}

func (l *loader) level(name string, def slog.Level) slog.Level {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(v)); err != nil {
		l.fail(name, "must be debug, info, warn or error, got %q", v)
		return def
	}
	return lv
}

func (l *loader) cidrs(name string) []string {
	v, ok := l.get(name)
	if !ok {
		return nil
	}
	var out []string
	for _, part := range strings.Split(v, ",") {
		p := strings.TrimSpace(part)
		if p == "" {
			continue
		}
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			l.fail(name, "%q is neither an IP address nor a CIDR range", p)
			continue
		}
		out = append(out, p)
	}
	return out
}

// text reads a short single-line value.
func (l *loader) text(name, def string) string {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	if len(v) > 128 || strings.ContainsAny(v, ":\r\n") {
		l.fail(name, "must be at most 128 characters, without ':' or line breaks")
		return def
	}
	return v
}

func (l *loader) optionalAddr(name string) string {
	if _, ok := l.get(name); !ok {
		return ""
	}
	return l.addr(name, "")
}

// key reads an optional encryption key: base64 (standard or URL alphabet,
// padded or not) of exactly 32 bytes. It is never logged.
func (l *loader) key(name string) []byte {
	v, ok := l.get(name)
	if !ok {
		return nil
	}
	k, err := decodeKey(v)
	if err != nil {
		l.fail(name, "%s", err)
		return nil
	}
	return k
}

// keys reads a comma-separated list of keys as key does.
func (l *loader) keys(name string) [][]byte {
	v, ok := l.get(name)
	if !ok {
		return nil
	}
	var out [][]byte
	for i, part := range strings.Split(v, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, err := decodeKey(part)
		if err != nil {
			l.fail(name, "key %d: %s", i+1, err)
			continue
		}
		out = append(out, k)
	}
	return out
}

// keySize is the size of an encryption key: AES-256.
const keySize = 32

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != keySize {
				return nil, fmt.Errorf("must be base64 of %d bytes, got %d bytes", keySize, len(k))
			}
			return k, nil
		}
	}
	return nil, fmt.Errorf("must be base64 of %d random bytes (e.g. from `openssl rand -base64 32`)", keySize)
}

// secret reads an optional secret of at least minLen characters; it is
// never logged.
func (l *loader) secret(name string, minLen int) string {
	v, ok := l.get(name)
	if !ok {
		return ""
	}
	if len(v) < minLen {
		l.fail(name, "must be at least %d characters", minLen)
		return ""
	}
	return v
}
