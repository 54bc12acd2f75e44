package sms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// SecretKeySize is the length of a secret key: AES-256.
const SecretKeySize = 32

// Errors of the SecretBox.
var (
	// ErrNoSecretKey is returned by Seal when the server has no
	// CUSTOMERHUB_SECRET_KEY: a credential is never stored in the clear.
	ErrNoSecretKey = errors.New("CUSTOMERHUB_SECRET_KEY is not set: SMS credentials cannot be stored")
	// ErrUnknownKey is returned by Open for a value sealed with a key the
	// server no longer has (neither current nor listed as old).
	ErrUnknownKey = errors.New("secret sealed with a key that is not configured (CUSTOMERHUB_SECRET_KEY, CUSTOMERHUB_SECRET_KEYS_OLD)")
	// ErrSealedValue is returned by Open for a value that is not a sealed
	// secret, or one that fails authentication (tampered, or moved to
	// another tenant or field).
	ErrSealedValue = errors.New("sealed secret is malformed or does not authenticate")
)

// sealedPrefix starts every sealed value (format version 1).
const sealedPrefix = "v1:"

// SecretBox encrypts tenant credentials at rest with AES-256-GCM.
//
// A sealed value reads "v1:<key id>:<base64url(nonce | ciphertext)>". The
// key id (the first 8 hex digits of SHA-256 of the key) names the key that
// sealed it, so the key can be rotated: the new key becomes current, the
// old one stays listed for opening, and `customerhub secrets rotate`
// re-seals every value under the current key, after which the old key can
// be dropped. The additional authenticated data binds a value to its
// tenant and field: a ciphertext copied to another tenant's row, or from
// one field to another, does not open.
type SecretBox struct {
	current *boxKey
	keys    map[string]*boxKey
}

type boxKey struct {
	id   string
	aead cipher.AEAD
}

// NewSecretBox returns a box sealing with current and opening with current
// and old. A nil current gives a box that opens with old but refuses to
// seal (ErrNoSecretKey).
func NewSecretBox(current []byte, old ...[]byte) (*SecretBox, error) {
	b := &SecretBox{keys: map[string]*boxKey{}}
	add := func(raw []byte) (*boxKey, error) {
		if len(raw) != SecretKeySize {
			return nil, fmt.Errorf("secret key must be %d bytes, got %d", SecretKeySize, len(raw))
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k := &boxKey{id: KeyID(raw), aead: aead}
		b.keys[k.id] = k
		return k, nil
	}
	for _, o := range old {
		if _, err := add(o); err != nil {
			return nil, err
		}
	}
	if current != nil {
		k, err := add(current)
		if err != nil {
			return nil, err
		}
		b.current = k
	}
	return b, nil
}

// KeyID names a key without revealing it: 8 hex digits of its SHA-256.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:4])
}

// CanSeal reports whether the box has a current key.
func (b *SecretBox) CanSeal() bool { return b != nil && b.current != nil }

func aad(tenantID uuid.UUID, field string) []byte {
	return []byte("customerhub/sms/" + tenantID.String() + "/" + field)
}

// Seal encrypts a tenant's secret for the named field.
func (b *SecretBox) Seal(tenantID uuid.UUID, field, plaintext string) (string, error) {
	if !b.CanSeal() {
		return "", ErrNoSecretKey
	}
	k := b.current
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secret nonce: %w", err)
	}
	out := k.aead.Seal(nonce, nonce, []byte(plaintext), aad(tenantID, field))
	return sealedPrefix + k.id + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value Seal returned for the same tenant and field.
func (b *SecretBox) Open(tenantID uuid.UUID, field, sealed string) (string, error) {
	id, data, err := splitSealed(sealed)
	if err != nil {
		return "", err
	}
	k := b.keys[id]
	if k == nil {
		return "", ErrUnknownKey
	}
	if len(data) < k.aead.NonceSize() {
		return "", ErrSealedValue
	}
	plain, err := k.aead.Open(nil, data[:k.aead.NonceSize()], data[k.aead.NonceSize():], aad(tenantID, field))
	if err != nil {
		return "", ErrSealedValue
	}
	return string(plain), nil
}

// IsCurrent reports whether a sealed value was sealed with the current key
// (false also for a malformed value).
func (b *SecretBox) IsCurrent(sealed string) bool {
	id, _, err := splitSealed(sealed)
	return err == nil && b.CanSeal() && id == b.current.id
}

// Reseal opens a value and seals it again under the current key.
func (b *SecretBox) Reseal(tenantID uuid.UUID, field, sealed string) (string, error) {
	plain, err := b.Open(tenantID, field, sealed)
	if err != nil {
		return "", err
	}
	return b.Seal(tenantID, field, plain)
}

func splitSealed(sealed string) (string, []byte, error) {
	rest, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return "", nil, ErrSealedValue
	}
	id, enc, ok := strings.Cut(rest, ":")
	if !ok {
		return "", nil, ErrSealedValue
	}
	data, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", nil, ErrSealedValue
	}
	return id, data, nil
}
