// Package harness runs customerhub as an operator would, for the commands
// that test it from outside (cmd/soak, cmd/faults): a database of its own
// made with the binary's db-init, migrate and demo subcommands, `api` and
// `worker` processes on loopback ports, and, for the fault runs, a private
// PostgreSQL and Redis that can be stopped and restarted without
// disturbing anything else on the machine (Postgres, Redis).
package harness

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Processes starts and stops customerhub processes: Bin with Env (each
// process gets its own additions), logs in LogDir.
type Processes struct {
	Bin    string
	Env    []string
	LogDir string
	procs  []*Proc
}

// System is the service under test: its own database and the processes
// serving it.
type System struct {
	Processes
	adminURL   string
	DBName     string
	AdminToken string // kept in memory only, never printed
}

// NewSystem names a fresh database for this run (prefix, then the time)
// and the environment of the commands that make and serve it: the owner
// and application roles on the admin URL's server, as `make run` uses
// them, the given Redis, logs at warn, and env last (so it overrides).
func NewSystem(bin, adminURL, redisURL, logDir, prefix string, env ...string) (*System, error) {
	u, err := url.Parse(adminURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("admin database URL: not a postgres URL")
	}
	s := &System{Processes: Processes{Bin: bin, LogDir: logDir}, adminURL: adminURL,
		DBName: prefix + "_" + time.Now().UTC().Format("20060102_150405")}
	s.Env = append(os.Environ(),
		"ADMIN_DATABASE_URL="+adminURL,
		"MIGRATE_DATABASE_URL="+s.RoleURL("customerhub_owner"),
		"DATABASE_URL="+s.RoleURL("customerhub_app"),
		"REDIS_URL="+redisURL,
		"CUSTOMERHUB_LOG_LEVEL=warn",
		"CUSTOMERHUB_MIGRATE_ON_START=false",
	)
	s.Env = append(s.Env, env...)
	return s, nil
}

// RoleURL answers the URL of the run's database as role (trust
// authentication, as the local set-up has).
func (s *System) RoleURL(role string) string {
	u, _ := url.Parse(s.adminURL)
	u.User, u.Path = url.User(role), "/"+s.DBName
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// SuperURL answers the admin URL with the run's database.
func (s *System) SuperURL() string {
	u, _ := url.Parse(s.adminURL)
	u.Path = "/" + s.DBName
	return u.String()
}

// Create makes the database and its data the way `make run` does, with
// the binary's own subcommands: db-init, migrate, then demo (its bulk
// form: a bench-000 tenant of customers, so that bulk updates and exports
// have rows to work on). demo prints tokens: its output is read here and
// never shown.
func (s *System) Create(ctx context.Context, customers int) error {
	for _, args := range [][]string{{"db-init"}, {"migrate"}} {
		if _, err := s.Command(ctx, args...); err != nil {
			return err
		}
	}
	out, err := s.Command(ctx, "demo", "--customers", fmt.Sprint(customers), "--tenants", "1")
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if _, tok, ok := strings.Cut(sc.Text(), " admin token: "); ok {
			s.AdminToken = strings.TrimSpace(tok)
		}
	}
	if s.AdminToken == "" {
		return errors.New("customerhub demo printed no admin token")
	}
	return nil
}

// Command runs one customerhub subcommand to completion and answers its
// standard output. On failure only its standard error is shown: the
// output of demo holds tokens.
func (s *System) Command(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.Bin, args...)
	cmd.Env = s.Env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("customerhub %s: %w\n%s", args[0], err, errOut.String())
	}
	return out.Bytes(), nil
}

// Proc is a running customerhub process.
type Proc struct {
	Name    string // unique within the system: the log's name
	Mode    string // api, worker, serve
	Base    string // the API's base URL (api and serve)
	Metrics string // its metrics URL
	cmd     *exec.Cmd
	done    chan struct{}
}

// PID is the process's id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Signal sends sig to the process.
func (p *Proc) Signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// Kill ends the process with SIGKILL, as a crash or the OOM killer
// would, and waits for it.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Start runs `customerhub mode` as name (its log is LogDir/name.log) with
// env added to the system's, on a loopback listen address of its own and
// its own metrics listener, and waits until it is ready: /readyz for a
// process that serves the API, its metrics for a worker.
func (s *Processes) Start(ctx context.Context, name, mode string, env ...string) (*Proc, error) {
	metrics, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	listen, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	log, err := os.OpenFile(s.LogDir+"/"+name+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(s.Bin, mode)
	cmd.Env = append(append(append([]string(nil), s.Env...),
		"CUSTOMERHUB_METRICS_ADDR="+metrics,
		"CUSTOMERHUB_LISTEN_ADDR="+listen,
		"CUSTOMERHUB_PUBLIC_BASE_URL=http://"+listen), env...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start customerhub %s: %w", mode, err)
	}
	// The child holds its own copy of the file.
	log.Close()
	p := &Proc{Name: name, Mode: mode, Metrics: "http://" + metrics + "/metrics", cmd: cmd, done: make(chan struct{})}
	if mode != "worker" {
		p.Base = "http://" + listen
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	s.procs = append(s.procs, p)
	ready := p.Metrics
	if p.Base != "" {
		ready = p.Base + "/readyz"
	}
	if err := WaitOK(ctx, ready, p.done, time.Minute); err != nil {
		return nil, fmt.Errorf("customerhub %s (log in %s/%s.log): %w", mode, s.LogDir, name, err)
	}
	return p, nil
}

// Stop sends SIGTERM to every process still running (a graceful
// shutdown, as in production) and waits for them, killing one that takes
// longer than 45 s.
func (s *Processes) Stop() {
	for _, p := range s.procs {
		_ = p.Signal(syscall.SIGTERM)
	}
	for _, p := range s.procs {
		select {
		case <-p.done:
		case <-time.After(45 * time.Second):
			p.Kill()
		}
	}
	s.procs = nil
}

// Drop removes the run's database (WITH (FORCE): a process that did not
// stop must not keep it).
func (s *System) Drop(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.adminURL)
	if err != nil {
		return fmt.Errorf("connect as admin: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// The name is the one NewSystem made (a fixed prefix and digits),
	// quoted as an identifier.
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{s.DBName}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", s.DBName, err)
	}
	return nil
}

// WaitOK polls url until it answers 200, for up to limit, and fails at
// once when exited is closed.
func WaitOK(ctx context.Context, url string, exited <-chan struct{}, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("answered %s", resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer 200 within %s: %v", url, limit, err)
		}
		select {
		case <-exited:
			return errors.New("the process exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// FreeAddr answers a loopback address with a free port.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// ExitCode answers the process's exit code once it has exited (-1 for a
// signal), and false while it runs.
func (p *Proc) ExitCode() (int, bool) {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), true
	default:
		return 0, false
	}
}
