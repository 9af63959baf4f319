package chatauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// RevocationStore remembers revoked sessions until they would have expired
// anyway. Every authenticated request asks it, so Revoked must be cheap.
// The default is in memory (NewMemoryRevocationStore); redisstore has one
// shared by several instances.
type RevocationStore interface {
	// Revoke records that the session with this jti is revoked until expires.
	Revoke(ctx context.Context, jti string, expires time.Time) error
	// RevokeUser revokes every session of the user issued before the given
	// time ("log out everywhere"). The record must outlive the longest session.
	RevokeUser(ctx context.Context, identifier string, before time.Time) error
	// Revoked reports whether the session jti, issued to identifier at
	// issuedAt, has been revoked by either method.
	Revoked(ctx context.Context, jti, identifier string, issuedAt time.Time) (bool, error)
}

// Throttle counts attempts per key in a window. chatauth uses it for
// password logins, with one key per username and one per client address.
type Throttle interface {
	// Hit records an attempt for key. When the attempts in the current
	// window exceed limit, it returns how long to wait before trying again,
	// and a positive wait means the attempt is refused.
	Hit(ctx context.Context, key string, limit int, window time.Duration) (retryAfter time.Duration, err error)
	// Reset forgets the attempts for key, after a successful login.
	Reset(ctx context.Context, key string) error
	// Forgive takes back one attempt counted for key, because it succeeded:
	// the limit is on failures, so a busy office behind one address is not
	// locked out by its own successful logins.
	Forgive(ctx context.Context, key string) error
}

// ErrStoreUnavailable wraps errors of a RevocationStore or Throttle that
// could not be reached; the request is answered 503.
var ErrStoreUnavailable = errors.New("chatauth: session store unavailable")

// MemoryRevocationStore is the in-process RevocationStore: bounded, and it
// forgets a revoked jti once the token would have expired.
type MemoryRevocationStore struct {
	mu        sync.RWMutex
	revoked   map[string]time.Time // jti -> expires
	notBefore map[string]time.Time // identifier -> sessions issued before are revoked
	max       int
	now       func() time.Time
	keepUsers time.Duration
}

// NewMemoryRevocationStore returns a MemoryRevocationStore holding at most
// max revoked sessions (0 means 100000). When full, it drops expired entries
// first, then the entries closest to expiry.
func NewMemoryRevocationStore(max int) *MemoryRevocationStore {
	if max <= 0 {
		max = 100000
	}
	return &MemoryRevocationStore{
		revoked:   make(map[string]time.Time),
		notBefore: make(map[string]time.Time),
		max:       max,
		now:       time.Now,
		keepUsers: 366 * 24 * time.Hour,
	}
}

// Revoke implements RevocationStore.
func (s *MemoryRevocationStore) Revoke(_ context.Context, jti string, expires time.Time) error {
	now := s.now()
	if !expires.After(now) {
		return nil // already dead
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.revoked) >= s.max {
		s.evictLocked(now)
	}
	s.revoked[jti] = expires
	return nil
}

// evictLocked drops expired entries, and if that frees nothing, the half of
// the entries closest to expiry (they are the least useful to keep).
func (s *MemoryRevocationStore) evictLocked(now time.Time) {
	for jti, exp := range s.revoked {
		if !exp.After(now) {
			delete(s.revoked, jti)
		}
	}
	if len(s.revoked) < s.max {
		return
	}
	var total time.Duration
	for _, exp := range s.revoked {
		total += exp.Sub(now) / time.Duration(len(s.revoked))
	}
	cut := now.Add(total)
	for jti, exp := range s.revoked {
		if exp.Before(cut) {
			delete(s.revoked, jti)
		}
	}
	if len(s.revoked) >= s.max { // all equal: drop arbitrary half
		dropSome(s.revoked, s.max/2)
	}
}

// dropSome deletes n arbitrary entries of m (Go's map order), the last
// resort of a bounded store still full after dropping what had expired.
func dropSome[K comparable, V any](m map[K]V, n int) {
	for k := range m {
		if n <= 0 {
			return
		}
		delete(m, k)
		n--
	}
}

// RevokeUser implements RevocationStore.
func (s *MemoryRevocationStore) RevokeUser(_ context.Context, identifier string, before time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.notBefore[identifier]; !ok || before.After(prev) {
		s.notBefore[identifier] = before
	}
	return nil
}

