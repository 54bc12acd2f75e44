// Package loadbench measures the request path as a user sees it (make
// bench): `customerhub api` runs as a process of its own on the benchmark
// data set (benchdata: a 1,000,000-customer tenant beside 99 of 10,000),
// cmd/loadgen drives it over HTTP from another process with 8 connections,
// and in the same command the same work runs as raw SQL with the same
// transaction shape (BEGIN, app_set_context, the statements, COMMIT) from
// 8 connections as the application's role, row-level security on (the
// searches' reference excepted: it is the best trigram plan, which only a
// role outside row-level security gets, see env.trusted). Each
// request kind is measured API then raw, back to back, so that machine
// noise hits both alike; only the ratio inside one run means anything on
// shared machines.
//
// Reported per kind: API and raw rates (requests or transactions per
// second), their ratio (api_vs_raw), the API's p95 at 8 connections, and
// for the admin search also p95 at one connection; the server's peak RSS.
// BENCH_LOAD_SECONDS sets each measurement's length (default 10).
package loadbench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/benchdata"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/demodata"
	"github.com/customerhub/customerhub/internal/loadplan"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const connections = 8

func seconds() time.Duration {
	return time.Duration(benchdata.Size("BENCH_LOAD_SECONDS", 10)) * time.Second
}

// env is a running service on the data set.
type env struct {
	base      string
	loadgen   string
	serverPID int
	pool      *pgxpool.Pool
	// trusted is a superuser pool: row-level security does not apply to
	// it, so the planner may use the trigram index for LIKE (under the
	// policy it cannot: LIKE is not leakproof), which is the best plan
	// the search's raw reference is meant to have.
	trusted    *pgxpool.Pool
	tenantID   uuid.UUID
	adminID    uuid.UUID
	repID      uuid.UUID
	adminToken string
	repToken   string
	ids        []uuid.UUID
}

func build(b *testing.B, dir, pkg string) string {
	b.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("go build %s: %v", pkg, err)
	}
	return out
}

func freeAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func start(b *testing.B) *env {
	b.Helper()
	ctx := context.Background()
	set := benchdata.Load(b)
	first := set.Tenants[0]
	e := &env{tenantID: first.ID, adminID: first.AdminID, repID: first.RepIDs[0]}

	dir := b.TempDir()
	server := build(b, dir, "github.com/customerhub/customerhub/cmd/customerhub")
	e.loadgen = build(b, dir, "github.com/customerhub/customerhub/cmd/loadgen")

	addr := freeAddr(b)
	e.base = "http://" + addr
	cmd := exec.Command(server, "api")
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+set.DB.AppURL, "CUSTOMERHUB_LISTEN_ADDR="+addr, "CUSTOMERHUB_METRICS_ADDR="+freeAddr(b),
		"CUSTOMERHUB_PUBLIC_BASE_URL="+e.base, "CUSTOMERHUB_LOG_LEVEL=error",
		// Rate limits far above what the machine can serve: the benchmark
		// measures their cost, not their refusals.
		"CUSTOMERHUB_RATE_LIMIT_TENANT=1000000", "CUSTOMERHUB_RATE_LIMIT_IP=1000000",
		"CUSTOMERHUB_MIGRATE_ON_START=false")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	e.serverPID = cmd.Process.Pid
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for deadline := time.Now().Add(time.Minute); ; {
		resp, err := http.Get(e.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("customerhub api did not come up: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Sessions for the tenant's admin and first rep, as login makes them.
	authSvc := auth.NewService(set.DB.App, auth.NewHasher(auth.HashParams{MemoryKiB: 1024, Iterations: 1}),
		auth.Options{SessionTTL: time.Hour}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	err := database.WithTenantTx(ctx, set.DB.App, database.SystemScope(first.ID), func(ctx context.Context, tx database.Tx) error {
		var err error
		if e.adminToken, err = authSvc.IssueSession(ctx, tx, first.AdminID); err != nil {
			return err
		}
		e.repToken, err = authSvc.IssueSession(ctx, tx, first.RepIDs[0])
		return err
	})
	if err != nil {
		b.Fatal(err)
	}

	cfg, err := pgxpool.ParseConfig(set.DB.AppURL)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns, cfg.MinConns = connections, connections
	if e.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.pool.Close)
	tcfg, err := pgxpool.ParseConfig(dbtest.URLFor(set.DB.Name, "postgres"))
	if err != nil {
		b.Fatal(err)
	}
	tcfg.MaxConns, tcfg.MinConns = connections, connections
	tcfg.ConnConfig.RuntimeParams["jit"] = "off"
	if e.trusted, err = pgxpool.NewWithConfig(ctx, tcfg); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.trusted.Close)

	// 2,000 random customers of the large tenant (read as its admin).
	conn, err := pgx.Connect(ctx, dbtest.URLFor(set.DB.Name, "postgres"))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT id FROM customers TABLESAMPLE SYSTEM (1) WHERE tenant_id = $1 LIMIT 2000`, first.ID)
	if err != nil {
		b.Fatal(err)
	}
	if e.ids, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil || len(e.ids) == 0 {
		b.Fatalf("sample customers: %v (%d)", err, len(e.ids))
	}
	return e
}

// load runs cmd/loadgen with the targets from n connections.
func (e *env) load(b *testing.B, n int, ts []loadplan.Target) loadplan.Report {
	b.Helper()
	r, err := loadplan.Run(context.Background(), e.loadgen, loadplan.Plan{Workers: uint64(n), Duration: seconds().String(), Targets: ts})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// raw runs fn as fast as it goes from n connections for the measurement's
// length, each call in its own transaction with the context set as the
// application sets it, and answers transactions per second.
func (e *env) raw(b *testing.B, n int, visibility string, user uuid.UUID, fn func(ctx context.Context, tx pgx.Tx, i int) error) float64 {
	b.Helper()
	return e.rawOn(b, e.pool, n, visibility, user, fn)
}

// rawOn is raw on a pool of its own.
func (e *env) rawOn(b *testing.B, pool *pgxpool.Pool, n int, visibility string, user uuid.UUID, fn func(ctx context.Context, tx pgx.Tx, i int) error) float64 {
	b.Helper()
	ctx := context.Background()
	var done atomic.Int64
	var failed atomic.Value
	stop := time.Now().Add(seconds())
	var wg sync.WaitGroup
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; time.Now().Before(stop); i += n {
				err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					if _, err := tx.Exec(ctx, `SELECT app_set_context($1, $2, $3, NULL)`, e.tenantID, user, visibility); err != nil {
						return err
					}
					return fn(ctx, tx, i)
				})
				if err != nil {
					failed.Store(err)
					return
				}
				done.Add(1)
			}
		}(w)
	}
	began := time.Now()
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		b.Fatalf("raw: %v", err)
	}
	return float64(done.Load()) / time.Since(began).Seconds()
}

func (e *env) bearer(token string) map[string][]string {
	return map[string][]string{"Authorization": {"Bearer " + token}, "Accept": {"application/json"}}
}

func drain(rows pgx.Rows) error {
	for rows.Next() {
	}
	rows.Close()
	return rows.Err()
}

// BenchmarkAPIBesideSQL: see the package comment. Targets (issue 13): get
// by id ≥ 0.6, first list page ≥ 0.6, admin search ≥ 0.9 (p95 ≤ 50 ms at
// one connection), rep search ≥ 0.8, create and patch ≥ 0.5; no errors;
// server RSS under 300 MB.
func BenchmarkAPIBesideSQL(b *testing.B) {
	e := start(b)
	b.ResetTimer()
	for b.Loop() {
		e.round(b)
	}
	b.StopTimer()
	if rss := peakRSS(e.serverPID); rss > 0 {
		b.ReportMetric(float64(rss)/(1<<20), "server_peak_MB")
	}
}

func (e *env) round(b *testing.B) {
	type kind struct {
		name    string
		targets []loadplan.Target
		raw     func() float64
	}
	get := make([]loadplan.Target, 0, len(e.ids))
	patch := make([]loadplan.Target, 0, len(e.ids))
	for i, id := range e.ids {
		get = append(get, loadplan.Target{Method: http.MethodGet, URL: e.base + "/v1/customers/" + id.String(), Header: e.bearer(e.adminToken)})
		h := e.bearer(e.adminToken)
		h["If-Match"] = []string{"*"}
		h["Content-Type"] = []string{"application/json"}
		patch = append(patch, loadplan.Target{Method: http.MethodPatch, URL: e.base + "/v1/customers/" + id.String(), Header: h,
			Body: []byte(fmt.Sprintf(`{"notes":"load %d"}`, i))})
	}
	search := func(token string) []loadplan.Target {
		var ts []loadplan.Target
		for _, term := range demodata.SearchTerms {
			ts = append(ts, loadplan.Target{Method: http.MethodGet, URL: e.base + "/v1/customers?sort=-balance&limit=50&q=" + url.QueryEscape(term),
				Header: e.bearer(token)})
		}
		return ts
	}
	create := make([]loadplan.Target, 0, 1000)
	prefix := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i := 0; i < 1000; i++ {
		h := e.bearer(e.adminToken)
		h["Content-Type"] = []string{"application/json"}
		create = append(create, loadplan.Target{Method: http.MethodPost, URL: e.base + "/v1/customers", Header: h,
			Body: []byte(fmt.Sprintf(`{"name":"Load %s %d"}`, prefix, i))})
	}
	var created atomic.Int64
	kinds := []kind{
		{"get", get, func() float64 {
			return e.raw(b, connections, "all", e.adminID, func(ctx context.Context, tx pgx.Tx, i int) error {
				rows, err := tx.Query(ctx, `SELECT * FROM customers WHERE tenant_id = $1 AND id = $2`, e.tenantID, e.ids[i%len(e.ids)])
				if err != nil {
					return err
				}
				return drain(rows)
			})
		}},
		{"list", []loadplan.Target{{Method: http.MethodGet, URL: e.base + "/v1/customers?limit=50", Header: e.bearer(e.adminToken)}}, func() float64 {
			return e.raw(b, connections, "all", e.adminID, func(ctx context.Context, tx pgx.Tx, _ int) error {
				rows, err := tx.Query(ctx, `SELECT * FROM customers WHERE tenant_id = $1 AND status = 'active' ORDER BY name, id LIMIT 51`, e.tenantID)
				if err != nil {
					return err
				}
				return drain(rows)
			})
		}},
		{"search_admin", search(e.adminToken), func() float64 {
			return e.rawOn(b, e.trusted, connections, "all", e.adminID, func(ctx context.Context, tx pgx.Tx, i int) error {
				term := demodata.SearchTerms[i%len(demodata.SearchTerms)]
				// Planned for its pattern (the unnamed statement): a
				// generic plan cannot see how common the text is.
				rows, err := tx.Query(ctx, `SELECT * FROM customers WHERE tenant_id = $1 AND status = 'active' AND search_text LIKE $2
					ORDER BY balance DESC, id DESC LIMIT 51`, pgx.QueryExecModeCacheDescribe, e.tenantID, "%"+term+"%")
				if err != nil {
					return err
				}
				return drain(rows)
			})
		}},
		{"search_rep", search(e.repToken), func() float64 {
			return e.rawOn(b, e.trusted, connections, "assigned", e.repID, func(ctx context.Context, tx pgx.Tx, i int) error {
				term := demodata.SearchTerms[i%len(demodata.SearchTerms)]
				rows, err := tx.Query(ctx, `SELECT * FROM customers WHERE tenant_id = $1 AND status = 'active' AND search_text LIKE $2
					AND sales_rep_id = $3 ORDER BY balance DESC, id DESC LIMIT 51`, pgx.QueryExecModeCacheDescribe, e.tenantID, "%"+term+"%", e.repID)
				if err != nil {
					return err
				}
				return drain(rows)
			})
		}},
		{"create", create, func() float64 {
			return e.raw(b, connections, "all", e.adminID, func(ctx context.Context, tx pgx.Tx, _ int) error {
				id := uuid.Must(uuid.NewV7())
				n := created.Add(1)
				if _, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, code, name, kind, type, status, custom, reach)
					VALUES ($1, $2, $3, $4, 'customer', 'company', 'active', '{}', ARRAY[$2::uuid])`,
					e.tenantID, id, fmt.Sprintf("RAW-%s-%d", prefix, n), fmt.Sprintf("Raw %s %d", prefix, n)); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `SELECT audit_record($1, now(), $2, 'create', 'customer', $3, $4, NULL, $3)`,
					uuid.Must(uuid.NewV7()), e.adminID, id, fmt.Sprintf(`{"name":{"new":"Raw %d"}}`, n))
				return err
			})
		}},
		{"patch", patch, func() float64 {
			return e.raw(b, connections, "all", e.adminID, func(ctx context.Context, tx pgx.Tx, i int) error {
				id := e.ids[rand.IntN(len(e.ids))]
				if _, err := tx.Exec(ctx, `UPDATE customers SET notes = $3, version = version + 1, updated_at = now()
					WHERE tenant_id = $1 AND id = $2`, e.tenantID, id, fmt.Sprintf("raw %d", i)); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `SELECT audit_record($1, now(), $2, 'update', 'customer', $3, $4, NULL, $3)`,
					uuid.Must(uuid.NewV7()), e.adminID, id, fmt.Sprintf(`{"notes":{"new":"raw %d"}}`, i))
				return err
			})
		}},
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-13s %10s %10s %8s %10s %7s\n", "request", "api/s", "raw/s", "api÷raw", "api p95ms", "errors")
	for _, k := range kinds {
		api := e.load(b, connections, k.targets)
		raw := k.raw()
		errs := api.Requests - uint64(float64(api.Requests)*api.Success+0.5)
		ratio := api.Throughput / raw
		fmt.Fprintf(&table, "%-13s %10.0f %10.0f %8.2f %10.1f %7d\n", k.name, api.Throughput, raw, ratio, api.P95, errs)
		b.ReportMetric(ratio, k.name+"_vs_raw")
		b.ReportMetric(api.Throughput, k.name+"_api/s")
		if errs > 0 {
			b.Errorf("%s: %d of %d requests failed: %v %v", k.name, errs, api.Requests, api.StatusCodes, api.Errors)
		}
	}
	one := e.load(b, 1, search(e.adminToken))
	fmt.Fprintf(&table, "search_admin at one connection: p50 %.1f ms, p95 %.1f ms\n", one.P50, one.P95)
	b.ReportMetric(one.P95, "search_admin_1conn_p95_ms")
	fmt.Fprint(os.Stderr, table.String())
}

// peakRSS reads a process's peak resident set size (VmHWM) in bytes.
func peakRSS(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
