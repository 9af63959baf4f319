package chatauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func logoutRequest(token, authorization string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/logout", nil)
	if token != "" {
		req.AddCookie(&http.Cookie{Name: "access_token", Value: token})
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return req
}

func TestLogoutRevokesTheToken(t *testing.T) {
	for _, tt := range []struct {
		name   string
		logout func(token string) *http.Request
	}{
		{"cookie", func(tok string) *http.Request { return logoutRequest(tok, "") }},
		{"bearer", func(tok string) *http.Request { return logoutRequest("", "Bearer "+tok) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, _, logs := newTestAuth(t, Config{})
			a.OnPassword(acceptUser(&User{Identifier: "ada"}))
			resp := serve(t, a, loginRequest("", "ada", "pw"))
			token := cookieNamed(resp, "access_token").Value
			other := issue(t, a, &User{Identifier: "ada"})

			resp = serve(t, a, tt.logout(token))
			wantSuccess(t, resp)
			if c := cookieNamed(resp, "access_token"); c == nil || c.MaxAge != -1 || c.Path != "/" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("session cookie not cleared: %v", c)
			}
			if !strings.Contains(logs.String(), "auth.method=logout auth.outcome=success") {
				t.Errorf("logout not logged:\n%s", logs)
			}

			wantError(t, serve(t, a, userRequest(a, token)), http.StatusUnauthorized, "Invalid authentication token")
			bearer := httptest.NewRequest(http.MethodGet, "/user", nil)
			bearer.Header.Set("Authorization", "Bearer "+token)
			wantError(t, serve(t, a, bearer), http.StatusUnauthorized, "Invalid authentication token")
			wantError(t, serve(t, a, jwtRequest("Bearer "+token)), http.StatusUnauthorized, "Invalid token")
			wantError(t, serve(t, a.RequireUser(whoAmI), userRequest(a, token)), http.StatusUnauthorized, "Invalid authentication token")
			// Other sessions of the same user live on.
			if got := userOf(t, a, userRequest(a, other)); got != "ada" {
				t.Errorf("other session: %q", got)
			}
		})
	}
}

func TestLogoutIsIdempotent(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	token := issue(t, a, &User{Identifier: "ada"})
	for _, req := range []*http.Request{
		logoutRequest(token, ""),
		logoutRequest(token, ""),
		logoutRequest("", ""),
		logoutRequest("garbage", ""),
		logoutRequest("", "Basic x"),
	} {
		resp := serve(t, a, req)
		wantSuccess(t, resp)
		if c := cookieNamed(resp, "access_token"); c == nil || c.MaxAge != -1 {
			t.Errorf("cookie not cleared: %v", c)
		}
	}
}

func TestLogoutHook(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{RootPath: "/chat"})
	var seen []*User
	a.OnLogout(func(w http.ResponseWriter, r *http.Request, u *User) {
		seen = append(seen, u)
		http.SetCookie(w, &http.Cookie{Name: "app_state", Value: "", Path: "/", MaxAge: -1})
		w.Header().Set("X-Logged-Out", "yes")
	})
	token := issue(t, a, &User{Identifier: "ada"})
	req := httptest.NewRequest(http.MethodPost, "/chat/logout", nil)
	req.AddCookie(&http.Cookie{Name: "access_token", Value: token})
	resp := serve(t, a, req)
	wantSuccess(t, resp)
	if resp.Header.Get("X-Logged-Out") != "yes" {
		t.Error("hook's header did not reach the client")
	}
	got := setCookieSummary(resp)
	// Twice: at the root path, and the copy Chainlit would have left at "/".
	if want := []string{"access_token deleted", "access_token deleted", "app_state deleted"}; !slices.Equal(got, want) {
		t.Errorf("Set-Cookie %v, want %v", got, want)
	}
	if c := cookieNamed(resp, "access_token"); c.Path != "/chat" {
		t.Errorf("session cookie cleared on Path %q", c.Path)
	}

	wantSuccess(t, serve(t, a, httptest.NewRequest(http.MethodPost, "/chat/logout", nil)))
	if len(seen) != 2 || seen[0] == nil || seen[0].Identifier != "ada" || seen[1] != nil {
		t.Errorf("hook saw %v, want ada then nil", seen)
	}
}

