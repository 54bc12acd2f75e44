package precondition_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/precondition"
)

func TestMatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cond    precondition.IfMatch
		current int64
		want    bool
	}{
		{"AnyMatchesEveryVersion", precondition.Any(), 7, true},
		{"SameVersion", precondition.Versions(3), 3, true},
		{"StaleVersion", precondition.Versions(2), 3, false},
		{"OneOfAList", precondition.Versions(1, 3), 3, true},
		{"NoneOfAList", precondition.Versions(1, 2), 3, false},
		{"EmptyListNeverMatches", precondition.Versions(), 1, false},
		{"ZeroValueNeverMatches", precondition.IfMatch{}, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.cond.Matches(tc.current))
		})
	}
}
