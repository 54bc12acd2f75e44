package sms_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/twiliostandin"
)

// BenchmarkStatusCallback applies one signed "delivered" status callback
// per message through the whole webhook (Fiber, the tenant lookup, the
// auth token opened from the secret box, the signature checked by
// twilio-go, the forward-only update under row-level security) beside a
// raw-SQL update of another message from sent to delivered (superuser, no
// RLS, no signature), interleaved in one loop. Reported: callbacks/s and
// p50/p95 of each path, and the webhook's throughput relative to raw SQL.
func BenchmarkStatusCallback(b *testing.B) {
	ctx := context.Background()
	k := make([]byte, 32)
	for i := range k {
		k[i] = byte(i + 1)
	}
	app := apptest.New(b, dbtest.Shared(b), map[string]string{
		"CUSTOMERHUB_SECRET_KEY": base64.StdEncoding.EncodeToString(k), "CUSTOMERHUB_PUBLIC_BASE_URL": publicBase,
		"CUSTOMERHUB_LOG_LEVEL": "error"})
	tn := app.Signup(b)
	resp := app.Patch(b, "/v1/sms/settings", tn.AdminToken, `"1"`, map[string]any{
		"account_sid": acct, "auth_token": token, "from_number": "+14155550100"})
	if resp.Status != http.StatusOK {
		b.Fatalf("settings: %s", resp.Body)
	}
	cust := app.CreateCustomer(b, tn.AdminToken, map[string]any{"name": "Bench Co"})["id"].(string)
	raw, err := pgx.Connect(ctx, dbtest.URLFor(app.DB.Name, "postgres"))
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close(ctx)

	// 2×b.N messages in state sent, each with its SID: the first half for
	// the webhook, the second for raw SQL.
	campaign := uuid.New()
	if _, err := raw.Exec(ctx, `INSERT INTO sms_campaigns (tenant_id, id, body) VALUES ($1, $2, 'Bench')`, tn.ID, campaign); err != nil {
		b.Fatal(err)
	}
	rows, err := raw.Query(ctx, `INSERT INTO sms_messages (tenant_id, id, campaign_id, selected_id, customer_id, reach, to_phone, body, state, twilio_sid)
		SELECT c.tenant_id, gen_random_uuid(), $2, gen_random_uuid(), c.id, c.reach, '+14155550123', 'Bench', 'sent', 'SMB' || g
		FROM customers c, generate_series(1, $4::int) g WHERE c.tenant_id = $1 AND c.id = $3
		RETURNING id, twilio_sid`, tn.ID, campaign, cust, 2*b.N)
	if err != nil {
		b.Fatal(err)
	}
	type msg struct {
		id  uuid.UUID
		sid string
	}
	msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (msg, error) {
		var m msg
		return m, r.Scan(&m.id, &m.sid)
	})
	if err != nil {
		b.Fatal(err)
	}

	hook := make([]time.Duration, 0, b.N)
	direct := make([]time.Duration, 0, b.N)
	var hookTotal, directTotal time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := msgs[i]
		path := statusPath(tn, m.id.String())
		form := url.Values{"AccountSid": {acct}, "MessageSid": {m.sid}, "SmsSid": {m.sid}, "MessageStatus": {"delivered"},
			"SmsStatus": {"delivered"}, "To": {"+14155550123"}, "From": {"+14155550100"}, "ApiVersion": {"2010-04-01"}}
		start := time.Now()
		r := app.Do(b, apptest.Req{Method: http.MethodPost, Path: path, Body: form.Encode(), Headers: map[string]string{
			"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": twiliostandin.Sign(token, publicBase+path, form)}})
		d := time.Since(start)
		if r.Status != http.StatusNoContent {
			b.Fatalf("webhook: %d %s", r.Status, r.Body)
		}
		hook, hookTotal = append(hook, d), hookTotal+d

		o := msgs[b.N+i]
		start = time.Now()
		tag, err := raw.Exec(ctx, `UPDATE sms_messages SET state = 'delivered', delivered_at = now(), updated_at = now()
			WHERE tenant_id = $1 AND id = $2 AND state = ANY ('{queued,sending,unknown,sent}')`, tn.ID, o.id)
		d = time.Since(start)
		if err != nil || tag.RowsAffected() != 1 {
			b.Fatalf("raw update: %v %d", err, tag.RowsAffected())
		}
		direct, directTotal = append(direct, d), directTotal+d
	}
	b.StopTimer()
	var delivered int
	if err := raw.QueryRow(ctx, `SELECT count(*) FROM sms_messages WHERE campaign_id = $1 AND state = 'delivered'`, campaign).Scan(&delivered); err != nil {
		b.Fatal(err)
	}
	if delivered != 2*b.N {
		b.Fatalf("%d messages delivered, want %d", delivered, 2*b.N)
	}
	pct := func(ds []time.Duration, p float64) float64 {
		s := slices.Clone(ds)
		slices.Sort(s)
		return float64(s[int(float64(len(s)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/hookTotal.Seconds(), "webhook/s")
	b.ReportMetric(float64(b.N)/directTotal.Seconds(), "rawsql/s")
	b.ReportMetric(directTotal.Seconds()/hookTotal.Seconds(), "webhook/rawsql")
	b.ReportMetric(pct(hook, 0.5), "webhook-p50-ms")
	b.ReportMetric(pct(hook, 0.95), "webhook-p95-ms")
	b.ReportMetric(pct(direct, 0.5), "rawsql-p50-ms")
	b.ReportMetric(pct(direct, 0.95), "rawsql-p95-ms")
}
