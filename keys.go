package chatauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/chatauth/chatauth/internal/seal"
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
	// ErrRevoked means the session was ended by logout or EndUserSessions.
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
	// SessionID is the session (family) id (sid, the OpenID name for a
	// session id), kept by every token made from another of the session;
	// absent in older tokens (the session is then the jti) and in
	// Chainlit's, which reads tokens with User(**claims), ignoring it.
	SessionID string `json:"sid,omitempty"`
	// HeaderHash names the header values a header login started the
	// session with (hdr, see headerHash), so that the middleware can tell
	// whether a later request carries the same ones without asking the
	// hook again.
	HeaderHash string `json:"hdr,omitempty"`
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

// keyring holds every key derived from the secrets: the session signing
// and verification keys, the OAuth state cookie keys and the header hash
// key. It is replaced as a whole by SetSecrets, together with the cache of
// tokens verified under it, so that no key outlives a rotation.
type keyring struct {
	current signingKey
	byID    map[string][]byte
	all     jwt.VerificationKeySet
	parser  *jwt.Parser
	fast    *fastVerifier
	cache   *tokenCache
	// headerKey keys the header hashes of header logins (headerHash),
	// computed with the *headerMAC values of headerMACs.
	headerKey  []byte
	headerMACs sync.Pool
	// stateKeys seal the OAuth state cookie: [0], from the current
	// secret, seals; all open. Short previous secrets only verify old
	// session tokens and derive none.
	stateKeys [][]byte
}

// Purposes of the keys derived from the secrets (seal.DeriveKey).
const (
	purposeHeaderHash = "header hash"
	purposeOAuthState = "oauth state"
)

