package chatauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/chatauth/chatauth/internal/cookiechunk"
)

// StartSession issues a session token for u and sets it as the session
// cookie on w (chunked when large): what an app's own login route calls
// (Chainlit's custom-auth case). The session lasts the session timeout.
// A user whose token would not fit in MaxCookieChunks cookies is refused
// with an error wrapping ErrSessionTooLarge.
func (a *Auth) StartSession(w http.ResponseWriter, r *http.Request, u *User) (*Session, error) {
	return a.startSession(w, r, u, a.newGrant(time.Time{}, ""))
}

// startSession issues a token for the grant and sets it as the cookie.
func (a *Auth) startSession(w http.ResponseWriter, r *http.Request, u *User, g grant) (*Session, error) {
	token, s, err := a.issueToken(u, g)
	if err != nil {
		return nil, err
	}
	if err := a.writeSessionCookie(w, r, token, s); err != nil {
		return nil, err
	}
	return s, nil
}

// writeSessionCookie sets token as the session cookie, chunked, living as
// long as the token, after checking it fits the cookie budget.
func (a *Auth) writeSessionCookie(w http.ResponseWriter, r *http.Request, token string, s *Session) error {
	c := a.sessionCookie(r)
	c.MaxAge = max(int(s.ExpiresAt.Sub(a.now())/time.Second), 1)
	if n := len(cookiechunk.Split(c, token)); n > a.cfg.MaxCookieChunks {
		return sessionTooLarge(s.User, len(token), n, a.cfg.MaxCookieChunks)
	}
	cookiechunk.Write(w, r, c, token)
	a.clearRootCopies(w, r)
	return nil
}

// ErrSessionTooLarge means a user's token would need more cookies than
// Config.MaxCookieChunks: the error names the metadata that made it large.
var ErrSessionTooLarge = errors.New("chatauth: session too large for cookies")

// sessionTooLarge names the largest metadata fields of u, biggest first.
func sessionTooLarge(u *User, tokenLen, chunks, limit int) error {
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
	return fmt.Errorf("%w: the token for %q is %d bytes, %d cookies where at most %d are allowed; largest metadata: %s",
		ErrSessionTooLarge, u.Identifier, tokenLen, chunks, limit, largest)
}

// EndSession revokes the request's session, when it has a valid one, and
// clears every session cookie. It returns the session that was ended, or nil
// when the request had no valid session; the error is the RevocationStore's.
// The revocation lasts until the session's absolute end, so that no renewed
// token of the same session outlives it.
func (a *Auth) EndSession(w http.ResponseWriter, r *http.Request) (*Session, error) {
	s, _, err := a.readSession(r)
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
	if err := a.cfg.Revocations.Revoke(r.Context(), s.ID, s.AbsoluteExpiresAt); err != nil {
		return s, err
	}
	a.signalRevocation()
	return s, nil
}

// endPreviousSession revokes the session of the request's cookie, when it
// holds a valid one, once a login has replaced it: a login starts a new
// session and ends the current one (ASVS 7.2.4), so the old token is not
// left usable beside the new. A bearer token given to POST /auth/jwt is the
// credential being exchanged and is left alone. Best effort: a store
// failure is logged, the login stands.
func (a *Auth) endPreviousSession(r *http.Request, current *Session) {
	token, found, tooLarge := cookiechunk.Read(r.Header, a.cfg.CookieName, MaxTokenBytes)
	if !found || tooLarge || token == "" {
		return
	}
	old, err := a.VerifyToken(r.Context(), token)
	if err != nil || old.ID == current.ID {
		return
	}
	if err := a.cfg.Revocations.Revoke(r.Context(), old.ID, old.AbsoluteExpiresAt); err != nil {
		a.logDecision(r, slog.LevelError, "session", "revoke_failed", reasonStoreDown, slog.String("error", err.Error()))
		return
	}
	a.signalRevocation()
}

// RevokeUser ends every session of the user issued until now, on every
// instance sharing the RevocationStore ("log out everywhere").
func (a *Auth) RevokeUser(ctx context.Context, identifier string) error {
	// One millisecond past now: sessions carry their issue time in
	// milliseconds (iatms), so one opened in this very millisecond is
	// revoked too, and one opened the next millisecond, by a login right
	// after, is not. Tokens with whole seconds only (Chainlit's) count as
	// issued at the start of their second.
	err := a.cfg.Revocations.RevokeUser(ctx, identifier, a.now().Truncate(time.Millisecond).Add(time.Millisecond))
	if err == nil {
		a.signalRevocation()
	}
	return err
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
// ErrInvalidToken, ErrExpired, ErrRevoked, ErrTokenTooLarge or
// ErrStoreUnavailable.
func (a *Auth) SessionFromRequest(r *http.Request) (*Session, error) {
	s, _, err := a.readSession(r)
	return s, err
}

// serveUser answers GET /user: the session's user, or null when no login
// method is configured.
func (a *Auth) serveUser(w http.ResponseWriter, r *http.Request) {
	s, _, err := a.readSession(r)
	if err != nil {
		// Without a login method there is no user to speak of: a stale or
		// foreign cookie must not turn the page into a login prompt.
		if !a.loginConfigured() && !errors.Is(err, ErrStoreUnavailable) {
			writeJSON(w, http.StatusOK, nil)
			return
		}
		a.rejectSession(w, r, err)
		return
	}
	a.logDecision(r, slog.LevelDebug, "session", "success", reasonOK, slog.String("user", s.User.Identifier))
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
