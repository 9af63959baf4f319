package chatauthtest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// testApp is a small relying party with the contract's OAuth routes under
// root, for one provider "test": enough to drive Login and LoginClient.
type testApp struct {
	t        *testing.T
	p        *Provider
	srv      *httptest.Server
	root     string
	mode     string        // response_mode to ask for
	sameSite http.SameSite // of the state cookie
}

func newTestApp(t *testing.T, p *Provider, root string) *testApp {
	a := &testApp{t: t, p: p, root: root, sameSite: http.SameSiteLaxMode}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+root+"/auth/oauth/test", a.start)
	mux.HandleFunc(root+"/auth/oauth/test/callback", a.callback)
	mux.HandleFunc("GET "+root+"/login/callback", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "welcome") })
	mux.HandleFunc("GET "+root+"/login", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "login page") })
	mux.HandleFunc("GET "+root+"/me", a.me)
	mux.HandleFunc("GET "+root+"/auth/oauth/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://accounts.example.com/authorize", http.StatusFound)
	})
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	return a
}

func (a *testApp) url() string { return a.srv.URL + a.root }

func (a *testApp) config() *oauth2.Config {
	return &oauth2.Config{
		ClientID: a.p.ClientID, ClientSecret: a.p.ClientSecret, Endpoint: a.p.Endpoint(),
		RedirectURL: a.url() + "/auth/oauth/test/callback", Scopes: []string{"openid", "email"},
	}
}

func (a *testApp) start(w http.ResponseWriter, r *http.Request) {
	state, verifier, nonce := randomToken(16), oauth2.GenerateVerifier(), randomToken(16)
	http.SetCookie(w, &http.Cookie{Name: "oauth_state", Value: state + "." + verifier + "." + nonce,
		Path: a.root + "/auth/oauth", HttpOnly: true, SameSite: a.sameSite, Secure: a.sameSite == http.SameSiteNoneMode})
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce)}
	if a.mode != "" {
		opts = append(opts, oauth2.SetAuthURLParam("response_mode", a.mode))
	}
	http.Redirect(w, r, a.config().AuthCodeURL(state, opts...), http.StatusFound)
}

func (a *testApp) callback(w http.ResponseWriter, r *http.Request) {
	fail := func(code string) {
		http.SetCookie(w, &http.Cookie{Name: "oauth_state", Path: a.root + "/auth/oauth", MaxAge: -1})
		http.Redirect(w, r, a.root+"/login?error="+code, http.StatusFound)
	}
	if err := r.ParseForm(); err != nil {
		fail("bad_request")
		return
	}
	if e := r.Form.Get("error"); e != "" {
		fail(e)
		return
	}
	ck, err := r.Cookie("oauth_state")
	if err != nil {
		fail("invalid_state")
		return
	}
	parts := strings.Split(ck.Value, ".")
	if len(parts) != 3 || r.Form.Get("state") != parts[0] {
		fail("invalid_state")
		return
	}
	tok, err := a.config().Exchange(r.Context(), r.Form.Get("code"), oauth2.VerifierOption(parts[1]))
	if err != nil {
		fail("exchange_failed")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	c, err := verifyIDToken(a.t, a.p, raw, parts[2])
	if err != nil {
		fail("invalid_id_token")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "access_token", Value: c["sub"].(string), Path: "/", HttpOnly: true})
	http.Redirect(w, r, a.root+"/login/callback?success=True", http.StatusFound)
}

func (a *testApp) me(w http.ResponseWriter, r *http.Request) {
	ck, err := r.Cookie("access_token")
	if err != nil {
		http.Error(w, "no session", http.StatusUnauthorized)
		return
	}
	io.WriteString(w, ck.Value)
}

func whoAmI(t *testing.T, c *http.Client, app *testApp) string {
	t.Helper()
	resp, err := c.Get(app.url() + "/me")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /me: %s %s", resp.Status, b)
	}
	return string(b)
}

