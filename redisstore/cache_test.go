package redisstore

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
)

// Without the listener, a logout through another instance reaches a
// caching instance no later than NotRevokedCacheTTL after its last Redis
// answer, and not sooner than the cache allows (so the test shows the
// cache is used).
func TestNotRevokedCacheStalenessBound(t *testing.T) {
	srv := startRedis(t)
	const ttl = 2 * time.Second
	cached := newStore(t, srv, Options{NotRevokedCacheTTL: ttl, DisableListener: true})
	clk := newClock()
	cached.now = clk.Now
	other := newStore(t, srv, Options{})
	ctx := context.Background()
	iat := time.Now().Truncate(time.Second)

	j1 := sessionOf("alice", "j1", iat)
	if got, err := cached.Revoked(ctx, j1); err != nil || got {
		t.Fatalf("first check: %v, %v", got, err)
	}
	if err := other.Revoke(ctx, revocationOf("j1", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	clk.Advance(ttl - time.Millisecond)
	if got, _ := cached.Revoked(ctx, j1); got {
		t.Fatal("revoked before the cached answer went stale: the cache was not used")
	}
	clk.Advance(time.Millisecond)
	if got, err := cached.Revoked(ctx, j1); err != nil || !got {
		t.Errorf("check at the staleness bound: %v, %v; want revoked", got, err)
	}
}

// The same bound, end to end: logout on B, a caching A without the
// listener still lets the cookie in until the TTL has passed, then answers
// 401.
func TestNotRevokedCacheAcrossInstances(t *testing.T) {
	srv := startRedis(t)
	const ttl = 5 * time.Second
	a := newInstance(t, srv, Options{NotRevokedCacheTTL: ttl, DisableListener: true}, chatauth.PasswordLimits{})
	clk := newClock()
	a.store.now = clk.Now
	b := newInstance(t, srv, Options{}, chatauth.PasswordLimits{})

	c := b.mustLogin(t, "alice")
	if got := a.user(t, c); got != http.StatusOK {
		t.Fatalf("GET /user on A: %d", got)
	}
	if status, _ := b.do(t, http.MethodPost, "/logout", c); status != http.StatusOK {
		t.Fatalf("logout on B: %d", status)
	}
	if got := a.user(t, c); got != http.StatusOK {
		t.Fatalf("GET /user on A within the cache TTL: %d, want 200 (cached)", got)
	}
	clk.Advance(ttl)
	if got := a.user(t, c); got != http.StatusUnauthorized {
		t.Errorf("GET /user on A after the cache TTL: %d, want 401", got)
	}
}

// A revocation made through the caching Store itself takes effect at once.
func TestNotRevokedCacheClearedByLocalRevocation(t *testing.T) {
	srv := startRedis(t)
	s := newStore(t, srv, Options{NotRevokedCacheTTL: time.Hour})
	ctx := context.Background()
	iat := time.Now().Truncate(time.Second)
	sessions := map[string]*chatauth.Session{}
	for _, jti := range []string{"j1", "j2", "j3", "j4"} {
		sessions[jti] = sessionOf("alice", jti, iat)
	}
	sessions["j4"].ID = "s4" // a token of session s4
	sessions["b1"] = sessionOf("bob", "b1", iat)
	for jti, sess := range sessions {
		if got, err := s.Revoked(ctx, sess); err != nil || got {
			t.Fatalf("Revoked(%s): %v, %v", jti, got, err)
		}
	}

	for _, id := range []string{"j1", "s4"} {
		if err := s.Revoke(ctx, revocationOf(id, time.Now().Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	for _, jti := range []string{"j1", "j4"} {
		if got, _ := s.Revoked(ctx, sessions[jti]); !got {
			t.Errorf("%s not revoked right after Revoke through the same Store", jti)
		}
	}
	if err := s.RevokeUser(ctx, cutOf("alice", iat.Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	for _, jti := range []string{"j2", "j3"} {
		if got, _ := s.Revoked(ctx, sessions[jti]); !got {
			t.Errorf("%s not revoked right after RevokeUser through the same Store", jti)
		}
	}
	if got, _ := s.Revoked(ctx, sessions["b1"]); got {
		t.Error("bob revoked by alice's RevokeUser")
	}
}

// An answer Redis gave before a local revocation is not cached after it.
func TestNotRevokedCacheSkipsAnswersOlderThanARevocation(t *testing.T) {
	c := newNotRevokedCache(time.Hour, 10)
	now := time.Now()
	gen := c.generation()
	c.forget("j1") // a Revoke completes while the Redis answer is in flight
	j1 := sessionOf("alice", "j1", now)
	c.put(j1, "alice", now, gen)
	if c.notRevoked(j1, "alice", now) {
		t.Error("cached an answer that predates a revocation")
	}
}

func TestNotRevokedCacheBounded(t *testing.T) {
	c := newNotRevokedCache(time.Hour, 8)
	now := time.Now()
	for i := range 100 {
		c.put(sessionOf("alice", fmt.Sprint("j", i), now), "alice", now, c.generation())
		if n := c.len(); n > 8 {
			t.Fatalf("cache holds %d entries, bound is 8", n)
		}
	}
	if !c.notRevoked(sessionOf("alice", "j99", now), "alice", now) {
		t.Error("the newest entry is missing")
	}
	otherSession := sessionOf("alice", "j99", now)
	otherSession.ID = "another session"
	if c.notRevoked(sessionOf("mallory", "j99", now), "mallory", now) || c.notRevoked(sessionOf("alice", "j99", now.Add(-time.Second)), "alice", now) ||
		c.notRevoked(otherSession, "alice", now) {
		t.Error("an entry answered for another identifier, iat or session")
	}
}

// A cached answer costs no Redis command.
func TestNotRevokedCacheHitSendsNothing(t *testing.T) {
	srv := startRedis(t)
	client := srv.Client()
	log := &commandLog{}
	client.AddHook(log)
	s := openStore(t, client, Options{NotRevokedCacheTTL: time.Hour})
	waitListening(t, s)
	ctx := context.Background()
	iat := time.Now()
	sess := sessionOf("alice", "j", iat)
	_, _ = s.Revoked(ctx, sess)
	log.take()
	for range 10 {
		if got, err := s.Revoked(ctx, sess); err != nil || got {
			t.Fatalf("Revoked = %v, %v", got, err)
		}
	}
	if got := log.take(); len(got) != 0 {
		t.Errorf("cached checks sent %v, want nothing", got)
	}
}

// 100,000 distinct sessions, each with a kilobyte of ids, through a cache
// of 10,000 entries: it never holds more than its bound, and its heap
// stays within the bound times cacheEntryBytes whatever the ids' length.
func TestNotRevokedCacheBounded100k(t *testing.T) {
	const max = 10000
	before := liveHeap()
	c := newNotRevokedCache(time.Hour, max)
	now := time.Now()
	long := strings.Repeat("x", 1000)
	for i := range 100000 {
		s := sessionOf(long+strconv.Itoa(i), "token-"+long+strconv.Itoa(i), now)
		s.ID = "family-" + long + strconv.Itoa(i)
		c.put(s, s.User.Identifier, now, c.generation())
		if n := c.len(); n > max {
			t.Fatalf("%d entries after %d sessions, bound %d", n, i+1, max)
		}
	}
	grown := liveHeap() - before
	t.Logf("%d entries, %d bytes of heap (%d per entry)", c.len(), grown, grown/int64(c.len()))
	if limit := int64(max * cacheEntryBytes); grown > limit {
		t.Errorf("the cache holds %d bytes of heap, bound %d", grown, limit)
	}
	runtime.KeepAlive(c)
}

// liveHeap is the heap in use after a collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// Dropping a session's or a user's entries (an announcement) drops exactly
// those, wherever they sit, and every other entry still answers.
func TestNotRevokedCacheForgetDropsExactlyTheMatches(t *testing.T) {
	c := newNotRevokedCache(time.Hour, 1000)
	now := time.Now()
	var all []*chatauth.Session
	for i := range 300 {
		s := sessionOf(fmt.Sprint("user-", i%7), fmt.Sprint("token-", i), now)
		s.ID = fmt.Sprint("family-", i%50)
		all = append(all, s)
		c.put(s, s.User.Identifier, now, c.generation())
	}
	c.forget("family-3")
	c.forget("token-10") // family-10 keeps its other tokens
	c.forgetUser("user-5")
	for i, s := range all {
		gone := s.ID == "family-3" || s.TokenID == "token-10" || s.User.Identifier == "user-5"
		if got := c.notRevoked(s, s.User.Identifier, now); got == gone {
			t.Errorf("session %d (%s, %s, %s): cached %v, want %v", i, s.TokenID, s.ID, s.User.Identifier, got, !gone)
		}
	}
	c.flush()
	if n := c.len(); n != 0 || c.notRevoked(all[0], all[0].User.Identifier, now) {
		t.Errorf("%d entries after flush", n)
	}
}
