package settings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/customerhub/customerhub/internal/validation"
)

// Env is what validating a customer write needs: settings and custom field
// definitions.
type Env struct {
	Settings Settings
	Fields   []FieldDef
}

// Field returns the definition of key.
func (e Env) Field(key string) (FieldDef, bool) {
	for _, f := range e.Fields {
		if f.Key == key {
			return f, true
		}
	}
	return FieldDef{}, false
}

// Limits of custom values.
const (
	// MaxTextLength is the longest text value, in characters.
	MaxTextLength = 1000
	// MaxNumberDigits is the most significant digits of a number value,
	// and also bounds its magnitude and its decimals.
	MaxNumberDigits = 30
)

// ApplyCustom applies a patch of custom values (key → raw JSON; JSON null
// removes the key) to the stored object current (a JSON object; keys
// without a definition are dropped) and returns the new object. Each value
// is validated against its definition: text (string, trimmed, 1..1000
// chars, no control characters except \n and \t), number (JSON number or
// decimal string, stored as a JSON number with its exact decimal text —
// never via float64), date (string YYYY-MM-DD, a real date), bool (JSON
// true/false only), select (string equal to one of the options). Unknown
// keys → error "unknown_field". After applying, every required definition
// must have a value ("required"). Errors are validation.Errors with Field
// "custom.<key>".
//
// Stored values are validated again too, not only the patched ones: a
// definition may have changed since they were written (a select lost an
// option, a field became required), and such changes are allowed without
// rewriting every customer. The first write of the customer afterwards
// reports the stale value and must fix it, so a customer can never be saved
// with a value its definitions refuse. Numbers are stored in canonical
// decimal text (1.50 as 1.5, 007 as 7), so that equality filters with
// `custom @> ...` match however a value was typed.
func (e Env) ApplyCustom(current json.RawMessage, patch map[string]json.RawMessage) (json.RawMessage, validation.Errors) {
	var errs validation.Errors
	stored := map[string]json.RawMessage{}
	if t := bytes.TrimSpace(current); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		if err := json.Unmarshal(t, &stored); err != nil {
			// The schema keeps custom a JSON object; anything else is
			// refused rather than silently replaced.
			errs.Add("custom", "invalid_stored", "the stored custom values are not a JSON object")
			return nil, errs
		}
	}
	out := map[string]json.RawMessage{}
	for _, k := range sortedKeys(stored) {
		if _, patched := patch[k]; patched {
			continue
		}
		if def, ok := e.Field(k); ok {
			if v, ok := normalize(&errs, def, stored[k]); ok {
				out[k] = v
			}
		}
	}
	for _, k := range sortedKeys(patch) {
		def, ok := e.Field(k)
		if !ok {
			errs.Add("custom."+k, "unknown_field", "no custom field has this key")
			continue
		}
		raw := bytes.TrimSpace(patch[k])
		if bytes.Equal(raw, []byte("null")) {
			continue // removed
		}
		if v, ok := normalize(&errs, def, raw); ok {
			out[k] = v
		}
	}
	for _, def := range e.Fields {
		if _, has := out[def.Key]; def.Required && !has && !errs.Has("custom."+def.Key) {
			errs.Add("custom."+def.Key, "required", "must have a value")
		}
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b validation.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return nil, errs
	}
	// encoding/json writes map keys sorted and RawMessage values as they
	// are (compacted), so numbers keep their exact text.
	raw, err := json.Marshal(out)
	if err != nil {
		errs.Add("custom", "invalid_value", "cannot be encoded")
		return nil, errs
	}
	return raw, nil
}

// Visible returns the stored object reduced to keys that have a
// definition, decoded for a response (numbers as json.Number).
func (e Env) Visible(current json.RawMessage) map[string]any {
	out := map[string]any{}
	var stored map[string]any
	dec := json.NewDecoder(bytes.NewReader(current))
	dec.UseNumber()
	if err := dec.Decode(&stored); err != nil {
		return out
	}
	for k, v := range stored {
		if _, ok := e.Field(k); ok && v != nil {
			out[k] = v
		}
	}
	return out
}

