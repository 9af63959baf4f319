// Package jwks fetches and caches a JSON Web Key Set (RFC 7517) for
// verifying JWT signatures: id_tokens of OpenID providers and tokens issued
// by a host application.
package jwks

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"time"
)

// MinRefresh is the shortest interval between two fetches caused by unknown
// key ids, so that tokens with made-up kids cannot make us hammer the issuer.
const MinRefresh = 10 * time.Second

// MaxAge is how long a fetched set is used before it is fetched again, so
// that keys the issuer withdrew stop being accepted.
const MaxAge = time.Hour

// maxBody bounds a JWKS response.
const maxBody = 1 << 20

// MaxKeys bounds the keys kept from one key set. Issuers publish a few
// (rotation keeps two or three); keys past the first MaxKeys usable ones
// are ignored.
const MaxKeys = 100

// Set is a cached key set. Keys are fetched on first use and again when a
// token names a key id the cache does not know (key rotation), at most once
// per MinRefresh. Nothing a token says is kept: an unknown kid is answered
// "no key" by the one refresh time shared by every kid, so tokens with
// made-up kids neither grow the set nor make it fetch more often. The set
// holds at most MaxKeys keys from a document of at most 1 MiB.
type Set struct {
	url    string
	client *http.Client
	now    func() time.Time

	// lock is held (a value sent) while the set is read or fetched: a
	// mutex that a request waiting behind a slow fetch can give up on
	// when its own context ends.
	lock      chan struct{}
	keys      map[string]any
	anon      []any     // keys without kid
	fetched   time.Time // last fetch
	refreshed time.Time // last fetch caused by an unknown kid
	static    bool
}

// New returns a Set reading url with client.
func New(url string, client *http.Client) *Set {
	return &Set{url: url, client: client, now: time.Now, lock: make(chan struct{}, 1)}
}

// Static returns a Set holding fixed keys (from PEM, say), never fetched.
func Static(keys ...any) *Set {
	return &Set{keys: map[string]any{}, anon: keys, static: true, now: time.Now, lock: make(chan struct{}, 1)}
}

// Keys returns the candidate keys for kid: the key with that id, or, when
// kid is empty, every key.
func (s *Set) Keys(ctx context.Context, kid string) ([]any, error) {
	select {
	case s.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("jwks: waiting for a fetch of %s: %w", s.url, ctx.Err())
	}
	defer func() { <-s.lock }()
	now := s.now()
	stale := !s.static && (s.fetched.IsZero() || now.Sub(s.fetched) >= MaxAge)
	if k := s.lookup(kid); len(k) > 0 && !stale {
		return k, nil
	}
	if s.static || (!stale && !s.refreshed.IsZero() && now.Sub(s.refreshed) < MinRefresh) {
		return nil, fmt.Errorf("jwks: no key with kid %q", kid)
	}
	if !stale {
		s.refreshed = now
	}
	if err := s.fetch(ctx); err != nil {
		return nil, err
	}
	if k := s.lookup(kid); len(k) > 0 {
		return k, nil
	}
	return nil, fmt.Errorf("jwks: no key with kid %q at %s", kid, s.url)
}

func (s *Set) lookup(kid string) []any {
	if kid == "" {
		all := append([]any(nil), s.anon...)
		for _, k := range s.keys {
			all = append(all, k)
		}
		return all
	}
	if k, ok := s.keys[kid]; ok {
		return []any{k}
	}
	return nil
}

func (s *Set) fetch(ctx context.Context) error {
	s.fetched = s.now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("jwks: fetching %s: %w", s.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("jwks: fetching %s: HTTP %d", s.url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("jwks: reading %s: %w", s.url, err)
	}
	keys, anon, err := Parse(body)
	if err != nil {
		return err
	}
	s.keys, s.anon = keys, anon
	return nil
}

// Parse reads a JWK Set document. Keys whose use is not "sig" or whose type
// is unsupported are skipped; at most MaxKeys are kept.
func Parse(doc []byte) (byID map[string]any, anon []any, err error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		return nil, nil, fmt.Errorf("jwks: not a key set: %w", err)
	}
	byID = make(map[string]any)
	for _, k := range set.Keys {
		if len(byID)+len(anon) == MaxKeys {
			break
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		pub, err := k.publicKey()
		if err != nil {
			continue
		}
		if k.Kid == "" {
			anon = append(anon, pub)
		} else {
			byID[k.Kid] = pub
		}
	}
	if len(byID) == 0 && len(anon) == 0 {
		return nil, nil, errors.New("jwks: no usable signing key")
	}
	return byID, anon, nil
}

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

func (k jwk) publicKey() (any, error) {
	switch k.Kty {
	case "RSA":
		n, e := b64int(k.N), b64int(k.E)
		if n == nil || e == nil || !e.IsInt64() || n.BitLen() < 2048 {
			return nil, errors.New("jwks: bad or short RSA key")
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, errors.New("jwks: unsupported curve")
		}
		x, y := b64int(k.X), b64int(k.Y)
		size := (curve.Params().BitSize + 7) / 8
		if x == nil || y == nil || x.BitLen() > 8*size || y.BitLen() > 8*size {
			return nil, errors.New("jwks: bad EC key")
		}
		// The uncompressed point 0x04 || X || Y, each coordinate padded to
		// the curve's size: ParseUncompressedPublicKey checks that the
		// point is on the curve.
		point := make([]byte, 1+2*size)
		point[0] = 4
		x.FillBytes(point[1 : 1+size])
		y.FillBytes(point[1+size:])
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, errors.New("jwks: EC point not on curve")
		}
		return pub, nil
	case "OKP":
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if k.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("jwks: bad OKP key")
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, errors.New("jwks: unsupported key type")
}

func b64int(s string) *big.Int {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil
	}
	return new(big.Int).SetBytes(b)
}
