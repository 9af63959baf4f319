package testutil

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// JWTPart decodes part i (0 header, 1 payload) of a compact JWT, failing
// the test if it is not one.
func JWTPart(t testing.TB, token string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// WantRandomBytes checks that s (called what in the error) is base64url
// of at least minBytes bytes.
func WantRandomBytes(t testing.TB, what, s string, minBytes int) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < minBytes {
		t.Errorf("%s %q: %d bytes (%v), want at least %d random bytes", what, s, len(b), err, minBytes)
	}
}
