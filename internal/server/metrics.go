package server

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsPath is where the operators' listener serves Prometheus metrics.
const MetricsPath = "/metrics"

// NewMetricsServer returns the operators' HTTP server: reg's metrics at
// MetricsPath and 404 elsewhere. It listens apart from the public API
// (CUSTOMERHUB_METRICS_ADDR, loopback by default), so that the process's
// internals are not published with it; every role (serve, api, worker)
// runs one.
func NewMetricsServer(reg *prometheus.Registry, logger *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET "+MetricsPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		// A scrape that cannot gather everything fails (500) and is
		// logged, so the target shows as down instead of silently losing
		// series; promhttp_metric_handler_errors_total counts it.
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError),
		Registry: reg,
	}))
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
}
