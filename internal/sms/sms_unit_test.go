package sms_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/sms"
	"github.com/customerhub/customerhub/internal/validation"
)

func TestMeasure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		body     string
		encoding string
		units    int
		segments int
	}{
		{"Empty", "", sms.EncodingGSM7, 0, 0},
		{"Plain", "Hello", sms.EncodingGSM7, 5, 1},
		{"GSM160", strings.Repeat("a", 160), sms.EncodingGSM7, 160, 1},
		{"GSM161", strings.Repeat("a", 161), sms.EncodingGSM7, 161, 2},
		{"GSM306", strings.Repeat("a", 306), sms.EncodingGSM7, 306, 2},
		{"GSM307", strings.Repeat("a", 307), sms.EncodingGSM7, 307, 3},
		{"BasicAccentsStayGSM", "Grüße à Søren, ¿qué? £5 §3 ΔΩ", sms.EncodingGSM7, 29, 1},
		{"ExtensionCountsTwo", "€[]{}|^~\\", sms.EncodingGSM7, 18, 1},
		{"Extension80Is160", strings.Repeat("€", 80), sms.EncodingGSM7, 160, 1},
		{"Extension81", strings.Repeat("€", 81), sms.EncodingGSM7, 162, 2},
		// 152 septets then an escape pair: the pair does not fit in the
		// first part's 153 and moves whole to the next.
		{"ExtensionNotSplit", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 10), sms.EncodingGSM7, 164, 2},
		{"ExtensionNotSplitThird", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 151) + "€", sms.EncodingGSM7, 307, 3},
		{"UCS2", "Zahlung fällig: 12,50 € — danke", sms.EncodingUCS2, 31, 1},
		{"UCS2Accent", "ç is not in GSM but Ç is", sms.EncodingUCS2, 24, 1},
		{"UCS2At70", strings.Repeat("ж", 70), sms.EncodingUCS2, 70, 1},
		{"UCS2At71", strings.Repeat("ж", 71), sms.EncodingUCS2, 71, 2},
		{"UCS2At134", strings.Repeat("ж", 134), sms.EncodingUCS2, 134, 2},
		{"UCS2At135", strings.Repeat("ж", 135), sms.EncodingUCS2, 135, 3},
		{"EmojiIsTwoUnits", "Paid 👍", sms.EncodingUCS2, 7, 1},
		{"SurrogateNotSplit", strings.Repeat("ж", 66) + "👍" + "ж", sms.EncodingUCS2, 69, 1},
		{"SurrogateNotSplitLong", strings.Repeat("ж", 66) + "👍" + strings.Repeat("ж", 10), sms.EncodingUCS2, 78, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := sms.Measure(tc.body)
			require.Equal(t, tc.encoding, m.Encoding)
			require.Equal(t, tc.units, m.Units)
			require.Equal(t, tc.segments, m.Segments)
		})
	}
}

func key(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, sms.SecretKeySize)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

func TestSecretBox(t *testing.T) {
	t.Parallel()
	tenantA, tenantB := uuid.New(), uuid.New()
	k1, k2 := key(t), key(t)

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		b, err := sms.NewSecretBox(k1)
		require.NoError(t, err)
		sealed, err := b.Seal(tenantA, sms.FieldAuthToken, "supersecrettoken123")
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(sealed, "v1:"+sms.KeyID(k1)+":"), sealed)
		require.NotContains(t, sealed, "supersecret")
		again, err := b.Seal(tenantA, sms.FieldAuthToken, "supersecrettoken123")
		require.NoError(t, err)
		require.NotEqual(t, sealed, again, "a fresh nonce each time")
		plain, err := b.Open(tenantA, sms.FieldAuthToken, sealed)
		require.NoError(t, err)
		require.Equal(t, "supersecrettoken123", plain)
	})
	t.Run("BoundToTenantAndField", func(t *testing.T) {
		t.Parallel()
		b, err := sms.NewSecretBox(k1)
		require.NoError(t, err)
		sealed, err := b.Seal(tenantA, sms.FieldAuthToken, "supersecrettoken123")
		require.NoError(t, err)
		_, err = b.Open(tenantB, sms.FieldAuthToken, sealed)
		require.ErrorIs(t, err, sms.ErrSealedValue)
		_, err = b.Open(tenantA, sms.FieldAPIKeySecret, sealed)
		require.ErrorIs(t, err, sms.ErrSealedValue)
		tampered := sealed[:len(sealed)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(sealed, "AA")]
		_, err = b.Open(tenantA, sms.FieldAuthToken, tampered)
		require.ErrorIs(t, err, sms.ErrSealedValue)
		_, err = b.Open(tenantA, sms.FieldAuthToken, "supersecrettoken123")
		require.ErrorIs(t, err, sms.ErrSealedValue)
	})
	t.Run("Rotation", func(t *testing.T) {
		t.Parallel()
		old, err := sms.NewSecretBox(k1)
		require.NoError(t, err)
		sealed, err := old.Seal(tenantA, sms.FieldAuthToken, "supersecrettoken123")
		require.NoError(t, err)

		rotating, err := sms.NewSecretBox(k2, k1)
		require.NoError(t, err)
		require.False(t, rotating.IsCurrent(sealed))
		plain, err := rotating.Open(tenantA, sms.FieldAuthToken, sealed)
		require.NoError(t, err)
		require.Equal(t, "supersecrettoken123", plain)
		resealed, err := rotating.Reseal(tenantA, sms.FieldAuthToken, sealed)
		require.NoError(t, err)
		require.True(t, rotating.IsCurrent(resealed))

		rotated, err := sms.NewSecretBox(k2)
		require.NoError(t, err)
		_, err = rotated.Open(tenantA, sms.FieldAuthToken, sealed)
		require.ErrorIs(t, err, sms.ErrUnknownKey, "the old key is gone")
		plain, err = rotated.Open(tenantA, sms.FieldAuthToken, resealed)
		require.NoError(t, err)
		require.Equal(t, "supersecrettoken123", plain)
	})
	t.Run("NoKey", func(t *testing.T) {
		t.Parallel()
		b, err := sms.NewSecretBox(nil)
		require.NoError(t, err)
		_, err = b.Seal(tenantA, sms.FieldAuthToken, "x")
		require.ErrorIs(t, err, sms.ErrNoSecretKey)
		_, err = sms.NewSecretBox([]byte("short"))
		require.Error(t, err)
	})
}

