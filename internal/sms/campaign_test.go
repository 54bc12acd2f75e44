package sms_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/sms"
	"github.com/customerhub/customerhub/internal/twiliostandin"
)

// campBundle is an application sending to a Twilio stand-in.
type campBundle struct {
	testBundle
	standin *twiliostandin.Server
	tid     uuid.UUID
}

// setupCampaign starts a stand-in and the application pointed at it; the
// tenant is configured to send now (its window open), at rate.
func setupCampaign(t *testing.T, rate int) campBundle {
	t.Helper()
	st := twiliostandin.New(twiliostandin.Options{Accounts: []twiliostandin.Account{{SID: acct, AuthToken: token}}})
	hs := httptest.NewServer(st)
	t.Cleanup(func() { hs.Close(); st.Close() })
	k := key(t)
	app := apptest.New(t, dbtest.Shared(t), map[string]string{
		"CUSTOMERHUB_SECRET_KEY":          base64.StdEncoding.EncodeToString(k),
		"CUSTOMERHUB_TWILIO_API_URL":      hs.URL,
		"CUSTOMERHUB_TWILIO_TIMEOUT":      "2s",
		"CUSTOMERHUB_PUBLIC_BASE_URL":     "http://127.0.0.1:1",
		"CUSTOMERHUB_SMS_RECONCILE_AFTER": "20ms",
		"CUSTOMERHUB_SMS_TRACK_INTERVAL":  "50ms",
	})
	b := campBundle{testBundle: testBundle{app: app, tn: app.Signup(t), key: k}, standin: st}
	b.tid = uuid.MustParse(b.tn.ID)
	now := time.Now().UTC()
	resp := app.Patch(t, "/v1/sms/settings", b.tn.AdminToken, `"1"`, map[string]any{
		"account_sid": acct, "auth_token": token, "from_number": "+14155550100", "time_zone": "UTC",
		"quiet_start": now.Add(-time.Hour).Format("15:04"), "quiet_end": now.Add(3 * time.Hour).Format("15:04"),
		"rate_per_second": rate, "min_days_between": 7,
	})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	return b
}

// cust is a customer made straight in the database.
type cust struct {
	name, phone, status string
	balance             string
	lastNotice          *time.Time
}

