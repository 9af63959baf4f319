package chatauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// ambiguousApp is a real server: the Auth's routes under root, password
// login for anyone (as that user), and POST root/chat/stream behind
// RequireUser and GET root/page behind WithUser, each answering the user.
type ambiguousApp struct {
	a    *Auth
	logs *syncBuffer
	srv  *httptest.Server
	jar  http.CookieJar
	c    *http.Client
}

func newAmbiguousApp(t *testing.T, root string) *ambiguousApp {
	t.Helper()
	a, _, logs := newTestAuth(t, Config{RootPath: root})
	a.OnPassword(func(_ context.Context, username, _ string) (*User, error) {
		md := map[string]any{}
		if username == "bob-chunked" {
			md["pad"] = strings.Repeat("b", 4000) // a chunked session
		}
		return &User{Identifier: username, Metadata: md}, nil
	})
	mux := http.NewServeMux()
	a.Mount(mux)
	who := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := UserFrom(r.Context()); u != nil {
			fmt.Fprint(w, u.Identifier)
		}
	})
	mux.Handle("POST "+root+"/chat/stream", a.RequireUser(who))
	mux.Handle("GET "+root+"/page", a.WithUser(who))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &ambiguousApp{a: a, logs: logs, srv: srv, jar: jar, c: &http.Client{Jar: jar}}
}

// do sends method path with the jar's cookies and returns status and body.
func (app *ambiguousApp) do(t *testing.T, method, path string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, app.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := app.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, strings.TrimSpace(readBody(t, resp))
}

// plant stores token in the jar as a cookie at path, as a page on another
// port of the same host can (cookies do not tell ports apart).
func (app *ambiguousApp) plant(t *testing.T, token, path string) {
	t.Helper()
	u, _ := url.Parse(app.srv.URL)
	app.jar.SetCookies(u, []*http.Cookie{{Name: "access_token", Value: token, Path: path}})
}

// sessionCookies counts the session cookies (and chunks) the jar would
// send to path.
func (app *ambiguousApp) sessionCookies(path string) int {
	u, _ := url.Parse(app.srv.URL + path)
	n := 0
	for _, c := range app.jar.Cookies(u) {
		if strings.HasPrefix(c.Name, "access_token") {
			n++
		}
	}
	return n
}

// TestAmbiguousSessionCookies is issue 11's recipe 7: a page on another
// port of the same host sets access_token=<alice>; Path=/chat/stream in
// bob's browser. Requests carrying both copies are refused as ambiguous
// (401, reason ambiguous_session) on GET R/user, RequireUser and WithUser
// (anonymous), and every copy they carry is deleted; logout revokes both
// sessions and deletes both copies. Identical copies are fine.
func TestAmbiguousSessionCookies(t *testing.T) {
	const refused = `{"detail":"Invalid authentication token"}`
	login := url.Values{"username": {"bob"}, "password": {"pw"}}

	t.Run("planted_at_a_deeper_path", func(t *testing.T) {
		app := newAmbiguousApp(t, "")
		if status, _ := app.do(t, "POST", "/login", login); status != 200 {
			t.Fatalf("login: %d", status)
		}
		app.plant(t, issue(t, app.a, &User{Identifier: "alice"}), "/chat/stream")
		if status, body := app.do(t, "GET", "/user", nil); status != 200 || !strings.Contains(body, `"bob"`) {
			t.Fatalf("GET /user (bob's cookie only): %d %s", status, body)
		}
		if status, body := app.do(t, "POST", "/chat/stream", nil); status != 401 || body != refused {
			t.Fatalf("POST /chat/stream with both cookies: %d %s, want 401 %s", status, body, refused)
		}
		if !strings.Contains(app.logs.String(), "auth.reason="+reasonAmbiguous+" ") {
			t.Errorf("reason %s not logged", reasonAmbiguous)
		}
		if n := app.sessionCookies("/chat/stream"); n != 0 {
			t.Errorf("%d session cookies left after the ambiguous request, want 0", n)
		}
		if status, _ := app.do(t, "GET", "/user", nil); status != 401 {
			t.Errorf("GET /user after the copies were deleted: %d, want 401", status)
		}
	})

	t.Run("planted_at_the_root_then_logout", func(t *testing.T) {
		app := newAmbiguousApp(t, "/chat")
		if status, _ := app.do(t, "POST", "/chat/login", login); status != 200 {
			t.Fatalf("login: %d", status)
		}
		u, _ := url.Parse(app.srv.URL + "/chat/user")
		bob := app.jar.Cookies(u)[0].Value
		alice := issue(t, app.a, &User{Identifier: "alice"})
		both := func() { // each ambiguous request deletes them
			app.plant(t, bob, "/chat")
			app.plant(t, alice, "/")
		}
		both()
		if status, body := app.do(t, "GET", "/chat/page", nil); status != 200 || body != "" {
			t.Errorf("WithUser with both cookies: %d %q, want 200 and no user", status, body)
		}
		if n := app.sessionCookies("/chat/page"); n != 0 {
			t.Errorf("%d session cookies left after WithUser, want 0", n)
		}
		both()
		if status, body := app.do(t, "GET", "/chat/user", nil); status != 401 || body != refused {
			t.Errorf("GET /chat/user with both cookies: %d %s, want 401 %s", status, body, refused)
		}
		both()
		if status, body := app.do(t, "POST", "/chat/logout", nil); status != 200 || body != `{"success":true}` {
			t.Fatalf("logout: %d %s", status, body)
		}
		if n := app.sessionCookies("/chat/logout"); n != 0 {
			t.Errorf("%d session cookies left after logout, want 0", n)
		}
		for name, token := range map[string]string{"bob": bob, "alice": alice} {
			if _, err := app.a.VerifyToken(context.Background(), token); !errors.Is(err, ErrRevoked) {
				t.Errorf("%s's token after logout: %v, want ErrRevoked", name, err)
			}
		}
	})

	t.Run("unchunked_beside_a_chunked_session", func(t *testing.T) {
		app := newAmbiguousApp(t, "")
		if status, _ := app.do(t, "POST", "/login", url.Values{"username": {"bob-chunked"}, "password": {"pw"}}); status != 200 {
			t.Fatalf("login: %d", status)
		}
		if n := app.sessionCookies("/"); n < 2 {
			t.Fatalf("bob's session is in %d cookies, want chunks", n)
		}
		// The contract reads the unchunked cookie first, as Chainlit does:
		// a planted unchunked cookie beats a chunked session (the residual
		// risk SECURITY.md names); two chunk sets or two unchunked copies
		// are what is refused.
		app.plant(t, issue(t, app.a, &User{Identifier: "alice"}), "/chat/stream")
		if status, body := app.do(t, "POST", "/chat/stream", nil); status != 200 || body != "alice" {
			t.Errorf("POST /chat/stream with chunks and a planted unchunked cookie: %d %s, want the unchunked one (alice)", status, body)
		}
	})

	t.Run("identical_copies_are_fine", func(t *testing.T) {
		app := newAmbiguousApp(t, "")
		bob := issue(t, app.a, &User{Identifier: "bob"})
		app.plant(t, bob, "/")
		app.plant(t, bob, "/chat/stream")
		if status, body := app.do(t, "POST", "/chat/stream", nil); status != 200 || body != "bob" {
			t.Errorf("two identical copies: %d %q, want 200 bob", status, body)
		}
	})
}
