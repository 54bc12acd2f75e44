// Package apptest runs the whole HTTP application against a test database
// for handler and end-to-end tests: real PostgreSQL, real Redis, real
// middleware, requests through Fiber's app.Test.
package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/config"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/ratelimit"
	"github.com/customerhub/customerhub/internal/server"
)

// App is the application under test.
type App struct {
	Server *server.Server
	DB     *dbtest.DB
	River  *river.Client[pgx.Tx]
	Config config.Config
	// Registry holds the application's metrics (NewMetricsServer serves
	// them; see Metrics).
	Registry *prometheus.Registry

	services *server.Services
	logger   *slog.Logger
}

// RedisURL is the Redis the tests use.
func RedisURL() string {
	if v := os.Getenv("REDIS_URL"); v != "" {
		return v
	}
	return "redis://127.0.0.1:6379/0"
}

// New builds the application on db. env overrides configuration variables.
func New(t testing.TB, db *dbtest.DB, env map[string]string) *App {
	t.Helper()
	vars := map[string]string{
		"DATABASE_URL":                  db.AppURL,
		"MIGRATE_DATABASE_URL":          db.OwnerURL,
		"REDIS_URL":                     RedisURL(),
		"CUSTOMERHUB_ARGON2_MEMORY_KIB": "1024",
		"CUSTOMERHUB_ARGON2_ITERATIONS": "1",
		"CUSTOMERHUB_RATE_LIMIT_TENANT": "1000000",
		"CUSTOMERHUB_RATE_LIMIT_IP":     "1000000",
		// Every request of app.Test comes from 0.0.0.0, and Redis keeps
		// counts across test runs.
		"CUSTOMERHUB_SIGNUP_PER_IP_HOUR": "1000000",
		"CUSTOMERHUB_LOG_LEVEL":          "error",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	require.NoError(t, err)
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}

	var rdb *redis.Client
	if cfg.RedisURL != "" {
		rdb, err = ratelimit.Connect(cfg.RedisURL)
		require.NoError(t, err)
		t.Cleanup(func() { _ = rdb.Close() })
	}
	services := server.NewServices(cfg, db.App, logger)
	rc, err := server.NewRiver(db.App, server.RiverOptions{Workers: server.NewWorkers(cfg, services, db.App, logger), Logger: logger})
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	srv := server.New(server.Deps{
		Config: cfg, Pool: db.App, Redis: rdb, River: rc, Limiter: ratelimit.New(rdb, logger),
		Registry: reg, Logger: logger, Services: services,
	})
	return &App{Server: srv, DB: db, River: rc, Config: cfg, Registry: reg, services: services, logger: logger}
}

// StartWorkers starts a River client that works the jobs the application
// inserts (no periodic jobs), stopped when the test ends.
func (a *App) StartWorkers(t testing.TB) *river.Client[pgx.Tx] {
	t.Helper()
	return a.StartRiver(t, server.RiverOptions{
		Work: true, Workers: server.NewWorkers(a.Config, a.services, a.DB.App, a.logger), Concurrency: 2, BulkConcurrency: 2,
		AttemptTimeout: a.Config.JobAttemptTimeout, RescueStuckAfter: a.Config.RescueStuckAfter,
		CallTimeout: a.Config.TwilioTimeout, Logger: a.logger,
	})
}

// StartRiver starts a River client on the application's database with
// opts (workers of the test's own, say), stopped when the test ends.
func (a *App) StartRiver(t testing.TB, opts server.RiverOptions) *river.Client[pgx.Tx] {
	t.Helper()
	rc, err := server.NewRiver(a.DB.App, opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, rc.Start(ctx))
	t.Cleanup(func() {
		stopCtx, stop := context.WithTimeout(context.Background(), 30*time.Second)
		defer stop()
		_ = rc.Stop(stopCtx)
		cancel()
	})
	return rc
}

// Response is a finished request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// Map decodes the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Req describes a request. Body may be nil, a string or []byte (sent
// as is) or any value (sent as JSON).
type Req struct {
	Method  string
	Path    string
	Token   string
	Body    any
	Headers map[string]string
}

// Do sends a request through the application.
func (a *App) Do(t testing.TB, r Req) *Response {
	t.Helper()
	resp, err := a.do(r)
	require.NoError(t, err)
	return resp
}

// DoAll sends the requests at once, each from its own goroutine, all
// released together, and returns the responses in the requests' order: for
// tests of what a burst of concurrent requests may do.
func (a *App) DoAll(t testing.TB, reqs []Req) []*Response {
	t.Helper()
	resps := make([]*Response, len(reqs))
	errs := make([]error, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resps[i], errs[i] = a.do(r)
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	return resps
}

func (a *App) do(r Req) (*Response, error) {
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(r.Method, r.Path, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	resp, err := a.Server.App.Test(req, -1)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}, nil
}

// Metrics scrapes the application's metrics from the operators' metrics
// server, as Prometheus would.
func (a *App) Metrics(t testing.TB) *Response {
	t.Helper()
	rec := httptest.NewRecorder()
	server.NewMetricsServer(a.Registry, a.logger).Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, server.MetricsPath, nil))
	return &Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// Get, Post, Patch and Delete are shorthands for Do.
func (a *App) Get(t testing.TB, path, token string) *Response {
	t.Helper()
	return a.Do(t, Req{Method: http.MethodGet, Path: path, Token: token})
}

