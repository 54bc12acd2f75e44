package customer_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/group"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/precondition"
	"github.com/customerhub/customerhub/internal/settings"
	"github.com/customerhub/customerhub/internal/tenant"
)

// TestReadsBringGroups: Get and each way List reads a page (the list
// query, a search page read by id, a search with a filter) bring every
// customer's group memberships in the customer's own statement. They are
// the memberships group.Service.ForCustomers reads, in its order (category
// position, then key) and with its exact amounts, so the customer shows
// byte for byte as it did; a customer without groups has none.
func TestReadsBringGroups(t *testing.T) {
	t.Parallel()
	b := setup(t)
	logger := slog.New(slog.DiscardHandler)
	groups := group.NewService(logger)
	svc := customer.NewService(logger, groups, settings.NewService(logger))
	tid := uuid.MustParse(b.tn.ID)

	terms := b.post(t, "/v1/payment-terms", map[string]any{"code": "NET30", "name": "Net 30", "due_days": 30})
	prices := b.post(t, "/v1/price-lists", map[string]any{"code": "RETAIL", "name": "Retail", "currency": "USD"})
	b.post(t, "/v1/customer-groups", map[string]any{"category": "region", "code": "L001", "name": "Lokal 1",
		"payment_terms_id": terms["id"], "credit_limit": "1234567.89", "discount_rate": "12.5"})
	b.post(t, "/v1/customer-groups", map[string]any{"category": "segment", "code": "VIP", "name": "VIP",
		"price_list_id": prices["id"], "credit_days": 30, "discount_rate": "0"})
	b.post(t, "/v1/customer-groups", map[string]any{"category": "level", "code": "GOLD", "name": "Gold", "credit_limit": "0.10"})
	// Positions against creation (and key) order: level, then region and
	// segment at the same position (key order).
	for cat, pos := range map[string]int{"level": 0, "region": 5, "segment": 5} {
		resp := b.app.Patch(t, "/v1/customer-group-categories/"+cat, b.tn.AdminToken, `"1"`, map[string]any{"position": pos})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	}
	all := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Folded all",
		"groups": map[string]any{"segment": "VIP", "region": "L001", "level": "GOLD"}})
	one := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Folded one", "type": "individual",
		"groups": map[string]any{"segment": "VIP"}})
	none := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Folded none"})
	ids := []uuid.UUID{uuid.MustParse(all["id"].(string)), uuid.MustParse(one["id"].(string)), uuid.MustParse(none["id"].(string))}
	wantCodes := map[uuid.UUID][]string{ids[0]: {"level=GOLD", "region=L001", "segment=VIP"}, ids[1]: {"segment=VIP"}, ids[2]: {}}

	actor := &tenant.Principal{TenantID: tid, Visibility: tenant.VisibilityAll}
	read := func(t *testing.T, fn func(ctx context.Context, tx database.Tx, env settings.Env) ([]customer.Detail, error)) {
		t.Helper()
		require.NoError(t, database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
			env, err := svc.Env(ctx, tx)
			require.NoError(t, err)
			got, err := fn(ctx, tx, env)
			require.NoError(t, err)
			old, err := groups.ForCustomers(ctx, tx, ids)
			require.NoError(t, err)
			seen := 0
			now := time.Now()
			for _, d := range got {
				id := d.Customer.ID
				want, ok := wantCodes[id]
				if !ok {
					continue
				}
				seen++
				require.Equal(t, want, membershipCodes(d.Groups), "fallback order")
				require.Equal(t, len(old[id]) == 0, d.Groups == nil, "no memberships is nil, as ForCustomers's missing entry")
				for i, m := range d.Groups {
					o := old[id][i]
					require.Equal(t, o.GroupID, m.GroupID)
					require.Equal(t, o.CategoryName, m.CategoryName)
					require.Equal(t, o.CategoryPosition, m.CategoryPosition)
					requireSameAmount(t, o.CreditLimit, m.CreditLimit)
					requireSameAmount(t, o.DiscountRate, m.DiscountRate)
					require.Equal(t, o.CreditDays, m.CreditDays)
					require.Equal(t, o.PriceListID, m.PriceListID)
					require.Equal(t, o.PaymentTermsID, m.PaymentTermsID)
				}
				before, err := json.Marshal(customer.Response(customer.Detail{Customer: d.Customer, Groups: old[id]}, env, now))
				require.NoError(t, err)
				after, err := json.Marshal(customer.Response(d, env, now))
				require.NoError(t, err)
				require.Equal(t, string(before), string(after))
			}
			require.Equal(t, len(wantCodes), seen, "every customer read")
			return nil
		}))
	}
	statuses := []string{"active"}
	q := func(s string) *string { return &s }
	individual := "individual"

	t.Run("Get", func(t *testing.T) {
		read(t, func(ctx context.Context, tx database.Tx, _ settings.Env) ([]customer.Detail, error) {
			var out []customer.Detail
			for _, id := range ids {
				d, err := svc.Get(ctx, tx, id)
				if err != nil {
					return nil, err
				}
				out = append(out, d)
			}
			return out, nil
		})
	})
	t.Run("List", func(t *testing.T) {
		read(t, func(ctx context.Context, tx database.Tx, env settings.Env) ([]customer.Detail, error) {
			return svc.List(ctx, tx, actor, env, customer.ListParams{Statuses: statuses, Sort: "name", Limit: 50})
		})
	})
	t.Run("SearchPage", func(t *testing.T) {
		// Only a search: the page's ids come from customer_search_page.
		read(t, func(ctx context.Context, tx database.Tx, env settings.Env) ([]customer.Detail, error) {
			return svc.List(ctx, tx, actor, env, customer.ListParams{Q: q("folded"), Statuses: statuses, Sort: "-name", Limit: 50})
		})
	})
	t.Run("SearchWithFilter", func(t *testing.T) {
		// A search with another filter: the matching ids go to the list query.
		var got []customer.Detail
		require.NoError(t, database.WithTenantTx(context.Background(), b.app.DB.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
			env, err := svc.Env(ctx, tx)
			require.NoError(t, err)
			got, err = svc.List(ctx, tx, actor, env, customer.ListParams{Q: q("folded"), Type: &individual, Statuses: statuses, Sort: "name", Limit: 50})
			return err
		}))
		require.Len(t, got, 1)
		require.Equal(t, ids[1], got[0].Customer.ID)
		require.Equal(t, []string{"segment=VIP"}, membershipCodes(got[0].Groups))
	})
	t.Run("HTTP", func(t *testing.T) {
		// The API shows the same customer from get, list and search.
		for i, id := range ids {
			got := b.app.Get(t, "/v1/customers/"+id.String(), b.tn.AdminToken).Map(t)
			require.Len(t, got["groups"], len(wantCodes[id]))
			for _, path := range []string{"/v1/customers?limit=50", "/v1/customers?limit=50&q=folded", "/v1/customers?limit=50&q=folded&sort=-code"} {
				var page listPage
				resp := b.app.Get(t, path, b.tn.AdminToken)
				require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
				resp.JSON(t, &page)
				found := false
				for _, it := range page.Items {
					if it["id"] == id.String() {
						require.Equal(t, got, it, path)
						found = true
					}
				}
				require.True(t, found, "customer %d in %s", i, path)
			}
		}
		require.Equal(t, map[string]any{"level": "GOLD", "region": "L001", "segment": "VIP"},
			b.app.Get(t, "/v1/customers/"+ids[0].String(), b.tn.AdminToken).Map(t)["groups"])
		require.Equal(t, map[string]any{}, b.app.Get(t, "/v1/customers/"+ids[2].String(), b.tn.AdminToken).Map(t)["groups"])
	})
}

