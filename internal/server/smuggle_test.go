package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// TestUnreadBodyIsNotARequest: a request answered without its body being
// read (refused by authentication, the rate limit, an unknown route, a
// body over the limit) must not leave that body on the connection to be
// parsed as the next request. Request bodies are streamed (fasthttp's
// StreamRequestBody, for the import upload), and fasthttp prefetches only
// the first 8 KiB: the rest of an unread body stayed in the connection's
// buffer, so a request hidden past 8 KiB of padding was served as a
// second request (request smuggling past any front that inspects
// requests), and the next real request on a kept-alive connection got a
// 400 ("Invalid http method") instead of its answer.
func TestUnreadBodyIsNotARequest(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, dbtest.Shared(t), nil)
	base := strings.TrimPrefix(app.Listen(t), "http://")
	tn := app.Signup(t)
	smuggled := "GET /v1/openapi.json HTTP/1.1\r\nHost: test\r\n\r\n"

	for _, tc := range []struct {
		name, method, path, auth string
		body                     func(smuggled string) string
		status                   int
	}{
		{"Unauthenticated", http.MethodPost, "/v1/customers", "Bearer chub_not-a-token", nil, http.StatusUnauthorized},
		{"UnknownRoute", http.MethodPost, "/v1/no-such-route", "Bearer " + tn.AdminToken, nil, http.StatusNotFound},
		{"NoToken", http.MethodPost, "/v1/customers", "", nil, http.StatusUnauthorized},
		{"OverLimit", http.MethodPost, "/v1/customers", "Bearer " + tn.AdminToken, func(s string) string {
			return strings.Repeat(" ", app.Config.BodyLimit) + s
		}, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", base)
			require.NoError(t, err)
			defer conn.Close()
			body := strings.Repeat(" ", 16<<10) + smuggled
			if tc.body != nil {
				body = tc.body(smuggled)
			}
			var head strings.Builder
			fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", tc.method, tc.path, len(body))
			if tc.auth != "" {
				fmt.Fprintf(&head, "Authorization: %s\r\n", tc.auth)
			}
			head.WriteString("\r\n")
			go func() { _, _ = io.WriteString(conn, head.String()+body) }()
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
			r := bufio.NewReader(conn)
			resp, err := http.ReadResponse(r, nil)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			require.Equal(t, tc.status, resp.StatusCode)
			// Nothing more comes on the connection: either it is closed,
			// or it waits for a next request of the client's own.
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(time.Second)))
			second, err := http.ReadResponse(r, nil)
			if err == nil {
				second.Body.Close()
				t.Fatalf("the body's hidden request was answered: %s", second.Status)
			}
		})
	}

	// A connection whose requests were read whole stays open: reads and
	// a create with a body, one after another on one connection.
	t.Run("KeepAlive", func(t *testing.T) {
		t.Parallel()
		conn, err := net.Dial("tcp", base)
		require.NoError(t, err)
		defer conn.Close()
		r := bufio.NewReader(conn)
		create := `{"name":"Kept Alive Ltd"}`
		for i, req := range []string{
			"GET /v1/customers HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " + tn.AdminToken + "\r\n\r\n",
			"POST /v1/customers HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " + tn.AdminToken +
				fmt.Sprintf("\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(create), create),
			"GET /v1/customers HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " + tn.AdminToken + "\r\n\r\n",
		} {
			_, err := io.WriteString(conn, req)
			require.NoError(t, err)
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
			resp, err := http.ReadResponse(r, nil)
			require.NoError(t, err, "request %d", i)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			require.Less(t, resp.StatusCode, 300, "request %d", i)
			require.False(t, resp.Close, "request %d closed the connection", i)
		}
	})
}
