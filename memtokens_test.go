package chatauth

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestMemoryTokenStore(t *testing.T) {
	ctx := context.Background()
	s := newMemoryTokenStore(0, 0)
	if _, err := s.Token(ctx, "ada", "github"); !errors.Is(err, ErrNoToken) {
		t.Errorf("empty store: %v", err)
	}
	expiry := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := (&oauth2.Token{AccessToken: "at", RefreshToken: "rt", TokenType: "Bearer", Expiry: expiry}).
		WithExtra(map[string]any{"id_token": "idt", "scope": "openid"})
	if err := s.SaveToken(ctx, "ada", "github", tok); err != nil {
		t.Fatal(err)
	}
	tok.AccessToken = "changed after save"
	got, err := s.Token(ctx, "ada", "github")
	if err != nil || got.AccessToken != "at" || got.RefreshToken != "rt" || got.TokenType != "Bearer" || !got.Expiry.Equal(expiry) {
		t.Errorf("Token = %+v, %v", got, err)
	}
	if got.Extra("id_token") != "idt" {
		t.Errorf("id_token = %v, want kept", got.Extra("id_token"))
	}
	got.AccessToken = "changed after load"
	if again, _ := s.Token(ctx, "ada", "github"); again.AccessToken != "at" {
		t.Error("a loaded token shares memory with the stored one")
	}
	if _, err := s.Token(ctx, "ada", "google"); !errors.Is(err, ErrNoToken) {
		t.Errorf("other provider: %v", err)
	}
	if err := s.SaveToken(ctx, "ada", "github", nil); err == nil {
		t.Error("SaveToken(nil): no error")
	}
	s.DeleteToken(ctx, "ada", "github")
	if err := s.DeleteToken(ctx, "ada", "github"); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if _, err := s.Token(ctx, "ada", "github"); !errors.Is(err, ErrNoToken) {
		t.Errorf("after delete: %v", err)
	}
}

// TestMemoryTokenStoreForgetsOldestPastItsBounds: past either bound, the
// tokens saved longest ago go first; saving again counts as new.
func TestMemoryTokenStoreForgetsOldestPastItsBounds(t *testing.T) {
	ctx := context.Background()
	s := newMemoryTokenStore(0, 0)
	s.maxTokens = 3
	for _, u := range []string{"a", "b", "c"} {
		s.SaveToken(ctx, u, "p", &oauth2.Token{AccessToken: u})
	}
	s.SaveToken(ctx, "a", "p", &oauth2.Token{AccessToken: "a2"}) // a is now the newest
	s.SaveToken(ctx, "d", "p", &oauth2.Token{AccessToken: "d"})
	for u, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if _, err := s.Token(ctx, u, "p"); (err == nil) != want {
			t.Errorf("token of %s kept: %v, want %v", u, err == nil, want)
		}
	}
	s.maxBytes = tokenOverhead + 1600
	s.SaveToken(ctx, "big", "p", &oauth2.Token{AccessToken: strings.Repeat("x", 1500)})
	if len(s.tokens) != 1 || s.bytes > s.maxBytes {
		t.Errorf("after a large token: %d tokens, %d bytes, bound %d", len(s.tokens), s.bytes, s.maxBytes)
	}
	if err := s.SaveToken(ctx, "huge", "p", &oauth2.Token{AccessToken: strings.Repeat("x", 4000)}); err == nil {
		t.Error("a token larger than the whole store: no error")
	}
}

// TestMemoryTokenStoreBounded100k feeds the default bounds 150,000
// distinct users' tokens: the heap stays within the byte bound.
func TestMemoryTokenStoreBounded100k(t *testing.T) {
	ctx := context.Background()
	before := heapAfterGC()
	s := newMemoryTokenStore(0, 0)
	access := strings.Repeat("a", 200)
	for i := range 150000 {
		s.SaveToken(ctx, "user-"+strconv.Itoa(i)+"@example.com", "github", &oauth2.Token{AccessToken: access, RefreshToken: "r"})
	}
	checkHeapGrowth(t, before, defaultMaxTokenBytes, "150,000 provider tokens")
	if len(s.tokens) > defaultMaxProviderTokens || s.bytes > defaultMaxTokenBytes {
		t.Errorf("%d tokens, %d bytes held", len(s.tokens), s.bytes)
	}
}