// membershipCodes lists memberships as category=code, in their order.
func membershipCodes(ms []group.Membership) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Category+"="+m.Code)
	}
	return out
}

// requireSameAmount: both nil, or the same number. (The scale of a zero
// can differ: pgx reads a numeric 0.00 as 0, jsonb keeps 0.00; every
// response shows amounts with fixed decimals, as the byte comparison
// checks.)
func requireSameAmount(t *testing.T, want, got *decimal.Decimal) {
	t.Helper()
	require.Equal(t, want == nil, got == nil)
	if want != nil {
		require.True(t, want.Equal(*got), "%s != %s", want, got)
		if !want.IsZero() {
			require.Equal(t, want.String(), got.String())
			require.Equal(t, want.Exponent(), got.Exponent(), "the scale of %s", want)
		}
	}
}

// TestUpdateAuditsAgainstTheLockedRow: two PATCHes of one customer at once.
// The second waits for the first's lock, and its audit event's before is
// the row the first committed (its name and its new group), never the row
// as it was before either began: the service reads the before under the
// lock, and the memberships in a statement after it.
func TestUpdateAuditsAgainstTheLockedRow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	logger := slog.New(slog.DiscardHandler)
	svc := customer.NewService(logger, group.NewService(logger), settings.NewService(logger))
	tid := uuid.MustParse(b.tn.ID)
	b.post(t, "/v1/customer-groups", map[string]any{"category": "region", "code": "NORTH", "name": "North"})
	c := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Original"})
	id := uuid.MustParse(c["id"].(string))
	actor := &tenant.Principal{TenantID: tid, Visibility: tenant.VisibilityAll}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	update := func(name string, groups map[string]*string) func(ctx context.Context, tx database.Tx) error {
		return func(ctx context.Context, tx database.Tx) error {
			env, err := svc.Env(ctx, tx)
			if err != nil {
				return err
			}
			p := customer.Patch{Name: patch.Field[string]{Set: true, Value: &name}, Groups: groups}
			_, err = svc.Update(ctx, tx, actor, env, id, precondition.Any(), p)
			return err
		}
	}
	north := "NORTH"
	firstLocked, releaseFirst := make(chan struct{}), make(chan struct{})
	firstDone, secondDone := make(chan error, 1), make(chan error, 1)
	go func() {
		firstDone <- database.WithTenantTx(ctx, b.app.DB.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
			if err := update("First", map[string]*string{"region": &north})(ctx, tx); err != nil {
				return err
			}
			close(firstLocked)
			<-releaseFirst
			return nil
		})
	}()
	select {
	case <-firstLocked:
	case err := <-firstDone:
		t.Fatalf("first update: %v", err)
	}
	pid := make(chan uint32, 1)
	go func() {
		secondDone <- database.WithTenantTx(ctx, b.app.DB.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
			pid <- tx.Conn().PgConn().PID()
			return update("Second", nil)(ctx, tx)
		})
	}()
	// The second waits for the first's row lock before the first commits.
	second := <-pid
	for waiting := false; !waiting; {
		require.NoError(t, b.app.DB.App.QueryRow(ctx,
			`SELECT coalesce(wait_event_type = 'Lock', false) FROM pg_stat_activity WHERE pid = $1`, int32(second)).Scan(&waiting))
	}
	close(releaseFirst)
	require.NoError(t, <-firstDone)
	require.NoError(t, <-secondDone)

	var events struct{ Items []map[string]any }
	b.app.Get(t, "/v1/audit?entity=customer&id="+id.String(), b.tn.AdminToken).JSON(t, &events)
	require.Len(t, events.Items, 3, "create and two updates")
	last, first := events.Items[0]["changes"].(map[string]any), events.Items[1]["changes"].(map[string]any)
	require.Equal(t, map[string]any{"name": map[string]any{"from": "Original", "to": "First"},
		"groups": map[string]any{"from": map[string]any{}, "to": map[string]any{"region": "NORTH"}}}, first)
	require.Equal(t, map[string]any{"name": map[string]any{"from": "First", "to": "Second"}}, last,
		"the second's before is the row the first committed")
}
