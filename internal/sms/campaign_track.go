package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/jobs"
)

// DefaultTrackInterval is how often a campaign's job counts its settled
// messages while some are still to send.
const DefaultTrackInterval = 5 * time.Second

// campaignResult is the result of a campaign's job: its messages by state.
type campaignResult struct {
	CampaignID string           `json:"campaign_id"`
	Counts     map[string]int64 `json:"counts"`
	Skipped    map[string]int64 `json:"skipped"`
}

// Track is one run of a campaign's job, in the tenant's system scope (it
// only counts; each message's own job acts as the creator): it records
// as progress the messages settled (no longer queued, sending or
// unknown), and finishes the campaign and the job when none is left, or
// hands the job back to the queue to look again after interval. A
// cancelled job cancels the campaign: its messages not yet claimed are
// skipped (campaign_cancelled); those under way are settled by their jobs.
func (cs *Campaigns) Track(ctx context.Context, db database.Beginner, job *river.Job[CampaignArgs], interval time.Duration) error {
	if interval <= 0 {
		interval = DefaultTrackInterval
	}
	ref := job.Args.JobRef()
	var snooze bool
	cancelled := false
	err := database.WithTenantTx(ctx, db, database.SystemScope(ref.TenantID), func(ctx context.Context, tx database.Tx) error {
		now := time.Now()
		row, err := cs.q.JobGetForUpdate(ctx, tx, dbsqlc.JobGetForUpdateParams{TenantID: ref.TenantID, ID: ref.JobID})
		if errors.Is(err, pgx.ErrNoRows) {
			return river.JobCancel(fmt.Errorf("job %s no longer exists", ref.JobID))
		}
		if err != nil {
			return fmt.Errorf("lock job: %w", err)
		}
		if jobs.Terminal(row.State) {
			_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx.Tx, job)
			return err
		}
		if row.CancelRequestedAt != nil {
			cancelled = true
			if _, err := cs.q.SmsMessagesCancelQueued(ctx, tx, dbsqlc.SmsMessagesCancelQueuedParams{TenantID: ref.TenantID, CampaignID: job.Args.CampaignID}); err != nil {
				return fmt.Errorf("cancel queued messages: %w", err)
			}
			if err := cs.q.SmsCampaignEnd(ctx, tx, dbsqlc.SmsCampaignEndParams{TenantID: ref.TenantID, ID: job.Args.CampaignID, State: "cancelled", Now: &now}); err != nil {
				return fmt.Errorf("cancel campaign: %w", err)
			}
			return cs.q.JobFinish(ctx, tx, dbsqlc.JobFinishParams{TenantID: ref.TenantID, ID: ref.JobID, State: jobs.StateCancelled,
				Result: row.Result, Processed: row.Processed, Now: now})
		}
		if row.State == jobs.StateQueued || row.StartedAt == nil {
			if err := cs.q.JobMarkRunning(ctx, tx, dbsqlc.JobMarkRunningParams{TenantID: ref.TenantID, ID: ref.JobID, Now: now}); err != nil {
				return fmt.Errorf("mark job running: %w", err)
			}
		}
		p, err := cs.q.SmsCampaignProgress(ctx, tx, dbsqlc.SmsCampaignProgressParams{TenantID: ref.TenantID, CampaignID: job.Args.CampaignID})
		if err != nil {
			return fmt.Errorf("campaign progress: %w", err)
		}
		counts, err := cs.Counts(ctx, tx, job.Args.CampaignID)
		if err != nil {
			return err
		}
		result, err := json.Marshal(campaignResult{CampaignID: job.Args.CampaignID.String(), Counts: counts.States, Skipped: counts.Skipped})
		if err != nil {
			return fmt.Errorf("encode result: %w", err)
		}
		if p.Settled < p.Total {
			snooze = true
			return cs.q.JobSaveProgress(ctx, tx, dbsqlc.JobSaveProgressParams{TenantID: ref.TenantID, ID: ref.JobID, Processed: p.Settled, Result: result})
		}
		if err := cs.q.SmsCampaignEnd(ctx, tx, dbsqlc.SmsCampaignEndParams{TenantID: ref.TenantID, ID: job.Args.CampaignID, State: "finished", Now: &now}); err != nil {
			return fmt.Errorf("finish campaign: %w", err)
		}
		if err := cs.q.JobFinish(ctx, tx, dbsqlc.JobFinishParams{TenantID: ref.TenantID, ID: ref.JobID, State: jobs.StateSucceeded,
			Result: result, Processed: p.Settled, Now: now}); err != nil {
			return fmt.Errorf("finish job: %w", err)
		}
		// The campaign's end and its River completion commit together.
		_, err = river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx.Tx, job)
		return err
	})
	switch {
	case err != nil:
		return err
	case cancelled:
		return river.JobCancel(errors.New("campaign cancelled on request"))
	case snooze:
		return river.JobSnooze(interval)
	}
	return nil
}
