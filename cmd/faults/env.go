package main

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/customerhub/customerhub/internal/harness"
)

// requestTimeout is the API's request timeout in every scenario: no
// answer may take longer (and a little slack).
const requestTimeout = 5 * time.Second

// env is what every scenario shares: the private servers, the system's
// database, the demo tenant's customers and a superuser pool on the
// database for checks (outside row-level security: a checking tool).
type env struct {
	tmp   string
	pg    *harness.Postgres
	redis *harness.Redis
	sys   *harness.System
	db    *pgxpool.Pool
	ids   []uuid.UUID // the demo tenant's customers, by id
	keep  bool        // keep tmp (a scenario failed)
	runID string      // names what this run creates
	began time.Time   // when the run began

	twilioFaultsFor time.Duration // how long twilio-faults strikes
}

// baseEnv is every process's configuration in the scenarios: a short
// request timeout; rate limits out of the way (the redis scenario sets
// its own); jobs in short slices, rescued quickly after a kill; small
// batches, so that a job has many boundaries to stop at.
var baseEnv = []string{
	"CUSTOMERHUB_REQUEST_TIMEOUT=" + requestTimeout.String(),
	"CUSTOMERHUB_RATE_LIMIT_TENANT=1000000", "CUSTOMERHUB_RATE_LIMIT_IP=1000000",
	"CUSTOMERHUB_JOB_ATTEMPT_TIMEOUT=3s",
	"CUSTOMERHUB_RESCUE_STUCK_AFTER=5s",
	"CUSTOMERHUB_SHUTDOWN_TIMEOUT=20s",
	"CUSTOMERHUB_BULK_BATCH=100",
	"CUSTOMERHUB_IMPORT_BATCH=200",
	"CUSTOMERHUB_DB_MAX_CONNS=10",
	"CUSTOMERHUB_TWILIO_STANDIN_ADDR=",
}

func newEnv(ctx context.Context, bin, tmp string, customers int) (*env, error) {
	e := &env{tmp: tmp, runID: time.Now().UTC().Format("150405"), began: time.Now()}
	var err error
	if e.pg, err = harness.StartPostgres(ctx, tmp); err != nil {
		return e, err
	}
	if e.redis, err = harness.StartRedis(ctx, tmp); err != nil {
		return e, err
	}
	if e.sys, err = harness.NewSystem(bin, e.pg.AdminURL(), e.redis.URL(), tmp, "faults", baseEnv...); err != nil {
		return e, err
	}
	if err := e.sys.Create(ctx, customers); err != nil {
		return e, err
	}
	cfg, err := pgxpool.ParseConfig(e.sys.SuperURL())
	if err != nil {
		return e, err
	}
	cfg.MaxConns = 4
	if e.db, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return e, err
	}
	rows, err := e.db.Query(ctx, `SELECT id FROM customers ORDER BY code`)
	if err != nil {
		return e, err
	}
	if e.ids, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
		return e, err
	}
	if len(e.ids) < 1000 {
		return e, fmt.Errorf("the demo tenant has %d customers; the scenarios need 1,000", len(e.ids))
	}
	return e, nil
}

func (e *env) close() {
	if e.sys != nil {
		e.sys.Stop()
	}
	if e.db != nil {
		e.db.Close()
	}
	if e.redis != nil {
		e.redis.Close()
	}
	if e.pg != nil {
		e.pg.Close()
	}
	if !e.keep {
		_ = os.RemoveAll(e.tmp)
	}
}

// ensureServers starts PostgreSQL and Redis again when a scenario left
// one stopped (it failed half-way).
func (e *env) ensureServers(ctx context.Context) error {
	if err := e.db.Ping(ctx); err != nil {
		if err := e.pg.Start(ctx); err != nil {
			return err
		}
	}
	if !e.redis.Running() {
		return e.redis.Start(ctx)
	}
	return nil
}

// start runs one customerhub process with the scenario's env.
func (e *env) start(ctx context.Context, name, mode string, env ...string) (*harness.Proc, error) {
	return e.sys.Start(ctx, name, mode, env...)
}

// api is a client of p as the demo tenant's admin.
func (e *env) api(p *harness.Proc) *api {
	return &api{base: p.Base, token: e.sys.AdminToken, client: &http.Client{Timeout: 30 * time.Second}}
}

