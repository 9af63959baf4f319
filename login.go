package chatauth

// login.go is the one login tail: every login method (POST R/login, POST
// R/auth/header, POST R/auth/jwt, the OAuth callback, and header login on
// any request) ends in startLogin, from "a hook returned a user" to
// "session started and logged".

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
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
	persist := a.hook().persist // one read: a hook registered meanwhile is for later requests
	if persist == nil {
		return u, nil
	}
	stored, err := callHook(func() (*User, error) { return persist(ctx, u) })
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

// ErrSessionTooLarge means a user's token would need more cookies than
// Config.Cookie.MaxChunks: the error names the metadata that made it large.
var ErrSessionTooLarge = errors.New("chatauth: session too large for cookies")

// checkTokenSize refuses a token longer than the cookie budget: the
// longest token MaxCookieChunks cookies hold, which New made sure is no
// longer than MaxTokenBytes. Every path that issues a token asks it, so no
// token is issued that the same Auth would refuse to set or to read.
func (a *Auth) checkTokenSize(u *User, token string) error {
	if len(token) <= a.tokenBudget {
		return nil
	}
	return sessionTooLarge(u, len(token), a.tokenBudget, a.cfg.MaxCookieChunks)
}

// cookieTokenBudget is the longest token MaxCookieChunks session cookies hold,
// counted with every attribute at its longest (Secure on, the Max-Age of a
// whole SessionTimeout), so that the answer does not depend on the request.
func (a *Auth) cookieTokenBudget() int {
	// No request: Secure is forced below, and nothing else of the cookie
	// depends on the request.
	c := a.sessionCookie(&http.Request{})
	c.Secure = true
	c.MaxAge = ceilSeconds(a.cfg.SessionTimeout) + 1
	return cookiechunk.Capacity(c, a.cfg.MaxCookieChunks)
}

// ceilSeconds is d in whole seconds, rounded up.
func ceilSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

// sessionTooLarge names the largest metadata fields of u, biggest first.
func sessionTooLarge(u *User, tokenLen, budget, chunks int) error {
	type field struct {
		name string
		size int
	}
	var fields []field
	for k, v := range u.Metadata {
		b, _ := json.Marshal(v)
		fields = append(fields, field{k, len(b)})
	}
	slices.SortFunc(fields, func(x, y field) int { return y.size - x.size })
	var names []string
	for i, f := range fields {
		if i == 3 {
			break
		}
		names = append(names, fmt.Sprintf("%q (%d bytes)", f.name, f.size))
	}
	largest := "none"
	if len(names) > 0 {
		largest = strings.Join(names, ", ")
	}
	return fmt.Errorf("%w: the token for %q is %d bytes, more than the %d bytes that MaxCookieChunks (%d cookies) holds; largest metadata: %s",
		ErrSessionTooLarge, u.Identifier, tokenLen, budget, chunks, largest)
}

// sessionCookie is the template of the session cookie: the attributes used
// both to set and to clear it.
func (a *Auth) sessionCookie(r *http.Request) http.Cookie {
	c := http.Cookie{
		Name:     a.cfg.CookieName,
		Path:     a.cookiePath(),
		HttpOnly: true,
		Secure:   a.secureCookies(r),
	}
	if a.cfg.Partitioned {
		// CHIPS: a cookie of an app embedded on another site, kept per
		// top-level site, which browsers blocking third-party cookies allow.
		c.SameSite, c.Secure, c.Partitioned = http.SameSiteNoneMode, true, true
		return c
	}
	switch a.cfg.SameSite {
	case "strict":
		c.SameSite = http.SameSiteStrictMode
	case "none":
		c.SameSite = http.SameSiteNoneMode
	default:
		c.SameSite = http.SameSiteLaxMode
	}
	return c
}

// cookiePath is Config.Cookie.Path: the root path by default, "/" without
// one or for a __Host- cookie (browsers refuse those with another Path).
func (a *Auth) cookiePath() string { return a.cfg.CookiePath }

// secureCookies reports whether cookies get the Secure flag: when forced,
// with SameSite=None, with a __Host- or __Secure- cookie name (browsers
// refuse those without it), or when the app's public URL is https.
func (a *Auth) secureCookies(r *http.Request) bool {
	return a.cfg.CookieSecure || a.cfg.SameSite == "none" || strings.HasPrefix(a.publicBase(r), "https:") ||
		strings.HasPrefix(a.cfg.CookieName, "__Host-") || strings.HasPrefix(a.cfg.CookieName, "__Secure-")
}

// clearRootCopies deletes the session cookie and chunks at Path=/ that the
// request carries, when the session cookie lives under another path.
// Chainlit sets its cookie at Path=/ whatever its root path: after a move,
// that copy would otherwise survive logout (and log the user back in once
// an in-memory revocation is forgotten) and ride beside every new session.
// A browser sends Path=/ cookies with every request, so the copies the
// request carries are all there are; deleting a name that was in fact ours
// at the root path deletes nothing.
func (a *Auth) clearRootCopies(w http.ResponseWriter, r *http.Request) {
	if a.cfg.CookiePath == "/" {
		return
	}
	c := a.sessionCookie(r)
	c.Path, c.Partitioned = "/", false // Chainlit's cookies are never partitioned
	cookiechunk.ClearCarried(w, r, c)
}