// CustomFilter turns list filters custom.<key>=<text> (key → text as given
// in the query) into a JSON object for `custom @> $1`, typed per
// definition (number → JSON number with the same exact text, bool →
// true/false from "true"/"false", date/select/text → string; select values
// must be an option, dates valid). Unknown key or bad value →
// validation.Errors with Field "custom.<key>".
func (e Env) CustomFilter(filters map[string]string) (json.RawMessage, validation.Errors) {
	var errs validation.Errors
	out := map[string]json.RawMessage{}
	for _, k := range sortedKeys(filters) {
		def, ok := e.Field(k)
		if !ok {
			errs.Add("custom."+k, "unknown_field", "no custom field has this key")
			continue
		}
		text := filters[k]
		var raw json.RawMessage
		switch def.Type {
		case TypeBool:
			if text != "true" && text != "false" {
				errs.Add("custom."+k, "invalid_bool", "must be true or false")
				continue
			}
			raw = json.RawMessage(text)
		default:
			// A number arrives as text here: the decimal-string form of
			// normalize reads it exactly.
			b, err := json.Marshal(text)
			if err != nil {
				errs.Add("custom."+k, "invalid_value", "cannot be encoded")
				continue
			}
			raw = b
		}
		if v, ok := normalize(&errs, def, raw); ok {
			out[k] = v
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	raw, err := json.Marshal(out)
	if err != nil {
		errs.Add("custom", "invalid_value", "cannot be encoded")
		return nil, errs
	}
	return raw, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// normalize validates one non-null value against its definition and
// returns it in stored form.
func normalize(errs *validation.Errors, def FieldDef, raw json.RawMessage) (json.RawMessage, bool) {
	field := "custom." + def.Key
	raw = bytes.TrimSpace(raw)
	n := len(*errs)
	if !utf8.Valid(raw) || !json.Valid(raw) {
		errs.Add(field, "invalid_value", "must be valid JSON")
		return nil, false
	}
	var out json.RawMessage
	switch def.Type {
	case TypeText:
		s, ok := jsonString(errs, field, raw, "must be a string")
		if !ok {
			return nil, false
		}
		if strings.TrimSpace(s) == "" {
			errs.Add(field, "empty", "must not be empty; send null to remove the value")
			return nil, false
		}
		v := errs.Text(field, s, 1, MaxTextLength)
		out = mustJSON(v)
	case TypeNumber:
		d, ok := parseNumber(errs, field, raw)
		if !ok {
			return nil, false
		}
		out = json.RawMessage(d.String())
	case TypeDate:
		s, ok := jsonString(errs, field, raw, "must be a date string such as \"2025-01-31\"")
		if !ok {
			return nil, false
		}
		s = strings.TrimSpace(s)
		t, err := time.Parse(time.DateOnly, s)
		if err != nil || len(s) != len(time.DateOnly) {
			errs.Add(field, "invalid_date", "must be a real date written YYYY-MM-DD, such as 2025-01-31")
			return nil, false
		}
		out = mustJSON(t.Format(time.DateOnly))
	case TypeBool:
		switch string(raw) {
		case "true", "false":
			out = raw
		default:
			errs.Add(field, "invalid_type", "must be true or false")
			return nil, false
		}
	case TypeSelect:
		s, ok := jsonString(errs, field, raw, "must be a string naming one of the options")
		if !ok {
			return nil, false
		}
		s = strings.TrimSpace(s)
		if !slices.Contains(def.Options, s) {
			msg := "must be one of the field's options"
			if len(def.Options) <= 20 {
				msg = "must be one of: " + strings.Join(def.Options, ", ")
			}
			errs.Add(field, "invalid_choice", msg)
			return nil, false
		}
		out = mustJSON(s)
	default:
		errs.Add(field, "invalid_definition", "the field's type is unknown")
		return nil, false
	}
	return out, len(*errs) == n
}

func jsonString(errs *validation.Errors, field string, raw json.RawMessage, typeMsg string) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		errs.Add(field, "invalid_type", typeMsg)
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		errs.Add(field, "invalid_type", typeMsg)
		return "", false
	}
	return s, true
}

func mustJSON(s string) json.RawMessage {
	b, err := json.Marshal(s)
	if err != nil {
		panic("settings: string does not encode: " + err.Error()) // cannot happen for a Go string
	}
	return b
}

// decimalText is the decimal-string form of a number: no exponent, sign
// only for negatives, digits on both sides of a point.
var decimalText = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// parseNumber reads a JSON number or a decimal string exactly, never
// through a float, and bounds it so the canonical text stays short (an
// exponent such as 1e999999 would otherwise expand to a million digits).
func parseNumber(errs *validation.Errors, field string, raw json.RawMessage) (decimal.Decimal, bool) {
	const msg = "must be a number or a decimal string such as \"12.5\""
	text := string(raw)
	switch {
	case len(raw) > 0 && raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			errs.Add(field, "invalid_type", msg)
			return decimal.Decimal{}, false
		}
		text = strings.TrimSpace(s)
		if !decimalText.MatchString(text) {
			errs.Add(field, "invalid_number", msg)
			return decimal.Decimal{}, false
		}
	case len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
	default:
		errs.Add(field, "invalid_type", msg)
		return decimal.Decimal{}, false
	}
	tooBig := func() (decimal.Decimal, bool) {
		errs.Add(field, "out_of_range", fmt.Sprintf("must have at most %d significant digits, and at most %d before or after the point", MaxNumberDigits, MaxNumberDigits))
		return decimal.Decimal{}, false
	}
	if len(text) > 4*MaxNumberDigits {
		return tooBig()
	}
	// text is a valid JSON number or decimal string by now, so the only
	// thing the parser can refuse is an exponent beyond its range.
	d, err := decimal.NewFromString(text)
	if err != nil {
		return tooBig()
	}
	if exp := d.Exponent(); exp > MaxNumberDigits || exp < -4*MaxNumberDigits {
		return tooBig()
	}
	canon := d.String()
	intPart, frac, _ := strings.Cut(strings.TrimPrefix(canon, "-"), ".")
	if len(intPart) > MaxNumberDigits || len(frac) > MaxNumberDigits ||
		len(strings.TrimLeft(intPart+frac, "0")) > MaxNumberDigits {
		return tooBig()
	}
	return d, true
}
