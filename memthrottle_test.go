package chatauth

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func newClockedThrottle(limit int) (*memoryThrottle, *testClock) {
	clk := newClock()
	th := newMemoryThrottle(limit)
	th.now = clk.Now
	th.setLogger(discardLogger())
	return th, clk
}

// hits counts the attempts of key until the first refusal, up to max.
func hitsAllowed(t *testing.T, th Throttle, key string, limit, max int, win time.Duration) int {
	t.Helper()
	for i := range max {
		wait, err := th.Hit(context.Background(), key, limit, win)
		if err != nil {
			t.Fatal(err)
		}
		if wait > 0 {
			return i
		}
	}
	return max
}

func TestMemoryThrottle(t *testing.T) {
	ctx := context.Background()
	th, clk := newClockedThrottle(0)
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
	if w, _ := th.Hit(ctx, "no window", 0, 0); w <= 0 || w > time.Millisecond {
		t.Errorf("window 0: wait %v, want at most the 1 ms minimum window", w)
	}
}

// TestMemoryThrottleFullNeverUnderCounts: with every exact slot taken by
// a live window, a new key is still refused after limit attempts (the
// sketch), and Forgive or Reset of it take nothing back; the exactly
// counted keys keep their counts, and expired windows make room again.
func TestMemoryThrottleFullNeverUnderCounts(t *testing.T) {
	ctx := context.Background()
	th, clk := newClockedThrottle(10)
	for i := range 10 {
		th.Hit(ctx, "held"+strconv.Itoa(i), 5, time.Minute)
	}
	if got := hitsAllowed(t, th, "guesser", 5, 100, time.Minute); got != 5 {
		t.Errorf("new key in a full throttle: %d attempts allowed, want 5", got)
	}
	th.Forgive(ctx, "guesser")
	th.Reset(ctx, "guesser")
	if w, _ := th.Hit(ctx, "guesser", 5, time.Minute); w == 0 {
		t.Error("Forgive or Reset of a key in the sketch let it through again")
	}
	if got := hitsAllowed(t, th, "held3", 5, 100, time.Minute); got != 4 {
		t.Errorf("exactly counted key: %d more attempts allowed, want 4", got)
	}
	if len(th.windows) > 10 {
		t.Errorf("throttle tracks %d keys exactly, bound 10", len(th.windows))
	}
	clk.Advance(time.Minute) // every window ends, and the sketch's too
	if got := hitsAllowed(t, th, "guesser", 5, 100, time.Minute); got != 5 {
		t.Errorf("in the next window: %d attempts allowed, want 5", got)
	}
	if _, exact := th.windows[th.key("guesser")]; !exact {
		t.Error("the expired windows made no room for an exact count")
	}
}

// TestMemoryThrottleBounded100k feeds the default bound 150,000 distinct
// keys: the heap stays bounded, and a key beyond the bound is still
// throttled.
func TestMemoryThrottleBounded100k(t *testing.T) {
	ctx := context.Background()
	before := heapAfterGC()
	th, _ := newClockedThrottle(0)
	for i := range 150000 {
		th.Hit(ctx, "addr:198.51.100."+strconv.Itoa(i), 100, 15*time.Minute)
	}
	// 100,000 exact windows (about 40 B each) and one 1 MiB sketch.
	checkHeapGrowth(t, before, 12<<20, "150,000 throttle keys")
	if len(th.windows) > defaultMaxThrottleKeys {
		t.Errorf("%d keys counted exactly, bound %d", len(th.windows), defaultMaxThrottleKeys)
	}
	if got := hitsAllowed(t, th, "user:guessed", 10, 100, 15*time.Minute); got > 10 {
		t.Errorf("key beyond the bound: %d attempts allowed, want at most 10", got)
	}
}

// TestMemoryThrottleWindowLengthsBounded: past the sketches it keeps, a
// full throttle refuses new keys rather than count them nowhere.
func TestMemoryThrottleWindowLengthsBounded(t *testing.T) {
	th, _ := newClockedThrottle(1)
	th.Hit(context.Background(), "held", 5, time.Minute)
	for i := range maxSketches {
		if w, _ := th.Hit(context.Background(), "k", 5, time.Duration(i+1)*time.Second); w != 0 {
			t.Fatalf("first attempt in sketch %d refused", i)
		}
	}
	if w, _ := th.Hit(context.Background(), "k", 5, time.Hour); w != time.Hour {
		t.Errorf("new key with a fifth window length: wait %v, want the window (refused)", w)
	}
}
