package sms_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/database"
)

var zeroCounts = map[string]any{"queued": 0.0, "sending": 0.0, "sent": 0.0, "delivered": 0.0, "failed": 0.0,
	"undelivered": 0.0, "unknown": 0.0, "skipped": 0.0, "opted_out": 0.0}

func counts(kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range zeroCounts {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = float64(kv[i+1].(int))
	}
	return out
}

func ids(t *testing.T, resp *apptest.Response) []string {
	t.Helper()
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

func TestCampaignAndMessageReads(t *testing.T) {
	t.Parallel()
	b := setupHooks(t)
	rep1 := b.app.CreateUser(t, b.tn, "sales_rep", nil)
	rep2 := b.app.CreateUser(t, b.tn, "sales_rep", nil)
	rep3 := b.app.CreateUser(t, b.tn, "sales_rep", nil)
	viewer := b.app.CreateUser(t, b.tn, "viewer", nil)
	c1 := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Rep One Co", "sales_rep_id": rep1.ID})["id"].(string)
	c1b := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Rep One Two", "sales_rep_id": rep1.ID})["id"].(string)
	c2 := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Rep Two Co", "sales_rep_id": rep2.ID})["id"].(string)
	c0 := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Nobody's Co"})["id"].(string)
	camp := seedCampaign(t, b.app, b.tn,
		seedMessage{customer: c1, state: "delivered", sid: "SM01", to: "+14155550801"},
		seedMessage{customer: c1b, state: "skipped"},
		seedMessage{customer: c2, state: "failed", sid: "SM02", to: "+14155550802"},
		seedMessage{customer: c0, state: "queued"})
	// A second, older-looking campaign only rep2's customer is in.
	camp2 := seedCampaign(t, b.app, b.tn, seedMessage{customer: c2, state: "sent", sid: "SM03", to: "+14155550802"})

	t.Run("CountsAsTheCallerSees", func(t *testing.T) {
		for _, c := range []struct {
			who   string
			token string
			want  map[string]any
		}{
			{"admin", b.tn.AdminToken, counts("delivered", 1, "skipped", 1, "failed", 1, "queued", 1)},
			{"viewer", viewer.Token, counts("delivered", 1, "skipped", 1, "failed", 1, "queued", 1)},
			{"rep1", rep1.Token, counts("delivered", 1, "skipped", 1)},
			{"rep2", rep2.Token, counts("failed", 1)},
		} {
			resp := b.app.Get(t, "/v1/sms/campaigns/"+camp.campaign, c.token)
			require.Equal(t, http.StatusOK, resp.Status, "%s: %s", c.who, resp.Body)
			got := resp.Map(t)
			require.Equal(t, c.want, got["counts"], c.who)
			require.Equal(t, camp.campaign, got["id"])
			require.Equal(t, "sending", got["state"])
			require.Equal(t, "You owe {balance}", got["body"])
			require.NotNil(t, got["created_at"])
		}
	})
	t.Run("CampaignWithoutVisibleMessagesIsNotFound", func(t *testing.T) {
		resp := b.app.Get(t, "/v1/sms/campaigns/"+camp.campaign, rep3.Token)
		require.Equal(t, http.StatusNotFound, resp.Status, "%s", resp.Body)
		require.Empty(t, ids(t, b.app.Get(t, "/v1/sms/campaigns", rep3.Token)))
		require.Equal(t, []string{camp.campaign}, ids(t, b.app.Get(t, "/v1/sms/campaigns", rep1.Token)))
		require.ElementsMatch(t, []string{camp.campaign, camp2.campaign}, ids(t, b.app.Get(t, "/v1/sms/campaigns", rep2.Token)))
	})
	t.Run("ListPagesNewestFirst", func(t *testing.T) {
		first := b.app.Get(t, "/v1/sms/campaigns?limit=1", b.tn.AdminToken)
		require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)
		page := first.Map(t)
		require.Len(t, page["items"], 1)
		require.Equal(t, camp2.campaign, page["items"].([]any)[0].(map[string]any)["id"], "made last, listed first")
		require.Equal(t, counts("sent", 1), page["items"].([]any)[0].(map[string]any)["counts"])
		next := b.app.Get(t, "/v1/sms/campaigns?limit=1&cursor="+url.QueryEscape(page["next_cursor"].(string)), b.tn.AdminToken)
		require.Equal(t, []string{camp.campaign}, ids(t, next))
		require.Nil(t, next.Map(t)["next_cursor"])
	})
	t.Run("MessagesFollowTheCustomersReach", func(t *testing.T) {
		require.ElementsMatch(t, []string{camp.messages[c1], camp.messages[c1b]}, ids(t, b.app.Get(t, "/v1/sms/messages", rep1.Token)))
		require.ElementsMatch(t, []string{camp.messages[c2], camp2.messages[c2]}, ids(t, b.app.Get(t, "/v1/sms/messages", rep2.Token)))
		require.Empty(t, ids(t, b.app.Get(t, "/v1/sms/messages", rep3.Token)))
		require.Len(t, ids(t, b.app.Get(t, "/v1/sms/messages", b.tn.AdminToken)), 5)

		resp := b.app.Get(t, "/v1/sms/messages/"+camp.messages[c2], rep1.Token)
		require.Equal(t, http.StatusNotFound, resp.Status, "another rep's customer's message: %s", resp.Body)
		resp = b.app.Get(t, "/v1/sms/messages/"+camp.messages[c1], rep1.Token)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		m := resp.Map(t)
		require.Equal(t, map[string]any{"id": camp.messages[c1], "campaign_id": camp.campaign, "customer_id": c1, "selected_id": c1,
			"to": "+14155550801", "body": "You owe 10.00", "state": "delivered", "skip_reason": nil, "twilio_sid": "SM01",
			"error_code": nil, "attempts": []any{}, "sent_at": nil, "delivered_at": nil, "created_at": m["created_at"],
			"updated_at": m["updated_at"]}, m)
		skipped := b.app.Get(t, "/v1/sms/messages/"+camp.messages[c1b], rep1.Token).Map(t)
		require.Equal(t, "no_phone", skipped["skip_reason"])
	})
	t.Run("Filters", func(t *testing.T) {
		tok := b.tn.AdminToken
		require.ElementsMatch(t, []string{camp.messages[c1], camp.messages[c1b], camp.messages[c2], camp.messages[c0]},
			ids(t, b.app.Get(t, "/v1/sms/messages?campaign_id="+camp.campaign, tok)))
		require.ElementsMatch(t, []string{camp.messages[c2], camp2.messages[c2]}, ids(t, b.app.Get(t, "/v1/sms/messages?customer_id="+c2, tok)))
		require.Equal(t, []string{camp.messages[c2]}, ids(t, b.app.Get(t, "/v1/sms/messages?customer_id="+c2+"&state=failed", tok)))
		require.Equal(t, []string{camp.messages[c0]}, ids(t, b.app.Get(t, "/v1/sms/messages?state=queued", tok)))
		require.Empty(t, ids(t, b.app.Get(t, "/v1/sms/messages?state=opted_out", tok)))
		require.Equal(t, []string{camp.messages[c1]}, ids(t, b.app.Get(t, "/v1/sms/messages?state=delivered&campaign_id="+camp.campaign, rep1.Token)))
	})
	t.Run("ValidationErrors", func(t *testing.T) {
		resp := b.app.Get(t, "/v1/sms/messages?campaign_id=nope&customer_id=12&state=lost", b.tn.AdminToken)
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
		require.Equal(t, map[string]string{"campaign_id": "invalid_uuid", "customer_id": "invalid_uuid", "state": "invalid_choice"}, fields(t, resp))
		for path, field := range map[string]string{
			"/v1/sms/messages?limit=0":          "limit",
			"/v1/sms/messages?cursor=zz":        "cursor",
			"/v1/sms/messages?sort=id":          "sort",
			"/v1/sms/campaigns?cursor=%21":      "cursor",
			"/v1/sms/campaigns/not-a-uuid":      "id",
			"/v1/sms/messages/not-a-uuid":       "id",
			"/v1/sms/messages?state=SENT&state": "state",
		} {
			resp := b.app.Get(t, path, b.tn.AdminToken)
			require.Equal(t, http.StatusBadRequest, resp.Status, "%s: %s", path, resp.Body)
			require.Contains(t, fields(t, resp), field, path)
		}
	})
	t.Run("MessagesPage", func(t *testing.T) {
		seen := map[string]bool{}
		path := "/v1/sms/messages?limit=2"
		for pages := 0; ; pages++ {
			require.Less(t, pages, 4)
			resp := b.app.Get(t, path, b.tn.AdminToken)
			for _, id := range ids(t, resp) {
				require.False(t, seen[id], "listed twice")
				seen[id] = true
			}
			next, _ := resp.Map(t)["next_cursor"].(string)
			if next == "" {
				break
			}
			path = "/v1/sms/messages?limit=2&cursor=" + url.QueryEscape(next)
		}
		require.Len(t, seen, 5)
	})
	t.Run("OtherTenantSeesNothing", func(t *testing.T) {
		other := b.app.Signup(t)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/sms/campaigns/"+camp.campaign, other.AdminToken).Status)
		require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/sms/messages/"+camp.messages[c1], other.AdminToken).Status)
		require.Empty(t, ids(t, b.app.Get(t, "/v1/sms/campaigns", other.AdminToken)))
		require.Empty(t, ids(t, b.app.Get(t, "/v1/sms/messages?campaign_id="+camp.campaign, other.AdminToken)))
	})
	t.Run("NeedsCustomersRead", func(t *testing.T) {
		require.Equal(t, http.StatusUnauthorized, b.app.Get(t, "/v1/sms/campaigns", "").Status)
		require.Equal(t, http.StatusUnauthorized, b.app.Get(t, "/v1/sms/messages", "").Status)
	})
}