// load is mixed load on the given API processes.
func (e *env) load(label string, procs ...*harness.Proc) *load {
	l := &load{token: e.sys.AdminToken, ids: e.ids, label: label, timeout: 30 * time.Second}
	for _, p := range procs {
		l.bases = append(l.bases, p.Base)
	}
	return l
}

// countExisting answers how many of ids are customers in the database.
func (e *env) countExisting(ctx context.Context, ids []uuid.UUID) (int, error) {
	var n int
	err := e.db.QueryRow(ctx, `SELECT count(*) FROM customers WHERE id = ANY($1)`, ids).Scan(&n)
	return n, err
}

// startBulk starts a bulk update setting billing_status to status on
// ids, after making sure none of them has it (so that the job must
// change every one: changed == matched is then exact).
func (e *env) startBulk(ctx context.Context, a *api, ids []uuid.UUID, status, other string) (string, error) {
	if _, err := e.db.Exec(ctx, `UPDATE customers SET billing_status = $2 WHERE id = ANY($1) AND billing_status = $3`, ids, other, status); err != nil {
		return "", err
	}
	body, err := jsonBody(map[string]any{"selection": map[string]any{"ids": ids}, "set": map[string]any{"billing_status": status}})
	if err != nil {
		return "", err
	}
	var resp struct {
		Job jobView `json:"job"`
	}
	if err := a.call(ctx, http.MethodPost, "/v1/customers/bulk-update", "application/json", body, http.StatusAccepted, &resp); err != nil {
		return "", err
	}
	return resp.Job.ID, nil
}

// bulkResult is a bulk job's result.
type bulkResult struct {
	Matched, Changed, Unchanged, Skipped int64
}

// checkBulk checks a finished bulk job: it succeeded, changed every one
// of n customers exactly once, and they all have status now.
func (e *env) checkBulk(ctx context.Context, c *checks, name string, j jobView, ids []uuid.UUID, status string) error {
	var r bulkResult
	if j.State == "succeeded" {
		if err := jsonUnmarshal(j.Result, &r); err != nil {
			return err
		}
	}
	n := int64(len(ids))
	c.expect(j.State == "succeeded" && r.Matched == n && r.Changed == n && r.Unchanged == 0 && r.Skipped == 0,
		name+" changed each customer exactly once", "job %s %s after %d attempts, result %s, want %d changed", j.ID, j.State, j.Attempts, j.Result, n)
	var have int64
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM customers WHERE id = ANY($1) AND billing_status = $2`, ids, status).Scan(&have); err != nil {
		return err
	}
	c.expect(have == n, name+"'s change is in the database", "%d of %d customers have billing_status %s", have, n, status)
	return nil
}

// startImport uploads a CSV of rows new customers (codes prefix000001
// onwards) in create mode and answers the import's job id.
func (e *env) startImport(ctx context.Context, a *api, prefix string, rows int) (string, error) {
	var file bytes.Buffer
	file.WriteString("code,name,email\r\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&file, "%s%06d,Imported %s %d,%s%d@example.com\r\n", prefix, i, prefix, i, prefix, i)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.WriteField("mode", "create"); err != nil {
		return "", err
	}
	fw, err := mw.CreateFormFile("file", prefix+".csv")
	if err != nil {
		return "", err
	}
	if _, err := fw.Write(file.Bytes()); err != nil {
		return "", err
	}
	if err := mw.Close(); err != nil {
		return "", err
	}
	var resp struct {
		Job jobView `json:"job"`
	}
	if err := a.call(ctx, http.MethodPost, "/v1/imports", mw.FormDataContentType(), body.Bytes(), http.StatusAccepted, &resp); err != nil {
		return "", err
	}
	return resp.Job.ID, nil
}

// checkImport checks a finished import of rows new customers: it
// succeeded and the tenant has each exactly once.
func (e *env) checkImport(ctx context.Context, c *checks, name string, j jobView, prefix string, rows int) error {
	var have, distinct int
	if err := e.db.QueryRow(ctx, `SELECT count(*), count(DISTINCT code) FROM customers WHERE code LIKE $1 || '%'`, prefix).Scan(&have, &distinct); err != nil {
		return err
	}
	c.expect(j.State == "succeeded" && have == rows && distinct == rows, name+" created each row exactly once",
		"job %s %s after %d attempts; %d customers (%d distinct codes) of %d rows", j.ID, j.State, j.Attempts, have, distinct, rows)
	return nil
}
