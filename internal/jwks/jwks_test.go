package jwks

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(t *testing.T, kid string) (map[string]any, *rsa.PublicKey) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}, &k.PublicKey
}

func TestFetchRotateAndLimit(t *testing.T) {
	k1, pub1 := rsaJWK(t, "k1")
	k2, pub2 := rsaJWK(t, "k2")
	var keys atomic.Value
	keys.Store([]any{k1})
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		json.NewEncoder(w).Encode(map[string]any{"keys": keys.Load()})
	}))
	defer srv.Close()
	s := New(srv.URL, srv.Client())
	now := time.Unix(1000, 0)
	s.now = func() time.Time { return now }
	ctx := context.Background()
	got, err := s.Keys(ctx, "k1")
	if err != nil || !got[0].(*rsa.PublicKey).Equal(pub1) {
		t.Fatalf("k1: %v %v", got, err)
	}
	if _, err := s.Keys(ctx, "k1"); err != nil || fetches.Load() != 1 {
		t.Fatalf("cached lookup fetched again: %d", fetches.Load())
	}
	// The issuer rotates: an unknown kid refetches at once...
	keys.Store([]any{k1, k2})
	got, err = s.Keys(ctx, "k2")
	if err != nil || !got[0].(*rsa.PublicKey).Equal(pub2) {
		t.Fatalf("k2 after rotation: %v %v", got, err)
	}
	// ...but made-up kids cannot make it fetch more than once per MinRefresh.
	for range 5 {
		if _, err := s.Keys(ctx, "made-up"); err == nil {
			t.Fatal("made-up kid accepted")
		}
	}
	if fetches.Load() != 2 {
		t.Fatalf("fetches %d, want 2", fetches.Load())
	}
	now = now.Add(MinRefresh)
	s.Keys(ctx, "made-up")
	if fetches.Load() != 3 {
		t.Fatalf("fetches %d after MinRefresh, want 3", fetches.Load())
	}
	// A withdrawn key stops being accepted once the set is older than MaxAge.
	keys.Store([]any{k2})
	now = now.Add(MaxAge)
	if _, err := s.Keys(ctx, "k1"); err == nil {
		t.Fatal("withdrawn key still accepted after MaxAge")
	}
}

func TestParseKeyTypes(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ed, _, _ := ed25519.GenerateKey(rand.Reader)
	r, _ := rsaJWK(t, "r")
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	doc, _ := json.Marshal(map[string]any{"keys": []any{
		r,
		map[string]any{"kty": "EC", "kid": "e", "crv": "P-256", "x": b64(ec.X.Bytes()), "y": b64(ec.Y.Bytes())},
		map[string]any{"kty": "OKP", "kid": "o", "crv": "Ed25519", "x": b64(ed)},
		map[string]any{"kty": "RSA", "kid": "small", "n": b64(small.N.Bytes()), "e": "AQAB"},
		map[string]any{"kty": "RSA", "kid": "enc", "use": "enc", "n": r["n"], "e": r["e"]},
		map[string]any{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
		map[string]any{"kty": "EC", "kid": "bad", "crv": "P-256", "x": b64([]byte{1}), "y": b64([]byte{2})},
	}})
	byID, _, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, kid := range []string{"r", "e", "o"} {
		if byID[kid] == nil {
			t.Errorf("key %s not parsed", kid)
		}
	}
	for _, kid := range []string{"small", "enc", "hmac", "bad"} {
		if byID[kid] != nil {
			t.Errorf("key %s should be refused", kid)
		}
	}
	if _, _, err := Parse([]byte(`{"keys":[]}`)); err == nil {
		t.Error("empty set accepted")
	}
}

// TestWaitersGiveUpOnTheirContext: a request waiting behind another's
// fetch of a hanging JWKS endpoint returns when its own context ends, not
// when the fetch does.
func TestWaitersGiveUpOnTheirContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s := New(srv.URL, srv.Client())
	first := make(chan error, 1)
	go func() {
		_, err := s.Keys(context.Background(), "k")
		first <- err
	}()
	// Wait until the first call holds the lock and is fetching.
	for len(s.lock) == 0 {
		runtime.Gosched()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Keys(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("waiter with a cancelled context: %v, want context.Canceled", err)
	}
	release <- struct{}{}
	if err := <-first; err == nil {
		t.Fatal("the hanging fetch returned keys")
	}
}

// TestUnknownKidsKeepNothing: 100,000 tokens with distinct made-up kids
// cost one fetch per MinRefresh in all, and leave the set as it was: no
// kid is remembered, so attacker tokens cannot grow it.
func TestUnknownKidsKeepNothing(t *testing.T) {
	k1, _ := rsaJWK(t, "k1")
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{k1}})
	}))
	defer srv.Close()
	s := New(srv.URL, srv.Client())
	now := time.Unix(1000, 0)
	s.now = func() time.Time { return now }
	ctx := context.Background()
	if _, err := s.Keys(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	const kids = 100000
	for i := range kids {
		if i%(kids/4) == 0 {
			now = now.Add(MinRefresh) // four refresh windows in all
		}
		if _, err := s.Keys(ctx, "made-up-"+strconv.Itoa(i)); err == nil {
			t.Fatalf("made-up kid %d accepted", i)
		}
	}
	if got := fetches.Load(); got != 1+4 {
		t.Errorf("%d fetches for %d unknown kids over 4 refresh windows, want 5", got, kids)
	}
	if len(s.keys) != 1 || len(s.anon) != 0 {
		t.Errorf("set holds %d keys and %d without kid, want the issuer's 1", len(s.keys), len(s.anon))
	}
}

// TestParseKeepsAtMostMaxKeys: a key set with more keys than MaxKeys is
// cut to MaxKeys.
func TestParseKeepsAtMostMaxKeys(t *testing.T) {
	var keys []any
	for i := range MaxKeys + 50 {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": "k" + strconv.Itoa(i), "x": b64(pub)})
	}
	doc, _ := json.Marshal(map[string]any{"keys": keys})
	byID, anon, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(byID)+len(anon) != MaxKeys {
		t.Errorf("kept %d keys, want %d", len(byID)+len(anon), MaxKeys)
	}
}
