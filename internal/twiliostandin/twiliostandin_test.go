package twiliostandin_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/customerhub/customerhub/internal/sms"
	"github.com/customerhub/customerhub/internal/twiliostandin"
)

const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	authToken  = "testtoken0123456789abcdef012345"
	keySID     = "SK0123456789abcdef0123456789abcdef"
	keySecret  = "testkeysecret0123456789abcdefab"
)

type testBundle struct {
	standin *twiliostandin.Server
	url     string
}

func setup(t *testing.T, o twiliostandin.Options) testBundle {
	t.Helper()
	o.Accounts = append(o.Accounts, twiliostandin.Account{SID: accountSID, AuthToken: authToken})
	o.APIKeys = append(o.APIKeys, twiliostandin.APIKey{SID: keySID, Secret: keySecret, AccountSID: accountSID})
	s := twiliostandin.New(o)
	srv := httptest.NewServer(s)
	t.Cleanup(func() { srv.Close(); s.Close() })
	return testBundle{standin: s, url: srv.URL}
}

func (b testBundle) client(t *testing.T, c sms.Credentials, timeout time.Duration) *twilio.RestClient {
	t.Helper()
	rc, err := sms.NewTwilioClient(c, sms.ClientOptions{APIURL: b.url, Timeout: timeout})
	require.NoError(t, err)
	return rc
}

func (b testBundle) tokenClient(t *testing.T) *twilio.RestClient {
	return b.client(t, sms.Credentials{AccountSID: accountSID, AuthToken: authToken}, 5*time.Second)
}

func send(rc *twilio.RestClient, to, body, callback string) (*openapi.ApiV2010Message, error) {
	p := &openapi.CreateMessageParams{}
	p.SetTo(to).SetFrom("+15005550006").SetBody(body)
	if callback != "" {
		p.SetStatusCallback(callback)
	}
	return rc.Api.CreateMessage(p)
}

func restError(t *testing.T, err error) *client.TwilioRestError {
	t.Helper()
	var te *client.TwilioRestError
	require.True(t, errors.As(err, &te), "a TwilioRestError, got %T %v", err, err)
	return te
}

func TestCreate(t *testing.T) {
	t.Parallel()

	t.Run("Success", func(t *testing.T) {
		t.Parallel()
		b := setup(t, twiliostandin.Options{})
		m, err := send(b.tokenClient(t), "+14155550101", "You owe 12.50 USD", "")
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(*m.Sid, "SM"), *m.Sid)
		require.Equal(t, "queued", *m.Status)
		require.Equal(t, "+14155550101", *m.To)
		require.Equal(t, accountSID, *m.AccountSid)
		require.Equal(t, "1", *m.NumSegments)
		got := b.standin.Messages()
		require.Len(t, got, 1)
		require.Equal(t, *m.Sid, got[0].SID)
		require.Equal(t, "You owe 12.50 USD", got[0].Body)
	})
	t.Run("MessagingService", func(t *testing.T) {
		t.Parallel()
		b := setup(t, twiliostandin.Options{})
		p := &openapi.CreateMessageParams{}
		p.SetTo("+14155550101").SetMessagingServiceSid("MG0123456789abcdef0123456789abcdef").SetBody("hi")
		m, err := b.tokenClient(t).Api.CreateMessage(p)
		require.NoError(t, err)
		require.Equal(t, "accepted", *m.Status)
		require.Nil(t, m.From)
	})
	t.Run("APIKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t, twiliostandin.Options{})
		rc := b.client(t, sms.Credentials{AccountSID: accountSID, APIKeySID: keySID, APIKeySecret: keySecret}, 5*time.Second)
		_, err := send(rc, "+14155550101", "hi", "")
		require.NoError(t, err)
	})
	t.Run("BadCredentials", func(t *testing.T) {
		t.Parallel()
		b := setup(t, twiliostandin.Options{})
		for _, c := range []sms.Credentials{
			{AccountSID: accountSID, AuthToken: "wrongtoken0123456789abcdef0123"},
			{AccountSID: "AC99999999999999999999999999999999", AuthToken: authToken},
			{AccountSID: accountSID, APIKeySID: keySID, APIKeySecret: "wrongsecret0123456789abcdef0123"},
		} {
			_, err := send(b.client(t, c, 5*time.Second), "+14155550101", "hi", "")
			te := restError(t, err)
			require.Equal(t, 20003, te.Code)
			require.Equal(t, http.StatusUnauthorized, te.Status)
		}
		require.Empty(t, b.standin.Messages())
	})
	t.Run("ValidationErrors", func(t *testing.T) {
		t.Parallel()
		b := setup(t, twiliostandin.Options{})
		rc := b.tokenClient(t)
		for _, tc := range []struct {
			to, body string
			code     int
		}{{"4155550101", "hi", 21211}, {"+1415", "hi", 21211}, {"+14155550101", "", 21602}} {
			_, err := send(rc, tc.to, tc.body, "")
			te := restError(t, err)
			require.Equal(t, tc.code, te.Code, "%+v", tc)
			require.Equal(t, http.StatusBadRequest, te.Status)
			require.Equal(t, "https://www.twilio.com/docs/errors/"+itoa(tc.code), te.MoreInfo)
		}
		require.Empty(t, b.standin.Messages())
	})
}

