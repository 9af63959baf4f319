package chatauth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/chatauthtest"
	"github.com/chatauth/chatauth/internal/testutil"
	"github.com/chatauth/chatauth/providers"
	"github.com/golang-jwt/jwt/v5"
)

func TestOAuthLoginEndToEnd(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{}, nil)
	app.idp.SetUser(chatauthtest.User{Subject: "u-42", Email: "grace@example.com", EmailVerified: true, Name: "Grace Hopper"})
	c := app.idp.LoginClient(t, app.base, "corp")
	status, body := app.get(t, c, "/user")
	if status != 200 || !strings.Contains(body, `"identifier":"grace@example.com"`) || !strings.Contains(body, `"display_name":"Grace Hopper"`) {
		t.Fatalf("/user after login: %d %s", status, body)
	}
	for _, want := range []string{`"provider":"corp"`, `"subject":"u-42"`} {
		if !strings.Contains(body, want) {
			t.Errorf("/user lacks %s: %s", want, body)
		}
	}
	// PKCE and nonce were on the wire.
	q := app.idp.LastAuthorize()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" {
		t.Errorf("authorize request %v lacks PKCE or nonce", q)
	}
	if app.idp.LastToken().Get("code_verifier") == "" {
		t.Error("token request without code_verifier")
	}
	calls := app.rec.Calls()
	if len(calls) != 1 || calls[0].Provider != "corp" || calls[0].User.Identifier != "grace@example.com" {
		t.Errorf("hook calls %+v", calls)
	}
	// The config lists the provider.
	if _, body := app.get(t, c, "/auth/config"); !strings.Contains(body, `"oauthProviders":["corp"]`) {
		t.Errorf("config %s", body)
	}
}

// loginExpectingError runs a login that must fail and returns the error code
// it ended on; it checks the state cookie was cleared.
func loginExpectingError(t *testing.T, app *oauthApp, c *http.Client, start string) string {
	t.Helper()
	resp, chain := app.idp.Login(t, c, start)
	resp.Body.Close()
	last, _ := url.Parse(chain[len(chain)-1])
	if last.Path != app.auth.RootPath()+"/login" {
		t.Fatalf("login ended on %s, want R/login?error=...; chain %v", last, chain)
	}
	u, _ := url.Parse(app.base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "oauth_state" {
			t.Errorf("state cookie not cleared after failure")
		}
	}
	return last.Query().Get("error")
}

func TestOAuthFailures(t *testing.T) {
	tests := []struct {
		name  string
		fault chatauthtest.Misbehavior
		hook  chatauth.OAuthFunc
		code  string
		log   string
	}{
		{"provider error", chatauthtest.ErrorRedirect, nil, "access_denied", "error_description"},
		{"wrong state", chatauthtest.WrongState, nil, "invalid_state", "state"},
		{"no state", chatauthtest.NoState, nil, "missing_state", "without state"},
		{"failed exchange", chatauthtest.TokenServerError, nil, "exchange_failed", "HTTP 500"},
		{"garbage token response", chatauthtest.GarbageToken, nil, "exchange_failed", "token"},
		{"bad signature", chatauthtest.BadSignature, nil, "invalid_id_token", "signature"},
		{"unknown key", chatauthtest.UnknownKeyID, nil, "invalid_id_token", "kid"},
		{"alg none", chatauthtest.NoneAlgorithm, nil, "invalid_id_token", "id_token"},
		{"wrong nonce", chatauthtest.WrongNonce, nil, "invalid_id_token", "nonce"},
		{"wrong aud", chatauthtest.WrongAudience, nil, "invalid_id_token", "audience"},
		{"wrong iss", chatauthtest.WrongIssuer, nil, "invalid_id_token", "different provider"},
		{"expired id_token", chatauthtest.ExpiredIDToken, nil, "invalid_id_token", "expired"},
		{"several aud without azp", chatauthtest.MultipleAudiencesWithoutAzp, nil, "invalid_id_token", "azp"},
		{"wrong azp", chatauthtest.WrongAzp, nil, "invalid_id_token", "azp"},
		{"no id_token", chatauthtest.NoIDToken, nil, "invalid_id_token", "no id_token"},
		{"mix-up iss parameter", chatauthtest.WrongIssParam, nil, "invalid_state", "iss parameter"},
		{"userinfo error", chatauthtest.UserinfoError, nil, "userinfo_failed", "HTTP 500"},
		{"userinfo other subject", chatauthtest.WrongUserinfoSubject, nil, "userinfo_failed", "sub"},
		{"connection reset", chatauthtest.ResetConnection, nil, "exchange_failed", "token"},
		{"hook rejects", 0, func(context.Context, chatauth.OAuthLogin) (*chatauth.User, error) { return nil, nil }, "credentialssignin", "rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newOAuthApp(t, chatauth.Config{}, tt.hook)
			if tt.fault != 0 {
				app.idp.Misbehave(tt.fault)
			}
			code := loginExpectingError(t, app, newJarClient(), app.base+"/auth/oauth/corp")
			if code != tt.code {
				t.Errorf("error=%q, want %q; log:\n%s", code, tt.code, app.logs)
			}
			if !strings.Contains(app.logs.String(), tt.log) {
				t.Errorf("log does not explain the cause (%q):\n%s", tt.log, app.logs)
			}
		})
	}
}

func TestOAuthSlowProviderTimesOut(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{OAuth: chatauth.OAuthConfig{Timeout: 200 * 1e6}}, nil)
	app.idp.Misbehave(chatauthtest.SlowToken)
	if code := loginExpectingError(t, app, newJarClient(), app.base+"/auth/oauth/corp"); code != "exchange_failed" {
		t.Fatalf("error=%q", code)
	}
	if !strings.Contains(app.logs.String(), "timed out") && !strings.Contains(app.logs.String(), "deadline") {
		t.Errorf("log does not say it timed out:\n%s", app.logs)
	}
}

