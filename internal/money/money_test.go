package money

import (
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"1234.50", "1234.5", nil},
		{"-0.0001", "-0.0001", nil},
		{"0", "0", nil},
		{"999999999999999.9999", "999999999999999.9999", nil},
		{"1000000000000000", "", ErrTooLarge},
		{"0.00001", "", ErrTooPrecise},
		{"1e3", "", ErrNotDecimal},
		{"1,000.00", "", ErrNotDecimal},
		{"+5", "", ErrNotDecimal},
		{"abc", "", ErrNotDecimal},
		{"", "", ErrNotDecimal},
		{"NaN", "", ErrNotDecimal},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		require.ErrorIs(t, err, tt.err, tt.in)
		if tt.err == nil {
			require.True(t, got.Equal(decimal.RequireFromString(tt.want)), "%s: %s", tt.in, got)
		}
	}
}

func TestValueJSON(t *testing.T) {
	t.Parallel()
	var v struct {
		A Value `json:"a"`
		B Value `json:"b"`
		C Value `json:"c"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"a":"12.34","b":0.1,"c":true}`), &v))
	require.NoError(t, v.A.Err)
	require.Equal(t, "12.34", v.A.Decimal.String())
	require.NoError(t, v.B.Err)
	require.Equal(t, "0.1", v.B.Decimal.String(), "numbers are read from their text, not through a float")
	require.ErrorIs(t, v.C.Err, ErrNotDecimal)
}

func TestCurrency(t *testing.T) {
	t.Parallel()
	c, ok := Currency(" usd ")
	require.True(t, ok)
	require.Equal(t, "USD", c)
	for _, bad := range []string{"XYZ1", "US", "ZZZ", ""} {
		_, ok := Currency(bad)
		require.False(t, ok, bad)
	}
	require.Equal(t, int32(0), MinorUnits("JPY"))
	require.Equal(t, int32(3), MinorUnits("KWD"))
	require.Equal(t, "1234.50", Format(decimal.RequireFromString("1234.5"), "USD"))
	require.Equal(t, "1235", Format(decimal.RequireFromString("1234.5"), "JPY"))
}
