package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
	"golang.org/x/oauth2"
)

// TokenStore checks a chatauth.TokenStore: save, load and delete; tokens
// kept per user and provider whatever the names contain; copies rather
// than shared values; the id_token kept; nil or zero inputs.
func TokenStore(t *testing.T, newStore func(t *testing.T) chatauth.TokenStore) {
	checks := []struct {
		name  string
		check func(t *testing.T, s chatauth.TokenStore)
	}{
		{"save_load_delete", saveLoadDelete},
		{"keys_separate", keysSeparate},
		{"copies", copies},
		{"nil_and_zero", tokensNilAndZero},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.check(t, newStore(t)) })
	}
}

func load(t *testing.T, s chatauth.TokenStore, user, provider string) *oauth2.Token {
	t.Helper()
	tok, err := s.Token(ctx, user, provider)
	if err != nil {
		t.Fatalf("Token(%q, %q): %v", user, provider, err)
	}
	return tok
}

func save(t *testing.T, s chatauth.TokenStore, user, provider string, tok *oauth2.Token) {
	t.Helper()
	if err := s.SaveToken(ctx, user, provider, tok); err != nil {
		t.Fatalf("SaveToken(%q, %q): %v", user, provider, err)
	}
}

func saveLoadDelete(t *testing.T, s chatauth.TokenStore) {
	user := newID("user")
	if _, err := s.Token(ctx, user, "github"); !errors.Is(err, chatauth.ErrNoToken) {
		t.Errorf("nothing saved: %v, want ErrNoToken", err)
	}
	expiry := time.Now().Add(time.Hour).Truncate(time.Second)
	save(t, s, user, "github", (&oauth2.Token{AccessToken: "at", TokenType: "Bearer", RefreshToken: "rt", Expiry: expiry}).
		WithExtra(map[string]any{"id_token": "idt"}))
	got := load(t, s, user, "github")
	if got.AccessToken != "at" || got.TokenType != "Bearer" || got.RefreshToken != "rt" || !got.Expiry.Equal(expiry) {
		t.Errorf("loaded %+v", got)
	}
	if got.Extra("id_token") != "idt" {
		t.Errorf("id_token %v, want kept", got.Extra("id_token"))
	}
	save(t, s, user, "github", &oauth2.Token{AccessToken: "at2"})
	if got := load(t, s, user, "github"); got.AccessToken != "at2" || got.RefreshToken != "" {
		t.Errorf("after replacing: %+v", got)
	}
	for range 2 { // deleting a missing token is not an error
		if err := s.DeleteToken(ctx, user, "github"); err != nil {
			t.Errorf("DeleteToken: %v", err)
		}
	}
	if _, err := s.Token(ctx, user, "github"); !errors.Is(err, chatauth.ErrNoToken) {
		t.Errorf("after delete: %v, want ErrNoToken", err)
	}
}

// keysSeparate: user and provider never blur into each other.
func keysSeparate(t *testing.T, s chatauth.TokenStore) {
	u := newID("user")
	pairs := [][2]string{{u + ":a", "b"}, {u, "a:b"}, {u, "a"}, {u + ":", "a"}, {u, "id_token:a"}}
	for i, p := range pairs {
		save(t, s, p[0], p[1], &oauth2.Token{AccessToken: string(rune('A' + i))})
	}
	for i, p := range pairs {
		if got := load(t, s, p[0], p[1]); got.AccessToken != string(rune('A'+i)) {
			t.Errorf("Token(%q, %q) = %q, want %q", p[0], p[1], got.AccessToken, string(rune('A'+i)))
		}
	}
}

func copies(t *testing.T, s chatauth.TokenStore) {
	user := newID("user")
	tok := &oauth2.Token{AccessToken: "at"}
	save(t, s, user, "p", tok)
	tok.AccessToken = "changed after save"
	got := load(t, s, user, "p")
	got.AccessToken = "changed after load"
	if again := load(t, s, user, "p"); again.AccessToken != "at" {
		t.Errorf("stored token changed through a caller's copy: %q", again.AccessToken)
	}
}

func tokensNilAndZero(t *testing.T, s chatauth.TokenStore) {
	noPanic(t, "SaveToken(nil)", func() {
		if err := s.SaveToken(ctx, newID("user"), "p", nil); err == nil {
			t.Error("SaveToken(nil): no error")
		}
	})
	noPanic(t, "empty names", func() {
		_ = s.SaveToken(ctx, "", "", &oauth2.Token{})
		_, _ = s.Token(ctx, "", "")
		_ = s.DeleteToken(ctx, "", "")
	})
}
