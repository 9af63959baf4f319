package chatauthtest

import (
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"math/big"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func kidOf(t *testing.T, raw string) string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := tok.Header["kid"].(string)
	return kid
}

func TestRotateKey(t *testing.T) {
	p := NewProvider(t)
	f1 := newFlow(p)
	old := idToken(t, f1.login(t))
	kid1 := p.KeyID()
	if kidOf(t, old) != kid1 {
		t.Fatalf("id_token kid %q, want the current key's %q", kidOf(t, old), kid1)
	}

	p.RotateKey()
	kid2 := p.KeyID()
	if kid2 == kid1 {
		t.Fatal("RotateKey kept the kid")
	}
	keys := fetchKeys(t, p)
	if len(keys) != 2 || keys[kid1] == nil || keys[kid2] == nil {
		t.Fatalf("JWKS after rotation has %d keys, want %s and %s", len(keys), kid1, kid2)
	}
	f2 := newFlow(p)
	fresh := idToken(t, f2.login(t))
	if kidOf(t, fresh) != kid2 {
		t.Errorf("new id_token kid %q, want %q", kidOf(t, fresh), kid2)
	}
	for _, c := range []struct{ raw, nonce string }{{old, f1.nonce}, {fresh, f2.nonce}} {
		if _, err := verifyIDToken(t, p, c.raw, c.nonce); err != nil {
			t.Errorf("id_token of kid %s does not verify after rotation: %v", kidOf(t, c.raw), err)
		}
	}

	p.RotateKey() // the first key drops out
	if keys := fetchKeys(t, p); len(keys) != 2 || keys[kid1] != nil || keys[kid2] == nil {
		t.Errorf("JWKS after a second rotation: %d keys, first present %v", len(keys), keys[kid1] != nil)
	}

	p.DropPreviousKeys()
	if keys := fetchKeys(t, p); len(keys) != 1 || keys[p.KeyID()] == nil {
		t.Errorf("JWKS after DropPreviousKeys has %d keys", len(keys))
	}
	if _, err := verifyIDToken(t, p, fresh, f2.nonce); !errors.Is(err, jwt.ErrTokenUnverifiable) {
		t.Errorf("id_token of a dropped key: %v, want unverifiable", err)
	}
}

func TestThumbprint(t *testing.T) {
	// RFC 7638 3.1's example key and thumbprint.
	const n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	const want = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	k := rsaKey(t, n, "AQAB")
	if got := thumbprint(k); got != want {
		t.Errorf("thumbprint = %s, want %s", got, want)
	}
}

func rsaKey(t *testing.T, n, e string) *rsa.PublicKey {
	t.Helper()
	nb, err1 := base64.RawURLEncoding.DecodeString(n)
	eb, err2 := base64.RawURLEncoding.DecodeString(e)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
}