// Revoked implements RevocationStore.
func (s *MemoryRevocationStore) Revoked(_ context.Context, jti, identifier string, issuedAt time.Time) (bool, error) {
	s.mu.RLock()
	exp, ok := s.revoked[jti]
	nb, userRevoked := s.notBefore[identifier]
	s.mu.RUnlock()
	if ok && exp.After(s.now()) {
		return true, nil
	}
	return userRevoked && issuedAt.Before(nb), nil
}

// MemoryThrottle is the in-process Throttle: fixed windows per key, bounded
// in size.
type MemoryThrottle struct {
	mu      sync.Mutex
	windows map[string]*window
	max     int
	now     func() time.Time
}

type window struct {
	start time.Time
	end   time.Time
	count int
}

// NewMemoryThrottle returns a MemoryThrottle tracking at most max keys
// (0 means 100000); when full, expired windows are dropped first.
func NewMemoryThrottle(max int) *MemoryThrottle {
	if max <= 0 {
		max = 100000
	}
	return &MemoryThrottle{windows: make(map[string]*window), max: max, now: time.Now}
}

// Hit implements Throttle.
func (t *MemoryThrottle) Hit(_ context.Context, key string, limit int, win time.Duration) (time.Duration, error) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	w, ok := t.windows[key]
	if !ok || !now.Before(w.end) {
		if len(t.windows) >= t.max {
			t.evictLocked(now)
		}
		w = &window{start: now, end: now.Add(win)}
		t.windows[key] = w
	}
	w.count++
	if w.count > limit {
		return w.end.Sub(now), nil
	}
	return 0, nil
}

func (t *MemoryThrottle) evictLocked(now time.Time) {
	for k, w := range t.windows {
		if !now.Before(w.end) {
			delete(t.windows, k)
		}
	}
	// Still full: forget an arbitrary half rather than grow without bound.
	if len(t.windows) >= t.max {
		dropSome(t.windows, t.max/2)
	}
}

// Forgive implements Throttle.
func (t *MemoryThrottle) Forgive(_ context.Context, key string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if w, ok := t.windows[key]; ok && w.count > 0 {
		w.count--
	}
	return nil
}

// Reset implements Throttle.
func (t *MemoryThrottle) Reset(_ context.Context, key string) error {
	t.mu.Lock()
	delete(t.windows, key)
	t.mu.Unlock()
	return nil
}

// TokenStore keeps the provider tokens (access and refresh) of OAuth logins,
// keyed by user identifier and provider id, for apps that call the
// provider's API after login. They never travel in the session cookie.
type TokenStore interface {
	// SaveToken stores tok for the user and provider, replacing any other.
	SaveToken(ctx context.Context, identifier, provider string, tok *oauth2.Token) error
	// Token returns the stored token, or an error wrapping ErrNoToken.
	Token(ctx context.Context, identifier, provider string) (*oauth2.Token, error)
	// DeleteToken forgets the token; deleting a missing one is not an error.
	DeleteToken(ctx context.Context, identifier, provider string) error
}

// ErrNoToken is returned by TokenStore.Token when nothing is stored.
var ErrNoToken = errors.New("chatauth: no provider token stored")

// MemoryTokenStore is the in-process TokenStore.
type MemoryTokenStore struct {
	mu     sync.Mutex
	tokens map[[2]string]oauth2.Token
}

// NewMemoryTokenStore returns an empty MemoryTokenStore.
func NewMemoryTokenStore() *MemoryTokenStore {
	return &MemoryTokenStore{tokens: make(map[[2]string]oauth2.Token)}
}

// SaveToken implements TokenStore.
func (s *MemoryTokenStore) SaveToken(_ context.Context, identifier, provider string, tok *oauth2.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[[2]string{identifier, provider}] = *tok
	return nil
}

// Token implements TokenStore.
func (s *MemoryTokenStore) Token(_ context.Context, identifier, provider string) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ok := s.tokens[[2]string{identifier, provider}]
	if !ok {
		return nil, fmt.Errorf("%w for %q at %q", ErrNoToken, identifier, provider)
	}
	return &tok, nil
}

// DeleteToken implements TokenStore.
func (s *MemoryTokenStore) DeleteToken(_ context.Context, identifier, provider string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, [2]string{identifier, provider})
	return nil
}
