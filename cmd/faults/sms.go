package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/twiliostandin"
)

// The SMS scenarios' configuration: the development secret key (base64,
// 32 bytes) the tenant's Twilio credentials are sealed with, Twilio calls
// that time out after twilioTimeout, a call whose outcome is unknown
// reconciled a second after it, and a campaign's progress counted twice a
// second, so that a scenario ends in a minute or two.
const (
	smsSecretKey    = "bG9jYWwtZGV2LW9ubHktbm90LWEtc2VjcmV0LWtleSE="
	twilioTimeout   = 2 * time.Second
	reconcileAfter  = time.Second
	smsEligible     = 300 // customers each campaign must reach
	smsSkipEach     = 10  // customers of each kind it must skip
	smsTemplateBody = "{company}: Dear {name}, your balance of {balance} {currency} is due. Reply STOP to opt out."
	// standinQueue is how long the stand-in holds a message it accepted
	// before sending it (and posting its first status callback), as
	// Twilio's queue holds a sender's messages under a backlog: long
	// enough that an outcome the sender did not learn is settled by
	// reconciliation, not by the callback, in the scenario's time.
	standinQueue = 45 * time.Second
)

// standin is the Twilio stand-in of the SMS scenarios, served in this
// process (twiliostandin.New behind an http.Server on a loopback port)
// rather than as a `customerhub twilio-standin` child: the checks read
// every message it accepted directly (Messages, no paging through its
// list), and a scenario's fault plan decides, in Go, the fault of each
// create request as it arrives. The fault is injected for that request's
// To only, just before the stand-in handles it, so that it lands on
// exactly that request, and it is counted by kind.
type standin struct {
	*twiliostandin.Server
	URL  string
	srv  *http.Server
	logf *os.File

	creates atomic.Int64 // create requests seen
	mu      sync.Mutex
	plan    func(n int64) (kind string, f twiliostandin.Fault, ok bool)
	faults  map[string]int // faults injected, by kind
}

// startStandin serves a stand-in with the development account on a free
// loopback port; its log is in tmp/name.log. A message it accepts is sent
// (its first status callback posted) sendDelay later.
func startStandin(tmp, name string, sendDelay time.Duration) (*standin, error) {
	logf, err := os.OpenFile(tmp+"/"+name+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		logf.Close()
		return nil, err
	}
	s := &standin{URL: "http://" + ln.Addr().String(), logf: logf, faults: map[string]int{}}
	s.Server = twiliostandin.New(twiliostandin.Options{
		Accounts:  []twiliostandin.Account{{SID: twiliostandin.DevAccountSID, AuthToken: twiliostandin.DevAuthToken}},
		Logger:    slog.New(slog.NewTextHandler(logf, nil)),
		SendDelay: sendDelay,
	})
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// ServeHTTP hands every request to the stand-in, a create request after
// injecting the fault the plan gives it.
func (s *standin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Messages.json") {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		n := s.creates.Add(1)
		s.mu.Lock()
		plan := s.plan
		s.mu.Unlock()
		if form, err := url.ParseQuery(string(body)); err == nil && plan != nil {
			if kind, f, ok := plan(n); ok {
				f.To, f.Times = form.Get("To"), 1
				s.Inject(f)
				s.mu.Lock()
				s.faults[kind]++
				s.mu.Unlock()
			}
		}
	}
	s.Server.ServeHTTP(w, r)
}

// setPlan sets the fault plan (nil: none from now on, and any fault
// injected but not yet taken is removed).
func (s *standin) setPlan(plan func(n int64) (string, twiliostandin.Fault, bool)) {
	s.mu.Lock()
	s.plan = plan
	s.mu.Unlock()
	if plan == nil {
		s.ClearFaults()
	}
}

// injected answers the faults injected so far, by kind.
func (s *standin) injected() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.faults)
}

func (s *standin) close() {
	_ = s.srv.Close()
	s.Close()
	s.logf.Close()
}

