package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
)

// Throttle checks a chatauth.Throttle: counting to the limit per key,
// Forgive and Reset, the end of a window, exact counts under concurrency,
// and nil or zero inputs.
func Throttle(t *testing.T, newThrottle func(t *testing.T) chatauth.Throttle) {
	checks := []struct {
		name  string
		check func(t *testing.T, th chatauth.Throttle)
	}{
		{"counts_to_limit", countsToLimit},
		{"forgive", forgive},
		{"reset", reset},
		{"window_ends", windowEnds},
		{"concurrent_counts_exact", concurrentCounts},
		{"nil_and_zero", throttleNilAndZero},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.check(t, newThrottle(t)) })
	}
}

func hit(t *testing.T, th chatauth.Throttle, key string, limit int, window time.Duration) time.Duration {
	t.Helper()
	wait, err := th.Hit(ctx, key, limit, window)
	if err != nil {
		t.Fatalf("Hit: %v", err)
	}
	return wait
}

func countsToLimit(t *testing.T, th chatauth.Throttle) {
	key, other := newID("key"), newID("key")
	for i := range 3 {
		if w := hit(t, th, key, 3, time.Minute); w != 0 {
			t.Fatalf("attempt %d of 3 refused (wait %v)", i+1, w)
		}
	}
	if w := hit(t, th, key, 3, time.Minute); w <= 0 || w > time.Minute {
		t.Errorf("4th attempt: wait %v, want a refusal within the window", w)
	}
	if w := hit(t, th, other, 3, time.Minute); w != 0 {
		t.Errorf("another key refused (wait %v)", w)
	}
	if w := hit(t, th, newID("key"), 0, time.Minute); w <= 0 {
		t.Error("limit 0 let the first attempt through")
	}
}

func forgive(t *testing.T, th chatauth.Throttle) {
	key := newID("key")
	for range 3 {
		hit(t, th, key, 3, time.Minute)
	}
	if err := th.Forgive(ctx, key); err != nil {
		t.Fatalf("Forgive: %v", err)
	}
	if w := hit(t, th, key, 3, time.Minute); w != 0 {
		t.Errorf("after Forgive, the taken-back attempt refused (wait %v)", w)
	}
	if w := hit(t, th, key, 3, time.Minute); w <= 0 {
		t.Error("after Forgive, one attempt too many let through")
	}
	fresh := newID("key")
	if err := th.Forgive(ctx, fresh); err != nil {
		t.Fatalf("Forgive of an unknown key: %v", err)
	}
	for range 3 {
		hit(t, th, fresh, 3, time.Minute)
	}
	if w := hit(t, th, fresh, 3, time.Minute); w <= 0 {
		t.Error("Forgive before any attempt counted below zero")
	}
}

func reset(t *testing.T, th chatauth.Throttle) {
	key, other := newID("key"), newID("key")
	for range 4 {
		hit(t, th, key, 3, time.Minute)
		hit(t, th, other, 3, time.Minute)
	}
	if err := th.Reset(ctx, key); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if w := hit(t, th, key, 3, time.Minute); w != 0 {
		t.Errorf("after Reset refused (wait %v)", w)
	}
	if w := hit(t, th, other, 3, time.Minute); w <= 0 {
		t.Error("Reset of one key let another through")
	}
}

// windowEnds: once refused, a key is let through again when its window
// ends (polled, with a deadline).
func windowEnds(t *testing.T, th chatauth.Throttle) {
	key, window := newID("key"), 1500*time.Millisecond
	hit(t, th, key, 1, window)
	if w := hit(t, th, key, 1, window); w <= 0 || w > window {
		t.Fatalf("2nd attempt: wait %v, want a refusal within %v", w, window)
	}
	deadline := time.Now().Add(15 * time.Second)
	for hit(t, th, key, 1, window) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("still refused 15 s after a 1.5 s window")
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, with a deadline
	}
}

// concurrentCounts: 200 attempts from 20 goroutines against a limit of
// 50 are refused exactly 150 times.
func concurrentCounts(t *testing.T, th chatauth.Throttle) {
	key := newID("key")
	var refused atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for range 10 {
				if w, err := th.Hit(ctx, key, 50, time.Minute); err != nil {
					t.Errorf("Hit: %v", err)
				} else if w > 0 {
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := refused.Load(); n != 150 {
		t.Errorf("%d of 200 attempts refused with limit 50, want 150", n)
	}
}

func throttleNilAndZero(t *testing.T, th chatauth.Throttle) {
	noPanic(t, "Hit(empty, 0, 0)", func() { _, _ = th.Hit(ctx, "", 0, 0) })
	noPanic(t, "Hit(negative)", func() { _, _ = th.Hit(ctx, newID("key"), -1, -time.Second) })
	noPanic(t, "Forgive(empty)", func() { _ = th.Forgive(ctx, "") })
	noPanic(t, "Reset(empty)", func() { _ = th.Reset(ctx, "") })
}
