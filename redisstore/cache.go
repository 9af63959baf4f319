package redisstore

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatauth/chatauth"
)

// notRevokedCache remembers sessions Redis said were not revoked, keyed by
// token id, each until a fixed time. Only "not revoked" is cached: a
// revoked answer always comes from Redis.
type notRevokedCache struct {
	ttl     time.Duration
	max     int
	mu      sync.RWMutex
	entries map[string]notRevoked
	// gen counts local revocations, so that an answer Redis gave before
	// one of them is not cached after it (see put).
	gen atomic.Uint64
}

// notRevoked is one cached answer. The session id, identifier and iat are
// kept so that an entry only answers for the session it was made for, and
// so that revoking a session id finds every token of it.
type notRevoked struct {
	sessionID  string
	identifier string
	issuedAt   time.Time
	until      time.Time
}

func newNotRevokedCache(ttl time.Duration, max int) *notRevokedCache {
	return &notRevokedCache{ttl: ttl, max: max, entries: make(map[string]notRevoked)}
}

// notRevoked reports whether a fresh "not revoked" answer is cached for
// the session.
func (c *notRevokedCache) notRevoked(s *chatauth.Session, identifier string, now time.Time) bool {
	c.mu.RLock()
	e, ok := c.entries[s.TokenID]
	c.mu.RUnlock()
	return ok && now.Before(e.until) && e.sessionID == s.ID && e.identifier == identifier && e.issuedAt.Equal(s.IssuedAt)
}

// generation is read before asking Redis and handed back to put.
func (c *notRevokedCache) generation() uint64 { return c.gen.Load() }

// put caches a "not revoked" answer to a question asked at asked: the
// answer may describe any moment after that, so it is trusted until
// asked + ttl and never longer. It is dropped when a revocation went
// through this Store since the question (gen changed): the answer may
// predate it.
func (c *notRevokedCache) put(s *chatauth.Session, identifier string, asked time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if _, ok := c.entries[s.TokenID]; !ok && len(c.entries) >= c.max {
		c.evictLocked(asked)
	}
	c.entries[s.TokenID] = notRevoked{sessionID: s.ID, identifier: identifier, issuedAt: s.IssuedAt, until: asked.Add(c.ttl)}
}

// evictLocked drops stale entries, and if that frees nothing, an arbitrary
// quarter: map order is random enough, and it costs the read path nothing.
func (c *notRevokedCache) evictLocked(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.until) {
			delete(c.entries, k)
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.max-c.max/4 {
			break
		}
		delete(c.entries, k)
	}
}

// forget drops the entries of a token or session id revoked through this
// Store. A session id names every token of the session: it walks the
// whole cache, which is bounded, for an operation as rare as a logout.
func (c *notRevokedCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	delete(c.entries, id)
	for k, e := range c.entries {
		if e.sessionID == id {
			delete(c.entries, k)
		}
	}
}

// forgetUser drops every entry of a user revoked through this Store.
func (c *notRevokedCache) forgetUser(identifier string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	for k, e := range c.entries {
		if e.identifier == identifier {
			delete(c.entries, k)
		}
	}
}

// len is the number of entries, stale ones included.
func (c *notRevokedCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
