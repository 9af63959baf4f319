package chatauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// addTestProvider adds p, made routable by a hand-filled endpoint set.
func addTestProvider(t *testing.T, a *Auth, p *Provider) {
	t.Helper()
	p.AuthURL, p.TokenURL, p.Issuer, p.JWKSURL = "https://idp.example/auth", "https://idp.example/token", "", ""
	if err := a.AddProvider(context.Background(), p); err != nil {
		t.Fatalf("AddProvider(%s): %v", p.ID, err)
	}
}

func TestLoginMethods(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	if got := a.LoginMethods(); got.Password || got.Header || got.Providers == nil || len(got.Providers) != 0 {
		t.Fatalf("nothing registered: %+v", got)
	}
	a.OnPassword(acceptUser(&User{Identifier: "ada"}))
	a.OnHeaderCredential(func(context.Context, http.Header) (*User, error) { return nil, nil })
	// Providers as the presets of package providers build them (which
	// this package's tests cannot import): ID, Name and Preset matter here.
	preset := func(id, name, preset string) *Provider {
		return &Provider{ID: id, Name: name, Preset: preset, ClientID: "id", ClientSecret: "s",
			AuthURL: "https://" + preset + ".example/a", TokenURL: "https://" + preset + ".example/t"}
	}
	for _, p := range []*Provider{
		preset("gitlab", "GitLab", "gitlab"),
		preset("corp", "", "keycloak"),
		preset("github", "GitHub", "github"),
		preset("oidc", "OpenID Connect", "oidc"),
		{ID: "zitadel", ClientID: "id", ClientSecret: "s", AuthURL: "https://z.example/a", TokenURL: "https://z.example/t"},
		preset("azure-ad-hybrid", "Microsoft", "azure-ad-hybrid"),
	} {
		addTestProvider(t, a, p)
	}
	// No order trap: providers are listed without OnOAuth (the default
	// hook takes the login's User).
	if got := a.LoginMethods().Providers; len(got) != 6 {
		t.Fatalf("providers before OnOAuth: %+v, want all 6", got)
	}
	a.OnOAuth(func(context.Context, OAuthLogin) (*User, error) { return nil, nil })
	addTestProvider(t, a, preset("gitlab", "GitLab", "gitlab")) // replaced, keeps its place

	got := a.LoginMethods()
	want := []ProviderInfo{
		{"gitlab", "GitLab", "gitlab"},
		{"corp", "Corp", "keycloak"},
		{"github", "GitHub", "github"},
		{"oidc", "OpenID Connect", "oidc"},
		{"zitadel", "Zitadel", ""},
		{"azure-ad-hybrid", "Microsoft", "azure-ad-hybrid"},
	}
	if !got.Password || !got.Header || !reflect.DeepEqual(got.Providers, want) {
		t.Errorf("LoginMethods() = %+v\nwant providers %+v", got, want)
	}
}

func TestIsSafeRedirect(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{RootPath: "/chat"})
	for target, want := range map[string]bool{
		"/chat/":               true,
		"/chat/thread/1?x=y":   true,
		"/other":               false,
		"//evil.example/chat":  false,
		"https://evil.example": false,
		"/chat/../admin":       false,
		"":                     false,
	} {
		if got := a.IsSafeRedirect(target); got != want {
			t.Errorf("IsSafeRedirect(%q) = %v, want %v", target, got, want)
		}
	}
}

func TestFrameAncestors(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{Origins: OriginsConfig{Embed: []string{"https://host.example", "https://b.example/"}}})
	if got, want := a.FrameAncestors(), "'self' https://host.example https://b.example"; got != want {
		t.Errorf("FrameAncestors() = %q, want %q", got, want)
	}
	resp := serve(t, a.AllowFraming(http.NotFoundHandler()), httptest.NewRequest("GET", "/", nil))
	if got := resp.Header.Get("Content-Security-Policy"); got != "frame-ancestors "+a.FrameAncestors() {
		t.Errorf("AllowFraming sends %q", got)
	}
}

// browserForm is a POST of an HTML form by a browser navigating, as
// Chromium sends it.
func browserForm(path string, fields url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	return req
}

