package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/customerhub/customerhub/internal/database"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/tenant"
)

// HeaderIdempotencyKey names the idempotency header.
const HeaderIdempotencyKey = "Idempotency-Key"

const idempotencyKey = "idempotency"

// idempotent is the request's idempotency key, checked and fingerprinted by
// requireIdempotency before the handler runs.
type idempotent struct {
	key         string
	fingerprint []byte
	method      string
	path        string
	// ttl is how long a key is kept; an older one counts as unused.
	ttl  time.Duration
	used bool
}

// replayedHeaders are the response headers a replay repeats.
var replayedHeaders = []string{fiber.HeaderContentType, fiber.HeaderETag, fiber.HeaderLocation}

// errReplayed makes Tx roll back after it wrote a stored response.
var errReplayed = errors.New("idempotent replay")

// Tx runs fn in one transaction scoped to the request's principal
// (database.WithTenantTx); handlers write their response inside fn, so that
// it is only sent if the transaction commits.
//
// With an Idempotency-Key (every authenticated POST accepts one), the key
// is claimed in the same transaction before fn runs and the response fn
// wrote is stored with it before commit: the effect and its recorded
// answer commit together, and a replay returns that answer byte for byte.
// A concurrent request with the same key waits on the key's row until the
// first finishes. When fn fails nothing is kept, so the client may retry.
func Tx(c *fiber.Ctx, db database.Beginner, fn func(ctx context.Context, tx database.Tx, p *tenant.Principal) error, opts ...database.TxOption) error {
	ctx := c.UserContext()
	p := tenant.MustFromContext(ctx)
	idem, _ := c.Locals(idempotencyKey).(*idempotent)
	err := database.WithTenantTx(ctx, db, database.ScopeFor(p), func(ctx context.Context, tx database.Tx) error {
		if idem != nil {
			idem.used = true
			if replayed, err := idem.claim(ctx, tx, c, p); err != nil || replayed {
				if replayed {
					return errReplayed
				}
				return err
			}
		}
		if err := fn(ctx, tx, p); err != nil {
			return err
		}
		if idem != nil {
			return idem.complete(ctx, tx, c, p)
		}
		return nil
	}, opts...)
	if errors.Is(err, errReplayed) {
		return nil
	}
	return err
}

func (i *idempotent) claim(ctx context.Context, tx database.Tx, c *fiber.Ctx, p *tenant.Principal) (bool, error) {
	q := dbsqlc.New()
	n, err := q.IdempotencyClaim(ctx, tx, dbsqlc.IdempotencyClaimParams{
		TenantID: tx.TenantID(), UserID: p.UserID, Key: i.key, Method: i.method, Path: i.path, Fingerprint: i.fingerprint,
		ExpiredBefore: time.Now().Add(-i.ttl),
	})
	if err != nil {
		return false, fmt.Errorf("claim idempotency key: %w", err)
	}
	if n == 1 {
		return false, nil
	}
	row, err := q.IdempotencyGet(ctx, tx, dbsqlc.IdempotencyGetParams{TenantID: tx.TenantID(), UserID: p.UserID, Key: i.key})
	if err != nil {
		return false, fmt.Errorf("read idempotency key: %w", err)
	}
	if !bytes.Equal(row.Fingerprint, i.fingerprint) {
		return false, &Error{Status: fiber.StatusUnprocessableEntity, Code: "idempotency_key_reused",
			Message: "this Idempotency-Key was used with another request; use a new key for a new request"}
	}
	if row.Status == nil {
		// The key's first request committed without recording a response;
		// that cannot happen through Tx, so refuse rather than guess.
		return false, Conflict("", "idempotency_in_progress", "a request with this Idempotency-Key has not finished")
	}
	c.Status(int(*row.Status))
	var headers map[string]string
	if err := json.Unmarshal(row.Headers, &headers); err != nil {
		return false, fmt.Errorf("read idempotent response headers: %w", err)
	}
	for k, v := range headers {
		c.Set(k, v)
	}
	c.Set("Idempotent-Replayed", "true")
	return true, c.Send(row.Body)
}

func (i *idempotent) complete(ctx context.Context, tx database.Tx, c *fiber.Ctx, p *tenant.Principal) error {
	status := int32(c.Response().StatusCode())
	headers := map[string]string{}
	for _, h := range replayedHeaders {
		if v := c.Response().Header.Peek(h); len(v) > 0 {
			headers[h] = string(v)
		}
	}
	rawHeaders, err := json.Marshal(headers)
	if err != nil {
		return err
	}
	err = dbsqlc.New().IdempotencyComplete(ctx, tx, dbsqlc.IdempotencyCompleteParams{
		TenantID: tx.TenantID(), UserID: p.UserID, Key: i.key, Status: &status, Headers: rawHeaders,
		Body: bytes.Clone(c.Response().Body()),
	})
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	return nil
}

// requireIdempotency reads and checks the Idempotency-Key header of an
// authenticated POST. Keys are scoped to the user, and the fingerprint
// covers the method, the full URL and the body. A key is honoured for ttl;
// after that it is a new key.
func requireIdempotency(ttl time.Duration, streamBody bool) fiber.Handler {
	return func(c *fiber.Ctx) error { return idempotency(c, ttl, streamBody) }
}

func idempotency(c *fiber.Ctx, ttl time.Duration, streamBody bool) error {
	key := c.Get(HeaderIdempotencyKey)
	if key == "" {
		return c.Next()
	}
	if len(key) > 255 {
		return BadRequest(HeaderIdempotencyKey, "invalid_idempotency_key", "must be at most 255 characters")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return BadRequest(HeaderIdempotencyKey, "invalid_idempotency_key", "must be printable ASCII without spaces")
		}
	}
	h := sha256.New()
	h.Write([]byte(c.Method()))
	h.Write([]byte{0})
	h.Write([]byte(c.OriginalURL()))
	h.Write([]byte{0})
	if !streamBody {
		h.Write(c.Body())
	}
	idem := &idempotent{key: string([]byte(key)), fingerprint: h.Sum(nil), method: string([]byte(c.Method())),
		path: string([]byte(c.Path())), ttl: ttl}
	c.Locals(idempotencyKey, idem)
	err := c.Next()
	if !idem.used && err == nil {
		// The handler answered without httpapi.Tx: the key was not honoured.
		return &Error{Status: fiber.StatusInternalServerError, Code: "internal", Message: "internal error",
			Internal: fmt.Errorf("route %s %s ignored its Idempotency-Key", c.Method(), c.Route().Path)}
	}
	return err
}