func TestOAuthStateReplayAndMissingCode(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{}, nil)
	c := newJarClient()
	q := callbackParams(t, app, c, "corp")
	u, _ := url.Parse(app.base)
	stolen := c.Jar.Cookies(u) // the state cookie as it was before the callback

	code := loginExpectingError(t, app, c, app.base+"/auth/oauth/corp/callback?state="+url.QueryEscape(q.Get("state")))
	if code != "missing_code" {
		t.Errorf("no code: error=%q", code)
	}
	// Replaying the same state with the old cookie is refused even though
	// the cookie still holds it.
	c2 := newJarClient()
	c2.Jar.SetCookies(u, stolen)
	if code := loginExpectingError(t, app, c2, app.base+"/auth/oauth/corp/callback?"+q.Encode()); code != "invalid_state" {
		t.Errorf("replay: error=%q", code)
	}
	if !strings.Contains(app.logs.String(), "already used") {
		t.Errorf("replay not explained:\n%s", app.logs)
	}
}

func TestOAuthStateFromAnotherProvider(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{}, nil)
	other := chatauthtest.NewProvider(t)
	if err := app.auth.AddProvider(context.Background(), other.Config("other")); err != nil {
		t.Fatal(err)
	}
	c := newJarClient()
	q := callbackParams(t, app, c, "corp")
	code := loginExpectingError(t, app, c, app.base+"/auth/oauth/other/callback?"+q.Encode())
	if code != "invalid_state" || !strings.Contains(app.logs.String(), `issued for provider \"corp\"`) {
		t.Errorf("error=%q, log:\n%s", code, app.logs)
	}
}

func TestOAuthForgedStateCookie(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{}, nil)
	c := newJarClient()
	q := callbackParams(t, app, c, "corp")
	u, _ := url.Parse(app.base)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "oauth_state", Value: "forged" + strings.Repeat("A", 80), Path: "/"}})
	if code := loginExpectingError(t, app, c, app.base+"/auth/oauth/corp/callback?"+q.Encode()); code != "invalid_state" {
		t.Errorf("error=%q", code)
	}
}

func TestOAuthParallelLogins(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{}, nil)
	// Two tabs of one browser: both start before either returns.
	c := newJarClient()
	q1 := callbackParams(t, app, c, "corp")
	app.idp.SetUser(chatauthtest.User{Subject: "u-2", Email: "second@example.com", EmailVerified: true})
	q2 := callbackParams(t, app, c, "corp")
	for _, q := range []url.Values{q2, q1} {
		resp, chain := app.idp.Login(t, c, app.base+"/auth/oauth/corp/callback?"+q.Encode())
		resp.Body.Close()
		if last := chain[len(chain)-1]; !strings.Contains(last, "/login/callback?success=True") {
			t.Fatalf("tab login ended on %s", last)
		}
	}
	// Two browsers at once, each ending with its own user and tokens.
	var wg sync.WaitGroup
	for i, email := range []string{"a@example.com", "b@example.com"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newJarClient()
			q := callbackParams(t, app, c, "corp")
			_ = i
			_ = email
			resp, err := c.Get(app.base + "/auth/oauth/corp/callback?" + q.Encode())
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if _, body := app.get(t, c, "/user"); !strings.Contains(body, "identifier") {
				t.Errorf("browser %d: %s", i, body)
			}
		}()
	}
	wg.Wait()
}

func TestOAuthRootPathAndBaseURL(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{RootPath: "/chat", BaseURL: "https://chat.example.com"}, nil)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(app.base + "/auth/oauth/corp")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if got := loc.Query().Get("redirect_uri"); got != "https://chat.example.com/chat/auth/oauth/corp/callback" {
		t.Errorf("redirect_uri %q", got)
	}
	if !strings.Contains(app.logs.String(), "https://chat.example.com/chat/auth/oauth/corp/callback") {
		t.Errorf("start-up log does not print the redirect URI:\n%s", app.logs)
	}
}

func TestOAuthRedirectURIBehindProxy(t *testing.T) {
	for _, tt := range []struct {
		name      string
		proxies   []string
		forwarded []string // ForwardedAllowIPs
		want      string
	}{
		{"trusted proxy", []string{"127.0.0.1/32"}, []string{"192.0.2.1"}, "https://public.example.com/chat/auth/oauth/corp/callback"},
		// Chainlit (uvicorn) believes a proxy on the same host by default.
		{"loopback proxy by default", nil, nil, "https://HOST/chat/auth/oauth/corp/callback"},
		{"untrusted peer", nil, []string{"192.0.2.1"}, "http://HOST/chat/auth/oauth/corp/callback"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := newOAuthApp(t, chatauth.Config{RootPath: "/chat", Proxy: chatauth.ProxyConfig{Trusted: tt.proxies, ForwardedAllowIPs: tt.forwarded}}, nil)
			req, _ := http.NewRequest("GET", app.base+"/auth/oauth/corp", nil)
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("X-Forwarded-Host", "public.example.com")
			resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			want := strings.Replace(tt.want, "HOST", strings.TrimPrefix(app.srv.URL, "http://"), 1)
			if got := loc.Query().Get("redirect_uri"); got != want {
				t.Errorf("redirect_uri %q, want %q", got, want)
			}
		})
	}
}

func TestOAuthRememberedRedirect(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{RootPath: "/chat"}, nil)
	c := newJarClient()
	resp, chain := app.idp.Login(t, c, app.base+"/auth/oauth/corp?redirect="+url.QueryEscape("/chat/room/7?x=1"))
	resp.Body.Close()
	if last := chain[len(chain)-1]; !strings.HasSuffix(last, "/chat/room/7?x=1") {
		t.Errorf("ended on %s", last)
	}
	for _, bad := range []string{"//evil.example", "https://evil.example/", "/\\evil.example", "/other"} {
		resp, err := c.Get(app.base + "/auth/oauth/corp?redirect=" + url.QueryEscape(bad))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("redirect %q: status %d", bad, resp.StatusCode)
		}
	}
}

