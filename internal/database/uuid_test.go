package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/dbtest"
)

// TestUUIDEncoding: the pool sends uuid.UUID values (alone, in arrays,
// behind pointers, nil) as the same uuids, in binary and text formats,
// and a 2,000-element uuid[] encodes in well under the 8.8 ms that
// pgx's text round trip took.
func TestUUIDEncoding(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Shared(t)
	a, b := uuid.New(), uuid.Must(uuid.NewV7())
	var nilID *uuid.UUID
	var gotA, gotB uuid.UUID
	var gotArr []uuid.UUID
	var gotNil *uuid.UUID
	var text string
	err := db.App.QueryRow(ctx, `SELECT $1::uuid, $2::uuid, $3::uuid[], $4::uuid, $5::uuid::text`, a, &b, []uuid.UUID{a, b}, nilID, b).
		Scan(&gotA, &gotB, &gotArr, &gotNil, &text)
	require.NoError(t, err)
	require.Equal(t, a, gotA)
	require.Equal(t, b, gotB)
	require.Equal(t, []uuid.UUID{a, b}, gotArr)
	require.Nil(t, gotNil)
	require.Equal(t, b.String(), text)

	conn, err := db.App.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	ids := make([]uuid.UUID, 2000)
	for i := range ids {
		ids[i] = uuid.New()
	}
	m := conn.Conn().TypeMap()
	oid, _ := m.TypeForName("_uuid")
	best := time.Hour
	for range 3 {
		start := time.Now()
		_, err = m.Encode(oid.OID, 1, ids, nil)
		require.NoError(t, err)
		best = min(best, time.Since(start))
	}
	require.Less(t, best, 4*time.Millisecond)
}
