package validation_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/validation"
)

// e164 is an E.164 number as the SMS sender requires it (sms.E164Pattern):
// +, a country code not starting with 0, at most 15 digits in all.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// FuzzPhone: a number Phone accepts is E.164, and normalizes to itself
// whatever the default country; a refused one is an error naming the
// field alone. A plain go test runs the seeds; make fuzz runs it for
// FUZZTIME.
func FuzzPhone(f *testing.F) {
	for _, s := range []struct{ in, region string }{
		{"(415) 555-0101", "US"},
		{"+44 20 7946 0958", "US"},
		{"020 7946 0958", "GB"},
		{"030 1234567", "DE"},
		{"0812-3456-7890", "ID"},
		{"+62 812 3456 7890 ext. 12", "ID"},
		{"tel:+1-415-555-0101", "US"},
		{"+800 1234 5678", ""},
		{"0049 30 1234567", "DE"},
		{"+49 30 123456789012345", "DE"},
		{"+1 415 555 0101", "ZZ"},
		{"١٢٣٤٥٦٧٨٩٠", "EG"},
		{"+683 1234", "NU"},
		{"12345", "US"},
		{"call me", "US"},
		{"+1 555", "US"},
		{"", "US"},
		{"+0 123 4567", "US"},
		{"+1 415 555 0101\x00", "US"},
		{"+1 415 555 0101\xff", "US"},
	} {
		f.Add(s.in, s.region)
	}
	f.Fuzz(func(t *testing.T, in, region string) {
		var errs validation.Errors
		out := errs.Phone("phone", in, region)
		if len(errs) > 0 {
			require.Len(t, errs, 1)
			require.Equal(t, "phone", errs[0].Field)
			return
		}
		require.Regexp(t, e164, out, "%q (%s) accepted", in, region)
		for _, r := range []string{region, "US", ""} {
			var again validation.Errors
			require.Equal(t, out, again.Phone("phone", out, r), "%q (%s) became %s", in, region, out)
			require.Empty(t, again)
		}
	})
}
