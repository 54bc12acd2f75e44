package database

import (
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// TestConstraintIs: errors on Citus name the shard's copy of a constraint
// (the name, "_" and the shard id); the error mapping must still know it.
func TestConstraintIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		got, want string
		match     bool
	}{
		{"customers_code_key", "customers_code_key", true},
		{"customers_code_key_102368", "customers_code_key", true},
		{"customers_code_key_x", "customers_code_key", false},
		{"customers_code_key_", "customers_code_key", false},
		{"customers_code_key_extra_1", "customers_code_key", false},
		{"customers_code", "customers_code_key", false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.match, constraintIs(tt.got, tt.want), "%s vs %s", tt.got, tt.want)
	}
}

// TestConstraintOf: Citus passes a worker's violation on without its
// constraint field; the message still names it.
func TestConstraintOf(t *testing.T) {
	t.Parallel()
	require.Equal(t, "a_key", constraintOf(&pgconn.PgError{ConstraintName: "a_key", Message: `constraint "b_key"`}))
	require.Equal(t, "customers_payment_terms_fkey_102074", constraintOf(&pgconn.PgError{
		Message: `insert or update on table "customers_102074" violates foreign key constraint "customers_payment_terms_fkey_102074"`}))
	require.Empty(t, constraintOf(&pgconn.PgError{Message: "something else"}))
	require.True(t, IsForeignKeyViolation(&pgconn.PgError{Code: "23503",
		Message: `update or delete on table "customer_locations_102447" violates foreign key constraint "sales_orders_location_fkey_102703" on table "sales_orders_102703"`},
		"sales_orders_location_fkey"))
}
