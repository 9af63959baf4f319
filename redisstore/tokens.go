package redisstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/chatauth/chatauth"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/hkdf"
	"golang.org/x/oauth2"
)

// tokenKeyInfo names what the derived key is for (HKDF info), so that the
// same Secret yields unrelated keys for unrelated uses.
const tokenKeyInfo = "chatauth redisstore provider tokens v1"

// sealVersion is the first byte of a stored token, for a future format.
const sealVersion = 1

// newSealers derives an AES-256-GCM key from each secret with
// HKDF-SHA256, current first. No secret, no sealers.
func newSealers(current []byte, previous [][]byte) ([]cipher.AEAD, error) {
	if len(current) == 0 {
		return nil, nil
	}
	var out []cipher.AEAD
	for _, secret := range append([][]byte{current}, previous...) {
		key := make([]byte, 32)
		if _, err := io.ReadFull(hkdf.New(sha256.New, secret, nil, []byte(tokenKeyInfo)), key); err != nil {
			return nil, fmt.Errorf("redisstore: deriving token key: %w", err)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("redisstore: token cipher: %w", err)
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("redisstore: token cipher: %w", err)
		}
		out = append(out, gcm)
	}
	return out, nil
}

// storedToken is what is sealed: the token's JSON form, plus the id_token,
// the one extra field apps commonly need, which the JSON form drops.
type storedToken struct {
	Token   *oauth2.Token `json:"token"`
	IDToken string        `json:"id_token,omitempty"`
}

// tokenAD binds a sealed token to its user and provider (GCM additional
// data), so that a value copied to another user's key does not open.
func tokenAD(identifier, provider string) []byte {
	ad := make([]byte, 0, len(tokenKeyInfo)+16+len(identifier)+len(provider))
	ad = append(ad, tokenKeyInfo...)
	ad = binary.AppendUvarint(ad, uint64(len(identifier)))
	ad = append(ad, identifier...)
	ad = binary.AppendUvarint(ad, uint64(len(provider)))
	return append(ad, provider...)
}

// tokenKey is the token's key; the provider's length makes it unambiguous
// whatever either name contains.
func (s *Store) tokenKey(identifier, provider string) string {
	return s.key(kindToken, strconv.Itoa(len(provider))+":"+provider+":"+identifier)
}

// SaveToken implements chatauth.TokenStore: the token is stored encrypted,
// never in plain text, for TokenTTL.
func (s *Store) SaveToken(ctx context.Context, identifier, provider string, tok *oauth2.Token) error {
	if len(s.sealers) == 0 {
		return ErrNoSecret
	}
	if tok == nil {
		return errors.New("redisstore: SaveToken: token is nil")
	}
	st := storedToken{Token: tok}
	st.IDToken, _ = tok.Extra("id_token").(string)
	plain, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("redisstore: encoding token: %w", err)
	}
	sealed := s.seal(plain, tokenAD(identifier, provider))
	return s.call(ctx, "save token", func(ctx context.Context) error {
		return s.client.Set(ctx, s.tokenKey(identifier, provider), sealed, s.tokenTTL).Err()
	})
}

// seal encrypts under the current key: version, nonce, then ciphertext.
func (s *Store) seal(plain, ad []byte) []byte {
	gcm := s.sealers[0]
	out := make([]byte, 1+gcm.NonceSize(), 1+gcm.NonceSize()+len(plain)+gcm.Overhead())
	out[0] = sealVersion
	_, _ = rand.Read(out[1:])
	return gcm.Seal(out, out[1:], plain, ad)
}

// open decrypts with the current key, then the previous ones.
func (s *Store) open(sealed, ad []byte) ([]byte, error) {
	for _, gcm := range s.sealers {
		n := 1 + gcm.NonceSize()
		if len(sealed) < n || sealed[0] != sealVersion {
			return nil, errors.New("not a sealed token")
		}
		if plain, err := gcm.Open(nil, sealed[1:n], sealed[n:], ad); err == nil {
			return plain, nil
		}
	}
	return nil, errors.New("it does not open with Secret or PreviousSecrets")
}

// Token implements chatauth.TokenStore. A token that does not decrypt
// (Secret changed without PreviousSecrets, or a value not written here)
// is reported as missing, wrapping chatauth.ErrNoToken, with the reason.
func (s *Store) Token(ctx context.Context, identifier, provider string) (*oauth2.Token, error) {
	if len(s.sealers) == 0 {
		return nil, ErrNoSecret
	}
	var sealed []byte
	err := s.call(ctx, "load token", func(ctx context.Context) (err error) {
		sealed, err = s.client.Get(ctx, s.tokenKey(identifier, provider)).Bytes()
		return err
	})
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%w for %q at %q", chatauth.ErrNoToken, identifier, provider)
	}
	if err != nil {
		return nil, err
	}
	plain, err := s.open(sealed, tokenAD(identifier, provider))
	if err != nil {
		return nil, fmt.Errorf("%w for %q at %q: stored value unusable: %v", chatauth.ErrNoToken, identifier, provider, err)
	}
	var st storedToken
	if err := json.Unmarshal(plain, &st); err != nil || st.Token == nil {
		return nil, fmt.Errorf("%w for %q at %q: stored value unusable: bad JSON", chatauth.ErrNoToken, identifier, provider)
	}
	if st.IDToken != "" {
		return st.Token.WithExtra(map[string]any{"id_token": st.IDToken}), nil
	}
	return st.Token, nil
}

// DeleteToken implements chatauth.TokenStore.
func (s *Store) DeleteToken(ctx context.Context, identifier, provider string) error {
	return s.call(ctx, "delete token", func(ctx context.Context) error {
		return s.client.Del(ctx, s.tokenKey(identifier, provider)).Err()
	})
}