func itoa(n int) string { return fmtInt(n) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var d []byte
	for ; n > 0; n /= 10 {
		d = append([]byte{byte('0' + n%10)}, d...)
	}
	return string(d)
}

func TestFaults(t *testing.T) {
	t.Parallel()

	t.Run("ErrorCodes", func(t *testing.T) {
		t.Parallel()
		b := setup(t, twiliostandin.Options{})
		rc := b.tokenClient(t)
		b.standin.Inject(twiliostandin.Fault{Status: 400, Code: 21211})
		b.standin.Inject(twiliostandin.Fault{Status: 400, Code: 21610})
		b.standin.Inject(twiliostandin.Fault{Status: 429})
		b.standin.Inject(twiliostandin.Fault{Status: 500})
		for _, want := range []struct{ status, code int }{{400, 21211}, {400, 21610}, {429, 20429}, {500, 20500}} {
			_, err := send(rc, "+14155550101", "hi", "")
			te := restError(t, err)
			require.Equal(t, want.status, te.Status)
			require.Equal(t, want.code, te.Code)
		}
		require.Empty(t, b.standin.Messages(), "a refused request creates nothing")
		_, err := send(rc, "+14155550101", "hi", "")
		require.NoError(t, err, "faults are used up")
		require.Len(t, b.standin.Messages(), 1)
	})
	t.Run("ByNumberAndRepeated", func(t *testing.T) {
		t.Parallel()
		b := setup(t, twiliostandin.Options{})
		rc := b.tokenClient(t)
		b.standin.Inject(twiliostandin.Fault{To: "+14155550199", Status: 400, Code: 21211, Times: -1})
		for range 3 {
			_, err := send(rc, "+14155550199", "hi", "")
			require.Equal(t, 21211, restError(t, err).Code)
			_, err = send(rc, "+14155550101", "hi", "")
			require.NoError(t, err)
		}
		b.standin.ClearFaults()
		_, err := send(rc, "+14155550199", "hi", "")
		require.NoError(t, err)
	})
	t.Run("Unsubscribed", func(t *testing.T) {
		t.Parallel()
		b := setup(t, twiliostandin.Options{})
		rc := b.tokenClient(t)
		b.standin.Unsubscribe("+14155550101")
		_, err := send(rc, "+14155550101", "hi", "")
		require.Equal(t, 21610, restError(t, err).Code)
		b.standin.Resubscribe("+14155550101")
		_, err = send(rc, "+14155550101", "hi", "")
		require.NoError(t, err)
	})
	t.Run("SlowReplyTimesOutAfterAccepting", func(t *testing.T) {
		t.Parallel()
		b := setup(t, twiliostandin.Options{})
		rc := b.client(t, sms.Credentials{AccountSID: accountSID, AuthToken: authToken}, 200*time.Millisecond)
		b.standin.Inject(twiliostandin.Fault{Delay: 5 * time.Second})
		_, err := send(rc, "+14155550101", "hi", "")
		var ne net.Error
		require.True(t, errors.As(err, &ne) && ne.Timeout(), "a client timeout, got %v", err)
		require.Len(t, b.standin.Messages(), 1, "the message was accepted before the reply was held back")
	})
	t.Run("DropAfterAccepting", func(t *testing.T) {
		t.Parallel()
		b := setup(t, twiliostandin.Options{})
		rc := b.tokenClient(t)
		b.standin.Inject(twiliostandin.Fault{Drop: true})
		_, err := send(rc, "+14155550101", "hi", "")
		require.Error(t, err)
		var te *client.TwilioRestError
		require.False(t, errors.As(err, &te), "no answer at all, got %v", err)
		require.Len(t, b.standin.Messages(), 1, "the message was accepted before the connection was dropped")
	})
	t.Run("ControlEndpoint", func(t *testing.T) {
		t.Parallel()
		b := setup(t, twiliostandin.Options{})
		resp, err := http.Post(b.url+"/_standin/faults", "application/json", strings.NewReader(`{"status":400,"code":21610,"to":"+14155550101"}`))
		require.NoError(t, err)
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
		_ = resp.Body.Close()
		resp, err = http.Post(b.url+"/_standin/faults", "application/json", strings.NewReader(`{"bogus":1}`))
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		_ = resp.Body.Close()
		_, err = send(b.tokenClient(t), "+14155550101", "hi", "")
		require.Equal(t, 21610, restError(t, err).Code)
	})
}

