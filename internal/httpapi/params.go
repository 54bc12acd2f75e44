package httpapi

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/customerhub/customerhub/internal/precondition"
)

// Page sizes for every list (DESIGN.md section 5).
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// PageParams are the query parameters every list accepts.
var PageParams = []Param{
	{Name: "limit", Type: "integer", Description: "page size, 1 to 200 (default 50)"},
	{Name: "cursor", Description: "next_cursor of the previous page"},
}

// UUIDParam parses a path parameter as a UUID; a malformed one is a 400.
func UUIDParam(c *fiber.Ctx, name string) (uuid.UUID, error) {
	raw := c.Params(name)
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		return uuid.Nil, BadRequest(name, "invalid_uuid", "must be a UUID such as 0b0d5f3e-8c1a-4f5e-9a3b-2f1e0c9d8b7a")
	}
	return id, nil
}

// Limit reads the limit query parameter.
func Limit(c *fiber.Ctx) (int32, error) {
	raw := c.Query("limit")
	if raw == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, BadRequest("limit", "out_of_range", "must be an integer from 1 to 200")
	}
	return int32(n), nil
}

// QueryText reads an optional free-text query parameter (nil when absent or
// blank), refusing values longer than max characters.
func QueryText(c *fiber.Ctx, name string, max int) (*string, error) {
	v := strings.TrimSpace(c.Query(name))
	if v == "" {
		return nil, nil
	}
	if len([]rune(v)) > max {
		return nil, BadRequest(name, "too_long", "must be at most "+strconv.Itoa(max)+" characters")
	}
	s := strings.Clone(v)
	return &s, nil
}

// QueryUUID reads an optional UUID query parameter.
func QueryUUID(c *fiber.Ctx, name string) (*uuid.UUID, error) {
	raw := c.Query(name)
	if raw == "" {
		return nil, nil
	}
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		return nil, BadRequest(name, "invalid_uuid", "must be a UUID")
	}
	return &id, nil
}

// EncodeCursor makes an opaque cursor from a position. Tampering with a
// cursor can only move a page within what the caller may see anyway.
func EncodeCursor(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("httpapi: cursor not encodable: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// NextPage takes a page read with limit+1 rows: it keeps the first limit
// and, when there was one more, returns the next page's cursor, made by
// cursor from the last row kept (nil on the last page).
func NextPage[T any](rows []T, limit int32, cursor func(last T) any) ([]T, *string) {
	if len(rows) <= int(limit) {
		return rows, nil
	}
	rows = rows[:limit]
	next := EncodeCursor(cursor(rows[len(rows)-1]))
	return rows, &next
}

// MaxCursorBytes is the longest cursor, decoded, that a list accepts.
const MaxCursorBytes = 4096

// DecodeCursor reads the cursor query parameter into v; it reports false
// when there is none.
func DecodeCursor(c *fiber.Ctx, v any) (bool, error) {
	raw := c.Query("cursor")
	if raw == "" {
		return false, nil
	}
	if err := ParseCursor(raw, v); err != nil {
		return false, err
	}
	return true, nil
}

// ParseCursor reads a cursor made by EncodeCursor into v: a 400 naming
// the cursor parameter when it is not one. DecodeCursor without the
// request, for the lists' fuzz tests.
func ParseCursor(raw string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) > MaxCursorBytes {
		return BadRequest("cursor", "invalid_cursor", "not a cursor returned by this list")
	}
	if err := json.Unmarshal(b, v, decodeOptions); err != nil {
		return BadRequest("cursor", "invalid_cursor", "not a cursor returned by this list")
	}
	return nil
}

// ETag formats a resource version as a strong entity tag.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// HeaderIfMatch names the precondition header of updates.
const HeaderIfMatch = fiber.HeaderIfMatch

// IfMatch reads the If-Match header of an update (RFC 9110, section
// 13.1.1): 428 when there is none, 400 naming the header when it is not
// "*" or a list of entity tags. It does not compare anything: the service
// evaluates the condition once it has found the object, so that an
// unknown or invisible object is 404 whatever the header says, and a
// stale or weak tag is 412 only on an object that exists.
func IfMatch(c *fiber.Ctx) (precondition.IfMatch, error) {
	// Several If-Match lines are one comma-separated list.
	var raw []string
	for _, v := range c.Request().Header.PeekAll(HeaderIfMatch) {
		raw = append(raw, string(v))
	}
	header := strings.Join(raw, ",")
	if strings.Trim(header, " \t,") == "" {
		return precondition.IfMatch{}, PreconditionRequired()
	}
	cond, ok := parseIfMatch(header)
	if !ok {
		return precondition.IfMatch{}, BadRequest(HeaderIfMatch, "invalid_if_match",
			`must be * or a comma-separated list of entity tags such as "3", as sent in ETag`)
	}
	return cond, nil
}

// parseIfMatch parses `"*" / #entity-tag`, where entity-tag is
// [ W/ ] DQUOTE *etagc DQUOTE. Our ETags are strong and name a version
// ("3"); If-Match compares strongly, so weak tags and tags that name no
// version are well-formed but match nothing.
func parseIfMatch(s string) (precondition.IfMatch, bool) {
	if strings.Trim(s, " \t") == "*" {
		return precondition.Any(), true
	}
	var versions []int64
	for s != "" {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			break
		}
		if s[0] == ',' { // empty list elements are allowed
			s = s[1:]
			continue
		}
		weak := strings.HasPrefix(s, "W/")
		if weak {
			s = s[2:]
		}
		if s == "" || s[0] != '"' {
			return precondition.IfMatch{}, false
		}
		end := 1
		for ; end < len(s) && s[end] != '"'; end++ {
			if b := s[end]; b < 0x21 || b == 0x7f { // etagc: %x21 / %x23-7E / obs-text
				return precondition.IfMatch{}, false
			}
		}
		if end == len(s) {
			return precondition.IfMatch{}, false // unterminated
		}
		tag := s[1:end]
		s = strings.TrimLeft(s[end+1:], " \t")
		if s != "" && s[0] != ',' {
			return precondition.IfMatch{}, false
		}
		if v, err := strconv.ParseInt(tag, 10, 64); !weak && err == nil && v > 0 && strconv.FormatInt(v, 10) == tag {
			versions = append(versions, v)
		}
	}
	return precondition.Versions(versions...), true
}
