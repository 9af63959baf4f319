package redisstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/internal/seal"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
)

// tokenPurpose names what the derived key is for (HKDF info, after
// seal's "chatauth " prefix), so that the same Secret yields unrelated keys
// for unrelated uses. The derived key is the one earlier versions derived
// by hand; the stored format is internal/seal's (base64url nonce and
// ciphertext).
const tokenPurpose = "redisstore provider tokens v1"

// tokenKeys derives a key from each secret, current first, for
// internal/seal. No secret, no keys.
func tokenKeys(current []byte, previous [][]byte) [][]byte {
	if len(current) == 0 {
		return nil
	}
	keys := [][]byte{seal.DeriveKey(current, tokenPurpose)}
	for _, secret := range previous {
		keys = append(keys, seal.DeriveKey(secret, tokenPurpose))
	}
	return keys
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
	ad := make([]byte, 0, len(tokenPurpose)+16+len(identifier)+len(provider))
	ad = append(ad, tokenPurpose...)
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
	if len(s.tokenKeys) == 0 {
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
	sealed := seal.Seal(s.tokenKeys[0], string(tokenAD(identifier, provider)), plain)
	return s.call(ctx, "save token", func(ctx context.Context) error {
		return s.client.Set(ctx, s.tokenKey(identifier, provider), sealed, s.tokenTTL).Err()
	})
}

// Token implements chatauth.TokenStore. A token that does not decrypt
// (Secret changed without PreviousSecrets, or a value not written here)
// is reported as missing, wrapping chatauth.ErrNoToken, with the reason.
func (s *Store) Token(ctx context.Context, identifier, provider string) (*oauth2.Token, error) {
	if len(s.tokenKeys) == 0 {
		return nil, ErrNoSecret
	}
	var sealed string
	err := s.call(ctx, "load token", func(ctx context.Context) (err error) {
		sealed, err = s.client.Get(ctx, s.tokenKey(identifier, provider)).Result()
		return err
	})
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%w for %q at %q", chatauth.ErrNoToken, identifier, provider)
	}
	if err != nil {
		return nil, err
	}
	plain, err := seal.Open(s.tokenKeys, string(tokenAD(identifier, provider)), sealed)
	if err != nil {
		return nil, fmt.Errorf("%w for %q at %q: stored value unusable: it does not open with Secret or PreviousSecrets", chatauth.ErrNoToken, identifier, provider)
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
