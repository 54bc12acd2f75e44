// Package sms holds what SMS notices are built on: the tenant's SMS
// settings with its Twilio credentials sealed at rest (SecretBox), message
// templates with their placeholders, the GSM-7/UCS-2 encoding and segment
// count of a body (Measure), the sending window (quiet hours, Window) and
// a twilio-go client that talks to the configured API URL
// (NewTwilioClient).
package sms

import (
	"regexp"

	"github.com/nyaruka/phonenumbers"

	// The sending window needs the IANA time zone database wherever the
	// binary runs, including images without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Formats of Twilio identifiers and numbers, as Twilio issues them: a
// two-letter prefix and 32 hexadecimal digits.
var (
	AccountSIDPattern          = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	APIKeySIDPattern           = regexp.MustCompile(`^SK[0-9a-fA-F]{32}$`)
	MessagingServiceSIDPattern = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	// E164Pattern is an E.164 number: +, a country code not starting with
	// 0, at most 15 digits in all.
	E164Pattern = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	// secretPattern is what twilio-go accepts as a password (alphanumeric)
	// at a length real tokens and secrets have.
	secretPattern = regexp.MustCompile(`^[A-Za-z0-9]{16,128}$`)
)

// MobileCapable reports whether an E.164 number can receive an SMS as far
// as its type is known (libphonenumber's metadata): fixed lines,
// premium-rate, shared-cost, UAN and voicemail numbers cannot. Mobile,
// fixed-line-or-mobile (North America, where the type is not known),
// VoIP, personal, pager and toll-free numbers, and numbers of no known
// type, are handed to Twilio, which refuses the ones it cannot reach
// (21211, 21614: the message fails, never retried).
func MobileCapable(e164 string) bool {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return true
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.FIXED_LINE, phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.UAN, phonenumbers.VOICEMAIL:
		return false
	}
	return true
}
