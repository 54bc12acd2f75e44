package group_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/group"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

func requireFieldErrors(t *testing.T, err error, want map[string]string) {
	t.Helper()
	var ve validation.Errors
	require.True(t, errors.As(err, &ve), "want validation errors, got %v", err)
	got := map[string]string{}
	for _, e := range ve {
		got[e.Field] = e.Code
	}
	require.Equal(t, want, got)
}

func ptr(s string) *string { return &s }

// membershipCodes lists a customer's memberships as category=code in the
// order ForCustomers returns them.
func membershipCodes(ms []group.Membership) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Category+"="+m.Code)
	}
	return out
}

func TestResolve(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createGroup(t, map[string]any{"category": "region", "code": "L001", "name": "Lokal 1", "credit_limit": "1000", "discount_rate": "5"})
	b.createGroup(t, map[string]any{"category": "segment", "code": "VIP", "name": "VIP"})
	b.createGroup(t, map[string]any{"category": "level", "code": "L001", "name": "Level 1"})

	resolve := func(want map[string]*string) (set []group.Membership, remove []string, err error) {
		b.inTx(t, func(ctx context.Context, tx database.Tx) error {
			set, remove, err = b.svc.Resolve(ctx, tx, want)
			return nil
		})
		return set, remove, err
	}

	t.Run("Success", func(t *testing.T) {
		set, remove, err := resolve(map[string]*string{" Region ": ptr(" L001 "), "LEVEL": ptr("L001"), "segment": nil})
		require.NoError(t, err)
		require.Equal(t, []string{"segment"}, remove)
		require.Len(t, set, 2)
		require.Equal(t, []string{"region=L001", "level=L001"}, membershipCodes(set), "fallback order: category position")
		r := set[0]
		require.Equal(t, "Region", r.CategoryName)
		require.EqualValues(t, 1, r.CategoryPosition)
		require.Equal(t, "Lokal 1", r.Name)
		require.NotEqual(t, uuid.Nil, r.GroupID)
		require.Equal(t, "1000", r.CreditLimit.String())
		require.Equal(t, "5", r.DiscountRate.String())
		require.Nil(t, r.PriceListID)
		require.Nil(t, r.CreditDays)
		require.NotEqual(t, set[0].GroupID, set[1].GroupID, "the same code in two categories is two groups")
	})
	t.Run("BlankCodeLeaves", func(t *testing.T) {
		set, remove, err := resolve(map[string]*string{"region": ptr("  ")})
		require.NoError(t, err)
		require.Empty(t, set)
		require.Equal(t, []string{"region"}, remove)
	})
	t.Run("Empty", func(t *testing.T) {
		set, remove, err := resolve(nil)
		require.NoError(t, err)
		require.Empty(t, set)
		require.Empty(t, remove)
	})
	t.Run("Errors", func(t *testing.T) {
		_, _, err := resolve(map[string]*string{
			"region":   ptr("L999"),   // unknown code
			"segment":  ptr("l001"),   // a code of another category; codes match exactly
			"industry": ptr("RETAIL"), // unknown category
			"tier":     nil,           // removing from an unknown category is a typo too
			"Bad Key!": ptr("X"),      // cannot be a category
			"Level":    ptr("L001"),
			"level":    ptr("L001"), // twice after normalization
		})
		requireFieldErrors(t, err, map[string]string{
			"groups.region": "unknown_group", "groups.segment": "unknown_group", "groups.industry": "unknown_group",
			"groups.tier": "unknown_group", "groups.Bad Key!": "unknown_group", "groups.level": "duplicate_category",
		})
	})
}