func fieldCodes(t *testing.T, err error) map[string]string {
	t.Helper()
	var ve validation.Errors
	require.True(t, errors.As(err, &ve), "field errors, got %v", err)
	out := map[string]string{}
	for _, e := range ve {
		out[e.Field] = e.Code
	}
	return out
}

func TestTemplate(t *testing.T) {
	t.Parallel()
	vars := sms.Vars{Name: "Acme", Balance: "1234.50", Currency: "USD", Overdue: "100.00", OldestDueDate: "2026-10-01",
		Company: "Demo Co", PortalURL: "https://pay.example/acme"}

	t.Run("Render", func(t *testing.T) {
		t.Parallel()
		tp, err := sms.ParseTemplate("body", "Hi {name}, {company}: you owe {balance} {currency} ({overdue} overdue since {oldest_due_date}). {portal_url} {{ok}}")
		require.NoError(t, err)
		require.Equal(t, "Hi Acme, Demo Co: you owe 1234.50 USD (100.00 overdue since 2026-10-01). https://pay.example/acme {ok}", tp.Render(vars))
		require.True(t, tp.Uses("portal_url"))
		require.False(t, (func() bool { p, _ := sms.ParseTemplate("body", "{name}"); return p.Uses("balance") })())
	})
	t.Run("UnknownPlaceholderNamed", func(t *testing.T) {
		t.Parallel()
		_, err := sms.ParseTemplate("body", "Hi {name}, you owe {amount} by {due}")
		var ve validation.Errors
		require.True(t, errors.As(err, &ve))
		require.Len(t, ve, 2)
		require.Equal(t, "unknown_placeholder", ve[0].Code)
		require.Contains(t, ve[0].Message, "{amount}")
		require.Contains(t, ve[1].Message, "{due}")
	})
	t.Run("Braces", func(t *testing.T) {
		t.Parallel()
		for body, code := range map[string]string{"Hi {name": "unclosed_placeholder", "Hi name}": "stray_brace", "{na{": "unclosed_placeholder"} {
			_, err := sms.ParseTemplate("body", body)
			require.Equal(t, map[string]string{"body": code}, fieldCodes(t, err), body)
		}
	})
	t.Run("Input", func(t *testing.T) {
		t.Parallel()
		in := sms.TemplateInput{Name: "  ", Body: strings.Repeat("a", 1601)}
		require.Equal(t, map[string]string{"name": "required", "body": "too_long"}, fieldCodes(t, in.Validate()))
		in = sms.TemplateInput{Name: " Reminder ", Body: "Hi {name}"}
		require.NoError(t, in.Validate())
		require.Equal(t, "Reminder", in.Name)
	})
}

