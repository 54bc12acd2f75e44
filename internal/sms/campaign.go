package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/jobs"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// Job kinds and queue of receivable notices. Kinds are never renamed.
const (
	// KindCampaign tracks a campaign: its progress is the number of
	// messages settled, and it ends the campaign when none is left to send.
	KindCampaign = "sms_campaign"
	// KindSend sends one message of a campaign.
	KindSend = "sms_send"
	// QueueSMS runs both, apart from bulk work and maintenance.
	QueueSMS = "sms"
)

// Skip reasons: why a message was never sent. The first six are known when
// the campaign is made (and checked again when the message is sent);
// the others only when it is about to be sent.
const (
	SkipNoPhone             = "no_phone"
	SkipInvalidPhone        = "invalid_phone"
	SkipOptedOut            = "opted_out"
	SkipDormant             = "dormant"
	SkipBalanceBelowMinimum = "balance_below_minimum"
	SkipNotifiedRecently    = "notified_recently"
	// SkipInactive: the customer's status is inactive.
	SkipInactive = "inactive"
	// SkipPaidMeanwhile: the balance dropped to the minimum or below
	// between the campaign and the send.
	SkipPaidMeanwhile = "paid_meanwhile"
	// SkipCustomerGone: the customer was deleted, or the campaign's creator
	// no longer sees it.
	SkipCustomerGone = "customer_gone"
	// SkipPermissionRevoked: the campaign's creator no longer holds
	// sms:send (or was deactivated) when the message's turn came.
	SkipPermissionRevoked = "permission_revoked"
	// SkipCampaignCancelled: the campaign's job was cancelled first.
	SkipCampaignCancelled = "campaign_cancelled"
	// SkipPortalURLUnset: the body uses {portal_url} and the settings no
	// longer have one.
	SkipPortalURLUnset = "portal_url_unset"
)

// Errors of campaigns.
var (
	// ErrNotConfigured refuses a campaign of a tenant that cannot send.
	ErrNotConfigured = errors.New("sms: the tenant's SMS settings are not configured")
)

// CampaignArgs is the River job tracking a campaign (a tenant job: its
// jobs row shows the campaign's progress).
type CampaignArgs struct {
	jobs.Ref
	CampaignID uuid.UUID `json:"campaign_id"`
}

// Kind implements river.JobArgs.
func (CampaignArgs) Kind() string { return KindCampaign }

// Permission implements jobs.Args.
func (CampaignArgs) Permission() string { return auth.PermSMSSend }

// InsertOpts puts the tracker on the SMS queue.
func (CampaignArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSMS, MaxAttempts: 25}
}

// SendArgs is the River job sending one message. It is unique per
// (campaign, customer selected): a retried request or job never inserts a
// second. Ids only: the worker reads everything else when it runs.
type SendArgs struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	UserID     uuid.UUID `json:"user_id"`
	CampaignID uuid.UUID `json:"campaign_id" river:"unique"`
	CustomerID uuid.UUID `json:"customer_id" river:"unique"`
	MessageID  uuid.UUID `json:"message_id"`
}

// Kind implements river.JobArgs.
func (SendArgs) Kind() string { return KindSend }

// InsertOpts makes the job unique by its campaign and customer, in any
// state (a completed send is never inserted again).
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSMS, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateCompleted, rivertype.JobStatePending,
			rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled,
			rivertype.JobStateCancelled, rivertype.JobStateDiscarded}}}
}