func TestOAuthFormPost(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{}, nil, func(p *chatauth.Provider) { p.ResponseMode = "form_post" })
	c := app.idp.LoginClient(t, app.base, "corp")
	if status, _ := app.get(t, c, "/user"); status != 200 {
		t.Fatalf("/user after form_post login: %d", status)
	}
}

func TestOAuthTokenSourceRefreshes(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{OAuth: chatauth.OAuthConfig{KeepProviderTokens: true}}, nil)
	app.idp.SetTokenLifetime(1e9) // one second: x/oauth2 treats it as expired at once
	c := app.idp.LoginClient(t, app.base, "corp")
	if status, _ := app.get(t, c, "/user"); status != 200 {
		t.Fatal("no session")
	}
	src, err := app.auth.TokenSource(context.Background(), chatauthtest.TestUser.Email, "corp")
	if err != nil {
		t.Fatal(err)
	}
	before := app.idp.Refreshes()
	tok, err := src.Token()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("token %v %v", tok, err)
	}
	if app.idp.Refreshes() != before+1 {
		t.Errorf("refreshes %d -> %d", before, app.idp.Refreshes())
	}
	// The session cookie does not carry the provider's tokens.
	u, _ := url.Parse(app.base)
	for _, ck := range c.Jar.Cookies(u) {
		if strings.Contains(ck.Value, tok.AccessToken) {
			t.Error("access token in a cookie")
		}
	}
	if _, err := app.auth.TokenSource(context.Background(), "nobody@example.com", "corp"); err == nil {
		t.Error("token source for a user who never logged in")
	}
}

func TestOAuthKeyRotation(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{}, nil)
	app.idp.LoginClient(t, app.base, "corp")
	app.idp.RotateKey()
	app.idp.DropPreviousKeys()
	// A new kid: the JWKS is fetched again and the login works.
	app.idp.LoginClient(t, app.base, "corp")
}

func TestOAuthHookErrorAndPanic(t *testing.T) {
	for name, hook := range map[string]chatauth.OAuthFunc{
		"error": func(context.Context, chatauth.OAuthLogin) (*chatauth.User, error) { return nil, io.ErrUnexpectedEOF },
		"panic": func(context.Context, chatauth.OAuthLogin) (*chatauth.User, error) { panic("boom") },
	} {
		t.Run(name, func(t *testing.T) {
			app := newOAuthApp(t, chatauth.Config{}, hook)
			resp, _ := app.idp.Login(t, newJarClient(), app.base+"/auth/oauth/corp")
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 500 || strings.Contains(string(body), "boom") || strings.Contains(string(body), "EOF") {
				t.Errorf("%d %s", resp.StatusCode, body)
			}
		})
	}
}

func TestRPInitiatedLogout(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{OAuth: chatauth.OAuthConfig{ProviderLogout: true}}, nil)
	c := app.idp.LoginClient(t, app.base, "corp")
	req, _ := http.NewRequest("POST", app.base+"/logout", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Success  bool
		Redirect string
	}
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	target, err := url.Parse(body.Redirect)
	if err != nil || !body.Success || !strings.HasPrefix(body.Redirect, app.idp.Issuer) {
		t.Fatalf("logout answer %+v", body)
	}
	q := target.Query()
	if q.Get("id_token_hint") == "" || q.Get("state") == "" || q.Get("post_logout_redirect_uri") != app.base+"/login" {
		t.Errorf("end_session parameters %v", q)
	}
	if strings.Contains(app.logs.String(), q.Get("id_token_hint")) {
		t.Error("id_token_hint logged")
	}
	// The browser follows it: the provider ends its session and sends it
	// back to the login page.
	final, err := c.Get(body.Redirect)
	if err != nil {
		t.Fatal(err)
	}
	final.Body.Close()
	if final.Request.URL.Path != "/login" || len(app.idp.EndSessions()) != 1 {
		t.Errorf("ended on %s, end sessions %v", final.Request.URL, app.idp.EndSessions())
	}
	if status, _ := app.get(t, c, "/user"); status != 401 {
		t.Errorf("/user after logout: %d", status)
	}
}

func TestSameUnverifiedEmailFromTwoProvidersStaysTwoUsers(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{}, nil)
	other := chatauthtest.NewProvider(t)
	if err := app.auth.AddProvider(context.Background(), other.Config("other")); err != nil {
		t.Fatal(err)
	}
	same := chatauthtest.User{Subject: "s-1", Email: "ceo@example.com", EmailVerified: false, Name: "CEO?"}
	app.idp.SetUser(same)
	other.SetUser(same)
	var ids []string
	for _, p := range []*chatauthtest.Provider{app.idp, other} {
		id := map[*chatauthtest.Provider]string{app.idp: "corp", other: "other"}[p]
		c := p.LoginClient(t, app.base, id)
		_, body := app.get(t, c, "/user")
		var u chatauth.User
		if err := json.Unmarshal([]byte(body), &u); err != nil {
			t.Fatal(err)
		}
		if u.Metadata["email_unverified"] != true || u.Metadata["email"] != "ceo@example.com" {
			t.Errorf("%s: metadata %v", id, u.Metadata)
		}
		ids = append(ids, u.Identifier)
	}
	if ids[0] != "corp:s-1" || ids[1] != "other:s-1" {
		t.Errorf("identifiers %v: the same unverified e-mail must not make one user", ids)
	}
}

