package chatauthtest

import (
	"net/http"
	"testing"

	"github.com/chatauth/chatauth"
)

// maxCookieToken is the longest token the session cookie carries unchunked
// (the contract's chunk size).
const maxCookieToken = 3000

// SessionCookie returns a session cookie for u, as a login would set it:
// a token signed by a, named a.CookieName(). Add it to requests of handlers
// behind a.RequireUser to test them as u without logging in. It fails the
// test when u has no Identifier, or when the token is too large for one
// cookie (use BearerToken then).
func SessionCookie(t testing.TB, a *chatauth.Auth, u chatauth.User) *http.Cookie {
	t.Helper()
	token := BearerToken(t, a, u)
	if len(token) > maxCookieToken {
		t.Fatalf("chatauthtest: the session token for %q is %d characters, more than one cookie carries (%d); "+
			"send it as Authorization: Bearer with BearerToken, or shrink the user's Metadata", u.Identifier, len(token), maxCookieToken)
	}
	path := a.RootPath()
	if path == "" {
		path = "/"
	}
	return &http.Cookie{Name: a.CookieName(), Value: token, Path: path, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

// BearerToken returns a session token for u signed by a, for an
// "Authorization: Bearer" header. It fails the test when u has no
// Identifier.
func BearerToken(t testing.TB, a *chatauth.Auth, u chatauth.User) string {
	t.Helper()
	token, _, err := a.IssueToken(&u)
	if err != nil {
		t.Fatalf("chatauthtest: issuing a session token for %q: %v", u.Identifier, err)
	}
	return token
}

// AuthorizeRequest adds a session cookie for u (SessionCookie) to r.
func AuthorizeRequest(t testing.TB, a *chatauth.Auth, r *http.Request, u chatauth.User) {
	t.Helper()
	if r == nil {
		t.Fatalf("chatauthtest: AuthorizeRequest needs a request")
	}
	r.AddCookie(SessionCookie(t, a, u))
}
