package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Announcements: every Revoke and RevokeUser publishes one message on the
// channel <prefix>revocations, in the same Lua script as its write, so that
// a revocation is recorded if and only if it is announced. The payload is
// the kind and what was revoked.
const (
	channelRevocations = "revocations"
	announceID         = "r:" // r:<session or token id>
	announceUser       = "u:" // u:<identifier>, a user's cut
)

// Bounds of the listener's retries: the first re-subscription is at once,
// the next ones back off from minBackoff, doubling, up to maxBackoff.
const (
	minBackoff = 10 * time.Millisecond
	maxBackoff = time.Second
)

// listener holds a Store's subscription to the announcements. While it is
// subscribed (up), the Store may answer from its not-revoked cache, which
// the announcements keep exact; while it is not (starting, the connection
// lost, re-subscribing), the Store asks Redis on every check, and the
// cache is flushed once the subscription is back, since announcements
// made in between were missed.
type listener struct {
	client    redis.UniversalClient
	channel   string
	heartbeat time.Duration
	cache     *notRevokedCache // nil without NotRevokedCacheTTL
	logger    *slog.Logger
	outage    *outageLog
	now       func() time.Time

	up      atomic.Bool
	clock   atomic.Int64 // Unix ns, read after each message, PONG or heartbeat
	wakeMu  sync.Mutex
	wake    chan struct{} // closed at the next announcement (WatchRevocations)
	stop    context.CancelFunc
	done    chan struct{}
	psMu    sync.Mutex
	ps      *redis.PubSub // the current subscription, closed by Close
	stopped bool
}

// startListener subscribes in the background until close.
func startListener(l *listener) *listener {
	l.wake = make(chan struct{})
	l.done = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	l.stop = cancel
	go l.run(ctx)
	return l
}

// run subscribes, hands each announcement to handle, and subscribes again
// whenever the subscription fails, until ctx ends: at once after a
// subscription that worked, then backing off while attempts fail.
func (l *listener) run(ctx context.Context) {
	defer close(l.done)
	var g gap
	for failures := 0; ; {
		if failures > 0 && !l.sleep(ctx, backoff(failures)) {
			return
		}
		ps := l.subscribe(ctx)
		if ps == nil {
			return
		}
		confirmed := false
		err := l.receive(ctx, ps, func() {
			confirmed = true
			g.end(ctx, l)
		})
		_ = ps.Close()
		l.up.Store(false)
		if ctx.Err() != nil || errors.Is(err, redis.ErrClosed) {
			return // closed, or the client was closed under it
		}
		if confirmed {
			failures = 0
			g.start(l.now(), err)
			continue
		}
		failures++
		g.failed(ctx, l, err)
	}
}

// gap is a time without a subscription, after one worked: logged once,
// with its length, when it ends.
type gap struct {
	since   time.Time // zero: no gap (before the first subscription, or after one resumed)
	cause   error
	refused bool // Redis refused the subscription during this gap, and it was logged
}

func (g *gap) start(now time.Time, cause error) { g.since, g.cause, g.refused = now, cause, false }

func (g *gap) end(ctx context.Context, l *listener) {
	l.outage.ok()
	if !g.since.IsZero() {
		cause := "unknown"
		if g.cause != nil {
			cause = g.cause.Error()
		}
		l.logger.LogAttrs(ctx, slog.LevelWarn, "redisstore: revocation announcements resumed after a gap; every check asked redis meanwhile",
			slog.Duration("gap", l.now().Sub(g.since)), slog.String("cause", cause))
	}
	*g = gap{}
}

// failed reports an attempt to subscribe that failed: a refusal by Redis
// (an ACL without the channel), which will not mend by itself, once per
// gap; anything else to the outage log, which bounds its lines.
func (g *gap) failed(ctx context.Context, l *listener, err error) {
	var refused redis.Error
	switch {
	case !errors.As(err, &refused):
		l.outage.failed("subscribe", err)
	case !g.refused:
		g.refused = true
		l.logger.LogAttrs(ctx, slog.LevelError, "redisstore: cannot subscribe to revocation announcements; asking redis on every check until it can",
			slog.String("channel", l.channel), slog.String("error", err.Error()))
	}
}

// subscribe starts a subscription, kept where close can end it; nil once
// closed.
func (l *listener) subscribe(ctx context.Context) *redis.PubSub {
	l.psMu.Lock()
	defer l.psMu.Unlock()
	if l.stopped {
		return nil
	}
	l.ps = l.client.Subscribe(ctx, l.channel)
	return l.ps
}

// receive reads the subscription until it fails, calling subscribed once
// Redis confirms it. When nothing arrives for a heartbeat it sends a PING;
// when the PONG does not come within the next heartbeat either, the
// connection counts as lost (a peer gone without a word).
func (l *listener) receive(ctx context.Context, ps *redis.PubSub, subscribed func()) error {
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, l.heartbeat)
		l.clock.Store(l.now().UnixNano())
		if err != nil {
			if !isTimeout(err) || pinged {
				return err
			}
			if err := ps.Ping(ctx); err != nil {
				return err
			}
			pinged = true
			continue
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" || m.Channel != l.channel {
				return fmt.Errorf("%s %s", m.Kind, m.Channel)
			}
			l.resume()
			subscribed()
		case *redis.Message:
			l.handle(m.Payload)
		}
	}
}

// subscribedAt is the listener's clock, and whether it is subscribed.
func (l *listener) subscribedAt() (time.Time, bool) {
	if !l.up.Load() {
		return time.Time{}, false
	}
	return time.Unix(0, l.clock.Load()), true
}

// resume marks the subscription up: the cache is flushed first, since
// announcements may have been missed, then trusted again, and watchers
// check their sessions.
func (l *listener) resume() {
	if l.cache != nil {
		l.cache.flush()
	}
	l.up.Store(true)
	l.signal()
}

// handle applies one announcement to the cache, then wakes the watchers:
// by the time they ask, the cache no longer answers for what was revoked.
func (l *listener) handle(payload string) {
	if l.cache != nil {
		switch {
		case strings.HasPrefix(payload, announceID):
			l.cache.forget(payload[len(announceID):])
		case strings.HasPrefix(payload, announceUser):
			l.cache.forgetUser(payload[len(announceUser):])
		default: // a kind from a later version: be safe
			l.cache.flush()
		}
	}
	l.signal()
}

// signal closes the channel WatchRevocations handed out, and makes the
// next.
func (l *listener) signal() {
	l.wakeMu.Lock()
	close(l.wake)
	l.wake = make(chan struct{})
	l.wakeMu.Unlock()
}

func (l *listener) watch() <-chan struct{} {
	l.wakeMu.Lock()
	defer l.wakeMu.Unlock()
	return l.wake
}

// close ends the subscription and waits for the goroutine to return.
func (l *listener) close() {
	l.psMu.Lock()
	l.stopped = true
	l.stop()
	if l.ps != nil {
		_ = l.ps.Close()
	}
	l.psMu.Unlock()
	<-l.done
	l.up.Store(false)
}

// sleep waits d, or until ctx ends (false).
func (l *listener) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// backoff is the wait before the n-th attempt in a row (n ≥ 1).
func backoff(n int) time.Duration {
	if n > 7 { // minBackoff << 7 passes maxBackoff
		return maxBackoff
	}
	return min(minBackoff<<(n-1), maxBackoff)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
