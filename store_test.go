package chatauth

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chatauth/chatauth/internal/testutil"
)

var (
	_ RevocationStore = (*memoryRevocationStore)(nil)
	_ Throttle        = (*memoryThrottle)(nil)
	_ TokenStore      = (*memoryTokenStore)(nil)
)

func newClock() *testClock { return testutil.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) }

// heapAfterGC is the live heap, in bytes, once garbage is collected.
func heapAfterGC() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// checkHeapGrowth fails the test when the heap grew by more than limit
// bytes since before, naming what was fed.
func checkHeapGrowth(t *testing.T, before, limit int64, what string) {
	t.Helper()
	grown := heapAfterGC() - before
	t.Logf("%s: heap grew by %.1f MB (bound %.1f MB)", what, float64(grown)/1e6, float64(limit)/1e6)
	if grown > limit {
		t.Errorf("%s: heap grew by %d bytes, bound %d", what, grown, limit)
	}
}

// TestNewGivesTheLoggerToMemoryStores: the memory stores log through
// Config.Logger when they degrade, as every other chatauth line does.
func TestNewGivesTheLoggerToMemoryStores(t *testing.T) {
	a, _, logs := newTestAuth(t, Config{Stores: StoresConfig{Revocations: newMemoryRevocationStore(8), Throttle: newMemoryThrottle(1)}})
	s := a.cfg.Revocations.(*memoryRevocationStore)
	for i := range 16 {
		s.Revoke(t.Context(), Revocation{ID: strings.Repeat("x", i+1), User: "ada", Expires: s.now().Add(time.Hour)})
	}
	th := a.cfg.Throttle.(*memoryThrottle)
	th.Hit(t.Context(), "a", 5, time.Minute)
	th.Hit(t.Context(), "b", 5, time.Minute)
	for _, want := range []string{"revocation store full", "throttle full", "auth.reason=store_full"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}
