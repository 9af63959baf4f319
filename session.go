package chatauth

// session.go is an authenticated request after the middleware's origin
// check (middleware.go): the session token found in the request (cookie,
// Authorization: Bearer, or a WebSocket handshake's "bearer." protocol),
// verified (VerifyToken, keys.go), or header login on the way
// (headersession.go), then renewed when due; and, for the connection that
// outlives the request, WatchSession.

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/chatauth/chatauth/internal/cookiechunk"
)

// VerifyRequest returns the request's verified session, from its
// cookie or Authorization header, or an error wrapping ErrNoSession,
// ErrInvalidToken, ErrExpired, ErrRevoked, ErrTokenTooLarge,
// ErrStoreUnavailable or ErrAmbiguousSession.
func (a *Auth) VerifyRequest(r *http.Request) (*Session, error) {
	switch {
	case !a.madeByNew():
		return nil, errNotMadeByNew
	case r == nil:
		return nil, ErrNoSession
	}
	s, _, err := a.readSession(r)
	return s, err
}

// serveUser answers GET /user: the session's user, or null when no login
// method is configured. A request carrying header login's headers is
// logged in by them, as in RequireUser.
func (a *Auth) serveUser(w http.ResponseWriter, r *http.Request) {
	s, err := a.authenticate(w, r)
	if err != nil {
		// Without a login method there is no user to speak of: a stale or
		// foreign cookie must not turn the page into a login prompt.
		if !a.loginConfigured() && !errors.Is(err, ErrStoreUnavailable) {
			writeJSON(w, http.StatusOK, nil)
			return
		}
		a.deny(w, r, a.requestDenial(r, err))
		return
	}
	writeJSON(w, http.StatusOK, s.User)
}

// authenticate finds the request's session, or logs it in by its headers
// (header.go), renewing its cookie when due.
func (a *Auth) authenticate(w http.ResponseWriter, r *http.Request) (*Session, error) {
	s, fromCookie, err := a.readSession(r)
	if errors.Is(err, ErrAmbiguousSession) {
		a.clearEveryCopy(w, r)
	}
	if errors.Is(err, ErrStoreUnavailable) {
		return nil, err
	}
	if a.headerLoginOn() {
		att := a.headerAttemptFor(r, false)
		changed := att.mode != nil && (err != nil || att.hash != s.headerHash)
		if err != nil || changed || att.reason == reasonUntrustedPeer {
			a.logHeaderNames(r, att)
		}
		switch {
		case changed:
			return a.headerSession(w, r, att, s) // s is nil without a valid session
		case err != nil && att.reason == reasonUntrustedPeer:
			return nil, fmt.Errorf("%w: peer %s: %w", errUntrustedPeer, peer(r), err)
		}
	}
	if err != nil {
		return nil, err
	}
	if fromCookie {
		s = a.maybeRenew(w, r, s)
	}
	if a.cfg.Logger.Enabled(r.Context(), slog.LevelDebug) {
		a.logDecision(r, slog.LevelDebug, "session", "success", reasonOK, slog.String("user", s.User.Identifier))
	}
	return s, nil
}

// readSession reads and verifies the request's session token, and says
// whether it came from the cookie.
func (a *Auth) readSession(r *http.Request) (*Session, bool, error) {
	token, fromCookie, err := a.tokenFromRequest(r)
	if err != nil {
		return nil, fromCookie, err
	}
	s, err := a.VerifyToken(r.Context(), token)
	return s, fromCookie, err
}

// tokenFromRequest finds the session token: the unchunked cookie, else its
// chunks, else "Authorization: Bearer". A WebSocket handshake cannot carry
// Authorization from a browser: there the fallback is a Sec-WebSocket-Protocol
// entry "bearer.<token>" (never the URL, which ends up in logs).
func (a *Auth) tokenFromRequest(r *http.Request) (token string, fromCookie bool, err error) {
	if cookiechunk.Ambiguous(r.Header, a.cfg.CookieName) {
		return "", true, ErrAmbiguousSession
	}
	v, found, tooLarge := cookiechunk.Read(r.Header, a.cfg.CookieName, MaxTokenBytes)
	if tooLarge {
		return "", true, ErrTokenTooLarge
	}
	if found && v != "" {
		return v, true, nil
	}
	if isWebSocketUpgrade(r) {
		token = webSocketBearer(r)
	} else if h := r.Header.Get("Authorization"); h != "" {
		if token, err = sessionBearer(h); err != nil {
			return "", false, err
		}
	}
	switch {
	case token == "":
		return "", false, ErrNoSession
	case len(token) > MaxTokenBytes:
		return "", false, ErrTokenTooLarge
	}
	return token, false, nil
}

// Errors of a session's Authorization header, which Chainlit words
// differently from a bad token (its OAuth2PasswordBearerWithCookie).
var (
	// errOtherScheme: an Authorization header of another scheme carries no
	// session (401 "Invalid authentication credentials").
	errOtherScheme = fmt.Errorf("%w: the Authorization scheme is not Bearer", ErrNoSession)
	// errBearerFormat: "Bearer" without a token, or with more than one
	// word, is an invalid token.
	errBearerFormat = fmt.Errorf("%w: the Authorization header is not \"Bearer <token>\"", ErrInvalidToken)
)

// sessionBearer reads the token of an Authorization header for a session
// check: another scheme is errOtherScheme, a Bearer header that is not
// exactly two words errBearerFormat.
func sessionBearer(h string) (string, error) {
	token, err := bearerToken(h)
	if err == nil {
		return token, nil
	}
	scheme := strings.TrimSpace(h)
	if i := strings.IndexAny(scheme, " \t"); i >= 0 {
		scheme = scheme[:i]
	}
	if !strings.EqualFold(scheme, "bearer") {
		return "", errOtherScheme
	}
	return "", errBearerFormat
}

// WebSocketBearerPrefix marks the Sec-WebSocket-Protocol entry carrying a
// session token in a WebSocket handshake: "bearer.<token>". The server
// must answer with another of the offered protocols, never this one.
const WebSocketBearerPrefix = "bearer."

func webSocketBearer(r *http.Request) string {
	for _, line := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(line, ",") {
			if t, ok := strings.CutPrefix(strings.TrimSpace(p), WebSocketBearerPrefix); ok {
				return t
			}
		}
	}
	return ""
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
// go first (their tokens have expired since), then arbitrary ones
// (makeRoom). Forgetting a session only lets a parallel request renew it
// once more, never past its absolute end.
func (rn *renewals) prune(now time.Time, idle time.Duration) {
	makeRoom(rn.last, func(t int64) bool { return now.Sub(time.Unix(0, t)) > idle },
		func() bool { return len(rn.last) <= maxRenewals-maxRenewals/4 },
		func(k renewalKey, _ int64) { delete(rn.last, k) })
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
