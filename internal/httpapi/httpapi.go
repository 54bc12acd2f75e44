// Package httpapi holds the HTTP conventions every domain handler shares:
// RFC 9457 problem+json errors, strict JSON decoding, the route table with
// a permission on every route, request middleware, pagination cursors and
// the OpenAPI description built from the route table.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/tenant"
	"github.com/customerhub/customerhub/internal/validation"
)

// Error is an error with an HTTP status and a stable machine code. Message
// is sent to the client; Internal is logged and never sent.
type Error struct {
	Status   int
	Code     string
	Message  string
	Fields   validation.Errors
	Headers  map[string]string
	Extra    map[string]any
	Internal error
}

func (e *Error) Error() string {
	if e.Internal != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Code, e.Message, e.Internal)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Internal }

// BadRequest is a 400 about one field (or the request as a whole when field
// is empty).
func BadRequest(field, code, message string) *Error {
	e := &Error{Status: fiber.StatusBadRequest, Code: code, Message: message}
	if field != "" {
		e.Code = "invalid_request"
		e.Fields = validation.Errors{{Field: field, Code: code, Message: message}}
		e.Message = field + ": " + message
	}
	return e
}

// Validation is a 400 listing every bad field.
func Validation(errs validation.Errors) *Error {
	return &Error{Status: fiber.StatusBadRequest, Code: "validation_failed", Message: "the request has invalid fields", Fields: errs}
}

// Unprocessable answers field errors of a well-formed request (values
// that refer to nothing, or cannot apply) with 422; other errors pass
// through.
func Unprocessable(err error) error {
	var ve validation.Errors
	if errors.As(err, &ve) {
		e := Validation(ve)
		e.Status = fiber.StatusUnprocessableEntity
		return e
	}
	return err
}

// Unauthorized is a 401; the client must authenticate (again).
func Unauthorized(message string) *Error {
	return &Error{Status: fiber.StatusUnauthorized, Code: "unauthorized", Message: message,
		Headers: map[string]string{fiber.HeaderWWWAuthenticate: `Bearer realm="customerhub"`}}
}

// Forbidden is a 403: the caller's role lacks a function. Never used for
// objects outside the caller's scope, which are 404.
func Forbidden(message string) *Error {
	return &Error{Status: fiber.StatusForbidden, Code: "forbidden", Message: message}
}

// NotFound is a 404. Objects of other tenants, or outside a sales rep's
// scope, get exactly this answer too.
func NotFound(what string) *Error {
	return &Error{Status: fiber.StatusNotFound, Code: "not_found", Message: what + " not found"}
}

// Conflict is a 409 about a field (may be empty).
func Conflict(field, code, message string) *Error {
	e := &Error{Status: fiber.StatusConflict, Code: code, Message: message}
	if field != "" {
		e.Fields = validation.Errors{{Field: field, Code: code, Message: message}}
	}
	return e
}

// PreconditionFailed is a 412: If-Match names no current version of an
// object that exists.
func PreconditionFailed() *Error {
	return &Error{Status: fiber.StatusPreconditionFailed, Code: "version_mismatch",
		Message: "If-Match does not match the current ETag: the resource changed since you read it (or the tag is weak, W/, which never matches); fetch it again and retry with its ETag"}
}

// PreconditionRequired is a 428: an update came without If-Match.
func PreconditionRequired() *Error {
	return &Error{Status: fiber.StatusPreconditionRequired, Code: "if_match_required",
		Message: "send the resource's ETag in an If-Match header"}
}

// TooManyRequests is a 429 with a Retry-After in whole seconds (at least 1).
func TooManyRequests(message string, retryAfterSeconds int) *Error {
	if retryAfterSeconds < 1 {
		retryAfterSeconds = 1
	}
	return &Error{Status: fiber.StatusTooManyRequests, Code: "rate_limited", Message: message,
		Headers: map[string]string{fiber.HeaderRetryAfter: strconv.Itoa(retryAfterSeconds)}}
}

