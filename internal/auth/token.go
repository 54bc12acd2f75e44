package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/google/uuid"
)

// tokenPrefix marks customerhub tokens, so that secret scanners can find a
// leaked one.
const tokenPrefix = "chub_"

// A token is tokenPrefix + base64url(tenant ID (16 bytes) || secret (32
// bytes)). Carrying the tenant lets the lookup run inside that tenant's
// row-level security scope; the 256-bit secret is what authenticates, and
// only its SHA-256 is stored (a fast hash is right for a random secret of
// this size: there is nothing to brute-force).
const secretLen = 32

// newToken returns a fresh token for the tenant and the hash to store.
func newToken(tenantID uuid.UUID) (token string, hash []byte) {
	raw := make([]byte, 16+secretLen)
	copy(raw, tenantID[:])
	if _, err := rand.Read(raw[16:]); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	sum := sha256.Sum256(raw)
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(raw), sum[:]
}

// parseToken splits a token into its tenant and the hash to look up.
func parseToken(token string) (tenantID uuid.UUID, hash []byte, ok bool) {
	rest, found := strings.CutPrefix(token, tokenPrefix)
	if !found || len(rest) != base64.RawURLEncoding.EncodedLen(16+secretLen) {
		return uuid.Nil, nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(raw) != 16+secretLen {
		return uuid.Nil, nil, false
	}
	copy(tenantID[:], raw[:16])
	// No tenant has the nil id, and a tenant transaction refuses it (an
	// internal error), so a forged token carrying it is just invalid.
	if tenantID == uuid.Nil {
		return uuid.Nil, nil, false
	}
	sum := sha256.Sum256(raw)
	return tenantID, sum[:], true
}
