package chatauth

// The walk of an authenticated request, top to bottom through three files:
//
//	middleware.go  RequireUser / WithUser -> check (origin rules; a denial, respond.go, on refusal)
//	session.go     authenticate -> readSession -> tokenFromRequest -> [VerifyToken]
//	               -> maybeRenew (-> [issueToken], writeSessionCookie in login.go)
//	keys.go        VerifyToken -> tokenCache / parseToken -> fastVerifier.verify
//	               or golang-jwt -> sessionOf; Session.clone (user.go) per request
//
// Header login on the way (a request carrying a header hook's headers)
// branches from authenticate to headersession.go, which ends in the one
// login tail, login.go's startLogin.

import (
	"context"
	"errors"
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
// With header login (OnProxyHeader, OnHeaderCredential), a request that
// carries the hook's headers is authenticated by them: without a valid
// session, the session they yield is started on the way (401
// credentialssignin when the hook says no); with a session of other header
// values, the hook's answer replaces it, or ends it.
func (a *Auth) RequireUser(next http.Handler) http.Handler {
	if !a.madeByNew() {
		return notMadeByNew()
	}
	next = orNotFound(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := a.check(w, r)
		if err != nil {
			a.deny(w, r, a.requestDenial(r, err))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
	})
}

// WithUser is RequireUser for pages where login is optional: the user is in
// the context when the session is valid, and the request goes through to
// next either way (UserFrom returns nil then). Only a cross-origin request,
// a failing hook, an unreachable store, or a header credential refused
// unchecked (429, 503) stop it; a credential the hook rejects is logged and
// the request goes on without a user.
func (a *Auth) WithUser(next http.Handler) http.Handler {
	if !a.madeByNew() {
		return notMadeByNew()
	}
	next = orNotFound(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := a.check(w, r)
		var d *denial
		var cr *checkRefused
		switch {
		case err == nil:
			r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, s))
		case errors.As(err, &d), errors.Is(err, ErrStoreUnavailable), errors.Is(err, errHookFailed), errors.As(err, &cr):
			a.deny(w, r, a.requestDenial(r, err))
			return
		case errors.Is(err, errHeaderRejected):
			a.logDecision(r, slog.LevelInfo, "header", "rejected", reasonCredentials, slog.String("error", err.Error()))
		}
		next.ServeHTTP(w, r)
	})
}

// check applies the cross-origin rules and finds the request's session,
// renewing its cookie when due. Its error is a *denial, or an error of
// authenticate, which requestDenial words.
func (a *Auth) check(w http.ResponseWriter, r *http.Request) (*Session, error) {
	switch {
	case isWebSocketUpgrade(r):
		if err := a.checkUpgradeOrigin(r); err != nil {
			return nil, crossOrigin("session", reasonBadOrigin, err)
		}
	case !safeMethod(r.Method):
		if err := a.origins.Check(r); err != nil {
			return nil, crossOrigin("session", reasonCrossOrigin, err)
		}
	}
	return a.authenticate(w, r)
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