// TestOAuthRedirectURIKeepsBaseURLPath: CHAINLIT_URL with a path (a proxy
// serving the app under a prefix it strips) keeps its path in the redirect
// URI, as Chainlit's get_user_facing_url does, before the root path; the
// origin of such a BaseURL may still POST.
func TestOAuthRedirectURIKeepsBaseURLPath(t *testing.T) {
	for _, tt := range []struct {
		name, base, root, want string
	}{
		{"path", "https://x.example/chat", "", "https://x.example/chat/auth/oauth/corp/callback"},
		{"path with trailing slash", "https://x.example/chat/", "", "https://x.example/chat/auth/oauth/corp/callback"},
		{"path and root path", "https://x.example/team", "/app", "https://x.example/team/app/auth/oauth/corp/callback"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := newOAuthApp(t, chatauth.Config{BaseURL: tt.base, RootPath: tt.root}, nil)
			noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := noFollow.Get(app.base + "/auth/oauth/corp")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if got := loc.Query().Get("redirect_uri"); got != tt.want {
				t.Errorf("redirect_uri %q, want %q", got, tt.want)
			}
			if !strings.Contains(app.logs.String(), tt.want) {
				t.Errorf("start-up log does not print %s:\n%s", tt.want, app.logs)
			}
			req, _ := http.NewRequest(http.MethodPost, app.base+"/logout", nil)
			req.Header.Set("Origin", "https://x.example")
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("POST from BaseURL's origin: %d, want 200", resp.StatusCode)
			}
		})
	}
}

// TestAddProviderWarnsWhenRedirectURIComesFromHost is issue 11's recipe
// 12: with providers and neither BaseURL nor trusted proxies, the redirect
// URI comes from the Host header, and AddProvider says so at start-up, one
// warning naming the fix.
func TestAddProviderWarnsWhenRedirectURIComesFromHost(t *testing.T) {
	const fix = "set CHAINLIT_URL (Config.BaseURL)"
	for _, tt := range []struct {
		name string
		cfg  chatauth.Config
		warn bool
	}{
		{"neither", chatauth.Config{}, true},
		{"BaseURL", chatauth.Config{BaseURL: "https://chat.example.com"}, false},
		{"trusted proxies", chatauth.Config{Proxy: chatauth.ProxyConfig{Trusted: []string{"10.0.0.5"}}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logs := &testutil.LogBuffer{}
			tt.cfg.Secret = []byte("chatauth-test-secret-0123456789abcdef")
			tt.cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
			a, err := chatauth.New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = a.AddProvider(context.Background(), &chatauth.Provider{ID: "corp", ClientID: "c", ClientSecret: "s",
				AuthURL: "https://id.example.com/authorize", TokenURL: "https://id.example.com/token"})
			if err != nil {
				t.Fatal(err)
			}
			out := logs.String()
			// Counted among the warnings about the redirect URI (New also
			// warns that revocations are kept in memory).
			if got := strings.Count(out, "redirect URI taken from each request"); (got == 1) != tt.warn || (tt.warn && !strings.Contains(out, fix)) {
				t.Errorf("%d warnings, want %v naming %q:\n%s", got, tt.warn, fix, out)
			}
		})
	}
}

// TestLogoutHookRedirectAfterProviderLogout: a logout hook's redirect no
// longer cancels RP-initiated logout; the provider logs the user out and
// sends the browser on to the hook's target, registered at the provider
// as a post_logout_redirect_uri. A target that cannot be one falls back to
// the default, with a log line.
func TestLogoutHookRedirectAfterProviderLogout(t *testing.T) {
	for _, tt := range []struct {
		name, target, want string // want: the post_logout_redirect_uri, after the base URL
		loggedBad          bool
	}{
		{name: "path", target: "/goodbye", want: "/goodbye"},
		{name: "relative", target: "goodbye?from=chat", want: "/goodbye?from=chat"},
		{name: "absolute", target: "https://www.example.com/bye", want: "https://www.example.com/bye"},
		{name: "unusable", target: "javascript:alert(1)", want: "/login", loggedBad: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := newOAuthApp(t, chatauth.Config{OAuth: chatauth.OAuthConfig{ProviderLogout: true}}, nil)
			app.auth.OnLogout(func(w http.ResponseWriter, r *http.Request, u *chatauth.User) {
				chatauth.SetLogoutRedirect(w, tt.target)
			})
			want := tt.want
			if strings.HasPrefix(want, "/") {
				want = app.base + want
			}
			app.idp.AllowPostLogoutRedirectURI(want)
			c := app.idp.LoginClient(t, app.base, "corp")
			redirect := app.logout(t, c)
			end, err := url.Parse(redirect)
			if err != nil || !strings.HasPrefix(redirect, app.idp.Issuer) {
				t.Fatalf("logout redirect %q is not the provider's", redirect)
			}
			if got := end.Query().Get("post_logout_redirect_uri"); got != want {
				t.Errorf("post_logout_redirect_uri %q, want %q", got, want)
			}
			if bad := strings.Contains(app.logs.String(), "auth.reason=bad_redirect"); bad != tt.loggedBad {
				t.Errorf("bad_redirect logged: %v, want %v:\n%s", bad, tt.loggedBad, app.logs)
			}
			if strings.HasPrefix(want, app.base) {
				final, err := c.Get(redirect) // the provider logs out, then sends the browser back
				if err != nil {
					t.Fatal(err)
				}
				final.Body.Close()
				if got := final.Request.URL.String(); !strings.HasPrefix(got, want) || len(app.idp.EndSessions()) != 1 {
					t.Errorf("ended on %s, want %s; end sessions %v", got, want, app.idp.EndSessions())
				}
			}
		})
	}
}

