package redisstore

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// outageLog writes the "redis unavailable" lines: one when an outage
// starts, then at most one per interval with the count of failures since
// the last line, and one when Redis answers again after a logged failure.
// Even a Redis that fails every other call gets at most two lines per
// interval. A healthy request costs one atomic load.
type outageLog struct {
	logger   *slog.Logger
	interval time.Duration
	now      func() time.Time

	down       atomic.Bool
	mu         sync.Mutex
	next       time.Time // no failure line before this
	suppressed int       // failures not logged since the last line
	logged     bool      // a failure line was written since the last recovery line
}

// failed records a failed call and logs it if the interval allows.
func (l *outageLog) failed(op string, err error) {
	l.down.Store(true)
	now := l.now()
	l.mu.Lock()
	if now.Before(l.next) {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := l.suppressed
	l.suppressed = 0
	l.next = now.Add(l.interval)
	l.logged = true
	l.mu.Unlock()
	l.logger.LogAttrs(context.Background(), slog.LevelError, "redisstore: redis unavailable",
		slog.String("op", op),
		slog.String("error", err.Error()),
		slog.Int("failures_since_last_line", suppressed),
		slog.Duration("next_line_after", l.interval),
	)
}

// ok records a successful call, logging the end of an outage once.
func (l *outageLog) ok() {
	if !l.down.Load() || !l.down.CompareAndSwap(true, false) {
		return
	}
	l.mu.Lock()
	logged, suppressed := l.logged, l.suppressed
	l.logged, l.suppressed = false, 0
	l.mu.Unlock()
	if !logged {
		return
	}
	l.logger.LogAttrs(context.Background(), slog.LevelInfo, "redisstore: redis reachable again",
		slog.Int("failures_since_last_line", suppressed))
}
