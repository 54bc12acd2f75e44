// Command soak runs customerhub under mixed load for a long time and checks
// that it does not leak (make soak, issue 14).
//
// It creates a database of its own (soak_<time>) with the binary's db-init,
// migrate and demo subcommands, as make run does, starts `customerhub api`
// and `customerhub worker` on loopback ports, and for -duration drives
// them with cmd/loadgen in rounds of 10 s (customer gets, lists, searches,
// creates with an Idempotency-Key, patches with If-Match: *) while a bulk
// update of 300 customers and an export run as jobs every 30 s. Every 10 s
// it samples both processes' RSS and goroutines, the database's
// connections and table sizes, and the requests and errors so far, into
// bench/soak.csv; at the end it draws bench/soak.svg, prints a short table
// and drops the database (SOAK_KEEP_DB=1 keeps it).
//
// It exits non-zero on any violation: a 5xx answer or a transport error; a
// job that did not succeed; RSS or goroutines of either process whose mean
// over the last third of the run after warm-up (the first 20 %, at least
// 60 s) exceeds their mean over the first third by more than 10 %.
//
// Environment: ADMIN_DATABASE_URL (a superuser; default
// postgres://postgres@127.0.0.1:5432/postgres), REDIS_URL (default
// redis://127.0.0.1:6379/7, a Redis database of its own), SOAK_DURATION
// (the -duration default), SOAK_KEEP_DB.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/harness"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	duration  time.Duration
	bin       string
	out       string
	customers int
	workers   int
	keepDB    bool
}

func parseOptions(args []string) (options, error) {
	def := 10 * time.Minute
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return options{}, fmt.Errorf("SOAK_DURATION: %w", err)
		}
		def = d
	}
	var o options
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.DurationVar(&o.duration, "duration", def, "how long to drive load (SOAK_DURATION)")
	fs.StringVar(&o.bin, "bin", "bin/customerhub", "the customerhub binary (make build)")
	fs.StringVar(&o.out, "out", "bench", "directory for soak.csv and soak.svg")
	fs.IntVar(&o.customers, "customers", 5000, "customers demo generates before the load")
	fs.IntVar(&o.workers, "workers", 4, "loadgen connections")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if o.duration < time.Second {
		return options{}, errors.New("-duration must be at least 1s")
	}
	o.keepDB = os.Getenv("SOAK_KEEP_DB") == "1"
	return o, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	o, err := parseOptions(args)
	if err != nil {
		return err
	}
	if o.bin, err = filepath.Abs(o.bin); err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	// The loadgen binary and the processes' logs; kept when the run
	// fails, to read.
	tmp, err := os.MkdirTemp("", "soak-")
	if err != nil {
		return err
	}
	defer func() {
		if err == nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	loadgen := filepath.Join(tmp, "loadgen")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", loadgen, "github.com/customerhub/customerhub/cmd/loadgen").CombinedOutput(); err != nil {
		return fmt.Errorf("go build cmd/loadgen: %w\n%s", err, out)
	}

	adminURL := envOr("ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	sys, err := harness.NewSystem(o.bin, adminURL, envOr("REDIS_URL", "redis://127.0.0.1:6379/7"), tmp, "soak",
		// Limits far above what the machine serves: the soak looks for
		// leaks under load, not for refusals.
		"CUSTOMERHUB_RATE_LIMIT_TENANT=1000000", "CUSTOMERHUB_RATE_LIMIT_IP=1000000",
		// Every export is a job, so that the worker has export work too.
		"CUSTOMERHUB_EXPORT_SYNC_MAX=0",
		// No SMS in a soak: neither Twilio nor its stand-in.
		"CUSTOMERHUB_TWILIO_STANDIN_ADDR=",
	)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "soak: database %s, logs in %s (kept if the run fails)\n", sys.DBName, tmp)
	defer func() {
		sys.Stop()
		if o.keepDB {
			fmt.Fprintf(stdout, "soak: kept database %s (SOAK_KEEP_DB=1)\n", sys.DBName)
			return
		}
		if dropErr := sys.Drop(context.WithoutCancel(ctx)); dropErr != nil {
			err = errors.Join(err, dropErr)
		}
	}()
	if err := sys.Create(ctx, o.customers); err != nil {
		return err
	}
	api, err := sys.Start(ctx, "api", "api")
	if err != nil {
		return err
	}
	worker, err := sys.Start(ctx, "worker", "worker")
	if err != nil {
		return err
	}

	// The superuser's connection to the soak database, for the samples and
	// the customers to load (all of one tenant: outside row-level security
	// is fine for a measuring tool).
	conn, err := pgx.Connect(ctx, sys.SuperURL())
	if err != nil {
		return fmt.Errorf("connect to %s: %w", sys.DBName, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT id FROM customers ORDER BY id LIMIT 2000`)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil || len(ids) == 0 {
		return fmt.Errorf("customers to load: %v (%d)", err, len(ids))
	}

	t := &tally{}
	d := &driver{base: api.Base, token: sys.AdminToken, loadgen: loadgen, workers: o.workers, ids: ids, tally: t,
		client: &http.Client{Timeout: time.Minute}}
	samples, err := soak(ctx, o, api, worker, conn, d, stdout)
	if err != nil {
		return err
	}
	return finish(o, samples, t, stdout)
}
