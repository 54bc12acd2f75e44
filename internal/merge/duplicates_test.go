package merge_test

import (
	"net/http"
	"net/url"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// dupGroup is a group of the duplicate list, its customers as ids.
type dupGroup struct {
	Reason string
	Key    string
	Count  int
	IDs    []string
}

func (b testBundle) duplicates(t *testing.T, token, query string) ([]dupGroup, string) {
	t.Helper()
	resp := b.app.Get(t, "/v1/customers/duplicates?"+query, token)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var body struct {
		Items []struct {
			Reason    string `json:"reason"`
			Key       string `json:"key"`
			Count     int    `json:"count"`
			Customers []struct {
				ID         string  `json:"id"`
				Code       string  `json:"code"`
				Name       string  `json:"name"`
				Balance    string  `json:"balance"`
				OrderCount int     `json:"order_count"`
				TaxNumber  *string `json:"tax_number"`
			} `json:"customers"`
		} `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}
	resp.JSON(t, &body)
	var out []dupGroup
	for _, it := range body.Items {
		g := dupGroup{Reason: it.Reason, Key: it.Key, Count: it.Count}
		for _, c := range it.Customers {
			require.NotEmpty(t, c.Code)
			require.NotEmpty(t, c.Balance)
			g.IDs = append(g.IDs, c.ID)
		}
		sort.Strings(g.IDs)
		out = append(out, g)
	}
	next := ""
	if body.NextCursor != nil {
		next = *body.NextCursor
	}
	return out, next
}

func sorted(ids ...string) []string {
	sort.Strings(ids)
	return ids
}

func TestDuplicates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rep := b.app.CreateUser(t, b.tn, "sales_rep", nil)
	// Pairs by each reason, written differently.
	tax1 := b.customer(t, map[string]any{"name": "Initech", "tax_number": "DE 123-456"})
	tax2 := b.customer(t, map[string]any{"name": "Initrode", "tax_number": "de123456"})
	mail1 := b.customer(t, map[string]any{"name": "Umbrella", "email": "Info@Umbrella.example"})
	mail2 := b.customer(t, map[string]any{"name": "Umbrela", "email": "info@umbrella.example"})
	tel1 := b.customer(t, map[string]any{"name": "Hooli", "phone": "+1 (555) 010-0111"})
	tel2 := b.customer(t, map[string]any{"name": "Hooly", "phone": "+15550100111"})
	name1 := b.customer(t, map[string]any{"name": "Globex Corporation"})
	name2 := b.customer(t, map[string]any{"name": "GLOBEX, corp."})
	name3 := b.customer(t, map[string]any{"name": "globex"})
	b.customer(t, map[string]any{"name": "Unique Ltd", "email": "unique@example.com", "phone": "+1 555 010 0999", "tax_number": "U1"})
	// The rep's own pair, and a pair half theirs.
	rep1 := b.customer(t, map[string]any{"name": "Soylent", "sales_rep_id": rep.ID})
	rep2 := b.customer(t, map[string]any{"name": "Soylent Inc.", "sales_rep_id": rep.ID})
	half := b.customer(t, map[string]any{"name": "Vandelay", "email": "art@vandelay.example", "sales_rep_id": rep.ID})
	b.customer(t, map[string]any{"name": "Vandelay Industries", "email": "ART@vandelay.example"})

	all, next := b.duplicates(t, b.tn.AdminToken, "")
	require.Empty(t, next)
	want := []dupGroup{
		{Reason: "tax_number", Key: "DE123456", Count: 2, IDs: sorted(tax1, tax2)},
		{Reason: "email", Key: "art@vandelay.example", Count: 2},
		{Reason: "email", Key: "info@umbrella.example", Count: 2, IDs: sorted(mail1, mail2)},
		{Reason: "phone", Key: "15550100111", Count: 2, IDs: sorted(tel1, tel2)},
		{Reason: "name", Key: "globex", Count: 3, IDs: sorted(name1, name2, name3)},
		{Reason: "name", Key: "soylent", Count: 2, IDs: sorted(rep1, rep2)},
	}
	require.Len(t, all, len(want))
	for i, w := range want {
		require.Equal(t, w.Reason, all[i].Reason, i)
		require.Equal(t, w.Key, all[i].Key, i)
		require.Equal(t, w.Count, all[i].Count, i)
		if w.IDs != nil {
			require.Equal(t, w.IDs, all[i].IDs, w.Key)
		}
	}

	t.Run("Paged", func(t *testing.T) {
		var paged []dupGroup
		cursor := ""
		for page := 0; page < 10; page++ {
			q := url.Values{"limit": {"1"}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			items, next := b.duplicates(t, b.tn.AdminToken, q.Encode())
			paged = append(paged, items...)
			if next == "" {
				break
			}
			cursor = next
		}
		require.Equal(t, all, paged)
		items, next := b.duplicates(t, b.tn.AdminToken, "limit=2")
		require.Equal(t, all[:2], items)
		require.NotEmpty(t, next)
	})
	t.Run("ByReason", func(t *testing.T) {
		items, _ := b.duplicates(t, b.tn.AdminToken, "reason=phone,name")
		require.Equal(t, all[3:], items)
		resp := b.app.Get(t, "/v1/customers/duplicates?reason=address", b.tn.AdminToken)
		require.Equal(t, http.StatusBadRequest, resp.Status)
		require.Contains(t, string(resp.Body), `"field":"reason"`)
		resp = b.app.Get(t, "/v1/customers/duplicates?cursor=garbage", b.tn.AdminToken)
		require.Equal(t, http.StatusBadRequest, resp.Status)
	})
	t.Run("OnlyWhatTheCallerSees", func(t *testing.T) {
		items, _ := b.duplicates(t, rep.Token, "")
		require.Equal(t, []dupGroup{{Reason: "name", Key: "soylent", Count: 2, IDs: sorted(rep1, rep2)}}, items,
			"the Vandelay pair is only half the rep's: %s is alone", half)
		viewer := b.app.CreateUser(t, b.tn, "viewer", nil)
		items, _ = b.duplicates(t, viewer.Token, "")
		require.Equal(t, all, items)
	})
	t.Run("OtherTenant", func(t *testing.T) {
		other := b.app.Signup(t)
		items, _ := b.duplicates(t, other.AdminToken, "")
		require.Empty(t, items)
	})
	t.Run("MergedAwayAfterwards", func(t *testing.T) {
		resp := b.mergeReq(t, "", tel1, map[string]any{"duplicate_id": tel2})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		items, _ := b.duplicates(t, b.tn.AdminToken, "reason=phone")
		require.Empty(t, items)
	})
}