// TestProviderTokensEndWithLogout: the provider's tokens and the kept
// id_token leave the TokenStore at logout, EndSession and RevokeUser,
// unless the app keeps them with KeepProviderTokensAfterLogout (the
// id_token goes either way).
func TestProviderTokensEndWithLogout(t *testing.T) {
	user := chatauthtest.TestUser.Email
	for _, keep := range []bool{false, true} {
		for name, end := range map[string]func(t *testing.T, app *oauthApp, c *http.Client){
			"logout": func(t *testing.T, app *oauthApp, c *http.Client) { app.logout(t, c) },
			"EndSession": func(t *testing.T, app *oauthApp, c *http.Client) {
				req := httptest.NewRequest("POST", app.base+"/bye", nil)
				for _, ck := range c.Jar.Cookies(req.URL) {
					req.AddCookie(ck)
				}
				if s, err := app.auth.EndSession(httptest.NewRecorder(), req); s == nil || err != nil {
					t.Fatalf("EndSession: %v %v", s, err)
				}
			},
			"RevokeUser": func(t *testing.T, app *oauthApp, c *http.Client) {
				if err := app.auth.EndUserSessions(context.Background(), user); err != nil {
					t.Fatal(err)
				}
			},
		} {
			t.Run(fmt.Sprintf("%s, kept after logout: %v", name, keep), func(t *testing.T) {
				tokens := chatauth.NewMemoryTokenStore()
				app := newOAuthApp(t, chatauth.Config{
					OAuth: chatauth.OAuthConfig{
						KeepProviderTokens:            true,
						KeepProviderTokensAfterLogout: keep,
						ProviderLogout:                true,
					},
					Stores: chatauth.StoresConfig{
						Tokens: tokens,
					},
				}, nil)
				c := app.idp.LoginClient(t, app.base, "corp")
				ctx := context.Background()
				if _, err := tokens.Token(ctx, user, "corp"); err != nil {
					t.Fatalf("provider token not kept: %v", err)
				}
				if _, err := tokens.Token(ctx, user, "id_token:corp"); err != nil {
					t.Fatalf("id_token not kept: %v", err)
				}
				end(t, app, c)
				_, err := app.auth.TokenSource(ctx, user, "corp")
				if keep != (err == nil) || (err != nil && !errors.Is(err, chatauth.ErrNoToken)) {
					t.Errorf("TokenSource after %s: %v", name, err)
				}
				if _, err := tokens.Token(ctx, user, "id_token:corp"); !errors.Is(err, chatauth.ErrNoToken) {
					t.Errorf("id_token still kept: %v", err)
				}
			})
		}
	}
}

func TestTokenSourceNamesKeepProviderTokens(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{}, nil)
	app.idp.LoginClient(t, app.base, "corp")
	_, err := app.auth.TokenSource(context.Background(), chatauthtest.TestUser.Email, "corp")
	if !errors.Is(err, chatauth.ErrNoToken) || !strings.Contains(err.Error(), "KeepProviderTokens") {
		t.Errorf("TokenSource without KeepProviderTokens: %v", err)
	}
}

// TestOAuthSessionTooLarge: a user from the OAuth hook too large for the
// cookie budget is the app's data: 500 session_too_large, as at every
// other login.
func TestOAuthSessionTooLarge(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{}, func(context.Context, chatauth.OAuthLogin) (*chatauth.User, error) {
		return &chatauth.User{Identifier: "ada", Metadata: map[string]any{"groups": strings.Repeat("g", 20000)}}, nil
	})
	resp, _ := app.idp.Login(t, newJarClient(), app.base+"/auth/oauth/corp")
	resp.Body.Close()
	if resp.StatusCode != 500 || !strings.Contains(app.logs.String(), "auth.reason=session_too_large") {
		t.Errorf("%d\n%s", resp.StatusCode, app.logs)
	}
}

// TestOAuthPersistTooLarge: the OAuth callback's tail is the one every
// login has: a stored user too large for the cookie budget is 500
// session_too_large, and the persistence hook runs once.
func TestOAuthPersistTooLarge(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{}, nil)
	var calls atomic.Int32
	app.auth.OnPersist(func(context.Context, *chatauth.User) (*chatauth.User, error) {
		calls.Add(1)
		return &chatauth.User{Identifier: "ada", Metadata: map[string]any{"groups": strings.Repeat("g", 20000)}}, nil
	})
	resp, _ := app.idp.Login(t, newJarClient(), app.base+"/auth/oauth/corp")
	resp.Body.Close()
	if resp.StatusCode != 500 || !strings.Contains(app.logs.String(), "auth.reason=session_too_large") || calls.Load() != 1 {
		t.Errorf("%d, persist calls %d\n%s", resp.StatusCode, calls.Load(), app.logs)
	}
}

// authorizeParams starts a login with c and returns the authorize request's
// parameters, without following the redirect to the provider.
func authorizeParams(t *testing.T, app *oauthApp, c *http.Client) url.Values {
	t.Helper()
	noFollow := *c
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(app.base + "/auth/oauth/corp")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("start: %s", resp.Status)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query()
}

// hasSession reports whether GET R/user with the jar client c finds a
// valid session.
func hasSession(t *testing.T, app *oauthApp, c *http.Client) bool {
	t.Helper()
	status, _ := app.get(t, c, "/user")
	return status == http.StatusOK
}

