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
		headers := basic("operator", password)
		headers["Origin"] = "https://evil.example"
		resp := app.Do(t, apptest.Req{Method: http.MethodPost, Path: "/admin/river/api/jobs/cancel", Headers: headers,
			Body: map[string]any{"job_ids": []string{"1"}}})
		require.Equal(t, http.StatusForbidden, resp.Status, "%s", resp.Body)
	})
}
