package loginpage

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/chatauthtest"
	"github.com/chatauth/chatauth/providers"
)

// pageWeightLimit is the most the page may weigh without the app's images.
const pageWeightLimit = 30 << 10

var (
	nonceInPolicy = regexp.MustCompile(`script-src 'nonce-([A-Za-z0-9_-]+)'`)
	openingTags   = regexp.MustCompile(`<(script|style)\b[^>]*>`)
	eventHandler  = regexp.MustCompile(`(?i)<[^>]+\son[a-z]+\s*=`)
	styleAttr     = regexp.MustCompile(`(?i)<[^>]+\sstyle\s*=`)
	outsideURL    = regexp.MustCompile(`(?i)(src|href|action)="(https?:)?//`)
)

// checkSafePage checks what every rendering must hold: the
// Content-Security-Policy without 'unsafe-inline', every inline script
// and style carrying this response's nonce, no inline event handlers or
// style attributes (which no nonce can allow), nothing loaded from
// elsewhere, the weight limit.
func checkSafePage(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d\n%s", resp.StatusCode, body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	m := nonceInPolicy.FindStringSubmatch(csp)
	if m == nil {
		t.Fatalf("Content-Security-Policy %q has no script nonce", csp)
	}
	for _, want := range []string{"default-src 'none'", "style-src 'nonce-" + m[1] + "'", "connect-src 'self'",
		"form-action 'self'", "base-uri 'none'", "frame-ancestors 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-") {
		t.Errorf("Content-Security-Policy %q allows unsafe code", csp)
	}
	tags := openingTags.FindAllString(body, -1)
	if len(tags) < 3 {
		t.Errorf("only %d script and style elements: %q", len(tags), tags)
	}
	for _, tag := range tags {
		if !strings.Contains(tag, `nonce="`+m[1]+`"`) {
			t.Errorf("%s runs without the response's nonce", tag)
		}
	}
	for _, re := range []*regexp.Regexp{eventHandler, styleAttr, outsideURL} {
		if bad := re.FindString(body); bad != "" {
			t.Errorf("the page has %q", bad)
		}
	}
	if strings.Contains(body, "javascript:") {
		t.Error("the page has a javascript: URL")
	}
	if len(body) > pageWeightLimit {
		t.Errorf("the page weighs %d bytes, over %d", len(body), pageWeightLimit)
	}
	for name, want := range map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
		"X-Content-Type-Options": "nosniff"} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

