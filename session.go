package chatauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chatauth/chatauth/internal/cookiechunk"
)

// ErrSessionTooLarge means a user's token would need more cookies than
// Config.MaxCookieChunks: the error names the metadata that made it large.
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

// EndSession revokes the request's session, when it has a valid one, and
// clears every session cookie. It returns the session that was ended, or nil
// when the request had no valid session; the error is the RevocationStore's,
// or the TokenStore's when the provider tokens of the session's OAuth login
// could not be deleted (they are, unless
// Config.KeepProviderTokensAfterLogout). The whole session is revoked
// (Session.ID): every token of its family, renewed, exchanged at POST
// /auth/jwt or from a later login of the same user in the same browser,
// until the last of them would have ended. A request with two different
// session cookies (ErrAmbiguousSession) has every valid one revoked and
// every copy deleted, and nil is returned: no single user can be named.
func (a *Auth) EndSession(w http.ResponseWriter, r *http.Request) (*Session, error) {
	switch {
	case !a.madeByNew():
		return nil, errNotMadeByNew
	case w == nil || r == nil:
		return nil, errNeedsRequest
	}
	s, err := a.endSession(w, r)
	if s == nil || err != nil {
		return s, err
	}
	return s, a.forgetProviderTokens(r.Context(), s.User.Identifier, s.Provider)
}

// endSession is EndSession but for the provider tokens, which POST /logout
// deletes once the provider logout URL has used the id_token.
func (a *Auth) endSession(w http.ResponseWriter, r *http.Request) (*Session, error) {
	s, _, err := a.readSession(r)
	if errors.Is(err, ErrAmbiguousSession) {
		return nil, a.endEverySession(w, r)
	}
	cookiechunk.Clear(w, r, a.sessionCookie(r))
	a.clearRootCopies(w, r)
	if errors.Is(err, ErrStoreUnavailable) {
		// The token may be valid: reporting it ended would leave it
		// usable once the store is back.
		return nil, err
	}
	if err != nil {
		return nil, nil
	}
	return s, a.revokeEnded(r.Context(), s)
}

// RevokeUser ends every session of the user issued until now, on every
// instance sharing the RevocationStore ("log out everywhere"), and deletes
// the provider tokens their OAuth logins kept, unless
// Config.KeepProviderTokensAfterLogout; an error deleting them is
// returned after the sessions are ended. On this Auth, a session started
// after RevokeUser returns is never revoked by it, whatever the clock says;
// on other instances, whose clocks may differ by a little, use
// RevokeOtherSessions to keep a session.
func (a *Auth) RevokeUser(ctx context.Context, identifier string) error {
	return a.revokeUser(ctx, identifier, "")
}

// RevokeOtherSessions ends every session of s's user except s itself and
// its renewals: "log out my other devices", for the current request's
// session (SessionFrom). A copy of s made with POST /auth/jwt is another
// session's token and is ended too.
func (a *Auth) RevokeOtherSessions(ctx context.Context, s *Session) error {
	if s == nil || s.User == nil || s.TokenID == "" {
		return errors.New("chatauth: RevokeOtherSessions needs a verified session")
	}
	return a.revokeUser(ctx, s.User.Identifier, s.TokenID)
}

func (a *Auth) revokeUser(ctx context.Context, identifier, keep string) error {
	if !a.madeByNew() {
		return errNotMadeByNew
	}
	ctx = orBackground(ctx)
	if identifier == "" {
		return errors.New("chatauth: RevokeUser needs a user identifier")
	}
	before := a.cuts.cut(a.now())
	err := a.cfg.Revocations.RevokeUser(ctx, UserRevocation{User: identifier, Before: before, Keep: keep,
		Expires: before.Add(userCutLife(a.cfg.SessionTimeout))})
	if err == nil {
		a.signalRevocation()
		err = a.forgetUserProviderTokens(ctx, identifier)
	}
	return err
}

// forgetUserProviderTokens deletes the provider tokens the user's logins
// kept, at every configured provider, once RevokeUser has ended their
// sessions.
func (a *Auth) forgetUserProviderTokens(ctx context.Context, identifier string) error {
	var errs []error
	for _, p := range a.Providers() {
		errs = append(errs, a.forgetProviderTokens(ctx, identifier, p))
	}
	return errors.Join(errs...)
}

// userCutLife is how long a RevokeUser cut is kept: past the longest
// session, and at least 30 days, for tokens a Chainlit app sharing the
// secret may have issued with a longer user_session_timeout.
func userCutLife(sessionTimeout time.Duration) time.Duration {
	return max(sessionTimeout+time.Minute, 30*24*time.Hour)
}

// latest is the later of two times.
func latest(t, u time.Time) time.Time {
	if u.After(t) {
		return u
	}
	return t
}

// cutClock orders, on one Auth, the cuts of RevokeUser and the issue
// times of new tokens, in milliseconds, whatever the wall clock does (two
// calls in one millisecond, a clock stepping back): a token issued before
// a cut is computed is below it, so it is revoked; a token issued after
// RevokeUser returned is at or above it, so it is not.
type cutClock struct {
	lastIssued, lastCut atomic.Int64 // Unix ms
}

// issue is the issue time of a token issued now: never before the last cut.
func (c *cutClock) issue(now time.Time) time.Time {
	ms := max(now.UnixMilli(), c.lastCut.Load())
	raise(&c.lastIssued, ms)
	return time.UnixMilli(ms).In(now.Location())
}

// cut is the Before of a RevokeUser now: past every token issued so far,
// this millisecond's included.
func (c *cutClock) cut(now time.Time) time.Time {
	ms := max(now.UnixMilli(), c.lastIssued.Load()) + 1
	raise(&c.lastCut, ms)
	return time.UnixMilli(ms).In(now.Location())
}

// latest is now, or the latest issue time when it is ahead of now.
func (c *cutClock) latest(now time.Time) time.Time {
	return latest(now, time.UnixMilli(c.lastIssued.Load()))
}

// raise sets v to x unless it holds more.
func raise(v *atomic.Int64, x int64) {
	for old := v.Load(); old < x && !v.CompareAndSwap(old, x); old = v.Load() {
	}
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

// cookiePath is Config.CookiePath: the root path by default, "/" without
// one or for a __Host- cookie (browsers refuse those with another Path).
func (a *Auth) cookiePath() string { return a.cfg.CookiePath }

// secureCookies reports whether cookies get the Secure flag: when forced,
// with SameSite=None, with a __Host- or __Secure- cookie name (browsers
// refuse those without it), or when the app's public URL is https.
func (a *Auth) secureCookies(r *http.Request) bool {
	return a.cfg.CookieSecure || a.cfg.SameSite == "none" || strings.HasPrefix(a.publicBase(r), "https:") ||
		strings.HasPrefix(a.cfg.CookieName, "__Host-") || strings.HasPrefix(a.cfg.CookieName, "__Secure-")
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

// SessionFromRequest returns the request's verified session, from its
// cookie or Authorization header, or an error wrapping ErrNoSession,
// ErrInvalidToken, ErrExpired, ErrRevoked, ErrTokenTooLarge,
// ErrStoreUnavailable or ErrAmbiguousSession.
func (a *Auth) SessionFromRequest(r *http.Request) (*Session, error) {
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
