package chatauth_test

// The helpers of package chatauth_test, the tests that drive the library
// from outside: one app constructor (newOAuthApp, an Auth with one
// provider backed by chatauthtest's real OpenID provider, on loopback) and
// the requests most of these tests share. Helpers that need no Auth are in
// internal/testutil; package chatauth's own are in helpers_test.go.

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/chatauthtest"
	"github.com/chatauth/chatauth/internal/testutil"
)

// oauthApp is an app under test: an Auth with one provider backed by a
// real in-process OpenID provider, served on loopback.
type oauthApp struct {
	idp  *chatauthtest.Provider
	auth *chatauth.Auth
	srv  *httptest.Server
	base string // srv.URL + root path
	logs *testutil.LogBuffer
	rec  *chatauthtest.Recorder
}

// newOAuthApp is an oauthApp whose provider "corp" logs users in through
// hook (recorded in app.rec), with cfg changed only in Secret and Logger.
func newOAuthApp(t *testing.T, cfg chatauth.Config, hook chatauth.OAuthFunc, tweak ...func(*chatauth.Provider)) *oauthApp {
	t.Helper()
	app := &oauthApp{idp: chatauthtest.NewProvider(t), logs: &testutil.LogBuffer{}, rec: &chatauthtest.Recorder{}}
	cfg.Secret = []byte(strings.Repeat("x", 32))
	cfg.Logger = slog.New(slog.NewTextHandler(app.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := chatauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.OnOAuth(app.rec.OAuth(hook))
	p := app.idp.Config("corp")
	for _, f := range tweak {
		f(p)
	}
	if err := a.AddProvider(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Mount(mux)
	app.auth, app.srv = a, httptest.NewServer(mux)
	t.Cleanup(app.srv.Close)
	app.base = app.srv.URL + a.RootPath()
	return app
}

// get fetches R+path with c and returns the status and body.
func (app *oauthApp) get(t *testing.T, c *http.Client, path string) (int, string) {
	t.Helper()
	resp, err := c.Get(app.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// newJarClient is a client with a cookie jar, as a browser.
func newJarClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// callbackParams starts a login with c and returns the provider's answer
// (code, state) without following it to the app.
func callbackParams(t *testing.T, app *oauthApp, c *http.Client, provider string) url.Values {
	t.Helper()
	noFollow := *c
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(app.base + "/auth/oauth/" + provider)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = noFollow.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("provider answered %s %q", resp.Status, resp.Header.Get("Location"))
	}
	return loc.Query()
}

// logout posts R/logout with c's session as fetch would, and returns the
// redirect it answers.
func (app *oauthApp) logout(t *testing.T, c *http.Client) string {
	t.Helper()
	resp, err := c.Post(app.base+"/logout", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Success  bool
		Redirect string
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || !body.Success {
		t.Fatalf("logout: %d %v %+v", resp.StatusCode, err, body)
	}
	return body.Redirect
}

// oauthUserStatus is the status of GET R/user on a with the given cookies.
func oauthUserStatus(t *testing.T, a *chatauth.Auth, cookies ...*http.Cookie) int {
	return testutil.UserStatus(t, a, a.RootPath()+"/user", cookies...)
}
