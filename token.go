package chatauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Errors returned by VerifyToken and the session lookups. They wrap the
// cause, so errors.Is works on them.
var (
	// ErrNoSession means the request carried no session token at all.
	ErrNoSession = errors.New("chatauth: no session")
	// ErrInvalidToken means the token is malformed, signed with an unknown
	// key or algorithm, or carries claims that do not check out.
	ErrInvalidToken = errors.New("chatauth: invalid token")
	// ErrExpired means the token's exp has passed.
	ErrExpired = errors.New("chatauth: token expired")
	// ErrRevoked means the session was ended by logout or RevokeUser.
	ErrRevoked = errors.New("chatauth: session revoked")
	// ErrTokenTooLarge means the token (cookie or header) is beyond MaxTokenBytes.
	ErrTokenTooLarge = errors.New("chatauth: token too large")
)

// MaxTokenBytes bounds a session token: larger cookies or Authorization
// headers are refused before any parsing.
const MaxTokenBytes = 16 << 10

// tokenClaims are the JWT claims chatauth writes and reads. The user part
// is exactly what Chainlit puts in its tokens, so tokens travel both ways.
type tokenClaims struct {
	userJSON
	ExpiresAt *jwt.NumericDate `json:"exp,omitempty"`
	IssuedAt  *jwt.NumericDate `json:"iat,omitempty"`
	NotBefore *jwt.NumericDate `json:"nbf,omitempty"`
	JTI       string           `json:"jti,omitempty"`
	Issuer    string           `json:"iss,omitempty"`
	Audience  jwt.ClaimStrings `json:"aud,omitempty"`
	Subject   string           `json:"sub,omitempty"`
	// SessionExpires is the session's absolute end (sexp), which sliding
	// renewal never passes; absent in Chainlit's tokens, where exp is it.
	SessionExpires *jwt.NumericDate `json:"sexp,omitempty"`
	// Provider is the OAuth provider the session was opened with (prv).
	Provider string `json:"prv,omitempty"`
	// IssuedAtMillis is iat in milliseconds (iatms), so that "log out
	// everywhere" can tell a session opened just before it from one opened
	// just after, in the same second; absent in Chainlit's tokens.
	IssuedAtMillis int64 `json:"iatms,omitempty"`
}

func (c *tokenClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt, nil }
func (c *tokenClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt, nil }
func (c *tokenClaims) GetNotBefore() (*jwt.NumericDate, error)      { return c.NotBefore, nil }
func (c *tokenClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *tokenClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *tokenClaims) GetAudience() (jwt.ClaimStrings, error)       { return c.Audience, nil }

// signingKey is one HMAC secret and the kid that names it in token headers.
type signingKey struct {
	id     string
	secret []byte
}

// keyID names a secret without revealing it: a short hash.
func keyID(secret []byte) string {
	sum := sha256.Sum256(append([]byte("chatauth kid "), secret...))
	return base64.RawURLEncoding.EncodeToString(sum[:6])
}

// keyring is what tokens are signed and checked with. It is replaced as a
// whole by SetKeys, together with the cache of tokens verified under it.
type keyring struct {
	current signingKey
	byID    map[string][]byte
	all     jwt.VerificationKeySet
	parser  *jwt.Parser
	fast    *fastVerifier
	cache   *tokenCache
}

func newKeyring(current []byte, previous [][]byte, opts []jwt.ParserOption, cacheSize int) *keyring {
	k := &keyring{
		current: signingKey{id: keyID(current), secret: current},
		byID:    make(map[string][]byte),
		cache:   newTokenCache(cacheSize),
		parser:  jwt.NewParser(opts...),
	}
	for _, s := range append([][]byte{current}, previous...) {
		k.byID[keyID(s)] = s
		k.all.Keys = append(k.all.Keys, s)
	}
	k.fast = newFastVerifier(k, opts)
	return k
}