func newKeyring(current []byte, previous [][]byte, opts []jwt.ParserOption, cacheSize, cacheBytes int) *keyring {
	k := &keyring{
		current: signingKey{id: keyID(current), secret: current},
		byID:    make(map[string][]byte),
		cache:   newTokenCache(cacheSize, cacheBytes),
		parser:  jwt.NewParser(opts...),
		// Derived from the current secret: every instance computes the
		// same hashes, and a rotation re-checks header sessions once.
		headerKey: seal.DeriveKey(current, purposeHeaderHash),
		stateKeys: [][]byte{seal.DeriveKey(current, purposeOAuthState)},
	}
	for _, s := range longSecrets(previous) {
		k.stateKeys = append(k.stateKeys, seal.DeriveKey(s, purposeOAuthState))
	}
	for _, s := range append([][]byte{current}, previous...) {
		k.byID[keyID(s)] = s
		k.all.Keys = append(k.all.Keys, s)
	}
	k.fast = newFastVerifier(k, opts)
	k.headerMACs.New = func() any { return &headerMAC{mac: hmac.New(sha256.New, k.headerKey)} }
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

// SetSecrets replaces the signing secret and the previous secrets still
// accepted, for key rotation: sign with current, verify with current and
// previous. Every key derived from the secrets (session signing keys, the
// OAuth state cookie keys, the header hash key) is replaced at once, and
// tokens verified before are forgotten, so a token signed with a removed
// key is refused from the next request on, and a state cookie sealed under
// a removed secret no longer opens. Tokens chatauth signs name their key
// in a kid header derived from the secret (a short hash that reveals
// nothing of it); tokens without kid, as Chainlit signs them, are tried
// with every key. The secrets are checked as New checks Config.Secret and
// Config.PreviousSecrets: current needs 32 bytes or more, and a previous
// secret may be shorter (not empty): it then only verifies old sessions,
// with a warning. On an error nothing changes. The state directory of
// Config.Stores.StateDir seals the provider tokens it writes from then on
// with the new secret; stores the app opened itself (OpenStateDir,
// redisstore) keep the secrets they were opened with until reopened.
func (a *Auth) SetSecrets(current []byte, previous ...[]byte) error {
	if !a.madeByNew() {
		return errNotMadeByNew
	}
	if err := checkSecrets(current, previous); err != nil {
		return fmt.Errorf("chatauth: %w", err)
	}
	a.setSecrets(current, previous)
	return nil
}

// setSecrets swaps in the keyring of checked secrets (New, SetSecrets).
func (a *Auth) setSecrets(current []byte, previous [][]byte) {
	warnShortSecrets(a.cfg.Logger, previous, a.cfg.SessionTimeout.String())
	a.keys.Store(newKeyring(current, previous, a.parserOptions, a.cfg.TokenCacheSize, a.cfg.TokenCacheBytes))
	if a.stateDir != nil {
		a.stateDir.setSecrets(current, previous)
	}
}

// IssueToken signs a session token for u that expires after the session
// timeout, or after IdleTimeout when that is set: the same token a login
// would put in the cookie. Apps use it to hand a token to a client that
// sends it back as "Authorization: Bearer", or to POST /auth/jwt. Bearer
// tokens are never renewed, so with IdleTimeout such a client asks for a
// new token before the old one ends (or trades it at /auth/jwt for a
// cookie, which is renewed up to SessionTimeout). A user whose token would
// not fit in MaxCookieChunks cookies is refused with an error wrapping
// ErrSessionTooLarge, as at login: no token is issued that this Auth would
// refuse to read or to set as a cookie.
func (a *Auth) IssueToken(u *User) (string, *Session, error) {
	if !a.madeByNew() {
		return "", nil, errNotMadeByNew
	}
	return a.issueToken(u, a.newGrant(zeroTime, ""))
}

// grant is what a new token says besides its user.
type grant struct {
	issued, expires time.Time
	absolute        time.Time // the session's absolute end; zero: expires
	id              string    // jti of the token being renewed; empty: new
	family          string    // session id the token joins; empty: a new session
	provider        string    // OAuth provider id, if any
	headerHash      string    // header login's header hash, if any
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

// issueToken signs the token of every path that makes one (login,
// StartSession, IssueToken, renewal, /auth/jwt), so that its two rules hold
// everywhere: a session lasts at least its configured time and never more
// than SessionTimeout from now (see sessionEnds), and the token fits the
// cookie budget (see checkTokenSize).
func (a *Auth) issueToken(u *User, g grant) (string, *Session, error) {
	if u == nil || u.Identifier == "" {
		return "", nil, errors.New("chatauth: user has no identifier")
	}
	// Never before the last EndUserSessions cut of this Auth: a session
	// started after EndUserSessions returns is never revoked by it.
	issued := a.cuts.issue(g.issued)
	iat := issued.Truncate(time.Second)
	exp, abs := a.sessionEnds(g)
	if g.id == "" {
		g.id = randomToken(16)
	}
	if g.family == "" {
		// Its own id, never the jti: revoking one token (a login that
		// replaces it) must not revoke its whole session.
		g.family = randomToken(16)
	}
	c := tokenClaims{
		userJSON:  u.toJSON(),
		ExpiresAt: jwt.NewNumericDate(exp),
		IssuedAt:  jwt.NewNumericDate(iat),
		JTI:       g.id,
		Issuer:    a.cfg.Issuer,
		Provider:  g.provider,
	}
	c.HeaderHash = g.headerHash
	c.IssuedAtMillis = issued.UnixMilli()
	c.SessionID = g.family
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
	if err := a.checkTokenSize(u, signed); err != nil {
		return "", nil, err
	}
	user := c.userJSON.user()
	s := &Session{User: &user, ID: g.family, TokenID: c.JTI, IssuedAt: issued, ExpiresAt: exp,
		AbsoluteExpiresAt: abs, Provider: g.provider}
	s.headerHash = g.headerHash
	return signed, s, nil
}

// VerifyToken checks a session token: signature with a configured key and
// algorithm, exp (required), iat, iss and aud when configured, and that the
// session was not revoked. Tokens seen before are answered from a bounded
// cache keyed by the exact token, which still checks exp and revocation.
// The session returned is the caller's own: changing it (its user's
// Metadata included) changes no other request's.
func (a *Auth) VerifyToken(ctx context.Context, token string) (*Session, error) {
	if !a.madeByNew() {
		return nil, errNotMadeByNew
	}
	ctx = orBackground(ctx)
	if len(token) > MaxTokenBytes {
		return nil, ErrTokenTooLarge
	}
	keys := a.keys.Load()
	shared, ok := keys.cache.get(token)
	if !ok {
		var err error
		if shared, err = a.parseToken(keys, token); err != nil {
			return nil, err
		}
		keys.cache.put(token, shared)
	}
	// The cached session is never handed out: each caller (each request)
	// gets its own copy, Metadata included, to change as it likes.
	s := shared.clone()
	if !a.now().Before(s.ExpiresAt) {
		return nil, ErrExpired
	}
	revoked, err := a.cfg.Revocations.Revoked(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if revoked {
		return nil, ErrRevoked
	}
	return s, nil
}

// sessionEnds is when the token of grant g expires and when its session
// ends for good. Both are rounded up to the second (JWT times are whole
// seconds): rounding down would end a 3 s session after 2.01 s. Neither is
// ever later than SessionTimeout after g.issued, whatever end a presented
// token or a renewed session asked for, so that a token with an exp of
// 2^62 gives a session of SessionTimeout, not of forever.
func (a *Auth) sessionEnds(g grant) (exp, absolute time.Time) {
	absolute = g.absolute
	if absolute.IsZero() {
		absolute = g.expires
	}
	limit := ceilSecond(g.issued.Add(a.cfg.SessionTimeout))
	absolute = earlier(ceilSecond(absolute), limit)
	exp = earlier(ceilSecond(g.expires), absolute)
	return exp, absolute
}

func earlier(t, u time.Time) time.Time {
	if u.Before(t) {
		return u
	}
	return t
}

// ceilSecond rounds t up to a whole second.
func ceilSecond(t time.Time) time.Time {
	if down := t.Truncate(time.Second); down.Before(t) {
		return down.Add(time.Second)
	}
	return t
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
	s := &Session{TokenID: c.JTI, ExpiresAt: c.ExpiresAt.Time, AbsoluteExpiresAt: c.ExpiresAt.Time, Provider: c.Provider}
	s.headerHash = c.HeaderHash
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
	if s.TokenID == "" {
		// Chainlit's tokens have no jti: name them by their hash, so that
		// logout can still revoke them.
		s.TokenID = "sha256:" + hashHex(token)
	}
	s.ID = c.SessionID
	if s.ID == "" {
		s.ID = s.TokenID // the first token of its session
	}
	u := c.userJSON.user()
	s.User = &u
	return s, nil
}

// tokenCache remembers verified tokens, keyed by their exact text. It only
// saves the signature check and JSON decoding: exp and revocation are checked
// on every request. It is bounded in entries and in bytes (each entry is
// charged its token and an estimate of its decoded session), because a
// logged-in client can mint distinct valid tokens (POST /auth/jwt) at will.
type tokenCache struct {
	mu       sync.RWMutex
	entries  map[string]cachedSession
	max      int // entries
	maxBytes int
	bytes    int // charged to the entries present
}

// cachedSession is a cache entry and what it is charged.
type cachedSession struct {
	s    *Session
	cost int
}

// defaultTokenCacheBytes is the default byte bound of the token cache.
const defaultTokenCacheBytes = 16 << 20

func newTokenCache(max, maxBytes int) *tokenCache {
	if max < 0 {
		return nil
	}
	if max == 0 {
		max = 10000
	}
	if maxBytes <= 0 {
		maxBytes = defaultTokenCacheBytes
	}
	return &tokenCache{entries: make(map[string]cachedSession), max: max, maxBytes: maxBytes}
}

func (c *tokenCache) get(token string) (*Session, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.entries[token]
	c.mu.RUnlock()
	return e.s, ok
}

func (c *tokenCache) put(token string, s *Session) {
	if c == nil {
		return
	}
	cost := len(token) + sessionBytes(s)
	if cost > c.maxBytes/16 {
		return // a few huge tokens must not flush everyone else's
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[token]; ok {
		c.bytes -= old.cost
	} else if len(c.entries) >= c.max || c.bytes+cost > c.maxBytes {
		makeRoom(c.entries, nil, func() bool {
			return len(c.entries) <= c.max-c.max/4-1 && c.bytes+cost <= c.maxBytes-c.maxBytes/4
		}, func(k string, e cachedSession) {
			delete(c.entries, k)
			c.bytes -= e.cost
		})
	}
	c.entries[token] = cachedSession{s: s, cost: cost}
	c.bytes += cost
}

// makeRoom is the one eviction of the bounded maps (the verified-token
// cache, renewals, remembered header sessions), run when one is full:
// entries stale says have ended go first, then arbitrary ones (map order
// is random enough to keep this fair, and it costs nothing on the read
// path), until roomy says a quarter of the room is free, so that a flood
// of new entries costs one sweep per quarter, not one per entry. remove
// deletes an entry and takes back what it was charged.
func makeRoom[K comparable, V any](m map[K]V, stale func(V) bool, roomy func() bool, remove func(K, V)) {
	if stale != nil {
		for k, v := range m {
			if stale(v) {
				remove(k, v)
			}
		}
	}
	for k, v := range m {
		if roomy() {
			return
		}
		remove(k, v)
	}
}

// Estimated sizes, in bytes, of what a cached session holds: the fixed
// part (map entry, Session, User, strings' headers) and each decoded JSON
// value of the metadata (an interface, plus its string or map entry).
const (
	sessionOverhead = 320
	jsonValueBytes  = 48
)

// sessionBytes estimates the memory s holds, its metadata included, for
// the token cache's byte bound. It errs on the high side.
func sessionBytes(s *Session) int {
	n := sessionOverhead + len(s.ID) + len(s.Provider)
	if u := s.User; u != nil {
		n += len(u.ID) + len(u.Identifier) + len(u.DisplayName) + jsonBytes(u.Metadata)
	}
	return n
}

// jsonBytes estimates the memory of a value decoded by encoding/json.
func jsonBytes(v any) int {
	switch v := v.(type) {
	case string:
		return jsonValueBytes + len(v)
	case map[string]any:
		n := jsonValueBytes
		for k, e := range v {
			n += jsonValueBytes + len(k) + jsonBytes(e)
		}
		return n
	case []any:
		n := jsonValueBytes
		for _, e := range v {
			n += jsonBytes(e)
		}
		return n
	case fmt.Stringer: // json.Number and the like
		return jsonValueBytes + len(v.String())
	}
	return jsonValueBytes
}

// The fast path verifies the common token, HS256 with a plain header, in
// the same steps as golang-jwt but without its per-token overhead: the
// header is decoded once per distinct header text of a verified token
// (every token of a key has the same one), HMACs are pooled, and nothing
// is split into a slice.
// The claims are checked by golang-jwt's own Validator with the parser's
// options, so both paths accept exactly the same tokens; anything unusual
// (another algorithm, extra header fields) goes to golang-jwt's parser.

// errNotFast sends a token to the full parser.
var errNotFast = errors.New("not a fast-path token")

// strictBase64 decodes segments strictly, as golang-jwt does with
// WithStrictDecoding: one spelling per token, so that a revoked token
// named by its hash (Chainlit's, without jti) is not accepted again with
// other trailing bits in its signature.
var strictBase64 = base64.RawURLEncoding.Strict()

// fastHeader is a decoded header the fast path accepts.
type fastHeader struct {
	key []byte // the secret the kid names; nil: try every key
	ok  bool   // alg HS256 and nothing but typ and kid besides
}

// maxHeaderSegment bounds the header segment the fast path decodes: ours
// ({"alg","kid","typ"}) is 60 characters and Chainlit's 36; a longer one
// (whitespace, extra fields) goes to golang-jwt, which costs more but keeps
// nothing.
const maxHeaderSegment = 256

// maxKnownHeaders bounds the cache of header segments. Only the headers of
// tokens whose signature verified are kept, and a holder of the secret
// writes one or two (chatauth's with its kid, Chainlit's without).
const maxKnownHeaders = 16

// fastVerifier belongs to one keyring.
type fastVerifier struct {
	validator *jwt.Validator
	keys      *keyring
	headers   sync.Map // header segment -> fastHeader, of verified tokens only
	headersMu sync.Mutex
	nHeaders  int      // entries in headers, under headersMu
	macs      sync.Map // *byte of the key -> *sync.Pool of hash.Hash
}

func newFastVerifier(k *keyring, opts []jwt.ParserOption) *fastVerifier {
	return &fastVerifier{validator: jwt.NewValidator(opts...), keys: k}
}

// verify checks token into c, or returns errNotFast.
func (f *fastVerifier) verify(token string, c *tokenClaims) error {
	head, rest, ok := strings.Cut(token, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.IndexByte(sig, '.') >= 0 || len(sig) != 43 || len(head) > maxHeaderSegment {
		return errNotFast
	}
	h, known := f.knownHeader(head)
	if !known {
		h = f.decodeHeader(head)
	}
	if !h.ok {
		return errNotFast
	}
	var want [32]byte
	if n, err := strictBase64.Decode(want[:], []byte(sig)); err != nil || n != 32 {
		return errNotFast
	}
	signed := token[:len(head)+1+len(payload)]
	if !f.signatureMatches(h.key, signed, want[:]) {
		return errNotFast // let golang-jwt say exactly why
	}
	if !known {
		f.rememberHeader(head, h)
	}
	raw, err := strictBase64.DecodeString(payload)
	if err != nil {
		return errNotFast
	}
	if err := c.UnmarshalJSON(raw); err != nil {
		return errNotFast
	}
	if err := f.validator.Validate(c); err != nil {
		return errNotFast
	}
	return nil
}

// knownHeader returns the verdict on a header segment seen before on a
// token that verified.
func (f *fastVerifier) knownHeader(seg string) (fastHeader, bool) {
	if v, ok := f.headers.Load(seg); ok {
		return v.(fastHeader), true
	}
	return fastHeader{}, false
}

// decodeHeader decides whether the fast path takes a header segment.
func (f *fastVerifier) decodeHeader(seg string) fastHeader {
	out := fastHeader{}
	raw, err := strictBase64.DecodeString(seg)
	if err == nil {
		// Names exactly as golang-jwt's header map holds them; duplicates
		// and crit go to the full parser, whose key function refuses them.
		h, err := parseJOSEHeader(raw)
		out.ok = err == nil && h.alg == jwt.SigningMethodHS256.Alg() && !h.crit && h.others == 0 &&
			(h.typ == nil || strings.EqualFold(*h.typ, "JWT"))
		if out.ok && h.kid != nil {
			out.key = f.keys.byID[*h.kid]
			out.ok = out.key != nil
		}
	}
	return out
}

// rememberHeader keeps the verdict on the header of a token whose
// signature verified, so that the next token of the same key skips the
// decoding. A forged token never gets here, so request input cannot grow
// the cache; the bound is for a secret holder writing unusual headers.
func (f *fastVerifier) rememberHeader(seg string, h fastHeader) {
	f.headersMu.Lock()
	defer f.headersMu.Unlock()
	if f.nHeaders >= maxKnownHeaders {
		return
	}
	if _, loaded := f.headers.LoadOrStore(seg, h); !loaded {
		f.nHeaders++
	}
}

// signatureMatches computes HMAC-SHA256 over signed with key (or each key
// of the ring when the header names none) and compares in constant time.
func (f *fastVerifier) signatureMatches(key []byte, signed string, want []byte) bool {
	if key != nil {
		return f.mac(key, signed, want)
	}
	for _, k := range f.keys.all.Keys {
		if f.mac(k.([]byte), signed, want) {
			return true
		}
	}
	return false
}

func (f *fastVerifier) mac(key []byte, signed string, want []byte) bool {
	p, _ := f.macs.LoadOrStore(&key[0], &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }})
	pool := p.(*sync.Pool)
	m := pool.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(signed))
	var sum [32]byte
	ok := hmac.Equal(m.Sum(sum[:0]), want)
	pool.Put(m)
	return ok
}

// randomToken returns n random bytes in base64url: ids (16 bytes: token,
// session and request ids), OAuth states and nonces.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashHex names s by a hash: the first 16 bytes of its SHA-256, in hex
// (a Chainlit token without jti, a used OAuth state, a long username).
func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}
