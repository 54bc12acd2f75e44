package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/twiliostandin"
)

// TestWorkerKilledMidCampaign sends a receivable-notice campaign over
// 1,000 eligible customers (and 80 that must get nothing: opted out,
// dormant, an invalid number, a zero balance) from a worker process
// killed with SIGKILL in the middle, with calls to Twilio under way (the
// stand-in stores each message, then answers after 200 ms). A second
// process takes over: the messages left in sending are reconciled against
// the stand-in's list. In the end the stand-in holds exactly one message
// per eligible customer and none for the others.
func TestWorkerKilledMidCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Fresh(t)

	const acct, token, from = "AC0123456789abcdef0123456789abcdef", "Tok3nSecretValue0123456789abcXYZ", "+14155550100"
	st := twiliostandin.New(twiliostandin.Options{Accounts: []twiliostandin.Account{{SID: acct, AuthToken: token}}})
	hs := httptest.NewServer(st)
	t.Cleanup(func() { hs.Close(); st.Close() })
	st.Inject(twiliostandin.Fault{Delay: 200 * time.Millisecond, Times: -1})

	key := make([]byte, 32)
	_, err := rand.Read(key)
	require.NoError(t, err)
	env := map[string]string{
		"CUSTOMERHUB_SECRET_KEY":          base64.StdEncoding.EncodeToString(key),
		"CUSTOMERHUB_TWILIO_API_URL":      hs.URL,
		"CUSTOMERHUB_TWILIO_TIMEOUT":      "2s",
		"CUSTOMERHUB_PUBLIC_BASE_URL":     "http://127.0.0.1:1",
		"CUSTOMERHUB_JOB_ATTEMPT_TIMEOUT": "4s",
		"CUSTOMERHUB_RESCUE_STUCK_AFTER":  "4s",
		"CUSTOMERHUB_SMS_RECONCILE_AFTER": "100ms",
		"CUSTOMERHUB_SMS_TRACK_INTERVAL":  "200ms",
		"CUSTOMERHUB_SMS_CONCURRENCY":     "20",
	}
	app := apptest.New(t, db, env)
	tn := app.Signup(t)
	tid := uuid.MustParse(tn.ID)
	now := time.Now().UTC()
	resp := app.Patch(t, "/v1/sms/settings", tn.AdminToken, `"1"`, map[string]any{
		"account_sid": acct, "auth_token": token, "from_number": from, "time_zone": "UTC",
		"quiet_start": now.Add(-time.Hour).Format("15:04"), "quiet_end": now.Add(3 * time.Hour).Format("15:04"),
		"rate_per_second": 200, "min_days_between": 7,
	})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	const eligible, each = 1000, 20
	err = database.WithTenantTx(ctx, db.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
		// Eligible: E1..E1000 at +1415200xxxx; then 20 each of opted out,
		// dormant, invalid and zero balance.
		_, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, code, name, phone, status, balance)
			SELECT $1, gen_random_uuid(), k || g, 'Kill ' || k || g,
			       CASE k WHEN 'I' THEN '555-' || g ELSE '+1415' || CASE k WHEN 'E' THEN '2' WHEN 'O' THEN '3' WHEN 'D' THEN '4' ELSE '5' END || lpad(g::text, 6, '0') END,
			       CASE k WHEN 'D' THEN 'dormant' ELSE 'active' END,
			       CASE k WHEN 'Z' THEN 0 ELSE 25 END
			FROM (VALUES ('E', $2::int), ('O', $3::int), ('D', $3::int), ('I', $3::int), ('Z', $3::int)) AS v(k, n),
			     generate_series(1, v.n) AS g`, tid, eligible, each)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO sms_opt_outs (tenant_id, phone, source)
			SELECT $1, phone, 'inbound' FROM customers WHERE tenant_id = $1 AND code LIKE 'O%'`, tid)
		return err
	})
	require.NoError(t, err)

	resp = app.Post(t, "/v1/sms/receivable-notices", tn.AdminToken, map[string]any{
		"selection": map[string]any{"filter": map[string]string{"status": "all"}}, "template": "Dear {name}, {balance} is due."})
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	acc := resp.Map(t)
	campaignID := acc["campaign"].(map[string]any)["id"].(string)
	jobID := acc["job"].(map[string]any)["id"].(string)
	require.EqualValues(t, eligible, acc["campaign"].(map[string]any)["counts"].(map[string]any)["queued"])

	var logs syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker logs:\n%s", logs.String())
		}
	})
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=worker", "DATABASE_URL="+db.AppURL, "MIGRATE_DATABASE_URL="+db.OwnerURL,
			"REDIS_URL=", "CUSTOMERHUB_METRICS_ADDR=127.0.0.1:0", "CUSTOMERHUB_LOG_LEVEL=error", "CUSTOMERHUB_LOG_FORMAT=text", "CUSTOMERHUB_SHUTDOWN_TIMEOUT=20s")
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Stdout, cmd.Stderr = &logs, &logs
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
		})
		return cmd
	}

	w1 := start()
	var atKill int
	require.Eventually(t, func() bool {
		atKill = len(st.Messages())
		return atKill >= 300
	}, 3*time.Minute, 10*time.Millisecond, "campaign stuck")
	require.NoError(t, w1.Process.Kill())
	_ = w1.Wait()
	require.Less(t, atKill, eligible, "the campaign finished before the worker could be killed")
	var inFlight int
	err = database.WithTenantTx(ctx, db.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM sms_messages WHERE tenant_id = $1 AND state = 'sending'`, tid).Scan(&inFlight)
	})
	require.NoError(t, err)
	require.Positive(t, inFlight, "the worker was killed with calls to Twilio under way")

	w2 := start()
	end := app.WaitJob(t, tn.AdminToken, jobID)
	require.NoError(t, w2.Process.Signal(syscall.SIGTERM))
	require.NoError(t, w2.Wait())
	require.Equal(t, "succeeded", end["state"], "%v", end)

	perPhone := map[string]int{}
	for _, m := range st.Messages() {
		perPhone[m.To]++
	}
	require.Len(t, perPhone, eligible, "one message per eligible customer")
	for i := 1; i <= eligible; i++ {
		phone := fmt.Sprintf("+14152%06d", i)
		require.Equal(t, 1, perPhone[phone], phone)
	}
	err = database.WithTenantTx(ctx, db.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
		rows, err := tx.Query(ctx, `SELECT left(c.code, 1), m.state, coalesce(m.skip_reason, ''), count(*)
			FROM sms_messages m JOIN customers c ON c.tenant_id = m.tenant_id AND c.id = m.customer_id
			WHERE m.tenant_id = $1 AND m.campaign_id = $2 GROUP BY 1, 2, 3`, tid, campaignID)
		if err != nil {
			return err
		}
		defer rows.Close()
		got := map[string]int{}
		for rows.Next() {
			var k, state, reason string
			var n int
			if err := rows.Scan(&k, &state, &reason, &n); err != nil {
				return err
			}
			got[k+" "+state+" "+reason] = n
		}
		require.Equal(t, map[string]int{"E sent ": eligible, "O skipped opted_out": each, "D skipped dormant": each,
			"I skipped invalid_phone": each, "Z skipped balance_below_minimum": each}, got)
		var reconciled int
		require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM sms_messages WHERE tenant_id = $1
			AND attempts @> '[{"outcome": "reconciled_found"}]'`, tid).Scan(&reconciled))
		require.Positive(t, reconciled, "messages the killed worker had sent were found at Twilio, not sent again")
		return rows.Err()
	})
	require.NoError(t, err)
}
