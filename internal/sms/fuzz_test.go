package sms_test

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/sms"
	"github.com/customerhub/customerhub/internal/validation"
)

// Fuzz targets of the SMS parsers: templates, the segment count and
// Twilio's webhook forms. They are pure (the package's TestMain still
// makes a database, unused here): ApplyStatus and ApplyInbound need one,
// so the webhook target fuzzes what runs before them, ParseStatusCallback
// and Keyword. A plain go test runs the seeds; make fuzz runs each for
// FUZZTIME.

// unknownPlaceholderRE reads the placeholder an unknown_placeholder error
// names.
var unknownPlaceholderRE = regexp.MustCompile(`(?s)^unknown placeholder \{(.*)\}; known: `)

// escapeBraces writes s as a template body that renders as s.
func escapeBraces(s string) string {
	return strings.NewReplacer("{", "{{", "}", "}}").Replace(s)
}

func FuzzTemplate(f *testing.F) {
	for _, body := range []string{
		"Hi {name}, you owe {balance} {currency} ({overdue} overdue since {oldest_due_date}). Pay at {portal_url} — {company}",
		"{{literal}} and }} and {{",
		"{name}{name}{balance}",
		"Hi {name",
		"Hi name}",
		"{na{me}",
		"{}",
		"{ name }",
		"{NAME}",
		"{amount} by {due}",
		"{{name}",
		"{name}}",
		"Grüße {name} 😀",
		"\x00{name}\xff",
		strings.Repeat("{name}", 300),
	} {
		f.Add(body, "Toko Makmur", "1234.50")
	}
	f.Add("{name}", "{balance}", "}}{{")
	f.Add("{portal_url}", "", "")
	f.Fuzz(func(t *testing.T, body, name, balance string) {
		tp, err := sms.ParseTemplate("body", body)
		if err != nil {
			var ve validation.Errors
			require.True(t, errors.As(err, &ve), "%v", err)
			require.NotEmpty(t, ve)
			for _, e := range ve {
				require.Equal(t, "body", e.Field, "%+v", e)
				if e.Code == "unknown_placeholder" {
					m := unknownPlaceholderRE.FindStringSubmatch(e.Message)
					require.NotNil(t, m, "%q names no placeholder", e.Message)
					require.NotContains(t, sms.Placeholders, m[1])
					require.Contains(t, body, "{"+m[1]+"}", "%q names a placeholder the body does not have", e.Message)
				}
			}
			return
		}
		vars := sms.Vars{Name: name, Balance: balance, Currency: "USD", Overdue: "100.00", OldestDueDate: "2026-10-01",
			Company: "Demo Co", PortalURL: "https://pay.example/acme"}
		// Uses is what Render fills: a placeholder's value appears in the
		// text exactly when the template uses it (told apart by a marker
		// the body itself cannot hold, as it is not valid UTF-8).
		for _, p := range sms.Placeholders {
			marker := "\xff" + p + "\xff"
			if strings.Contains(body, "\xff") {
				break
			}
			var v sms.Vars
			switch p {
			case "name":
				v.Name = marker
			case "balance":
				v.Balance = marker
			case "currency":
				v.Currency = marker
			case "overdue":
				v.Overdue = marker
			case "oldest_due_date":
				v.OldestDueDate = marker
			case "company":
				v.Company = marker
			case "portal_url":
				v.PortalURL = marker
			default:
				t.Fatalf("placeholder %s has no Vars member here", p)
			}
			require.Equal(t, tp.Uses(p), strings.Contains(tp.Render(v), marker), "{%s} in %q", p, body)
		}
		// Without values, the text is the body with its placeholders
		// dropped and its doubled braces single: no brace it did not
		// escape survives.
		plain := tp.Render(sms.Vars{})
		require.LessOrEqual(t, strings.Count(plain, "{"), strings.Count(body, "{{"))
		require.LessOrEqual(t, strings.Count(plain, "}"), strings.Count(body, "}}"))
		rendered := tp.Render(vars)
		// Any text, escaped, is a template that renders as itself.
		lit, err := sms.ParseTemplate("body", escapeBraces(rendered))
		require.NoError(t, err, "escaped %q", rendered)
		require.Equal(t, rendered, lit.Render(vars))
		requireMeasured(t, rendered)
	})
}

// requireMeasured checks Measure against what it promises: the encoding
// is GSM-7 exactly when each character alone is; units are septets (one
// per character, two for the extension table) or UTF-16 code units; the
// segments are one up to a single message's length, else as many parts
// as a part's length needs, a character never split.
func requireMeasured(t *testing.T, body string) {
	t.Helper()
	m := sms.Measure(body)
	if body == "" {
		require.Equal(t, sms.Measurement{Encoding: sms.EncodingGSM7}, m)
		return
	}
	gsm, septets := true, 0
	for _, r := range body {
		one := sms.Measure(string(r))
		gsm = gsm && one.Encoding == sms.EncodingGSM7
		septets += one.Units
	}
	var single, part int
	switch m.Encoding {
	case sms.EncodingGSM7:
		require.True(t, gsm, "%q measured as GSM-7", body)
		require.Equal(t, septets, m.Units)
		single, part = 160, 153
	case sms.EncodingUCS2:
		require.False(t, gsm, "%q measured as UCS-2", body)
		require.Equal(t, len(utf16.Encode([]rune(body))), m.Units)
		single, part = 70, 67
	default:
		t.Fatalf("encoding %q", m.Encoding)
	}
	require.GreaterOrEqual(t, m.Segments, 1)
	if m.Units <= single {
		require.Equal(t, 1, m.Segments)
		return
	}
	// A part carries part units, or one fewer when the next character
	// (two units) does not fit.
	require.GreaterOrEqual(t, m.Segments, (m.Units+part-1)/part, "%+v", m)
	require.LessOrEqual(t, m.Segments, (m.Units+part-2)/(part-1), "%+v", m)
}