// TestSecurityOAuthState covers RFC 9700 2.1, 2.1.1, 4.5 and 4.7 (ASVS
// 10.1.2, 10.2.1): state, PKCE verifier and nonce are fresh, unguessable,
// per transaction and bound to the browser that started the login.
func TestSecurityOAuthState(t *testing.T) {
	t.Run("fresh_random_values", func(t *testing.T) {
		app := newOAuthApp(t, chatauth.Config{}, nil)
		c := newJarClient()
		q1, q2 := authorizeParams(t, app, c), authorizeParams(t, app, c)
		for _, q := range []url.Values{q1, q2} {
			testutil.WantRandomBytes(t, "state", q.Get("state"), 16)
			testutil.WantRandomBytes(t, "nonce", q.Get("nonce"), 16)
			if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
				t.Errorf("PKCE %q %q, want S256", q.Get("code_challenge_method"), q.Get("code_challenge"))
			}
			if q.Get("response_type") != "code" {
				t.Errorf("response_type %q: only the code flow is used", q.Get("response_type"))
			}
		}
		for _, k := range []string{"state", "nonce", "code_challenge"} {
			if q1.Get(k) == q2.Get(k) {
				t.Errorf("%s repeated across logins", k)
			}
		}
	})
	t.Run("bound_to_the_browser", func(t *testing.T) {
		// Login CSRF: the attacker's own authorization response, delivered
		// to the victim's browser, must not log the victim in.
		app := newOAuthApp(t, chatauth.Config{}, nil)
		attacker, victim := newJarClient(), newJarClient()
		q := callbackParams(t, app, attacker, "corp")
		if code := loginExpectingError(t, app, victim, app.base+"/auth/oauth/corp/callback?"+q.Encode()); code != "invalid_state" {
			t.Errorf("error=%q, want invalid_state", code)
		}
		if hasSession(t, app, victim) {
			t.Error("victim got a session from the attacker's response")
		}
	})
	t.Run("code_injection_refused_by_PKCE", func(t *testing.T) {
		// A stolen code replayed in the attacker's own login, with the
		// attacker's valid state: the code is bound to the victim's PKCE
		// challenge, so the exchange fails.
		app := newOAuthApp(t, chatauth.Config{}, nil)
		victim, attacker := newJarClient(), newJarClient()
		stolen := callbackParams(t, app, victim, "corp")
		own := callbackParams(t, app, attacker, "corp")
		own.Set("code", stolen.Get("code"))
		if code := loginExpectingError(t, app, attacker, app.base+"/auth/oauth/corp/callback?"+own.Encode()); code != "exchange_failed" {
			t.Errorf("error=%q, want exchange_failed", code)
		}
		if hasSession(t, app, attacker) {
			t.Error("attacker got a session with the victim's code")
		}
	})
	t.Run("PKCE_S256_for_plain_OAuth2", func(t *testing.T) {
		// Providers without OpenID (GitHub, Generic...) get PKCE too.
		app := newOAuthApp(t, chatauth.Config{}, nil, func(p *chatauth.Provider) {
			iss := p.Issuer
			*p = *providers.Generic(providers.GenericOptions{ID: "corp", ClientID: p.ClientID, ClientSecret: p.ClientSecret,
				AuthURL: iss + chatauthtest.AuthorizePath, TokenURL: iss + chatauthtest.TokenPath, UserInfoURL: iss + chatauthtest.UserinfoPath,
				Scopes: []string{"profile", "email"}})
		})
		c := app.idp.LoginClient(t, app.base, "corp")
		if !hasSession(t, app, c) {
			t.Fatal("no session after a plain OAuth2 login")
		}
		q := app.idp.LastAuthorize()
		if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") != "" {
			t.Errorf("authorize %v: want PKCE S256 and no nonce", q)
		}
		if app.idp.LastToken().Get("code_verifier") == "" {
			t.Error("token request without code_verifier")
		}
	})
	t.Run("exact_redirect_uri", func(t *testing.T) {
		// The redirect URI is computed one way and registered exactly; the
		// token request repeats the authorize request's.
		app := newOAuthApp(t, chatauth.Config{}, nil)
		app.idp.AllowRedirectURI(app.base + "/auth/oauth/corp/callback")
		app.idp.LoginClient(t, app.base, "corp")
		if a, tk := app.idp.LastAuthorize().Get("redirect_uri"), app.idp.LastToken().Get("redirect_uri"); a != app.base+"/auth/oauth/corp/callback" || tk != a {
			t.Errorf("redirect_uri authorize %q, token %q", a, tk)
		}
	})
}

