package files_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/dbtest"
	"github.com/customerhub/customerhub/internal/files"
	"github.com/customerhub/customerhub/internal/tenant"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type fixture struct {
	db       *dbtest.DB
	tenantID uuid.UUID
	a, b     uuid.UUID // two users who see only their own files
}

func setup(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{db: dbtest.Shared(t), tenantID: uuid.New(), a: uuid.New(), b: uuid.New()}
	require.NoError(t, database.WithTenantTx(ctx, f.db.App, database.SystemScope(f.tenantID), func(ctx context.Context, tx database.Tx) error {
		q := dbsqlc.New()
		if _, err := q.TenantInsert(ctx, tx, dbsqlc.TenantInsertParams{ID: f.tenantID, Slug: "f-" + f.tenantID.String()[:8], Name: "F"}); err != nil {
			return err
		}
		for _, u := range []uuid.UUID{f.a, f.b} {
			role := "sales_rep"
			if _, err := q.UserInsert(ctx, tx, dbsqlc.UserInsertParams{TenantID: f.tenantID, ID: u, Email: u.String() + "@x.test",
				Name: "U", PasswordHash: "x", BuiltinRole: &role, Visibility: tenant.VisibilityAssigned}); err != nil {
				return err
			}
		}
		return nil
	}))
	return f
}

func (f fixture) scope(u uuid.UUID) database.Scope {
	return database.Scope{TenantID: f.tenantID, UserID: &u, Visibility: tenant.VisibilityAssigned}
}

func (f fixture) save(t *testing.T, u uuid.UUID, content []byte, expires time.Time) files.File {
	t.Helper()
	file, err := database.WithTenantTxV(context.Background(), f.db.App, f.scope(u), func(ctx context.Context, tx database.Tx) (files.File, error) {
		return files.Save(ctx, tx, files.New{Purpose: "test", Name: "a.bin", ContentType: "application/octet-stream",
			CreatedBy: &u, ExpiresAt: expires}, bytes.NewReader(content), 0)
	})
	require.NoError(t, err)
	return file
}

// TestSaveAndRead: content of several chunks (and an uneven last one)
// comes back byte for byte through both readers, with its size and digest.
func TestSaveAndRead(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	content := make([]byte, 2*files.ChunkSize+12345)
	_, _ = rand.Read(content)
	file := f.save(t, f.a, content, time.Now().Add(time.Hour))
	sum := sha256.Sum256(content)
	require.Equal(t, int64(len(content)), file.Size)
	require.Equal(t, sum[:], file.SHA256)

	r, err := files.OpenEach(ctx, f.db.App, f.scope(f.a), file.ID)
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.True(t, bytes.Equal(content, got), "content read back through OpenEach")

	require.NoError(t, database.WithTenantTx(ctx, f.db.App, f.scope(f.a), func(ctx context.Context, tx database.Tx) error {
		r, err := files.Open(ctx, tx, file.ID)
		if err != nil {
			return err
		}
		got, err := io.ReadAll(r)
		require.True(t, bytes.Equal(content, got), "content read back through Open")
		return err
	}))

	var n int
	require.NoError(t, database.WithTenantTx(ctx, f.db.App, f.scope(f.a), func(ctx context.Context, tx database.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM file_chunks WHERE tenant_id = $1 AND file_id = $2`, f.tenantID, file.ID).Scan(&n)
	}))
	require.Equal(t, 3, n, "stored in chunks of ChunkSize")

	empty := f.save(t, f.a, nil, time.Now().Add(time.Hour))
	r, err = files.OpenEach(ctx, f.db.App, f.scope(f.a), empty.ID)
	require.NoError(t, err)
	got, err = io.ReadAll(r)
	require.NoError(t, err)
	require.Empty(t, got)
}

// TestTooLarge: past the limit Save stops with a *TooLargeError, and the
// transaction it rolls back leaves nothing.
func TestTooLarge(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	var id uuid.UUID
	err := database.WithTenantTx(ctx, f.db.App, f.scope(f.a), func(ctx context.Context, tx database.Tx) error {
		file, err := files.Save(ctx, tx, files.New{Purpose: "test", Name: "big", ContentType: "x", CreatedBy: &f.a,
			ExpiresAt: time.Now().Add(time.Hour)}, io.LimitReader(rand.Reader, 3*files.ChunkSize), files.ChunkSize+10)
		id = file.ID
		return err
	})
	var tl *files.TooLargeError
	require.True(t, errors.As(err, &tl), "got %v", err)
	require.Equal(t, int64(files.ChunkSize+10), tl.Limit)
	require.Equal(t, uuid.Nil, id)

	// Exactly at the limit is accepted.
	_, err = database.WithTenantTxV(ctx, f.db.App, f.scope(f.a), func(ctx context.Context, tx database.Tx) (files.File, error) {
		return files.Save(ctx, tx, files.New{Purpose: "test", Name: "ok", ContentType: "x", CreatedBy: &f.a,
			ExpiresAt: time.Now().Add(time.Hour)}, bytes.NewReader(make([]byte, 100)), 100)
	})
	require.NoError(t, err)
}

// TestIsolation: another user of the tenant (who sees only their own)
// and another tenant do not find the file.
func TestIsolation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	other := setup(t)
	ctx := context.Background()
	file := f.save(t, f.a, []byte("secret"), time.Now().Add(time.Hour))
	_, err := files.OpenEach(ctx, f.db.App, f.scope(f.b), file.ID)
	require.ErrorIs(t, err, files.ErrNotFound)
	_, err = files.OpenEach(ctx, f.db.App, other.scope(other.a), file.ID)
	require.ErrorIs(t, err, files.ErrNotFound)
	all := database.Scope{TenantID: f.tenantID, UserID: &f.b, Visibility: tenant.VisibilityAll}
	r, err := files.OpenEach(ctx, f.db.App, all, file.ID)
	require.NoError(t, err, "a user who sees every customer sees every file")
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, "secret", string(got))
	err = database.WithTenantTx(ctx, f.db.App, f.scope(f.b), func(ctx context.Context, tx database.Tx) error {
		return files.Delete(ctx, tx, file.ID)
	})
	require.ErrorIs(t, err, files.ErrNotFound)
}

// TestPurge deletes expired files with their chunks, in the system scope,
// and keeps the others.
func TestPurge(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	old := f.save(t, f.a, []byte("old"), time.Now().Add(-time.Minute))
	fresh := f.save(t, f.b, []byte("fresh"), time.Now().Add(time.Hour))
	n, err := database.WithTenantTxV(ctx, f.db.App, database.SystemScope(f.tenantID), func(ctx context.Context, tx database.Tx) (int64, error) {
		return files.Purge(ctx, tx, time.Now())
	})
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	_, err = files.OpenEach(ctx, f.db.App, f.scope(f.a), old.ID)
	require.ErrorIs(t, err, files.ErrNotFound)
	_, err = files.OpenEach(ctx, f.db.App, f.scope(f.b), fresh.ID)
	require.NoError(t, err)
	var chunks int
	require.NoError(t, database.WithTenantTx(ctx, f.db.App, database.SystemScope(f.tenantID), func(ctx context.Context, tx database.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM file_chunks WHERE tenant_id = $1 AND file_id = $2`, f.tenantID, old.ID).Scan(&chunks)
	}))
	require.Zero(t, chunks)
}
