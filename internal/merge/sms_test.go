package merge_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/database"
)

// TestMergeMovesSMSMessages: the duplicate's SMS notices become the kept
// customer's, with its reach (so its rep sees them and the duplicate's rep
// no longer does), the customer each campaign selected stays recorded,
// and the later last notice counts for the kept customer.
func TestMergeMovesSMSMessages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	keptRep := b.app.CreateUser(t, b.tn, "sales_rep", nil)
	dupRep := b.app.CreateUser(t, b.tn, "sales_rep", nil)
	kept := b.customer(t, map[string]any{"name": "Kept SMS", "sales_rep_id": keptRep.ID})
	dup := b.customer(t, map[string]any{"name": "Dup SMS", "sales_rep_id": dupRep.ID})
	other := b.customer(t, map[string]any{"name": "Bystander"})

	campaign, dupMsg, keptMsg, otherMsg := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	notice := time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
	err := database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(uuid.MustParse(b.tn.ID)),
		func(ctx context.Context, tx database.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO sms_campaigns (tenant_id, id, body, total) VALUES ($1, $2, 'Owed {balance}', 3)`,
				b.tn.ID, campaign); err != nil {
				return err
			}
			for _, m := range []struct{ id, customer string }{{dupMsg, dup}, {keptMsg, kept}, {otherMsg, other}} {
				if _, err := tx.Exec(ctx, `INSERT INTO sms_messages (tenant_id, id, campaign_id, selected_id, customer_id, reach, state, twilio_sid)
					SELECT tenant_id, $2::uuid, $3, id, id, reach, 'delivered', 'SM' || replace($2::uuid::text, '-', '') FROM customers WHERE tenant_id = $1 AND id = $4`,
					b.tn.ID, m.id, campaign, m.customer); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, `UPDATE customers SET last_notice_at = $2 WHERE id = $1`, dup, notice)
			return err
		})
	require.NoError(t, err)
	require.Equal(t, []string{dupMsg}, messageIDs(t, b, dupRep.Token), "before: the duplicate's rep sees its message")

	resp := b.mergeReq(t, "", kept, map[string]any{"duplicate_id": dup})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	body := resp.Map(t)
	require.Equal(t, 1.0, body["merge"].(map[string]any)["moved"].(map[string]any)["sms_messages"])
	require.Equal(t, notice.Format(time.RFC3339), body["last_notice_at"], "the duplicate's later notice counts")

	var customerID, selectedID string
	var reachHasKeptRep, reachHasDupRep bool
	b.scalar(t, &customerID, `SELECT customer_id::text FROM sms_messages WHERE id = $1`, dupMsg)
	b.scalar(t, &selectedID, `SELECT selected_id::text FROM sms_messages WHERE id = $1`, dupMsg)
	b.scalar(t, &reachHasKeptRep, `SELECT reach @> ARRAY[$2::uuid] FROM sms_messages WHERE id = $1`, dupMsg, keptRep.ID)
	b.scalar(t, &reachHasDupRep, `SELECT reach @> ARRAY[$2::uuid] FROM sms_messages WHERE id = $1`, dupMsg, dupRep.ID)
	require.Equal(t, kept, customerID)
	require.Equal(t, dup, selectedID, "the campaign's selection is history")
	require.True(t, reachHasKeptRep)
	require.Equal(t, b.count(t, `SELECT count(*) FROM sms_messages WHERE customer_id = $1`, other), 1, "a bystander's message stays")

	// The kept customer's rep now sees both of its messages; the
	// duplicate's rep, who has no part in the kept customer, none.
	require.False(t, reachHasDupRep)
	require.ElementsMatch(t, []string{dupMsg, keptMsg}, messageIDs(t, b, keptRep.Token))
	require.Empty(t, messageIDs(t, b, dupRep.Token))
	resp = b.app.Get(t, "/v1/sms/messages?customer_id="+kept, b.tn.AdminToken)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.Len(t, resp.Map(t)["items"], 2)
}

// TestMergeKeepsTheLaterLastNotice: a kept customer notified after the
// duplicate keeps its own time.
func TestMergeKeepsTheLaterLastNotice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	kept := b.customer(t, map[string]any{"name": "Recent"})
	dup := b.customer(t, map[string]any{"name": "Older"})
	recent, older := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC), time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	err := database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(uuid.MustParse(b.tn.ID)),
		func(ctx context.Context, tx database.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE customers SET last_notice_at = $2 WHERE id = $1`, kept, recent); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE customers SET last_notice_at = $2 WHERE id = $1`, dup, older)
			return err
		})
	require.NoError(t, err)
	resp := b.mergeReq(t, "", kept, map[string]any{"duplicate_id": dup})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.Equal(t, recent.Format(time.RFC3339), resp.Map(t)["last_notice_at"])
}

func messageIDs(t *testing.T, b testBundle, token string) []string {
	t.Helper()
	resp := b.app.Get(t, "/v1/sms/messages", token)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	resp.JSON(t, &page)
	out := []string{}
	for _, it := range page.Items {
		out = append(out, it.ID)
	}
	return out
}
