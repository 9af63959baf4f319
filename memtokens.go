package chatauth

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/oauth2"
)

// Bounds of newMemoryTokenStore.
const (
	defaultMaxProviderTokens = 100000
	defaultMaxTokenBytes     = 64 << 20
	// tokenOverhead is the heap a stored token takes besides its strings.
	tokenOverhead = 320
)

// memoryTokenStore is the in-process TokenStore. It keeps at most 100,000
// tokens and 64 MiB (strings plus a fixed overhead per token); past
// either bound it forgets the tokens saved longest ago. That is safe: a
// forgotten token makes TokenSource fail with ErrNoToken until the user
// logs in again. It keeps the token's access and refresh tokens, type,
// expiry and id_token, not the provider's other response fields. Make one
// with newMemoryTokenStore.
type memoryTokenStore struct {
	mu        sync.Mutex
	tokens    map[providerTokenKey]*list.Element // of *storedToken
	order     list.List                          // oldest saved first
	bytes     int
	maxTokens int
	maxBytes  int
}

type providerTokenKey struct{ identifier, provider string }

type storedToken struct {
	key     providerTokenKey
	tok     oauth2.Token // without the provider's raw response
	idToken string
	size    int
}

// newMemoryTokenStore returns an empty memoryTokenStore keeping at most
// maxTokens tokens and maxBytes bytes; zero or less takes the default
// (Config.Stores.MaxProviderTokens, MaxProviderTokenBytes).
func newMemoryTokenStore(maxTokens, maxBytes int) *memoryTokenStore {
	if maxTokens <= 0 {
		maxTokens = defaultMaxProviderTokens
	}
	if maxBytes <= 0 {
		maxBytes = defaultMaxTokenBytes
	}
	return &memoryTokenStore{
		tokens:    make(map[providerTokenKey]*list.Element),
		maxTokens: maxTokens,
		maxBytes:  maxBytes,
	}
}

// SaveToken implements TokenStore.
func (s *memoryTokenStore) SaveToken(_ context.Context, identifier, provider string, tok *oauth2.Token) error {
	if tok == nil {
		return errors.New("chatauth: SaveToken: token is nil")
	}
	st := &storedToken{
		key: providerTokenKey{identifier, provider},
		tok: oauth2.Token{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken,
			Expiry: tok.Expiry, ExpiresIn: tok.ExpiresIn},
	}
	st.idToken, _ = tok.Extra("id_token").(string)
	st.size = tokenOverhead + len(identifier) + len(provider) + len(tok.AccessToken) + len(tok.TokenType) +
		len(tok.RefreshToken) + len(st.idToken)
	if st.size > s.maxBytes {
		return fmt.Errorf("chatauth: SaveToken: token of %d bytes is larger than the store's %d", st.size, s.maxBytes)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeLocked(st.key)
	s.tokens[st.key] = s.order.PushBack(st)
	s.bytes += st.size
	for len(s.tokens) > s.maxTokens || s.bytes > s.maxBytes {
		s.removeLocked(s.order.Front().Value.(*storedToken).key)
	}
	return nil
}

func (s *memoryTokenStore) removeLocked(k providerTokenKey) {
	if el, ok := s.tokens[k]; ok {
		s.bytes -= el.Value.(*storedToken).size
		s.order.Remove(el)
		delete(s.tokens, k)
	}
}

// Token implements TokenStore: a copy of the stored token.
func (s *memoryTokenStore) Token(_ context.Context, identifier, provider string) (*oauth2.Token, error) {
	s.mu.Lock()
	el, ok := s.tokens[providerTokenKey{identifier, provider}]
	var st storedToken
	if ok {
		st = *el.Value.(*storedToken)
	}
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w for %q at %q", ErrNoToken, identifier, provider)
	}
	if st.idToken != "" {
		return st.tok.WithExtra(map[string]any{"id_token": st.idToken}), nil
	}
	return &st.tok, nil
}

// DeleteToken implements TokenStore.
func (s *memoryTokenStore) DeleteToken(_ context.Context, identifier, provider string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeLocked(providerTokenKey{identifier, provider})
	return nil
}
