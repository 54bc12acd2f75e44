package sms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/tenant"
)

// Campaign is a campaign with its messages counted by state, as the
// caller sees its messages.
type Campaign struct {
	dbsqlc.SmsCampaign
	// Counts has every state of States.
	Counts map[string]int64
}

// Cursor is the position after the last row of a page of campaigns or
// messages (both newest first).
type Cursor struct {
	CreatedAt time.Time `json:"t"`
	ID        uuid.UUID `json:"i"`
}

// seeAll reports whether the transaction's principal sees every customer:
// others see a campaign only through the messages they see.
func seeAll(tx database.Tx) bool { return tx.Scope().Visibility == tenant.VisibilityAll }

// CampaignList returns up to limit campaigns after the cursor, newest
// first, with their counts.
func (s *Service) CampaignList(ctx context.Context, tx database.Tx, after *Cursor, limit int32) ([]Campaign, error) {
	p := dbsqlc.SmsCampaignListParams{TenantID: tx.TenantID(), SeeAll: seeAll(tx), RowLimit: limit}
	if after != nil {
		p.AfterCreatedAt, p.AfterID = &after.CreatedAt, &after.ID
	}
	rows, err := s.q.SmsCampaignList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list sms campaigns: %w", err)
	}
	return s.withCounts(ctx, tx, rows)
}

// CampaignGet returns a campaign with its counts; ErrCampaignNotFound when
// the tenant has none such, or the caller sees none of its messages (and
// not every customer).
func (s *Service) CampaignGet(ctx context.Context, tx database.Tx, id uuid.UUID) (Campaign, error) {
	r, err := s.q.SmsCampaignGetVisible(ctx, tx, dbsqlc.SmsCampaignGetVisibleParams{TenantID: tx.TenantID(), ID: id, SeeAll: seeAll(tx)})
	if errors.Is(err, pgx.ErrNoRows) {
		return Campaign{}, ErrCampaignNotFound
	}
	if err != nil {
		return Campaign{}, fmt.Errorf("get sms campaign: %w", err)
	}
	out, err := s.withCounts(ctx, tx, []dbsqlc.SmsCampaign{r})
	if err != nil {
		return Campaign{}, err
	}
	return out[0], nil
}

func (s *Service) withCounts(ctx context.Context, tx database.Tx, rows []dbsqlc.SmsCampaign) ([]Campaign, error) {
	out := make([]Campaign, len(rows))
	ids := make([]uuid.UUID, len(rows))
	at := make(map[uuid.UUID]int, len(rows))
	for i, r := range rows {
		out[i] = Campaign{SmsCampaign: r, Counts: make(map[string]int64, len(States))}
		for _, st := range States {
			out[i].Counts[st] = 0
		}
		ids[i], at[r.ID] = r.ID, i
	}
	if len(rows) == 0 {
		return out, nil
	}
	counts, err := s.q.SmsMessageCountsByCampaign(ctx, tx, dbsqlc.SmsMessageCountsByCampaignParams{TenantID: tx.TenantID(), CampaignIds: ids})
	if err != nil {
		return nil, fmt.Errorf("count sms messages: %w", err)
	}
	for _, c := range counts {
		out[at[c.CampaignID]].Counts[c.State] = c.N
	}
	return out, nil
}

// MessageFilter narrows a message list; nil members do not filter.
type MessageFilter struct {
	CampaignID *uuid.UUID
	// CustomerID is the customer a message belongs to now (a merge moves
	// messages to the customer kept).
	CustomerID *uuid.UUID
	State      *string
}

// ValidState reports whether s is a message state.
func ValidState(s string) bool { return slices.Contains(States, s) }

// MessageList returns up to limit messages the caller sees after the
// cursor, newest first.
func (s *Service) MessageList(ctx context.Context, tx database.Tx, f MessageFilter, after *Cursor, limit int32) ([]dbsqlc.SmsMessage, error) {
	p := dbsqlc.SmsMessageListParams{TenantID: tx.TenantID(), CampaignID: f.CampaignID, CustomerID: f.CustomerID, State: f.State,
		RowLimit: limit}
	if after != nil {
		p.AfterCreatedAt, p.AfterID = &after.CreatedAt, &after.ID
	}
	rows, err := s.q.SmsMessageList(ctx, tx, p)
	if err != nil {
		return nil, fmt.Errorf("list sms messages: %w", err)
	}
	return rows, nil
}

// MessageGet returns a message the caller sees (ErrMessageNotFound
// otherwise).
func (s *Service) MessageGet(ctx context.Context, tx database.Tx, id uuid.UUID) (dbsqlc.SmsMessage, error) {
	m, err := s.q.SmsMessageGetByID(ctx, tx, dbsqlc.SmsMessageGetByIDParams{TenantID: tx.TenantID(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return m, ErrMessageNotFound
	}
	if err != nil {
		return m, fmt.Errorf("get sms message: %w", err)
	}
	return m, nil
}
