package chatauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chatauth/chatauth/internal/cookiechunk"
)

// serveLogout answers POST /logout: the session is revoked until its
// absolute end, every session cookie cleared with the attributes it was set
// with, and the logout hook run. It answers {"success": true} with or
// without a session, plus "redirect" when there is somewhere to go next
// (SetLogoutRedirect, or the provider's logout page with
// Config.OAuth.ProviderLogout); an HTML form post gets a 303 there instead.
func (a *Auth) serveLogout(w http.ResponseWriter, r *http.Request) {
	const method = "logout"
	s, err := a.endSession(w, r)
	if err != nil {
		a.deny(w, r, storeDown(method, err))
		return
	}
	var u *User
	attrs := []slog.Attr{}
	if s != nil {
		u = s.User
		attrs = append(attrs, slog.String("user", u.Identifier), slog.String("session", s.ID))
		// Last, whatever the hook does: the provider logout URL below
		// still needs the kept id_token.
		defer a.forgetProviderTokensAtLogout(r, s)
	}
	hw := &hookWriter{ResponseWriter: w}
	if logout := a.hook().logout; logout != nil {
		_, err := callHook(func() (*User, error) { logout(hw, r, u); return nil, nil })
		if err != nil {
			if hw.wrote { // too late for a 500, but not too late to say why
				a.logDecision(r, slog.LevelError, method, "rejected", reasonHookPanic, slog.String("error", err.Error()))
				return
			}
			a.deny(w, r, hookFailed(method, err))
			return
		}
		if hw.wrote { // the hook answered itself
			a.logDecision(r, slog.LevelInfo, method, "success", reasonOK, attrs...)
			return
		}
	}
	redirect := hw.redirect
	if s != nil {
		// Provider logout first, then back to the hook's target, if any.
		if end := a.providerLogoutURL(r, s, hw.redirect); end != "" {
			redirect = end
		}
	}
	if redirect != "" {
		attrs = append(attrs, slog.String("redirect", redirectHost(redirect)))
	}
	a.logDecision(r, slog.LevelInfo, method, "success", reasonOK, attrs...)
	if isFormPost(r) {
		if redirect == "" {
			redirect = a.cfg.RootPath + "/login?notice=" + NoticeLoggedOut
		}
		http.Redirect(w, r, redirect, http.StatusSeeOther)
		return
	}
	if redirect == "" {
		writeJSON(w, http.StatusOK, successBody)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "redirect": redirect})
}

// redirectHost names where a logout sends the browser, for the log,
// without the id_token_hint it may carry.
func redirectHost(target string) string {
	if u, err := url.Parse(target); err == nil && u.Host != "" {
		return u.Scheme + "://" + u.Host + u.Path
	}
	before, _, _ := strings.Cut(target, "?")
	return before
}

// isFormPost reports whether the request is a browser's HTML form
// submission, which expects a page (a redirect), not JSON: a navigation,
// or a form body from a client that asks for HTML. A script's fetch, or a
// plain HTTP client posting a form, gets the contract's JSON.
func isFormPost(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Mode") == "navigate" {
		return true
	}
	ct := r.Header.Get("Content-Type")
	form := strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data")
	return form && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// SetLogoutRedirect, called by a logout hook on the w it was given, sets