// smsEnv is the SMS configuration of every process of an SMS scenario.
func smsEnv(st *standin) []string {
	return []string{
		"CUSTOMERHUB_TWILIO_API_URL=" + st.URL,
		"CUSTOMERHUB_SECRET_KEY=" + smsSecretKey,
		"CUSTOMERHUB_TWILIO_TIMEOUT=" + twilioTimeout.String(),
		"CUSTOMERHUB_SMS_RECONCILE_AFTER=" + reconcileAfter.String(),
		"CUSTOMERHUB_SMS_TRACK_INTERVAL=500ms",
		// A send job's attempt can outlast the job timeout (3 s) by its
		// calls to Twilio, which take no context: up to a second's wait
		// for the rate, a reconciliation's listing and a call, each up to
		// twilioTimeout. It is rescued as stuck only after that.
		"CUSTOMERHUB_RESCUE_STUCK_AFTER=10s",
	}
}

// workerEnv is smsEnv for a worker: its messages' status callbacks go to
// the API process at base (the worker's own listen address, its public
// base URL by default, serves no API).
func workerEnv(st *standin, base string, env ...string) []string {
	return append(append(smsEnv(st), "CUSTOMERHUB_PUBLIC_BASE_URL="+base), env...)
}

// startSMS starts the stand-in and an API process pointed at it, and
// configures the demo tenant's SMS settings (configureSMS, rate messages
// a second). The stand-in sends each message sendDelay after accepting
// it.
func (e *env) startSMS(ctx context.Context, name string, rate int, sendDelay time.Duration) (st *standin, a *api, base string, err error) {
	if st, err = startStandin(e.tmp, name+"-standin", sendDelay); err != nil {
		return nil, nil, "", err
	}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	// The API's own listen address is its public base URL (harness.Start).
	apiP, err := e.start(ctx, name+"-api", "api", smsEnv(st)...)
	if err != nil {
		return nil, nil, "", err
	}
	a = e.api(apiP)
	if err := configureSMS(ctx, a, rate); err != nil {
		return nil, nil, "", err
	}
	return st, a, apiP.Base, nil
}

// recipients are the customers a scenario's campaign selects: smsEligible
// that must each get exactly one message, each at a number of their own,
// and smsSkipEach of each kind that must get none (skipped, with the
// reason the campaign must give).
type recipients struct {
	ids      []uuid.UUID
	number   map[uuid.UUID]string // eligible customer → its number
	skip     map[uuid.UUID]string // skipped customer → the reason
	eligible map[string]bool      // the eligible numbers
}

// prepareRecipients sets up ids (smsEligible + 4 × smsSkipEach customers
// of the demo tenant) through the checking pool: the eligible ones active
// with a balance of 100, no notice yet and the number
// +1415<area><6 digits>; then ones with a zero balance, no number, a
// dormant status, and a number that opted out.
func (e *env) prepareRecipients(ctx context.Context, ids []uuid.UUID, area int) (*recipients, error) {
	if len(ids) != smsEligible+4*smsSkipEach {
		return nil, fmt.Errorf("%d recipients, want %d", len(ids), smsEligible+4*smsSkipEach)
	}
	r := &recipients{ids: ids, number: map[uuid.UUID]string{}, skip: map[uuid.UUID]string{}, eligible: map[string]bool{}}
	phones := make([]*string, len(ids))
	statuses := make([]string, len(ids))
	balances := make([]int, len(ids))
	var optedOut []string
	for i, id := range ids {
		p := fmt.Sprintf("+1415%d%06d", area, i+1)
		phones[i], statuses[i], balances[i] = &p, "active", 100
		switch k := (i - smsEligible) / smsSkipEach; {
		case i < smsEligible:
			r.number[id], r.eligible[p] = p, true
		case k == 0:
			balances[i], r.skip[id] = 0, "balance_below_minimum"
		case k == 1:
			phones[i], r.skip[id] = nil, "no_phone"
		case k == 2:
			statuses[i], r.skip[id] = "dormant", "dormant"
		default:
			optedOut, r.skip[id] = append(optedOut, p), "opted_out"
		}
	}
	_, err := e.db.Exec(ctx, `UPDATE customers c SET phone = v.phone, status = v.status, balance = v.balance, overdue_amount = 0, last_notice_at = NULL
		FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[]) AS v(id, phone, status, balance) WHERE c.id = v.id`, ids, phones, statuses, balances)
	if err != nil {
		return nil, fmt.Errorf("prepare recipients: %w", err)
	}
	_, err = e.db.Exec(ctx, `INSERT INTO sms_opt_outs (tenant_id, phone, source)
		SELECT tenant_id, p, 'api' FROM customers, unnest($2::text[]) AS p WHERE id = $1 ON CONFLICT DO NOTHING`, ids[0], optedOut)
	if err != nil {
		return nil, fmt.Errorf("record opt-outs: %w", err)
	}
	return r, nil
}

