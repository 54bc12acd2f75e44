package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestHasher(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := NewHasher(HashParams{MemoryKiB: 1024, Iterations: 1, Concurrency: 2})
	enc, err := h.Hash(ctx, "correct horse")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(enc, "$argon2id$v=19$m=1024,t=1,p=1$"), enc)

	tests := []struct {
		name     string
		password string
		encoded  string
		ok       bool
		err      bool
	}{
		{name: "Match", password: "correct horse", encoded: enc, ok: true},
		{name: "Mismatch", password: "correct horsE", encoded: enc},
		{name: "UnknownUser", password: "anything", encoded: ""},
		{name: "Garbage", password: "x", encoded: "$bcrypt$whatever", err: true},
		{name: "BadParams", password: "x", encoded: "$argon2id$v=19$m=x$AAAA$AAAA", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, err := h.Verify(ctx, tt.password, tt.encoded)
			require.Equal(t, tt.err, err != nil, "err: %v", err)
			require.Equal(t, tt.ok, ok)
		})
	}
	t.Run("CostFromTheHash", func(t *testing.T) {
		t.Parallel()
		// A hasher with other parameters still verifies older hashes.
		other := NewHasher(HashParams{MemoryKiB: 2048, Iterations: 2})
		ok, err := other.Verify(ctx, "correct horse", enc)
		require.NoError(t, err)
		require.True(t, ok)
	})
	t.Run("ConcurrencyBoundHonoursContext", func(t *testing.T) {
		t.Parallel()
		busy := NewHasher(HashParams{MemoryKiB: 1024, Iterations: 1, Concurrency: 1})
		busy.slots <- struct{}{} // occupy the only slot
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := busy.Hash(cctx, "x")
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestTokens(t *testing.T) {
	t.Parallel()
	tid := uuid.New()
	tok, hash := newToken(tid)
	gotTenant, gotHash, ok := parseToken(tok)
	require.True(t, ok)
	require.Equal(t, tid, gotTenant)
	require.Equal(t, hash, gotHash)
	require.Len(t, hash, 32)

	tok2, hash2 := newToken(tid)
	require.NotEqual(t, tok, tok2)
	require.NotEqual(t, hash, hash2)

	for _, bad := range []string{"", "chub_", "chub_!!", tok[:len(tok)-1], "xxxx" + tok[4:], tok + "A", strings.Replace(tok, "chub_", "CHUB_", 1)} {
		_, _, ok := parseToken(bad)
		require.False(t, ok, bad)
	}
}

func TestSlugify(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Acme Ltd.", "acme-ltd"},
		{"  --Blue   Harbor--  ", "blue-harbor"},
		{"A very long company name that goes on and on forever", "a-very-long-company-name-that-goes-on-an"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, slugify(tt.in), tt.in)
		require.Regexp(t, slugRE, slugify(tt.in))
	}
	require.Regexp(t, `^tenant-[0-9a-f]{6}$`, slugify("株式会社"))
}