func (b campBundle) customers(t *testing.T, cs ...cust) []string {
	t.Helper()
	ids := make([]string, len(cs))
	b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
		for i, c := range cs {
			id := uuid.New()
			ids[i] = id.String()
			var phone *string
			if c.phone != "" {
				phone = &c.phone
			}
			status := c.status
			if status == "" {
				status = "active"
			}
			_, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, code, name, phone, status, balance, overdue_amount, last_notice_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7::numeric, $7::numeric, $8)`, b.tid, id, "C"+id.String()[:8], c.name, phone, status, c.balance, c.lastNotice)
			if err != nil {
				return err
			}
		}
		return nil
	})
	return ids
}

func (b campBundle) post(t *testing.T, body map[string]any) *apptest.Response {
	t.Helper()
	return b.app.Post(t, "/v1/sms/receivable-notices", b.tn.AdminToken, body)
}

// messages returns the campaign's messages by customer id.
func (b campBundle) messages(t *testing.T, campaignID string) map[string]message {
	t.Helper()
	out := map[string]message{}
	b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
		rows, err := tx.Query(ctx, `SELECT customer_id, state, coalesce(skip_reason, ''), coalesce(twilio_sid, ''), attempts::text,
			coalesce(to_phone, ''), coalesce(body, '') FROM sms_messages WHERE tenant_id = $1 AND campaign_id = $2`, b.tid, campaignID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m message
			var id uuid.UUID
			if err := rows.Scan(&id, &m.state, &m.reason, &m.sid, &m.attempts, &m.to, &m.body); err != nil {
				return err
			}
			out[id.String()] = m
		}
		return rows.Err()
	})
	return out
}

type message struct {
	state, reason, sid, attempts, to, body string
}

// waitCampaign waits until the campaign's job has ended and returns it.
func (b campBundle) waitCampaign(t *testing.T, jobID string) map[string]any {
	t.Helper()
	return b.app.WaitJob(t, b.tn.AdminToken, jobID)
}

func accepted(t *testing.T, resp *apptest.Response) (campaignID, jobID string) {
	t.Helper()
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	m := resp.Map(t)
	return m["campaign"].(map[string]any)["id"].(string), m["job"].(map[string]any)["id"].(string)
}

// atStandin counts the stand-in's messages by recipient.
func atStandin(st *twiliostandin.Server) map[string]int {
	out := map[string]int{}
	for _, m := range st.Messages() {
		out[m.To]++
	}
	return out
}

func TestReceivableNotices(t *testing.T) {
	t.Parallel()

	t.Run("EndToEnd", func(t *testing.T) {
		t.Parallel()
		b := setupCampaign(t, 50)
		ids := b.customers(t, cust{name: "Ada", phone: "+14155550101", balance: "120.50"},
			cust{name: "Bob", phone: "+14155550102", balance: "80"})
		resp := b.post(t, map[string]any{"selection": map[string]any{"ids": ids}, "template": "Hello {name}, you owe {balance}."})
		campID, jobID := accepted(t, resp)
		camp := resp.Map(t)["campaign"].(map[string]any)
		require.Equal(t, "sending", camp["state"])
		require.EqualValues(t, 2, camp["counts"].(map[string]any)["queued"])
		require.EqualValues(t, 2, camp["total"])
		// One unique send job per message, and the tracker, inserted with it.
		var sends, trackers int
		b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
			require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE kind = 'sms_send'), count(*) FILTER (WHERE kind = 'sms_campaign')
				FROM river.river_job WHERE args->>'campaign_id' = $1`, campID).Scan(&sends, &trackers))
			return nil
		})
		require.Equal(t, 2, sends)
		require.Equal(t, 1, trackers)

		b.app.StartWorkers(t)
		end := b.waitCampaign(t, jobID)
		require.Equal(t, "succeeded", end["state"], "%v", end)
		require.EqualValues(t, 2, end["progress"].(map[string]any)["processed"])
		require.Equal(t, map[string]int{"+14155550101": 1, "+14155550102": 1}, atStandin(b.standin))
		ms := b.messages(t, campID)
		require.Equal(t, "sent", ms[ids[0]].state)
		require.Equal(t, "Hello Ada, you owe 120.50.", ms[ids[0]].body)
		require.True(t, strings.HasPrefix(ms[ids[0]].sid, "SM"))
		for _, m := range b.standin.Messages() {
			require.Contains(t, m.StatusCallback, "/v1/webhooks/twilio/"+b.tn.ID+"/status?message_id=")
			require.Equal(t, "+14155550100", m.From)
		}
		b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
			var state string
			var noticed int
			require.NoError(t, tx.QueryRow(ctx, `SELECT state FROM sms_campaigns WHERE id = $1`, campID).Scan(&state))
			require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM customers WHERE tenant_id = $1 AND last_notice_at > now() - interval '1 minute'`, b.tid).Scan(&noticed))
			require.Equal(t, "finished", state)
			require.Equal(t, 2, noticed)
			return nil
		})

		// The same customers again: notified within the minimum interval.
		resp = b.post(t, map[string]any{"selection": map[string]any{"ids": ids}, "template": "Again {name}"})
		campID, _ = accepted(t, resp)
		for _, m := range b.messages(t, campID) {
			require.Equal(t, sms.SkipNotifiedRecently, m.reason)
		}
	})

	t.Run("SkipsWithReasons", func(t *testing.T) {
		t.Parallel()
		b := setupCampaign(t, 50)
		recent := time.Now().Add(-24 * time.Hour)
		ids := b.customers(t,
			cust{name: "ok", phone: "+14155550201", balance: "10"},
			cust{name: "nophone", balance: "10"},
			cust{name: "invalid", phone: "555-0101", balance: "10"},
			cust{name: "optedout", phone: "+14155550203", balance: "10"},
			cust{name: "dormant", phone: "+14155550204", balance: "10", status: "dormant"},
			cust{name: "zero", phone: "+14155550205", balance: "0"},
			cust{name: "credit", phone: "+14155550206", balance: "-5"},
			cust{name: "recent", phone: "+14155550207", balance: "10", lastNotice: &recent},
			cust{name: "paid", phone: "+14155550208", balance: "10"},
			cust{name: "stop", phone: "+14155550209", balance: "10"},
			cust{name: "bad", phone: "+14155550210", balance: "10"},
		)
		b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO sms_opt_outs (tenant_id, phone, source) VALUES ($1, '+14155550203', 'inbound')`, b.tid)
			return err
		})
		body := map[string]any{"selection": map[string]any{"ids": ids}, "template": "Dear {name}: {balance} due", "min_balance": 0}

		dry := map[string]any{"dry_run": true}
		for k, v := range body {
			dry[k] = v
		}
		resp := b.post(t, dry)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		var d struct {
			Counts struct {
				Eligible int64
				Skipped  map[string]int64
			}
			Preview []struct{ Text, Encoding, To string }
		}
		resp.JSON(t, &d)
		require.EqualValues(t, 4, d.Counts.Eligible)
		require.Equal(t, map[string]int64{"no_phone": 1, "invalid_phone": 1, "opted_out": 1, "dormant": 1,
			"balance_below_minimum": 2, "notified_recently": 1}, d.Counts.Skipped)
		require.Len(t, d.Preview, 4)
		require.Contains(t, []string{"Dear ok: 10.00 due", "Dear paid: 10.00 due", "Dear stop: 10.00 due", "Dear bad: 10.00 due"}, d.Preview[0].Text)
		require.Equal(t, "GSM-7", d.Preview[0].Encoding)
		// The dry run left nothing behind.
		b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
			var n int
			require.NoError(t, tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM sms_campaigns) + (SELECT count(*) FROM sms_messages)
				+ (SELECT count(*) FROM jobs WHERE kind = 'sms_campaign')`).Scan(&n))
			require.Zero(t, n)
			return nil
		})

		campID, jobID := accepted(t, b.post(t, body))
		// Between the campaign and its sends: one customer pays, one number
		// says STOP at Twilio, one is refused as invalid by Twilio.
		b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE customers SET balance = 0 WHERE id = $1`, ids[8])
			return err
		})
		b.standin.Unsubscribe("+14155550209")
		b.standin.Inject(twiliostandin.Fault{To: "+14155550210", Status: 400, Code: 21211})
		b.app.StartWorkers(t)
		end := b.waitCampaign(t, jobID)
		require.Equal(t, "succeeded", end["state"], "%v", end)

		ms := b.messages(t, campID)
		want := map[string][2]string{
			"ok": {"sent", ""}, "nophone": {"skipped", "no_phone"}, "invalid": {"skipped", "invalid_phone"},
			"optedout": {"skipped", "opted_out"}, "dormant": {"skipped", "dormant"}, "zero": {"skipped", "balance_below_minimum"},
			"credit": {"skipped", "balance_below_minimum"}, "recent": {"skipped", "notified_recently"},
			"paid": {"skipped", "paid_meanwhile"}, "stop": {"opted_out", ""}, "bad": {"failed", ""},
		}
		names := []string{"ok", "nophone", "invalid", "optedout", "dormant", "zero", "credit", "recent", "paid", "stop", "bad"}
		for i, n := range names {
			require.Equal(t, want[n], [2]string{ms[ids[i]].state, ms[ids[i]].reason}, n)
		}
		require.Contains(t, ms[ids[10]].attempts, `"error_code": 21211`)
		require.Equal(t, 1, strings.Count(ms[ids[10]].attempts, `"n"`), "an invalid number is never retried")
		require.Equal(t, map[string]int{"+14155550201": 1}, atStandin(b.standin))
		b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
			var source string
			require.NoError(t, tx.QueryRow(ctx, `SELECT source FROM sms_opt_outs WHERE phone = '+14155550209'`).Scan(&source))
			require.Equal(t, "twilio", source)
			return nil
		})
	})

	t.Run("Storm", func(t *testing.T) {
		t.Parallel()
		b := setupCampaign(t, 200)
		const n = 30
		cs := make([]cust, n)
		for i := range cs {
			cs[i] = cust{name: fmt.Sprintf("storm %d", i), phone: fmt.Sprintf("+1415555%04d", 3000+i), balance: "42"}
		}
		ids := b.customers(t, cs...)
		// 429s, 500s and dropped connections (the message accepted, the
		// answer lost), in that order, then slow answers.
		b.standin.Inject(twiliostandin.Fault{Status: 429, Times: 12})
		b.standin.Inject(twiliostandin.Fault{Status: 500, Times: 12})
		b.standin.Inject(twiliostandin.Fault{Drop: true, Times: 12})
		campID, jobID := accepted(t, b.post(t, map[string]any{"selection": map[string]any{"ids": ids}, "template": "Pay {balance}"}))
		b.app.StartWorkers(t)
		end := b.waitCampaign(t, jobID)
		require.Equal(t, "succeeded", end["state"], "%v", end)
		got := atStandin(b.standin)
		require.Len(t, got, n)
		for to, k := range got {
			require.Equal(t, 1, k, "duplicate to %s", to)
		}
		outcomes := map[string]int{}
		for _, m := range b.messages(t, campID) {
			require.Equal(t, "sent", m.state)
			for _, o := range []string{"rate_limited", "unknown", "reconciled_found", "reconciled_absent", "sent"} {
				outcomes[o] += strings.Count(m.attempts, `"outcome": "`+o+`"`)
			}
		}
		require.Equal(t, 12, outcomes["rate_limited"])
		require.Equal(t, 24, outcomes["unknown"], "every 500 and every drop is unknown until reconciled")
		require.Equal(t, 12, outcomes["reconciled_found"], "each dropped connection's message is found at Twilio")
		require.Equal(t, 12, outcomes["reconciled_absent"], "each 500's message is absent and sent again")
	})

	t.Run("Validation", func(t *testing.T) {
		t.Parallel()
		b := setup(t) // no SMS settings
		id := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"code": "V1", "name": "V"})["id"].(string)
		resp := b.app.Post(t, "/v1/sms/receivable-notices", b.tn.AdminToken, map[string]any{"selection": map[string]any{"ids": []string{id}}, "template": "Hi {name}"})
		require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)
		require.Contains(t, string(resp.Body), "sms_not_configured")

		resp = b.app.Post(t, "/v1/sms/receivable-notices", b.tn.AdminToken, map[string]any{"template": "Hi {nope}", "min_balance": -1})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		require.Equal(t, map[string]string{"selection": "required"}, fields(t, resp))

		resp = b.app.Post(t, "/v1/sms/receivable-notices", b.tn.AdminToken, map[string]any{"selection": map[string]any{"ids": []string{id}},
			"template": "Hi {nope}", "min_balance": -1})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
		f := fields(t, resp)
		require.Equal(t, "out_of_range", f["min_balance"])
		require.Contains(t, f, "template")

		resp = b.app.Post(t, "/v1/sms/receivable-notices", b.tn.AdminToken, map[string]any{"selection": map[string]any{"ids": []string{id}},
			"template_id": uuid.NewString()})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
		require.Equal(t, map[string]string{"template_id": "not_found"}, fields(t, resp))

		resp = b.app.Post(t, "/v1/sms/receivable-notices", b.tn.AdminToken, map[string]any{"selection": map[string]any{"filter": map[string]string{"nope": "1"}},
			"template": "x"})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
		require.Equal(t, map[string]string{"selection.filter.nope": "unknown_filter"}, fields(t, resp))

		viewer := b.app.CreateUser(t, b.tn, "viewer", nil)
		resp = b.app.Post(t, "/v1/sms/receivable-notices", viewer.Token, map[string]any{"selection": map[string]any{"ids": []string{id}}, "template": "x"})
		require.Equal(t, http.StatusForbidden, resp.Status, "%s", resp.Body)
	})
}
