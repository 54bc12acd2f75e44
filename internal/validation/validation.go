// Package validation collects field errors for domain input, so that a
// request reports every bad field at once. Domain packages use it; the HTTP
// layer turns Errors into a problem+json response.
package validation

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// FieldError describes one bad field.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Errors is a list of field errors; a nil or empty list means valid.
type Errors []FieldError

// Error implements error.
func (e Errors) Error() string {
	parts := make([]string, 0, len(e))
	for _, f := range e {
		parts = append(parts, f.Field+": "+f.Message)
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Add appends a field error.
func (e *Errors) Add(field, code, message string) {
	*e = append(*e, FieldError{Field: field, Code: code, Message: message})
}

// Has reports whether the field already has an error.
func (e Errors) Has(field string) bool {
	for _, f := range e {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Under appends other's errors with their fields named under prefix (as
// in "set." + "sales_rep_id"). An error that is not a list of field errors
// is returned as it is, for the caller to pass on.
func (e *Errors) Under(prefix string, other error) error {
	var ve Errors
	if !errors.As(other, &ve) {
		return other
	}
	for _, f := range ve {
		f.Field = prefix + f.Field
		*e = append(*e, f)
	}
	return nil
}

// Err returns nil when there are no errors, else the list itself.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// Text checks a free-text value: valid UTF-8, no control characters
// (PostgreSQL rejects NUL, and the others have no place in a business
// record), and a length in runes between min and max. It returns the value
// with surrounding space trimmed.
func (e *Errors) Text(field, value string, min, max int) string {
	v := strings.TrimSpace(value)
	switch {
	case !utf8.ValidString(v):
		e.Add(field, "invalid_utf8", "must be valid UTF-8")
	case strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0:
		e.Add(field, "invalid_characters", "must not contain control characters")
	case utf8.RuneCountInString(v) < min:
		if min == 1 {
			e.Add(field, "required", "must not be empty")
		} else {
			e.Add(field, "too_short", fmt.Sprintf("must be at least %d characters", min))
		}
	case utf8.RuneCountInString(v) > max:
		e.Add(field, "too_long", fmt.Sprintf("must be at most %d characters", max))
	}
	return v
}

// OneOf checks that value is one of allowed.
func (e *Errors) OneOf(field, value string, allowed ...string) {
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	e.Add(field, "invalid_choice", "must be one of: "+strings.Join(allowed, ", "))
}

// Email checks and normalizes an e-mail address (trimmed, lower-cased). The
// result is a bare address; display names are refused.
func (e *Errors) Email(field, value string) string {
	v := strings.ToLower(e.Text(field, value, 3, 254))
	if e.Has(field) {
		return v
	}
	addr, err := mail.ParseAddress(v)
	if err != nil || addr.Address != v || !strings.Contains(v[strings.LastIndexByte(v, '@')+1:], ".") {
		e.Add(field, "invalid_email", "must be an e-mail address such as name@example.com")
	}
	return v
}

// Phone parses a phone number, reading national numbers as belonging to
// defaultRegion (ISO 3166 alpha-2), and returns it in E.164 form
// (+15551234567).
func (e *Errors) Phone(field, value, defaultRegion string) string {
	v := e.Text(field, value, 3, 40)
	if e.Has(field) {
		return v
	}
	num, err := phonenumbers.Parse(v, defaultRegion)
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		e.Add(field, "invalid_phone", "must be a phone number, e.g. +1 555 123 4567")
		return v
	}
	// libphonenumber's possible lengths allow more digits than E.164's
	// 15 in some countries (Germany's national numbers go to 15 digits
	// after the 49); no SMS or call can reach such a number.
	out := phonenumbers.Format(num, phonenumbers.E164)
	// A number whose E.164 form reads back as another (libphonenumber's
	// leading-zero rules on a national number of zeros: "00000000000" in
	// GB became +440000000000, which reads back as +44000000000) is no
	// number anyone can be reached at; a stored number must be its own
	// normal form (FuzzPhone).
	if !e164.MatchString(out) || !isFixedPoint(out) {
		e.Add(field, "invalid_phone", "must be a phone number, e.g. +1 555 123 4567")
		return v
	}
	return out
}

// isFixedPoint reports whether an E.164 number parses and formats back to
// itself.
func isFixedPoint(e164Number string) bool {
	num, err := phonenumbers.Parse(e164Number, "")
	return err == nil && phonenumbers.Format(num, phonenumbers.E164) == e164Number
}

// e164 is an E.164 number: +, a country code not starting with 0, at
// most 15 digits in all.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
