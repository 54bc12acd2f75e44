package sqlfrag_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/sqlfrag"
)

// TestQueriesCurrent fails when a query's copy of a fragment is not the
// fragment's text (run make generate).
func TestQueriesCurrent(t *testing.T) {
	t.Parallel()
	res, err := sqlfrag.ExpandDir("../../queries")
	require.NoError(t, err)
	require.Empty(t, res.Stale, "stale fragment copies: run make generate")
	require.Equal(t, []string{"CustomerSelectionInsert", "CustomerList", "CustomerCount", "CustomerExportPage"}, res.Uses["customer_filter"])
	require.Equal(t, []string{"CustomerList", "CustomerExportPage"}, res.Uses["customer_page"])
}

func TestExpand(t *testing.T) {
	t.Parallel()
	frag, err := sqlfrag.Parse("f", "-- f is a filter.\n-- Second line.\n\nc.a = @a\nAND (sqlc.narg(b)::text IS NULL\n     OR c.b = sqlc.narg(b)::text)\n")
	require.NoError(t, err)
	require.Equal(t, "f is a filter.\nSecond line.", frag.Doc)
	require.Equal(t, []string{"a", "b"}, sqlfrag.Params(frag))
	frags := map[string]sqlfrag.Fragment{"f": frag}

	src := "-- name: Q :many\nSELECT 1 FROM t c\nWHERE\n  -- fragment: f\n  old text\n  -- end fragment: f\n  AND c.x\nLIMIT 1;\n"
	got, uses, err := sqlfrag.Expand(src, frags)
	require.NoError(t, err)
	require.Equal(t, "-- name: Q :many\nSELECT 1 FROM t c\nWHERE\n  "+sqlfrag.BeginMarker("f")+
		"\n  c.a = @a\n  AND (sqlc.narg(b)::text IS NULL\n       OR c.b = sqlc.narg(b)::text)\n  -- end fragment: f\n  AND c.x\nLIMIT 1;\n", got)
	require.Equal(t, map[string][]string{"f": {"Q"}}, uses)
	again, _, err := sqlfrag.Expand(got, frags)
	require.NoError(t, err)
	require.Equal(t, got, again, "expanding is idempotent")

	for name, bad := range map[string]string{
		"NoEnd":        "-- name: Q :one\nSELECT 1\n  -- fragment: f\nWHERE x;\n",
		"EndOnly":      "-- name: Q :one\nSELECT 1\n  -- end fragment: f\n",
		"Unknown":      "-- name: Q :one\nSELECT 1\n  -- fragment: g\n  -- end fragment: g\n",
		"OutsideQuery": "  -- fragment: f\n  -- end fragment: f\n",
	} {
		_, _, err := sqlfrag.Expand(bad, frags)
		require.Error(t, err, name)
	}
	_, err = sqlfrag.Parse("g", "-- only a comment\n")
	require.Error(t, err)
	_, err = sqlfrag.Parse("g", "c.a = 1;\n")
	require.True(t, err != nil && strings.Contains(err.Error(), "semicolon"))
}
