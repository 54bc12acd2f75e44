package server_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// TestMetricsNotOnThePublicPort: the API port has no /metrics; operators
// scrape their own listener (CUSTOMERHUB_METRICS_ADDR).
func TestMetricsNotOnThePublicPort(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		resp := app.Do(t, apptest.Req{Method: method, Path: "/metrics"})
		require.Equal(t, http.StatusNotFound, resp.Status, "%s /metrics", method)
	}
	require.Equal(t, http.StatusOK, app.Metrics(t).Status)
}
