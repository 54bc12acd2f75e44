package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/customerhub/customerhub/internal/config"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/merge"
	"github.com/customerhub/customerhub/internal/ratelimit"
	"github.com/customerhub/customerhub/internal/server"
	"github.com/customerhub/customerhub/workers"
)

type mode string

const (
	modeServe  mode = "serve"
	modeAPI    mode = "api"
	modeWorker mode = "worker"
)

func runServer(ctx context.Context, cfg config.Config, logger *slog.Logger, m mode) error {
	logger.Info("starting customerhub", "version", version, "mode", string(m), "config", cfg)
	// The merge's limits are the package's, set once here, before any
	// request or job runs (tests set them the same way).
	merge.Threshold, merge.BatchSize = cfg.MergeInlineMax, cfg.MergeBatch
	if cfg.MigrateOnStart {
		if err := database.Migrate(ctx, cfg.MigrateDatabaseURL, logger); err != nil {
			return err
		}
	}
	pool, err := database.Open(ctx, cfg.DatabaseURL, database.PoolOptions{
		MaxConns: cfg.DBMaxConns, StatementTimeout: cfg.StatementTimeout, ApplicationName: "customerhub-" + string(m),
	})
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := checkRole(ctx, pool); err != nil {
		return err
	}
	if err := database.CheckCurrent(ctx, pool); err != nil {
		return err
	}

	var rdb *redis.Client
	if cfg.RedisURL == "" {
		logger.Info("REDIS_URL is not set: rate limits are kept in this process only")
	} else if rdb, err = ratelimit.Connect(cfg.RedisURL); err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	} else {
		defer rdb.Close()
	}

	standinCtx, stopStandin := context.WithCancel(context.WithoutCancel(ctx))
	defer stopStandin()
	standinDone, err := startStandin(standinCtx, cfg, logger)
	if err != nil {
		return err
	}
	// The stand-in stops last: jobs finishing during the shutdown may
	// still be talking to it.
	defer func() { stopStandin(); <-standinDone }()

	services := server.NewServices(cfg, pool, logger)
	rc, err := server.NewRiver(pool, server.RiverOptions{
		Work: m != modeAPI, Workers: server.NewWorkers(cfg, services, pool, logger), PeriodicJobs: workers.PeriodicJobs(),
		Concurrency: cfg.WorkerConcurrency, BulkConcurrency: cfg.BulkConcurrency, SMSConcurrency: cfg.SMSConcurrency,
		AttemptTimeout: cfg.JobAttemptTimeout, RescueStuckAfter: cfg.RescueStuckAfter, CallTimeout: cfg.TwilioTimeout, Logger: logger,
	})
	if err != nil {
		return err
	}
	// Every role serves its metrics on the operators' listener; only the
	// HTTP roles add the request metrics to the Go and process ones.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metricsLn, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("metrics listener (CUSTOMERHUB_METRICS_ADDR): %w", err)
	}
	// Serve closes the listener; this closes it on the early returns.
	defer metricsLn.Close()

	if m != modeAPI {
		if err := rc.Start(ctx); err != nil {
			return fmt.Errorf("start river: %w", err)
		}
		logger.Info("river workers started", "concurrency", cfg.WorkerConcurrency, "bulk_concurrency", cfg.BulkConcurrency)
	}

	metricsSrv := server.NewMetricsServer(reg, logger)
	errCh := make(chan error, 2)
	go func() {
		logger.Info("serving metrics", "addr", metricsLn.Addr().String(), "path", server.MetricsPath)
		if err := metricsSrv.Serve(metricsLn); !errors.Is(err, http.ErrServerClosed) {
			errCh <- fmt.Errorf("metrics listener on %s: %w", cfg.MetricsAddr, err)
		}
	}()

	var srv *server.Server
	if m != modeWorker {
		srv = server.New(server.Deps{
			Config: cfg, Pool: pool, Redis: rdb, River: rc, Limiter: ratelimit.New(rdb, logger),
			Registry: reg, Logger: logger, Version: version, Services: services, Context: ctx,
		})
		go func() {
			logger.Info("listening", "addr", cfg.ListenAddr)
			if err := srv.App.Listen(cfg.ListenAddr); err != nil {
				errCh <- fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
			}
		}()
	}

	var errs []error
	select {
	case <-ctx.Done():
		logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	case err := <-errCh:
		// A listener failed: stop everything else and report it.
		errs = append(errs, err)
	}
	// Finish in-flight requests first (no new ones are accepted), then let
	// running jobs finish or reach a checkpoint; both within the timeout.
	// The metrics listener stops last, so the shutdown can be watched.
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if srv != nil {
		if err := srv.App.ShutdownWithContext(stopCtx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
	}
	if m != modeAPI {
		if err := rc.Stop(stopCtx); err != nil {
			errs = append(errs, fmt.Errorf("river stop: %w", err))
		}
	}
	if err := metricsSrv.Shutdown(stopCtx); err != nil {
		errs = append(errs, fmt.Errorf("metrics shutdown: %w", err))
	}
	logger.Info("stopped")
	return errors.Join(errs...)
}

// checkRole refuses to serve as a role that bypasses row-level security:
// tenant isolation would silently stop.
func checkRole(ctx context.Context, pool *pgxpool.Pool) error {
	var user string
	var super, bypass bool
	err := pool.QueryRow(ctx, `SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`).Scan(&user, &super, &bypass)
	if err != nil {
		return fmt.Errorf("check database role: %w", err)
	}
	if super || bypass {
		return fmt.Errorf("DATABASE_URL connects as %q, which bypasses row-level security; connect as the application role (%s)", user, database.AppRole)
	}
	return nil
}
