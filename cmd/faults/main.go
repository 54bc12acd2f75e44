// Command faults strikes a running customerhub with the faults a hosted
// service meets and checks, by code, that it keeps its promises (make
// faults, issue 14).
//
// It starts a private PostgreSQL and Redis (temporary directories, their
// own loopback ports: stopping them disturbs nothing else on the
// machine), makes a database there with the binary's db-init, migrate
// and demo subcommands (a tenant of -customers customers), and runs each
// scenario against `customerhub api` and `customerhub worker` processes
// it starts itself, with load from goroutines of its own that send to
// loopback addresses only and stop by themselves:
//
//   - pg-restart: PostgreSQL stopped (immediate, as a crash) and started
//     again under mixed load while a bulk update and an import run;
//   - redis-stop: Redis killed and started again under load above the
//     tenant's rate limit;
//   - worker-kill: a worker killed with SIGKILL in the middle of an
//     import, a bulk update, a merge and a dormant sweep, then another
//     started;
//   - pool-exhausted: every pooled connection held by statements waiting
//     on a lock;
//   - sigterm: an api and a worker process stopped with SIGTERM under load
//     and in the middle of a bulk update, with a second of each serving;
//   - cluster: two api and two worker processes behind make run-cluster's
//     front: shared rate limits, jobs spread, periodic jobs once;
//   - sms-kill: a worker killed with SIGKILL in the middle of an SMS
//     campaign, with calls to Twilio under way, then another started;
//   - twilio-faults: Twilio answering 500, 429, past the caller's timeout,
//     slowly, or dropping the connection after accepting the message, for
//     a minute while a campaign sends.
//
// The SMS scenarios send to a Twilio stand-in (internal/twiliostandin)
// this command serves itself on a loopback port, and count what it got.
//
// Each scenario states its invariants and checks them; a violation is
// printed and makes the command exit non-zero. At the end it prints a
// table: scenario, checks passed, what the load saw.
//
// Flags: -bin (the customerhub binary, make build), -only (a comma list of
// scenarios), -customers, -twilio-faults-for (how long twilio-faults
// strikes). The processes' logs and the servers' directories
// are kept when a scenario fails (the path is printed).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.Exit(1)
	}
}

// scenario is one fault and its invariants.
type scenario struct {
	name string
	what string
	run  func(ctx context.Context, e *env, c *checks) error
}

var scenarios = []scenario{
	{"pg-restart", "PostgreSQL down 5 s under load, bulk update and import running", pgRestart},
	{"redis-stop", "Redis down 10 s under load above the tenant's rate limit", redisStop},
	{"worker-kill", "worker SIGKILLed mid import, bulk update, merge and dormant sweep", workerKill},
	{"pool-exhausted", "every pooled connection waiting on a lock for 8 s", poolExhausted},
	{"sigterm", "api and worker SIGTERMed under load and mid bulk update", sigterm},
	{"sms-kill", "worker SIGKILLed mid SMS campaign, calls to Twilio under way", smsKill},
	{"twilio-faults", "Twilio answering 500, 429, late, slowly or not at all while a campaign sends", twilioFaults},
	{"cluster", "2 api and 2 worker processes behind the round-robin front", cluster},
}

// checks collects a scenario's invariants and what it measured.
type checks struct {
	passed  []string
	failed  []string
	figures []string
}

// expect records the invariant name as passed when ok, else as failed
// with the detail.
func (c *checks) expect(ok bool, name string, detail string, args ...any) {
	if ok {
		c.passed = append(c.passed, name)
		return
	}
	c.failed = append(c.failed, name+": "+fmt.Sprintf(detail, args...))
}

func (c *checks) figure(format string, args ...any) {
	c.figures = append(c.figures, fmt.Sprintf(format, args...))
}

func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	fs := flag.NewFlagSet("faults", flag.ContinueOnError)
	bin := fs.String("bin", "bin/customerhub", "the customerhub binary (make build)")
	only := fs.String("only", "", "comma-separated scenarios to run (default: all)")
	customers := fs.Int("customers", 5000, "customers of the demo tenant")
	faultsFor := fs.Duration("twilio-faults-for", time.Minute, "how long twilio-faults strikes a campaign")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var chosen []scenario
	for _, s := range scenarios {
		if *only == "" || slices.Contains(strings.Split(*only, ","), s.name) {
			chosen = append(chosen, s)
		}
	}
	if len(chosen) == 0 {
		return fmt.Errorf("-only %q names no scenario", *only)
	}
	if *bin, err = filepath.Abs(*bin); err != nil {
		return err
	}

	tmp, err := os.MkdirTemp("", "faults-")
	if err != nil {
		return err
	}
	e, err := newEnv(ctx, *bin, tmp, *customers)
	if e != nil {
		defer e.close()
	}
	if err != nil {
		return fmt.Errorf("set-up (logs in %s): %w", tmp, err)
	}
	e.twilioFaultsFor = *faultsFor
	fmt.Fprintf(stdout, "faults: PostgreSQL on port %d, Redis on port %d, logs in %s\n", e.pg.Port, e.redis.Port, tmp)

	type row struct {
		s       scenario
		c       *checks
		err     error
		elapsed time.Duration
	}
	var rows []row
	failed := false
	for _, s := range chosen {
		fmt.Fprintf(stdout, "== %s: %s\n", s.name, s.what)
		c := &checks{}
		start := time.Now()
		err := s.run(ctx, e, c)
		e.sys.Stop()
		// A scenario that stopped a server leaves it running for the next.
		if err == nil {
			err = e.ensureServers(ctx)
		}
		r := row{s: s, c: c, err: err, elapsed: time.Since(start)}
		rows = append(rows, r)
		for _, f := range c.figures {
			fmt.Fprintf(stdout, "   %s\n", f)
		}
		for _, f := range c.failed {
			fmt.Fprintf(stdout, "   VIOLATED %s\n", f)
		}
		if err != nil {
			fmt.Fprintf(stdout, "   ERROR %v\n", err)
		}
		if err != nil || len(c.failed) > 0 {
			failed = true
		}
		if ctx.Err() != nil {
			break
		}
	}

	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tinvariants\tresult\ttime")
	for _, r := range rows {
		result := "ok"
		switch {
		case r.err != nil:
			result = "error"
		case len(r.c.failed) > 0:
			result = fmt.Sprintf("%d violated", len(r.c.failed))
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%s\t%s\n", r.s.name, len(r.c.passed), len(r.c.passed)+len(r.c.failed), result, r.elapsed.Round(time.Second))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if failed {
		e.keep = true
		return errors.New("invariants violated (logs kept in " + tmp + ")")
	}
	return nil
}
