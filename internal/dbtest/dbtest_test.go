package dbtest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestExistingDatabaseMode: with CUSTOMERHUB_TEST_EXISTING_DB set, the
// harness connects to that database as it is, and the helpers that need a
// database of their own skip their test instead of creating one.
func TestExistingDatabaseMode(t *testing.T) {
	db := Fresh(t)
	t.Setenv(ExistingDBEnv, db.Name)

	for name, helper := range map[string]func(testing.TB) *DB{"Fresh": Fresh, "Empty": Empty} {
		var created *DB
		skipped := false
		t.Run(name, func(t *testing.T) {
			t.Cleanup(func() { skipped = t.Skipped() })
			created = helper(t)
		})
		require.True(t, skipped, "%s skips its test", name)
		require.Nil(t, created, "%s creates no database", name)
	}

	existing, err := openDB(context.Background(), existingDB())
	require.NoError(t, err)
	defer existing.App.Close()
	var current, user string
	require.NoError(t, existing.App.QueryRow(context.Background(), `SELECT current_database(), current_user`).Scan(&current, &user))
	require.Equal(t, db.Name, current)
	require.Equal(t, "customerhub_app", user)
}
