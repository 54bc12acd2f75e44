package sms_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbtest"
)

// BenchmarkCampaignFanOut times POST /v1/sms/receivable-notices over
// 10,000 eligible customers (selected by a filter, as the acting admin
// sees them): in one request and one transaction the campaign, its job,
// 10,000 messages (each classified: phone, opt-outs, balance, last
// notice) and 10,000 unique River send jobs (River's batch insert), and
// the answer. No worker runs, so nothing is sent and every iteration
// finds the same 10,000 eligible customers. Beside it, in the same run,
// the raw SQL of the same rows as the superuser: one INSERT … SELECT of
// the 10,000 messages and one of 10,000 bare River jobs (no RLS, no
// classification, no uniqueness). Reported: ms/request, ms/raw and
// api_vs_raw (raw time / request time).
func BenchmarkCampaignFanOut(b *testing.B) {
	const n = 10000
	ctx := context.Background()
	k := make([]byte, 32)
	for i := range k {
		k[i] = byte(i * 7)
	}
	app := apptest.New(b, dbtest.Fresh(b), map[string]string{"CUSTOMERHUB_SECRET_KEY": base64.StdEncoding.EncodeToString(k),
		"CUSTOMERHUB_TWILIO_API_URL": "http://127.0.0.1:1", "CUSTOMERHUB_REQUEST_TIMEOUT": "2m", "CUSTOMERHUB_LOG_LEVEL": "error"})
	tn := app.Signup(b)
	tid := uuid.MustParse(tn.ID)
	resp := app.Patch(b, "/v1/sms/settings", tn.AdminToken, `"1"`, map[string]any{"account_sid": acct, "auth_token": token,
		"from_number": "+14155550100"})
	if resp.Status != http.StatusOK {
		b.Fatalf("settings: %s", resp.Body)
	}
	err := database.WithTenantTx(ctx, app.DB.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, code, name, phone, balance)
			SELECT $1, gen_random_uuid(), 'F' || g, 'Fan-out ' || g, '+1415' || lpad(g::text, 7, '0'), 10 + g % 90
			FROM generate_series(1, $2::int) g`, tid, n)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	raw, err := pgx.Connect(ctx, dbtest.URLFor(app.DB.Name, "postgres"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close(context.Background()) })
	if _, err := raw.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	body := map[string]any{"selection": map[string]any{"filter": map[string]string{"has_balance": "true"}}, "template": "Dear {name}, {balance} is due."}

	var apiTime, rawTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		resp := app.Post(b, "/v1/sms/receivable-notices", tn.AdminToken, body)
		apiTime += time.Since(start)
		if resp.Status != http.StatusAccepted {
			b.Fatalf("campaign: %d %s", resp.Status, resp.Body)
		}
		var acc struct {
			Campaign struct {
				Counts map[string]int
			}
		}
		resp.JSON(b, &acc)
		if acc.Campaign.Counts["queued"] != n {
			b.Fatalf("queued %d, want %d", acc.Campaign.Counts["queued"], n)
		}

		b.StopTimer()
		start = time.Now()
		tx, err := raw.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		camp := uuid.New()
		if _, err := tx.Exec(ctx, `INSERT INTO sms_campaigns (tenant_id, id, body) VALUES ($1, $2, 'raw')`, tid, camp); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sms_messages (tenant_id, id, campaign_id, selected_id, customer_id, reach, to_phone)
			SELECT tenant_id, gen_random_uuid(), $2, id, id, reach, phone FROM customers WHERE tenant_id = $1 AND balance > 0`, tid, camp); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO river.river_job (kind, args, queue, max_attempts, state, scheduled_at)
			SELECT 'sms_send_raw', jsonb_build_object('campaign_id', m.campaign_id, 'message_id', m.id), 'raw_bench', 1, 'available', now()
			FROM sms_messages m WHERE m.tenant_id = $1 AND m.campaign_id = $2`, tid, camp); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			b.Fatal(err)
		}
		rawTime += time.Since(start)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(apiTime.Milliseconds())/float64(b.N), "ms/request")
	b.ReportMetric(float64(rawTime.Milliseconds())/float64(b.N), "ms/raw")
	b.ReportMetric(float64(rawTime)/float64(apiTime), "api_vs_raw")
	b.ReportMetric(0, "ns/op")
}
