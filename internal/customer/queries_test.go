package customer_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestListAndCountFilterAlike: CustomerCount must count exactly what
// CustomerList lists, and CustomerExportPage page through it alike; their WHERE clauses are kept identical by hand (sqlc
// cannot share a fragment), and this test holds them to it.
func TestListAndCountFilterAlike(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../queries/customers.sql")
	require.NoError(t, err)
	src := string(raw)
	where := func(name, end string) string {
		start := strings.Index(src, "-- name: "+name+" ")
		require.GreaterOrEqual(t, start, 0, name)
		body := src[start:]
		w := strings.Index(body, "WHERE c.tenant_id")
		e := strings.Index(body, end)
		require.True(t, w > 0 && e > w, name)
		return regexp.MustCompile(`\s+`).ReplaceAllString(body[w:e], " ")
	}
	list := where("CustomerList", "AND (sqlc.narg(after_id)")
	count := where("CustomerCount", "LIMIT @cap")
	require.Equal(t, list, count)
	// The exports page through the list with a narrower row: the same
	// filters, keyset and order.
	require.Equal(t, where("CustomerList", "LIMIT @row_limit"), where("CustomerExportPage", "LIMIT @row_limit"))
}
