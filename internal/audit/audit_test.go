package audit

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDiff(t *testing.T) {
	t.Parallel()
	type rec struct {
		Name    string   `json:"name"`
		Email   *string  `json:"email"`
		Version int64    `json:"version"`
		Tags    []string `json:"tags"`
	}
	email := "a@b.example"
	tests := []struct {
		name          string
		before, after any
		want          map[string]Change
	}{
		{name: "Create", after: rec{Name: "A", Email: &email, Version: 1},
			want: map[string]Change{"name": {nil, "A"}, "email": {nil, "a@b.example"}}},
		{name: "Delete", before: rec{Name: "A", Version: 3, Tags: []string{"x"}},
			want: map[string]Change{"name": {"A", nil}, "tags": {[]any{"x"}, nil}}},
		{name: "Update", before: rec{Name: "A", Email: &email, Version: 1}, after: rec{Name: "B", Version: 2},
			want: map[string]Change{"name": {"A", "B"}, "email": {"a@b.example", nil}}},
		{name: "VersionOnly", before: rec{Name: "A", Version: 1}, after: rec{Name: "A", Version: 2}, want: map[string]Change{}},
		{name: "NestedChange", before: rec{Tags: []string{"x"}}, after: rec{Tags: []string{"x", "y"}},
			want: map[string]Change{"tags": {[]any{"x"}, []any{"x", "y"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Diff(tt.before, tt.after)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	_, err := Diff([]int{1}, nil)
	require.Error(t, err, "only objects can be compared field by field")
}
