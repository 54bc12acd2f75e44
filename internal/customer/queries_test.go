package customer_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestListAndCountFilterAlike: CustomerCount must count exactly what
// CustomerList lists, and CustomerExportPage page through it alike, and
// CustomerSelectionInsert select it; their WHERE clauses are copies of
// queries/fragments (make generate writes them: sqlc cannot share a
// fragment), and this test holds them to it. TestFilterSelectsAlike
// checks the results.
func TestListAndCountFilterAlike(t *testing.T) {
	t.Parallel()
	var src string
	for _, f := range []string{"customers.sql", "customer_bulk.sql"} {
		raw, err := os.ReadFile("../../queries/" + f)
		require.NoError(t, err)
		src += string(raw)
	}
	where := func(name, end string) string {
		start := strings.Index(src, "-- name: "+name+" ")
		require.GreaterOrEqual(t, start, 0, name)
		body := src[start:]
		w := strings.Index(body, "WHERE\n  -- fragment: customer_filter ")
		e := strings.Index(body, end)
		require.True(t, w > 0 && e > w, name)
		return regexp.MustCompile(`\s+`).ReplaceAllString(body[w:e], " ")
	}
	list := where("CustomerList", "-- end fragment: customer_filter")
	count := where("CustomerCount", "-- end fragment: customer_filter")
	require.Equal(t, list, count)
	require.Equal(t, list, where("CustomerSelectionInsert", "-- end fragment: customer_filter"))
	// The exports page through the list with a narrower row: the same
	// filters, keyset and order.
	require.Equal(t, where("CustomerList", "LIMIT @row_limit"), where("CustomerExportPage", "LIMIT @row_limit"))
}
