package sms_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/sms"
	"github.com/customerhub/customerhub/internal/twiliostandin"
)

// publicBase is the public URL the application is told it is reached at:
// Twilio signs webhooks over it, whatever address the request reached.
const publicBase = "https://hooks.customerhub.test"

// setupHooks is setup with a public base URL of its own.
func setupHooks(t *testing.T) testBundle {
	t.Helper()
	k := key(t)
	app := apptest.New(t, dbtest.Shared(t), map[string]string{
		"CUSTOMERHUB_SECRET_KEY": base64.StdEncoding.EncodeToString(k), "CUSTOMERHUB_PUBLIC_BASE_URL": publicBase})
	return testBundle{app: app, tn: app.Signup(t), key: k}
}

// seeded is a campaign made by inserting its rows directly (making
// campaigns is the sender's work, not this test's).
type seeded struct {
	campaign string
	messages map[string]string // customer id -> message id
}

// seedMessage is one message of a seeded campaign.
type seedMessage struct {
	customer string
	state    string
	sid      string
	to       string
}

// seedCampaign inserts a campaign and its messages as the application role
// in a tenant transaction, each message with its customer's reach.
func seedCampaign(t *testing.T, app *apptest.App, tn apptest.Tenant, msgs ...seedMessage) seeded {
	t.Helper()
	out := seeded{campaign: uuid.NewString(), messages: map[string]string{}}
	err := database.WithTenantTx(context.Background(), app.DB.App, database.SystemScope(uuid.MustParse(tn.ID)),
		func(ctx context.Context, tx database.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO sms_campaigns (tenant_id, id, body, total) VALUES ($1, $2, 'You owe {balance}', $3)`,
				tn.ID, out.campaign, len(msgs)); err != nil {
				return err
			}
			for _, m := range msgs {
				id := uuid.NewString()
				var sid, to, body, skip *string
				if m.sid != "" {
					sid = &m.sid
				}
				if m.to != "" {
					to = &m.to
					b := "You owe 10.00"
					body = &b
				}
				if m.state == "skipped" {
					r := "no_phone"
					skip = &r
				}
				if _, err := tx.Exec(ctx, `INSERT INTO sms_messages (tenant_id, id, campaign_id, selected_id, customer_id, reach,
						to_phone, body, state, skip_reason, twilio_sid)
					SELECT c.tenant_id, $2, $3, c.id, c.id, c.reach, $5, $6, $7, $8, $9 FROM customers c
					WHERE c.tenant_id = $1 AND c.id = $4`,
					tn.ID, id, out.campaign, m.customer, to, body, m.state, skip, sid); err != nil {
					return err
				}
				out.messages[m.customer] = id
			}
			return nil
		})
	require.NoError(t, err)
	return out
}

type messageRow struct {
	State       string
	SID         *string
	ErrorCode   *int32
	SentAt      *time.Time
	DeliveredAt *time.Time
	UpdatedAt   time.Time
}

func (b testBundle) message(t *testing.T, tn apptest.Tenant, id string) messageRow {
	t.Helper()
	var m messageRow
	b.tx(t, tn, func(ctx context.Context, tx database.Tx) error {
		return tx.QueryRow(ctx, `SELECT state, twilio_sid, error_code, sent_at, delivered_at, updated_at FROM sms_messages WHERE id = $1`, id).
			Scan(&m.State, &m.SID, &m.ErrorCode, &m.SentAt, &m.DeliveredAt, &m.UpdatedAt)
	})
	return m
}

func (b testBundle) optOuts(t *testing.T, tn apptest.Tenant) map[string]string {
	t.Helper()
	out := map[string]string{}
	b.tx(t, tn, func(ctx context.Context, tx database.Tx) error {
		rows, err := tx.Query(ctx, `SELECT phone, source FROM sms_opt_outs`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p, s string
			if err := rows.Scan(&p, &s); err != nil {
				return err
			}
			out[p] = s
		}
		return rows.Err()
	})
	return out
}

// signed posts a form to path as Twilio would: signed with authToken over
// the public URL of path (sign, when set, signs other values than sent).
func (b testBundle) signed(t *testing.T, path, authToken string, form url.Values, sign url.Values) *apptest.Response {
	t.Helper()
	if sign == nil {
		sign = form
	}
	headers := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	if authToken != "" {
		headers["X-Twilio-Signature"] = twiliostandin.Sign(authToken, publicBase+path, sign)
	}
	return b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: path, Body: form.Encode(), Headers: headers})
}

func statusPath(tn apptest.Tenant, messageID string) string {
	return "/v1/webhooks/twilio/" + tn.ID + "/status?message_id=" + messageID
}

func statusForm(sid, status string, extra ...string) url.Values {
	f := url.Values{"AccountSid": {acct}, "MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status},
		"To": {"+14155550123"}, "From": {"+14155550100"}, "ApiVersion": {"2010-04-01"}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

func TestWebhookStatus(t *testing.T) {
	t.Parallel()

	// newMessage makes a configured tenant with one message in state.
	newMessage := func(t *testing.T, state, sid string) (testBundle, string) {
		t.Helper()
		b := setupHooks(t)
		configure(t, b, b.tn)
		cust := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Callback Co"})["id"].(string)
		s := seedCampaign(t, b.app, b.tn, seedMessage{customer: cust, state: state, sid: sid, to: "+14155550123"})
		return b, s.messages[cust]
	}

	t.Run("BadSignatureRefusedWithoutEffect", func(t *testing.T) {
		t.Parallel()
		b, id := newMessage(t, "sent", "SMaaaa")
		before := b.message(t, b.tn, id)
		path := statusPath(b.tn, id)
		form := statusForm("SMaaaa", "delivered")
		post := func(sig string) *apptest.Response {
			headers := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			if sig != "" {
				headers["X-Twilio-Signature"] = sig
			}
			return b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: path, Body: form.Encode(), Headers: headers})
		}
		for _, c := range []struct{ name, sig string }{
			{"missing", ""},
			{"other token", twiliostandin.Sign("OtherToken0123456789abcdefABCDEF", publicBase+path, form)},
			{"other values", twiliostandin.Sign(token, publicBase+path, statusForm("SMaaaa", "failed"))},
			{"other message", twiliostandin.Sign(token, publicBase+statusPath(b.tn, uuid.NewString()), form)},
			{"garbage", "bm90IGEgc2lnbmF0dXJl"},
		} {
			resp := post(c.sig)
			require.Equal(t, http.StatusForbidden, resp.Status, "%s: %s", c.name, resp.Body)
			require.Equal(t, "invalid_signature", resp.Map(t)["code"], c.name)
		}
		require.Equal(t, before, b.message(t, b.tn, id), "nothing changed")

		// A signed body of another media type is refused before anything.
		resp := b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: path, Body: form.Encode(), Headers: map[string]string{
			"Content-Type": "application/json", "X-Twilio-Signature": twiliostandin.Sign(token, publicBase+path, form)}})
		require.Equal(t, http.StatusUnsupportedMediaType, resp.Status, "%s", resp.Body)
		require.Equal(t, "unsupported_media_type", resp.Map(t)["code"])
		require.Equal(t, before, b.message(t, b.tn, id), "nothing changed")

		// The same callback, correctly signed, does move it.
		resp = b.signed(t, path, token, form, nil)
		require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp.Body)
		require.Equal(t, "delivered", b.message(t, b.tn, id).State)
	})

	t.Run("SignedForAnotherHostRefused", func(t *testing.T) {
		t.Parallel()
		b, id := newMessage(t, "sent", "SMhost")
		path := statusPath(b.tn, id)
		form := statusForm("SMhost", "delivered")
		resp := b.app.Do(t, apptest.Req{Method: http.MethodPost, Path: path, Body: form.Encode(), Headers: map[string]string{
			"Content-Type":       "application/x-www-form-urlencoded",
			"X-Twilio-Signature": twiliostandin.Sign(token, "https://evil.example"+path, form)}})
		require.Equal(t, http.StatusForbidden, resp.Status, "%s", resp.Body)
		require.Equal(t, "sent", b.message(t, b.tn, id).State)
	})

	t.Run("ForwardOnlyDuplicatesAndOutOfOrder", func(t *testing.T) {
		t.Parallel()
		b, id := newMessage(t, "sent", "SMbbbb")
		path := statusPath(b.tn, id)
		require.Equal(t, http.StatusNoContent, b.signed(t, path, token, statusForm("SMbbbb", "delivered"), nil).Status)
		first := b.message(t, b.tn, id)
		require.Equal(t, "delivered", first.State)
		require.NotNil(t, first.DeliveredAt)

		// A duplicate, a late "sent", a contradicting final status and
		// Twilio's intermediate statuses: all answered 204, none changes it.
		for _, st := range []string{"delivered", "sent", "failed", "undelivered", "queued", "sending", "accepted"} {
			resp := b.signed(t, path, token, statusForm("SMbbbb", st, "ErrorCode", "30003"), nil)
			require.Equal(t, http.StatusNoContent, resp.Status, "%s: %s", st, resp.Body)
		}
		require.Equal(t, first, b.message(t, b.tn, id), "still delivered, delivered_at and updated_at untouched")
	})

	t.Run("CallbackOvertakesTheSender", func(t *testing.T) {
		t.Parallel()
		// The sender claimed the message and called Twilio; Twilio's
		// callbacks arrive before the SID is stored, delivered first.
		b, id := newMessage(t, "sending", "")
		path := statusPath(b.tn, id)
		require.Equal(t, http.StatusNoContent, b.signed(t, path, token, statusForm("SMcccc", "delivered"), nil).Status)
		require.Equal(t, http.StatusNoContent, b.signed(t, path, token, statusForm("SMcccc", "sent"), nil).Status)
		m := b.message(t, b.tn, id)
		require.Equal(t, "delivered", m.State)
		require.Equal(t, "SMcccc", *m.SID)
		require.NotNil(t, m.SentAt)
		require.NotNil(t, m.DeliveredAt)
	})

	t.Run("UnknownStateReconciledByCallback", func(t *testing.T) {
		t.Parallel()
		b, id := newMessage(t, "unknown", "")
		require.Equal(t, http.StatusNoContent, b.signed(t, statusPath(b.tn, id), token, statusForm("SMdddd", "sent"), nil).Status)
		m := b.message(t, b.tn, id)
		require.Equal(t, "sent", m.State)
		require.Equal(t, "SMdddd", *m.SID)
	})

	t.Run("AnotherTwilioMessageIgnored", func(t *testing.T) {
		t.Parallel()
		b, id := newMessage(t, "sent", "SMeeee")
		before := b.message(t, b.tn, id)
		require.Equal(t, http.StatusNoContent, b.signed(t, statusPath(b.tn, id), token, statusForm("SMffff", "failed"), nil).Status)
		require.Equal(t, before, b.message(t, b.tn, id))
	})

	t.Run("SIDOfAnotherMessageIgnored", func(t *testing.T) {
		t.Parallel()
		b, id := newMessage(t, "sending", "")
		cust := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Holder Co"})["id"].(string)
		seedCampaign(t, b.app, b.tn, seedMessage{customer: cust, state: "sent", sid: "SMtaken", to: "+14155550125"})
		resp := b.signed(t, statusPath(b.tn, id), token, statusForm("SMtaken", "delivered"), nil)
		require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp.Body)
		m := b.message(t, b.tn, id)
		require.Equal(t, "sending", m.State)
		require.Nil(t, m.SID)
	})

	t.Run("BySIDWithoutMessageID", func(t *testing.T) {
		t.Parallel()
		b, id := newMessage(t, "sent", "SMgggg")
		path := "/v1/webhooks/twilio/" + b.tn.ID + "/status"
		resp := b.signed(t, path, token, statusForm("SMgggg", "undelivered", "ErrorCode", "30003"), nil)
		require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp.Body)
		m := b.message(t, b.tn, id)
		require.Equal(t, "undelivered", m.State)
		require.EqualValues(t, 30003, *m.ErrorCode)
		require.Nil(t, m.DeliveredAt)

		resp = b.signed(t, path, token, statusForm("SMnone", "delivered"), nil)
		require.Equal(t, http.StatusNotFound, resp.Status, "%s", resp.Body)
	})

	t.Run("UnsubscribedRecordsOptOut", func(t *testing.T) {
		t.Parallel()
		b, id := newMessage(t, "sent", "SMhhhh")
		resp := b.signed(t, statusPath(b.tn, id), token, statusForm("SMhhhh", "failed", "ErrorCode", "21610"), nil)
		require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp.Body)
		require.Equal(t, "failed", b.message(t, b.tn, id).State)
		require.Equal(t, map[string]string{"+14155550123": "twilio"}, b.optOuts(t, b.tn))
	})

	t.Run("ValidationNamesTheField", func(t *testing.T) {
		t.Parallel()
		b, id := newMessage(t, "sent", "SMiiii")
		form := url.Values{"MessageStatus": {"delivered"}}
		resp := b.signed(t, statusPath(b.tn, id), token, form, nil)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
		require.Equal(t, map[string]string{"MessageSid": "required"}, fields(t, resp))

		resp = b.signed(t, "/v1/webhooks/twilio/"+b.tn.ID+"/status?message_id=nope", token, statusForm("SMiiii", "delivered"), nil)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
		require.Equal(t, map[string]string{"message_id": "invalid_uuid"}, fields(t, resp))

		resp = b.signed(t, statusPath(b.tn, id)+"&extra=1", token, statusForm("SMiiii", "delivered"), nil)
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		require.Equal(t, "sent", b.message(t, b.tn, id).State)
	})

	t.Run("UnknownTenantNotFound", func(t *testing.T) {
		t.Parallel()
		b := setupHooks(t)
		for _, tid := range []string{uuid.NewString(), "not-a-tenant"} {
			path := "/v1/webhooks/twilio/" + tid + "/status?message_id=" + uuid.NewString()
			resp := b.signed(t, path, token, statusForm("SMjjjj", "delivered"), nil)
			require.Equal(t, http.StatusNotFound, resp.Status, "%s: %s", tid, resp.Body)
		}
	})

	t.Run("OtherTenantsMessageNotFound", func(t *testing.T) {
		t.Parallel()
		b, id := newMessage(t, "sent", "SMkkkk")
		other := b.app.Signup(t)
		configure(t, b, other)
		resp := b.signed(t, statusPath(other, id), token, statusForm("SMkkkk", "delivered"), nil)
		require.Equal(t, http.StatusNotFound, resp.Status, "%s", resp.Body)
		require.Equal(t, "sent", b.message(t, b.tn, id).State)
	})

	t.Run("TenantWithoutAuthTokenRefuses", func(t *testing.T) {
		t.Parallel()
		b := setupHooks(t)
		resp := b.signed(t, statusPath(b.tn, uuid.NewString()), token, statusForm("SMllll", "delivered"), nil)
		require.Equal(t, http.StatusForbidden, resp.Status, "%s", resp.Body)
	})
}

// appTransport sends the stand-in's callbacks to the application, as a
// proxy in front of it would: the URL keeps the public host Twilio signed.
type appTransport struct{ app *apptest.App }

func (a appTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		_ = r.Body.Close()
	}
	req := httptest.NewRequest(r.Method, r.URL.RequestURI(), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	return a.app.Server.App.Test(req, -1)
}

// TestStatusCallbacksFromStandin sends a message through twilio-go to the
// stand-in with the status callback URL of the contract; the stand-in's
// signed callbacks (sent, then delivered) reach the webhook and move the
// message, with the SID the sender would store.
func TestStatusCallbacksFromStandin(t *testing.T) {
	t.Parallel()
	b := setupHooks(t)
	configure(t, b, b.tn)
	standin := twiliostandin.New(twiliostandin.Options{
		Accounts:       []twiliostandin.Account{{SID: acct, AuthToken: token}},
		CallbackClient: &http.Client{Transport: appTransport{b.app}, Timeout: 30 * time.Second},
	})
	srv := httptest.NewServer(standin)
	t.Cleanup(func() { srv.Close(); standin.Close() })
	svc := b.svc(t)
	svc.Twilio = sms.ClientOptions{APIURL: srv.URL, Timeout: 5 * time.Second}

	cust := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Standin Co"})["id"].(string)
	s := seedCampaign(t, b.app, b.tn, seedMessage{customer: cust, state: "sending", to: "+14155550124"})
	id := s.messages[cust]
	var sid string
	b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
		snd, err := svc.Sender(ctx, tx)
		require.NoError(t, err)
		rc, err := svc.TwilioClient(snd)
		require.NoError(t, err)
		p := &openapi.CreateMessageParams{}
		p.SetTo("+14155550124").SetFrom(snd.FromNumber).SetBody("You owe 10.00").
			SetStatusCallback(sms.StatusCallbackURL(publicBase, uuid.MustParse(b.tn.ID), uuid.MustParse(id)))
		m, err := rc.Api.CreateMessage(p)
		require.NoError(t, err)
		sid = *m.Sid
		return nil
	})
	require.Eventually(t, func() bool { return len(standin.Callbacks()) == 2 }, 20*time.Second, 20*time.Millisecond)
	for _, cb := range standin.Callbacks() {
		require.NoError(t, cb.Err)
		require.Equal(t, http.StatusNoContent, cb.StatusCode, "%s", cb.Params.Get("MessageStatus"))
	}
	m := b.message(t, b.tn, id)
	require.Equal(t, "delivered", m.State)
	require.Equal(t, sid, *m.SID)
}

func TestWebhookInbound(t *testing.T) {
	t.Parallel()
	b := setupHooks(t)
	configure(t, b, b.tn)
	path := "/v1/webhooks/twilio/" + b.tn.ID + "/inbound"
	inbound := func(from, body string) *apptest.Response {
		t.Helper()
		return b.signed(t, path, token, url.Values{"AccountSid": {acct}, "MessageSid": {"SM" + strings.Repeat("1", 32)},
			"From": {from}, "To": {"+14155550100"}, "Body": {body}, "NumMedia": {"0"}}, nil)
	}
	t.Run("OptOutKeywords", func(t *testing.T) {
		for i, body := range []string{"STOP", " stop ", "Stop\n", "STOPALL", "unsubscribe", "Cancel", "END", "quit"} {
			from := "+1415555020" + string(rune('0'+i))
			resp := inbound(from, body)
			require.Equal(t, http.StatusOK, resp.Status, "%q: %s", body, resp.Body)
			require.Equal(t, "text/xml; charset=utf-8", resp.Header.Get("Content-Type"))
			require.Equal(t, `<?xml version="1.0" encoding="UTF-8"?><Response/>`, string(resp.Body))
			require.Equal(t, "inbound", b.optOuts(t, b.tn)[from], "%q opts out", body)
		}
	})
	t.Run("OtherBodiesChangeNothing", func(t *testing.T) {
		before := b.optOuts(t, b.tn)
		for _, body := range []string{"stop sending these", "S T O P", "", "Hello", "STOP!"} {
			resp := inbound("+14155550300", body)
			require.Equal(t, http.StatusOK, resp.Status, "%q: %s", body, resp.Body)
		}
		require.Equal(t, http.StatusOK, inbound("Twilio", "STOP").Status, "not a number: nothing to record")
		require.Equal(t, before, b.optOuts(t, b.tn))
	})
	t.Run("OptInKeywordsRemove", func(t *testing.T) {
		for i, body := range []string{"START", " yes", "Unstop"} {
			from := "+1415555040" + string(rune('0'+i))
			require.Equal(t, http.StatusOK, inbound(from, "STOP").Status)
			require.Contains(t, b.optOuts(t, b.tn), from)
			require.Equal(t, http.StatusOK, inbound(from, body).Status)
			require.NotContains(t, b.optOuts(t, b.tn), from, "%q opts back in", body)
		}
		require.Equal(t, http.StatusOK, inbound("+14155550499", "START").Status, "nothing to remove is fine")
	})
	t.Run("Audited", func(t *testing.T) {
		from := "+14155550500"
		require.Equal(t, http.StatusOK, inbound(from, "STOP").Status)
		require.Equal(t, http.StatusOK, inbound(from, "STOP").Status, "twice: one record, one event")
		require.Equal(t, http.StatusOK, inbound(from, "START").Status)
		id := sms.OptOutEntityID(uuid.MustParse(b.tn.ID), from)
		resp := b.app.Get(t, "/v1/audit?entity=sms_opt_out&id="+id.String(), b.tn.AdminToken)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		var trail struct {
			Items []struct {
				Action  string  `json:"action"`
				ActorID *string `json:"actor_id"`
			} `json:"items"`
		}
		resp.JSON(t, &trail)
		require.Len(t, trail.Items, 2, "%s", resp.Body)
		actions := []string{trail.Items[0].Action, trail.Items[1].Action}
		require.ElementsMatch(t, []string{"create", "delete"}, actions)
		require.Nil(t, trail.Items[0].ActorID, "no user: Twilio did it")
	})
	t.Run("BadSignatureRefusedWithoutEffect", func(t *testing.T) {
		form := url.Values{"From": {"+14155550600"}, "Body": {"STOP"}}
		resp := b.signed(t, path, "OtherToken0123456789abcdefABCDEF", form, nil)
		require.Equal(t, http.StatusForbidden, resp.Status, "%s", resp.Body)
		resp = b.signed(t, path, "", form, nil)
		require.Equal(t, http.StatusForbidden, resp.Status, "%s", resp.Body)
		require.NotContains(t, b.optOuts(t, b.tn), "+14155550600")
	})
	t.Run("OversizedBodyRefused", func(t *testing.T) {
		form := url.Values{"From": {"+14155550650"}, "Body": {"STOP"}, "Padding": {strings.Repeat("x", 70<<10)}}
		resp := b.signed(t, path, token, form, nil)
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.Status, "%s", resp.Body[:min(200, len(resp.Body))])
		require.NotContains(t, b.optOuts(t, b.tn), "+14155550650")
	})
	t.Run("FromStandin", func(t *testing.T) {
		standin := twiliostandin.New(twiliostandin.Options{
			Accounts:       []twiliostandin.Account{{SID: acct, AuthToken: token}},
			CallbackClient: &http.Client{Transport: appTransport{b.app}, Timeout: 30 * time.Second},
		})
		t.Cleanup(standin.Close)
		status, body, err := standin.Inbound(acct, sms.InboundURL(publicBase, uuid.MustParse(b.tn.ID)), "+14155550700", "+14155550100", "Stop")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, body)
		require.Equal(t, "inbound", b.optOuts(t, b.tn)["+14155550700"])

		// Through the control endpoint, as a developer would.
		srv := httptest.NewServer(standin)
		t.Cleanup(srv.Close)
		r, err := http.Post(srv.URL+"/_standin/inbound", "application/json", strings.NewReader(`{"account_sid":"`+acct+
			`","url":"`+sms.InboundURL(publicBase, uuid.MustParse(b.tn.ID))+`","from":"+14155550700","to":"+14155550100","body":"START"}`))
		require.NoError(t, err)
		raw, _ := io.ReadAll(r.Body)
		r.Body.Close()
		require.Equal(t, http.StatusOK, r.StatusCode, "%s", raw)
		require.Contains(t, string(raw), `"status":200`)
		require.NotContains(t, b.optOuts(t, b.tn), "+14155550700")
	})
}

func TestKeyword(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		body string
		want sms.InboundAction
	}{
		{"STOP", sms.InboundOptOut}, {"stop", sms.InboundOptOut}, {"  Stop \r\n", sms.InboundOptOut}, {"\tSTOPALL", sms.InboundOptOut},
		{"Unsubscribe", sms.InboundOptOut}, {"cancel", sms.InboundOptOut}, {"END", sms.InboundOptOut}, {"Quit", sms.InboundOptOut},
		{"OPTOUT", sms.InboundOptOut}, {"revoke", sms.InboundOptOut},
		{"START", sms.InboundOptIn}, {"yes", sms.InboundOptIn}, {" Unstop", sms.InboundOptIn},
		{"", sms.InboundNone}, {"STOP please", sms.InboundNone}, {"S TOP", sms.InboundNone}, {"STOP.", sms.InboundNone},
		{"yes stop", sms.InboundNone}, {"HELP", sms.InboundNone}, {"ＳＴＯＰ", sms.InboundNone},
	} {
		require.Equal(t, c.want, sms.Keyword(c.body), "%q", c.body)
	}
}
