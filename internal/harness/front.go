package harness

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"
)

// Front is a small round-robin reverse proxy over API processes, the
// load balancer of a local cluster: each request goes to the next
// backend in turn. A backend that does not answer (stopped, restarting)
// is skipped for that request when it is safe to send again: always for
// a connection refused (nothing reached it), otherwise only for GET,
// HEAD and requests carrying an Idempotency-Key. The proxy keeps the
// client's Host and adds X-Forwarded-For, which the API believes from trusted proxies
// (CUSTOMERHUB_TRUSTED_PROXIES).
type Front struct {
	URL string
	srv *http.Server
	ln  net.Listener
}

// StartFront serves the proxy on addr (a loopback address; ":0" style
// ports are allowed) over the backends' base URLs.
func StartFront(addr string, backends []string) (*Front, error) {
	if len(backends) == 0 {
		return nil, errors.New("a front needs at least one backend")
	}
	targets := make([]*url.URL, len(backends))
	for i, b := range backends {
		u, err := url.Parse(b)
		if err != nil {
			return nil, err
		}
		targets[i] = u
	}
	var next atomic.Uint64
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(targets[next.Add(1)%uint64(len(targets))])
			// The client's Host goes through, as load balancers keep it.
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		Transport: &skipDown{next: transport, targets: targets, turn: &next},
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	// A body of up to 1 MiB is kept, so that the request can go to
	// another backend; a larger one (an upload) streams through once.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.ContentLength > 0 && r.ContentLength <= 1<<20 {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, "unreadable request body", http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		proxy.ServeHTTP(w, r)
	})
	f := &Front{URL: "http://" + ln.Addr().String(), ln: ln,
		srv: &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

// Close stops the proxy, letting requests in flight finish for up to 10 s.
func (f *Front) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return f.srv.Shutdown(ctx)
}

// skipDown sends a request to its backend and, when that one cannot be
// reached and sending again is safe, to the others in turn.
type skipDown struct {
	next    http.RoundTripper
	targets []*url.URL
	turn    *atomic.Uint64
}

func (s *skipDown) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	for i := 1; err != nil && i < len(s.targets) && resendable(r, err); i++ {
		if r.Body != nil && r.GetBody == nil {
			break
		}
		again := r.Clone(r.Context())
		if r.GetBody != nil {
			if again.Body, err = r.GetBody(); err != nil {
				return nil, err
			}
		}
		t := s.targets[s.turn.Add(1)%uint64(len(s.targets))]
		again.URL.Scheme, again.URL.Host, again.Host = t.Scheme, t.Host, t.Host
		resp, err = s.next.RoundTrip(again)
	}
	return resp, err
}

// resendable: nothing reached the backend (connection refused), or the
// request may be sent twice.
func resendable(r *http.Request, err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return r.Method == http.MethodGet || r.Method == http.MethodHead || r.Header.Get("Idempotency-Key") != ""
}
