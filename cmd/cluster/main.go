// Command cluster runs customerhub as a small cluster on one machine
// (make run-cluster): -apis `customerhub api` and -workers `customerhub
// worker` processes on the one database the environment names (as make
// run uses it), behind a round-robin front (internal/harness.Front) on
// CUSTOMERHUB_LISTEN_ADDR (default 127.0.0.1:8080). Every process gets a
// loopback listen and metrics address of its own and its log in -logs.
// When CUSTOMERHUB_TWILIO_STANDIN_ADDR is set, the first worker alone
// runs the Twilio stand-in there.
//
// It runs until interrupted (Ctrl-C, SIGTERM), then stops every process
// with SIGTERM, as an orchestrator would; it stops too, non-zero, when a
// process exits by itself.
//
// What the cluster guarantees (jobs spread over the workers, periodic
// jobs once per period, rate limits shared across the api processes, the
// SMS rate across workers) is checked by code in make faults (scenario
// cluster).
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
	"syscall"
	"text/tabwriter"

	"github.com/customerhub/customerhub/internal/harness"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	bin := fs.String("bin", "bin/customerhub", "the customerhub binary (make build)")
	apis := fs.Int("apis", 2, "api processes")
	workers := fs.Int("workers", 2, "worker processes")
	logs := fs.String("logs", "bin/cluster-logs", "directory for the processes' logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *apis < 1 || *workers < 1 {
		return errors.New("-apis and -workers must be at least 1")
	}
	if *bin, err = filepath.Abs(*bin); err != nil {
		return err
	}
	if err := os.MkdirAll(*logs, 0o755); err != nil {
		return err
	}
	listen := os.Getenv("CUSTOMERHUB_LISTEN_ADDR")
	if listen == "" {
		listen = "127.0.0.1:8080"
	}
	standin := os.Getenv("CUSTOMERHUB_TWILIO_STANDIN_ADDR")
	ps := &harness.Processes{Bin: *bin, LogDir: *logs, Env: append(os.Environ(),
		// The front is the clients' address: links and webhook URLs name
		// it, and the API believes the client address it forwards.
		"CUSTOMERHUB_PUBLIC_BASE_URL=http://"+listen,
		"CUSTOMERHUB_TRUSTED_PROXIES=127.0.0.1/32",
		"CUSTOMERHUB_MIGRATE_ON_START=false",
		"CUSTOMERHUB_TWILIO_STANDIN_ADDR=",
	)}
	defer ps.Stop()

	var procs []*harness.Proc
	var bases []string
	for i := 1; i <= *apis; i++ {
		p, err := ps.Start(ctx, fmt.Sprintf("api-%d", i), "api", "CUSTOMERHUB_PUBLIC_BASE_URL=http://"+listen)
		if err != nil {
			return err
		}
		procs, bases = append(procs, p), append(bases, p.Base)
	}
	for i := 1; i <= *workers; i++ {
		var env []string
		if i == 1 && standin != "" {
			env = append(env, "CUSTOMERHUB_TWILIO_STANDIN_ADDR="+standin)
		}
		p, err := ps.Start(ctx, fmt.Sprintf("worker-%d", i), "worker", env...)
		if err != nil {
			return err
		}
		procs = append(procs, p)
	}
	front, err := harness.StartFront(listen, bases)
	if err != nil {
		return fmt.Errorf("front on %s: %w", listen, err)
	}
	defer front.Close()

	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "process\tpid\tserves\tmetrics\tlog\n")
	fmt.Fprintf(tw, "front\t%d\t%s\t\t\n", os.Getpid(), front.URL)
	for _, p := range procs {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", p.Name, p.PID(), p.Base, p.Metrics, filepath.Join(*logs, p.Name+".log"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\ncustomerhub cluster on %s (Ctrl-C stops it)\n", front.URL)

	exited := make(chan *harness.Proc, len(procs))
	for _, p := range procs {
		go func() { <-p.Done(); exited <- p }()
	}
	select {
	case <-ctx.Done():
		fmt.Fprintln(stdout, "stopping the cluster")
		return nil
	case p := <-exited:
		code, _ := p.ExitCode()
		return fmt.Errorf("%s exited by itself (code %d); log in %s", p.Name, code, filepath.Join(*logs, p.Name+".log"))
	}
}
