package httpapi

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
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

// DecodeCursor reads the cursor query parameter into v; it reports false
// when there is none.
func DecodeCursor(c *fiber.Ctx, v any) (bool, error) {
	raw := c.Query("cursor")
	if raw == "" {
		return false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) > 4096 {
		return false, BadRequest("cursor", "invalid_cursor", "not a cursor returned by this list")
	}
	if err := json.Unmarshal(b, v, decodeOptions); err != nil {
		return false, BadRequest("cursor", "invalid_cursor", "not a cursor returned by this list")
	}
	return true, nil
}

// ETag formats a resource version as a strong entity tag.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// IfMatch reads the version from the If-Match header: 428 when missing,
// 412 when it names no version we could have issued.
func IfMatch(c *fiber.Ctx) (int64, error) {
	raw := strings.TrimSpace(c.Get(fiber.HeaderIfMatch))
	if raw == "" {
		return 0, PreconditionRequired()
	}
	raw = strings.TrimPrefix(raw, "W/")
	if len(raw) < 3 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return 0, PreconditionFailed()
	}
	v, err := strconv.ParseInt(raw[1:len(raw)-1], 10, 64)
	if err != nil || v < 1 {
		return 0, PreconditionFailed()
	}
	return v, nil
}
