package chatauth

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatauth/chatauth/internal/cookiechunk"
)

func TestAuthConfigRoute(t *testing.T) {
	tests := []struct {
		name                               string
		cfg                                Config
		password, header                   bool
		requireLogin, passwordAuth, hdrAut bool
	}{
		{name: "nothing configured"},
		{name: "password", password: true, requireLogin: true, passwordAuth: true},
		{name: "header", header: true, requireLogin: true, hdrAut: true},
		{name: "both", password: true, header: true, requireLogin: true, passwordAuth: true, hdrAut: true},
		{name: "custom auth", cfg: Config{RequireLogin: true}, requireLogin: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, _ := newTestAuth(t, tt.cfg)
			if tt.password {
				a.OnPassword(acceptUser(&User{Identifier: "ada"}))
			}
			if tt.header {
				a.OnHeaderCredential(func(context.Context, http.Header) (*User, error) { return nil, nil })
			}
			resp := serve(t, a, httptest.NewRequest(http.MethodGet, "/auth/config", nil))
			body := readBody(t, resp)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			var got struct {
				RequireLogin   *bool     `json:"requireLogin"`
				PasswordAuth   *bool     `json:"passwordAuth"`
				HeaderAuth     *bool     `json:"headerAuth"`
				OAuthProviders *[]string `json:"oauthProviders"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			if got.RequireLogin == nil || got.PasswordAuth == nil || got.HeaderAuth == nil || got.OAuthProviders == nil {
				t.Fatalf("missing field or null list in %s", body)
			}
			if *got.RequireLogin != tt.requireLogin || *got.PasswordAuth != tt.passwordAuth || *got.HeaderAuth != tt.hdrAut {
				t.Errorf("got %s", body)
			}
			if len(*got.OAuthProviders) != 0 {
				t.Errorf("oauthProviders = %v, want []", *got.OAuthProviders)
			}
		})
	}
}

func TestMountUnderRootPath(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{RootPath: "/chat/"})
	a.OnPassword(acceptUser(&User{Identifier: "ada"}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	a.Mount(mux)

	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/chat/auth/config", 200},
		{"GET", "/healthz", 200},
		{"GET", "/auth/config", 404},
		{"POST", "/login", 404},
		{"GET", "/chat/user", 401},
		{"POST", "/chat/logout", 200},
	} {
		resp := serve(t, mux, httptest.NewRequest(tt.method, tt.path, nil))
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
		}
	}
	resp := serve(t, mux, loginRequest("/chat", "ada", "pw"))
	wantSuccess(t, resp)
	if c := cookieNamed(resp, "access_token"); c == nil || c.Path != "/chat" {
		t.Errorf("session cookie %v, want Path=/chat", c)
	}
}

func TestServeHTTPServesEveryRoute(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	a.OnPassword(acceptUser(&User{Identifier: "ada"}))
	a.OnHeaderCredential(func(context.Context, http.Header) (*User, error) { return &User{Identifier: "ada"}, nil })
	token := issue(t, a, &User{Identifier: "ada"})
	for _, tt := range []struct {
		method, path string
	}{
		{"GET", "/auth/config"}, {"POST", "/auth/header"}, {"GET", "/user"}, {"POST", "/auth/jwt"}, {"POST", "/logout"},
	} {
		req := httptest.NewRequest(tt.method, tt.path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if resp := serve(t, a, req); resp.StatusCode != 200 {
			t.Errorf("%s %s = %d, want 200", tt.method, tt.path, resp.StatusCode)
		}
	}
	if resp := serve(t, a, loginRequest("", "ada", "pw")); resp.StatusCode != 200 {
		t.Errorf("POST /login = %d", resp.StatusCode)
	}
}

func TestNilUserIsRejected(t *testing.T) {
	a, _, logs := newTestAuth(t, Config{})
	a.OnPassword(func(context.Context, string, string) (*User, error) { return nil, nil })
	a.OnHeaderCredential(func(context.Context, http.Header) (*User, error) { return nil, nil })

	resp := serve(t, a, loginRequest("", "ada", "wrong"))
	wantError(t, resp, http.StatusUnauthorized, "credentialssignin")
	if len(resp.Cookies()) != 0 {
		t.Errorf("rejected login set cookies %v", resp.Cookies())
	}
	resp = serve(t, a, httptest.NewRequest(http.MethodPost, "/auth/header", nil))
	wantError(t, resp, http.StatusUnauthorized, "credentialssignin")
	if !strings.Contains(logs.String(), "auth.reason=credentialssignin") {
		t.Errorf("no reason code logged:\n%s", logs)
	}
}

// hookCase is a login whose hook fails with err or panics with it.
type hookCase struct {
	name   string
	setup  func(a *Auth, fail func() (*User, error))
	req    func() *http.Request
	reason string
	panics bool
}

func hookCases() []hookCase {
	pw := func(a *Auth, fail func() (*User, error)) {
		a.OnPassword(func(context.Context, string, string) (*User, error) { return fail() })
	}
	hdr := func(a *Auth, fail func() (*User, error)) {
		a.OnHeaderCredential(func(context.Context, http.Header) (*User, error) { return fail() })
	}
	persist := func(a *Auth, fail func() (*User, error)) {
		a.OnPassword(acceptUser(&User{Identifier: "ada"}))
		a.OnPersist(func(context.Context, *User) (*User, error) { return fail() })
	}
	login := func() *http.Request { return loginRequest("", "ada", "pw") }
	header := func() *http.Request { return httptest.NewRequest(http.MethodPost, "/auth/header", nil) }
	var cases []hookCase
	for _, panics := range []bool{false, true} {
		reason := "hook_error"
		if panics {
			reason = "hook_panic"
		}
		cases = append(cases,
			hookCase{"password", pw, login, reason, panics},
			hookCase{"header", hdr, header, reason, panics},
			hookCase{"persist", persist, login, reason, panics},
		)
	}
	return cases
}

func TestHookFailureIs500WithNothingLeaked(t *testing.T) {
	const cause = "db at 10.1.2.3 refused user sa password s3cr3t"
	for _, tt := range hookCases() {
		t.Run(tt.name+map[bool]string{false: " error", true: " panic"}[tt.panics], func(t *testing.T) {
			a, _, logs := newTestAuth(t, Config{})
			tt.setup(a, func() (*User, error) {
				if tt.panics {
					panic(cause)
				}
				return nil, errors.New(cause)
			})
			resp := serve(t, a, tt.req())
			wantError(t, resp, http.StatusInternalServerError, "internal error")
			if len(resp.Cookies()) != 0 {
				t.Errorf("failed login set cookies %v", resp.Cookies())
			}
			if !strings.Contains(logs.String(), cause) || !strings.Contains(logs.String(), "auth.reason="+tt.reason) {
				t.Errorf("cause or reason %s not logged:\n%s", tt.reason, logs)
			}
		})
	}
}

func TestHookPanicLeavesServerAlive(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	a.OnPassword(func(context.Context, string, string) (*User, error) { panic("boom") })
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)

	for range 2 {
		resp, err := http.PostForm(srv.URL+"/login", url.Values{"username": {"ada"}, "password": {"pw"}})
		if err != nil {
			t.Fatalf("POST /login: %v", err)
		}
		wantError(t, resp, http.StatusInternalServerError, "internal error")
	}
	resp, err := http.Get(srv.URL + "/auth/config")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after panics GET /auth/config = %d", resp.StatusCode)
	}
}

func TestPersistHookResultIsTheSessionUser(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	created := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	var seen *User
	a.OnPassword(acceptUser(&User{Identifier: "ada", DisplayName: "Ada"}))
	a.OnPersist(func(_ context.Context, u *User) (*User, error) {
		seen = u
		stored := *u
		stored.ID, stored.CreatedAt = "user-42", created
		return &stored, nil
	})
	resp := serve(t, a, loginRequest("", "ada", "pw"))
	wantSuccess(t, resp)
	if seen == nil || seen.Identifier != "ada" {
		t.Fatalf("persist hook saw %+v", seen)
	}
	resp = serve(t, a, addCookies(httptest.NewRequest(http.MethodGet, "/user", nil), resp))
	body := readBody(t, resp)
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got["id"] != "user-42" || got["createdAt"] != "2024-05-06T07:08:09Z" || got["display_name"] != "Ada" {
		t.Errorf("GET /user = %s", body)
	}
}

func TestPersistHookNilKeepsHookUser(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	a.OnPassword(acceptUser(&User{Identifier: "ada"}))
	a.OnPersist(func(context.Context, *User) (*User, error) { return nil, nil })
	resp := serve(t, a, loginRequest("", "ada", "pw"))
	wantSuccess(t, resp)
	if got := userOf(t, a, addCookies(httptest.NewRequest(http.MethodGet, "/user", nil), resp)); got != "ada" {
		t.Errorf("user = %q", got)
	}
}

// crossOriginCases are requests refused or let through by the
// cross-origin rules, on a request to example.com.
var crossOriginCases = []struct {
	name    string
	headers map[string]string
	allowed []string
	refused bool
}{
	{name: "no headers (non-browser client)"},
	{name: "same-origin fetch", headers: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"}},
	{name: "user-initiated navigation", headers: map[string]string{"Sec-Fetch-Site": "none"}},
	{name: "Origin equal to Host", headers: map[string]string{"Origin": "http://example.com"}},
	{name: "cross-site fetch", headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, refused: true},
	{name: "same-site other origin", headers: map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://sub.example.com"}, refused: true},
	{name: "foreign Origin, old browser", headers: map[string]string{"Origin": "https://evil.example"}, refused: true},
	{name: "allowed origin", headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://app.example.com"}, allowed: []string{"https://app.example.com/"}},
	{name: "other origin than allowed", headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, allowed: []string{"https://app.example.com"}, refused: true},
}

func TestCrossOriginPostRefused(t *testing.T) {
	routes := []string{"/login", "/auth/header", "/auth/jwt", "/logout"}
	for _, tt := range crossOriginCases {
		for _, route := range routes {
			t.Run(tt.name+" "+route, func(t *testing.T) {
				a, _, logs := newTestAuth(t, Config{Origins: OriginsConfig{Allowed: tt.allowed}})
				called := false
				a.OnPassword(func(context.Context, string, string) (*User, error) {
					called = true
					return &User{Identifier: "ada"}, nil
				})
				a.OnHeaderCredential(func(context.Context, http.Header) (*User, error) {
					called = true
					return &User{Identifier: "ada"}, nil
				})
				req := loginRequest("", "ada", "pw")
				req.URL.Path = route
				req.Header.Set("Authorization", "Bearer "+issue(t, a, &User{Identifier: "ada"}))
				for k, v := range tt.headers {
					req.Header.Set(k, v)
				}
				resp := serve(t, a, req)
				if tt.refused {
					wantError(t, resp, http.StatusForbidden, "cross-origin request rejected")
					if called {
						t.Error("hook called for a cross-origin request")
					}
					if !strings.Contains(logs.String(), "auth.reason=cross_origin") {
						t.Errorf("no reason logged:\n%s", logs)
					}
					return
				}
				if resp.StatusCode != http.StatusOK {
					t.Errorf("status %d, want 200", resp.StatusCode)
				}
			})
		}
	}
}

func TestLogsNeverContainSecrets(t *testing.T) {
	a, _, logs := newTestAuth(t, Config{})
	const password = "correct-horse-battery-staple"
	const headerValue = "hv-9f8e7d6c5b4a"
	a.OnPassword(func(_ context.Context, user, pw string) (*User, error) {
		if pw == password {
			return &User{Identifier: user}, nil
		}
		return nil, nil
	})
	a.OnHeaderCredential(func(_ context.Context, h http.Header) (*User, error) {
		if h.Get("X-Api-Key") == headerValue {
			return &User{Identifier: "svc"}, nil
		}
		return nil, nil
	}, "X-Api-Key")

	resp := serve(t, a, loginRequest("", "ada", password))
	wantSuccess(t, resp)
	token := cookieNamed(resp, "access_token").Value
	serve(t, a, loginRequest("", "ada", password+"-wrong"))
	for _, v := range []string{headerValue, headerValue + "-wrong"} {
		req := httptest.NewRequest(http.MethodPost, "/auth/header", nil)
		req.Header.Set("X-Api-Key", v)
		serve(t, a, req)
	}
	for _, auth := range []string{"Bearer " + token, "Bearer " + token + "x", "Basic " + token} {
		req := httptest.NewRequest(http.MethodPost, "/auth/jwt", nil)
		req.Header.Set("Authorization", auth)
		serve(t, a, req)
	}
	serve(t, a, userRequest(a, token))
	serve(t, a, userRequest(a, token+"x"))
	logout := httptest.NewRequest(http.MethodPost, "/logout", nil)
	logout.AddCookie(&http.Cookie{Name: "access_token", Value: token})
	serve(t, a, logout)
	serve(t, a, userRequest(a, token))

	out := logs.String()
	if !strings.Contains(out, "auth.outcome=rejected") || !strings.Contains(out, "auth.outcome=success") {
		t.Fatalf("expected both outcomes in the log:\n%s", out)
	}
	sig := token[strings.LastIndex(token, ".")+1:]
	for name, secret := range map[string]string{
		"password": password, "header value": headerValue, "token signature": sig, "secret": string(testSecret),
	} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains the %s:\n%s", name, out)
		}
	}
}

func TestEveryDecisionLogsAReason(t *testing.T) {
	a, _, logs := newTestAuth(t, Config{})
	a.OnPassword(func(context.Context, string, string) (*User, error) { return nil, nil })
	serve(t, a, loginRequest("", "ada", "pw"))
	serve(t, a, loginRequest("", "", "pw"))
	serve(t, a, userRequest(a, "garbage"))
	req := httptest.NewRequest(http.MethodPost, "/auth/jwt", nil)
	req.Header.Set("X-Request-Id", "req-123")
	serve(t, a, req)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want 4 log lines, got:\n%s", logs)
	}
	for _, l := range lines {
		for _, key := range []string{"auth.method=", "auth.outcome=rejected", "auth.reason=", "request_id="} {
			if !strings.Contains(l, key) {
				t.Errorf("line lacks %s: %s", key, l)
			}
		}
	}
	if !strings.Contains(lines[3], "request_id=req-123") {
		t.Errorf("X-Request-Id not used: %s", lines[3])
	}
}

func TestRequestID(t *testing.T) {
	for _, tt := range []struct {
		header string
		kept   bool
	}{
		{"abc-123_x.y", true},
		{"", false},
		{"has space", false},
		{"new\nline", false},
		{strings.Repeat("a", 65), false},
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header["X-Request-Id"] = []string{tt.header}
		got := requestID(req)
		if (got == tt.header) != tt.kept || got == "" {
			t.Errorf("requestID(%q) = %q, kept want %v", tt.header, got, tt.kept)
		}
	}
}

func TestClientAddr(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{Proxy: ProxyConfig{Trusted: []string{"10.0.0.0/8", "::1"}}})
	for _, tt := range []struct {
		remote, xff, want string
	}{
		{"203.0.113.7:5000", "", "203.0.113.7"},
		{"203.0.113.7:5000", "1.2.3.4", "203.0.113.7"},
		{"10.0.0.2:5000", "", "10.0.0.2"},
		{"10.0.0.2:5000", "1.2.3.4", "1.2.3.4"},
		{"10.0.0.2:5000", "6.6.6.6, 1.2.3.4, 10.0.0.9", "1.2.3.4"},
		{"10.0.0.2:5000", "not-an-ip", "10.0.0.2"},
		{"[::1]:5000", "2001:db8::1", "2001:db8::1"},
		{"[::ffff:10.0.0.2]:5000", "1.2.3.4", "1.2.3.4"},
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = tt.remote
		if tt.xff != "" {
			req.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := a.clientAddr(req); got != tt.want {
			t.Errorf("clientAddr(%s, XFF %q) = %s, want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
}

func TestPublicBase(t *testing.T) {
	for _, tt := range []struct {
		name      string
		base      string
		forwarded []string // ForwardedAllowIPs
		remote    string
		tls       bool
		headers   map[string]string
		want      string
	}{
		{name: "from request", remote: "203.0.113.7:1", want: "http://example.com"},
		{name: "tls", remote: "203.0.113.7:1", tls: true, want: "https://example.com"},
		{name: "BaseURL wins", base: "https://chat.example.org", remote: "10.0.0.1:1", headers: map[string]string{"X-Forwarded-Host": "x.test"}, want: "https://chat.example.org"},
		{name: "BaseURL keeps its path", base: "https://chat.example.org/chat/", remote: "127.0.0.1:1", headers: map[string]string{"X-Forwarded-Host": "x.test"}, want: "https://chat.example.org/chat"},
		{name: "loopback proxy by default", remote: "127.0.0.1:1", headers: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "chat.test"}, want: "https://example.com"},
		{name: "IPv6 loopback proxy by default", remote: "[::1]:1", headers: map[string]string{"X-Forwarded-Proto": "https"}, want: "https://example.com"},
		{name: "loopback not in ForwardedAllowIPs", forwarded: []string{"192.0.2.0/24"}, remote: "127.0.0.1:1", headers: map[string]string{"X-Forwarded-Proto": "https"}, want: "http://example.com"},
		{name: "ForwardedAllowIPs peer", forwarded: []string{"192.0.2.0/24"}, remote: "192.0.2.9:1", headers: map[string]string{"X-Forwarded-Proto": "https"}, want: "https://example.com"},
		{name: "ForwardedAllowIPs star", forwarded: []string{"*"}, remote: "203.0.113.7:1", headers: map[string]string{"X-Forwarded-Proto": "https"}, want: "https://example.com"},
		{name: "trusted proxy", remote: "10.0.0.1:1", headers: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "chat.test"}, want: "https://chat.test"},
		{name: "trusted proxy, list", remote: "10.0.0.1:1", headers: map[string]string{"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "chat.test, inner"}, want: "https://chat.test"},
		{name: "trusted proxy, bad host", remote: "10.0.0.1:1", headers: map[string]string{"X-Forwarded-Host": "evil.test/path"}, want: "http://example.com"},
		{name: "untrusted peer", remote: "203.0.113.7:1", headers: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.test"}, want: "http://example.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, _, _ := newTestAuth(t, Config{BaseURL: tt.base, Proxy: ProxyConfig{Trusted: []string{"10.0.0.0/8"}, ForwardedAllowIPs: tt.forwarded}})
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tt.remote
			if tt.tls {
				req.TLS = &tls.ConnectionState{}
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			if got := a.publicBase(req); got != tt.want {
				t.Errorf("publicBase = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "1", time.Millisecond: "1", time.Second: "1", 1500 * time.Millisecond: "2", 15 * time.Minute: "900",
	} {
		if got := retryAfterSeconds(d); got != want {
			t.Errorf("retryAfterSeconds(%v) = %s, want %s", d, got, want)
		}
	}
}

func TestSeveralAuthsInOneProcess(t *testing.T) {
	a1, _, _ := newTestAuth(t, Config{})
	a2, _, _ := newTestAuth(t, Config{Secret: []byte("another-secret-of-at-least-32-bytes!!")})
	a1.OnPassword(acceptUser(&User{Identifier: "ada"}))
	if resp := serve(t, a2, loginRequest("", "ada", "pw")); resp.StatusCode != http.StatusNotFound {
		t.Errorf("hook of one Auth served by the other: %d", resp.StatusCode)
	}
	if resp := serve(t, a1, loginRequest("", "ada", "pw")); resp.StatusCode != http.StatusOK {
		t.Errorf("login on a1 = %d", resp.StatusCode)
	}
}

func TestHookUserWithoutIdentifierIs500(t *testing.T) {
	a, _, logs := newTestAuth(t, Config{})
	a.OnPassword(acceptUser(&User{DisplayName: "nobody"}))
	wantError(t, serve(t, a, loginRequest("", "ada", "pw")), http.StatusInternalServerError, "internal error")
	if !strings.Contains(logs.String(), "no identifier") {
		t.Errorf("cause not logged:\n%s", logs)
	}
}

// TestReasonCodesDocumented keeps the table of doc.go in step with the
// reason codes the package uses.
func TestReasonCodesDocumented(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	uses := map[string]int{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if strings.HasPrefix(name.Name, "reason") && i < len(n.Values) {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok {
							values[name.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			case *ast.Ident:
				uses[n.Name]++
			}
			return true
		})
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	if len(values) < 10 {
		t.Fatalf("found only %d reason codes", len(values))
	}
	for name, code := range values {
		if uses[name] > 1 && !strings.Contains(string(doc), "//\t"+code+" ") {
			t.Errorf("reason code %q (%s) missing from the table in doc.go", code, name)
		}
	}
}

func TestBaseURLIsASameOrigin(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{BaseURL: "https://chat.example.com"})
	for origin, status := range map[string]int{
		"https://chat.example.com": http.StatusOK,
		"http://chat.example.com":  http.StatusForbidden,
		"https://evil.example":     http.StatusForbidden,
	} {
		// A proxy passed the request on with its own Host.
		req := httptest.NewRequest(http.MethodPost, "http://backend:8000/logout", nil)
		req.Header.Set("Origin", origin)
		if resp := serve(t, a, req); resp.StatusCode != status {
			t.Errorf("Origin %s: %d, want %d", origin, resp.StatusCode, status)
		}
	}
}

// TestForwardedAllowIPsAreNotTrustedProxies: a loopback peer is believed
// about the public URL by default (as uvicorn believes it), but never about
// who the user is or the client's address: identity headers stay behind
// TrustedProxies.
func TestForwardedAllowIPsAreNotTrustedProxies(t *testing.T) {
	a, _, logs := newTestAuth(t, Config{})
	a.OnProxyHeader(func(context.Context, http.Header) (*User, error) { return &User{Identifier: "mallory"}, nil })
	req := httptest.NewRequest(http.MethodPost, "/auth/header", nil)
	req.RemoteAddr = "127.0.0.1:5000"
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	if got := a.publicBase(req); got != "https://example.com" {
		t.Errorf("publicBase from loopback = %s, want the forwarded https", got)
	}
	if got := a.clientAddr(req); got != "127.0.0.1" {
		t.Errorf("clientAddr from loopback = %s: X-Forwarded-For believed from a peer outside TrustedProxies", got)
	}
	wantError(t, serve(t, a, req), http.StatusUnauthorized, "credentialssignin")
	if !strings.Contains(logs.String(), "auth.reason=untrusted_peer") {
		t.Errorf("header login from loopback not refused as untrusted_peer:\n%s", logs)
	}
}

// TestOversizedSessionStatus: a session too large for the cookie budget is
// the app's fault when a hook made the user (500, session_too_large) and
// the client's when its token did (4xx at /auth/jwt: a valid Chainlit token
// with 12 KB of metadata used to answer 500); log, status and doc.go's
// table agree.
func TestOversizedSessionStatus(t *testing.T) {
	// A token of five cookies (over 12,000 bytes), under MaxTokenBytes.
	big := &User{Identifier: "ada", Metadata: map[string]any{"groups": strings.Repeat("g", 9500)}}
	tests := []struct {
		name       string
		cfg        Config
		setup      func(a *Auth)
		req        func(a *Auth) *http.Request
		middleware bool // req goes to RequireUser, not the auth routes
		status     int
		reason     string
	}{
		{name: "password login", setup: func(a *Auth) { a.OnPassword(acceptUser(big)) },
			req:    func(*Auth) *http.Request { return loginRequest("", "ada", "pw") },
			status: 500, reason: reasonSessionTooLarge},
		{name: "persist hook", setup: func(a *Auth) {
			a.OnPassword(acceptUser(&User{Identifier: "ada"}))
			a.OnPersist(func(context.Context, *User) (*User, error) { return big, nil })
		}, req: func(*Auth) *http.Request { return loginRequest("", "ada", "pw") },
			status: 500, reason: reasonSessionTooLarge},
		{name: "header login on every request", cfg: Config{Proxy: ProxyConfig{Trusted: []string{"192.0.2.0/24"}}},
			setup: func(a *Auth) {
				a.OnProxyHeader(func(context.Context, http.Header) (*User, error) { return big, nil }, "X-Forwarded-User")
			},
			req: func(*Auth) *http.Request {
				r := httptest.NewRequest("GET", "/chat", nil)
				r.Header.Set("X-Forwarded-User", "ada")
				return r
			},
			middleware: true, status: 500, reason: reasonSessionTooLarge},
		{name: "Chainlit token at /auth/jwt", req: func(a *Auth) *http.Request {
			now := a.now()
			token := rawToken(hs256, map[string]any{"identifier": "ada", "display_name": nil, "metadata": big.Metadata,
				"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}, testSecret)
			if len(token) <= 4*cookiechunk.Size || len(token) > MaxTokenBytes {
				t.Fatalf("token of %d bytes, want five cookies' worth", len(token))
			}
			req := httptest.NewRequest("POST", "/auth/jwt", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			return req
		}, status: http.StatusRequestHeaderFieldsTooLarge, reason: reasonTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, logs := newTestAuth(t, tt.cfg)
			if tt.setup != nil {
				tt.setup(a)
			}
			var h http.Handler = a
			if tt.middleware {
				h = protected(a)
			}
			resp := serve(t, h, tt.req(a))
			if resp.StatusCode != tt.status || len(resp.Cookies()) != 0 {
				t.Errorf("status %d, cookies %v; want %d and none", resp.StatusCode, resp.Cookies(), tt.status)
			}
			if !strings.Contains(logs.String(), "auth.reason="+tt.reason+" ") || !strings.Contains(logs.String(), `\"groups\"`) {
				t.Errorf("log does not say %s and name the field:\n%s", tt.reason, logs)
			}
		})
	}
}

