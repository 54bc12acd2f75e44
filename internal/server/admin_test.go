package server_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
)

func TestRiverUI(t *testing.T) {
	t.Parallel()
	const password = "operator-secret-1234"
	basic := func(user, pass string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
	}

	t.Run("NotServedWithoutAPassword", func(t *testing.T) {
		app := apptest.New(t, dbtest.Shared(t), nil)
		resp := app.Do(t, apptest.Req{Method: http.MethodGet, Path: "/admin/river/", Headers: basic("operator", password)})
		require.Equal(t, http.StatusNotFound, resp.Status)
	})

	app := apptest.New(t, dbtest.Shared(t), map[string]string{"CUSTOMERHUB_ADMIN_PASSWORD": password})
	tn := app.Signup(t)
	get := func(path string, headers map[string]string) *apptest.Response {
		return app.Do(t, apptest.Req{Method: http.MethodGet, Path: path, Headers: headers})
	}

	t.Run("AsksForOperatorCredentials", func(t *testing.T) {
		resp := get("/admin/river/", nil)
		require.Equal(t, http.StatusUnauthorized, resp.Status)
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")
		require.Equal(t, http.StatusUnauthorized, get("/admin/river/", basic("operator", "wrong-password-123")).Status)
		require.Equal(t, http.StatusUnauthorized, get("/admin/river/", basic("someone", password)).Status)
	})
	t.Run("TenantTokensGet404", func(t *testing.T) {
		for _, path := range []string{"/admin/river/", "/admin/river/api/jobs", "/admin/river/api/queues"} {
			resp := get(path, map[string]string{"Authorization": "Bearer " + tn.AdminToken})
			require.Equal(t, http.StatusNotFound, resp.Status, path)
		}
	})
	t.Run("OperatorsSeeTheUI", func(t *testing.T) {
		resp := get("/admin/river/", basic("operator", password))
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
		resp = get("/admin/river/api/queues", basic("operator", password))
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Contains(t, resp.Header.Get("Content-Type"), "application/json")
	})
	t.Run("CrossSiteWritesAreRefused", func(t *testing.T) {
		// httptest requests are for the host example.com.
		for _, tc := range []struct {
			name    string
			headers map[string]string
		}{
			{"OtherOrigin", map[string]string{"Origin": "https://evil.example"}},
			{"NullOrigin", map[string]string{"Origin": "null"}},
			{"CrossSite", map[string]string{"Sec-Fetch-Site": "cross-site"}},
			{"SameSite", map[string]string{"Sec-Fetch-Site": "same-site"}},
			{"UserInitiated", map[string]string{"Sec-Fetch-Site": "none"}},
			{"SameOriginButOtherOrigin", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "https://evil.example"}},
			{"NeitherHeader", map[string]string{}},
		} {
			headers := basic("operator", password)
			for k, v := range tc.headers {
				headers[k] = v
			}
			resp := app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/admin/river/api/jobs/cancel", Headers: headers,
				Body: map[string]any{"job_ids": []string{"1"}}})
			require.Equal(t, http.StatusForbidden, resp.Status, "%s: %s", tc.name, resp.Body)
			require.Equal(t, "forbidden", resp.Map(t)["code"], tc.name)
		}
	})
	t.Run("SameOriginWritesPass", func(t *testing.T) {
		for _, extra := range []map[string]string{
			{"Sec-Fetch-Site": "same-origin"},
			{"Origin": "http://example.com"},
			{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"},
		} {
			headers := basic("operator", password)
			for k, v := range extra {
				headers[k] = v
			}
			resp := app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/admin/river/api/jobs/cancel", Headers: headers,
				Body: map[string]any{"job_ids": []string{"1"}}})
			require.NotEqual(t, http.StatusForbidden, resp.Status, "%v: %s", extra, resp.Body)
			require.Less(t, resp.Status, 500, "%v: %s", extra, resp.Body)
		}
	})
}
