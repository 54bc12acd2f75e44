package sms

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
)

// DefaultTwilioAPIURL is Twilio's own API.
const DefaultTwilioAPIURL = "https://api.twilio.com"

// Credentials are a tenant's Twilio credentials, opened: the account SID
// and either its auth token or an API key SID and secret (the key is used
// when both are set). Never log or store them: the type prints masked.
type Credentials struct {
	AccountSID   string
	AuthToken    string
	APIKeySID    string
	APIKeySecret string
}

// String masks the secrets, so that a Credentials printed by mistake
// shows none.
func (c Credentials) String() string {
	return fmt.Sprintf("{account_sid:%s auth_token:%s api_key_sid:%s api_key_secret:%s}",
		c.AccountSID, mask(c.AuthToken), c.APIKeySID, mask(c.APIKeySecret))
}

// GoString masks the secrets for %#v too.
func (c Credentials) GoString() string { return "sms.Credentials" + c.String() }

// LogValue masks the secrets in structured logs.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("account_sid", c.AccountSID), slog.String("auth_token", mask(c.AuthToken)),
		slog.String("api_key_sid", c.APIKeySID), slog.String("api_key_secret", mask(c.APIKeySecret)))
}

// MarshalJSON masks the secrets, so that credentials put into a job's
// arguments or an API answer by mistake carry none (jobs carry ids and
// open the credentials when they run: Service.Sender).
func (c Credentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"account_sid": c.AccountSID, "auth_token": mask(c.AuthToken),
		"api_key_sid": c.APIKeySID, "api_key_secret": mask(c.APIKeySecret)})
}

func mask(s string) string {
	if s == "" {
		return "unset"
	}
	return "xxxxx"
}

// ErrNoCredentials means the tenant has not configured Twilio.
var ErrNoCredentials = errors.New("the tenant has no Twilio credentials (PATCH /v1/sms/settings)")

// ClientOptions configure NewTwilioClient.
type ClientOptions struct {
	// APIURL is where requests go (CUSTOMERHUB_TWILIO_API_URL): Twilio's
	// API when empty, the stand-in in development and tests.
	APIURL string
	// Timeout bounds each request (twilio-go takes no context); 10 s when
	// zero.
	Timeout time.Duration
	// Transport is the base transport; http.DefaultTransport when nil.
	Transport http.RoundTripper
}

// NewTwilioClient returns a twilio-go client that authenticates with the
// tenant's credentials and sends every request to APIURL. twilio-go has no
// base-URL option: its services hard-code https://<product>.twilio.com, so
// the client's transport rewrites the scheme and host of each request to
// APIURL's (path and query unchanged, a path prefix of APIURL prepended).
func NewTwilioClient(c Credentials, o ClientOptions) (*twilio.RestClient, error) {
	if c.AccountSID == "" || (c.AuthToken == "" && (c.APIKeySID == "" || c.APIKeySecret == "")) {
		return nil, ErrNoCredentials
	}
	user, pass := c.AccountSID, c.AuthToken
	if c.APIKeySID != "" && c.APIKeySecret != "" {
		user, pass = c.APIKeySID, c.APIKeySecret
	}
	base := o.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	rt := base
	if o.APIURL != "" && strings.TrimRight(o.APIURL, "/") != DefaultTwilioAPIURL {
		target, err := url.Parse(o.APIURL)
		if err != nil || target.Host == "" || (target.Scheme != "http" && target.Scheme != "https") {
			return nil, fmt.Errorf("twilio API URL %q: must be an http(s) URL", o.APIURL)
		}
		rt = &rewriteTransport{target: target, base: base}
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	cl := &client.Client{Credentials: client.NewCredentials(user, pass), HTTPClient: &http.Client{Transport: rt, Timeout: timeout}}
	cl.SetAccountSid(c.AccountSID)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: cl}), nil
}

// rewriteTransport sends Twilio's requests to another base URL.
type rewriteTransport struct {
	target *url.URL
	base   http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(r.URL.Hostname(), "twilio.com") {
		return t.base.RoundTrip(r)
	}
	// RoundTrip must not change the caller's request: change a copy.
	out := r.Clone(r.Context())
	out.URL.Scheme = t.target.Scheme
	out.URL.Host = t.target.Host
	out.URL.Path = strings.TrimRight(t.target.Path, "/") + r.URL.Path
	if r.URL.RawPath != "" {
		out.URL.RawPath = strings.TrimRight(t.target.Path, "/") + r.URL.RawPath
	}
	out.Host = t.target.Host
	return t.base.RoundTrip(out)
}