// Inserter is the part of River's client a campaign inserts its send jobs
// with (in the request's transaction).
type Inserter interface {
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// NoticeInput is a validated POST /v1/sms/receivable-notices.
type NoticeInput struct {
	Selection   jobs.Selection
	MinBalance  decimal.Decimal
	OverdueOnly bool
	TemplateID  *uuid.UUID
	Template    *string
	DryRun      bool
}

// noticeParams are what the campaign's job shows it was asked.
type noticeParams struct {
	CampaignID  uuid.UUID       `json:"campaign_id"`
	Selection   jobs.Selection  `json:"selection"`
	MinBalance  decimal.Decimal `json:"min_balance"`
	OverdueOnly bool            `json:"overdue_only"`
	TemplateID  *uuid.UUID      `json:"template_id"`
}

// Campaigns makes receivable-notice campaigns.
type Campaigns struct {
	q         *dbsqlc.Queries
	sms       *Service
	customers *customer.Service
	jobs      *jobs.Service
	river     Inserter
	logger    *slog.Logger
	// PreviewSize is how many rendered messages a dry run shows.
	PreviewSize int32
}

// NewCampaigns returns a Campaigns.
func NewCampaigns(svc *Service, customers *customer.Service, js *jobs.Service, rc Inserter, logger *slog.Logger) *Campaigns {
	return &Campaigns{q: dbsqlc.New(), sms: svc, customers: customers, jobs: js, river: rc, logger: logger, PreviewSize: 5}
}

// Validate checks the input against the database (the template exists,
// its placeholders are known and can be filled) and returns the body the
// campaign sends.
func (cs *Campaigns) Validate(ctx context.Context, tx database.Tx, in *NoticeInput) (body string, st Settings, err error) {
	var errs validation.Errors
	errs = append(errs, customer.CheckSelection(&in.Selection)...)
	if in.MinBalance.IsNegative() {
		errs.Add("min_balance", "out_of_range", "must be zero or more: a notice never goes out for a zero or credit balance")
	}
	field := "template"
	switch {
	case in.TemplateID != nil && in.Template != nil:
		errs.Add("template", "ambiguous_template", "give either template_id or template, not both")
	case in.TemplateID == nil && in.Template == nil:
		errs.Add("template_id", "required", "give template_id or template (a body)")
	case in.TemplateID != nil:
		field = "template_id"
		t, terr := cs.sms.TemplateGet(ctx, tx, *in.TemplateID)
		switch {
		case errors.Is(terr, ErrTemplateNotFound):
			errs.Add("template_id", "not_found", "no SMS template with this id")
		case terr != nil:
			return "", st, terr
		default:
			body = t.Body
		}
	default:
		body = *in.Template
		if len([]rune(body)) < 1 || len([]rune(body)) > 1600 {
			errs.Add("template", "out_of_range", "must be 1 to 1600 characters")
		}
	}
	if st, err = cs.sms.Settings(ctx, tx); err != nil {
		return "", st, err
	}
	if body != "" {
		t, perr := ParseTemplate(field, body)
		var ve validation.Errors
		switch {
		case errors.As(perr, &ve):
			errs = append(errs, ve...)
		case perr != nil:
			return "", st, perr
		case t.Uses("portal_url") && st.PortalURL == nil:
			errs.Add(field, "portal_url_unset", "the body uses {portal_url} but the SMS settings have no portal_url")
		}
	}
	return body, st, errs.Err()
}

// NoticeCounts are a campaign's messages by state (and skip reason).
type NoticeCounts struct {
	States  map[string]int64
	Skipped map[string]int64
}

// Create makes a campaign in the caller's transaction: its row, its
// tracking job, one message per selected customer the actor sees (queued,
// or skipped with the reason known now) and one send job per queued
// message, all committed together or not at all.
func (cs *Campaigns) Create(ctx context.Context, tx database.Tx, actor *tenant.Principal, in NoticeInput, body string, st Settings) (Campaign, jobs.View, error) {
	if !st.Configured() {
		return Campaign{}, jobs.View{}, ErrNotConfigured
	}
	id := uuid.New()
	params := noticeParams{CampaignID: id, Selection: in.Selection, MinBalance: in.MinBalance, OverdueOnly: in.OverdueOnly, TemplateID: in.TemplateID}
	view, err := cs.jobs.Enqueue(ctx, tx, actor, params, nil, func(ref jobs.Ref) jobs.Args {
		return CampaignArgs{Ref: ref, CampaignID: id}
	})
	if err != nil {
		return Campaign{}, jobs.View{}, err
	}
	row, err := cs.fill(ctx, tx, actor, id, view.ID, in, body, st)
	if err != nil {
		return Campaign{}, jobs.View{}, err
	}
	queued, err := cs.q.SmsMessagesQueued(ctx, tx, dbsqlc.SmsMessagesQueuedParams{TenantID: tx.TenantID(), CampaignID: id})
	if err != nil {
		return Campaign{}, jobs.View{}, fmt.Errorf("list queued messages: %w", err)
	}
	if len(queued) > 0 {
		ps := make([]river.InsertManyParams, len(queued))
		for i, m := range queued {
			ps[i] = river.InsertManyParams{Args: SendArgs{TenantID: tx.TenantID(), UserID: actor.UserID, CampaignID: id,
				CustomerID: m.SelectedID, MessageID: m.ID}}
		}
		if _, err := cs.river.InsertManyTx(ctx, tx.Tx, ps); err != nil {
			return Campaign{}, jobs.View{}, fmt.Errorf("insert send jobs: %w", err)
		}
	}
	total := int64(row.Total)
	if err := cs.q.JobSetTotal(ctx, tx, dbsqlc.JobSetTotalParams{TenantID: tx.TenantID(), ID: view.ID, Total: &total}); err != nil {
		return Campaign{}, jobs.View{}, fmt.Errorf("set job total: %w", err)
	}
	view.Progress.Total = &total
	counts, err := cs.Counts(ctx, tx, id)
	if err != nil {
		return Campaign{}, jobs.View{}, err
	}
	return Campaign{SmsCampaign: row, Counts: counts.States}, view, nil
}

// fill inserts the campaign row and its messages, the selection evaluated
// through the job's targets (dropped afterwards).
func (cs *Campaigns) fill(ctx context.Context, tx database.Tx, actor *tenant.Principal, id, jobID uuid.UUID, in NoticeInput, body string, st Settings) (dbsqlc.SmsCampaign, error) {
	sel, err := json.Marshal(in.Selection)
	if err != nil {
		return dbsqlc.SmsCampaign{}, fmt.Errorf("encode selection: %w", err)
	}
	uid := actor.UserID
	var createdBy *uuid.UUID
	if uid != uuid.Nil {
		createdBy = &uid
	}
	row, err := cs.q.SmsCampaignInsert(ctx, tx, dbsqlc.SmsCampaignInsertParams{TenantID: tx.TenantID(), ID: id, JobID: &jobID,
		CreatedBy: createdBy, TemplateID: in.TemplateID, Body: body, Selection: sel, MinBalance: in.MinBalance, OverdueOnly: in.OverdueOnly})
	if err != nil {
		return row, fmt.Errorf("insert campaign: %w", err)
	}
	if _, err := cs.customers.SelectTargets(ctx, tx, actor, jobID, in.Selection); err != nil {
		return row, err
	}
	now := time.Now()
	n, err := cs.q.SmsMessagesInsertFromTargets(ctx, tx, dbsqlc.SmsMessagesInsertFromTargetsParams{TenantID: tx.TenantID(),
		CampaignID: id, JobID: jobID, OverdueOnly: in.OverdueOnly, MinBalance: in.MinBalance,
		NoticeCutoff: now.Add(-time.Duration(st.MinDaysBetween) * 24 * time.Hour)})
	if err != nil {
		return row, fmt.Errorf("insert messages: %w", err)
	}
	// Numbers of a type known not to take an SMS (a fixed line) are
	// invalid here too: the SQL above checks the form only.
	phones, err := cs.q.SmsMessagesQueuedPhones(ctx, tx, dbsqlc.SmsMessagesQueuedPhonesParams{TenantID: tx.TenantID(), CampaignID: id})
	if err != nil {
		return row, fmt.Errorf("list queued numbers: %w", err)
	}
	var landlines []string
	for _, p := range phones {
		if !MobileCapable(p) {
			landlines = append(landlines, p)
		}
	}
	if len(landlines) > 0 {
		if _, err := cs.q.SmsMessagesSkipPhones(ctx, tx, dbsqlc.SmsMessagesSkipPhonesParams{TenantID: tx.TenantID(), CampaignID: id,
			Phones: landlines, Reason: SkipInvalidPhone}); err != nil {
			return row, fmt.Errorf("skip numbers that take no SMS: %w", err)
		}
	}
	if err := cs.q.JobTargetsDelete(ctx, tx, dbsqlc.JobTargetsDeleteParams{TenantID: tx.TenantID(), JobID: jobID}); err != nil {
		return row, fmt.Errorf("drop job targets: %w", err)
	}
	if n > math.MaxInt32 {
		return row, fmt.Errorf("campaign of %d messages", n)
	}
	if err := cs.q.SmsCampaignSetTotal(ctx, tx, dbsqlc.SmsCampaignSetTotalParams{TenantID: tx.TenantID(), ID: id, Total: int32(n)}); err != nil {
		return row, fmt.Errorf("set campaign total: %w", err)
	}
	row.Total = int32(n)
	return row, nil
}

// Preview is a rendered message of a dry run.
type Preview struct {
	CustomerID uuid.UUID
	To         string
	Rendered
}

// DryRun answers what the campaign would do now: its messages by outcome
// (eligible, or skipped by reason) and the first rendered messages,
// evaluated exactly as Create does inside a savepoint it rolls back.
func (cs *Campaigns) DryRun(ctx context.Context, tx database.Tx, actor *tenant.Principal, in NoticeInput, body string, st Settings) (NoticeCounts, []Preview, error) {
	var counts NoticeCounts
	var previews []Preview
	err := tx.RolledBack(ctx, func(ctx context.Context, tx database.Tx) error {
		uid := actor.UserID
		job, err := cs.q.JobInsert(ctx, tx, dbsqlc.JobInsertParams{TenantID: tx.TenantID(), ID: uuid.New(),
			RiverJobID: -1 - rand.Int64N(math.MaxInt64), Kind: KindCampaign, CreatedBy: &uid, Params: []byte("{}")})
		if err != nil {
			return fmt.Errorf("record dry run: %w", err)
		}
		id := uuid.New()
		if _, err := cs.fill(ctx, tx, actor, id, job.ID, in, body, st); err != nil {
			return err
		}
		if counts, err = cs.Counts(ctx, tx, id); err != nil {
			return err
		}
		first, err := cs.q.SmsMessagesPreview(ctx, tx, dbsqlc.SmsMessagesPreviewParams{TenantID: tx.TenantID(), CampaignID: id, RowLimit: cs.PreviewSize})
		if err != nil {
			return fmt.Errorf("preview messages: %w", err)
		}
		t, err := ParseTemplate("template", body)
		if err != nil {
			return err
		}
		for _, m := range first {
			v, err := cs.sms.CustomerVars(ctx, tx, m.CustomerID, st)
			if err != nil {
				return err
			}
			c, err := cs.q.SmsSendCustomer(ctx, tx, dbsqlc.SmsSendCustomerParams{TenantID: tx.TenantID(), ID: m.CustomerID})
			if err != nil {
				return fmt.Errorf("read customer: %w", err)
			}
			text := t.Render(v)
			previews = append(previews, Preview{CustomerID: m.CustomerID, To: deref(c.Phone), Rendered: Rendered{Text: text, Measurement: Measure(text)}})
		}
		return nil
	})
	return counts, previews, err
}

// Counts counts a campaign's messages the caller sees.
func (cs *Campaigns) Counts(ctx context.Context, tx database.Tx, id uuid.UUID) (NoticeCounts, error) {
	rows, err := cs.q.SmsCampaignCounts(ctx, tx, dbsqlc.SmsCampaignCountsParams{TenantID: tx.TenantID(), CampaignID: id})
	if err != nil {
		return NoticeCounts{}, fmt.Errorf("count messages: %w", err)
	}
	c := NoticeCounts{States: map[string]int64{}, Skipped: map[string]int64{}}
	for _, s := range States {
		c.States[s] = 0
	}
	for _, r := range rows {
		c.States[r.State] += r.N
		if r.State == StateSkipped {
			c.Skipped[r.SkipReason] += r.N
		}
	}
	return c, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
