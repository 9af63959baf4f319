package chatauth

// login.go is the one login tail: every login method (POST R/login, POST
// R/auth/header, POST R/auth/jwt, the OAuth callback, and header login on
// any request) ends in startLogin, from "a hook returned a user" to
// "session started and logged".

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/chatauth/chatauth/internal/cookiechunk"
)

// login is one login to finish: who, with which method, and what the new
// token says besides its user.
type login struct {
	method string // "password", "header", "jwt", "oauth"
	user   *User  // the hook's user, before persistence
	grant  grant
	// keep runs after persistence and before the session starts, with the
	// stored user: what the method keeps beside the session (the OAuth
	// id_token and provider tokens). Its denial stops the login.
	keep func(ctx context.Context, u *User) *denial
	// attrs are the method's own fields of the success log line.
	attrs []slog.Attr
}

// startLogin is every login's tail: the persistence hook (OnPersist, here
// only), what the method keeps, the token and its cookie (joining the
// request's cookie session of the same user unless the grant names a
// session), the end of the token it replaces, and the one success log
// line. It returns the new session and its token, or the denial to answer;
// nothing is written on a denial but cookies already set.
func (a *Auth) startLogin(w http.ResponseWriter, r *http.Request, l login) (*Session, string, *denial) {
	u, err := a.persistedUser(r.Context(), l.user)
	if err != nil {
		return nil, "", hookFailed(l.method, err)
	}
	if l.keep != nil {
		if d := l.keep(r.Context(), u); d != nil {
			return nil, "", d
		}
	}
	token, s, err := a.startSession(w, r, u, l.grant)
	if err != nil {
		return nil, "", loginFailed(l.method, err)
	}
	a.endPreviousSession(r, s)
	attrs := append([]slog.Attr{slog.String("user", u.Identifier), slog.String("session", s.ID)}, l.attrs...)
	a.logDecision(r, slog.LevelInfo, l.method, "success", reasonOK, attrs...)
	return s, token, nil
}

// loginJSON finishes a login of a JSON route (password, header, jwt):
// {"success": true}, or the denial.
func (a *Auth) loginJSON(w http.ResponseWriter, r *http.Request, l login) {
	if _, _, d := a.startLogin(w, r, l); d != nil {
		a.deny(w, r, d)
		return
	}
	writeJSON(w, http.StatusOK, successBody)
}

// persistedUser runs the persistence hook, when there is one, and returns
// the stored user, or u when the hook returns none.
func (a *Auth) persistedUser(ctx context.Context, u *User) (*User, error) {
	if a.persist == nil {
		return u, nil
	}
	stored, err := callHook(func() (*User, error) { return a.persist(ctx, u) })
	if err != nil {
		return nil, fmt.Errorf("persist hook: %w", err)
	}
	if stored != nil {
		return stored, nil
	}
	return u, nil
}

// errHookPanic marks a recovered panic of a hook.
var errHookPanic = errors.New("hook panicked")

// callHook runs a user hook, turning a panic into an error.
func callHook(f func() (*User, error)) (u *User, err error) {
	defer func() {
		if p := recover(); p != nil {
			u, err = nil, fmt.Errorf("%w: %v\n%s", errHookPanic, p, debug.Stack())
		}
	}()
	return f()
}

// StartSession issues a session token for u and sets it as the session
// cookie on w (chunked when large): what an app's own login route calls
// (Chainlit's custom-auth case). The session lasts the session timeout.
// A user whose token would not fit in MaxCookieChunks cookies is refused
// with an error wrapping ErrSessionTooLarge.
func (a *Auth) StartSession(w http.ResponseWriter, r *http.Request, u *User) (*Session, error) {
	switch {
	case !a.madeByNew():
		return nil, errNotMadeByNew
	case w == nil || r == nil:
		return nil, errNeedsRequest
	}
	_, s, err := a.startSession(w, r, u, a.newGrant(time.Time{}, ""))
	return s, err
}

// startSession issues a token for the grant and sets it as the cookie.
// Without a session to join, it joins the request's cookie session when
// that is the same user's (a login again in the same browser): logging
// out then ends both. A token without a session id of its own (older
// chatauth tokens, Chainlit's) is not joined: it is its own session, which
// ending the replaced token ends.
func (a *Auth) startSession(w http.ResponseWriter, r *http.Request, u *User, g grant) (string, *Session, error) {
	if g.family == "" && u != nil {
		if old := a.cookieSession(r); old != nil && old.User.Identifier == u.Identifier && old.ID != old.TokenID {
			g.family = old.ID
		}
	}
	token, s, err := a.issueToken(u, g)
	if err != nil {
		return "", nil, err
	}
	if err := a.writeSessionCookie(w, r, token, s); err != nil {
		return "", nil, err
	}
	return token, s, nil
}

// writeSessionCookie sets token as the session cookie, chunked, living as
// long as the token: Max-Age is rounded up, so that the cookie never goes
// before the token does, and outlives it by less than a second. issueToken
// has checked that the token fits the cookie budget.
func (a *Auth) writeSessionCookie(w http.ResponseWriter, r *http.Request, token string, s *Session) error {
	c := a.sessionCookie(r)
	c.MaxAge = max(ceilSeconds(s.ExpiresAt.Sub(a.now())), 1)
	cookiechunk.Write(w, r, c, token)
	a.clearRootCopies(w, r)
	return nil
}

// endPreviousSession revokes the token of the request's cookie, when it
// holds a valid one, once a login has replaced it: a login starts a new
// token and ends the current one (ASVS 7.2.4), so the old token is not left
// usable beside the new. Only that token (and its renewals) is revoked: the
// new session of the same user joined its family, which lives on. A bearer
// token given to POST /auth/jwt is the credential being exchanged and is
// left alone. Best effort: a store failure is logged, the login stands.
func (a *Auth) endPreviousSession(r *http.Request, current *Session) {
	old := a.cookieSession(r)
	// A token whose id is the new session's id is the one POST /auth/jwt
	// exchanged (an older or Chainlit token, sent as cookie and bearer):
	// revoking it would end the session just made from it.
	if old == nil || old.TokenID == current.TokenID || old.TokenID == current.ID {
		return
	}
	rev := Revocation{ID: old.TokenID, User: old.User.Identifier, IssuedAt: a.cuts.latest(a.now()), Expires: old.AbsoluteExpiresAt}
	if err := a.cfg.Revocations.Revoke(r.Context(), rev); err != nil {
		a.logDecision(r, slog.LevelError, "session", "revoke_failed", reasonStoreDown, slog.String("error", err.Error()))
		return
	}
	a.signalRevocation()
}

// cookieSession is the valid session of the request's cookie, or nil.
func (a *Auth) cookieSession(r *http.Request) *Session {
	token, found, tooLarge := cookiechunk.Read(r.Header, a.cfg.CookieName, MaxTokenBytes)
	if !found || tooLarge || token == "" {
		return nil
	}
	s, err := a.VerifyToken(r.Context(), token)
	if err != nil {
		return nil
	}
	return s
}