// keyFor picks the verification key: the one named by kid, or, for tokens
// without kid (Chainlit's), every key in turn.
func (k *keyring) keyFor(t *jwt.Token) (any, error) {
	if err := checkHeaderSegment(t.Raw); err != nil {
		return nil, err
	}
	kid, ok := t.Header["kid"]
	if !ok {
		return k.all, nil
	}
	s, _ := kid.(string)
	if key, ok := k.byID[s]; ok {
		return key, nil
	}
	return nil, fmt.Errorf("unknown kid %q", s)
}

// SetKeys replaces the signing secret and the previous secrets still
// accepted, for key rotation: sign with current, verify with current and
// previous. Tokens verified before are forgotten, so a token signed with a
// removed key is refused from the next request on. As in New, current needs
// 32 bytes or more, and a previous secret may be shorter (not empty): it
// then only verifies old sessions, with a warning.
func (a *Auth) SetKeys(current []byte, previous ...[]byte) error {
	if len(current) < minSecretBytes {
		return fmt.Errorf("chatauth: secret is %d bytes, needs at least %d", len(current), minSecretBytes)
	}
	if err := checkPreviousSecrets(previous); err != nil {
		return fmt.Errorf("chatauth: %w", err)
	}
	warnShortSecrets(a.cfg.Logger, previous, a.cfg.SessionTimeout.String())
	a.keys.Store(newKeyring(current, previous, a.parserOptions, a.cfg.TokenCacheSize))
	return nil
}

// IssueToken signs a session token for u that expires after the session
// timeout. Apps use it to hand a token to a client that sends it back as
// "Authorization: Bearer", or to POST /auth/jwt.
func (a *Auth) IssueToken(u *User) (string, *Session, error) {
	now := a.now()
	return a.issueToken(u, grant{issued: now, expires: now.Add(a.cfg.SessionTimeout)})
}

// grant is what a new token says besides its user.
type grant struct {
	issued, expires time.Time
	absolute        time.Time // the session's absolute end; zero: expires
	id              string    // jti of the session being renewed; empty: new
	provider        string    // OAuth provider id, if any
}

// newGrant is the grant of a new session: it ends at absolute (zero: after
// the session timeout), or earlier at the idle timeout.
func (a *Auth) newGrant(absolute time.Time, provider string) grant {
	now := a.now()
	if absolute.IsZero() {
		absolute = now.Add(a.cfg.SessionTimeout)
	}
	return grant{issued: now, expires: a.idleEnd(now, absolute), absolute: absolute, provider: provider}
}

// idleEnd is when a token issued now ends: at the idle timeout, never past
// the session's absolute end.
func (a *Auth) idleEnd(now, absolute time.Time) time.Time {
	if a.cfg.IdleTimeout > 0 && now.Add(a.cfg.IdleTimeout).Before(absolute) {
		return now.Add(a.cfg.IdleTimeout)
	}
	return absolute
}

func (a *Auth) issueToken(u *User, g grant) (string, *Session, error) {
	if u == nil || u.Identifier == "" {
		return "", nil, errors.New("chatauth: user has no identifier")
	}
	iat, exp := g.issued.Truncate(time.Second), g.expires.Truncate(time.Second)
	abs := exp
	if !g.absolute.IsZero() {
		abs = g.absolute.Truncate(time.Second)
	}
	if g.id == "" {
		g.id = randomID()
	}
	c := tokenClaims{
		userJSON:  u.toJSON(),
		ExpiresAt: jwt.NewNumericDate(exp),
		IssuedAt:  jwt.NewNumericDate(iat),
		JTI:       g.id,
		Issuer:    a.cfg.Issuer,
		Provider:  g.provider,
	}
	issued := g.issued.Truncate(time.Millisecond)
	c.IssuedAtMillis = issued.UnixMilli()
	if abs.After(exp) {
		c.SessionExpires = jwt.NewNumericDate(abs)
	}
	if a.cfg.Audience != "" {
		c.Audience = jwt.ClaimStrings{a.cfg.Audience}
	}
	keys := a.keys.Load()
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, &c)
	t.Header["kid"] = keys.current.id
	signed, err := t.SignedString(keys.current.secret)
	if err != nil {
		return "", nil, fmt.Errorf("chatauth: signing token: %w", err)
	}
	user := c.userJSON.user()
	return signed, &Session{User: &user, ID: c.JTI, IssuedAt: issued, ExpiresAt: exp, AbsoluteExpiresAt: abs, Provider: g.provider}, nil
}

