package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// HashParams are argon2id cost parameters. The OWASP Password Storage Cheat
// Sheet's first recommendation is 19 MiB of memory, 2 iterations, 1 lane.
type HashParams struct {
	MemoryKiB  uint32
	Iterations uint32
	// Concurrency bounds how many hashes run at once: each takes MemoryKiB
	// and a core for tens of milliseconds, so a burst of logins must queue
	// rather than exhaust memory.
	Concurrency int
}

// Hasher hashes and verifies passwords with argon2id.
type Hasher struct {
	params HashParams
	slots  chan struct{}
	// dummy is verified against when the user does not exist, so that a
	// login for an unknown e-mail takes as long as one with a wrong
	// password.
	dummy string
}

// NewHasher returns a Hasher.
func NewHasher(p HashParams) *Hasher {
	if p.Concurrency < 1 {
		p.Concurrency = 1
	}
	h := &Hasher{params: p, slots: make(chan struct{}, p.Concurrency)}
	h.dummy = h.hash([]byte("customerhub-dummy-password"), mustSalt())
	return h
}

const saltLen, keyLen = 16, 32

func mustSalt() []byte {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	return salt
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC-format argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.hash([]byte(password), mustSalt()), nil
}

func (h *Hasher) hash(password, salt []byte) string {
	key := argon2.IDKey(password, salt, h.params.Iterations, h.params.MemoryKiB, 1, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=1$%s$%s", argon2.Version, h.params.MemoryKiB, h.params.Iterations,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify reports whether password matches encoded. An empty encoded hash
// (unknown user) is compared against a dummy hash and never matches.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	if encoded == "" {
		_, _ = verify(password, h.dummy)
		return false, nil
	}
	return verify(password, encoded)
}

// verify checks against the parameters recorded in the hash itself, so
// raising the cost later does not break existing passwords.
func verify(password, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("unknown password hash format")
	}
	var version int
	var mem, iter uint32
	var lanes uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iter, &lanes); err != nil {
		return false, errors.New("bad argon2 parameters")
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, errors.New("bad salt")
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false, errors.New("bad hash")
	}
	got := argon2.IDKey([]byte(password), salt, iter, mem, lanes, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