func FuzzMeasure(f *testing.F) {
	for _, s := range []string{
		"", "a", strings.Repeat("a", 160), strings.Repeat("a", 161), strings.Repeat("€", 80), strings.Repeat("a", 152) + "€",
		strings.Repeat("é", 70), strings.Repeat("ą", 71), strings.Repeat("😀", 35), strings.Repeat("x", 66) + "😀" + strings.Repeat("x", 10),
		"Grüße\r\n{}[]~|^\\\f", "\xff\xfe", "\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		requireMeasured(t, s)
	})
}

// statusFields are the form fields ParseStatusCallback reads, and the
// message_id of the callback URL.
var statusFields = []string{"message_id", "MessageSid", "MessageStatus", "ErrorCode"}

// FuzzWebhook parses a Twilio webhook's raw form body as the handler does
// (url.ParseQuery; a malformed body is an empty form) and reads it as a
// status callback and as an inbound message.
func FuzzWebhook(f *testing.F) {
	sid := "SM" + strings.Repeat("0a", 16)
	id := uuid.NewString()
	for _, s := range []struct{ messageID, body string }{
		{id, "AccountSid=AC" + strings.Repeat("1", 32) + "&MessageSid=" + sid + "&SmsSid=" + sid + "&MessageStatus=delivered&SmsStatus=delivered"},
		{"", "SmsSid=" + sid + "&SmsStatus=sent"},
		{id, "MessageSid=" + sid + "&MessageStatus=undelivered&ErrorCode=21610"},
		{id, "MessageSid=" + sid + "&MessageStatus=failed&ErrorCode=-1"},
		{id, "MessageSid=" + sid + "&MessageStatus=failed&ErrorCode=99999999999"},
		{"not-a-uuid", "MessageStatus=DELIVERED"},
		{"{" + id + "}", "MessageSid=%20%20&MessageStatus=%20"},
		{id, "MessageSid=" + strings.Repeat("S", 65) + "&MessageStatus=sent"},
		{id, "MessageSid=SM%00x&MessageStatus=sent"},
		{id, "MessageSid=SM%FFx&MessageStatus=sent"},
		{id, "MessageSid=%zz&MessageStatus=sent"},
		{"", "From=%2B14155550100&Body=STOP"},
		{"", "From=+14155550100&Body=%20stop%0D%0A"},
		{"", "From=%2B14155550100&Body=Unstop"},
		{"", "From=%2B14155550100&Body=STOP%20please"},
		{"", "From=%2B14155550100&Body=%C5%BFtop"},
		{"", "From=%2B14155550100&Body=%EF%BC%B3%EF%BC%B4%EF%BC%AF%EF%BC%B0"},
		{"", "From=14155550100&Body=START"},
	} {
		f.Add(s.messageID, s.body)
	}
	f.Fuzz(func(t *testing.T, messageID, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			form = url.Values{}
		}
		cb, err := sms.ParseStatusCallback(messageID, form)
		again, errAgain := sms.ParseStatusCallback(messageID, form)
		require.Equal(t, err, errAgain)
		require.Equal(t, cb, again)
		if err != nil {
			var ve validation.Errors
			require.True(t, errors.As(err, &ve), "%v", err)
			for _, e := range ve {
				require.Contains(t, statusFields, e.Field, "%+v", e)
				if e.Field == "message_id" {
					require.NotEmpty(t, messageID)
				}
			}
		} else {
			// Accepted: the SID is looked up and stored as text.
			require.NotEmpty(t, cb.MessageSID)
			require.LessOrEqual(t, len(cb.MessageSID), 64)
			require.True(t, utf8.ValidString(cb.MessageSID) && !strings.ContainsFunc(cb.MessageSID, unicode.IsControl),
				"MessageSid %q accepted", cb.MessageSID)
			require.Equal(t, strings.TrimSpace(cb.MessageSID), cb.MessageSID)
			require.NotEmpty(t, cb.Status)
			require.Equal(t, strings.ToLower(cb.Status), cb.Status)
			if cb.ErrorCode != nil {
				require.GreaterOrEqual(t, *cb.ErrorCode, int32(0))
			}
			require.Equal(t, messageID != "", cb.MessageID != nil)
			if cb.MessageID != nil {
				require.Equal(t, strings.ToLower(messageID), cb.MessageID.String())
			}
		}

		// Inbound: a keyword is the whole body, case and surrounding
		// space aside, and only the ASCII keywords Twilio acts on.
		text := form.Get("Body")
		action := sms.Keyword(text)
		require.Contains(t, []sms.InboundAction{sms.InboundNone, sms.InboundOptOut, sms.InboundOptIn}, action)
		require.Equal(t, action, sms.Keyword(" \t"+asciiLower(text)+"\r\n"))
		if action != sms.InboundNone {
			k := strings.TrimSpace(text)
			require.True(t, isASCIIWord(k), "%q read as %s", text, action)
			optOut := slices.Contains([]string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}, strings.ToUpper(k))
			require.Equal(t, optOut, action == sms.InboundOptOut, "%q read as %s", text, action)
		}
	})
}

// asciiLower lower-cases the ASCII letters of s alone (strings.ToLower
// would turn some other letters into ASCII ones: İ into i).
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

func isASCIIWord(s string) bool {
	for _, r := range s {
		if r > unicode.MaxASCII || !unicode.IsLetter(r) {
			return false
		}
	}
	return s != ""
}