func TestLoginFormPostEndsOnAPage(t *testing.T) {
	hook := func(_ context.Context, username, password string) (*User, error) {
		switch {
		case username == "broken":
			return nil, errors.New("database down")
		case password == "right":
			return &User{Identifier: username}, nil
		}
		return nil, nil
	}
	for _, tt := range []struct {
		name     string
		fields   url.Values
		location string
		session  bool
	}{
		{"success goes to the root", url.Values{"username": {"ada"}, "password": {"right"}}, "/chat/", true},
		{"success goes to the redirect", url.Values{"username": {"ada"}, "password": {"right"}, "redirect": {"/chat/t/1?x=2"}},
			"/chat/t/1?x=2", true},
		{"an unsafe redirect is dropped", url.Values{"username": {"ada"}, "password": {"right"}, "redirect": {"//evil.example/"}},
			"/chat/", true},
		{"wrong password", url.Values{"username": {"ada"}, "password": {"wrong"}, "redirect": {"/chat/t/1"}},
			"/chat/login?error=credentialssignin&redirect=/chat/t/1", false},
		{"missing field", url.Values{"username": {"ada"}}, "/chat/login?error=missing_field", false},
		{"hook failure", url.Values{"username": {"broken"}, "password": {"right"}}, "/chat/login?error=server_error", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, _, _ := newTestAuth(t, Config{RootPath: "/chat"})
			a.OnPassword(hook)
			resp := serve(t, a, browserForm("/chat/login", tt.fields))
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tt.location {
				t.Fatalf("%d to %q, want 303 to %q", resp.StatusCode, resp.Header.Get("Location"), tt.location)
			}
			if ct := resp.Header.Get("Content-Type"); ct == "application/json" {
				t.Errorf("a redirect labelled %s", ct)
			}
			if got := cookieNamed(resp, "access_token") != nil; got != tt.session {
				t.Errorf("session cookie set: %v, want %v", got, tt.session)
			}
		})
	}
}

func TestLoginFormPostThrottledCarriesTheWait(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{Login: LoginConfig{Limits: PasswordLimits{PerUsername: 1}}})
	a.OnPassword(acceptUser(nil))
	fields := url.Values{"username": {"ada"}, "password": {"wrong"}}
	serve(t, a, browserForm("/login", fields))
	resp := serve(t, a, browserForm("/login", fields))
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Path != "/login" || loc.Query().Get("error") != "throttled" ||
		loc.Query().Get("retry_after") != resp.Header.Get("Retry-After") || loc.Query().Get("retry_after") == "" {
		t.Errorf("throttled form post: %d to %q (Retry-After %q)", resp.StatusCode, loc, resp.Header.Get("Retry-After"))
	}
}

func TestLoginFetchKeepsChainlitJSON(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	a.OnPassword(acceptUser(nil))
	req := browserForm("/login", url.Values{"username": {"ada"}, "password": {"wrong"}})
	req.Header.Set("Sec-Fetch-Mode", "cors") // the page's fetch
	req.Header.Set("Accept", "*/*")
	wantError(t, serve(t, a, req), http.StatusUnauthorized, "credentialssignin")
}

func TestHeaderLoginFormPost(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	a.OnHeaderCredential(func(_ context.Context, h http.Header) (*User, error) {
		if id := h.Get("X-User"); id != "" {
			return &User{Identifier: id}, nil
		}
		return nil, nil
	})
	req := browserForm("/auth/header", url.Values{"redirect": {"/t/1"}})
	if resp := serve(t, a, req); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?error=credentialssignin&redirect=/t/1" {
		t.Errorf("refused header form post: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	req = browserForm("/auth/header", url.Values{"redirect": {"/t/1"}})
	req.Header.Set("X-User", "ada")
	if resp := serve(t, a, req); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/t/1" || cookieNamed(resp, "access_token") == nil {
		t.Errorf("header form post: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestLogoutFormPostSaysLoggedOut(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{RootPath: "/chat"})
	resp := serve(t, a, browserForm("/chat/logout", nil))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/chat/login?notice="+NoticeLoggedOut {
		t.Errorf("form logout: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
