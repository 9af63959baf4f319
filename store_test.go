package chatauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

var (
	_ RevocationStore = (*MemoryRevocationStore)(nil)
	_ Throttle        = (*MemoryThrottle)(nil)
	_ TokenStore      = (*MemoryTokenStore)(nil)
)

func newClock() *testClock { return &testClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func TestMemoryRevocationStore(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := NewMemoryRevocationStore(0)
	s.now = clk.Now
	now := clk.Now()

	if err := s.Revoke(ctx, "j1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.Revoke(ctx, "dead", now.Add(-time.Second))
	for _, tt := range []struct {
		jti  string
		want bool
	}{{"j1", true}, {"j2", false}, {"dead", false}} {
		if got, err := s.Revoked(ctx, tt.jti, "ada", now); got != tt.want || err != nil {
			t.Errorf("Revoked(%s) = %v, %v; want %v", tt.jti, got, err, tt.want)
		}
	}
	if len(s.revoked) != 1 {
		t.Errorf("store keeps %d entries, want 1 (an expired jti is not stored)", len(s.revoked))
	}
	clk.Advance(time.Hour)
	if got, _ := s.Revoked(ctx, "j1", "ada", now); got {
		t.Error("revocation outlived the token's exp")
	}
}

func TestMemoryRevocationStoreRevokeUser(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryRevocationStore(0)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s.RevokeUser(ctx, "ada", t0)
	s.RevokeUser(ctx, "ada", t0.Add(-time.Hour)) // an older cut never undoes a newer one
	for _, tt := range []struct {
		user   string
		issued time.Time
		want   bool
	}{
		{"ada", t0.Add(-time.Minute), true},
		{"ada", t0.Add(-90 * time.Minute), true},
		{"ada", t0, false},
		{"ada", t0.Add(time.Second), false},
		{"bob", t0.Add(-time.Minute), false},
	} {
		if got, _ := s.Revoked(ctx, "jti", tt.user, tt.issued); got != tt.want {
			t.Errorf("Revoked(%s issued %v) = %v, want %v", tt.user, tt.issued, got, tt.want)
		}
	}
}

func TestMemoryRevocationStoreIsBounded(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := NewMemoryRevocationStore(100)
	s.now = clk.Now
	for i := range 1000 {
		s.Revoke(ctx, fmt.Sprint("j", i), clk.Now().Add(time.Duration(i+1)*time.Minute))
		if len(s.revoked) > 100 {
			t.Fatalf("store holds %d entries, limit 100", len(s.revoked))
		}
	}
	// The longest-lived revocations are the ones kept.
	if got, _ := s.Revoked(ctx, "j999", "", time.Time{}); !got {
		t.Error("the newest revocation was dropped")
	}
	// Expired entries go first.
	s = NewMemoryRevocationStore(10)
	s.now = clk.Now
	for i := range 9 {
		s.Revoke(ctx, fmt.Sprint("short", i), clk.Now().Add(time.Minute))
	}
	s.Revoke(ctx, "long", clk.Now().Add(time.Hour))
	clk.Advance(2 * time.Minute)
	s.Revoke(ctx, "new", clk.Now().Add(time.Hour))
	if len(s.revoked) != 2 {
		t.Errorf("after eviction of expired entries the store holds %d, want 2", len(s.revoked))
	}
	for _, jti := range []string{"long", "new"} {
		if got, _ := s.Revoked(ctx, jti, "", time.Time{}); !got {
			t.Errorf("%s dropped", jti)
		}
	}
	// All equally long-lived: still bounded.
	s = NewMemoryRevocationStore(10)
	s.now = clk.Now
	for i := range 100 {
		s.Revoke(ctx, fmt.Sprint("same", i), clk.Now().Add(time.Hour))
		if len(s.revoked) > 10 {
			t.Fatalf("store holds %d entries, limit 10", len(s.revoked))
		}
	}
}

func TestMemoryRevocationStoreConcurrent(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryRevocationStore(50)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				jti := fmt.Sprint(g, "-", i)
				s.Revoke(ctx, jti, time.Now().Add(time.Hour))
				s.Revoked(ctx, jti, "ada", time.Now())
				s.RevokeUser(ctx, fmt.Sprint("u", i%5), time.Now())
			}
		})
	}
	wg.Wait()
	if len(s.revoked) > 50 {
		t.Errorf("store holds %d entries, limit 50", len(s.revoked))
	}
}

func TestMemoryThrottle(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	th := NewMemoryThrottle(0)
	th.now = clk.Now
	hit := func(key string) time.Duration {
		t.Helper()
		wait, err := th.Hit(ctx, key, 3, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return wait
	}
	for i := range 3 {
		if w := hit("k"); w != 0 {
			t.Fatalf("attempt %d refused (%v)", i+1, w)
		}
	}
	if w := hit("k"); w != time.Minute {
		t.Errorf("4th attempt wait %v, want 1m", w)
	}
	if w := hit("other"); w != 0 {
		t.Errorf("other key refused (%v)", w)
	}
	clk.Advance(40 * time.Second)
	if w := hit("k"); w != 20*time.Second {
		t.Errorf("wait later in the window %v, want 20s", w)
	}
	clk.Advance(20 * time.Second)
	if w := hit("k"); w != 0 {
		t.Errorf("new window refused (%v)", w)
	}
	for range 3 {
		hit("r")
	}
	if err := th.Reset(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	if w := hit("r"); w != 0 {
		t.Errorf("after Reset refused (%v)", w)
	}
	if w, _ := th.Hit(ctx, "zero", 0, time.Minute); w == 0 {
		t.Error("limit 0 let an attempt through")
	}
}

func TestMemoryThrottleIsBounded(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	th := NewMemoryThrottle(100)
	th.now = clk.Now
	for i := range 1000 {
		th.Hit(ctx, fmt.Sprint("k", i), 5, time.Minute)
		if len(th.windows) > 100 {
			t.Fatalf("throttle tracks %d keys, limit 100", len(th.windows))
		}
	}
	clk.Advance(time.Minute)
	th.Hit(ctx, "fresh", 5, time.Minute)
	if len(th.windows) != 1 {
		t.Errorf("expired windows kept: %d keys", len(th.windows))
	}
}

func TestMemoryTokenStore(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryTokenStore()
	if _, err := s.Token(ctx, "ada", "github"); !errors.Is(err, ErrNoToken) {
		t.Errorf("empty store: %v", err)
	}
	tok := &oauth2.Token{AccessToken: "at", RefreshToken: "rt"}
	if err := s.SaveToken(ctx, "ada", "github", tok); err != nil {
		t.Fatal(err)
	}
	tok.AccessToken = "changed after save"
	got, err := s.Token(ctx, "ada", "github")
	if err != nil || got.AccessToken != "at" || got.RefreshToken != "rt" {
		t.Errorf("Token = %+v, %v", got, err)
	}
	if _, err := s.Token(ctx, "ada", "google"); !errors.Is(err, ErrNoToken) {
		t.Errorf("other provider: %v", err)
	}
	s.DeleteToken(ctx, "ada", "github")
	if err := s.DeleteToken(ctx, "ada", "github"); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if _, err := s.Token(ctx, "ada", "github"); !errors.Is(err, ErrNoToken) {
		t.Errorf("after delete: %v", err)
	}
}
