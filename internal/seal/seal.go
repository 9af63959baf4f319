// Package seal encrypts and authenticates small values (the OAuth state
// cookie) with AES-256-GCM under keys derived from the app's secret.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// ErrOpen means a sealed value was forged, altered, cut, or sealed under
// another key or purpose.
var ErrOpen = errors.New("seal: cannot open sealed value")

// DeriveKey derives a 32-byte key for one purpose from a secret, so that
// the session signing key and the state cookie key are never the same.
func DeriveKey(secret []byte, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, secret, nil, "chatauth "+purpose, 32)
	if err != nil {
		panic(err) // only for lengths HKDF cannot produce
	}
	return k
}

// Seal encrypts plaintext under key, binding it to aad (which is not
// stored), and returns it in base64url, safe for a cookie value.
func Seal(key []byte, aad string, plaintext []byte) string {
	gcm := newGCM(key)
	nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plaintext)+gcm.Overhead())
	_, _ = rand.Read(nonce)
	out := gcm.Seal(nonce, nonce, plaintext, []byte(aad))
	return base64.RawURLEncoding.EncodeToString(out)
}

// Open reverses Seal, trying each key in turn (the current one first, then
// those of previous secrets).
func Open(keys [][]byte, aad string, sealed string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return nil, ErrOpen
	}
	for _, key := range keys {
		gcm := newGCM(key)
		if len(raw) < gcm.NonceSize()+gcm.Overhead() {
			return nil, ErrOpen
		}
		nonce, ct := raw[:gcm.NonceSize()], raw[gcm.NonceSize():]
		if pt, err := gcm.Open(nil, nonce, ct, []byte(aad)); err == nil {
			return pt, nil
		}
	}
	return nil, ErrOpen
}

func newGCM(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // keys come from DeriveKey: always 32 bytes
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return gcm
}
