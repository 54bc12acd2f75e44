package sms

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/patch"
	"github.com/customerhub/customerhub/internal/validation"
)

// Defaults of a tenant that has not configured SMS.
const (
	DefaultTimeZone       = "UTC"
	DefaultQuietStart     = "08:00"
	DefaultQuietEnd       = "21:00"
	DefaultRatePerSecond  = 1
	DefaultMinDaysBetween = 7
	MaxRatePerSecond      = 1000
	MaxMinDaysBetween     = 365
	maxPortalURL          = 500
)

// Field names of the sealed secrets: part of what a sealed value is bound
// to (SecretBox), so never renamed.
const (
	FieldAuthToken    = "auth_token"
	FieldAPIKeySecret = "api_key_secret"
)

// Settings are a tenant's SMS settings as the API shows them: the secrets
// only as set or not and their last four characters.
type Settings struct {
	AccountSID          *string
	AuthTokenSet        bool
	AuthTokenLast4      *string
	APIKeySID           *string
	APIKeySecretSet     bool
	APIKeySecretLast4   *string
	FromNumber          *string
	MessagingServiceSID *string
	TimeZone            string
	QuietStart          string
	QuietEnd            string
	RatePerSecond       int32
	MinDaysBetween      int32
	PortalURL           *string
	// Version is 1 while the tenant has never written its SMS settings
	// (the defaults), and UpdatedAt nil.
	Version   int64
	UpdatedAt *time.Time
}

// Configured reports whether the settings are enough to send: an
// account, a credential for it and a sender.
func (s Settings) Configured() bool {
	return s.AccountSID != nil && (s.AuthTokenSet || (s.APIKeySID != nil && s.APIKeySecretSet)) &&
		(s.FromNumber != nil || s.MessagingServiceSID != nil)
}

// Window returns the sending window of the settings.
func (s Settings) Window() (Window, error) {
	return NewWindow(s.TimeZone, s.QuietStart, s.QuietEnd)
}

func defaultRow() dbsqlc.SmsSetting {
	return dbsqlc.SmsSetting{TimeZone: DefaultTimeZone, QuietStart: DefaultQuietStart, QuietEnd: DefaultQuietEnd,
		RatePerSecond: DefaultRatePerSecond, MinDaysBetween: DefaultMinDaysBetween, Version: 1}
}

func toSettings(r dbsqlc.SmsSetting) Settings {
	s := Settings{AccountSID: r.AccountSid, AuthTokenSet: r.AuthTokenSealed != nil, AuthTokenLast4: r.AuthTokenLast4,
		APIKeySID: r.ApiKeySid, APIKeySecretSet: r.ApiKeySecretSealed != nil, APIKeySecretLast4: r.ApiKeySecretLast4,
		FromNumber: r.FromNumber, MessagingServiceSID: r.MessagingServiceSid, TimeZone: r.TimeZone, QuietStart: r.QuietStart,
		QuietEnd: r.QuietEnd, RatePerSecond: r.RatePerSecond, MinDaysBetween: r.MinDaysBetween, PortalURL: r.PortalUrl,
		Version: r.Version}
	if !r.UpdatedAt.IsZero() {
		at := r.UpdatedAt
		s.UpdatedAt = &at
	}
	return s
}

// SettingsPatch changes SMS settings. Secrets come in plaintext and are
// sealed by Service.Update before anything is stored.
type SettingsPatch struct {
	AccountSID          patch.Field[string]
	AuthToken           patch.Field[string]
	APIKeySID           patch.Field[string]
	APIKeySecret        patch.Field[string]
	FromNumber          patch.Field[string]
	MessagingServiceSID patch.Field[string]
	TimeZone            patch.Field[string]
	QuietStart          patch.Field[string]
	QuietEnd            patch.Field[string]
	RatePerSecond       patch.Field[int64]
	MinDaysBetween      patch.Field[int64]
	PortalURL           patch.Field[string]
}

