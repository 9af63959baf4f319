package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"

	"github.com/chatauth/chatauth"
)

// apiKeyHeader carries a demo API key: curl -H 'X-API-Key: key1' .../user.
const apiKeyHeader = "X-API-Key"

// maxAPIKey bounds the key a client may send; longer ones are wrong.
const maxAPIKey = 256

// apiKeyTable holds the API keys of CHATAUTH_DEMO_API_KEYS, SHA-256
// hashed: the keys themselves are not kept once read.
type apiKeyTable struct {
	keys  []apiKey
	names []string
}

type apiKey struct {
	user string
	hash [sha256.Size]byte
}

// loadAPIKeys reads CHATAUTH_DEMO_API_KEYS ("alice:key1,bob:key2"); nil
// when it is empty. A key given to two users is refused.
func loadAPIKeys(spec string) (*apiKeyTable, error) {
	pairs, err := parseUsers("CHATAUTH_DEMO_API_KEYS", spec)
	if err != nil || len(pairs) == 0 {
		return nil, err
	}
	t := &apiKeyTable{}
	seen := map[[sha256.Size]byte]bool{}
	for _, p := range pairs {
		k := apiKey{user: p[0], hash: sha256.Sum256([]byte(p[1]))}
		if seen[k.hash] || len(p[1]) > maxAPIKey {
			return nil, fmt.Errorf("CHATAUTH_DEMO_API_KEYS: the key of %q is another user's, or longer than %d bytes", p[0], maxAPIKey)
		}
		seen[k.hash] = true
		t.keys = append(t.keys, k)
		t.names = append(t.names, p[0])
	}
	return t, nil
}

// check is the credential hook: the user whose key the request carries in
// X-API-Key. The sent key's hash is compared with every stored hash, in
// constant time, so the time taken says nothing about which key is near.
func (t *apiKeyTable) check(_ context.Context, h http.Header) (*chatauth.User, error) {
	sent := h.Get(apiKeyHeader)
	if sent == "" || len(sent) > maxAPIKey {
		return nil, nil
	}
	sum := sha256.Sum256([]byte(sent))
	user := ""
	for _, k := range t.keys {
		if subtle.ConstantTimeCompare(k.hash[:], sum[:]) == 1 {
			user = k.user
		}
	}
	if user == "" {
		return nil, nil
	}
	return &chatauth.User{Identifier: user, Metadata: map[string]any{"provider": "api_key"}}, nil
}
