package console_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// TestServing: the console's page at /app and below (deep links), its
// assets cached for good under their hashed names, a name that was not
// built is 404, / leads to the console, and CUSTOMERHUB_CONSOLE=false
// turns all of it off.
func TestServing(t *testing.T) {
	app := apptest.New(t, dbtest.Shared(t), nil)
	get := func(path string) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodGet, path, nil)
		require.NoError(t, err)
		resp, err := app.Server.App.Test(req, -1)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(body)
	}

	for _, path := range []string{"/app", "/app/", "/app/customers/8d3c1a4e-0000-0000-0000-000000000000", "/app/imports"} {
		resp, body := get(path)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"), path)
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'", path)
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'", path)
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), path)
		require.Contains(t, body, `<div id="root">`, path)
	}

	_, page := get("/app/")
	script := regexp.MustCompile(`src="/app/(main-[A-Z0-9]+\.js)"`).FindStringSubmatch(page)
	require.Len(t, script, 2, "the page names its script")
	resp, body := get("/app/" + script[1])
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))
	require.Empty(t, resp.Header.Get("Content-Encoding"))
	require.NotEmpty(t, body)

	// Compressed for a client that takes gzip, to the same bytes.
	req, err := http.NewRequest(http.MethodGet, "/app/"+script[1], nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	zresp, err := app.Server.App.Test(req, -1)
	require.NoError(t, err)
	require.Equal(t, "gzip", zresp.Header.Get("Content-Encoding"))
	require.Contains(t, zresp.Header.Get("Vary"), "Accept-Encoding")
	zr, err := gzip.NewReader(zresp.Body)
	require.NoError(t, err)
	unzipped, err := io.ReadAll(zr)
	require.NoError(t, err)
	require.Equal(t, body, string(unzipped))

	resp, _ = get("/app/main-NOTBUILT.js")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "a file that was not built")
	for _, path := range []string{"/app/../../go.mod", "/app/%2e%2e/%2e%2e/go.mod", "/app/..%2f..%2fgo.mod"} {
		_, body := get(path)
		require.NotContains(t, body, "module github.com", "%s reaches no file outside the build", path)
	}

	resp, _ = get("/")
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Equal(t, "/app/", resp.Header.Get("Location"))

	off := apptest.New(t, dbtest.Shared(t), map[string]string{"CUSTOMERHUB_CONSOLE": "false"})
	for _, path := range []string{"/", "/app/", "/app/customers"} {
		req, err := http.NewRequest(http.MethodGet, path, nil)
		require.NoError(t, err)
		resp, err := off.Server.App.Test(req, -1)
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "console off: %s", path)
	}
}
