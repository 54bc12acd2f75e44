package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/shopspring/decimal"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/ratelimit"
	"github.com/customerhub/customerhub/internal/tenant"
)

// Attempt outcomes, as an attempt of a message records them.
const (
	OutcomeSent             = "sent"
	OutcomeFailed           = "failed"
	OutcomeOptedOut         = "opted_out"
	OutcomeRateLimited      = "rate_limited"
	OutcomeUnknown          = "unknown"
	OutcomeReconciledFound  = "reconciled_found"
	OutcomeReconciledAbsent = "reconciled_absent"
)

// Attempt is one entry of a message's attempts: a call to Twilio (claimed
// and committed before the call, completed after it) or a reconciliation.
type Attempt struct {
	N          int        `json:"n"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	// Outcome is null while the call is under way (or its process died).
	Outcome    *string `json:"outcome"`
	HTTPStatus int     `json:"http_status,omitempty"`
	ErrorCode  int     `json:"error_code,omitempty"`
	TwilioSID  string  `json:"twilio_sid,omitempty"`
}

// Twilio error codes that decide a message's fate.
const (
	codeUnsubscribed = 21610
	codeTooMany      = 20429
)

// SendOptions tune the Dispatcher.
type SendOptions struct {
	// PublicBaseURL is where Twilio posts status callbacks
	// (CUSTOMERHUB_PUBLIC_BASE_URL).
	PublicBaseURL string
	// ReconcileAfter is how long after an attempt whose outcome is unknown
	// its reconciliation lists the sender's messages (Twilio's list may lag
	// a message just created); 10 s when zero, none when negative.
	ReconcileAfter time.Duration
	// RateWait is how long a job waits in process for its turn under the
	// sender's rate before it hands itself back to the queue (snoozed);
	// 10 s when zero.
	RateWait time.Duration
	// RetryBase is the first delay after a 429; it doubles with every
	// further 429 of the message, up to 5 minutes. 1 s when zero.
	RetryBase time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Dispatcher sends the messages of campaigns, exactly once each.
type Dispatcher struct {
	q         *dbsqlc.Queries
	db        database.Beginner
	sms       *Service
	principal func(ctx context.Context, tx database.Tx, userID uuid.UUID) (*tenant.Principal, error)
	limiter   *ratelimit.Limiter
	logger    *slog.Logger
	opts      SendOptions
}

// NewDispatcher returns a Dispatcher. principal reads a user as they are
// now (auth.Service.PrincipalFor); limiter holds the per-sender rate,
// shared through Redis by every worker process.
func NewDispatcher(db database.Beginner, svc *Service, principal func(ctx context.Context, tx database.Tx, userID uuid.UUID) (*tenant.Principal, error),
	limiter *ratelimit.Limiter, logger *slog.Logger, o SendOptions) *Dispatcher {
	if o.ReconcileAfter == 0 {
		o.ReconcileAfter = 10 * time.Second
	}
	if o.RateWait <= 0 {
		o.RateWait = 10 * time.Second
	}
	if o.RetryBase <= 0 {
		o.RetryBase = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if limiter == nil {
		limiter = ratelimit.New(nil, logger)
	}
	return &Dispatcher{q: dbsqlc.New(), db: db, sms: svc, principal: principal, limiter: limiter, logger: logger, opts: o}
}

// next is what a step of Send asks for next.
type next struct {
	again bool          // run another step now
	wait  time.Duration // wait this long (for the rate), then another step
	err   error         // end the job's attempt with this (nil: done)
}

// Send works a message's job: it re-checks everything that may have
// changed since the campaign was made, claims the message (committed)
// before calling Twilio, records the outcome after, and reconciles a call
// whose outcome is unknown before any new one. It returns nil when the
// message is settled, river.JobSnooze to come back later (quiet hours,
// rate, a reconciliation not yet due, a 429), or an error to retry.
func (d *Dispatcher) Send(ctx context.Context, a SendArgs) error {
	waited, budget := time.Duration(0), d.opts.RateWait
	if dl, ok := ctx.Deadline(); ok {
		budget = min(budget, time.Until(dl)/3)
	}
	for steps := 0; steps < 20; steps++ {
		n := d.step(ctx, a)
		switch {
		case n.again:
			continue
		case n.wait > 0:
			if waited+n.wait > budget {
				return river.JobSnooze(n.wait)
			}
			select {
			case <-time.After(n.wait):
			case <-ctx.Done():
				return river.JobSnooze(n.wait)
			}
			waited += n.wait
		default:
			return n.err
		}
	}
	return river.JobSnooze(time.Second)
}

// errCreatorGone: the campaign's creator no longer exists or is inactive.
var errCreatorGone = errors.New("campaign creator gone")

// step takes the message one step further.
func (d *Dispatcher) step(ctx context.Context, a SendArgs) next {
	now := d.opts.Now()
	// The creator as they are now decides whether a queued message may
	// still go, and in which scope (what they see) it is read.
	actor, err := database.WithTenantTxV(ctx, d.db, database.SystemScope(a.TenantID), func(ctx context.Context, tx database.Tx) (*tenant.Principal, error) {
		p, err := d.principal(ctx, tx, a.UserID)
		if errors.Is(err, auth.ErrUnauthenticated) || errors.Is(err, auth.ErrTenantSuspended) {
			return nil, errCreatorGone
		}
		return p, err
	})
	allowed := err == nil && actor.Can(auth.PermSMSSend)
	if err != nil && !errors.Is(err, errCreatorGone) {
		return next{err: fmt.Errorf("read campaign creator: %w", err)}
	}
	scope := database.SystemScope(a.TenantID)
	if allowed {
		scope = database.ScopeFor(actor)
	}
	var out next
	var call *callPlan
	err = database.WithTenantTx(ctx, d.db, scope, func(ctx context.Context, tx database.Tx) error {
		m, err := d.q.SmsMessageForSend(ctx, tx, dbsqlc.SmsMessageForSendParams{TenantID: a.TenantID, ID: a.MessageID})
		if errors.Is(err, pgx.ErrNoRows) {
			if allowed {
				// Out of the creator's sight (or gone): settle it in the
				// tenant's scope.
				allowed = false
				out = next{again: true}
				return errNotVisible
			}
			out = next{err: river.JobCancel(fmt.Errorf("message %s no longer exists", a.MessageID))}
			return nil
		}
		if err != nil {
			return fmt.Errorf("lock message: %w", err)
		}
		var attempts []Attempt
		if err := json.Unmarshal(m.Attempts, &attempts); err != nil {
			return fmt.Errorf("read attempts: %w", err)
		}
		switch m.State {
		case StateQueued:
		case StateSending, StateUnknown:
			out, err = d.reconcileStep(ctx, tx, a, m, attempts, now)
			return err
		default:
			out = next{} // settled
			return nil
		}
		skip := func(reason string) error {
			out = next{}
			return d.q.SmsMessageUpdate(ctx, tx, dbsqlc.SmsMessageUpdateParams{TenantID: a.TenantID, ID: m.ID, State: StateSkipped,
				SkipReason: &reason, ToPhone: m.ToPhone, Body: m.Body, Attempts: m.Attempts})
		}
		switch {
		case m.Cancelled || m.CampaignState == "cancelled":
			// The campaign's job was cancelled before its tracker could
			// end the campaign.
			if err := d.q.SmsCampaignEnd(ctx, tx, dbsqlc.SmsCampaignEndParams{TenantID: a.TenantID, ID: m.CampaignID, State: "cancelled", Now: &now}); err != nil {
				return fmt.Errorf("cancel campaign: %w", err)
			}
			return skip(SkipCampaignCancelled)
		case actor == nil || !actor.Can(auth.PermSMSSend):
			return skip(SkipPermissionRevoked)
		case !allowed:
			return skip(SkipCustomerGone)
		}
		snd, err := d.sms.Sender(ctx, tx)
		if err != nil {
			// Settings were emptied since the campaign was made: retried
			// with backoff until they are back (or attempts run out).
			return fmt.Errorf("sender: %w", err)
		}
		if !snd.Window.Open(now) {
			wait := snd.Window.Next(now).Sub(now) + time.Duration(rand.Int64N(int64(time.Minute)))
			out = next{err: river.JobSnooze(wait)}
			return nil
		}
		if err := d.q.SmsSendCustomerTakeTurn(ctx, tx, dbsqlc.SmsSendCustomerTakeTurnParams{TenantID: a.TenantID, ID: m.CustomerID}); err != nil {
			return fmt.Errorf("lock customer: %w", err)
		}
		lc, err := d.q.SmsSendCustomerLock(ctx, tx, dbsqlc.SmsSendCustomerLockParams{TenantID: a.TenantID, ID: m.CustomerID, MessageID: m.ID})
		if errors.Is(err, pgx.ErrNoRows) {
			return skip(SkipCustomerGone)
		}
		if err != nil {
			return fmt.Errorf("read customer: %w", err)
		}
		c := dbsqlc.SmsSendCustomerRow{Status: lc.Status, Phone: lc.Phone, Balance: lc.Balance, OverdueAmount: lc.OverdueAmount,
			LastNoticeAt: lc.LastNoticeAt, OptedOut: lc.OptedOut}
		if reason := sendCheck(c, m.MinBalance, m.OverdueOnly, snd.MinDaysBetween, now); reason != "" {
			return skip(reason)
		}
		if lc.OtherInFlight {
			// Another campaign's notice to this customer is under way:
			// its outcome (and last_notice_at) decides this one.
			out = next{err: river.JobSnooze(max(d.opts.ReconcileAfter, time.Second))}
			return nil
		}
		t, err := ParseTemplate("body", m.CampaignBody)
		if err != nil {
			return fmt.Errorf("campaign body: %w", err)
		}
		if t.Uses("portal_url") && snd.Settings.PortalURL == nil {
			return skip(SkipPortalURLUnset)
		}
		// The sender's pace, shared by every worker process. A burst of a
		// tenth of a second's messages absorbs the lateness of the job that
		// takes each turn (with a burst of 1, every millisecond a waiter
		// wakes late is lost for good: 12 % of the rate at 30/s, measured),
		// and allows at most that tenth of a second more than the rate in
		// any window.
		key := "sms:" + a.TenantID.String() + ":" + snd.FromNumber + snd.MessagingServiceSID
		lim := ratelimit.Limit{Rate: int(snd.RatePerSecond), Period: time.Second, Burst: max(1, int(snd.RatePerSecond)/10)}
		if res := d.limiter.Allow(ctx, key, lim); !res.Allowed {
			out = next{wait: res.RetryAfter}
			return errRollback
		}
		v, err := d.sms.CustomerVars(ctx, tx, m.CustomerID, snd.Settings)
		if err != nil {
			return err
		}
		text, phone := t.Render(v), *c.Phone
		at := d.opts.Now()
		attempts = append(attempts, Attempt{N: len(attempts) + 1, StartedAt: at})
		raw, err := json.Marshal(attempts)
		if err != nil {
			return fmt.Errorf("encode attempts: %w", err)
		}
		// Claimed and committed before the call: whatever happens to this
		// process from here on, the row says a call may have been made.
		if err := d.q.SmsMessageUpdate(ctx, tx, dbsqlc.SmsMessageUpdateParams{TenantID: a.TenantID, ID: m.ID, State: StateSending,
			ToPhone: &phone, Body: &text, Attempts: raw}); err != nil {
			return fmt.Errorf("claim message: %w", err)
		}
		call = &callPlan{sender: snd, to: phone, body: text, attempt: len(attempts) - 1}
		return nil
	})
	switch {
	case errors.Is(err, errNotVisible), errors.Is(err, errRollback):
		if errors.Is(err, errNotVisible) {
			return d.settleInvisible(ctx, a)
		}
		return out
	case err != nil:
		return next{err: err}
	case call == nil:
		return out
	}
	return d.call(ctx, a, call)
}

var (
	errNotVisible = errors.New("message not visible to its campaign's creator")
	errRollback   = errors.New("rolled back on purpose")
)

// settleInvisible handles a message its creator no longer sees: skipped
// when it was never sent, reconciled when a call may have been made.
func (d *Dispatcher) settleInvisible(ctx context.Context, a SendArgs) next {
	var out next
	err := database.WithTenantTx(ctx, d.db, database.SystemScope(a.TenantID), func(ctx context.Context, tx database.Tx) error {
		m, err := d.q.SmsMessageForSend(ctx, tx, dbsqlc.SmsMessageForSendParams{TenantID: a.TenantID, ID: a.MessageID})
		if errors.Is(err, pgx.ErrNoRows) {
			out = next{err: river.JobCancel(fmt.Errorf("message %s no longer exists", a.MessageID))}
			return nil
		}
		if err != nil {
			return fmt.Errorf("lock message: %w", err)
		}
		switch m.State {
		case StateQueued:
			reason := SkipCustomerGone
			return d.q.SmsMessageUpdate(ctx, tx, dbsqlc.SmsMessageUpdateParams{TenantID: a.TenantID, ID: m.ID, State: StateSkipped,
				SkipReason: &reason, ToPhone: m.ToPhone, Body: m.Body, Attempts: m.Attempts})
		case StateSending, StateUnknown:
			var attempts []Attempt
			if err := json.Unmarshal(m.Attempts, &attempts); err != nil {
				return fmt.Errorf("read attempts: %w", err)
			}
			out, err = d.reconcileStep(ctx, tx, a, m, attempts, d.opts.Now())
			return err
		}
		return nil
	})
	if err != nil {
		return next{err: err}
	}
	return out
}

// sendCheck is why a message must not go now, or "".
func sendCheck(c dbsqlc.SmsSendCustomerRow, minBalance decimal.Decimal, overdueOnly bool, minDays int32, now time.Time) string {
	amount := c.Balance
	if overdueOnly {
		amount = c.OverdueAmount
	}
	switch {
	case c.Status == "dormant":
		return SkipDormant
	case c.Status != "active":
		return SkipInactive
	case c.Phone == nil || strings.TrimSpace(*c.Phone) == "":
		return SkipNoPhone
	case !E164Pattern.MatchString(*c.Phone) || !MobileCapable(*c.Phone):
		return SkipInvalidPhone
	case c.OptedOut:
		return SkipOptedOut
	case amount.LessThanOrEqual(minBalance):
		return SkipPaidMeanwhile
	case c.LastNoticeAt != nil && c.LastNoticeAt.After(now.Add(-time.Duration(minDays)*24*time.Hour)):
		return SkipNotifiedRecently
	}
	return ""
}

// callPlan is a claimed message's call to Twilio.
type callPlan struct {
	sender  Sender
	to      string
	body    string
	attempt int
}

// call sends a claimed message and records what came of it.
func (d *Dispatcher) call(ctx context.Context, a SendArgs, p *callPlan) next {
	cl, err := d.sms.TwilioClient(p.sender)
	if err != nil {
		return next{err: fmt.Errorf("twilio client: %w", err)}
	}
	params := &openapi.CreateMessageParams{}
	params.SetTo(p.to)
	params.SetBody(p.body)
	if p.sender.MessagingServiceSID != "" {
		params.SetMessagingServiceSid(p.sender.MessagingServiceSID)
	} else {
		params.SetFrom(p.sender.FromNumber)
	}
	params.SetStatusCallback(StatusCallbackURL(d.opts.PublicBaseURL, a.TenantID, a.MessageID))
	msg, callErr := cl.Api.CreateMessage(params)
	finished := d.opts.Now()

	var res struct {
		state     string
		outcome   string
		status    int
		code      int
		sid       string
		optOut    bool
		noticed   bool
		retryWait time.Duration
	}
	var terr *client.TwilioRestError
	switch {
	case callErr == nil && msg != nil && msg.Sid != nil:
		res.state, res.outcome, res.status, res.sid, res.noticed = StateSent, OutcomeSent, 201, *msg.Sid, true
	case errors.As(callErr, &terr) && (terr.Status == 429 || terr.Code == codeTooMany):
		// Nothing was sent: back to the queue, with backoff.
		res.state, res.outcome, res.status, res.code = StateQueued, OutcomeRateLimited, terr.Status, terr.Code
	case errors.As(callErr, &terr) && terr.Code == codeUnsubscribed:
		res.state, res.outcome, res.status, res.code, res.optOut = StateOptedOut, OutcomeOptedOut, terr.Status, terr.Code, true
	case errors.As(callErr, &terr) && terr.Status >= 400 && terr.Status < 500:
		// Refused (invalid or unreachable number, a body Twilio will not
		// take): retrying cannot change that.
		res.state, res.outcome, res.status, res.code = StateFailed, OutcomeFailed, terr.Status, terr.Code
	default:
		// A 5xx, a reset connection or a timeout: the request may have
		// been processed. Reconciled before any new call.
		res.state, res.outcome = StateUnknown, OutcomeUnknown
		if terr != nil {
			res.status, res.code = terr.Status, terr.Code
		}
		d.logger.Warn("sms send outcome unknown; will reconcile", "tenant_id", a.TenantID, "message_id", a.MessageID, "error", callErr)
	}

	var out next
	err = database.WithTenantTx(context.WithoutCancel(ctx), d.db, database.SystemScope(a.TenantID), func(ctx context.Context, tx database.Tx) error {
		m, err := d.q.SmsMessageForSend(ctx, tx, dbsqlc.SmsMessageForSendParams{TenantID: a.TenantID, ID: a.MessageID})
		if err != nil {
			return fmt.Errorf("lock message after call: %w", err)
		}
		var attempts []Attempt
		if err := json.Unmarshal(m.Attempts, &attempts); err != nil {
			return fmt.Errorf("read attempts: %w", err)
		}
		if p.attempt < len(attempts) {
			at := &attempts[p.attempt]
			at.FinishedAt, at.Outcome, at.HTTPStatus, at.ErrorCode, at.TwilioSID = &finished, &res.outcome, res.status, res.code, res.sid
		}
		raw, err := json.Marshal(attempts)
		if err != nil {
			return fmt.Errorf("encode attempts: %w", err)
		}
		state, sid, sentAt := res.state, m.TwilioSid, (*time.Time)(nil)
		if res.sid != "" {
			sid, sentAt = &res.sid, &finished
		}
		if stateRank(m.State) > stateRank(state) {
			// A status callback got here first (sent, delivered): never
			// back.
			state = m.State
		}
		var code *int32
		if res.code != 0 {
			c := int32(res.code)
			code = &c
		}
		if err := d.q.SmsMessageUpdate(ctx, tx, dbsqlc.SmsMessageUpdateParams{TenantID: a.TenantID, ID: m.ID, State: state,
			ToPhone: m.ToPhone, Body: m.Body, TwilioSid: sid, ErrorCode: code, Attempts: raw, SentAt: sentAt}); err != nil {
			return fmt.Errorf("record outcome: %w", err)
		}
		if res.optOut {
			if _, _, err := d.sms.OptOutAdd(ctx, tx, p.to, OptOutTwilio); err != nil {
				return fmt.Errorf("record opt-out: %w", err)
			}
		}
		if res.noticed {
			if err := d.q.SmsCustomerNoticed(ctx, tx, dbsqlc.SmsCustomerNoticedParams{TenantID: a.TenantID, ID: m.CustomerID, At: &finished}); err != nil {
				return fmt.Errorf("record last notice: %w", err)
			}
		}
		switch res.outcome {
		case OutcomeRateLimited:
			out = next{err: river.JobSnooze(d.backoff(attempts))}
		case OutcomeUnknown:
			if d.opts.ReconcileAfter > 0 {
				out = next{err: river.JobSnooze(d.opts.ReconcileAfter)}
			} else {
				out = next{again: true}
			}
		}
		return nil
	})
	if err != nil {
		// The call's outcome is not recorded: the row stays in sending,
		// which the next run treats as unknown and reconciles.
		return next{err: err}
	}
	return out
}

// backoff is the wait after a 429: RetryBase doubled for every earlier
// 429 of the message, at most 5 minutes, with jitter.
func (d *Dispatcher) backoff(attempts []Attempt) time.Duration {
	n := 0
	for _, a := range attempts {
		if a.Outcome != nil && *a.Outcome == OutcomeRateLimited {
			n++
		}
	}
	w := d.opts.RetryBase << min(max(n-1, 0), 16)
	w = min(w, 5*time.Minute)
	return w + time.Duration(rand.Int64N(int64(w)/4+1))
}

// reconcileStep handles a message whose last call's outcome is unknown (a
// 5xx, a reset, a timeout, or a process that died mid-call, leaving it in
// sending). Once ReconcileAfter has passed since that call, it lists the
// sender's messages to the number created since, and either records the
// one found as sent or puts the message back in the queue to be sent
// again. The listing happens with the message's row locked, so that no
// other run of its job can claim it meanwhile.
func (d *Dispatcher) reconcileStep(ctx context.Context, tx database.Tx, a SendArgs, m dbsqlc.SmsMessageForSendRow, attempts []Attempt, now time.Time) (next, error) {
	var since time.Time
	last := -1
	for i := len(attempts) - 1; i >= 0; i-- {
		if attempts[i].Outcome == nil || *attempts[i].Outcome == OutcomeUnknown {
			since, last = attempts[i].StartedAt, i
			break
		}
	}
	if last < 0 || m.ToPhone == nil || m.Body == nil {
		// Claimed without a recorded call: nothing can have been sent.
		return next{again: true}, d.requeue(ctx, tx, a, m, attempts, now, "", false)
	}
	if attempts[last].Outcome == nil {
		// The process died mid-call: the attempt's outcome is unknown.
		unknown := OutcomeUnknown
		attempts[last].Outcome, attempts[last].FinishedAt = &unknown, &now
	}
	if due := since.Add(d.opts.ReconcileAfter); d.opts.ReconcileAfter > 0 && now.Before(due) {
		raw, err := json.Marshal(attempts)
		if err != nil {
			return next{}, err
		}
		err = d.q.SmsMessageUpdate(ctx, tx, dbsqlc.SmsMessageUpdateParams{TenantID: a.TenantID, ID: m.ID, State: StateUnknown,
			ToPhone: m.ToPhone, Body: m.Body, TwilioSid: m.TwilioSid, Attempts: raw})
		return next{err: river.JobSnooze(due.Sub(now))}, err
	}
	snd, err := d.sms.Sender(ctx, tx)
	if err != nil {
		return next{}, fmt.Errorf("sender: %w", err)
	}
	sid, err := d.find(ctx, snd, *m.ToPhone, *m.Body, since)
	if err != nil {
		return next{}, fmt.Errorf("reconcile message %s: %w", m.ID, err)
	}
	if sid != "" {
		used, err := d.q.SmsSidUsed(ctx, tx, dbsqlc.SmsSidUsedParams{TenantID: a.TenantID, TwilioSid: &sid})
		if err != nil {
			return next{}, fmt.Errorf("check sid: %w", err)
		}
		if used {
			sid = ""
		}
	}
	return next{again: sid == ""}, d.requeue(ctx, tx, a, m, attempts, now, sid, true)
}

// requeue records a reconciliation: the message sent with sid when one
// was found, otherwise queued again (counted as reconciled_absent when a
// listing was made).
func (d *Dispatcher) requeue(ctx context.Context, tx database.Tx, a SendArgs, m dbsqlc.SmsMessageForSendRow, attempts []Attempt, now time.Time, sid string, listed bool) error {
	state, outcome := StateQueued, OutcomeReconciledAbsent
	var sidp *string
	var sentAt *time.Time
	if sid != "" {
		state, outcome, sidp, sentAt = StateSent, OutcomeReconciledFound, &sid, &now
	}
	if listed {
		attempts = append(attempts, Attempt{N: len(attempts) + 1, StartedAt: now, FinishedAt: &now, Outcome: &outcome, TwilioSID: sid})
	}
	raw, err := json.Marshal(attempts)
	if err != nil {
		return fmt.Errorf("encode attempts: %w", err)
	}
	if err := d.q.SmsMessageUpdate(ctx, tx, dbsqlc.SmsMessageUpdateParams{TenantID: a.TenantID, ID: m.ID, State: state,
		ToPhone: m.ToPhone, Body: m.Body, TwilioSid: sidp, Attempts: raw, SentAt: sentAt}); err != nil {
		return fmt.Errorf("record reconciliation: %w", err)
	}
	if sid != "" {
		return d.q.SmsCustomerNoticed(ctx, tx, dbsqlc.SmsCustomerNoticedParams{TenantID: a.TenantID, ID: m.CustomerID, At: &now})
	}
	return nil
}

// reconcileSlack allows for the clocks of Twilio and this host to differ.
const reconcileSlack = time.Minute

// find lists the sender's messages to a number, newest first, and returns
// the SID of one with this body created since the attempt began, or "".
// Twilio's list filters by date_sent, which a message not yet sent lacks,
// so the listing filters by number (and sender) only and compares
// date_created here.
func (d *Dispatcher) find(ctx context.Context, snd Sender, to, body string, since time.Time) (string, error) {
	cl, err := d.sms.TwilioClient(snd)
	if err != nil {
		return "", err
	}
	p := &openapi.ListMessageParams{}
	p.SetTo(to)
	if snd.FromNumber != "" {
		p.SetFrom(snd.FromNumber)
	}
	p.SetPageSize(200)
	p.SetLimit(1000)
	msgs, err := cl.Api.ListMessage(p)
	if err != nil {
		return "", err
	}
	for _, m := range msgs {
		if m.Sid == nil || m.Body == nil || *m.Body != body || m.DateCreated == nil {
			continue
		}
		if snd.FromNumber == "" && snd.MessagingServiceSID != "" && (m.MessagingServiceSid == nil || *m.MessagingServiceSid != snd.MessagingServiceSID) {
			continue
		}
		created, err := time.Parse(time.RFC1123Z, *m.DateCreated)
		if err != nil {
			continue
		}
		if !created.Before(since.Add(-reconcileSlack)) {
			return *m.Sid, nil
		}
	}
	return "", nil
}
