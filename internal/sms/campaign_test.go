package sms_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
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
	"github.com/customerhub/customerhub/internal/ratelimit"
	"github.com/customerhub/customerhub/internal/server"
	"github.com/customerhub/customerhub/internal/sms"
	"github.com/customerhub/customerhub/internal/tenant"
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
	// A database of its own: workers work every job of their database,
	// and this test's jobs must reach this test's stand-in.
	app := apptest.New(t, dbtest.Fresh(t), map[string]string{
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
			// A London fixed line: its type is known, and it takes no SMS.
			cust{name: "landline", phone: "+442079460000", balance: "10"},
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
		require.Equal(t, map[string]int64{"no_phone": 1, "invalid_phone": 2, "opted_out": 1, "dormant": 1,
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
			"landline": {"skipped", "invalid_phone"},
		}
		names := []string{"ok", "nophone", "invalid", "optedout", "dormant", "zero", "credit", "recent", "paid", "stop", "bad", "landline"}
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

	t.Run("QuietHoursInTwoTimeZones", func(t *testing.T) {
		t.Parallel()
		zones := []string{"Asia/Tokyo", "America/Los_Angeles"}
		// One local window, the same clock times in both zones, closed now
		// in both: each tenant's sends wait until it opens in its own zone.
		now := time.Now()
		var start, end string
		for h := 2; h < 12; h++ {
			tokyo, _ := time.LoadLocation(zones[0])
			s := now.In(tokyo).Add(time.Duration(h) * time.Hour)
			start, end = s.Format("15:04"), s.Add(time.Hour).Format("15:04")
			closed := true
			for _, z := range zones {
				w, err := sms.NewWindow(z, start, end)
				require.NoError(t, err)
				closed = closed && !w.Open(now) && !w.Open(now.Add(time.Minute))
			}
			if closed {
				break
			}
		}
		type run struct {
			b      campBundle
			window sms.Window
			jobIDs []string
		}
		runs := make([]run, len(zones))
		for i, z := range zones {
			b := setupCampaign(t, 50)
			resp := b.app.Patch(t, "/v1/sms/settings", b.tn.AdminToken, `"2"`, map[string]any{"time_zone": z, "quiet_start": start, "quiet_end": end})
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
			w, err := sms.NewWindow(z, start, end)
			require.NoError(t, err)
			ids := b.customers(t, cust{name: "night", phone: fmt.Sprintf("+1415555%04d", 4000+i), balance: "9"})
			_, jobID := accepted(t, b.post(t, map[string]any{"selection": map[string]any{"ids": ids}, "template": "Owed {balance}"}))
			b.app.StartWorkers(t)
			runs[i] = run{b: b, window: w, jobIDs: []string{jobID}}
		}
		for _, r := range runs {
			opens := r.window.Next(now)
			require.True(t, opens.After(now.Add(90*time.Minute)), "window opens %s", opens)
			var at time.Time
			require.Eventually(t, func() bool {
				var state string
				r.b.tx(t, r.b.tn, func(ctx context.Context, tx database.Tx) error {
					return tx.QueryRow(ctx, `SELECT state, scheduled_at FROM river.river_job WHERE kind = 'sms_send'`).Scan(&state, &at)
				})
				return state == "scheduled" && at.After(now.Add(time.Hour))
			}, time.Minute, 20*time.Millisecond)
			// Snoozed until the window opens in the tenant's zone (plus up
			// to a minute of jitter, so a campaign's sends do not all wake
			// at once).
			require.WithinRange(t, at, opens.Add(-time.Second), opens.Add(time.Minute+time.Second), "zone %s", r.window.Location)
			require.Empty(t, r.b.standin.Messages())
		}
		require.NotEqual(t, runs[0].window.Next(now), runs[1].window.Next(now), "the same local window opens at different instants")

		// The window opens (the settings change, the job's time comes):
		// the job checks the window again and sends.
		for _, r := range runs {
			resp := r.b.app.Patch(t, "/v1/sms/settings", r.b.tn.AdminToken, `"3"`, map[string]any{"time_zone": "UTC",
				"quiet_start": now.UTC().Add(-time.Hour).Format("15:04"), "quiet_end": now.UTC().Add(3 * time.Hour).Format("15:04")})
			require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
			r.b.tx(t, r.b.tn, func(ctx context.Context, tx database.Tx) error {
				_, err := tx.Exec(ctx, `UPDATE river.river_job SET scheduled_at = now() WHERE kind = 'sms_send'`)
				return err
			})
			end := r.b.waitCampaign(t, r.jobIDs[0])
			require.Equal(t, "succeeded", end["state"], "%v", end)
			require.Len(t, r.b.standin.Messages(), 1)
		}
	})

	t.Run("CredentialsNeverShown", func(t *testing.T) {
		t.Parallel()
		b := setupCampaign(t, 50)
		var sealed string
		b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
			return tx.QueryRow(ctx, `SELECT auth_token_sealed FROM sms_settings WHERE tenant_id = $1`, b.tid).Scan(&sealed)
		})
		secrets := []string{token, sealed, base64.StdEncoding.EncodeToString(b.key)}
		clean := func(what, text string) {
			t.Helper()
			for _, s := range secrets {
				require.NotContains(t, text, s, what)
			}
		}
		ids := b.customers(t, cust{name: "a", phone: "+14155550301", balance: "5"}, cust{name: "b", phone: "+14155550302", balance: "5"})
		resp := b.post(t, map[string]any{"selection": map[string]any{"ids": ids}, "template": "Owed {balance}"})
		campID, jobID := accepted(t, resp)
		clean("campaign answer", string(resp.Body))
		dry := b.post(t, map[string]any{"selection": map[string]any{"ids": ids}, "template": "Owed {balance}", "dry_run": true})
		require.Equal(t, http.StatusOK, dry.Status, "%s", dry.Body)
		clean("dry run answer", string(dry.Body))

		// The jobs' arguments hold ids only.
		var args []string
		b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
			rows, err := tx.Query(ctx, `SELECT args::text FROM river.river_job WHERE kind IN ('sms_send', 'sms_campaign')`)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var a string
				if err := rows.Scan(&a); err != nil {
					return err
				}
				args = append(args, a)
			}
			return rows.Err()
		})
		require.Len(t, args, 3)
		for _, a := range args {
			clean("job args", a)
			require.Contains(t, a, campID)
		}

		// Sending through a failing Twilio, every line logged at debug
		// level and up is captured.
		var logs syncBuffer
		logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		authSvc := server.NewAuthService(b.app.Config, b.app.DB.App, logger)
		svc := b.svc(t)
		svc.Twilio = sms.ClientOptions{APIURL: b.app.Config.TwilioAPIURL, Timeout: 2 * time.Second}
		d := sms.NewDispatcher(b.app.DB.App, svc, func(ctx context.Context, tx database.Tx, id uuid.UUID) (*tenant.Principal, error) {
			return authSvc.PrincipalFor(ctx, tx, id)
		}, ratelimit.New(nil, logger), logger, sms.SendOptions{PublicBaseURL: "http://127.0.0.1:1", ReconcileAfter: -1})
		b.standin.Inject(twiliostandin.Fault{Status: 500, Times: 1})
		b.standin.Inject(twiliostandin.Fault{Drop: true, Times: 1})
		b.standin.Inject(twiliostandin.Fault{Status: 401, Code: 20003, Times: 1})
		for _, id := range ids {
			var a sms.SendArgs
			b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
				return tx.QueryRow(ctx, `SELECT (args->>'tenant_id')::uuid, (args->>'user_id')::uuid, (args->>'campaign_id')::uuid,
					(args->>'customer_id')::uuid, (args->>'message_id')::uuid FROM river.river_job WHERE kind = 'sms_send' AND args->>'customer_id' = $1`, id).
					Scan(&a.TenantID, &a.UserID, &a.CampaignID, &a.CustomerID, &a.MessageID)
			})
			require.NoError(t, d.Send(context.Background(), a))
		}
		require.Contains(t, logs.String(), "outcome unknown", "the capture works")
		clean("logs", logs.String())
		job := b.app.Get(t, "/v1/jobs/"+jobID, b.tn.AdminToken)
		clean("job answer", string(job.Body))
		settings := b.app.Get(t, "/v1/sms/settings", b.tn.AdminToken)
		clean("settings answer", string(settings.Body))
		ms := b.messages(t, campID)
		require.Equal(t, "sent", ms[ids[0]].state)
		require.Equal(t, "failed", ms[ids[1]].state, "%v", ms[ids[1]])
	})

	t.Run("RetriedRequestOneNotice", func(t *testing.T) {
		t.Parallel()
		b := setupCampaign(t, 100)
		cs := make([]cust, 20)
		for i := range cs {
			cs[i] = cust{name: fmt.Sprintf("twice %d", i), phone: fmt.Sprintf("+1415555%04d", 5000+i), balance: "7"}
		}
		ids := b.customers(t, cs...)
		// The same request twice (a client retrying after a lost answer):
		// two campaigns, both queued before anything is sent.
		body := map[string]any{"selection": map[string]any{"ids": ids}, "template": "Owed {balance}"}
		c1, j1 := accepted(t, b.post(t, body))
		c2, j2 := accepted(t, b.post(t, body))
		b.app.StartWorkers(t)
		require.Equal(t, "succeeded", b.waitCampaign(t, j1)["state"])
		require.Equal(t, "succeeded", b.waitCampaign(t, j2)["state"])
		got := atStandin(b.standin)
		require.Len(t, got, len(ids))
		for to, n := range got {
			require.Equal(t, 1, n, "two notices to %s", to)
		}
		m1, m2 := b.messages(t, c1), b.messages(t, c2)
		for _, id := range ids {
			states := []string{m1[id].state + "/" + m1[id].reason, m2[id].state + "/" + m2[id].reason}
			require.ElementsMatch(t, []string{"sent/", "skipped/notified_recently"}, states, id)
		}
	})

	t.Run("CreatorRightsRecheckedWhenSent", func(t *testing.T) {
		t.Parallel()
		b := setupCampaign(t, 100)
		clerk := b.app.CreateUser(t, b.tn, "accounts", map[string]any{"visibility": "assigned"})
		other := b.app.CreateUser(t, b.tn, "sales_rep", nil)
		ids := b.customers(t, cust{name: "kept", phone: "+14155550601", balance: "5"}, cust{name: "handed over", phone: "+14155550602", balance: "5"},
			cust{name: "later", phone: "+14155550603", balance: "5"})
		setRep := func(rep string, cs ...string) {
			b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
				if _, err := tx.Exec(ctx, `UPDATE customers SET sales_rep_id = $1 WHERE id = ANY ($2::uuid[])`, rep, cs); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `SELECT customer_reach_refresh($1::uuid[])`, cs)
				return err
			})
		}
		setRep(clerk.ID, ids...)
		resp := b.app.Post(t, "/v1/sms/receivable-notices", clerk.Token, map[string]any{"selection": map[string]any{"ids": ids[:2]}, "template": "Owed {balance}"})
		campA, jobA := accepted(t, resp)
		resp = b.app.Post(t, "/v1/sms/receivable-notices", clerk.Token, map[string]any{"selection": map[string]any{"ids": ids[2:]}, "template": "Owed {balance}"})
		campB, _ := accepted(t, resp)
		// Before anything is sent: the second customer goes to another rep
		// (the clerk no longer sees it); campaign B's send waits until the
		// clerk has lost sms:send.
		setRep(other.ID, ids[1])
		b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE river.river_job SET state = 'scheduled', scheduled_at = now() + interval '1 hour'
				WHERE kind = 'sms_send' AND args->>'campaign_id' = $1`, campB)
			return err
		})
		b.app.StartWorkers(t)
		require.Equal(t, "succeeded", b.waitCampaign(t, jobA)["state"])
		ma := b.messages(t, campA)
		require.Equal(t, "sent", ma[ids[0]].state)
		require.Equal(t, [2]string{"skipped", "customer_gone"}, [2]string{ma[ids[1]].state, ma[ids[1]].reason})

		u := b.app.Get(t, "/v1/users/"+clerk.ID, b.tn.AdminToken)
		require.Equal(t, http.StatusOK, b.app.Patch(t, "/v1/users/"+clerk.ID, b.tn.AdminToken, u.Header.Get("ETag"), map[string]any{"role": "viewer"}).Status)
		b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE river.river_job SET state = 'available', scheduled_at = now() WHERE kind = 'sms_send' AND args->>'campaign_id' = $1`, campB)
			return err
		})
		require.Eventually(t, func() bool { return b.messages(t, campB)[ids[2]].state == "skipped" }, time.Minute, 20*time.Millisecond)
		require.Equal(t, "permission_revoked", b.messages(t, campB)[ids[2]].reason)
		require.Equal(t, map[string]int{"+14155550601": 1}, atStandin(b.standin))
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
