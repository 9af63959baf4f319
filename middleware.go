package chatauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// RequireUser lets a request through to next only with a valid session
// (cookie, else Authorization: Bearer), with the user in its context for
// UserFrom. Without one it answers 401 {"detail": "Invalid authentication
// token"}; a cross-origin unsafe request gets 403. WebSocket upgrades are
// authenticated by the cookie only, and their Origin must be the app's own
// or an allowed one.
func (a *Auth) RequireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := a.check(w, r)
		if err != nil {
			if !errors.Is(err, errAnswered) {
				reason, status := sessionReason(err)
				a.reject(w, r, "session", status, reason, sessionDetail(status), err)
			}
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
	})
}

// WithUser is RequireUser for pages where login is optional: the user is in
// the context when the session is valid, and the request goes through to
// next either way (UserFrom returns nil then).
func (a *Auth) WithUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := a.check(w, r)
		switch {
		case errors.Is(err, errAnswered):
			return
		case err != nil && errors.Is(err, ErrStoreUnavailable):
			a.reject(w, r, "session", http.StatusServiceUnavailable, reasonStoreDown, sessionDetail(http.StatusServiceUnavailable), err)
			return
		case err != nil:
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
	})
}

// errAnswered means check already wrote the response.
var errAnswered = errors.New("answered")

// check applies the cross-origin rules and finds the request's session.
func (a *Auth) check(w http.ResponseWriter, r *http.Request) (*Session, error) {
	upgrade := isWebSocketUpgrade(r)
	switch {
	case upgrade:
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
	s, err := a.sessionFromRequest(r, upgrade)
	if err == nil && a.cfg.Logger.Enabled(r.Context(), slog.LevelDebug) {
		a.logDecision(r, slog.LevelDebug, "session", "success", reasonOK, slog.String("user", s.User.Identifier))
	}
	return s, err
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