// startCampaign sends receivable notices to r's customers (by ids) and
// answers the campaign's id and its job's.
func (e *env) startCampaign(ctx context.Context, a *api, r *recipients) (string, string, error) {
	body, err := jsonBody(map[string]any{"selection": map[string]any{"ids": r.ids}, "template": smsTemplateBody})
	if err != nil {
		return "", "", err
	}
	var resp struct {
		Campaign struct {
			ID string `json:"id"`
		} `json:"campaign"`
		Job jobView `json:"job"`
	}
	if err := a.call(ctx, http.MethodPost, "/v1/sms/receivable-notices", "application/json", body, http.StatusAccepted, &resp); err != nil {
		return "", "", err
	}
	return resp.Campaign.ID, resp.Job.ID, nil
}

// smsMessage is a campaign's message as the database holds it.
type smsMessage struct {
	Customer uuid.UUID
	State    string
	Reason   string
	SID      string
	To       string
}

// campaignMessages reads a campaign's messages and its attempts' outcomes
// (counted over every message).
func (e *env) campaignMessages(ctx context.Context, campaignID string) ([]smsMessage, map[string]int, error) {
	rows, err := e.db.Query(ctx, `SELECT customer_id, state, coalesce(skip_reason, ''), coalesce(twilio_sid, ''), coalesce(to_phone, '')
		FROM sms_messages WHERE campaign_id = $1`, uuid.MustParse(campaignID))
	if err != nil {
		return nil, nil, err
	}
	msgs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[smsMessage])
	if err != nil {
		return nil, nil, err
	}
	rows, err = e.db.Query(ctx, `SELECT coalesce(a->>'outcome', 'unfinished'), count(*) FROM sms_messages, jsonb_array_elements(attempts) AS a
		WHERE campaign_id = $1 GROUP BY 1`, uuid.MustParse(campaignID))
	if err != nil {
		return nil, nil, err
	}
	outcomes := map[string]int{}
	for rows.Next() {
		var o string
		var n int
		if err := rows.Scan(&o, &n); err != nil {
			rows.Close()
			return nil, nil, err
		}
		outcomes[o] = n
	}
	return msgs, outcomes, rows.Err()
}

