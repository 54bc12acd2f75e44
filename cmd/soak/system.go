package main

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

// system is the service under test: its own database and the api and
// worker processes on loopback ports.
type system struct {
	bin      string // the customerhub binary
	adminURL string
	dbName   string
	env      []string // the environment every customerhub command gets
	logDir   string

	base       string // the API's base URL
	apiMetrics string // metrics URLs
	wrkMetrics string
	api        *proc
	worker     *proc

	adminToken string // kept in memory only, never printed
}

// newSystem names a fresh database for this run (soak_ and the time) and
// the environment of the commands that make and serve it: the owner and
// application roles on the admin URL's server, as `make run` uses them.
func newSystem(bin, adminURL, redisURL, logDir string) (*system, error) {
	u, err := url.Parse(adminURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("ADMIN_DATABASE_URL: not a postgres URL")
	}
	s := &system{bin: bin, adminURL: adminURL, logDir: logDir,
		dbName: "soak_" + time.Now().UTC().Format("20060102_150405")}
	roleURL := func(role string) string {
		r := *u
		r.User, r.Path = url.User(role), "/"+s.dbName
		q := r.Query()
		if q.Get("sslmode") == "" {
			q.Set("sslmode", "disable")
		}
		r.RawQuery = q.Encode()
		return r.String()
	}
	apiAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s.base = "http://" + apiAddr
	s.env = append(os.Environ(),
		"ADMIN_DATABASE_URL="+adminURL,
		"MIGRATE_DATABASE_URL="+roleURL("customerhub_owner"),
		"DATABASE_URL="+roleURL("customerhub_app"),
		"REDIS_URL="+redisURL,
		"CUSTOMERHUB_LISTEN_ADDR="+apiAddr,
		"CUSTOMERHUB_PUBLIC_BASE_URL="+s.base,
		"CUSTOMERHUB_LOG_LEVEL=warn",
		"CUSTOMERHUB_MIGRATE_ON_START=false",
		// Limits far above what the machine serves: the soak looks for
		// leaks under load, not for refusals.
		"CUSTOMERHUB_RATE_LIMIT_TENANT=1000000", "CUSTOMERHUB_RATE_LIMIT_IP=1000000",
		// Every export is a job, so that the worker has export work too.
		"CUSTOMERHUB_EXPORT_SYNC_MAX=0",
		// No SMS in a soak: neither Twilio nor its stand-in.
		"CUSTOMERHUB_TWILIO_STANDIN_ADDR=",
	)
	return s, nil
}

// create makes the database and its data the way `make run` does, with
// the binary's own subcommands: db-init, migrate, then demo (its bulk form,
// a bench-000 tenant of n customers, so that bulk updates and exports have
// rows to work on). demo prints tokens: its output is read here and never
// shown.
func (s *system) create(ctx context.Context, customers int) error {
	for _, args := range [][]string{{"db-init"}, {"migrate"}} {
		if _, err := s.command(ctx, args...); err != nil {
			return err
		}
	}
	out, err := s.command(ctx, "demo", "--customers", fmt.Sprint(customers), "--tenants", "1")
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if _, tok, ok := strings.Cut(sc.Text(), " admin token: "); ok {
			s.adminToken = strings.TrimSpace(tok)
		}
	}
	if s.adminToken == "" {
		return errors.New("customerhub demo printed no admin token")
	}
	return nil
}

// command runs one customerhub subcommand to completion and answers its
// standard output. On failure only its standard error is shown: the output
// of demo holds tokens.
func (s *system) command(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = s.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("customerhub %s: %w\n%s", args[0], err, errOut.String())
	}
	return out.Bytes(), nil
}

// start runs `customerhub api` and `customerhub worker`, each with its own
// metrics listener and its log in logDir, and waits until the API answers
// /readyz and the worker its metrics.
func (s *system) start(ctx context.Context) error {
	var err error
	if s.api, s.apiMetrics, err = s.serve("api"); err != nil {
		return err
	}
	if s.worker, s.wrkMetrics, err = s.serve("worker"); err != nil {
		return err
	}
	if err := waitOK(ctx, s.base+"/readyz", s.api); err != nil {
		return fmt.Errorf("customerhub api (log in %s): %w", s.logDir, err)
	}
	if err := waitOK(ctx, s.wrkMetrics, s.worker); err != nil {
		return fmt.Errorf("customerhub worker (log in %s): %w", s.logDir, err)
	}
	return nil
}

// proc is a running child process; done is closed when it has exited.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// PID is the process's id.
func (p *proc) PID() int { return p.cmd.Process.Pid }

func (s *system) serve(mode string) (*proc, string, error) {
	metrics, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	log, err := os.Create(s.logDir + "/" + mode + ".log")
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(s.bin, mode)
	cmd.Env = append(append([]string(nil), s.env...), "CUSTOMERHUB_METRICS_ADDR="+metrics)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, "", fmt.Errorf("start customerhub %s: %w", mode, err)
	}
	// The child holds its own copy of the file.
	log.Close()
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, "http://" + metrics + "/metrics", nil
}

// stop sends SIGTERM to both processes (a graceful shutdown, as in
// production) and waits for them, killing one that takes longer than
// 45 s.
func (s *system) stop() {
	for _, p := range []*proc{s.api, s.worker} {
		if p != nil {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, p := range []*proc{s.api, s.worker} {
		if p == nil {
			continue
		}
		select {
		case <-p.done:
		case <-time.After(45 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}

// drop removes the run's database (WITH (FORCE): a process that did not
// stop must not keep it).
func (s *system) drop(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.adminURL)
	if err != nil {
		return fmt.Errorf("connect as admin: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// The name is the one newSystem made (soak_ and digits), quoted as an
	// identifier.
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{s.dbName}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", s.dbName, err)
	}
	return nil
}

// waitOK polls url until it answers 200, for up to a minute, and fails at
// once when the process exits.
func waitOK(ctx context.Context, url string, p *proc) error {
	deadline := time.Now().Add(time.Minute)
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
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer 200 within a minute: %v", url, err)
		}
		select {
		case <-p.done:
			return fmt.Errorf("the process exited: %v", p.cmd.ProcessState)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// freeAddr answers a loopback address with a free port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
