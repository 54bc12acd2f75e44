package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/twiliostandin"
)

// BenchmarkSMSSendRate sends a campaign through two worker processes at a
// configured rate (rate_per_second; SMS_BENCH_RATE, 30 by default) to the
// Twilio stand-in, with the per-sender limit shared through Redis. After
// 5 s of warm-up it counts, over one minute, the messages the stand-in
// created. Reported: configured and achieved msgs/s, achieved_vs_rate
// (target: 0.95 to 1.00), and the most messages the stand-in created in
// any 1-second window (the limiter grants at most rate plus a burst of a
// tenth of it in any second; the network and the database add jitter
// between a grant and the stand-in's clock). The run fails when the minute
// holds more than the rate allows.
func BenchmarkSMSSendRate(b *testing.B) {
	rate := 30
	if v, err := strconv.Atoi(os.Getenv("SMS_BENCH_RATE")); err == nil && v > 0 {
		rate = v
	}
	const warmup, window = 5 * time.Second, time.Minute
	customers := rate * 90
	ctx := context.Background()
	db := dbtest.Fresh(b)

	const acct, token, from = "AC0123456789abcdef0123456789abcdef", "Tok3nSecretValue0123456789abcXYZ", "+14155550100"
	st := twiliostandin.New(twiliostandin.Options{Accounts: []twiliostandin.Account{{SID: acct, AuthToken: token}}})
	hs := httptest.NewServer(st)
	b.Cleanup(func() { hs.Close(); st.Close() })
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		b.Fatal(err)
	}
	env := map[string]string{
		"CUSTOMERHUB_SECRET_KEY":         base64.StdEncoding.EncodeToString(key),
		"CUSTOMERHUB_TWILIO_API_URL":     hs.URL,
		"CUSTOMERHUB_PUBLIC_BASE_URL":    "http://127.0.0.1:1",
		"CUSTOMERHUB_SMS_TRACK_INTERVAL": "1s",
		"CUSTOMERHUB_SMS_CONCURRENCY":    "10",
		"CUSTOMERHUB_LOG_LEVEL":          "warn",
	}
	app := apptest.New(b, db, env)
	tn := app.Signup(b)
	tid := uuid.MustParse(tn.ID)
	now := time.Now().UTC()
	resp := app.Patch(b, "/v1/sms/settings", tn.AdminToken, `"1"`, map[string]any{
		"account_sid": acct, "auth_token": token, "from_number": from, "time_zone": "UTC",
		"quiet_start": now.Add(-time.Hour).Format("15:04"), "quiet_end": now.Add(3 * time.Hour).Format("15:04"),
		"rate_per_second": rate,
	})
	if resp.Status != http.StatusOK {
		b.Fatalf("settings: %s", resp.Body)
	}
	err := database.WithTenantTx(ctx, db.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, code, name, phone, balance)
			SELECT $1, gen_random_uuid(), 'R' || g, 'Rate ' || g, '+1416' || lpad(g::text, 7, '0'), 50
			FROM generate_series(1, $2::int) g`, tid, customers)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}

	var logs syncBuffer
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
		cmd.Env = append(os.Environ(), childEnv+"=worker", "DATABASE_URL="+db.AppURL, "MIGRATE_DATABASE_URL="+db.OwnerURL,
			"REDIS_URL="+apptest.RedisURL(), "CUSTOMERHUB_METRICS_ADDR=127.0.0.1:0", "CUSTOMERHUB_LOG_FORMAT=text")
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Signal(syscall.SIGTERM)
				_ = cmd.Wait()
			}
		})
		return cmd
	}
	// A key of this run's own in the shared Redis: the tenant is new.
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp = app.Post(b, "/v1/sms/receivable-notices", tn.AdminToken, map[string]any{
			"selection": map[string]any{"filter": map[string]string{"has_balance": "true"}}, "template": "Dear {name}, {balance} is due."})
		if resp.Status != http.StatusAccepted {
			b.Fatalf("campaign: %s", resp.Body)
		}
		w1, w2 := start(), start()
		deadline := time.Now().Add(2 * time.Minute)
		for len(st.Messages()) == 0 {
			if time.Now().After(deadline) {
				b.Fatalf("nothing sent; worker logs:\n%s", logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		first := st.Messages()[0].DateCreated
		from := first.Add(warmup)
		to := from.Add(window)
		time.Sleep(time.Until(to.Add(2 * time.Second)))
		var created []time.Time
		for _, m := range st.Messages() {
			if !m.DateCreated.Before(from) && m.DateCreated.Before(to) {
				created = append(created, m.DateCreated)
			}
		}
		for _, w := range []*exec.Cmd{w1, w2} {
			_ = w.Process.Signal(syscall.SIGTERM)
			_ = w.Wait()
		}
		sort.Slice(created, func(i, j int) bool { return created[i].Before(created[j]) })
		peak := 0
		for i, lo := 0, 0; i < len(created); i++ {
			for created[i].Sub(created[lo]) >= time.Second {
				lo++
			}
			peak = max(peak, i-lo+1)
		}
		achieved := float64(len(created)) / window.Seconds()
		b.ReportMetric(float64(rate), "rate_msgs/s")
		b.ReportMetric(achieved, "achieved_msgs/s")
		b.ReportMetric(achieved/float64(rate), "achieved_vs_rate")
		b.ReportMetric(float64(peak), "peak_msgs_in_1s")
		if testing.Verbose() {
			b.Logf("worker logs:\n%s", logs.String())
		}
		if len(created) > rate*int(window.Seconds())+max(1, rate/10) {
			b.Errorf("%d messages in %s at %d/s: above the rate", len(created), window, rate)
		}
	}
	b.ReportMetric(0, "ns/op")
}