// TestPageStates renders every state of the page with httptest.
func TestPageStates(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, a *chatauth.Auth)
		query string
		want  []string
		not   []string
	}{
		{"password", func(t *testing.T, a *chatauth.Auth) { withPassword(a) }, "",
			[]string{`id="login-form"`, `action="/login"`, `autocomplete="username"`, `autocomplete="current-password"`,
				`name="redirect" value="/"`, `<html lang="en">`},
			[]string{`class="divider"`, `oauth-button`, `id="header-form"`}},
		{"providers only, in configuration order", func(t *testing.T, a *chatauth.Auth) {
			withProviders(t, a, providers.GitLab(providers.GitLabOptions{Domain: "g.example", ClientID: "id", ClientSecret: "s"}), providers.GitHub("id", "s"),
				&chatauth.Provider{ID: "corp-sso", ClientID: "id", ClientSecret: "s"})
		}, "",
			[]string{`data-provider="gitlab" href="/auth/oauth/gitlab?redirect=/"`, "Continue with GitLab",
				"Continue with GitHub", "Continue with Corp-sso", "<circle"},
			[]string{`id="login-form"`, `class="divider"`}},
		{"every method", func(t *testing.T, a *chatauth.Auth) {
			withPassword(a)
			withHeader(a)
			withProviders(t, a, everyPreset()...)
		}, "?redirect=/thread/7",
			[]string{`id="login-form"`, `id="header-form"`, `action="/auth/header"`, `class="divider"`,
				`name="redirect" value="/thread/7"`, `href="/auth/oauth/azure-ad?redirect=/thread/7"`, "Continue with Microsoft",
				"Continue with Amazon Cognito", "Continue with OpenID Connect", `fill="#24292f"`, `fill="#c73d0e"`}, nil},
		{"header only", func(t *testing.T, a *chatauth.Auth) { withHeader(a) }, "",
			[]string{`id="header-form"`, `"tryHeader":true`, `"headerOnly":true`}, []string{`id="login-form"`}},
		{"no method", func(t *testing.T, a *chatauth.Auth) {}, "",
			[]string{"There is no way to sign in here yet."}, []string{"<form"}},
		{"error", func(t *testing.T, a *chatauth.Auth) { withPassword(a) }, "?error=invalid_state",
			[]string{`role="alert">This sign-in has expired or was started in another tab.`}, nil},
		{"throttled", func(t *testing.T, a *chatauth.Auth) { withPassword(a) }, "?error=throttled&retry_after=42",
			[]string{"Please try again in 42 s."}, nil},
		{"throttled for minutes", func(t *testing.T, a *chatauth.Auth) { withPassword(a) }, "?error=throttled&retry_after=900",
			[]string{"Please try again in 15 min."}, nil},
		{"logged out: header login waits to be asked", func(t *testing.T, a *chatauth.Auth) { withHeader(a) }, "?notice=logged_out",
			[]string{`role="status">You are signed out.`, `"tryHeader":false`}, nil},
		{"logged out elsewhere", func(t *testing.T, a *chatauth.Auth) { withPassword(a) }, "?notice=logged_out_elsewhere",
			[]string{"You were signed out from another device."}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newAuth(t, chatauth.Config{})
			tt.setup(t, a)
			resp, body := get(t, newPage(t, a, Options{}), "/login"+tt.query)
			checkSafePage(t, resp, body)
			contains(t, body, tt.want...)
			for _, n := range tt.not {
				if strings.Contains(body, n) {
					t.Errorf("the page has %q", n)
				}
			}
		})
	}
}

// TestEveryCodeInEveryLanguage renders each ?error= and ?notice= in each
// built-in language: its own words, and not English but in English.
func TestEveryCodeInEveryLanguage(t *testing.T) {
	a := newAuth(t, chatauth.Config{})
	withPassword(a)
	p := newPage(t, a, Options{})
	queries := map[string]string{"throttled": "?error=throttled", chatauth.NoticeLoggedOut: "?notice=logged_out",
		chatauth.NoticeLoggedOutElsewhere: "?notice=logged_out_elsewhere"}
	for code := range knownErrors {
		queries[code] = "?error=" + code
	}
	english := p.text.messages("en")
	for _, lang := range []string{"en", "fr", "de", "es", "pt-BR", "ja", "zh-CN"} {
		text := p.text.messages(lang)
		for code, query := range queries {
			_, body := get(t, p, "/login"+query, "Accept-Language", lang)
			want := text[code]
			if want == "" || (lang != "en" && want == english[code]) {
				t.Errorf("%s has no words of its own for %s", lang, code)
			}
			if !strings.Contains(body, escaped(want)) {
				t.Errorf("%s %s: the page lacks %q", lang, query, want)
			}
			if !strings.Contains(body, `<html lang="`+lang+`"`) {
				t.Errorf("%s: the page is not marked lang=%s", query, lang)
			}
		}
	}
}

