package server_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// TestTenantRateLimit: one tenant over its limit gets 429 with
// Retry-After; another tenant on the same instance is unaffected.
func TestTenantRateLimit(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), map[string]string{"CUSTOMERHUB_RATE_LIMIT_TENANT": "3"})
	noisy, quiet := app.Signup(t), app.Signup(t)
	statuses := map[int]int{}
	for i := 0; i < 6; i++ {
		statuses[app.Get(t, "/v1/customers", noisy.AdminToken).Status]++
	}
	require.Equal(t, 3, statuses[http.StatusOK], "%v", statuses)
	require.Equal(t, 3, statuses[http.StatusTooManyRequests], "%v", statuses)
	resp := app.Get(t, "/v1/customers", noisy.AdminToken)
	require.Equal(t, http.StatusTooManyRequests, resp.Status)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	require.Equal(t, "rate_limited", resp.Map(t)["code"])
	require.Equal(t, http.StatusOK, app.Get(t, "/v1/customers", quiet.AdminToken).Status)
}

// TestRedisDown: with Redis unreachable the API keeps serving, rate limits
// fall back to the process, and readiness reports Redis without failing.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0", "CUSTOMERHUB_RATE_LIMIT_TENANT": "2"})
	tn := app.Signup(t)
	require.Equal(t, http.StatusOK, app.Get(t, "/v1/customers", tn.AdminToken).Status)
	require.Equal(t, http.StatusOK, app.Get(t, "/v1/customers", tn.AdminToken).Status)
	require.Equal(t, http.StatusTooManyRequests, app.Get(t, "/v1/customers", tn.AdminToken).Status, "the in-process limiter still limits")

	var ready struct {
		Status string
		Checks map[string]string
	}
	resp := app.Get(t, "/readyz", "")
	require.Equal(t, http.StatusOK, resp.Status)
	resp.JSON(t, &ready)
	require.Equal(t, "ok", ready.Checks["database"])
	require.Equal(t, "unavailable", ready.Checks["redis"])
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	require.Equal(t, http.StatusOK, app.Get(t, "/healthz", "").Status)
	resp := app.Get(t, "/readyz", "")
	require.Equal(t, http.StatusOK, resp.Status)
	require.Equal(t, map[string]any{"database": "ok", "redis": "ok"}, resp.Map(t)["checks"])

	tn := app.Signup(t)
	got := app.Get(t, "/v1/me", tn.AdminToken)
	require.Regexp(t, `^[0-9a-f-]{36}$`, got.Header.Get("X-Request-ID"))
	// A well-formed request ID from a proxy is kept.
	kept := app.Do(t, apptest.Req{Method: http.MethodGet, Path: "/healthz", Headers: map[string]string{"X-Request-ID": "edge-42"}})
	require.Equal(t, "edge-42", kept.Header.Get("X-Request-ID"))

	metrics := app.Metrics(t)
	require.Equal(t, http.StatusOK, metrics.Status)
	require.Contains(t, string(metrics.Body), `customerhub_http_requests_total{method="GET",route="/v1/me",status="200"} 1`)
}
