package chatauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// RequireUser lets a request through to next only with a valid session
// (cookie, else Authorization: Bearer), with the user in its context for
// UserFrom. Without one it answers 401 as Chainlit does ({"detail": "Not
// authenticated"} without a token, "Invalid authentication token" for a
// bad one); a cross-origin unsafe request gets 403. WebSocket upgrades are
// authenticated by the cookie (or a Sec-WebSocket-Protocol "bearer.<token>"
// entry), and their Origin must be the app's own or an allowed one.
//
// With Config.HeaderAuthOnEveryRequest, a request without a valid session
// from a trusted proxy is given to the header hook, and the session it
// yields is started on the way (401 credentialssignin when none).
func (a *Auth) RequireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := a.check(w, r)
		if err != nil {
			a.refuse(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
	})
}

// WithUser is RequireUser for pages where login is optional: the user is in
// the context when the session is valid, and the request goes through to
// next either way (UserFrom returns nil then). Only a cross-origin request,
// a failing hook or an unreachable store stop it.
func (a *Auth) WithUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := a.check(w, r)
		switch {
		case err == nil:
			r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, s))
		case errors.Is(err, errAnswered), errors.Is(err, ErrStoreUnavailable), errors.Is(err, errHookFailed):
			a.refuse(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refuse answers a failed session check.
func (a *Auth) refuse(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errAnswered):
	case errors.Is(err, errHookFailed):
		a.hookFailed(w, r, "header", err)
	default:
		a.rejectSession(w, r, err)
	}
}

// errAnswered means check already wrote the response; errHookFailed that
// the header hook failed (500); errHeaderRejected that header login on
// every request found no user (401 credentialssignin).
var (
	errAnswered       = errors.New("answered")
	errHookFailed     = errors.New("header hook failed")
	errHeaderRejected = errors.New("header login found no user")
)

// check applies the cross-origin rules and finds the request's session,
// renewing its cookie when due.
func (a *Auth) check(w http.ResponseWriter, r *http.Request) (*Session, error) {
	switch {
	case isWebSocketUpgrade(r):
		if err := a.checkUpgradeOrigin(r); err != nil {
			a.reject(w, r, "session", http.StatusForbidden, reasonBadOrigin, "cross-origin request rejected", err)
			return nil, errAnswered
		}
	case !safeMethod(r.Method):
		if err := a.origins.Check(r); err != nil {
			a.reject(w, r, "session", http.StatusForbidden, reasonCrossOrigin, "cross-origin request rejected", err)
			return nil, errAnswered
		}
	}
	s, fromCookie, err := a.readSession(r)
	if err != nil {
		if a.cfg.HeaderAuthOnEveryRequest && a.header != nil && !errors.Is(err, ErrStoreUnavailable) {
			return a.headerSession(w, r)
		}
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

// headerSession runs header login for a request without a session, behind
// an authenticating proxy that sets identity headers on every request, and
// starts the session on the way.
func (a *Auth) headerSession(w http.ResponseWriter, r *http.Request) (*Session, error) {
	const method = "header"
	trusted := a.fromTrustedProxy(r)
	a.logHeaderNames(r, method, trusted)
	if !trusted {
		return nil, fmt.Errorf("%w: peer %s is not a trusted proxy", errHeaderRejected, peer(r))
	}
	u, err := callHook(func() (*User, error) { return a.header(r.Context(), r.Header.Clone()) })
	if err == nil && u != nil && a.persist != nil {
		var stored *User
		if stored, err = callHook(func() (*User, error) { return a.persist(r.Context(), u) }); stored != nil {
			u = stored
		}
	}
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %w", errHookFailed, err)
	case u == nil:
		return nil, errHeaderRejected
	}
	s, err := a.startSession(w, r, u, a.newGrant(zeroTime, ""))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errHookFailed, err)
	}
	a.logDecision(r, slog.LevelInfo, method, "success", reasonOK, slog.String("user", u.Identifier), slog.String("session", s.ID))
	return s, nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func isWebSocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// checkUpgradeOrigin applies the cross-origin rules of unsafe methods to a
// WebSocket handshake, which browsers send as a GET that carries cookies:
// without it any site could open a socket in the user's name.
func (a *Auth) checkUpgradeOrigin(r *http.Request) error {
	probe := *r
	probe.Method = http.MethodPost
	return a.origins.Check(&probe)
}

// ContextWithUser returns a copy of ctx carrying u, as the middleware
// leaves it for UserFrom: for tests of handlers that read the user.
func ContextWithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, sessionKey{}, &Session{User: u})
}