// escaped is s as html/template escapes text.
func escaped(s string) string {
	return strings.NewReplacer("'", "&#39;", "&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

// TestNothingFromTheRequestIsShown: unknown codes get generic words, and
// neither the codes nor a foreign redirect appear anywhere in the page.
func TestNothingFromTheRequestIsShown(t *testing.T) {
	a := newAuth(t, chatauth.Config{})
	withPassword(a)
	withProviders(t, a, providers.GitHub("id", "s"))
	p := newPage(t, a, Options{})
	for _, q := range []string{
		"?error=%3Cscript%3Ealert(1)%3C/script%3E", "?error=please_call_555_0100",
		"?notice=please_call_555_0100", "?error=throttled&retry_after=please_call_555_0100",
		"?redirect=https://evil.example/x", "?redirect=//evil.example/x", "?error=throttled&retry_after=99999999",
	} {
		resp, body := get(t, p, "/login"+q)
		checkSafePage(t, resp, body)
		for _, bad := range []string{"please_call", "555", "alert(1)", "evil.example", "99999999"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s: the page shows %q", q, bad)
			}
		}
		if strings.HasPrefix(q, "?error=") && !strings.Contains(body, `role="alert">`+p.text.messages("en")["default"]) &&
			!strings.Contains(body, "Too many attempts. Please try again later.") {
			t.Errorf("%s: no generic message", q)
		}
	}
}

func TestFrameAncestorsFollowEmbedding(t *testing.T) {
	a := newAuth(t, chatauth.Config{Origins: chatauth.OriginsConfig{Embed: []string{"https://host.example"}}})
	withPassword(a)
	resp, body := get(t, newPage(t, a, Options{}), "/login")
	checkSafePage(t, resp, body)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors 'self' https://host.example") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
}

func TestEachResponseHasItsOwnNonce(t *testing.T) {
	a := newAuth(t, chatauth.Config{})
	p := newPage(t, a, Options{})
	first, _ := get(t, p, "/login")
	second, _ := get(t, p, "/login")
	if first.Header.Get("Content-Security-Policy") == second.Header.Get("Content-Security-Policy") {
		t.Error("two responses share a nonce")
	}
}

func TestSignedInBrowserIsSentOn(t *testing.T) {
	a := newAuth(t, chatauth.Config{RootPath: "/chat"})
	withPassword(a)
	p := newPage(t, a, Options{})
	cookie := chatauthtest.SessionCookie(t, a, chatauth.User{Identifier: "ada"})
	for query, want := range map[string]string{"": "/chat/", "?redirect=/chat/t/1": "/chat/t/1", "?redirect=/elsewhere": "/chat/"} {
		resp, _ := get(t, p, "/chat/login"+query, "Cookie", cookie.String())
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("%s: %d to %q, want 303 to %q", query, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	if resp, _ := get(t, p, "/chat/login?error=access_denied", "Cookie", cookie.String()); resp.StatusCode != http.StatusOK {
		t.Errorf("an error is shown even with a session: %d", resp.StatusCode)
	}
}

func TestAutoRedirectOnlyWhenAskedAndAlone(t *testing.T) {
	for _, tt := range []struct {
		name     string
		auto     bool
		password bool
		query    string
		location string
	}{
		{"asked", true, false, "", "/auth/oauth/corp?redirect=/"},
		{"asked, with redirect", true, false, "?redirect=/t/1", "/auth/oauth/corp?redirect=/t/1"},
		{"not asked: a button", false, false, "", ""},
		{"not alone", true, true, "", ""},
		{"after an error", true, false, "?error=access_denied", ""},
		{"after logout", true, false, "?notice=logged_out", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newAuth(t, chatauth.Config{})
			withProviders(t, a, &chatauth.Provider{ID: "corp", ClientID: "id", ClientSecret: "s"})
			if tt.password {
				withPassword(a)
			}
			resp, body := get(t, newPage(t, a, Options{AutoRedirect: tt.auto}), "/login"+tt.query)
			if tt.location == "" {
				checkSafePage(t, resp, body)
				contains(t, body, `data-provider="corp"`)
				return
			}
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tt.location {
				t.Errorf("%d to %q, want 303 to %q", resp.StatusCode, resp.Header.Get("Location"), tt.location)
			}
		})
	}
}

func TestHeadAndOtherMethods(t *testing.T) {
	p := newPage(t, newAuth(t, chatauth.Config{}), Options{})
	req := httptest.NewRequest(http.MethodHead, "/login", nil)
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Security-Policy") == "" {
		t.Errorf("HEAD: %d, %d bytes", rec.Code, rec.Body.Len())
	}
	rec = httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/login", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d", rec.Code)
	}
}

