package workers

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/customerhub/customerhub/internal/sms"
)

// SMSSendWorker sends one message of a receivable-notice campaign
// (sms.Dispatcher.Send: checks, claim, call, outcome, reconciliation).
type SMSSendWorker struct {
	river.WorkerDefaults[sms.SendArgs]
	deps Deps
}

// NewSMSSendWorker returns the worker.
func NewSMSSendWorker(d Deps) *SMSSendWorker { return &SMSSendWorker{deps: d} }

// Timeout implements river.Worker: a tenant job's attempt
// (CUSTOMERHUB_JOB_ATTEMPT_TIMEOUT). A send waits for its rate at most a
// third of it, then makes one call and at most one reconciliation listing,
// each bounded by the Twilio client's timeout. River waits for Work to
// return even past the timeout, so a call under way is never run twice
// by one process; another process takes the job over only once the
// rescuer has given this one up for dead.
func (w *SMSSendWorker) Timeout(*river.Job[sms.SendArgs]) time.Duration { return w.deps.Runner.Timeout }

// Work implements river.Worker.
func (w *SMSSendWorker) Work(ctx context.Context, job *river.Job[sms.SendArgs]) error {
	return w.deps.SMSDispatcher.Send(ctx, job.Args)
}

// SMSCampaignWorker tracks a campaign (sms.Campaigns.Track).
type SMSCampaignWorker struct {
	river.WorkerDefaults[sms.CampaignArgs]
	deps Deps
}

// NewSMSCampaignWorker returns the worker.
func NewSMSCampaignWorker(d Deps) *SMSCampaignWorker { return &SMSCampaignWorker{deps: d} }

// Work implements river.Worker.
func (w *SMSCampaignWorker) Work(ctx context.Context, job *river.Job[sms.CampaignArgs]) error {
	return w.deps.SMSCampaigns.Track(ctx, w.deps.Pool, job, w.deps.SMSTrackInterval)
}