// Validate checks each field given on its own, reporting every bad one
// (the combination is checked against the stored settings by Update).
// Values are trimmed; an empty string clears a clearable field. Messages
// never repeat a secret's value.
func (p *SettingsPatch) Validate() error {
	var errs validation.Errors
	text := func(field string, c *patch.Field[string], clearable bool, check func(string) string) {
		if !c.Set {
			return
		}
		if c.Value == nil || strings.TrimSpace(*c.Value) == "" {
			if !clearable {
				errs.Add(field, "not_nullable", "must not be null or empty")
				return
			}
			c.Value = nil
			return
		}
		v := strings.TrimSpace(*c.Value)
		c.Value = &v
		if msg := check(v); msg != "" {
			errs.Add(field, "invalid", msg)
		}
	}
	pattern := func(re interface{ MatchString(string) bool }, msg string) func(string) string {
		return func(v string) string {
			if re.MatchString(v) {
				return ""
			}
			return msg
		}
	}
	text("account_sid", &p.AccountSID, true, pattern(AccountSIDPattern, "must be a Twilio account SID: AC and 32 hexadecimal digits"))
	text("auth_token", &p.AuthToken, true, pattern(secretPattern, "must be 16 to 128 letters and digits (the account's auth token)"))
	text("api_key_sid", &p.APIKeySID, true, pattern(APIKeySIDPattern, "must be a Twilio API key SID: SK and 32 hexadecimal digits"))
	text("api_key_secret", &p.APIKeySecret, true, pattern(secretPattern, "must be 16 to 128 letters and digits (the API key's secret)"))
	text("from_number", &p.FromNumber, true, pattern(E164Pattern, "must be a phone number in E.164 form, such as +14155550100"))
	text("messaging_service_sid", &p.MessagingServiceSID, true,
		pattern(MessagingServiceSIDPattern, "must be a Twilio Messaging Service SID: MG and 32 hexadecimal digits"))
	text("time_zone", &p.TimeZone, false, func(v string) string {
		if _, err := loadZone(v); err != nil {
			return "must be an IANA time zone such as America/New_York or Europe/Berlin"
		}
		return ""
	})
	clock := func(v string) string {
		if _, err := parseClock(v); err != nil {
			return "must be a time of day as HH:MM (00:00 to 23:59)"
		}
		return ""
	}
	text("quiet_start", &p.QuietStart, false, clock)
	text("quiet_end", &p.QuietEnd, false, clock)
	text("portal_url", &p.PortalURL, true, func(v string) string {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(v) > maxPortalURL {
			return fmt.Sprintf("must be an http(s) URL of at most %d characters", maxPortalURL)
		}
		return ""
	})
	number := func(field string, c patch.Field[int64], min, max int64) {
		switch {
		case !c.Set:
		case c.Value == nil:
			errs.Add(field, "not_nullable", "must not be null")
		case *c.Value < min || *c.Value > max:
			errs.Add(field, "out_of_range", fmt.Sprintf("must be from %d to %d", min, max))
		}
	}
	number("rate_per_second", p.RatePerSecond, 1, MaxRatePerSecond)
	number("min_days_between", p.MinDaysBetween, 0, MaxMinDaysBetween)
	return errs.Err()
}

// checkCombination checks the settings a patch leads to, reporting every
// field that cannot stand with the others.
func checkCombination(r dbsqlc.SmsSetting) error {
	var errs validation.Errors
	if r.FromNumber != nil && r.MessagingServiceSid != nil {
		msg := "give exactly one sender: a from_number or a messaging_service_sid (send the other as null)"
		errs.Add("from_number", "one_sender", msg)
		errs.Add("messaging_service_sid", "one_sender", msg)
	}
	if (r.ApiKeySid == nil) != (r.ApiKeySecretSealed == nil) {
		if r.ApiKeySid == nil {
			errs.Add("api_key_sid", "required", "an API key secret needs its API key SID")
		} else {
			errs.Add("api_key_secret", "required", "an API key SID needs its secret")
		}
	}
	if r.AccountSid == nil && (r.AuthTokenSealed != nil || r.ApiKeySid != nil) {
		errs.Add("account_sid", "required", "credentials need the account SID they belong to")
	}
	if r.QuietStart == r.QuietEnd {
		errs.Add("quiet_end", "invalid", "must differ from quiet_start: the sending window would be empty")
	}
	return errs.Err()
}

// last4 is what the API shows of a secret.
func last4(s string) *string {
	r := []rune(s)
	v := string(r[max(len(r)-4, 0):])
	return &v
}

func loadZone(name string) (*time.Location, error) {
	// "Local" is the server's zone, not a tenant's; "" is UTC in Go but
	// not a name a client should send.
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("time zone %q is not an IANA name", name)
	}
	return time.LoadLocation(name)
}

// parseClock reads "HH:MM" as minutes after midnight.
func parseClock(v string) (int, error) {
	t, err := time.Parse("15:04", v)
	if err != nil || len(v) != 5 {
		return 0, fmt.Errorf("time of day %q: want HH:MM", v)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Window is the part of each day in a time zone in which messages may be
// sent: from Start (inclusive) to End (exclusive), minutes after local
// midnight; a window whose end is before its start spans midnight.
type Window struct {
	Location   *time.Location
	Start, End int
}

// NewWindow builds a window from settings values.
func NewWindow(zone, start, end string) (Window, error) {
	loc, err := loadZone(zone)
	if err != nil {
		return Window{}, err
	}
	s, err := parseClock(start)
	if err != nil {
		return Window{}, err
	}
	e, err := parseClock(end)
	if err != nil {
		return Window{}, err
	}
	return Window{Location: loc, Start: s, End: e}, nil
}

// Open reports whether t falls inside the window.
func (w Window) Open(t time.Time) bool {
	l := t.In(w.Location)
	m := l.Hour()*60 + l.Minute()
	if w.Start < w.End {
		return m >= w.Start && m < w.End
	}
	return m >= w.Start || m < w.End
}

// Next returns t when the window is open at t, otherwise the moment it
// next opens. Around a daylight-saving change the opening is the local
// time as time.Date normalizes it (an opening inside a skipped hour moves
// forward by the gap).
func (w Window) Next(t time.Time) time.Time {
	if w.Open(t) {
		return t
	}
	l := t.In(w.Location)
	for d := 0; d <= 2; d++ {
		c := time.Date(l.Year(), l.Month(), l.Day()+d, w.Start/60, w.Start%60, 0, 0, w.Location)
		if c.After(t) {
			return c.In(t.Location())
		}
	}
	return t.Add(24 * time.Hour)
}