// expiredToken is a session token of the test secret that ended an hour ago.
func expiredToken(t *testing.T) string {
	t.Helper()
	past := time.Now().Add(-2 * time.Hour)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"identifier": "ada", "iat": past.Unix(), "exp": past.Add(time.Hour).Unix(), "jti": "expired-session",
	}).SignedString(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRequireUser(t *testing.T) {
	a := newAuth(t, chatauth.Config{RootPath: "/chat"})
	withPassword(a)
	p := newPage(t, a, Options{})
	chat := p.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("hello " + chatauth.UserFrom(r.Context()).Identifier))
	}))
	valid := chatauthtest.SessionCookie(t, a, chatauth.User{Identifier: "ada"})
	revoked := chatauthtest.SessionCookie(t, a, chatauth.User{Identifier: "bob"})
	if err := a.EndUserSessions(t.Context(), "bob"); err != nil {
		t.Fatal(err)
	}
	const html = "text/html,application/xhtml+xml"
	for _, tt := range []struct {
		name, path, accept, cookie string
		status                     int
		location                   string
	}{
		{"a browser without a session", "/chat/", html, "", http.StatusSeeOther, "/chat/login"},
		{"it comes back where it was", "/chat/t/1?x=2", html, "", http.StatusSeeOther, "/chat/login?redirect=/chat/t/1%3Fx%3D2"},
		{"expired", "/chat/", html, "access_token=" + expiredToken(t), http.StatusSeeOther, "/chat/login?error=session_expired"},
		{"ended elsewhere", "/chat/", html, revoked.String(), http.StatusSeeOther, "/chat/login?notice=logged_out_elsewhere"},
		{"a script gets the 401", "/chat/", "application/json", "", http.StatusUnauthorized, ""},
		{"signed in", "/chat/", html, valid.String(), http.StatusOK, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, chat, tt.path, "Accept", tt.accept, "Cookie", tt.cookie)
			if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location {
				t.Errorf("%d to %q, want %d to %q (%s)", resp.StatusCode, resp.Header.Get("Location"), tt.status, tt.location, body)
			}
			if tt.status == http.StatusOK && body != "hello ada" {
				t.Errorf("body %q", body)
			}
		})
	}
}

// TestSignInWithoutJavaScript posts the page's own form as a browser
// without JavaScript does and ends on the page the sign-in was for.
func TestSignInWithoutJavaScript(t *testing.T) {
	a := newAuth(t, chatauth.Config{})
	withPassword(a)
	mux := http.NewServeMux()
	a.Mount(mux)
	p := newPage(t, a, Options{})
	p.Mount(mux)
	mux.Handle("GET /t/{id}", p.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("thread " + r.PathValue("id") + " for " + chatauth.UserFrom(r.Context()).Identifier))
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar}
	browse := func(method, path string, form url.Values) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	resp, body := browse("GET", "/t/9", nil)
	if resp.Request.URL.Path != "/login" || !strings.Contains(body, `name="redirect" value="/t/9"`) {
		t.Fatalf("opening a thread ended on %s", resp.Request.URL)
	}
	resp, body = browse("POST", "/login", url.Values{"username": {"ada"}, "password": {"wrong"}, "redirect": {"/t/9"}})
	if resp.Request.URL.Path != "/login" || !strings.Contains(body, `role="alert">Sign-in was refused.`) {
		t.Fatalf("a wrong password ended on %s:\n%s", resp.Request.URL, body)
	}
	_, body = browse("POST", "/login", url.Values{"username": {"ada"}, "password": {"right"}, "redirect": {"/t/9"}})
	if body != "thread 9 for ada" {
		t.Errorf("signing in ended on %q", body)
	}
}

// TestClientDataIsJSON: the script's configuration parses as JSON.
func TestClientDataIsJSON(t *testing.T) {
	a := newAuth(t, chatauth.Config{})
	withHeader(a)
	_, body := get(t, newPage(t, a, Options{}), "/login?redirect=//evil.example")
	m := regexp.MustCompile(`(?s)<script type="application/json" id="login-data"[^>]*>(.*?)</script>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no login-data")
	}
	var d ClientData
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatalf("login-data %s: %v", m[1], err)
	}
	if d.HeaderAction != "/auth/header" || d.Redirect != "/" || !d.TryHeader || d.Text["signing_in"] == "" {
		t.Errorf("login-data %+v", d)
	}
}
