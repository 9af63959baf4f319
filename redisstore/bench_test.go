package redisstore

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
)

// BenchmarkAuthenticatedRequest is one request through RequireUser with a
// valid session cookie, the handler doing nothing, for each way of checking
// revocation: in memory, Redis on every request, and Redis behind the local
// not-revoked cache. Redis is a local redis-server over loopback TCP.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	b.Run("revocations=memory", func(b *testing.B) {
		benchmarkAuthenticatedRequest(b, chatauth.NewMemoryRevocationStore(0))
	})
	srv := startRedis(b)
	b.Run("revocations=redis", func(b *testing.B) {
		benchmarkAuthenticatedRequest(b, newStore(b, srv, Options{Timeout: DefaultTimeout}))
	})
	b.Run("revocations=redis-cached", func(b *testing.B) {
		benchmarkAuthenticatedRequest(b, newStore(b, srv, Options{Timeout: DefaultTimeout, NotRevokedCacheTTL: time.Minute}))
	})
}

func benchmarkAuthenticatedRequest(b *testing.B, revocations chatauth.RevocationStore) {
	a, err := chatauth.New(chatauth.Config{
		Secret:      testSecret,
		Revocations: revocations,
		Logger:      slog.New(slog.DiscardHandler),
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
	b.Run("revocations=memory", func(b *testing.B) {
		benchmarkRevoked(b, chatauth.NewMemoryRevocationStore(0))
	})
	srv := startRedis(b)
	b.Run("revocations=redis", func(b *testing.B) {
		benchmarkRevoked(b, newStore(b, srv, Options{Timeout: DefaultTimeout}))
	})
	b.Run("revocations=redis-cached", func(b *testing.B) {
		benchmarkRevoked(b, newStore(b, srv, Options{Timeout: DefaultTimeout, NotRevokedCacheTTL: time.Minute}))
	})
}

func benchmarkRevoked(b *testing.B, revocations chatauth.RevocationStore) {
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