// Unavailable is a 503 with Retry-After.
func Unavailable(message string, internal error) *Error {
	return &Error{Status: fiber.StatusServiceUnavailable, Code: "unavailable", Message: message,
		Headers: map[string]string{fiber.HeaderRetryAfter: "1"}, Internal: internal}
}

// problem is the RFC 9457 body.
type problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail"`
	Code      string            `json:"code"`
	Errors    validation.Errors `json:"errors,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

// ContentTypeProblem is the media type of error bodies.
const ContentTypeProblem = "application/problem+json"

// Media types of the bodies that are not JSON.
const (
	ContentTypeEventStream = "text/event-stream"
	ContentTypeCSV         = "text/csv; charset=utf-8"
	ContentTypeXLSX        = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// NewErrorHandler returns Fiber's ErrorHandler: every error leaves as
// problem+json; unexpected ones are logged with the request ID, tenant and
// user and answered with a bare 500.
func NewErrorHandler(logger *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		he := classify(err)
		if he.Status >= 500 {
			attrs := []any{"err", err, "status", he.Status, "method", c.Method(), "path", c.Path(), "request_id", RequestID(c)}
			if p, ok := tenant.FromContext(c.UserContext()); ok {
				attrs = append(attrs, "tenant_id", p.TenantID, "user_id", p.UserID)
			}
			logger.Error("request failed", attrs...)
		}
		for k, v := range he.Headers {
			c.Set(k, v)
		}
		body := problem{
			Type: "about:blank", Title: statusText(he.Status), Status: he.Status,
			Detail: he.Message, Code: he.Code, Errors: he.Fields, RequestID: RequestID(c),
		}
		if len(he.Extra) > 0 {
			m := map[string]any{
				"type": body.Type, "title": body.Title, "status": body.Status, "detail": body.Detail,
				"code": body.Code, "request_id": body.RequestID,
			}
			if len(body.Errors) > 0 {
				m["errors"] = body.Errors
			}
			for k, v := range he.Extra {
				m[k] = v
			}
			return c.Status(he.Status).JSON(m, ContentTypeProblem)
		}
		return c.Status(he.Status).JSON(body, ContentTypeProblem)
	}
}

func classify(err error) *Error {
	var he *Error
	var ve validation.Errors
	var fe *fiber.Error
	var ne net.Error
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &ve):
		return Validation(ve)
	case errors.As(err, &fe):
		return fromFiber(fe)
	case errors.Is(err, context.DeadlineExceeded):
		return Unavailable("the request took too long; try again", err)
	case database.IsUnavailable(err), errors.As(err, &ne):
		// The database restarted, dropped the connection, is out of
		// connections, or the transaction lost a conflict: nothing was
		// wrong with the request, and a retry can succeed.
		return Unavailable("a backing service is unavailable; try again shortly", err)
	default:
		return &Error{Status: fiber.StatusInternalServerError, Code: "internal", Message: "internal error", Internal: err}
	}
}

func fromFiber(fe *fiber.Error) *Error {
	switch fe.Code {
	case fiber.StatusNotFound:
		return &Error{Status: fe.Code, Code: "not_found", Message: "no such route"}
	case fiber.StatusMethodNotAllowed:
		return &Error{Status: fe.Code, Code: "method_not_allowed", Message: "method not allowed on this route"}
	case fiber.StatusRequestEntityTooLarge:
		return &Error{Status: fe.Code, Code: "body_too_large", Message: "the request body is too large"}
	case fiber.StatusRequestHeaderFieldsTooLarge:
		return &Error{Status: fe.Code, Code: "headers_too_large", Message: "the request headers are too large"}
	case fiber.StatusUnsupportedMediaType:
		return &Error{Status: fe.Code, Code: "unsupported_media_type", Message: fe.Message}
	}
	if fe.Code >= 400 && fe.Code < 500 {
		return &Error{Status: fe.Code, Code: "bad_request", Message: fe.Message}
	}
	return &Error{Status: fiber.StatusInternalServerError, Code: "internal", Message: "internal error", Internal: fe}
}

func statusText(code int) string {
	if s := utils.StatusMessage(code); s != "" {
		return s
	}
	return "Error"
}
