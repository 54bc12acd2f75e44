package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/config"
	"github.com/customerhub/customerhub/internal/database"
)

const citusUsage = `usage: customerhub citus plan|distribute [--database-url URL]

  plan        print the order in which distribute makes reference tables and
              distributes tenant tables (works on plain PostgreSQL)
  distribute  make the global tables reference tables and distribute every
              tenant table by tenant_id, colocated; set the role settings
              Citus needs (run after migrate, as a superuser)

--database-url defaults to MIGRATE_DATABASE_URL.`

// runCitus holds the operator's commands for scaling out on Citus.
func runCitus(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("missing citus command\n%s", citusUsage)
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("citus "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	url := fs.String("database-url", cfg.MigrateDatabaseURL, "owner or superuser URL of the application database")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w\n%s", err, citusUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q\n%s", fs.Args(), citusUsage)
	}
	var plan database.CitusPlan
	switch sub {
	case "plan":
		conn, err := pgx.Connect(ctx, *url)
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		defer conn.Close(context.WithoutCancel(ctx))
		if plan, err = database.PlanCitus(ctx, conn); err != nil {
			return err
		}
	case "distribute":
		var err error
		if plan, err = database.DistributeCitus(ctx, *url, logger); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown citus command %q\n%s", sub, citusUsage)
	}
	fmt.Fprintf(stdout, "reference tables, in order: %s\n", strings.Join(plan.Reference, ", "))
	fmt.Fprintf(stdout, "distributed by tenant_id, colocated, in order: %s\n", strings.Join(plan.Distributed, ", "))
	if len(plan.Deferred) > 0 {
		keys := make([]string, 0, len(plan.Deferred))
		for _, k := range plan.Deferred {
			keys = append(keys, k.Table+"."+k.Constraint)
		}
		fmt.Fprintf(stdout, "foreign keys closing a cycle, dropped while distributing and added back: %s\n", strings.Join(keys, ", "))
	}
	return nil
}