// checkCampaign checks a campaign's end: its job succeeded and the
// campaign is finished; the stand-in holds exactly one message per
// eligible number and none for any other; every message of the campaign
// is in a final state (sent or delivered with the SID of the stand-in's
// message to its number, or skipped with the reason its customer must
// give), none left queued, sending or unknown; the campaign's counts (the
// API's and its job's result) add up to that; every status callback the
// stand-in posted was taken by the API (2xx).
func (e *env) checkCampaign(ctx context.Context, c *checks, a *api, st *standin, campaignID string, j jobView, r *recipients) error {
	c.expect(j.State == "succeeded", "the campaign's job succeeded", "job %s %s after %d attempts: %s", j.ID, j.State, j.Attempts, j.Result)

	// At the stand-in: one message per eligible number.
	sids := map[string][]string{}
	for _, m := range st.Messages() {
		sids[m.To] = append(sids[m.To], m.SID)
	}
	var doubled, missing, stray []string
	for p := range r.eligible {
		switch n := len(sids[p]); {
		case n == 0:
			missing = append(missing, p)
		case n > 1:
			doubled = append(doubled, fmt.Sprintf("%s ×%d", p, n))
		}
	}
	for p, s := range sids {
		if !r.eligible[p] {
			stray = append(stray, fmt.Sprintf("%s ×%d", p, len(s)))
		}
	}
	c.figure("Twilio stand-in: %d messages to %d numbers (%d eligible); %d doubled, %d missing, %d to numbers that must get none",
		len(st.Messages()), len(sids), len(r.eligible), len(doubled), len(missing), len(stray))
	c.expect(len(doubled) == 0, "no SMS doubled at Twilio", "%d numbers got more than one: %s", len(doubled), firstFew(doubled))
	c.expect(len(missing) == 0, "no SMS lost: every eligible number got one", "%d eligible numbers got none: %s", len(missing), firstFew(missing))
	c.expect(len(stray) == 0, "no SMS to a customer that must get none", "%s", firstFew(stray))

	// In the database: every message final, as it must be.
	msgs, outcomes, err := e.campaignMessages(ctx, campaignID)
	if err != nil {
		return err
	}
	byState := map[string]int{}
	seen := map[uuid.UUID]int{}
	var wrong []string
	for _, m := range msgs {
		byState[m.State]++
		seen[m.Customer]++
		if p, ok := r.number[m.Customer]; ok {
			if (m.State != "sent" && m.State != "delivered") || m.To != p || len(sids[p]) != 1 || m.SID != sids[p][0] {
				wrong = append(wrong, fmt.Sprintf("%s to %s: %s sid %q (stand-in: %v)", m.Customer, m.To, m.State, m.SID, sids[p]))
			}
			continue
		}
		if want, ok := r.skip[m.Customer]; !ok || m.State != "skipped" || m.Reason != want {
			wrong = append(wrong, fmt.Sprintf("%s: %s %q, want skipped %q", m.Customer, m.State, m.Reason, want))
		}
	}
	for _, id := range r.ids {
		if seen[id] != 1 {
			wrong = append(wrong, fmt.Sprintf("%s has %d messages", id, seen[id]))
		}
	}
	c.figure("messages: %s; attempts by outcome: %s", counts(byState), counts(outcomes))
	c.expect(byState["queued"]+byState["sending"]+byState["unknown"] == 0, "no message left queued, sending or unknown (every unknown reconciled)",
		"%d queued, %d sending, %d unknown", byState["queued"], byState["sending"], byState["unknown"])
	c.expect(len(msgs) == len(r.ids) && len(wrong) == 0, "every message final: sent or delivered with its Twilio SID, or skipped with its reason",
		"%d messages for %d customers; %d wrong: %s", len(msgs), len(r.ids), len(wrong), firstFew(wrong))

	// The counts: the API's view of the campaign and its job's result.
	var camp struct {
		State  string           `json:"state"`
		Total  int              `json:"total"`
		Counts map[string]int64 `json:"counts"`
	}
	if err := a.call(ctx, http.MethodGet, "/v1/sms/campaigns/"+campaignID, "", nil, http.StatusOK, &camp); err != nil {
		return err
	}
	var res struct {
		Counts  map[string]int64 `json:"counts"`
		Skipped map[string]int64 `json:"skipped"`
	}
	if j.State == "succeeded" {
		if err := jsonUnmarshal(j.Result, &res); err != nil {
			return err
		}
	}
	var sum int64
	for _, n := range camp.Counts {
		sum += n
	}
	eligible, skipped := int64(len(r.number)), int64(len(r.skip))
	wantSkipped := map[string]int64{}
	for _, reason := range r.skip {
		wantSkipped[reason]++
	}
	// The job's result is counted when it ended; callbacks may have moved
	// messages from sent to delivered since.
	c.expect(camp.State == "finished" && camp.Total == len(r.ids) && sum == int64(camp.Total) &&
		camp.Counts["sent"]+camp.Counts["delivered"] == eligible && camp.Counts["skipped"] == skipped,
		"the campaign's counts add up", "campaign %s, total %d, counts %v; want %d sent or delivered and %d skipped of %d",
		camp.State, camp.Total, camp.Counts, eligible, skipped, len(r.ids))
	c.expect(res.Counts["sent"]+res.Counts["delivered"] == eligible && res.Counts["skipped"] == skipped && maps.Equal(res.Skipped, wantSkipped),
		"the job's result counts add up", "result %s; want %d sent or delivered, skipped %v", j.Result, eligible, wantSkipped)

	// Status callbacks reached the API and were taken (2xx).
	cbs := st.Callbacks()
	var failed []string
	for _, cb := range cbs {
		if cb.Err != nil || cb.StatusCode/100 != 2 {
			failed = append(failed, fmt.Sprintf("%s: %d %v", cb.Params.Get("MessageStatus"), cb.StatusCode, cb.Err))
		}
	}
	c.figure("status callbacks: %d posted, %d not taken", len(cbs), len(failed))
	c.expect(len(failed) == 0, "every status callback taken by the API", "%d not: %s", len(failed), firstFew(failed))
	return nil
}