func TestLogoutHookAnswersItself(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	a.OnLogout(func(w http.ResponseWriter, r *http.Request, u *User) {
		http.Redirect(w, r, "/goodbye", http.StatusSeeOther)
	})
	resp := serve(t, a, logoutRequest(issue(t, a, &User{Identifier: "ada"}), ""))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/goodbye" {
		t.Errorf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if c := cookieNamed(resp, "access_token"); c == nil || c.MaxAge != -1 {
		t.Errorf("cookie not cleared: %v", c)
	}
}

func TestLogoutHookPanic(t *testing.T) {
	a, _, logs := newTestAuth(t, Config{})
	a.OnLogout(func(http.ResponseWriter, *http.Request, *User) { panic("logout hook exploded") })
	token := issue(t, a, &User{Identifier: "ada"})
	resp := serve(t, a, logoutRequest(token, ""))
	wantError(t, resp, http.StatusInternalServerError, "internal error")
	if !strings.Contains(logs.String(), "logout hook exploded") {
		t.Errorf("panic not logged:\n%s", logs)
	}
	// The session was ended before the hook ran.
	if _, err := a.VerifyToken(context.Background(), token); !errors.Is(err, ErrRevoked) {
		t.Errorf("token after failed hook: %v", err)
	}
}

func TestLogoutOverHTTPClearsBrowserCookies(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	srv := startSessionServer(t, a)
	client := srv.Client()
	jar := newJar(t)
	client.Jar = jar
	for _, id := range []string{"user8000", "user0"} {
		resp, err := client.Get(srv.URL + "/start?id=" + id)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		resp, err = client.Post(srv.URL+"/logout", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("logout %d", resp.StatusCode)
		}
		if cookies := jar.Cookies(mustParse(t, srv.URL)); len(cookies) != 0 {
			t.Errorf("after logout of %s the browser still holds %v", id, cookies)
		}
	}
}

func newJar(t *testing.T) *cookiejar.Jar {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestLogoutHookWritesItsOwnBody(t *testing.T) {
	a, _, logs := newTestAuth(t, Config{})
	a.OnLogout(func(w http.ResponseWriter, r *http.Request, u *User) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "bye "+u.Identifier)
		if rc := http.NewResponseController(w); rc.Flush() != nil {
			t.Error("the hook's writer does not reach the real one")
		}
	})
	resp := serve(t, a, logoutRequest(issue(t, a, &User{Identifier: "ada"}), ""))
	if body := readBody(t, resp); resp.StatusCode != 200 || body != "bye ada" {
		t.Errorf("%d %q", resp.StatusCode, body)
	}
	if c := cookieNamed(resp, "access_token"); c == nil || c.MaxAge != -1 {
		t.Errorf("cookie not cleared: %v", c)
	}
	if !strings.Contains(logs.String(), "auth.outcome=success") {
		t.Errorf("logout not logged:\n%s", logs)
	}
}

func TestLogoutHookPanicAfterWriting(t *testing.T) {
	a, _, logs := newTestAuth(t, Config{})
	a.OnLogout(func(w http.ResponseWriter, r *http.Request, u *User) {
		w.WriteHeader(http.StatusAccepted)
		panic("late panic")
	})
	resp := serve(t, a, logoutRequest("", ""))
	if resp.StatusCode != http.StatusAccepted || readBody(t, resp) != "" {
		t.Errorf("status %d: the answer the hook started was changed", resp.StatusCode)
	}
	if !strings.Contains(logs.String(), "late panic") || !strings.Contains(logs.String(), "auth.reason=hook_panic") {
		t.Errorf("panic not logged:\n%s", logs)
	}
}
