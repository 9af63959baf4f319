package chatauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chatauth/chatauth/internal/testutil"
)

// TestEveryLoginPathOneTail: every login method ends in the one login
// tail: the persistence hook runs once per login on every path, and a
// stored user too large for the cookie budget is answered and logged alike
// (500 session_too_large, the app's data), except at /auth/jwt, where the
// user is the client's token (431 too_large, as documented). The OAuth
// callback is covered by TestOAuthSessionTooLarge and
// TestOAuthPersistTooLarge.
func TestEveryLoginPathOneTail(t *testing.T) {
	big := &User{Identifier: "ada", Metadata: map[string]any{"groups": strings.Repeat("g", 20000)}}
	small := &User{Identifier: "ada"}
	for _, tc := range []struct {
		name   string
		req    func(a *Auth) *http.Request
		h      func(a *Auth) http.Handler
		status int
		reason string
	}{
		{"password", func(*Auth) *http.Request { return loginRequest("", "ada", "pw") }, nil, 500, reasonSessionTooLarge},
		{"header login", func(*Auth) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/auth/header", nil)
			r.Header.Set("X-Api-Key", "k")
			return r
		}, nil, 500, reasonSessionTooLarge},
		{"header on every request", func(*Auth) *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/chat", nil)
			r.Header.Set("X-Api-Key", "k")
			return r
		}, func(a *Auth) http.Handler {
			return a.RequireUser(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		}, 500, reasonSessionTooLarge},
		{"jwt", func(a *Auth) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/auth/jwt", nil)
			r.Header.Set("Authorization", "Bearer "+issue(t, a, small))
			return r
		}, nil, http.StatusRequestHeaderFieldsTooLarge, reasonTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _, logs := newTestAuth(t, Config{})
			a.OnPassword(acceptUser(small))
			a.OnHeaderCredential(func(context.Context, http.Header) (*User, error) { return small, nil }, "X-Api-Key")
			var persisted atomic.Int32
			a.OnPersist(func(context.Context, *User) (*User, error) {
				persisted.Add(1)
				return big, nil
			})
			var h http.Handler = a
			if tc.h != nil {
				h = tc.h(a)
			}
			resp := serve(t, h, tc.req(a))
			if resp.StatusCode != tc.status || len(resp.Cookies()) != 0 {
				t.Errorf("status %d, cookies %v; want %d and none", resp.StatusCode, resp.Cookies(), tc.status)
			}
			if !strings.Contains(logs.String(), "auth.reason="+tc.reason+" ") {
				t.Errorf("not logged as %s:\n%s", tc.reason, logs)
			}
			if n := persisted.Load(); n != 1 {
				t.Errorf("persistence hook ran %d times, want 1", n)
			}
		})
	}
}

// TestLoginEndsThePreviousSession covers ASVS 7.2.4 (no session fixation):
// a login issues a new token and revokes the valid one the browser's cookie
// held, the user's own or one an attacker planted. The OAuth login's case
// is TestOAuthLoginEndsThePreviousSession.
func TestLoginEndsThePreviousSession(t *testing.T) {
	t.Run("new_session_ends_the_previous_one", func(t *testing.T) {
		a := passwordApp(t, Config{})
		first := mustCookie(t, postLogin(t, a, "ada", "correct horse"), a.CookieName())
		second := mustCookie(t, postLogin(t, a, "ada", "correct horse", first), a.CookieName())
		if first.Value == second.Value || testutil.JWTPart(t, first.Value, 1)["jti"] == testutil.JWTPart(t, second.Value, 1)["jti"] {
			t.Fatal("a login kept the previous session")
		}
		if s := userStatus(t, a, first); s != http.StatusUnauthorized {
			t.Errorf("previous session after a new login: %d, want 401", s)
		}
		if s := userStatus(t, a, second); s != http.StatusOK {
			t.Errorf("new session: %d", s)
		}
	})
	t.Run("planted_session_replaced_at_login", func(t *testing.T) {
		// Session fixation: a session planted in the victim's browser (here
		// the attacker's own, valid one) is ended when the victim logs in.
		a := passwordApp(t, Config{})
		planted := &http.Cookie{Name: a.CookieName(), Value: issue(t, a, &User{Identifier: "mallory"})}
		resp := postLogin(t, a, "ada", "correct horse", planted)
		fresh := mustCookie(t, resp, a.CookieName())
		if got := testutil.JWTPart(t, fresh.Value, 1)["identifier"]; got != "ada" {
			t.Errorf("session after login is %v's", got)
		}
		if s := userStatus(t, a, planted); s != http.StatusUnauthorized {
			t.Errorf("planted session still valid: %d", s)
		}
	})
}
