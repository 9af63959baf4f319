package redisstore

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
	"golang.org/x/oauth2"
)

const (
	plainAccess  = "ya29.plain-access-token-that-must-not-leak"
	plainRefresh = "1//plain-refresh-token-that-must-not-leak"
	plainID      = "eyJplain.id-token.that-must-not-leak"
)

func testToken() *oauth2.Token {
	tok := &oauth2.Token{
		AccessToken:  plainAccess,
		TokenType:    "Bearer",
		RefreshToken: plainRefresh,
		Expiry:       time.Now().Add(time.Hour).Round(time.Second),
	}
	return tok.WithExtra(map[string]any{"id_token": plainID})
}

func TestProviderTokenRoundTripsEncrypted(t *testing.T) {
	srv := startRedis(t)
	s := newStore(t, srv, Options{TokenTTL: time.Hour})
	ctx := context.Background()
	want := testToken() // once: two calls may round the expiry to different seconds
	if err := s.SaveToken(ctx, "alice@example.com", "github", want); err != nil {
		t.Fatal(err)
	}

	got, err := s.Token(ctx, "alice@example.com", "github")
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != want.AccessToken || got.RefreshToken != want.RefreshToken ||
		got.TokenType != want.TokenType || !got.Expiry.Equal(want.Expiry) {
		t.Errorf("Token = %+v, want %+v", got, want)
	}
	if id, _ := got.Extra("id_token").(string); id != plainID {
		t.Errorf("id_token = %q, want it kept", id)
	}

	rdb := srv.Client()
	keys, _, err := rdb.Scan(ctx, 0, "*", 100).Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v, %v; want exactly one", keys, err)
	}
	raw, err := rdb.Get(ctx, keys[0]).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{plainAccess, plainRefresh, plainID, "access_token", "Bearer"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("raw Redis value contains %q in plain text", secret)
		}
	}
	if ttl, _ := rdb.PTTL(ctx, keys[0]).Result(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("PTTL = %v, want in (0, 1h]", ttl)
	}
}

func TestProviderTokenMissingOrUnusable(t *testing.T) {
	srv := startRedis(t)
	s := newStore(t, srv, Options{})
	rdb := srv.Client()
	ctx := context.Background()
	if err := s.SaveToken(ctx, "alice", "github", testToken()); err != nil {
		t.Fatal(err)
	}
	// A value copied under another user's key must not open for them.
	raw, _ := rdb.Get(ctx, s.tokenKey("alice", "github")).Bytes()
	_ = rdb.Set(ctx, s.tokenKey("bob", "github"), raw, 0).Err()
	other := newStore(t, srv, Options{Secret: bytes.Repeat([]byte("x"), 32)})

	for _, tc := range []struct {
		name           string
		store          *Store
		user, provider string
	}{
		{"unknown provider", s, "alice", "google"},
		{"unknown user", s, "carol", "github"},
		{"value copied to another user", s, "bob", "github"},
		{"other secret", other, "alice", "github"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := tc.store.Token(ctx, tc.user, tc.provider)
			if !errors.Is(err, chatauth.ErrNoToken) || tok != nil {
				t.Errorf("Token = %v, %v; want ErrNoToken", tok, err)
			}
		})
	}

	if err := s.DeleteToken(ctx, "alice", "github"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(ctx, "alice", "github"); !errors.Is(err, chatauth.ErrNoToken) {
		t.Errorf("Token after DeleteToken: %v, want ErrNoToken", err)
	}
	if err := s.DeleteToken(ctx, "alice", "github"); err != nil {
		t.Errorf("deleting a missing token: %v", err)
	}
}

func TestProviderTokenAfterSecretRotation(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	oldSecret := testSecret
	newSecret := bytes.Repeat([]byte("n"), 40)
	before := newStore(t, srv, Options{Secret: oldSecret})
	if err := before.SaveToken(ctx, "alice", "github", testToken()); err != nil {
		t.Fatal(err)
	}
	after := newStore(t, srv, Options{Secret: newSecret, PreviousSecrets: [][]byte{oldSecret}})
	tok, err := after.Token(ctx, "alice", "github")
	if err != nil || tok.AccessToken != plainAccess {
		t.Fatalf("Token after rotation = %v, %v", tok, err)
	}
}

// The provider and identifier are length-delimited in the key, so no two
// pairs share one.
func TestTokenKeysDoNotCollide(t *testing.T) {
	s := &Store{prefix: DefaultPrefix}
	if a, b := s.tokenKey("a:b", "c"), s.tokenKey("b", "c:a"); a == b {
		t.Errorf("tokenKey collision: %q", a)
	}
	if a, b := s.tokenKey("x:y", "p"), s.tokenKey("y", "p:x"); a == b {
		t.Errorf("tokenKey collision: %q", a)
	}
}

func TestTokensNeedSecret(t *testing.T) {
	srv := startRedis(t)
	s := openStore(t, srv.Client(), Options{})
	ctx := context.Background()
	if err := s.SaveToken(ctx, "alice", "github", testToken()); !errors.Is(err, ErrNoSecret) {
		t.Errorf("SaveToken without Secret: %v, want ErrNoSecret", err)
	}
	if _, err := s.Token(ctx, "alice", "github"); !errors.Is(err, ErrNoSecret) {
		t.Errorf("Token without Secret: %v, want ErrNoSecret", err)
	}
}
