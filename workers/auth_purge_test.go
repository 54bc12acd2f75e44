package workers_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/auth"
	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/workers"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestAuthPurge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Shared(t)
	q := dbsqlc.New()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := auth.NewService(db.App, auth.NewHasher(auth.HashParams{MemoryKiB: 1024, Iterations: 1}),
		auth.Options{LoginWindow: time.Minute}, logger)

	// Two tenants, each with an expired and a live token.
	type tokens struct{ expired, live uuid.UUID }
	seed := func() (uuid.UUID, tokens) {
		tid, uid := uuid.New(), uuid.New()
		tk := tokens{expired: uuid.New(), live: uuid.New()}
		err := database.WithTenantTx(ctx, db.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
			_, err := q.TenantInsert(ctx, tx, dbsqlc.TenantInsertParams{ID: tid, Slug: "p-" + tid.String()[:8], Name: "P"})
			require.NoError(t, err)
			role := "admin"
			_, err = q.UserInsert(ctx, tx, dbsqlc.UserInsertParams{TenantID: tid, ID: uid, Email: "a@p.example", Name: "A", PasswordHash: "x", BuiltinRole: &role, Visibility: "all"})
			require.NoError(t, err)
			past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
			for id, exp := range map[uuid.UUID]*time.Time{tk.expired: &past, tk.live: &future} {
				_, err = q.APITokenInsert(ctx, tx, dbsqlc.APITokenInsertParams{TenantID: tid, ID: id, UserID: uid, Kind: "session", TokenHash: []byte(id.String()), ExpiresAt: exp})
				require.NoError(t, err)
			}
			return nil
		})
		require.NoError(t, err)
		return tid, tk
	}
	t1, k1 := seed()
	t2, k2 := seed()
	_, err := db.App.Exec(ctx, `INSERT INTO auth_throttle (key, failures, window_start, updated_at) VALUES ($1, 3, now() - interval '1 day', now() - interval '1 day')`, []byte(uuid.NewString()))
	require.NoError(t, err)

	w := workers.NewAuthPurgeWorker(workers.Deps{Pool: db.App, Auth: svc, Logger: logger})
	tw := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{Schema: database.RiverSchema}, w)
	tx, err := db.App.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx) //nolint:errcheck // test transaction
	res, err := tw.Work(ctx, t, tx, auth.PurgeArgs{}, nil)
	require.NoError(t, err)
	require.Equal(t, river.EventKindJobCompleted, res.EventKind)
	require.Equal(t, rivertype.JobStateCompleted, res.Job.State)

	for tid, tk := range map[uuid.UUID]tokens{t1: k1, t2: k2} {
		err := database.WithTenantTx(ctx, db.App, database.SystemScope(tid), func(ctx context.Context, tx database.Tx) error {
			rows, err := tx.Query(ctx, `SELECT id FROM api_tokens WHERE tenant_id = $1`, tid)
			require.NoError(t, err)
			ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{tk.live}, ids)
			return nil
		})
		require.NoError(t, err)
	}
	var stale int
	require.NoError(t, db.App.QueryRow(ctx, `SELECT count(*) FROM auth_throttle WHERE updated_at < now() - interval '1 hour'`).Scan(&stale))
	require.Zero(t, stale)

	// Running again is harmless.
	res, err = tw.Work(ctx, t, tx, auth.PurgeArgs{}, nil)
	require.NoError(t, err)
	require.Equal(t, river.EventKindJobCompleted, res.EventKind)
}
