package chatauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/chatauth/chatauth/internal/cookiechunk"
)

// ErrAmbiguousSession means the request carried two different session
// cookies (two values of the cookie, of one of its chunks, or a cookie
// beside chunks that say something else). Browsers send one copy per
// matching Path and Domain, so a second one was planted beside the user's
// own, by a page on another port of the same host or a sibling subdomain;
// which one the user meant cannot be told, so neither is used (401,
// reason ambiguous_session) and every copy the request could carry is
// deleted on the response.
var ErrAmbiguousSession = errors.New("chatauth: two different session cookies")

// reasonAmbiguous is the reason code of ErrAmbiguousSession.
const reasonAmbiguous = "ambiguous_session"

// clearEveryCopy deletes the session cookie, and the chunks the request
// carries, at every path a copy sent with this request could have: "/",
// each ancestor of the request's path and the path itself
// (cookiechunk.AncestorPaths), the session cookie's own path among them.
// A copy set with a Domain attribute cannot be named (the request does not
// say which domain) and stays refused as ambiguous until it expires.
func (a *Auth) clearEveryCopy(w http.ResponseWriter, r *http.Request) {
	c := a.sessionCookie(r)
	paths := cookiechunk.AncestorPaths(r.URL.EscapedPath())
	own := false
	for _, p := range paths {
		own = own || p == c.Path
	}
	if !own {
		paths = append(paths, c.Path)
	}
	cookiechunk.ClearCopies(w, r, c, paths)
}

// endEverySession ends a request whose session cookies are ambiguous:
// every copy is deleted and every valid session among them revoked, the
// user's own and the planted one alike, since the browser cannot say
// which was meant. It returns the first failure of the store.
func (a *Auth) endEverySession(w http.ResponseWriter, r *http.Request) error {
	a.clearEveryCopy(w, r)
	var errs []error
	for _, token := range cookiechunk.Values(r.Header, a.cfg.CookieName, MaxTokenBytes) {
		s, err := a.VerifyToken(r.Context(), token)
		if errors.Is(err, ErrStoreUnavailable) {
			errs = append(errs, err)
		}
		if err != nil {
			continue
		}
		if err := a.revokeEnded(r.Context(), s); err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrStoreUnavailable, err))
		}
	}
	return errors.Join(errs...)
}

// revokeEnded revokes the whole session (family) s belongs to, as a
// logout does, and wakes the connections watching. Tokens of the family
// issued until now end by now + the session timeout; a later login of the
// same user may have joined it with a later end than s's own.
func (a *Auth) revokeEnded(ctx context.Context, s *Session) error {
	now := a.cuts.latest(a.now())
	rev := Revocation{ID: s.ID, User: s.User.Identifier, IssuedAt: now,
		Expires: latest(s.AbsoluteExpiresAt, now.Add(a.cfg.SessionTimeout))}
	if err := a.cfg.Revocations.Revoke(ctx, rev); err != nil {
		return err
	}
	a.signalRevocation()
	return nil
}
