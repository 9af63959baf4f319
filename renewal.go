package chatauth

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// renewals remembers, per session, when its token was last renewed on this
// instance, so that the requests a browser sends in parallel with the old
// cookie do not each renew it: at most once per window. Logged-in clients
// can open sessions at will, so the record is bounded: at most
// maxRenewals entries of a fixed size (a hash of the token id and a time).
type renewals struct {
	mu   sync.Mutex
	last map[renewalKey]int64 // hash of the jti -> renewal time (unix ns, whole second)
}

// renewalKey names a session in renewals: a hash of its jti, so that every
// entry has the same size whatever the token says.
type renewalKey [16]byte

// maxRenewals bounds renewals: 100,000 entries, about 5 MB.
const maxRenewals = 100000

// claim reports whether the session s may be renewed now: no renewal of it
// happened since its token was issued.
func (rn *renewals) claim(s *Session, now time.Time, idle time.Duration) bool {
	sum := sha256.Sum256([]byte(s.TokenID))
	key := renewalKey(sum[:16])
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if rn.last == nil {
		rn.last = make(map[renewalKey]int64)
	}
	if last, ok := rn.last[key]; ok && last > s.IssuedAt.UnixNano() {
		return false
	}
	if len(rn.last) >= maxRenewals {
		rn.prune(now, idle)
	}
	rn.last[key] = now.Truncate(time.Second).UnixNano()
	return true
}

// prune makes room in a full record: entries older than the idle window
// go first (their tokens have expired since), then, if that freed less
// than a quarter, an arbitrary quarter. Forgetting a session only lets a
// parallel request renew it once more, never past its absolute end.
func (rn *renewals) prune(now time.Time, idle time.Duration) {
	for k, t := range rn.last {
		if now.Sub(time.Unix(0, t)) > idle {
			delete(rn.last, k)
		}
	}
	for k := range rn.last {
		if len(rn.last) <= maxRenewals-maxRenewals/4 {
			break
		}
		delete(rn.last, k)
	}
}

// maybeRenew re-issues the session cookie when the idle timeout is on and
// the token is past half its idle window: same session and token id, new exp,
// never past the absolute end. It costs no round trip of its own: the new
// cookie rides on the response.
func (a *Auth) maybeRenew(w http.ResponseWriter, r *http.Request, s *Session) *Session {
	idle := a.cfg.IdleTimeout
	now := a.now()
	if idle <= 0 || now.Sub(s.IssuedAt) < idle/2 || !s.ExpiresAt.Before(s.AbsoluteExpiresAt) {
		return s
	}
	if !a.renewed.claim(s, now, idle) {
		return s
	}
	g := grant{issued: now, expires: a.idleEnd(now, s.AbsoluteExpiresAt), absolute: s.AbsoluteExpiresAt,
		id: s.TokenID, family: s.ID, provider: s.Provider}
	g.headerHash = s.headerHash
	token, renewed, err := a.issueToken(s.User, g)
	if err == nil {
		err = a.writeSessionCookie(w, r, token, renewed)
	}
	if err != nil {
		a.logDecision(r, slog.LevelError, "session", "renewal_failed", reasonHookError, slog.String("error", err.Error()))
		return s
	}
	a.logDecision(r, slog.LevelDebug, "session", "renewed", reasonOK, slog.String("user", s.User.Identifier),
		slog.Time("exp", renewed.ExpiresAt))
	return renewed
}

// signalRevocation wakes every WatchSession of this instance, so that an
// open connection learns of a logout at once rather than at its next poll.
func (a *Auth) signalRevocation() {
	a.revokedMu.Lock()
	close(a.revokedCh)
	a.revokedCh = make(chan struct{})
	a.revokedMu.Unlock()
}

func (a *Auth) revocationSignal() <-chan struct{} {
	a.revokedMu.Lock()
	defer a.revokedMu.Unlock()
	return a.revokedCh
}

// WatchSession is for long-lived connections (WebSocket, Server-Sent
// Events) opened with session s: the returned channel receives ErrExpired
// when the session reaches its absolute end, or ErrRevoked when it is
// revoked, so that the app can send a "session_expired" event and close. A
// logout on this instance is seen at once; one on another instance within
// milliseconds when the RevocationStore is a RevocationWatcher (redisstore
// is), else within Config.Session.CheckInterval. The channel is closed
// after that one value, or without a value when ctx ends. A nil session (an
// anonymous request) gets ErrNoSession at once.
func (a *Auth) WatchSession(ctx context.Context, s *Session) <-chan error {
	ch := make(chan error, 1)
	if !a.madeByNew() || s == nil || s.User == nil {
		// No session to watch (SessionFrom is nil for an anonymous
		// request under WithUser): the connection has none to lose.
		ch <- ErrNoSession
		close(ch)
		return ch
	}
	ctx = orBackground(ctx)
	watcher, _ := a.cfg.Revocations.(RevocationWatcher)
	// The signals are taken before each check, the first one here: a
	// revocation made after this call, or while Revoked runs, wakes the
	// next wait, and one made before it (since the request was
	// authenticated) is found by the first check.
	local, remote := a.revocationSignals(watcher)
	go func() {
		defer close(ch)
		expiry := time.NewTimer(s.AbsoluteExpiresAt.Sub(a.now()))
		defer expiry.Stop()
		poll := time.NewTicker(a.cfg.SessionCheckInterval)
		defer poll.Stop()
		for {
			if revoked, err := a.cfg.Revocations.Revoked(ctx, s); err == nil && revoked {
				ch <- ErrRevoked
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-expiry.C:
				ch <- ErrExpired
				return
			case <-poll.C:
			case <-local:
			case <-remote:
			}
			local, remote = a.revocationSignals(watcher)
		}
	}()
	return ch
}

// revocationSignals are the channels closed at the next revocation: by this
// instance, and, when the store is a RevocationWatcher, announced by any
// (nil otherwise, which never fires).
func (a *Auth) revocationSignals(watcher RevocationWatcher) (local, remote <-chan struct{}) {
	if watcher != nil {
		remote = watcher.WatchRevocations()
	}
	return a.revocationSignal(), remote
}
