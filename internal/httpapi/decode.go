package httpapi

import (
	"encoding"
	"errors"
	"mime"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// decodeOptions make JSON input strict: member names match exactly (Go's
// encoding/json would let "TENANT_ID" fill a TenantID field), unknown and
// duplicate members are refused, invalid UTF-8 is refused, and nothing may
// follow the value.
var decodeOptions = json.JoinOptions(
	json.RejectUnknownMembers(true),
	json.MatchCaseInsensitiveNames(false),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

// DecodeJSON strictly decodes the request body into v and reports a bad
// body as a 400 (415 for another media type) naming the field.
func DecodeJSON(c *fiber.Ctx, v any) error {
	return DecodeBody(c.Get(fiber.HeaderContentType), c.Body(), v)
}

// DecodeBody is DecodeJSON on a request's Content-Type (empty when it has
// none) and body, without the request: the fuzz tests call it.
func DecodeBody(contentType string, body []byte, v any) error {
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil || (mt != fiber.MIMEApplicationJSON && !strings.HasSuffix(mt, "+json")) {
			return &Error{Status: fiber.StatusUnsupportedMediaType, Code: "unsupported_media_type",
				Message: "send the body as application/json"}
		}
	}
	trimmed := strings.TrimSpace(string(body))
	if len(trimmed) == 0 {
		return BadRequest("", "body_required", "a JSON object body is required")
	}
	// The decoder accepts a bare null for a struct and leaves it zero: a
	// PATCH with the body null would then "change" nothing and still bump
	// the version.
	if trimmed == "null" {
		return BadRequest("", "invalid_type", "must be an object, not null")
	}
	return Unmarshal(body, v)
}

// Unmarshal decodes data into v with DecodeJSON's strict rules (what
// DecodeJSON does once the media type and an empty or null body are
// dealt with; the decoding benchmarks call it without a request).
func Unmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v, decodeOptions); err != nil {
		return decodeError(err)
	}
	return nil
}

func decodeError(err error) *Error {
	var se *json.SemanticError
	var syn *jsontext.SyntacticError
	switch {
	case errors.As(err, &se):
		field := pointerToField(string(se.JSONPointer))
		switch {
		case errors.Is(se.Err, json.ErrUnknownName):
			return BadRequest(field, "unknown_field", "unknown field (names are case-sensitive)")
		case se.GoType != nil && se.JSONKind != 0 && isText(se.GoType):
			// UUIDs and times travel as strings; their Go kinds (array,
			// struct) would make a misleading message.
			if se.JSONKind == '"' {
				return BadRequest(field, "invalid_value", "must be "+describeText(se.GoType))
			}
			return BadRequest(field, "invalid_type", "must be a string, not "+kindName(se.JSONKind))
		case se.GoType != nil && se.JSONKind != 0:
			return BadRequest(field, "invalid_type", "must be "+describeKind(se.GoType.Kind().String())+", not "+kindName(se.JSONKind))
		default:
			msg := "invalid value"
			if se.Err != nil {
				msg = se.Err.Error()
			}
			if field == "" {
				return BadRequest("", "invalid_json", "the body must be a JSON object: "+msg)
			}
			return BadRequest(field, "invalid_value", msg)
		}
	case errors.As(err, &syn):
		field := pointerToField(string(syn.JSONPointer))
		switch {
		case errors.Is(syn.Err, jsontext.ErrDuplicateName):
			return BadRequest(field, "duplicate_field", "the field appears more than once")
		case syn.Err != nil && (strings.Contains(syn.Err.Error(), "UTF-8") || strings.Contains(syn.Err.Error(), "surrogate")):
			// An escaped lone surrogate (\ud800) is no more valid UTF-8
			// than a raw invalid byte.
			return BadRequest(field, "invalid_utf8", "text must be valid UTF-8")
		}
		return BadRequest("", "invalid_json", "malformed JSON at byte "+strconv.FormatInt(syn.ByteOffset, 10))
	}
	return BadRequest("", "invalid_json", "malformed JSON")
}

// pointerToField turns a JSON pointer (/lines/0/sku) into the dotted field
// name used in error lists (lines.0.sku).
func pointerToField(p string) string {
	p = strings.TrimPrefix(p, "/")
	p = strings.ReplaceAll(p, "/", ".")
	p = strings.ReplaceAll(p, "~1", "/")
	return strings.ReplaceAll(p, "~0", "~")
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// isText reports whether t is decoded from a JSON string by its own parser
// (uuid.UUID, time.Time).
func isText(t reflect.Type) bool {
	return t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)
}

func describeText(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[uuid.UUID]():
		return "a UUID such as 0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7a"
	case reflect.TypeFor[time.Time]():
		return "an RFC 3339 date-time such as 2025-01-31T17:00:00Z"
	}
	return "a valid " + t.Name()
}

func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "this kind of value"
}

func describeKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return "another kind of value"
}
