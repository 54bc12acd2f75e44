package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// BenchmarkRequest is a typical authenticated read through the whole
// application (request ID, access log and metrics, token check, rate
// limits, one read-only tenant transaction, JSON): the yardstick for
// per-request costs such as Fiber's Immutable copies.
func BenchmarkRequest(b *testing.B) {
	app := apptest.New(b, dbtest.Shared(b), nil)
	tn := app.Signup(b)
	cust := app.CreateCustomer(b, tn.AdminToken, map[string]any{"name": "Benchmarked", "email": "bench@example.com"})
	path := "/v1/customers/" + cust["id"].(string)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+tn.AdminToken)
		resp, err := app.Server.App.Test(req, -1)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