func TestList(t *testing.T) {
	t.Parallel()

	b := setup(t, twiliostandin.Options{})
	rc := b.tokenClient(t)
	var sids []string
	for i := range 5 {
		to := "+14155550101"
		if i%2 == 1 {
			to = "+14155550102"
		}
		m, err := send(rc, to, "hi "+fmtInt(i), "")
		require.NoError(t, err)
		sids = append(sids, *m.Sid)
	}
	// Messages are sent right after they are queued.
	require.Eventually(t, func() bool {
		for _, m := range b.standin.Messages() {
			if m.DateSent.IsZero() {
				return false
			}
		}
		return true
	}, 5*time.Second, 10*time.Millisecond)

	t.Run("ByToPaged", func(t *testing.T) {
		t.Parallel()
		to := "+14155550101"
		got, err := rc.Api.ListMessage(&openapi.ListMessageParams{To: &to, PageSize: ptr(2)})
		require.NoError(t, err)
		var gotSIDs []string
		for _, m := range got {
			gotSIDs = append(gotSIDs, *m.Sid)
		}
		require.Equal(t, []string{sids[4], sids[2], sids[0]}, gotSIDs, "newest first, over two pages")
	})
	t.Run("PageAnswer", func(t *testing.T) {
		t.Parallel()
		req, err := http.NewRequest(http.MethodGet, b.url+"/2010-04-01/Accounts/"+accountSID+"/Messages.json?PageSize=2", nil)
		require.NoError(t, err)
		req.SetBasicAuth(accountSID, authToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, string(body), `"next_page_uri":"/2010-04-01/Accounts/`+accountSID+`/Messages.json?Page=1&PageSize=2&PageToken=PA`+sids[3])
	})
	t.Run("DateSentAfter", func(t *testing.T) {
		t.Parallel()
		past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		got, err := rc.Api.ListMessage(&openapi.ListMessageParams{DateSentAfter: &past})
		require.NoError(t, err)
		require.Len(t, got, 5)
		got, err = rc.Api.ListMessage(&openapi.ListMessageParams{DateSentAfter: &future})
		require.NoError(t, err)
		require.Empty(t, got)
		from := "+15005550006"
		got, err = rc.Api.ListMessage(&openapi.ListMessageParams{From: &from, DateSentBefore: &future})
		require.NoError(t, err)
		require.Len(t, got, 5)
	})
	t.Run("OtherAccountSeesNothing", func(t *testing.T) {
		t.Parallel()
		other := setup(t, twiliostandin.Options{})
		got, err := other.tokenClient(t).Api.ListMessage(nil)
		require.NoError(t, err)
		require.Empty(t, got)
	})
}

func ptr[T any](v T) *T { return &v }

// TestStatusCallback checks the callbacks' order and parameters and their
// signature with twilio-go's own validator.
func TestStatusCallback(t *testing.T) {
	t.Parallel()

	type received struct {
		url    string
		body   []byte
		sig    string
		params url.Values
	}
	var mu sync.Mutex
	var got []received
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		params, _ := url.ParseQuery(string(body))
		mu.Lock()
		got = append(got, received{url: "http://" + r.Host + r.URL.RequestURI(), body: body, sig: r.Header.Get("X-Twilio-Signature"), params: params})
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	b := setup(t, twiliostandin.Options{})
	rc := b.tokenClient(t)
	cb := hook.URL + "/v1/webhooks/twilio/tenant-1/status?message_id=42"
	m1, err := send(rc, "+14155550101", "hi", cb)
	require.NoError(t, err)
	b.standin.Inject(twiliostandin.Fault{FinalStatus: "undelivered", ErrorCode: 30003})
	m2, err := send(rc, "+14155550102", "hi", cb)
	require.NoError(t, err)
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 4 }, 5*time.Second, 10*time.Millisecond)

	rv := client.NewRequestValidator(authToken)
	wrong := client.NewRequestValidator("someothertoken0123456789abcdef0")
	statuses := map[string][]string{}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range got {
		require.Equal(t, cb, r.url)
		require.True(t, rv.ValidateBody(r.url, r.body, r.sig), "signature of %s", r.body)
		require.False(t, wrong.ValidateBody(r.url, r.body, r.sig))
		require.False(t, rv.ValidateBody(r.url+"&x=1", r.body, r.sig), "the signature covers the URL")
		sid := r.params.Get("MessageSid")
		statuses[sid] = append(statuses[sid], r.params.Get("MessageStatus"))
		require.Equal(t, accountSID, r.params.Get("AccountSid"))
		if sid == *m2.Sid && r.params.Get("MessageStatus") == "undelivered" {
			require.Equal(t, "30003", r.params.Get("ErrorCode"))
		}
	}
	require.Equal(t, []string{"sent", "delivered"}, statuses[*m1.Sid])
	require.Equal(t, []string{"sent", "undelivered"}, statuses[*m2.Sid])
	require.Len(t, b.standin.Callbacks(), 4)
}

func TestSign(t *testing.T) {
	t.Parallel()
	params := url.Values{"MessageStatus": {"sent"}, "AccountSid": {accountSID}, "To": {"+14155550101"}}
	u := "https://example.com/v1/webhooks/twilio/x/status?id=1"
	rv := client.NewRequestValidator(authToken)
	flat := map[string]string{}
	for k := range params {
		flat[k] = params.Get(k)
	}
	require.True(t, rv.Validate(u, flat, twiliostandin.Sign(authToken, u, params)))
}
