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
// answer would take. The entries sit in a slice, indexed by a map, so
// that dropping a session or a user's entries (an announcement) walks
// contiguous memory.
type notRevokedCache struct {
	ttl     time.Duration
	max     int
	seed    maphash.Seed
	mu      sync.RWMutex
	entries []notRevoked
	index   map[uint64]int // hash of the token id -> its entry
	// gen counts revocations and flushes, so that an answer Redis gave
	// before one of them is not cached after it (see put).
	gen atomic.Uint64
}

// notRevoked is one cached answer: 40 bytes.
type notRevoked struct {
	token    uint64 // hash of the token id
	session  uint64 // hash of the session id
	user     uint64 // hash of the identifier
	issuedAt int64  // the token's iat, Unix ns
	until    int64  // trusted until, Unix ns
}

// cacheEntryBytes bounds what one entry costs, the index's own overhead
// included: 60 to 100 bytes measured, depending on how full the index's
// table is (TestNotRevokedCacheBounded100k).
const cacheEntryBytes = 128

func newNotRevokedCache(ttl time.Duration, max int) *notRevokedCache {
	return &notRevokedCache{ttl: ttl, max: max, seed: maphash.MakeSeed(), index: make(map[uint64]int)}
}

func (c *notRevokedCache) hash(s string) uint64 { return maphash.String(c.seed, s) }

// notRevoked reports whether a fresh "not revoked" answer is cached for
// the session.
func (c *notRevokedCache) notRevoked(s *chatauth.Session, identifier string, now time.Time) bool {
	key := c.hash(s.TokenID)
	c.mu.RLock()
	i, ok := c.index[key]
	var e notRevoked
	if ok {
		e = c.entries[i]
	}
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
	e := notRevoked{token: c.hash(s.TokenID), session: c.hash(s.ID), user: c.hash(identifier),
		issuedAt: s.IssuedAt.UnixNano(), until: asked.Add(c.ttl).UnixNano()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if i, ok := c.index[e.token]; ok {
		c.entries[i] = e
		return
	}
	if len(c.entries) >= c.max {
		c.evictLocked(asked.UnixNano())
	}
	c.index[e.token] = len(c.entries)
	c.entries = append(c.entries, e)
}

// evictLocked keeps the fresh entries, and if there are too many, the
// three quarters most recently added (the slice is in the order of
// addition, but for the entries moved by removals). They move to a new
// slice and index, so that the old index's deleted slots do not make it
// grow past its bound.
func (c *notRevokedCache) evictLocked(now int64) {
	fresh := c.entries[:0]
	for _, e := range c.entries {
		if now < e.until {
			fresh = append(fresh, e)
		}
	}
	if n := c.max - c.max/4; len(fresh) > n {
		fresh = fresh[len(fresh)-n:]
	}
	c.entries = append(make([]notRevoked, 0, c.max), fresh...)
	c.index = make(map[uint64]int, c.max)
	for i, e := range c.entries {
		c.index[e.token] = i
	}
}

// removeWhere drops the entries matching, in one walk: the last entry
// moves into each freed place.
func (c *notRevokedCache) removeWhere(match func(e *notRevoked) bool) {
	for i := 0; i < len(c.entries); {
		e := &c.entries[i]
		if !match(e) {
			i++
			continue
		}
		delete(c.index, e.token)
		last := len(c.entries) - 1
		if i != last {
			c.entries[i] = c.entries[last]
			c.index[c.entries[i].token] = i
		}
		c.entries = c.entries[:last]
	}
}

// forget drops the entries of a revoked token or session id. A session id
// names every token of the session: it walks the whole cache, which is
// bounded, for an operation as rare as a logout (BenchmarkCacheForget).
func (c *notRevokedCache) forget(id string) {
	h := c.hash(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	c.removeWhere(func(e *notRevoked) bool { return e.token == h || e.session == h })
}

// forgetUser drops every entry of a user whose sessions were cut.
func (c *notRevokedCache) forgetUser(identifier string) {
	h := c.hash(identifier)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	c.removeWhere(func(e *notRevoked) bool { return e.user == h })
}

// flush drops every entry, when announcements may have been missed.
func (c *notRevokedCache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	c.entries = c.entries[:0]
	clear(c.index)
}

// len is the number of entries, stale ones included.
func (c *notRevokedCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
