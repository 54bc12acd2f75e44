package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/customerhub/customerhub/internal/config"
	"github.com/customerhub/customerhub/internal/database"
)

func runMigrate(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("migrate takes no arguments")
	}
	return database.Migrate(ctx, cfg.MigrateDatabaseURL, logger)
}

// runDBInit creates the roles and the database named in
// MIGRATE_DATABASE_URL (owned by that URL's user), connecting as the
// superuser in ADMIN_DATABASE_URL. For local and CI set-up; a managed
// database is prepared the same way by its operator.
func runDBInit(ctx context.Context, logger *slog.Logger) error {
	admin, ok := os.LookupEnv("ADMIN_DATABASE_URL")
	if !ok || strings.TrimSpace(admin) == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return err
	}
	u, err := url.Parse(cfg.MigrateDatabaseURL)
	if err != nil || u.User == nil {
		return fmt.Errorf("MIGRATE_DATABASE_URL: needs a user and a database name")
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	owner := u.User.Username()
	if err := database.Bootstrap(ctx, admin, dbName, owner); err != nil {
		return err
	}
	logger.Info("database ready", "database", dbName, "owner", owner, "app_role", database.AppRole)
	return nil
}