func TestWindow(t *testing.T) {
	t.Parallel()
	ny, err := sms.NewWindow("America/New_York", "08:00", "21:00")
	require.NoError(t, err)
	tokyo, err := sms.NewWindow("Asia/Tokyo", "08:00", "21:00")
	require.NoError(t, err)
	at := func(s string) time.Time { v, err := time.Parse(time.RFC3339, s); require.NoError(t, err); return v }

	// 12:00 UTC is 07:00 in New York (closed, opens 13:00 UTC) and 21:00
	// in Tokyo (just closed, opens 23:00 UTC).
	now := at("2026-12-07T12:00:00Z")
	require.False(t, ny.Open(now))
	require.Equal(t, at("2026-12-07T13:00:00Z"), ny.Next(now))
	require.False(t, tokyo.Open(now))
	require.Equal(t, at("2026-12-07T23:00:00Z"), tokyo.Next(now))
	require.True(t, ny.Open(at("2026-12-07T13:00:00Z")))
	require.False(t, ny.Open(at("2026-12-08T02:00:00Z")), "21:00 in New York is closed")
	require.True(t, tokyo.Open(at("2026-12-07T11:59:00Z")))
	require.Equal(t, at("2026-12-07T11:59:00Z"), tokyo.Next(at("2026-12-07T11:59:00Z")))
	// Daylight saving: New York opens at 08:00 EDT (12:00 UTC) in summer.
	require.Equal(t, at("2026-07-01T12:00:00Z"), ny.Next(at("2026-07-01T05:00:00Z")))

	night, err := sms.NewWindow("Europe/Berlin", "22:00", "06:00")
	require.NoError(t, err)
	require.True(t, night.Open(at("2026-12-07T23:30:00Z")))
	require.False(t, night.Open(at("2026-12-07T12:00:00Z")))
	require.Equal(t, at("2026-12-07T21:00:00Z"), night.Next(at("2026-12-07T12:00:00Z")))

	_, err = sms.NewWindow("Mars/Olympus", "08:00", "21:00")
	require.Error(t, err)
	_, err = sms.NewWindow("Local", "08:00", "21:00")
	require.Error(t, err)
}

func TestSettingsPatchValidate(t *testing.T) {
	t.Parallel()
	s := func(v string) patch.Field[string] { return patch.Field[string]{Set: true, Value: &v} }
	n := func(v int64) patch.Field[int64] { return patch.Field[int64]{Set: true, Value: &v} }
	p := sms.SettingsPatch{
		AccountSID: s("AC123"), AuthToken: s("short"), APIKeySID: s("SKxyz"), APIKeySecret: s("bad secret!"),
		FromNumber: s("555-0100"), MessagingServiceSID: s("MGnope"), TimeZone: s("Europe/Nowhere"),
		QuietStart: s("8:00"), QuietEnd: s("25:00"), RatePerSecond: n(0), MinDaysBetween: n(400), PortalURL: s("ftp://x"),
	}
	codes := fieldCodes(t, p.Validate())
	for _, f := range []string{"account_sid", "auth_token", "api_key_sid", "api_key_secret", "from_number", "messaging_service_sid",
		"time_zone", "quiet_start", "quiet_end", "rate_per_second", "min_days_between", "portal_url"} {
		require.Contains(t, codes, f)
	}
	var ve validation.Errors
	require.True(t, errors.As(p.Validate(), &ve))
	for _, e := range ve {
		require.NotContains(t, e.Message, "bad secret!", "a secret is never repeated")
		require.NotContains(t, e.Message, "short")
	}
	nul := sms.SettingsPatch{TimeZone: patch.Field[string]{Set: true}, RatePerSecond: patch.Field[int64]{Set: true}}
	require.Equal(t, map[string]string{"time_zone": "not_nullable", "rate_per_second": "not_nullable"}, fieldCodes(t, nul.Validate()))
	ok := sms.SettingsPatch{AccountSID: s(" AC0123456789abcdef0123456789abcdef "), FromNumber: s(""), TimeZone: s("Asia/Tokyo")}
	require.NoError(t, ok.Validate())
	require.Equal(t, "AC0123456789abcdef0123456789abcdef", *ok.AccountSID.Value)
	require.Nil(t, ok.FromNumber.Value, "empty clears")
}

func TestCredentialsMasked(t *testing.T) {
	t.Parallel()
	c := sms.Credentials{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "supersecrettoken123", APIKeySecret: "anothersecret12345"}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		out := sprintf(f, c)
		require.NotContains(t, out, "supersecret", f)
		require.NotContains(t, out, "anothersecret", f)
		require.Contains(t, out, c.AccountSID)
	}
	raw, err := json.Marshal(struct{ Creds sms.Credentials }{c})
	require.NoError(t, err)
	require.NotContains(t, string(raw), "supersecret", "job arguments and answers carry no secret")
	require.NotContains(t, string(raw), "anothersecret")
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("sending", "credentials", c)
	require.NotContains(t, logs.String(), "supersecret")
	require.Contains(t, logs.String(), c.AccountSID)
}

func TestMobileCapable(t *testing.T) {
	for phone, want := range map[string]bool{
		"+442079460000":  false, // London fixed line
		"+62215551234":   false, // Jakarta fixed line
		"+19005550100":   false, // North American premium rate
		"+6281234567890": true,  // Indonesian mobile
		"+14155550101":   true,  // North America: fixed line or mobile, unknown
		"+15005550006":   true,  // a personal number
		"+447700900123":  true,  // no known type: Twilio decides
		"not a number":   true,
	} {
		require.Equal(t, want, sms.MobileCapable(phone), phone)
	}
}