// TestAuthConfigLook: /auth/config carries Chainlit's default_theme and
// ui, which its web client reads: "dark" and nulls by default, as in
// Chainlit, else what Config.UI (or the environment) says.
func TestAuthConfigLook(t *testing.T) {
	fromEnv, err := ConfigFromEnv(func(k string) string {
		return map[string]string{
			"CHATAUTH_DEFAULT_THEME":                "light",
			"CHATAUTH_LOGIN_PAGE_IMAGE":             "/public/login.jpg",
			"CHATAUTH_LOGIN_PAGE_IMAGE_FILTER":      "brightness-50 grayscale",
			"CHATAUTH_LOGIN_PAGE_IMAGE_DARK_FILTER": "contrast-200 blur-sm",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"defaults", Config{}, `"default_theme":"dark","headerAuth":false,"oauthProviders":[],"passwordAuth":true,"requireLogin":true,` +
			`"ui":{"login_page_image":null,"login_page_image_dark_filter":null,"login_page_image_filter":null}}`},
		{"from the environment", fromEnv, `"default_theme":"light","headerAuth":false,"oauthProviders":[],"passwordAuth":true,"requireLogin":true,` +
			`"ui":{"login_page_image":"/public/login.jpg","login_page_image_dark_filter":"contrast-200 blur-sm","login_page_image_filter":"brightness-50 grayscale"}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, _, _ := newTestAuth(t, tt.cfg)
			a.OnPassword(acceptUser(&User{Identifier: "ada"}))
			body := strings.TrimSpace(readBody(t, serve(t, a, httptest.NewRequest(http.MethodGet, "/auth/config", nil))))
			if want := "{" + tt.want; body != want {
				t.Errorf("GET /auth/config =\n%s\nwant\n%s", body, want)
			}
		})
	}
}