func TestLoginClient(t *testing.T) {
	for _, mode := range []string{"", "query", "form_post"} {
		t.Run("mode "+mode, func(t *testing.T) {
			p := NewProvider(t)
			app := newTestApp(t, p, "/chat")
			app.mode = mode
			if mode == "form_post" {
				app.sameSite = http.SameSiteNoneMode // the only state cookie a cross-site POST carries
			}
			p.SetUser(User{Subject: "grace", Email: "grace@example.com", EmailVerified: true})
			c := p.LoginClient(t, app.url(), "test")
			if got := whoAmI(t, c, app); got != "grace" {
				t.Errorf("logged in as %q, want grace", got)
			}
			if got := p.LastAuthorize().Get("response_mode"); got != mode {
				t.Errorf("authorize response_mode %q, want %q", got, mode)
			}
		})
	}
}

func TestLoginReportsFailure(t *testing.T) {
	p := NewProvider(t)
	app := newTestApp(t, p, "")
	p.Misbehave(ErrorRedirect)
	jar, _ := cookiejar.New(nil)
	resp, chain := p.Login(t, &http.Client{Jar: jar}, app.url()+"/auth/oauth/test")
	if len(chain) != 4 {
		t.Fatalf("chain %v, want app, provider, callback, login page", chain)
	}
	last, _ := url.Parse(chain[3])
	if last.Path != "/login" || last.Query().Get("error") != "access_denied" {
		t.Errorf("login ended on %s, want /login?error=access_denied", last)
	}
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(b) != "login page" {
		t.Errorf("last answer %s %q", resp.Status, b)
	}
	if resp.Request.URL.String() != chain[3] {
		t.Errorf("answer is for %s, want %s", resp.Request.URL, chain[3])
	}
}

func TestLoginWithholdsSameSiteCookies(t *testing.T) {
	tests := []struct {
		mode     string
		sameSite http.SameSite
		want     string // the error the flow ends with, "" for success
	}{
		{"query", http.SameSiteLaxMode, ""},
		{"query", http.SameSiteStrictMode, "invalid_state"},
		{"form_post", http.SameSiteLaxMode, "invalid_state"},
		{"form_post", http.SameSiteNoneMode, ""},
	}
	for _, tt := range tests {
		t.Run(tt.mode+" "+sameSiteName(tt.sameSite), func(t *testing.T) {
			p := NewProvider(t)
			app := newTestApp(t, p, "")
			app.mode, app.sameSite = tt.mode, tt.sameSite
			jar, _ := cookiejar.New(nil)
			_, chain := p.Login(t, &http.Client{Jar: jar}, app.url()+"/auth/oauth/test")
			last, _ := url.Parse(chain[len(chain)-1])
			switch {
			case tt.want == "" && !loginSucceeded(chain[len(chain)-1]):
				t.Errorf("login ended on %s, want success", last)
			case tt.want != "" && last.Query().Get("error") != tt.want:
				t.Errorf("login ended on %s, want error %s", last, tt.want)
			}
		})
	}
}

func sameSiteName(m http.SameSite) string {
	return map[http.SameSite]string{http.SameSiteLaxMode: "Lax", http.SameSiteStrictMode: "Strict", http.SameSiteNoneMode: "None"}[m]
}

func TestLoginStopsAtRemoteHosts(t *testing.T) {
	p := NewProvider(t)
	app := newTestApp(t, p, "")
	resp, chain := p.Login(t, &http.Client{}, app.url()+"/auth/oauth/away")
	if len(chain) != 2 || chain[1] != "https://accounts.example.com/authorize" || resp.StatusCode != http.StatusFound {
		t.Errorf("chain %v, answer %s: want to stop before the remote host", chain, resp.Status)
	}
}

func TestLoginClientFailsTheTest(t *testing.T) {
	p := NewProvider(t)
	app := newTestApp(t, p, "")
	p.Misbehave(WrongNonce)
	msg := fatalMessage(t, func(tb testing.TB) { p.LoginClient(tb, app.url(), "test") })
	for _, want := range []string{"/login?error=invalid_id_token", "/auth/oauth/test/callback", AuthorizePath} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message lacks %q:\n%s", want, msg)
		}
	}
}