// Post sends body as JSON.
func (a *App) Post(t testing.TB, path, token string, body any) *Response {
	t.Helper()
	return a.Do(t, Req{Method: http.MethodPost, Path: path, Token: token, Body: body})
}

// Patch sends body as JSON with If-Match.
func (a *App) Patch(t testing.TB, path, token, etag string, body any) *Response {
	t.Helper()
	return a.Do(t, Req{Method: http.MethodPatch, Path: path, Token: token, Body: body, Headers: map[string]string{"If-Match": etag}})
}

// Delete sends a DELETE.
func (a *App) Delete(t testing.TB, path, token string) *Response {
	t.Helper()
	return a.Do(t, Req{Method: http.MethodDelete, Path: path, Token: token})
}

// Tenant is a tenant created through signup.
type Tenant struct {
	ID         string
	Slug       string
	AdminID    string
	AdminEmail string
	AdminToken string
}

// unique returns a short random string for names that must not collide
// across tests and runs.
func unique() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Password is the password of every user the helpers create.
const Password = "correct horse battery"

// Signup creates a fresh tenant with its admin.
func (a *App) Signup(t testing.TB) Tenant {
	t.Helper()
	slug := fmt.Sprintf("t%s-%s", unique(), strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")))
	slug = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, slug)
	if len(slug) > 40 {
		slug = slug[:40]
	}
	slug = strings.TrimRight(slug, "-")
	email := "admin@" + slug + ".example"
	resp := a.Post(t, "/v1/signup", "", map[string]any{
		"company": "Company " + slug, "slug": slug, "email": email, "name": "Admin", "password": Password,
	})
	require.Equal(t, http.StatusCreated, resp.Status, "signup: %s", resp.Body)
	var out struct {
		Tenant struct{ ID, Slug string } `json:"tenant"`
		User   struct{ ID string }       `json:"user"`
		Token  string                    `json:"token"`
	}
	resp.JSON(t, &out)
	return Tenant{ID: out.Tenant.ID, Slug: out.Tenant.Slug, AdminID: out.User.ID, AdminEmail: email, AdminToken: out.Token}
}

// User is a user created by CreateUser, logged in.
type User struct {
	ID    string
	Email string
	Token string
}

// CreateUser adds a user with the role (and optional extra fields) through
// the API and logs them in.
func (a *App) CreateUser(t testing.TB, tn Tenant, role string, extra map[string]any) User {
	t.Helper()
	email := fmt.Sprintf("%s-%s@%s.example", strings.ReplaceAll(role, "_", ""), unique(), tn.Slug)
	body := map[string]any{"email": email, "name": "User " + email, "password": Password, "role": role}
	for k, v := range extra {
		body[k] = v
	}
	resp := a.Post(t, "/v1/users", tn.AdminToken, body)
	require.Equal(t, http.StatusCreated, resp.Status, "create user: %s", resp.Body)
	var u struct{ ID string }
	resp.JSON(t, &u)
	return User{ID: u.ID, Email: email, Token: a.Login(t, tn.Slug, email)}
}

// Login returns a session token.
func (a *App) Login(t testing.TB, slug, email string) string {
	t.Helper()
	resp := a.Post(t, "/v1/auth/login", "", map[string]any{"tenant": slug, "email": email, "password": Password})
	require.Equal(t, http.StatusOK, resp.Status, "login: %s", resp.Body)
	var out struct{ Token string }
	resp.JSON(t, &out)
	return out.Token
}

// CreateCustomer creates a customer and returns its decoded body.
func (a *App) CreateCustomer(t testing.TB, token string, body map[string]any) map[string]any {
	t.Helper()
	resp := a.Post(t, "/v1/customers", token, body)
	require.Equal(t, http.StatusCreated, resp.Status, "create customer: %s", resp.Body)
	return resp.Map(t)
}

// Listen serves the application on a loopback port for the rest of the
// test and returns its base URL. Use it where app.Test differs from a real
// server (oversized bodies and headers are Go errors there, 413/431 here).
func (a *App) Listen(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.Server.App.Listener(ln)
	}()
	t.Cleanup(func() {
		_ = a.Server.App.Shutdown()
		<-done
	})
	return "http://" + ln.Addr().String()
}

// WaitJob polls GET /v1/jobs/{id} until the job has ended (or fails the
// test after three minutes: a bound for a machine busy with other test
// packages, not an expected duration) and returns it.
func (a *App) WaitJob(t testing.TB, token, id string) map[string]any {
	t.Helper()
	var job map[string]any
	require.Eventually(t, func() bool {
		resp := a.Get(t, "/v1/jobs/"+id, token)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		job = resp.Map(t)
		switch job["state"] {
		case "succeeded", "failed", "cancelled":
			return true
		}
		return false
	}, 3*time.Minute, 50*time.Millisecond)
	return job
}

// JobID returns the id of the job a 202 answer started.
func JobID(t testing.TB, r *Response) string {
	t.Helper()
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	var out struct {
		Job struct{ ID string } `json:"job"`
	}
	r.JSON(t, &out)
	require.NotEmpty(t, out.Job.ID)
	require.Equal(t, "/v1/jobs/"+out.Job.ID, r.Header.Get("Location"))
	return out.Job.ID
}