// VerifyToken checks a session token: signature with a configured key and
// algorithm, exp (required), iat, iss and aud when configured, and that the
// session was not revoked. Tokens seen before are answered from a bounded
// cache keyed by the exact token, which still checks exp and revocation.
func (a *Auth) VerifyToken(ctx context.Context, token string) (*Session, error) {
	if len(token) > MaxTokenBytes {
		return nil, ErrTokenTooLarge
	}
	keys := a.keys.Load()
	s, ok := keys.cache.get(token)
	if !ok {
		var err error
		if s, err = a.parseToken(keys, token); err != nil {
			return nil, err
		}
		keys.cache.put(token, s)
	}
	if !a.now().Before(s.ExpiresAt) {
		return nil, ErrExpired
	}
	revoked, err := a.cfg.Revocations.Revoked(ctx, s.ID, s.User.Identifier, s.IssuedAt)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if revoked {
		return nil, ErrRevoked
	}
	return s, nil
}

func (a *Auth) parseToken(keys *keyring, token string) (*Session, error) {
	var c tokenClaims
	if keys.fast.verify(token, &c) == nil {
		return a.sessionOf(token, &c)
	}
	c = tokenClaims{}
	if _, err := keys.parser.ParseWithClaims(token, &c, keys.keyFor); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, fmt.Errorf("%w: %w", ErrExpired, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return a.sessionOf(token, &c)
}

// sessionOf is the session of verified claims.
func (a *Auth) sessionOf(token string, c *tokenClaims) (*Session, error) {
	if c.Identifier == "" {
		return nil, fmt.Errorf("%w: no identifier claim", ErrInvalidToken)
	}
	s := &Session{ID: c.JTI, ExpiresAt: c.ExpiresAt.Time, AbsoluteExpiresAt: c.ExpiresAt.Time, Provider: c.Provider}
	if c.IssuedAt != nil {
		s.IssuedAt = c.IssuedAt.Time
		// The milliseconds count only when they agree with iat.
		if ms := time.UnixMilli(c.IssuedAtMillis); c.IssuedAtMillis > 0 && ms.Truncate(time.Second).Equal(s.IssuedAt) {
			s.IssuedAt = ms
		}
	}
	if c.SessionExpires != nil && c.SessionExpires.After(s.ExpiresAt) {
		s.AbsoluteExpiresAt = c.SessionExpires.Time
	}
	if s.ID == "" {
		// Chainlit's tokens have no jti: name them by their hash, so that
		// logout can still revoke them.
		sum := sha256.Sum256([]byte(token))
		s.ID = "sha256:" + hex.EncodeToString(sum[:16])
	}
	u := c.userJSON.user()
	s.User = &u
	return s, nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// tokenCache remembers verified tokens, keyed by their exact text. It only
// saves the signature check and JSON decoding: exp and revocation are checked
// on every request.
type tokenCache struct {
	mu      sync.RWMutex
	entries map[string]*Session
	max     int
}

func newTokenCache(max int) *tokenCache {
	if max < 0 {
		return nil
	}
	if max == 0 {
		max = 10000
	}
	return &tokenCache{entries: make(map[string]*Session), max: max}
}

func (c *tokenCache) get(token string) (*Session, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	s, ok := c.entries[token]
	c.mu.RUnlock()
	return s, ok
}

func (c *tokenCache) put(token string, s *Session) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		// Drop an arbitrary quarter: map order is random enough to keep
		// this fair, and it costs nothing on the read path.
		n := 0
		for k := range c.entries {
			delete(c.entries, k)
			if n++; n >= c.max/4+1 {
				break
			}
		}
	}
	c.entries[token] = s
}
