package chatauth

import (
	"context"
	"hash/maphash"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// defaultMaxThrottleKeys is the bound of newMemoryThrottle(0).
const defaultMaxThrottleKeys = 100000

// memoryThrottle is the in-process Throttle: a fixed window per key,
// bounded in entries and bytes, that never counts fewer attempts than
// were made.
//
// Keys are kept as 64-bit hashes under a per-store random key (a
// collision can only count more), with their window's end and count:
// about 40 bytes each. Up to max keys are counted exactly. When that many
// windows are live, the attempts of further keys are counted in a
// count-min sketch (4 rows of 65,536 counters, 1 MiB, per window length,
// with windows aligned to multiples of their length), which may
// over-count, never under-count: a full throttle refuses more, never
// less. Forgive and Reset apply to exactly counted keys only; for a key
// in the sketch they do nothing, as taking a count back there could take
// it from another key. The first overflow is logged at warning level with
// auth.reason store_full. Beyond 4 distinct window lengths in the sketch,
// attempts of keys not counted exactly are refused. Make one with
// newMemoryThrottle.
type memoryThrottle struct {
	mu        sync.Mutex
	seed      maphash.Seed
	windows   map[uint64]attemptWindow
	sketches  map[time.Duration]*attemptSketch
	max       int
	lastSweep int64 // Unix ns of the last sweep of expired windows
	now       func() time.Time
	logger    atomic.Pointer[slog.Logger]
}

// attemptWindow is one key's window: its end (Unix ns) and count.
type attemptWindow struct {
	end   int64
	count int64
}

// newMemoryThrottle returns a memoryThrottle counting at most limit keys
// exactly (0 means 100,000); further keys are counted in a sketch, as the
// type's doc says.
func newMemoryThrottle(limit int) *memoryThrottle {
	if limit <= 0 {
		limit = defaultMaxThrottleKeys
	}
	return &memoryThrottle{
		seed:     maphash.MakeSeed(),
		windows:  make(map[uint64]attemptWindow),
		sketches: make(map[time.Duration]*attemptSketch),
		max:      limit,
		now:      time.Now,
	}
}

// setLogger gives the throttle the Auth's logger, when it has none yet.
func (t *memoryThrottle) setLogger(l *slog.Logger) { t.logger.CompareAndSwap(nil, l) }

// Hit implements Throttle. A window shorter than a millisecond counts as
// one millisecond.
func (t *memoryThrottle) Hit(_ context.Context, key string, limit int, win time.Duration) (time.Duration, error) {
	win = max(win, time.Millisecond)
	now := t.now().UnixNano()
	k := t.key(key)
	t.mu.Lock()
	defer t.mu.Unlock()
	w, exact := t.windows[k]
	if exact && now < w.end {
		w.count++
		t.windows[k] = w
		return refusal(w.count, limit, w.end-now), nil
	}
	sk := t.sketches[win]
	if (sk == nil || sk.estimate(k, now) == 0) && (exact || t.hasRoomLocked(now)) {
		w = attemptWindow{end: now + int64(win), count: 1}
		t.windows[k] = w
		return refusal(w.count, limit, w.end-now), nil
	}
	if sk == nil {
		if len(t.sketches) >= maxSketches {
			return win, nil // fail closed: no room to count this key at all
		}
		sk = &attemptSketch{window: int64(win)}
		t.sketches[win] = sk
		l := t.logger.Load()
		if l == nil {
			l = slog.Default()
		}
		l.LogAttrs(context.Background(), slog.LevelWarn, "chatauth: throttle full: new keys counted approximately (never fewer attempts)",
			slog.String("auth.method", "password"), slog.String("auth.outcome", "degraded"),
			slog.String("auth.reason", reasonStoreFull), slog.Int("keys", len(t.windows)), slog.Duration("window", win))
	}
	count, end := sk.add(k, now)
	return refusal(count, limit, end-now), nil
}

// hasRoomLocked reports whether a new key can be counted exactly,
// sweeping out expired windows when full, at most once a second so that
// a flood of new keys costs no sweep each.
func (t *memoryThrottle) hasRoomLocked(now int64) bool {
	if len(t.windows) < t.max {
		return true
	}
	if now-t.lastSweep < int64(time.Second) {
		return false
	}
	t.lastSweep = now
	for k, w := range t.windows {
		if now >= w.end {
			delete(t.windows, k)
		}
	}
	return len(t.windows) < t.max
}

// refusal is Hit's answer for a count: the time left when over limit.
func refusal(count int64, limit int, left int64) time.Duration {
	if count > int64(limit) {
		return max(time.Duration(left), time.Nanosecond)
	}
	return 0
}

// Forgive implements Throttle: one attempt of an exactly counted key is
// taken back, never below zero.
func (t *memoryThrottle) Forgive(_ context.Context, key string) error {
	k := t.key(key)
	t.mu.Lock()
	defer t.mu.Unlock()
	if w, ok := t.windows[k]; ok && w.count > 0 {
		w.count--
		t.windows[k] = w
	}
	return nil
}

// Reset implements Throttle: an exactly counted key starts over.
func (t *memoryThrottle) Reset(_ context.Context, key string) error {
	k := t.key(key)
	t.mu.Lock()
	delete(t.windows, k)
	t.mu.Unlock()
	return nil
}

// Size of a count-min sketch, and how many window lengths get one.
const (
	sketchDepth = 4
	sketchWidth = 1 << 16
	maxSketches = 4
)

// attemptSketch counts attempts of many keys in little room (count-min
// with conservative update): a key's count is the least of its counters,
// which other keys can only raise. Windows are aligned: the counters are
// cleared when now enters the next multiple of window.
type attemptSketch struct {
	window int64 // ns
	epoch  int64 // now / window of the counts
	rows   [sketchDepth][sketchWidth]uint32
}

// cells are the key's counter in each row (double hashing).
func (s *attemptSketch) cells(k uint64) [sketchDepth]uint32 {
	h1, h2 := uint32(k), uint32(k>>32)|1
	var c [sketchDepth]uint32
	for i := range c {
		c[i] = (h1 + uint32(i)*h2) % sketchWidth
	}
	return c
}

func (s *attemptSketch) roll(now int64) {
	if e := now / s.window; e != s.epoch {
		s.epoch = e
		s.rows = [sketchDepth][sketchWidth]uint32{}
	}
}

// estimate is the key's count in the current window.
func (s *attemptSketch) estimate(k uint64, now int64) uint32 {
	s.roll(now)
	est := uint32(math.MaxUint32)
	for i, c := range s.cells(k) {
		est = min(est, s.rows[i][c])
	}
	return est
}

// add counts one attempt of the key and returns its count and the end of
// the window (Unix ns).
func (s *attemptSketch) add(k uint64, now int64) (int64, int64) {
	est := s.estimate(k, now)
	if est < math.MaxUint32 {
		est++
	}
	for i, c := range s.cells(k) {
		s.rows[i][c] = max(s.rows[i][c], est)
	}
	return int64(est), (s.epoch + 1) * s.window
}

func (t *memoryThrottle) key(key string) uint64 { return maphash.String(t.seed, key) }
