package chatauth

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// renewals remembers, per session, when its token was last renewed on this
// instance, so that the requests a browser sends in parallel with the old
// cookie do not each renew it: at most once per window.
type renewals struct {
	mu   sync.Mutex
	last map[string]time.Time // token id -> iat of the renewed token
}

// claim reports whether the session s may be renewed now: no renewal of it
// happened since its token was issued.
func (rn *renewals) claim(s *Session, now time.Time, idle time.Duration) bool {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if rn.last == nil {
		rn.last = make(map[string]time.Time)
	}
	if last, ok := rn.last[s.TokenID]; ok && last.After(s.IssuedAt) {
		return false
	}
	if len(rn.last) >= 100000 {
		for id, t := range rn.last {
			if now.Sub(t) > idle {
				delete(rn.last, id)
			}
		}
	}
	rn.last[s.TokenID] = now.Truncate(time.Second)
	return true
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
// is), else within Config.SessionCheckInterval. The channel is closed
// after that one value, or without a value when ctx ends. A nil s is
// revoked.
func (a *Auth) WatchSession(ctx context.Context, s *Session) <-chan error {
	ch := make(chan error, 1)
	if s == nil {
		ch <- ErrRevoked
		close(ch)
		return ch
	}
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
