package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/config"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/server"
)

// runTenant holds the operator's tenant commands; they work when public
// signup is switched off.
func runTenant(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer, stdin io.Reader) error {
	if len(args) == 0 {
		return errors.New("usage: customerhub tenant create|suspend|activate [flags]")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("tenant "+sub, flag.ContinueOnError)
	company := fs.String("company", "", "company name (create)")
	slug := fs.String("slug", "", "tenant slug")
	email := fs.String("email", "", "first admin's e-mail (create)")
	name := fs.String("name", "", "first admin's name (create)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pool, err := database.Open(ctx, cfg.DatabaseURL, database.PoolOptions{MaxConns: 2, ApplicationName: "customerhub-tenant"})
	if err != nil {
		return err
	}
	defer pool.Close()

	switch sub {
	case "create":
		// The password comes from the environment or the first line of
		// stdin, never from a flag (flags show in the process list).
		password := os.Getenv("CUSTOMERHUB_TENANT_PASSWORD")
		if password == "" {
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("read password from stdin: %w", err)
			}
			password = strings.TrimRight(line, "\r\n")
		}
		in := auth.SignupInput{Company: *company, Slug: *slug, Email: *email, Name: *name, Password: password}
		if err := in.Validate(); err != nil {
			return err
		}
		res, err := server.NewAuthService(cfg, pool, logger).CreateTenant(ctx, in)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s (%s) created\nadmin %s token: %s\n", res.Tenant.Slug, res.Tenant.ID, res.User.Email, res.Token)
		return nil
	case "suspend", "activate":
		status := map[string]string{"suspend": "suspended", "activate": "active"}[sub]
		q := dbsqlc.New()
		t, err := q.TenantGetBySlug(ctx, pool, *slug)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("no tenant with slug %q", *slug)
		}
		if err != nil {
			return err
		}
		if _, err := q.TenantSetStatus(ctx, pool, dbsqlc.TenantSetStatusParams{ID: t.ID, Status: status}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s is %s\n", t.Slug, status)
		return nil
	}
	return fmt.Errorf("unknown tenant command %q", sub)
}