func TestMemberships(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, g := range []struct{ category, code string }{{"region", "L001"}, {"region", "L002"}, {"segment", "VIP"}, {"level", "GOLD"}} {
		b.createGroup(t, map[string]any{"category": g.category, "code": g.code, "name": g.code})
	}
	rep := b.app.CreateUser(t, b.tn, "sales_rep", nil)
	c1 := uuid.MustParse(b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "One", "sales_rep_id": rep.ID})["id"].(string))
	c2 := uuid.MustParse(b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Two"})["id"].(string))
	c3 := uuid.MustParse(b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Three"})["id"].(string))

	set := func(t *testing.T, customer uuid.UUID, want map[string]*string) {
		t.Helper()
		b.inTx(t, func(ctx context.Context, tx database.Tx) error {
			s, r, err := b.svc.Resolve(ctx, tx, want)
			if err != nil {
				return err
			}
			return b.svc.SetMemberships(ctx, tx, customer, s, r)
		})
	}
	load := func(t *testing.T, ids ...uuid.UUID) map[uuid.UUID][]group.Membership {
		t.Helper()
		var out map[uuid.UUID][]group.Membership
		b.inTx(t, func(ctx context.Context, tx database.Tx) error {
			var err error
			out, err = b.svc.ForCustomers(ctx, tx, ids)
			return err
		})
		return out
	}

	set(t, c1, map[string]*string{"level": ptr("GOLD"), "segment": ptr("VIP"), "region": ptr("L001")})
	set(t, c2, map[string]*string{"region": ptr("L002")})

	t.Run("ForCustomersInFallbackOrder", func(t *testing.T) {
		got := load(t, c1, c2, c3)
		require.Equal(t, []string{"region=L001", "segment=VIP", "level=GOLD"}, membershipCodes(got[c1]))
		require.Equal(t, []string{"region=L002"}, membershipCodes(got[c2]))
		require.NotContains(t, got, c3, "a customer without groups has no entry")
		require.Empty(t, load(t))
	})
	t.Run("OneGroupPerCategory", func(t *testing.T) {
		set(t, c2, map[string]*string{"region": ptr("L001"), "segment": ptr("VIP")})
		require.Equal(t, []string{"region=L001", "segment=VIP"}, membershipCodes(load(t, c2)[c2]))
		set(t, c2, map[string]*string{"segment": nil})
		require.Equal(t, []string{"region=L001"}, membershipCodes(load(t, c2)[c2]), "categories not named are left alone")
	})
	t.Run("CategoryPositionChangesOrder", func(t *testing.T) {
		resp := b.app.Patch(t, "/v1/customer-group-categories/level", b.tn.AdminToken, `"1"`, map[string]any{"position": 0})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, []string{"level=GOLD", "region=L001", "segment=VIP"}, membershipCodes(load(t, c1)[c1]))
		resp = b.app.Patch(t, "/v1/customer-group-categories/segment", b.tn.AdminToken, `"1"`, map[string]any{"position": 0})
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		require.Equal(t, []string{"level=GOLD", "segment=VIP", "region=L001"}, membershipCodes(load(t, c1)[c1]),
			"equal positions fall back to key order")
	})
	t.Run("VisibilityApplies", func(t *testing.T) {
		repScope := database.Scope{TenantID: uuid.MustParse(b.tn.ID), UserID: ptrUUID(uuid.MustParse(rep.ID)), Visibility: tenant.VisibilityAssigned}
		var got map[uuid.UUID][]group.Membership
		require.NoError(t, b.inScope(repScope, func(ctx context.Context, tx database.Tx) error {
			var err error
			got, err = b.svc.ForCustomers(ctx, tx, []uuid.UUID{c1, c2})
			return err
		}))
		require.Contains(t, got, c1)
		require.NotContains(t, got, c2, "a rep does not see memberships of others' customers")

		// Writing the memberships of a customer the rep cannot see is
		// refused like a missing customer.
		err := b.inScope(repScope, func(ctx context.Context, tx database.Tx) error {
			s, r, err := b.svc.Resolve(ctx, tx, map[string]*string{"segment": ptr("VIP")})
			if err != nil {
				return err
			}
			return b.svc.SetMemberships(ctx, tx, c3, s, r)
		})
		require.ErrorIs(t, err, group.ErrCustomerNotFound)
		require.NotContains(t, load(t, c3), c3)
	})
	t.Run("UnknownCustomer", func(t *testing.T) {
		err := b.inScope(database.SystemScope(uuid.MustParse(b.tn.ID)), func(ctx context.Context, tx database.Tx) error {
			s, r, err := b.svc.Resolve(ctx, tx, map[string]*string{"segment": ptr("VIP")})
			if err != nil {
				return err
			}
			return b.svc.SetMemberships(ctx, tx, uuid.New(), s, r)
		})
		require.ErrorIs(t, err, group.ErrCustomerNotFound)
	})
}

func TestNormalizeCategory(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, key string
		ok      bool
		name    string
	}{
		{"region", "region", true, "Region"},
		{" Customer_Vendor ", "customer_vendor", true, "Customer vendor"},
		{"level2", "level2", true, "Level2"},
		{"2level", "2level", false, ""},
		{"_x", "_x", false, ""},
		{"", "", false, ""},
		{"a-b", "a-b", false, ""},
		{"a234567890123456789012345678901234567890", "a234567890123456789012345678901234567890", true, "A234567890123456789012345678901234567890"},
		{"a2345678901234567890123456789012345678901", "a2345678901234567890123456789012345678901", false, ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			key, ok := group.NormalizeCategory(tc.in)
			require.Equal(t, tc.key, key)
			require.Equal(t, tc.ok, ok)
			if ok {
				require.Equal(t, tc.name, group.CategoryName(key))
			}
		})
	}
}

func ptrUUID(id uuid.UUID) *uuid.UUID { return &id }
