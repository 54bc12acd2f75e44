package harness

import (
	"context"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestPrivateServers: the private PostgreSQL and Redis start on ports of
// their own, stop (PostgreSQL as by a crash) and start again, keeping
// what PostgreSQL committed.
func TestPrivateServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	t.Parallel()
	ctx := context.Background()
	// Not t.TempDir(): its parent is private to this user, and a root
	// run starts PostgreSQL as the postgres account.
	dir, err := os.MkdirTemp("", "harness-test-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })

	pg, err := StartPostgres(ctx, dir)
	require.NoError(t, err)
	t.Cleanup(pg.Close)
	require.NotEqual(t, 5432, pg.Port)
	conn, err := pgx.Connect(ctx, pg.AdminURL())
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)`)
	require.NoError(t, err)
	require.NoError(t, pg.Stop(ctx, "immediate"))
	require.Error(t, conn.Ping(ctx), "the server is down")
	require.NoError(t, pg.Start(ctx))
	conn, err = pgx.Connect(ctx, pg.AdminURL())
	require.NoError(t, err)
	defer conn.Close(ctx)
	var v int
	require.NoError(t, conn.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v))
	require.Equal(t, 7, v)

	r, err := StartRedis(ctx, dir)
	require.NoError(t, err)
	t.Cleanup(r.Close)
	require.True(t, r.Running())
	r.Stop()
	require.False(t, r.Running())
	_, err = net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(r.Port)), time.Second)
	require.Error(t, err, "Redis is down")
	require.NoError(t, r.Start(ctx))
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(r.Port)), time.Second)
	require.NoError(t, err)
	c.Close()
}