// where the browser goes after logout: POST /logout then answers
// {"success": true, "redirect": target} to fetch callers and 303 See Other
// to a browser's form post. A form post is a request with
// Sec-Fetch-Mode: navigate, or with a form body (urlencoded or multipart)
// and an Accept header naming text/html; everything else gets JSON.
//
// With Config.OAuth.ProviderLogout, a session opened with an OpenID provider is
// first logged out at the provider, which then sends the browser to
// target, given as the post_logout_redirect_uri: a relative target is
// made absolute at the app's public origin (BaseURL, or the request's).
// Providers only send browsers to post-logout URIs registered for the
// client, compared exactly, so register each absolute target the hook uses
// (a fixed path, without a varying query). A target that cannot be one (not
// http or https, with a fragment or user info) is logged with reason
// bad_redirect, and the provider sends the browser to
// Config.OAuth.PostLogoutRedirectURI instead.
func SetLogoutRedirect(w http.ResponseWriter, target string) {
	for w != nil {
		if hw, ok := w.(*hookWriter); ok {
			hw.redirect = target
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// idTokenKey is where the id_token of a login is kept in the TokenStore,
// for the id_token_hint of RP-initiated logout.
func idTokenKey(provider string) string { return "id_token:" + provider }

// providerLogoutURL is the provider's end_session_endpoint with
// id_token_hint, client_id, post_logout_redirect_uri and state (OpenID
// Connect RP-Initiated Logout 1.0), when Config.OAuth.ProviderLogout is on and
// the session came from an OpenID provider that has one. The provider
// sends the browser back to after, the logout hook's target, when set.
func (a *Auth) providerLogoutURL(r *http.Request, s *Session, after string) string {
	if !a.cfg.ProviderLogout || s.Provider == "" {
		return ""
	}
	p := a.provider(s.Provider)
	if p == nil || p.EndSessionURL == "" {
		return ""
	}
	u, err := url.Parse(p.EndSessionURL)
	if err != nil {
		return ""
	}
	q := u.Query()
	ctx := r.Context()
	if tok, err := a.cfg.Tokens.Token(ctx, s.User.Identifier, idTokenKey(p.ID)); err == nil {
		q.Set("id_token_hint", tok.AccessToken)
	}
	q.Set("client_id", p.ClientID)
	q.Set("post_logout_redirect_uri", a.postLogoutRedirectURI(r, after))
	q.Set("state", randomToken(16))
	u.RawQuery = q.Encode()
	return u.String()
}

// postLogoutRedirectURI is where the provider sends the browser back after
// its logout: the logout hook's target made absolute, else
// Config.OAuth.PostLogoutRedirectURI, else R/login at the public origin.
func (a *Auth) postLogoutRedirectURI(r *http.Request, after string) string {
	if after != "" {
		target, err := a.absoluteRedirect(r, after)
		if err == nil {
			return target
		}
		a.logDecision(r, slog.LevelWarn, "logout", "redirect_ignored", reasonBadRedirect,
			slog.String("redirect", redirectHost(after)), slog.String("error", err.Error()))
	}
	if a.cfg.PostLogoutRedirectURI != "" {
		return a.cfg.PostLogoutRedirectURI
	}
	return a.publicBase(r) + a.cfg.RootPath + "/login"
}

// hookWriter notes whether a hook wrote a status or body itself, and the
// redirect it asked for.
type hookWriter struct {
	http.ResponseWriter
	wrote    bool
	redirect string
}

func (h *hookWriter) WriteHeader(code int) { h.wrote = true; h.ResponseWriter.WriteHeader(code) }
func (h *hookWriter) Write(b []byte) (int, error) {
	h.wrote = true
	return h.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (h *hookWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// absoluteRedirect makes a logout hook's target an absolute URL a provider
// can have registered as a post_logout_redirect_uri: a relative target is
// resolved against the public origin and root path.
func (a *Auth) absoluteRedirect(r *http.Request, target string) (string, error) {
	base, err := url.Parse(a.publicBase(r) + a.cfg.RootPath + "/")
	if err != nil {
		return "", err
	}
	t, err := url.Parse(target)
	if err != nil {
		return "", err
	}
	u := base.ResolveReference(t)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return "", errors.New("a post_logout_redirect_uri is an http(s) URL without user info or fragment")
	}
	return u.String(), nil
}

// forgetProviderTokensAtLogout deletes the provider tokens of the
// session's login once it has ended (see forgetProviderTokens): a failure
// is logged, the logout stands.
func (a *Auth) forgetProviderTokensAtLogout(r *http.Request, s *Session) {
	if err := a.forgetProviderTokens(r.Context(), s.User.Identifier, s.Provider); err != nil {
		a.logDecision(r, slog.LevelError, "logout", "token_delete_failed", reasonStoreDown,
			slog.String("user", s.User.Identifier), slog.String("error", err.Error()))
	}
}

// forgetProviderTokens deletes what a login with the provider kept in the
// TokenStore for the user: the id_token of RP-initiated logout always, the
// access and refresh token unless Config.OAuth.KeepProviderTokensAfterLogout.
// The store keeps one token per user and provider, so this ends the
// provider access of every session of the user opened with it.
func (a *Auth) forgetProviderTokens(ctx context.Context, identifier, provider string) error {
	if provider == "" {
		return nil
	}
	err := a.cfg.Tokens.DeleteToken(ctx, identifier, idTokenKey(provider))
	if !a.cfg.KeepProviderTokensAfterLogout {
		err = errors.Join(err, a.cfg.Tokens.DeleteToken(ctx, identifier, provider))
	}
	if err != nil {
		return fmt.Errorf("chatauth: deleting the provider tokens of %q at %q: %w", identifier, provider, err)
	}
	return nil
}

// EndSession revokes the request's session, when it has a valid one, and
// clears every session cookie. It returns the session that was ended, or nil
// when the request had no valid session; the error is the RevocationStore's,
// or the TokenStore's when the provider tokens of the session's OAuth login
// could not be deleted (they are, unless
// Config.OAuth.KeepProviderTokensAfterLogout). The whole session is revoked
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

// EndUserSessions ends every session of the user issued until now, on every
// instance sharing the RevocationStore ("log out everywhere"), and deletes
// the provider tokens their OAuth logins kept, unless
// Config.OAuth.KeepProviderTokensAfterLogout; an error deleting them is
// returned after the sessions are ended. On this Auth, a session started
// after EndUserSessions returns is never revoked by it, whatever the clock says;
// on other instances, whose clocks may differ by a little, use
// EndOtherSessions to keep a session.
func (a *Auth) EndUserSessions(ctx context.Context, identifier string) error {
	return a.revokeUser(ctx, identifier, "")
}

// EndOtherSessions ends every session of s's user except s itself and
// its renewals: "log out my other devices", for the current request's
// session (SessionFrom). A copy of s made with POST /auth/jwt is another
// session's token and is ended too.
func (a *Auth) EndOtherSessions(ctx context.Context, s *Session) error {
	if s == nil || s.User == nil || s.TokenID == "" {
		return errors.New("chatauth: EndOtherSessions needs a verified session")
	}
	return a.revokeUser(ctx, s.User.Identifier, s.TokenID)
}

func (a *Auth) revokeUser(ctx context.Context, identifier, keep string) error {
	if !a.madeByNew() {
		return errNotMadeByNew
	}
	ctx = orBackground(ctx)
	if identifier == "" {
		return errors.New("chatauth: EndUserSessions needs a user identifier")
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
// kept, at every configured provider, once EndUserSessions has ended their
// sessions.
func (a *Auth) forgetUserProviderTokens(ctx context.Context, identifier string) error {
	var errs []error
	for _, p := range a.providerIDs() {
		errs = append(errs, a.forgetProviderTokens(ctx, identifier, p))
	}
	return errors.Join(errs...)
}

// userCutLife is how long an EndUserSessions cut is kept: past the longest
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

// cutClock orders, on one Auth, the cuts of EndUserSessions and the issue
// times of new tokens, in milliseconds, whatever the wall clock does (two
// calls in one millisecond, a clock stepping back): a token issued before
// a cut is computed is below it, so it is revoked; a token issued after
// EndUserSessions returned is at or above it, so it is not.
type cutClock struct {
	lastIssued, lastCut atomic.Int64 // Unix ms
}

// issue is the issue time of a token issued now: never before the last cut.
func (c *cutClock) issue(now time.Time) time.Time {
	ms := max(now.UnixMilli(), c.lastCut.Load())
	raise(&c.lastIssued, ms)
	return time.UnixMilli(ms).In(now.Location())
}

// cut is the Before of an EndUserSessions now: past every token issued so far,
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
