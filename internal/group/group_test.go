package group_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/group"
)

func TestDecodeMemberships(t *testing.T) {
	t.Parallel()
	gid := uuid.MustParse("0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7a")
	pl := uuid.MustParse("6f1d8a52-3c0e-4f55-9d7e-2b8f0b4c9a17")

	t.Run("Success", func(t *testing.T) {
		t.Parallel()
		ms, err := group.DecodeMemberships([]byte(`[
			{"category": "region", "category_name": "Region", "category_position": 1, "group_id": "` + gid.String() + `",
			 "code": "L001", "name": "Lokal 1", "price_list_id": "` + pl.String() + `", "payment_terms_id": null,
			 "credit_limit": 123456789012345.6789, "credit_days": 30, "discount_rate": 12.50},
			{"category": "level", "category_name": "Level", "category_position": 2, "group_id": "` + gid.String() + `",
			 "code": "GOLD", "name": "Gold", "price_list_id": null, "payment_terms_id": null,
			 "credit_limit": null, "credit_days": null, "discount_rate": 0.10}]`))
		require.NoError(t, err)
		require.Len(t, ms, 2)
		m := ms[0]
		require.Equal(t, []string{"region", "Region", "L001", "Lokal 1"}, []string{m.Category, m.CategoryName, m.Code, m.Name})
		require.EqualValues(t, 1, m.CategoryPosition)
		require.Equal(t, gid, m.GroupID)
		require.Equal(t, &pl, m.PriceListID)
		require.Nil(t, m.PaymentTermsID)
		// Exact: digits a float64 would lose, and the scale as written.
		require.Equal(t, "123456789012345.6789", m.CreditLimit.String())
		require.Equal(t, "12.50", m.DiscountRate.StringFixed(-m.DiscountRate.Exponent()))
		require.Equal(t, int32(30), *m.CreditDays)
		require.Equal(t, "GOLD", ms[1].Code, "the array's order is kept")
		require.Nil(t, ms[1].CreditLimit)
		require.Nil(t, ms[1].CreditDays)
		require.Equal(t, "0.1", ms[1].DiscountRate.String())
	})
	t.Run("EmptyIsNil", func(t *testing.T) {
		t.Parallel()
		ms, err := group.DecodeMemberships([]byte(`[]`))
		require.NoError(t, err)
		require.Nil(t, ms)
	})
	t.Run("Unreadable", func(t *testing.T) {
		t.Parallel()
		for _, raw := range []string{``, `{}`, `[{"credit_limit": "lots"}]`, `[{"group_id": "x"}]`} {
			_, err := group.DecodeMemberships([]byte(raw))
			require.Error(t, err, raw)
		}
	})
}
