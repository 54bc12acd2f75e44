package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/sms"
	"github.com/customerhub/customerhub/internal/twiliostandin"
)

// TestCommands runs what `make run` runs, in-process, on a database of its
// own: db-init, migrate, demo (twice), then serve until cancelled.
func TestCommands(t *testing.T) {
	ctx := context.Background()
	dbName := fmt.Sprintf("chub_t_%d_cmd", time.Now().Unix())
	t.Cleanup(func() {
		admin, err := pgx.Connect(ctx, dbtest.AdminURL())
		if err == nil {
			_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+dbName+" WITH (FORCE)")
			admin.Close(ctx)
		}
	})
	freeAddr := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		return ln.Addr().String()
	}
	addr, metricsAddr, standinAddr := freeAddr(), freeAddr(), freeAddr()
	firstKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))

	t.Setenv("ADMIN_DATABASE_URL", dbtest.AdminURL())
	t.Setenv("MIGRATE_DATABASE_URL", dbtest.URLFor(dbName, dbtest.OwnerRole))
	t.Setenv("DATABASE_URL", dbtest.URLFor(dbName, "customerhub_app"))
	t.Setenv("CUSTOMERHUB_LISTEN_ADDR", addr)
	t.Setenv("CUSTOMERHUB_METRICS_ADDR", metricsAddr)
	t.Setenv("CUSTOMERHUB_PUBLIC_BASE_URL", "http://"+addr)
	t.Setenv("CUSTOMERHUB_ARGON2_MEMORY_KIB", "1024")
	t.Setenv("CUSTOMERHUB_LOG_LEVEL", "error")
	t.Setenv("REDIS_URL", "")
	// As make run without Twilio credentials: the stand-in beside serve.
	t.Setenv("CUSTOMERHUB_SECRET_KEY", firstKey)
	t.Setenv("CUSTOMERHUB_TWILIO_STANDIN_ADDR", standinAddr)
	t.Setenv("CUSTOMERHUB_TWILIO_API_URL", "http://"+standinAddr)
	t.Setenv("TWILIO_ACCOUNT_SID", "")

	var out bytes.Buffer
	t.Run("Help", func(t *testing.T) {
		require.NoError(t, run(ctx, []string{"help"}, &out, nil))
		require.Contains(t, out.String(), "serve")
		require.Error(t, run(ctx, []string{"frobnicate"}, io.Discard, nil))
	})
	t.Run("ServeRefusesPendingMigrations", func(t *testing.T) {
		require.NoError(t, run(ctx, []string{"db-init"}, io.Discard, nil))
		err := run(ctx, []string{"serve"}, io.Discard, nil)
		require.ErrorContains(t, err, "pending migrations")
	})
	require.NoError(t, run(ctx, []string{"db-init"}, io.Discard, nil), "db-init twice is harmless")
	require.NoError(t, run(ctx, []string{"migrate"}, io.Discard, nil))
	require.NoError(t, run(ctx, []string{"migrate"}, io.Discard, nil), "migrate twice is harmless")
	t.Run("Citus", func(t *testing.T) {
		out.Reset()
		require.NoError(t, run(ctx, []string{"citus", "plan"}, &out, nil))
		require.Regexp(t, `(?m)^reference tables, in order: .*\btenants\b`, out.String())
		require.Regexp(t, `(?m)^distributed by tenant_id, colocated, in order: .*\bcustomers\b`, out.String())
		err := run(ctx, []string{"citus", "distribute"}, io.Discard, nil)
		require.ErrorContains(t, err, "the citus extension is not installed in this database")
		require.ErrorContains(t, run(ctx, []string{"citus"}, io.Discard, nil), "usage: customerhub citus")
		require.ErrorContains(t, run(ctx, []string{"citus", "spread"}, io.Discard, nil), `unknown citus command "spread"`)
	})

	out.Reset()
	require.NoError(t, run(ctx, []string{"demo"}, &out, nil))
	require.NoError(t, run(ctx, []string{"demo"}, &out, nil), "demo twice is harmless")
	tokens := regexp.MustCompile(`(?m)^\s+(\w+)\s+(\S+@demo\.example)\s+(chub_\S+)$`).FindAllStringSubmatch(out.String(), -1)
	require.Len(t, tokens, 8, out.String())
	require.Contains(t, out.String(), "curl -s http://"+addr+"/v1/me")
	require.Contains(t, out.String(), "the demo tenant sends to the Twilio stand-in at http://"+standinAddr)
	repToken, adminToken := tokens[6][3], tokens[4][3] // second demo run: rep1, admin

	serveCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(serveCtx, []string{"serve"}, io.Discard, nil) }()
	base := "http://" + addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond)

	get := func(path, token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := get("/v1/customers", adminToken)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 5, strings.Count(body, `"code"`), "demo customers are seeded once: %s", body)
	status, body = get("/v1/customers", repToken)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 2, strings.Count(body, `"code"`), "a rep sees their own: %s", body)

	// Metrics are on the operators' listener, with the requests above
	// counted, and not on the public port.
	status, _ = get("/metrics", "")
	require.Equal(t, http.StatusNotFound, status)
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	require.NoError(t, err)
	metrics, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", metrics)
	require.Contains(t, string(metrics), `customerhub_http_requests_total{method="GET",route="/v1/customers",status="200"} 2`)
	require.Contains(t, string(metrics), "go_goroutines")

	// The demo tenant is pointed at the stand-in that serve runs, and the
	// real twilio-go client sends through it.
	status, body = get("/v1/sms/settings", adminToken)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"account_sid":"`+twiliostandin.DevAccountSID+`"`)
	require.Contains(t, body, `"configured":true`)
	require.NotContains(t, body, twiliostandin.DevAuthToken)
	status, body = get("/v1/sms/templates", adminToken)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "Balance reminder")
	sendVia := func(apiURL string) error {
		rc, err := sms.NewTwilioClient(sms.Credentials{AccountSID: twiliostandin.DevAccountSID, AuthToken: twiliostandin.DevAuthToken},
			sms.ClientOptions{APIURL: apiURL, Timeout: 5 * time.Second})
		require.NoError(t, err)
		p := &openapi.CreateMessageParams{}
		p.SetTo("+14155550101").SetFrom(twiliostandin.DevFromNumber).SetBody("hello")
		_, err = rc.Api.CreateMessage(p)
		return err
	}
	require.NoError(t, sendVia("http://"+standinAddr))

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "graceful shutdown")
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}

	// The worker role serves no API, but its metrics listener all the same.
	workerMetrics := freeAddr()
	t.Setenv("CUSTOMERHUB_METRICS_ADDR", workerMetrics)
	workerCtx, stopWorker := context.WithCancel(ctx)
	go func() { done <- run(workerCtx, []string{"worker"}, io.Discard, nil) }()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + workerMetrics + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK && strings.Contains(string(b), "go_goroutines")
	}, 20*time.Second, 50*time.Millisecond)
	stopWorker()
	select {
	case err := <-done:
		require.NoError(t, err, "graceful shutdown")
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not stop")
	}

	t.Run("SecretsRotate", func(t *testing.T) {
		out.Reset()
		t.Setenv("CUSTOMERHUB_SECRET_KEY", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32)))
		t.Setenv("CUSTOMERHUB_SECRET_KEYS_OLD", firstKey)
		require.NoError(t, run(ctx, []string{"secrets", "rotate"}, &out, nil))
		require.Regexp(t, `\d+ tenants checked, 1 resealed under key `, out.String())
		out.Reset()
		require.NoError(t, run(ctx, []string{"secrets", "rotate"}, &out, nil))
		require.Contains(t, out.String(), " 0 resealed", "done once")
		require.ErrorContains(t, run(ctx, []string{"secrets"}, io.Discard, nil), "usage: customerhub secrets rotate")
		t.Setenv("CUSTOMERHUB_SECRET_KEY", "")
		require.ErrorContains(t, run(ctx, []string{"secrets", "rotate"}, io.Discard, nil), "CUSTOMERHUB_SECRET_KEY is not set")
	})
	t.Run("TwilioStandin", func(t *testing.T) {
		own := freeAddr()
		standinCtx, stop := context.WithCancel(ctx)
		go func() { done <- run(standinCtx, []string{"twilio-standin", "--addr", own}, io.Discard, nil) }()
		require.Eventually(t, func() bool { return sendVia("http://"+own) == nil }, 10*time.Second, 50*time.Millisecond)
		stop()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("the stand-in did not stop")
		}
	})
}
