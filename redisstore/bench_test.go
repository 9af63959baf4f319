package redisstore

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
)

// BenchmarkAuthenticatedRequest is one request through RequireUser with a
// valid session cookie, the handler doing nothing, for each way of checking
// revocation: in memory, Redis on every request, Redis behind the local
// not-revoked cache without the listener (TTL one minute, the staleness
// bound), and with it (push: TTL ten minutes, revocations announced).
// Redis is a local redis-server over loopback TCP.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	forEachRevocationStore(b, benchmarkAuthenticatedRequest)
}

// forEachRevocationStore runs bench as sub-benchmarks, one per way of
// checking revocation.
func forEachRevocationStore(b *testing.B, bench func(*testing.B, chatauth.RevocationStore)) {
	b.Run("revocations=memory", func(b *testing.B) {
		bench(b, nil) // New's default: the unexported memory store
	})
	srv := startRedis(b)
	b.Run("revocations=redis", func(b *testing.B) {
		bench(b, newStore(b, srv, Options{Timeout: DefaultTimeout}))
	})
	b.Run("revocations=redis-cached", func(b *testing.B) {
		bench(b, newStore(b, srv, Options{Timeout: DefaultTimeout, NotRevokedCacheTTL: time.Minute, DisableListener: true}))
	})
	b.Run("revocations=redis-push", func(b *testing.B) {
		s := newStore(b, srv, Options{Timeout: DefaultTimeout, NotRevokedCacheTTL: 10 * time.Minute})
		waitListening(b, s)
		bench(b, s)
	})
}

func benchmarkAuthenticatedRequest(b *testing.B, revocations chatauth.RevocationStore) {
	a, err := chatauth.New(chatauth.Config{
		Secret: testSecret,
		Stores: chatauth.StoresConfig{
			Revocations: revocations,
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	token, _, err := a.IssueToken(&chatauth.User{Identifier: "alice"})
	if err != nil {
		b.Fatal(err)
	}
	h := a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	req := httptest.NewRequest(http.MethodGet, "/chat", nil)
	req.AddCookie(&http.Cookie{Name: a.CookieName(), Value: token})

	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkRevoked is the revocation check alone, the part of a request
// that differs between the stores, for a session that is not revoked.
func BenchmarkRevoked(b *testing.B) {
	forEachRevocationStore(b, benchmarkRevoked)
}

func benchmarkRevoked(b *testing.B, revocations chatauth.RevocationStore) {
	if revocations == nil {
		b.Skip("the memory store is unexported: its check alone is chatauth's BenchmarkMemoryRevocationStoreRevoked")
	}
	ctx := b.Context()
	sess := sessionOf("alice", "jti-of-a-live-session", time.Now().Truncate(time.Second))
	sess.ID = "sid-of-a-live-session"
	b.ReportAllocs()
	for b.Loop() {
		revoked, err := revocations.Revoked(ctx, sess)
		if err != nil || revoked {
			b.Fatalf("Revoked = %v, %v", revoked, err)
		}
	}
}

// BenchmarkCacheForget is what one announcement of a revoked session id
// costs an instance whose cache is full (10,000 entries, the default
// bound): a walk of the cache under its lock.
func BenchmarkCacheForget(b *testing.B) {
	c := newNotRevokedCache(10*time.Minute, DefaultNotRevokedCacheSize)
	now := time.Now()
	for i := range DefaultNotRevokedCacheSize {
		s := sessionOf(fmt.Sprint("user-", i%1000), fmt.Sprint("token-", i), now)
		c.put(s, s.User.Identifier, now, c.generation())
	}
	b.ReportAllocs()
	for b.Loop() {
		c.forget("a family no entry has")
	}
}
