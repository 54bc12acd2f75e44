// Command customerhub is the one binary of the service. Subcommands:
//
//	serve    HTTP API and River workers in one process (default)
//	api      HTTP API only; inserts jobs but works none
//	worker   River workers only
//	migrate  apply the application's and River's migrations (owner role)
//	db-init  create the roles and the database (superuser; local set-up)
//	demo     create a demo tenant with users and customers; print tokens
//	tenant   operator commands: tenant create | suspend | activate
//	citus    operator commands for Citus: citus plan | distribute
//	secrets  operator commands: secrets rotate (SMS credentials, new key)
//	twilio-standin  a local Twilio stand-in for development
//	openapi  print the API's OpenAPI 3.1 description (what /v1/openapi.json serves)
//
// Configuration comes from environment variables (see README.md).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/customerhub/customerhub/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "customerhub:", err)
		os.Exit(1)
	}
}

const usage = `usage: customerhub <command> [flags]

commands:
  serve     HTTP API and River workers in one process
  api       HTTP API only (inserts jobs, works none)
  worker    River workers only
  migrate   apply application and River migrations (as MIGRATE_DATABASE_URL)
  db-init   create roles and database (as ADMIN_DATABASE_URL, a superuser)
  demo      create or refresh the demo tenant and print tokens;
            demo --customers N --tenants T [--small M] generates bulk data
  tenant    create | suspend | activate a tenant (operator)
  citus     plan | distribute: scale out on Citus (operator, after migrate)
  secrets   rotate: seal SMS credentials again under CUSTOMERHUB_SECRET_KEY
  twilio-standin [--addr 127.0.0.1:8089]: a local Twilio for development
  openapi   print the OpenAPI 3.1 description (needs no database)
`

func run(ctx context.Context, args []string, stdout io.Writer, stdin io.Reader) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	logger := newLogger(cfg, os.Stderr)
	switch cmd {
	case "serve":
		return runServer(ctx, cfg, logger, modeServe)
	case "api":
		return runServer(ctx, cfg, logger, modeAPI)
	case "worker":
		return runServer(ctx, cfg, logger, modeWorker)
	case "migrate":
		return runMigrate(ctx, cfg, logger, args)
	case "db-init":
		return runDBInit(ctx, logger)
	case "demo":
		return runDemo(ctx, cfg, logger, args, stdout)
	case "tenant":
		return runTenant(ctx, cfg, logger, args, stdout, stdin)
	case "citus":
		return runCitus(ctx, cfg, logger, args, stdout)
	case "secrets":
		return runSecrets(ctx, cfg, logger, args, stdout)
	case "openapi":
		return runOpenAPI(cfg, logger, stdout)
	case "twilio-standin":
		return runTwilioStandin(ctx, cfg, logger, args, stdout)
	}
	return errors.New("unknown command " + fmt.Sprintf("%q", cmd) + "\n" + usage)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
