package redisstore

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatauth/chatauth"
)

// notRevokedCache remembers sessions Redis said were not revoked, each
// until a fixed time. Only "not revoked" is cached: a revoked answer always
// comes from Redis.
//
// An entry is a 64-bit keyed hash (hash/maphash, a random key per cache)
// of the token id, with hashes of the session id and the identifier and
// two times: the same few bytes whatever the ids' lengths, so that max
// entries bound the bytes too (cacheEntryBytes). An entry answers only for
// a session whose three hashes and issue time all match it; a collision
// of all three, which no one can aim for without the key, is what a wrong
// answer would take.
type notRevokedCache struct {
	ttl     time.Duration
	max     int
	seed    maphash.Seed
	mu      sync.RWMutex
	entries map[uint64]notRevoked // hash of the token id
	// gen counts revocations and flushes, so that an answer Redis gave
	// before one of them is not cached after it (see put).
	gen atomic.Uint64
}

// notRevoked is one cached answer: 32 bytes, plus the key.
type notRevoked struct {
	session  uint64 // hash of the session id
	user     uint64 // hash of the identifier
	issuedAt int64  // the token's iat, Unix ns
	until    int64  // trusted until, Unix ns
}

// cacheEntryBytes bounds what one entry costs, the map's own overhead
// included: 60 to 100 bytes measured, depending on how full the map's
// table is (TestNotRevokedCacheBounded100k).
const cacheEntryBytes = 128

func newNotRevokedCache(ttl time.Duration, max int) *notRevokedCache {
	return &notRevokedCache{ttl: ttl, max: max, seed: maphash.MakeSeed(), entries: make(map[uint64]notRevoked)}
}

func (c *notRevokedCache) hash(s string) uint64 { return maphash.String(c.seed, s) }

// notRevoked reports whether a fresh "not revoked" answer is cached for
// the session.
func (c *notRevokedCache) notRevoked(s *chatauth.Session, identifier string, now time.Time) bool {
	key := c.hash(s.TokenID)
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	return ok && now.UnixNano() < e.until && e.issuedAt == s.IssuedAt.UnixNano() &&
		e.session == c.hash(s.ID) && e.user == c.hash(identifier)
}

// generation is read before asking Redis and handed back to put.
func (c *notRevokedCache) generation() uint64 { return c.gen.Load() }

// put caches a "not revoked" answer to a question asked at asked: the
// answer may describe any moment after that, so it is trusted until
// asked + ttl and never longer. It is dropped when a revocation or flush
// reached this cache since the question (gen changed): the answer may
// predate it.
func (c *notRevokedCache) put(s *chatauth.Session, identifier string, asked time.Time, gen uint64) {
	key := c.hash(s.TokenID)
	e := notRevoked{session: c.hash(s.ID), user: c.hash(identifier), issuedAt: s.IssuedAt.UnixNano(),
		until: asked.Add(c.ttl).UnixNano()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		c.evictLocked(asked.UnixNano())
	}
	c.entries[key] = e
}

// evictLocked keeps the fresh entries, and if there are too many, an
// arbitrary three quarters of them: map order is random enough, and it
// costs the read path nothing. They move to a new map, so that the old
// one's deleted slots do not make it grow past its bound.
func (c *notRevokedCache) evictLocked(now int64) {
	keep := make(map[uint64]notRevoked, c.max)
	for k, e := range c.entries {
		if now < e.until && len(keep) < c.max-c.max/4 {
			keep[k] = e
		}
	}
	c.entries = keep
}

// forget drops the entries of a revoked token or session id. A session id
// names every token of the session: it walks the whole cache, which is
// bounded, for an operation as rare as a logout (BenchmarkCacheForget).
func (c *notRevokedCache) forget(id string) {
	h := c.hash(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	delete(c.entries, h)
	for k, e := range c.entries {
		if e.session == h {
			delete(c.entries, k)
		}
	}
}

// forgetUser drops every entry of a user whose sessions were cut.
func (c *notRevokedCache) forgetUser(identifier string) {
	h := c.hash(identifier)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	for k, e := range c.entries {
		if e.user == h {
			delete(c.entries, k)
		}
	}
}

// flush drops every entry, when announcements may have been missed.
func (c *notRevokedCache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	clear(c.entries)
}

// len is the number of entries, stale ones included.
func (c *notRevokedCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
