package chatauthtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"

	"github.com/golang-jwt/jwt/v5"
)

// rsaBits is the size of the provider's keys: the smallest size RS256
// verifiers are expected to accept (RFC 7518 3.3).
const rsaBits = 2048

// signingKey is one RSA key and its kid.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func newSigningKey() (signingKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return signingKey{}, err
	}
	return signingKey{id: thumbprint(&key.PublicKey), key: key}, nil
}

// thumbprint is the RFC 7638 JWK thumbprint of pub, used as its kid.
func thumbprint(pub *rsa.PublicKey) string {
	// The members in lexicographic order, no whitespace (RFC 7638 3.3).
	canon := fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, b64(big.NewInt(int64(pub.E)).Bytes()), b64(pub.N.Bytes()))
	sum := sha256.Sum256([]byte(canon))
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwk is the public half of k as a JSON Web Key (RFC 7517, RFC 7518 6.3).
func (k signingKey) jwk() map[string]string {
	return map[string]string{
		"kty": "RSA",
		"use": "sig",
		"alg": "RS256",
		"kid": k.id,
		"n":   b64(k.key.N.Bytes()),
		"e":   b64(big.NewInt(int64(k.key.E)).Bytes()),
	}
}

// keySet is the provider's signing keys: the current one, the previous one
// still published after a rotation, and a rogue key never published, made
// on first use by the signature faults.
type keySet struct {
	current  signingKey
	previous *signingKey
	rogue    *signingKey
}

// RotateKey makes a new signing key current, with a new kid. The JWKS
// publishes the new key and the one it replaces (an earlier one drops out),
// as providers do during a rotation, so id_tokens issued before still
// verify. It panics if the system cannot generate a key.
func (p *Provider) RotateKey() {
	if p == nil {
		return
	}
	k, err := newSigningKey()
	if err != nil {
		panic(fmt.Sprintf("chatauthtest: generating an RSA key: %v", err))
	}
	p.mu.Lock()
	prev := p.keys.current
	p.keys.current, p.keys.previous = k, &prev
	p.mu.Unlock()
}

// DropPreviousKeys stops publishing every key but the current one. After
// RotateKey, it simulates an abrupt rotation: id_tokens signed before no
// longer verify.
func (p *Provider) DropPreviousKeys() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.keys.previous = nil
	p.mu.Unlock()
}

// KeyID is the kid of the current signing key.
func (p *Provider) KeyID() string {
	if p == nil {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys.current.id
}

// serveJWKS publishes the public signing keys (RFC 7517 5).
func (p *Provider) serveJWKS(w http.ResponseWriter, r *http.Request) {
	p.count(&p.counts.JWKS)
	p.mu.Lock()
	keys := []map[string]string{p.keys.current.jwk()}
	if p.keys.previous != nil {
		keys = append(keys, p.keys.previous.jwk())
	}
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/jwk-set+json")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
}

// sign signs claims as a JWT, honouring the signature faults in m.
func (p *Provider) sign(claims jwt.MapClaims, m Misbehavior) (string, error) {
	if m&NoneAlgorithm != 0 {
		return jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	}
	k, err := p.signingKeyFor(m)
	if err != nil {
		return "", err
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = k.id
	return t.SignedString(k.key)
}

// signingKeyFor picks the key to sign with: the current one, or the rogue
// one (under the current kid for BadSignature, its own for UnknownKeyID).
func (p *Provider) signingKeyFor(m Misbehavior) (signingKey, error) {
	if m&(BadSignature|UnknownKeyID) == 0 {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.keys.current, nil
	}
	rogue, err := p.rogueKey()
	if err != nil {
		return signingKey{}, err
	}
	if m&UnknownKeyID != 0 {
		return rogue, nil
	}
	return signingKey{id: p.KeyID(), key: rogue.key}, nil
}

// rogueKey returns the key that is never published, generating it once.
// Generation happens outside the lock: it is slow.
func (p *Provider) rogueKey() (signingKey, error) {
	p.mu.Lock()
	r := p.keys.rogue
	p.mu.Unlock()
	if r != nil {
		return *r, nil
	}
	k, err := newSigningKey()
	if err != nil {
		return signingKey{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.keys.rogue == nil {
		p.keys.rogue = &k
	}
	return *p.keys.rogue, nil
}

// publicKey returns the published key named kid, or nil.
func (p *Provider) publicKey(kid string) *rsa.PublicKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range []*signingKey{&p.keys.current, p.keys.previous} {
		if k != nil && k.id == kid {
			return &k.key.PublicKey
		}
	}
	return nil
}
