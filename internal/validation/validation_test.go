package validation_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/validation"
)

func TestText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want, code string
	}{
		{name: "Trimmed", in: "  Acme  ", want: "Acme"},
		{name: "Empty", in: "   ", code: "required"},
		{name: "TooLong", in: strings.Repeat("é", 11), code: "too_long"},
		{name: "RunesNotBytes", in: strings.Repeat("é", 10), want: strings.Repeat("é", 10)},
		{name: "NUL", in: "a\x00b", code: "invalid_characters"},
		{name: "Escape", in: "a\x1bb", code: "invalid_characters"},
		{name: "NewlineAllowed", in: "a\nb", want: "a\nb"},
		{name: "InvalidUTF8", in: "a\xffb", code: "invalid_utf8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var errs validation.Errors
			got := errs.Text("f", tt.in, 1, 10)
			if tt.code == "" {
				require.Empty(t, errs)
				require.Equal(t, tt.want, got)
				return
			}
			require.Len(t, errs, 1)
			require.Equal(t, validation.FieldError{Field: "f", Code: tt.code, Message: errs[0].Message}, errs[0])
		})
	}
}

func TestEmail(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"Ann@Example.COM": "ann@example.com", " bob@x.io ": "bob@x.io"} {
		var errs validation.Errors
		require.Equal(t, want, errs.Email("email", in))
		require.Empty(t, errs)
	}
	for _, in := range []string{"nope", "a@b", "Ann <ann@example.com>", "a@@b.com", "a b@c.com"} {
		var errs validation.Errors
		errs.Email("email", in)
		require.Len(t, errs, 1, in)
	}
}

func TestPhone(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, region, want string }{
		{"(415) 555-0101", "US", "+14155550101"},
		{"+44 20 7946 0958", "US", "+442079460958"},
		{"020 7946 0958", "GB", "+442079460958"},
		{"030 1234567", "DE", "+49301234567"},
	}
	for _, tt := range tests {
		var errs validation.Errors
		require.Equal(t, tt.want, errs.Phone("phone", tt.in, tt.region), tt.in)
		require.Empty(t, errs)
	}
	for _, in := range []string{"12345", "call me", "+1 555"} {
		var errs validation.Errors
		errs.Phone("phone", in, "US")
		require.Len(t, errs, 1, in)
	}
}

func TestUnder(t *testing.T) {
	var errs validation.Errors
	errs.Add("set", "required", "give something")
	var inner validation.Errors
	inner.Add("sales_rep_id", "not_found", "no such user")
	require.NoError(t, errs.Under("set.", inner))
	require.NoError(t, errs.Under("set.", nil))
	require.Equal(t, []string{"set", "set.sales_rep_id"}, []string{errs[0].Field, errs[1].Field})
	other := errors.New("connection lost")
	require.Equal(t, other, errs.Under("set.", other), "other errors pass through")
	require.Len(t, errs, 2)
}