// TestSecurityMixUp covers RFC 9700 4.4.2.1 and RFC 9207 2.4 (ASVS
// 10.2.2, 10.5.3): the iss parameter is compared with the issuer when
// sent, and required from providers that advertise it.
func TestSecurityMixUp(t *testing.T) {
	// manual skips discovery: the provider's endpoints are configured by
	// hand, so its support for iss is unknown.
	manual := func(p *chatauth.Provider) {
		iss := p.Issuer
		p.AuthURL, p.TokenURL = iss+chatauthtest.AuthorizePath, iss+chatauthtest.TokenPath
		p.UserInfoURL, p.JWKSURL = iss+chatauthtest.UserinfoPath, iss+chatauthtest.JWKSPath
	}
	t.Run("iss_required_when_advertised", func(t *testing.T) {
		var p *chatauth.Provider
		app := newOAuthApp(t, chatauth.Config{}, nil, func(cp *chatauth.Provider) { p = cp })
		if !p.RequireIssParameter {
			t.Fatal("discovery advertises authorization_response_iss_parameter_supported; RequireIssParameter not set")
		}
		c := newJarClient()
		q := callbackParams(t, app, c, "corp")
		q.Del("iss")
		if code := loginExpectingError(t, app, c, app.base+"/auth/oauth/corp/callback?"+q.Encode()); code != "invalid_state" {
			t.Errorf("error=%q, want invalid_state", code)
		}
		if !strings.Contains(app.logs.String(), "iss parameter missing") {
			t.Errorf("log does not explain:\n%s", app.logs)
		}
	})
	t.Run("iss_optional_when_not_advertised", func(t *testing.T) {
		app := newOAuthApp(t, chatauth.Config{}, nil, manual)
		c := newJarClient()
		q := callbackParams(t, app, c, "corp")
		q.Del("iss")
		resp, err := c.Get(app.base + "/auth/oauth/corp/callback?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !hasSession(t, app, c) {
			t.Errorf("login without iss refused from a provider that does not send it; ended on %s", resp.Request.URL)
		}
	})
	t.Run("wrong_iss_refused_when_not_advertised", func(t *testing.T) {
		app := newOAuthApp(t, chatauth.Config{}, nil, manual)
		app.idp.Misbehave(chatauthtest.WrongIssParam)
		if code := loginExpectingError(t, app, newJarClient(), app.base+"/auth/oauth/corp"); code != "invalid_state" {
			t.Errorf("error=%q, want invalid_state", code)
		}
	})
	t.Run("tenant_template_issuer", func(t *testing.T) {
		// A multi-tenant issuer ("https://login.microsoftonline.com/{tenantid}/v2.0")
		// matches the iss of any one tenant, and the id_token's iss its tid.
		// Here the provider's host:port plays the tenant.
		tenant := ""
		app := newOAuthApp(t, chatauth.Config{}, nil, manual, func(p *chatauth.Provider) {
			tenant = strings.TrimPrefix(p.Issuer, "http://")
			p.Issuer = "http://{tenantid}"
		})
		u := chatauthtest.TestUser
		u.Claims = map[string]any{"tid": tenant}
		app.idp.SetUser(u)
		if !hasSession(t, app, app.idp.LoginClient(t, app.base, "corp")) {
			t.Fatal("no session")
		}
		app.idp.Misbehave(chatauthtest.WrongIssParam)
		if code := loginExpectingError(t, app, newJarClient(), app.base+"/auth/oauth/corp"); code != "invalid_state" {
			t.Errorf("iss of another issuer: error=%q, want invalid_state", code)
		}
	})
	t.Run("discovery_issuer_must_match", func(t *testing.T) {
		idp := chatauthtest.NewProvider(t)
		a, err := chatauth.New(chatauth.Config{Secret: []byte(strings.Repeat("x", 32)), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		p := providers.OIDC(providers.OIDCOptions{ID: "corp", Issuer: idp.Issuer + "/", ClientID: idp.ClientID, ClientSecret: idp.ClientSecret})
		if err := a.AddProvider(context.Background(), p); err == nil || !strings.Contains(err.Error(), "discovery names issuer") {
			t.Errorf("AddProvider with metadata of another issuer: %v", err)
		}
	})
}

// tamperingTokenEndpoint stands between the app and the provider's
// token endpoint (a malicious provider, or a network attacker) and
// replaces the id_token of every answer with tamper(claims).
func tamperingTokenEndpoint(t *testing.T, idp *chatauthtest.Provider, tamper func(t *testing.T, claims jwt.MapClaims) string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, idp.Issuer+chatauthtest.TokenPath, strings.NewReader(string(body)))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var answer map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if raw, ok := answer["id_token"].(string); ok {
			claims := jwt.MapClaims{}
			if _, _, err := jwt.NewParser().ParseUnverified(raw, claims); err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			answer["id_token"] = tamper(t, claims)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(resp.StatusCode)
		_ = json.NewEncoder(w).Encode(answer)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// providerKey reads the provider's current RSA public key from its JWKS.
func providerKey(t *testing.T, idp *chatauthtest.Provider) *rsa.PublicKey {
	t.Helper()
	resp, err := http.Get(idp.Issuer + chatauthtest.JWKSPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kid, N, E string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Kid != idp.KeyID() {
			continue
		}
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		e, _ := base64.RawURLEncoding.DecodeString(k.E)
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	t.Fatal("current key not in the JWKS")
	return nil
}

// TestSecurityIDToken covers RFC 8725 2.1, 3.1 and 3.2 (ASVS 6.8.2, 9.1.1
// to 9.1.3) for id_tokens: only asymmetric algorithms with the issuer's
// published keys; keys named in the token's own header are never used.
func TestSecurityIDToken(t *testing.T) {
	attackerKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	attackerJWKSHits := atomic.Int32{}
	attackerJWKS := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attackerJWKSHits.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": "attacker", "alg": "RS256", "use": "sig",
			"n": base64.RawURLEncoding.EncodeToString(attackerKey.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(attackerKey.E)).Bytes()),
		}}})
	}))
	t.Cleanup(attackerJWKS.Close)

	// sign runs in the tampering server's goroutine: it reports, never
	// stops the test.
	sign := func(t *testing.T, m jwt.SigningMethod, key any, claims jwt.MapClaims, header map[string]any) string {
		tok := jwt.NewWithClaims(m, claims)
		for k, v := range header {
			tok.Header[k] = v
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Errorf("signing the forged id_token: %v", err)
		}
		return s
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, idp *chatauthtest.Provider) func(*testing.T, jwt.MapClaims) string
	}{
		{"HS256_with_the_public_key_as_secret", func(t *testing.T, idp *chatauthtest.Provider) func(*testing.T, jwt.MapClaims) string {
			// Key confusion: the verifier's RSA public key, as PEM, used as
			// an HMAC secret.
			der, err := x509.MarshalPKIXPublicKey(providerKey(t, idp))
			if err != nil {
				t.Fatal(err)
			}
			pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			return func(t *testing.T, c jwt.MapClaims) string {
				return sign(t, jwt.SigningMethodHS256, pemKey, c, map[string]any{"kid": idp.KeyID()})
			}
		}},
		{"HS256_with_the_client_secret", func(t *testing.T, idp *chatauthtest.Provider) func(*testing.T, jwt.MapClaims) string {
			return func(t *testing.T, c jwt.MapClaims) string {
				return sign(t, jwt.SigningMethodHS256, []byte(idp.ClientSecret), c, nil)
			}
		}},
		{"embedded_jwk_header", func(t *testing.T, idp *chatauthtest.Provider) func(*testing.T, jwt.MapClaims) string {
			return func(t *testing.T, c jwt.MapClaims) string {
				jwk := map[string]string{"kty": "RSA", "kid": idp.KeyID(),
					"n": base64.RawURLEncoding.EncodeToString(attackerKey.N.Bytes()), "e": "AQAB"}
				return sign(t, jwt.SigningMethodRS256, attackerKey, c, map[string]any{"kid": idp.KeyID(), "jwk": jwk})
			}
		}},
		{"jku_header", func(t *testing.T, idp *chatauthtest.Provider) func(*testing.T, jwt.MapClaims) string {
			return func(t *testing.T, c jwt.MapClaims) string {
				return sign(t, jwt.SigningMethodRS256, attackerKey, c, map[string]any{"kid": "attacker", "jku": attackerJWKS.URL})
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp := chatauthtest.NewProvider(t)
			tamperer := tamperingTokenEndpoint(t, idp, tt.tamper(t, idp))
			app := newOAuthApp(t, chatauth.Config{}, nil, func(p *chatauth.Provider) {
				*p = *idp.Config("corp")
				p.TokenURL = tamperer.URL
			})
			app.idp = idp // the provider the app uses, in place of the one newOAuthApp made
			c := newJarClient()
			if code := loginExpectingError(t, app, c, app.base+"/auth/oauth/corp"); code != "invalid_id_token" {
				t.Errorf("error=%q, want invalid_id_token; log:\n%s", code, app.logs)
			}
			if hasSession(t, app, c) {
				t.Error("session from a forged id_token")
			}
		})
	}
	if n := attackerJWKSHits.Load(); n != 0 {
		t.Errorf("the jku named in a token was fetched %d times", n)
	}
}

