package chatauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/chatauth/chatauth/internal/cookiechunk"
)

// StartSession issues a session token for u and sets it as the session
// cookie on w (chunked when large): what an app's own login route calls
// (Chainlit's custom-auth case). The session lasts the session timeout.
func (a *Auth) StartSession(w http.ResponseWriter, r *http.Request, u *User) (*Session, error) {
	return a.startSession(w, r, u, time.Time{})
}

// startSession issues the session; a zero exp means now + session timeout.
func (a *Auth) startSession(w http.ResponseWriter, r *http.Request, u *User, exp time.Time) (*Session, error) {
	now := a.now()
	if exp.IsZero() {
		exp = now.Add(a.cfg.SessionTimeout)
	}
	token, s, err := a.issueToken(u, now, exp)
	if err != nil {
		return nil, err
	}
	c := a.sessionCookie(r)
	c.MaxAge = int(exp.Sub(now) / time.Second)
	if c.MaxAge < 1 {
		c.MaxAge = 1
	}
	cookiechunk.Write(w, r, c, token)
	return s, nil
}

// EndSession revokes the request's session, when it has a valid one, and
// clears every session cookie. It returns the session that was ended, or nil
// when the request had no valid session; the error is the RevocationStore's.
func (a *Auth) EndSession(w http.ResponseWriter, r *http.Request) (*Session, error) {
	s, err := a.sessionFromRequest(r, false)
	cookiechunk.Clear(w, r, a.sessionCookie(r))
	if errors.Is(err, ErrStoreUnavailable) {
		// The token may be valid: reporting it ended would leave it
		// usable once the store is back.
		return nil, err
	}
	if err != nil {
		return nil, nil
	}
	if err := a.cfg.Revocations.Revoke(r.Context(), s.ID, s.ExpiresAt); err != nil {
		return s, err
	}
	return s, nil
}

// RevokeUser ends every session of the user issued until now, on every
// instance sharing the RevocationStore ("log out everywhere").
func (a *Auth) RevokeUser(ctx context.Context, identifier string) error {
	// One second past now: iat has whole seconds, so a session issued in
	// this very second is revoked too.
	return a.cfg.Revocations.RevokeUser(ctx, identifier, a.now().Truncate(time.Second).Add(time.Second))
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

func (a *Auth) cookiePath() string {
	if a.cfg.RootPath == "" {
		return "/"
	}
	return a.cfg.RootPath
}

// secureCookies reports whether cookies get the Secure flag: when forced,
// with SameSite=None, or when the app's public URL is https.
func (a *Auth) secureCookies(r *http.Request) bool {
	return a.cfg.CookieSecure || a.cfg.SameSite == "none" || strings.HasPrefix(a.publicBase(r), "https:")
}

// tokenFromRequest finds the session token: the unchunked cookie, else its
// chunks, else "Authorization: Bearer" (unless cookieOnly).
func (a *Auth) tokenFromRequest(r *http.Request, cookieOnly bool) (string, error) {
	v, found, tooLarge := cookiechunk.Read(r.Header, a.cfg.CookieName, MaxTokenBytes)
	if tooLarge {
		return "", ErrTokenTooLarge
	}
	if found && v != "" {
		return v, nil
	}
	if cookieOnly {
		return "", ErrNoSession
	}
	token, err := bearerToken(r.Header.Get("Authorization"))
	if err != nil {
		return "", ErrNoSession
	}
	if len(token) > MaxTokenBytes {
		return "", ErrTokenTooLarge
	}
	return token, nil
}

// sessionFromRequest reads and verifies the request's session token.
func (a *Auth) sessionFromRequest(r *http.Request, cookieOnly bool) (*Session, error) {
	token, err := a.tokenFromRequest(r, cookieOnly)
	if err != nil {
		return nil, err
	}
	return a.VerifyToken(r.Context(), token)
}

// SessionFromRequest returns the request's verified session, from its
// cookie or Authorization header, or an error wrapping ErrNoSession,
// ErrInvalidToken, ErrExpired, ErrRevoked, ErrTokenTooLarge or
// ErrStoreUnavailable.
func (a *Auth) SessionFromRequest(r *http.Request) (*Session, error) {
	return a.sessionFromRequest(r, false)
}

// serveUser answers GET /user: the session's user, or null when no login
// method is configured.
func (a *Auth) serveUser(w http.ResponseWriter, r *http.Request) {
	s, err := a.sessionFromRequest(r, false)
	if err != nil {
		// Without a login method there is no user to speak of: a stale or
		// foreign cookie must not turn the page into a login prompt.
		if !a.loginConfigured() && !errors.Is(err, ErrStoreUnavailable) {
			writeJSON(w, http.StatusOK, nil)
			return
		}
		reason, status := sessionReason(err)
		a.reject(w, r, "session", status, reason, sessionDetail(status), err)
		return
	}
	a.logDecision(r, slog.LevelDebug, "session", "success", reasonOK, slog.String("user", s.User.Identifier))
	writeJSON(w, http.StatusOK, s.User)
}
