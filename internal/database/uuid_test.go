package database_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/dbtest"
)

// TestUUIDEncoding: the pool sends uuid.UUID values (alone, in arrays,
// behind pointers, nil) as the same uuids, in binary and text formats,
// and a 2,000-element uuid[] encodes without the allocations of pgx's
// text round trip (a string formatted and parsed per id: 20 allocations
// an id and 8.8 ms for the lot; counted, not timed, so a loaded machine
// cannot fail it).
func TestUUIDEncoding(t *testing.T) {
	// Not parallel: testing.AllocsPerRun counts the whole process's.
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
	allocs := testing.AllocsPerRun(3, func() {
		_, err = m.Encode(oid.OID, 1, ids, nil)
	})
	require.NoError(t, err)
	// Measured: 3 an id with registerUUID, 20 an id through the text
	// round trip.
	require.Less(t, allocs, float64(5*len(ids)), "allocations to encode %d uuids", len(ids))
}
