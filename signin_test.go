package chatauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"reflect"
	"strings"
	"testing"
	"unicode"
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

// browserNormalize reads a Location value the way a browser's URL parser
// does before resolving it: tabs and newlines dropped, leading and trailing
// C0 controls and spaces trimmed, backslashes as slashes, and %2e in the
// path as a dot (so that %2e%2e is a ".." segment).
func browserNormalize(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, s)
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	p, rest := s, ""
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		p, rest = s[:i], s[i:]
	}
	return strings.NewReplacer("%2e", ".", "%2E", ".").Replace(p) + rest
}

// checkLocalTarget fails t unless target is a path on the app's own origin
// under root, both as written and as a browser would read it.
func checkLocalTarget(t *testing.T, what, target, root string) {
	t.Helper()
	if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") || strings.HasPrefix(target, "/\\") {
		t.Fatalf("%s %q is not a path-absolute reference", what, target)
	}
	for _, r := range target {
		if unicode.IsControl(r) {
			t.Fatalf("%s %q holds control character %U", what, target, r)
		}
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		t.Fatalf("%s %q parses as scheme %q host %q (%v)", what, target, u.Scheme, u.Host, err)
	}
	norm := browserNormalize(target)
	if strings.HasPrefix(norm, "//") {
		t.Fatalf("%s %q reads as %q in a browser: another host", what, target, norm)
	}
	nu, err := url.Parse(norm)
	if err != nil || nu.Scheme != "" || nu.Host != "" {
		t.Fatalf("%s %q reads as scheme %q host %q in a browser (%v)", what, target, nu.Scheme, nu.Host, err)
	}
	base, _ := url.Parse("https://chat.example.com" + root + "/auth/oauth/corp/callback")
	res := base.ResolveReference(nu)
	if res.Scheme != "https" || res.Host != "chat.example.com" {
		t.Fatalf("%s %q resolves to %s", what, target, res)
	}
	// Under the root path, even for a server that decodes %2F before
	// cleaning the path.
	clean := path.Clean(res.Path)
	if root != "" && clean != root && !strings.HasPrefix(clean, root+"/") {
		t.Fatalf("%s %q resolves to path %q, outside %s", what, target, clean, root)
	}
}

// FuzzSafeRedirect: every redirect target safeRedirect accepts, and the
// Location http.Redirect makes of it at the end of the callback, is a path
// on the app's own origin under the root path: "/" but not "//" or "/\",
// no scheme or host, no control characters, also once a browser has turned
// backslashes into slashes and %2e into dots.
func FuzzSafeRedirect(f *testing.F) {
	auths := map[bool]*Auth{false: newFuzzAuth(f, Config{}), true: newFuzzAuth(f, Config{RootPath: "/app"})}
	for _, s := range []string{
		"/app/chat?x=1#top", "/app", "//evil.com", "/\\evil.com", "/app/%2F%2Fevil.com", "/%2f%2fevil.com",
		"/app/../evil", "/app/%2e%2e/evil", "/app/.%2e/evil", "https://evil.com", "/app/\r\nSet-Cookie: x",
		"/app/\u0085", "/app/\t/evil", "/app/x?next=//evil.com", "/app/%5Cevil",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, target string, underRoot bool) {
		a := auths[underRoot]
		if !a.safeRedirect(target) {
			return
		}
		root := a.RootPath()
		checkLocalTarget(t, "accepted redirect", target, root)
		rec := httptest.NewRecorder()
		http.Redirect(rec, httptest.NewRequest(http.MethodGet, root+"/auth/oauth/corp/callback", nil), target, http.StatusFound)
		checkLocalTarget(t, "Location", rec.Header().Get("Location"), root)
	})
}