// counts prints a count map in key order.
func counts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func firstFew(s []string) string {
	slices.Sort(s)
	if len(s) > 5 {
		return strings.Join(s[:5], "; ") + fmt.Sprintf("; and %d more", len(s)-5)
	}
	return strings.Join(s, "; ")
}

// smsRecipients picks the customers of a scenario's campaign: the demo
// tenant's, counted from the end (no other scenario touches those), the
// part-th block of them.
func (e *env) smsRecipients(part int) []uuid.UUID {
	n := smsEligible + 4*smsSkipEach
	end := len(e.ids) - part*n
	return e.ids[end-n : end]
}

// smsKill: a worker SIGKILLed in the middle of a campaign of 340
// receivable notices (300 to send, 40 to skip: a zero balance, no
// number, dormant, opted out) at 30 a second, with calls to Twilio under
// way (the stand-in stores each message, then answers after 300 ms; it
// sends each one standinQueue later, so that what the killed worker left
// under way is settled by reconciliation), and another worker started
// after.
//
// Invariants: the kill lands mid-campaign with calls under way; the
// campaign then completes: its job succeeds, the stand-in holds exactly
// one message per eligible number (none doubled, none missing) and none
// for the others; every message ends sent or delivered with the SID of
// the stand-in's message, or skipped with its customer's reason; each
// call the killed worker left under way is settled once (by its status
// callback or by reconciliation, never sent twice); the campaign's counts
// and its job's add up; every status callback is taken.
func smsKill(ctx context.Context, e *env, c *checks) error {
	st, a, base, err := e.startSMS(ctx, "sms-kill", 30, standinQueue)
	if err != nil {
		return err
	}
	defer st.close()
	st.Inject(twiliostandin.Fault{Delay: 300 * time.Millisecond, Times: -1})
	r, err := e.prepareRecipients(ctx, e.smsRecipients(0), 2)
	if err != nil {
		return err
	}
	env := workerEnv(st, base, "CUSTOMERHUB_SMS_CONCURRENCY=20")
	worker, err := e.start(ctx, "sms-kill-worker-0", "worker", env...)
	if err != nil {
		return err
	}
	campaignID, jobID, err := e.startCampaign(ctx, a, r)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for len(st.Messages()) < smsEligible/3 {
		if time.Now().After(deadline) {
			return fmt.Errorf("the campaign sent %d messages in a minute", len(st.Messages()))
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
	worker.Kill()
	atKill := len(st.Messages())
	// The calls under way: messages whose last attempt has no outcome.
	rows, err := e.db.Query(ctx, `SELECT id FROM sms_messages WHERE campaign_id = $1
		AND jsonb_typeof(attempts -> (jsonb_array_length(attempts) - 1) -> 'outcome') = 'null'`, uuid.MustParse(campaignID))
	if err != nil {
		return err
	}
	inFlight, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return err
	}
	c.figure("worker killed after %d of %d messages, %d calls to Twilio under way", atKill, smsEligible, len(inFlight))
	c.expect(atKill < smsEligible && len(inFlight) > 0, "the kill landed mid-campaign with calls under way", "%d sent, %d in flight", atKill, len(inFlight))
	killed := time.Now()
	if _, err := e.start(ctx, "sms-kill-worker-1", "worker", env...); err != nil {
		return err
	}
	j, err := a.waitJob(ctx, jobID, 3*time.Minute)
	if err != nil {
		return err
	}
	c.figure("campaign finished %s after the kill", time.Since(killed).Round(100*time.Millisecond))
	if err := e.checkCampaign(ctx, c, a, st, campaignID, j, r); err != nil {
		return err
	}

	// How the calls under way were settled: by the status callback, by a
	// reconciliation that found the message, or (the call never reached
	// Twilio) by one that found none and sent it again. Each is final
	// with exactly one message at the stand-in either way.
	perNumber := map[string]int{}
	for _, m := range st.Messages() {
		perNumber[m.To]++
	}
	rows, err = e.db.Query(ctx, `SELECT state, coalesce(to_phone, ''),
			CASE WHEN attempts @> '[{"outcome": "reconciled_found"}]' THEN 'reconciled (found)'
			     WHEN attempts @> '[{"outcome": "reconciled_absent"}]' THEN 'reconciled (absent, sent again)'
			     ELSE 'status callback' END
		FROM sms_messages WHERE id = ANY($1)`, inFlight)
	if err != nil {
		return err
	}
	how := map[string]int{}
	var bad []string
	for rows.Next() {
		var state, to, by string
		if err := rows.Scan(&state, &to, &by); err != nil {
			rows.Close()
			return err
		}
		how[by]++
		if (state != "sent" && state != "delivered") || perNumber[to] != 1 {
			bad = append(bad, fmt.Sprintf("%s: %s, %d at the stand-in", to, state, perNumber[to]))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	c.figure("the calls under way at the kill settled by: %s", counts(how))
	c.expect(len(bad) == 0, "each call under way at the kill settled once (sent, one message at Twilio)", "%s", firstFew(bad))
	return nil
}

// twilioFaultPlan answers, for the n-th create request, the fault a
// request of the mix gets: of every ten, one each 500 (nothing stored),
// 429 (nothing stored), a reply held back past the caller's timeout and a
// connection dropped (both after the message was stored: the caller
// cannot tell), one slow reply inside the timeout, and five answered
// normally.
func twilioFaultPlan(n int64) (string, twiliostandin.Fault, bool) {
	switch n % 10 {
	case 0:
		return "500", twiliostandin.Fault{Status: http.StatusInternalServerError}, true
	case 1:
		return "429", twiliostandin.Fault{Status: http.StatusTooManyRequests}, true
	case 2:
		return "timeout", twiliostandin.Fault{Delay: twilioTimeout + time.Second}, true
	case 3:
		return "dropped", twiliostandin.Fault{Drop: true}, true
	case 4:
		return "slow", twiliostandin.Fault{Delay: twilioTimeout / 2}, true
	}
	return "", twiliostandin.Fault{}, false
}

// twilioFaults: the Twilio stand-in answering half the create requests
// of a campaign of 340 receivable notices (300 to send, 40 to skip) with
// faults for a minute (-twilio-faults-for) while the campaign sends at 4
// a second: 500, 429, a reply past the caller's timeout, a connection
// dropped after the message was accepted, a slow reply (twilioFaultPlan);
// then answering normally until the campaign ends.
//
// Invariants: every kind of fault struck and the campaign was still
// sending when they stopped; the outcomes they cause were met (unknown,
// rate limited) and reconciled both ways (found: not sent again; absent:
// sent again); the campaign finishes: its job succeeds, the stand-in
// holds exactly one message per eligible number (no message lost or
// doubled) and none for the others; no message is left queued, sending or
// unknown, each is sent or delivered with the SID of the stand-in's
// message, or skipped with its reason; the counts add up.
func twilioFaults(ctx context.Context, e *env, c *checks) error {
	st, a, base, err := e.startSMS(ctx, "twilio-faults", 4, standinQueue)
	if err != nil {
		return err
	}
	defer st.close()
	r, err := e.prepareRecipients(ctx, e.smsRecipients(1), 3)
	if err != nil {
		return err
	}
	if _, err := e.start(ctx, "twilio-faults-worker", "worker", workerEnv(st, base)...); err != nil {
		return err
	}
	st.setPlan(twilioFaultPlan)
	campaignID, jobID, err := e.startCampaign(ctx, a, r)
	if err != nil {
		return err
	}
	from := time.Now()
	if err := sleep(ctx, e.twilioFaultsFor); err != nil {
		return err
	}
	st.setPlan(nil)
	cleared := time.Now()
	creates, atClear := st.creates.Load(), len(st.Messages())
	var settled int
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM sms_messages WHERE campaign_id = $1 AND state IN ('sent', 'delivered')`,
		uuid.MustParse(campaignID)).Scan(&settled); err != nil {
		return err
	}
	injected := st.injected()
	c.figure("faults for %s: %d create requests, faults %s; %d messages sent by then", cleared.Sub(from).Round(time.Second), creates, counts(injected), settled)
	c.expect(injected["500"] > 0 && injected["429"] > 0 && injected["timeout"] > 0 && injected["dropped"] > 0 && injected["slow"] > 0,
		"every kind of fault struck", "faults %s", counts(injected))
	c.expect(settled < smsEligible && atClear < smsEligible, "the campaign was still sending when the faults stopped", "%d of %d sent", settled, smsEligible)
	j, err := a.waitJob(ctx, jobID, 3*time.Minute)
	if err != nil {
		return err
	}
	c.figure("campaign finished %s after the faults stopped", time.Since(cleared).Round(100*time.Millisecond))
	if err := e.checkCampaign(ctx, c, a, st, campaignID, j, r); err != nil {
		return err
	}
	_, outcomes, err := e.campaignMessages(ctx, campaignID)
	if err != nil {
		return err
	}
	c.expect(outcomes["unknown"] > 0 && outcomes["rate_limited"] > 0, "the faults' outcomes were met (unknown, rate limited)", "attempts by outcome: %s", counts(outcomes))
	c.expect(outcomes["reconciled_found"] > 0 && outcomes["reconciled_absent"] > 0, "unknown outcomes were reconciled both ways (found, absent)",
		"attempts by outcome: %s", counts(outcomes))
	return nil
}

// configureSMS sets the demo tenant's SMS settings through the API as its
// admin: the stand-in's development account and number, a sending window
// open from an hour ago to three hours from now (UTC), rate messages a
// second and the default minimum of 7 days between two notices.
func configureSMS(ctx context.Context, a *api, rate int) error {
	now := time.Now().UTC()
	body, err := jsonBody(map[string]any{
		"account_sid": twiliostandin.DevAccountSID, "auth_token": twiliostandin.DevAuthToken, "from_number": twiliostandin.DevFromNumber,
		"time_zone": "UTC", "quiet_start": now.Add(-time.Hour).Format("15:04"), "quiet_end": now.Add(3 * time.Hour).Format("15:04"),
		"rate_per_second": rate, "min_days_between": 7,
	})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, a.base+"/v1/sms/settings", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("If-Match", "*")
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		out, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("PATCH /v1/sms/settings: %s: %s", resp.Status, bytes.TrimSpace(out))
	}
	return nil
}
