package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// methodLabels are the method label values the HTTP metrics may carry.
var methodLabels = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true, "OTHER": true,
}

// requestCounts parses a scrape with Prometheus's own text parser and sums
// customerhub_http_requests_total by method, checking every label value.
func requestCounts(t *testing.T, app *apptest.App, routes map[string]bool) map[string]float64 {
	t.Helper()
	resp := app.Metrics(t)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(resp.Body))
	require.NoError(t, err, "%s", resp.Body)
	counts := map[string]float64{}
	for _, m := range families["customerhub_http_requests_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		require.True(t, methodLabels[labels["method"]], "unknown method label in %v", labels)
		require.True(t, routes[labels["route"]], "unknown route label in %v", labels)
		status, err := strconv.Atoi(labels["status"])
		require.NoError(t, err, "%v", labels)
		require.True(t, status >= 100 && status <= 599, "%v", labels)
		counts[labels["method"]] += m.GetCounter().GetValue()
	}
	return counts
}

// TestMetricsAfterTraffic drives several hundred mixed requests (every
// method, many routes, many failing) over keep-alive connections, which
// reuse Fiber's request buffers, then scrapes the metrics: the scrape
// parses, every label is one we issue, and the counts are exact. Labels
// that aliased request memory read GETT or POS after such traffic, and
// the registry then refused to gather (500).
func TestMetricsAfterTraffic(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	tn := app.Signup(t)
	cust := app.CreateCustomer(t, tn.AdminToken, map[string]any{"name": "Metered"})
	custPath := "/v1/customers/" + cust["id"].(string)
	routes := map[string]bool{"unmatched": true}
	for _, r := range app.Server.App.GetRoutes() {
		routes[r.Path] = true // the table's routes and the middleware's prefixes
	}
	before := requestCounts(t, app, routes)

	type request struct{ method, path, body string }
	requests := []request{
		{http.MethodGet, "/v1/customers", ""},
		{http.MethodGet, "/v1/customers?limit=0", ""},
		{http.MethodGet, custPath, ""},
		{http.MethodGet, "/v1/customers/" + uuid.NewString(), ""},
		{http.MethodGet, "/v1/customers/not-a-uuid", ""},
		{http.MethodGet, "/v1/me", ""},
		{http.MethodGet, "/v1/settings", ""},
		{http.MethodGet, "/v1/customer-groups", ""},
		{http.MethodGet, "/v1/sales-orders", ""},
		{http.MethodGet, "/v1/jobs/" + uuid.NewString(), ""},
		{http.MethodGet, "/healthz", ""},
		{http.MethodGet, "/no/such/route", ""},
		{http.MethodPost, "/v1/customers", `{"name":"Created by traffic"}`},
		{http.MethodPost, "/v1/customers", `{"name":`},
		{http.MethodPost, "/v1/customer-groups", `{"category":"segment"}`},
		{http.MethodPatch, custPath, `{"notes":"stale"}`},
		{http.MethodPatch, "/v1/customers/" + uuid.NewString(), `{"notes":"gone"}`},
		{http.MethodPatch, "/v1/settings", `{"dormant_days":"x"}`},
		{http.MethodDelete, "/v1/customers/" + uuid.NewString(), ""},
		{http.MethodDelete, "/v1/no-such-thing", ""},
		{http.MethodPut, "/v1/customers", `{}`},
		{http.MethodPut, custPath, `{}`},
		{http.MethodOptions, "/v1/customers", ""},
		{http.MethodHead, "/healthz", ""},
		{http.MethodHead, custPath, ""},
		{http.MethodTrace, "/healthz", ""},
	}
	base := app.Listen(t)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	const workers, perWorker = 8, 60
	var mu sync.Mutex
	sent := map[string]float64{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				r := requests[(w*perWorker+i)%len(requests)]
				req, err := http.NewRequest(r.method, base+r.path, strings.NewReader(r.body))
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("Authorization", "Bearer "+tn.AdminToken)
				req.Header.Set("If-Match", `"99"`)
				if r.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 500 {
					t.Errorf("%s %s: %d", r.method, r.path, resp.StatusCode)
				}
				label := r.method
				if !methodLabels[label] {
					label = "OTHER"
				}
				mu.Lock()
				sent[label]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	client.CloseIdleConnections()

	after := requestCounts(t, app, routes)
	for method := range methodLabels {
		require.Equal(t, sent[method], after[method]-before[method], "requests counted as %s", method)
	}
}

// TestRequestValuesOutliveTheRequest keeps every value a handler can take
// from a request (method, path, parameter, query, header, body) past the
// request's end, as a label, a cache key or a job argument would, and
// checks after hundreds of requests on reused connections that none
// changed: Fiber hands out copies, not views of buffers it reuses.
func TestRequestValuesOutliveTheRequest(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	type kept struct{ method, path, param, query, header, body string }
	var mu sync.Mutex
	var got []kept
	var bodies [][]byte
	app.Server.App.Add(fiber.MethodPost, "/test-kept/:name", func(c *fiber.Ctx) error {
		body := c.Body()
		mu.Lock()
		got = append(got, kept{method: c.Method(), path: c.Path(), param: c.Params("name"), query: c.Query("q"), header: c.Get("X-Kept")})
		bodies = append(bodies, body)
		mu.Unlock()
		return c.SendStatus(fiber.StatusNoContent)
	})
	app.Server.App.Add(fiber.MethodPut, "/test-kept/:name", func(c *fiber.Ctx) error {
		return c.SendStatus(fiber.StatusNoContent) // traffic in between, other lengths
	})
	base := app.Listen(t)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	want := map[string]kept{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				v := fmt.Sprintf("w%d-%03d", w, i)
				for _, method := range []string{http.MethodPost, http.MethodPut} {
					req, err := http.NewRequest(method, base+"/test-kept/"+v+"?q=q"+v, strings.NewReader("body-"+v))
					if err != nil {
						t.Error(err)
						return
					}
					req.Header.Set("X-Kept", "h"+v)
					resp, err := client.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
				}
				mu.Lock()
				want[v] = kept{method: http.MethodPost, path: "/test-kept/" + v, param: v, query: "q" + v, header: "h" + v, body: "body-" + v}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	client.CloseIdleConnections()
	require.Len(t, got, len(want))
	for i, k := range got {
		k.body = string(bodies[i])
		require.Equal(t, want[k.param], k, "a kept value changed after its request")
	}
}

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