// TestCustomerShowsLastNoticeAt: null until a notice is sent, then the
// time it was stamped, in the customer's get and list answers.
func TestCustomerShowsLastNoticeAt(t *testing.T) {
	t.Parallel()
	b := setupHooks(t)
	id := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Noticed Co"})["id"].(string)
	got := b.app.Get(t, "/v1/customers/"+id, b.tn.AdminToken).Map(t)
	require.Contains(t, got, "last_notice_at")
	require.Nil(t, got["last_notice_at"])

	at := time.Date(2026, 11, 30, 14, 15, 0, 0, time.UTC)
	b.tx(t, b.tn, func(ctx context.Context, tx database.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE customers SET last_notice_at = $2 WHERE id = $1`, id, at)
		return err
	})
	got = b.app.Get(t, "/v1/customers/"+id, b.tn.AdminToken).Map(t)
	require.Equal(t, at.Format(time.RFC3339), got["last_notice_at"])
	list := b.app.Get(t, "/v1/customers?limit=200", b.tn.AdminToken)
	require.Equal(t, http.StatusOK, list.Status, "%s", list.Body)
	var page struct {
		Items []map[string]any `json:"items"`
	}
	list.JSON(t, &page)
	found := false
	for _, c := range page.Items {
		if c["id"] == id {
			found = true
			require.Equal(t, at.Format(time.RFC3339), c["last_notice_at"])
		}
	}
	require.True(t, found)

	// Read-only: a client cannot set it.
	resp := b.app.Patch(t, "/v1/customers/"+id, b.tn.AdminToken, fmt.Sprintf(`"%d"`, int64(got["version"].(float64))), map[string]any{"last_notice_at": nil})
	require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
}

func TestOptOutAPI(t *testing.T) {
	t.Parallel()
	b := setupHooks(t)
	tok := b.tn.AdminToken
	resp := b.app.Post(t, "/v1/sms/opt-outs", tok, map[string]any{"phone": "+14155550900"})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	first := resp.Map(t)
	require.Equal(t, "+14155550900", first["phone"])
	require.Equal(t, "api", first["source"])
	resp = b.app.Post(t, "/v1/sms/opt-outs", tok, map[string]any{"phone": "+14155550900"})
	require.Equal(t, http.StatusOK, resp.Status, "already recorded: %s", resp.Body)
	require.Equal(t, first, resp.Map(t))
	require.Equal(t, map[string]string{"+14155550900": "api"}, b.optOuts(t, b.tn))

	resp = b.app.Get(t, "/v1/sms/opt-outs/%2B14155550900", tok)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.Equal(t, first, resp.Map(t))
	list := b.app.Get(t, "/v1/sms/opt-outs", tok)
	require.Equal(t, http.StatusOK, list.Status, "%s", list.Body)
	require.Equal(t, []any{first}, list.Map(t)["items"])

	for _, body := range []map[string]any{{"phone": "4155550900"}, {"phone": ""}, {}} {
		resp = b.app.Post(t, "/v1/sms/opt-outs", tok, body)
		require.Equal(t, http.StatusBadRequest, resp.Status, "%v: %s", body, resp.Body)
		require.Equal(t, map[string]string{"phone": "invalid_phone"}, fields(t, resp))
	}
	require.Equal(t, http.StatusBadRequest, b.app.Delete(t, "/v1/sms/opt-outs/4155550900", tok).Status)

	viewer := b.app.CreateUser(t, b.tn, "viewer", nil)
	require.Equal(t, http.StatusForbidden, b.app.Get(t, "/v1/sms/opt-outs", viewer.Token).Status)
	require.Equal(t, http.StatusForbidden, b.app.Delete(t, "/v1/sms/opt-outs/%2B14155550900", viewer.Token).Status)

	other := b.app.Signup(t)
	require.Equal(t, http.StatusNotFound, b.app.Get(t, "/v1/sms/opt-outs/%2B14155550900", other.AdminToken).Status)
	require.Equal(t, http.StatusNotFound, b.app.Delete(t, "/v1/sms/opt-outs/%2B14155550900", other.AdminToken).Status)

	require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/sms/opt-outs/%2B14155550900", tok).Status)
	require.Empty(t, b.optOuts(t, b.tn))
	require.Equal(t, http.StatusNotFound, b.app.Delete(t, "/v1/sms/opt-outs/%2B14155550900", tok).Status)
}
