package redisstore

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
)

// 100 concurrent guesses at one username, spread over two instances, get
// exactly the limit's worth of password checks between them.
func TestThrottleAddsUpAcrossInstances(t *testing.T) {
	srv := startRedis(t)
	const limit, guesses = 10, 100
	limits := chatauth.PasswordLimits{PerUsername: limit, PerAddress: 10 * guesses, Window: time.Minute}
	a := newInstance(t, srv, Options{}, limits)
	b := newInstance(t, srv, Options{}, limits)

	statuses := make(chan int, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		in := a
		if i%2 == 1 {
			in = b
		}
		wg.Go(func() {
			status, _ := in.login(t, "alice", "wrong")
			statuses <- status
		})
	}
	wg.Wait()
	close(statuses)

	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if calls := a.hookCalls.Load() + b.hookCalls.Load(); calls != limit {
		t.Errorf("password hook ran %d times across instances, want exactly %d", calls, limit)
	}
	if count[http.StatusUnauthorized] != limit || count[http.StatusTooManyRequests] != guesses-limit {
		t.Errorf("statuses %v, want %d×401 and %d×429", count, limit, guesses-limit)
	}
}

func TestThrottleWindowExpires(t *testing.T) {
	srv := startRedis(t)
	s := newStore(t, srv, Options{})
	rdb := srv.Client()
	ctx := context.Background()
	const window = time.Second // long enough for three hits, even under -race

	for i := range 2 {
		if wait, err := s.Hit(ctx, "user:alice", 2, window); err != nil || wait != 0 {
			t.Fatalf("hit %d: %v, %v; want 0", i+1, wait, err)
		}
	}
	wait, err := s.Hit(ctx, "user:alice", 2, window)
	if err != nil || wait <= 0 || wait > window {
		t.Fatalf("hit 3: %v, %v; want a wait in (0, %v]", wait, err, window)
	}
	ttl, err := rdb.PTTL(ctx, "chatauth:throttle:user:alice").Result()
	if err != nil || ttl <= 0 || ttl > window {
		t.Fatalf("PTTL = %v, %v; want in (0, %v]", ttl, err, window)
	}
	waitFor(t, 10*time.Second, "throttle window to expire", func() bool {
		n, err := rdb.Exists(ctx, "chatauth:throttle:user:alice").Result()
		return err == nil && n == 0
	})
	if wait, err := s.Hit(ctx, "user:alice", 2, window); err != nil || wait != 0 {
		t.Errorf("hit in a new window: %v, %v; want 0", wait, err)
	}
}

func TestThrottleReset(t *testing.T) {
	srv := startRedis(t)
	s := newStore(t, srv, Options{})
	ctx := context.Background()
	for range 3 {
		_, _ = s.Hit(ctx, "user:alice", 1, time.Minute)
	}
	if wait, _ := s.Hit(ctx, "user:alice", 1, time.Minute); wait == 0 {
		t.Fatal("over the limit but not throttled")
	}
	if err := s.Reset(ctx, "user:alice"); err != nil {
		t.Fatal(err)
	}
	if wait, err := s.Hit(ctx, "user:alice", 1, time.Minute); err != nil || wait != 0 {
		t.Errorf("hit after Reset: %v, %v; want 0", wait, err)
	}
}

// A counter that lost its expiry (written by something else) gets one, so
// that a key cannot stay throttled for ever.
func TestThrottleRepairsCounterWithoutExpiry(t *testing.T) {
	srv := startRedis(t)
	s := newStore(t, srv, Options{})
	rdb := srv.Client()
	ctx := context.Background()
	if err := rdb.Set(ctx, "chatauth:throttle:user:alice", 50, 0).Err(); err != nil {
		t.Fatal(err)
	}
	wait, err := s.Hit(ctx, "user:alice", 10, time.Minute)
	if err != nil || wait <= 0 || wait > time.Minute {
		t.Errorf("Hit = %v, %v; want a wait in (0, 1m]", wait, err)
	}
	if ttl, _ := rdb.PTTL(ctx, "chatauth:throttle:user:alice").Result(); ttl <= 0 {
		t.Errorf("PTTL = %v, want the window", ttl)
	}
}

func TestForgiveTakesOneAttemptBack(t *testing.T) {
	srv := startRedis(t)
	store := newStore(t, srv, Options{})
	ctx := context.Background()
	for range 3 {
		if _, err := store.Hit(ctx, "addr:192.0.2.1", 3, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Forgive(ctx, "addr:192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if wait, _ := store.Hit(ctx, "addr:192.0.2.1", 3, time.Minute); wait != 0 {
		t.Errorf("forgiven attempt still counted: wait %v", wait)
	}
	if wait, _ := store.Hit(ctx, "addr:192.0.2.1", 3, time.Minute); wait == 0 {
		t.Error("limit not reached after a fourth counted attempt")
	}
	// Forgiving a key with no attempts leaves nothing behind.
	if err := store.Forgive(ctx, "addr:unknown"); err != nil {
		t.Fatal(err)
	}
}