// TestSecurityTokenSeparation covers RFC 8725 2.8, 3.11 and 3.12 (ASVS
// 9.2.2) and RFC 9700 4.2/4.3 (ASVS 10.1.1): a provider's id_token is
// never taken for a session, and the provider's tokens never reach the
// browser, the session token or a URL.
func TestSecurityTokenSeparation(t *testing.T) {
	var mu sync.Mutex
	var login chatauth.OAuthLogin
	app := newOAuthApp(t, chatauth.Config{}, func(_ context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) {
		mu.Lock()
		login = l
		mu.Unlock()
		return l.User, nil
	})
	c := newJarClient()
	resp, chain := app.idp.Login(t, c, app.base+"/auth/oauth/corp")
	resp.Body.Close()
	mu.Lock()
	idToken, access, refresh := login.IDToken, login.Token.AccessToken, login.Token.RefreshToken
	mu.Unlock()
	if idToken == "" || access == "" || refresh == "" {
		t.Fatalf("login gave id_token %t, access %t, refresh %t", idToken != "", access != "", refresh != "")
	}
	secrets := map[string]string{"id_token": idToken, "access token": access, "refresh token": refresh}

	t.Run("provider_tokens_not_in_cookies_or_urls", func(t *testing.T) {
		base, _ := url.Parse(app.base)
		var session string
		for _, ck := range c.Jar.Cookies(base) {
			for what, s := range secrets {
				if strings.Contains(ck.Value, s) {
					t.Errorf("%s in cookie %s", what, ck.Name)
				}
			}
			if ck.Name == app.auth.CookieName() {
				session = ck.Value
			}
		}
		if session == "" {
			t.Fatal("no session cookie")
		}
		claims := testutil.JWTPart(t, session, 1)
		keys := make([]string, 0, len(claims))
		for k := range claims {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !slices.Contains([]string{"display_name", "exp", "iat", "iatms", "identifier", "jti", "metadata", "prv", "sid"}, k) {
				t.Errorf("session token claim %q (claims %v)", k, keys)
			}
		}
		for _, u := range chain {
			for what, s := range secrets {
				if strings.Contains(u, s) || strings.Contains(u, url.QueryEscape(s)) {
					t.Errorf("%s in URL %s", what, u)
				}
			}
		}
		_, body := app.get(t, c, "/user")
		for what, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("%s in /user", what)
			}
		}
	})
	t.Run("id_token_is_not_a_session", func(t *testing.T) {
		ask := func(req *http.Request) int {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		req, _ := http.NewRequest(http.MethodGet, app.base+"/user", nil)
		req.AddCookie(&http.Cookie{Name: app.auth.CookieName(), Value: idToken})
		if s := ask(req); s != http.StatusUnauthorized {
			t.Errorf("id_token as session cookie: %d", s)
		}
		req, _ = http.NewRequest(http.MethodGet, app.base+"/user", nil)
		req.Header.Set("Authorization", "Bearer "+idToken)
		if s := ask(req); s != http.StatusUnauthorized {
			t.Errorf("id_token as bearer: %d", s)
		}
		req, _ = http.NewRequest(http.MethodPost, app.base+"/auth/jwt", nil)
		req.Header.Set("Authorization", "Bearer "+idToken)
		if s := ask(req); s != http.StatusUnauthorized {
			t.Errorf("id_token at /auth/jwt: %d", s)
		}
	})
}

// TestSecurityRedirects covers RFC 9700 4.11 and 4.12: the callback
// answers a POST (form_post) with 302, which browsers follow with a GET
// without the body, never 307/308, and a failed callback goes to the fixed
// login page, not to a target named in the request.
func TestSecurityRedirects(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{}, nil)
	noFollow := newJarClient()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	post := func(q url.Values) *http.Response {
		t.Helper()
		resp, err := noFollow.PostForm(app.base+"/auth/oauth/corp/callback", q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	q := callbackParams(t, app, noFollow, "corp")
	if resp := post(q); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/login/callback?success=True" {
		t.Errorf("form_post callback: %s to %q, want 302 to /login/callback?success=True", resp.Status, resp.Header.Get("Location"))
	}
	q.Set("redirect", "https://evil.example/")
	q.Set("redirect_uri", "https://evil.example/")
	if resp := post(q); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/login?error=invalid_state" {
		t.Errorf("replayed form_post callback: %s to %q, want 302 to /login?error=invalid_state", resp.Status, resp.Header.Get("Location"))
	}
}

// TestOAuthLoginEndsThePreviousSession covers ASVS 7.2.4 for OAuth: the
// session the browser had before an OAuth login is revoked.
func TestOAuthLoginEndsThePreviousSession(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{}, nil)
	old := chatauthtest.SessionCookie(t, app.auth, chatauth.User{Identifier: "someone-else"})
	c := newJarClient()
	base, _ := url.Parse(app.base)
	c.Jar.SetCookies(base, []*http.Cookie{old})
	resp, chain := app.idp.Login(t, c, app.base+"/auth/oauth/corp")
	resp.Body.Close()
	if !strings.Contains(chain[len(chain)-1], "success=True") {
		t.Fatalf("login ended on %s", chain[len(chain)-1])
	}
	if s := oauthUserStatus(t, app.auth, old); s != http.StatusUnauthorized {
		t.Errorf("previous session after an OAuth login: %d, want 401", s)
	}
}
