package httpapi

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseIfMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header string
		ok     bool
		// matches are the versions the condition accepts among 1..5.
		matches []int64
	}{
		{"Star", "*", true, []int64{1, 2, 3, 4, 5}},
		{"StarPadded", " * ", true, []int64{1, 2, 3, 4, 5}},
		{"Version", `"3"`, true, []int64{3}},
		{"List", `"1", "4"`, true, []int64{1, 4}},
		{"ListNoSpace", `"1","4"`, true, []int64{1, 4}},
		{"EmptyElements", `, "2" ,, "5",`, true, []int64{2, 5}},
		{"WeakNeverMatches", `W/"3"`, true, nil},
		{"WeakInAList", `W/"3", "4"`, true, []int64{4}},
		{"NotAVersion", `"abc"`, true, nil},
		{"EmptyTag", `""`, true, nil},
		{"Zero", `"0"`, true, nil},
		{"Negative", `"-1"`, true, nil},
		{"LeadingZero", `"03"`, true, nil},
		{"PlusSign", `"+3"`, true, nil},
		{"Overflow", `"99999999999999999999"`, true, nil},
		{"Unquoted", `3`, false, nil},
		{"Unterminated", `"3`, false, nil},
		{"WeakUnquoted", `W/3`, false, nil},
		{"LowercaseWeak", `w/"3"`, false, nil},
		{"StarInAList", `*, "3"`, false, nil},
		{"SpaceInTag", `"3 4"`, false, nil},
		{"ControlInTag", "\"3\x01\"", false, nil},
		{"GarbageAfterTag", `"3"x`, false, nil},
		{"MissingComma", `"3" "4"`, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cond, ok := parseIfMatch(tc.header)
			require.Equal(t, tc.ok, ok)
			var got []int64
			for v := int64(1); v <= 5; v++ {
				if cond.Matches(v) {
					got = append(got, v)
				}
			}
			require.Equal(t, tc.matches, got)
		})
	}
}
