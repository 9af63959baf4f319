package chatauth

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHeaderHookSeesEveryHeader(t *testing.T) {
	a, _, logs := newTestAuth(t, Config{})
	var seen http.Header
	a.OnHeaderCredential(func(ctx context.Context, h http.Header) (*User, error) {
		seen = h.Clone()
		return &User{Identifier: "ada"}, nil
	})
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/auth/header", nil)
	req.Header["test-header"] = []string{"test-value"} // sent as is, lower case
	req.Header.Set("X-Forwarded-User", "ada")
	req.Header.Add("X-Multi", "value-one-7q")
	req.Header.Add("X-Multi", "value-two-8r")
	req.Header.Set("Authorization", "Basic c2VjcmV0")
	req.AddCookie(&http.Cookie{Name: "theme", Value: "dark"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wantSuccess(t, resp)
	if cookieNamed(resp, "access_token") == nil {
		t.Error("no session cookie")
	}
	for name, want := range map[string][]string{
		"test-header":   {"test-value"},
		"X-Multi":       {"value-one-7q", "value-two-8r"},
		"Authorization": {"Basic c2VjcmV0"},
		"Cookie":        {"theme=dark"},
		"User-Agent":    {"Go-http-client/1.1"},
	} {
		if got := seen.Values(name); !slices.Equal(got, want) {
			t.Errorf("hook saw %s = %q, want %q", name, got, want)
		}
	}

	out := logs.String()
	if !strings.Contains(out, "chatauth: headers seen") || !strings.Contains(out, "Test-Header") || !strings.Contains(out, "X-Multi") {
		t.Errorf("debug line does not list header names:\n%s", out)
	}
	for _, value := range []string{"test-value", "c2VjcmV0", "theme=dark", "value-one-7q", "value-two-8r"} {
		if strings.Contains(out, value) {
			t.Errorf("log contains header value %q:\n%s", value, out)
		}
	}
}

func TestHeaderHookGetsAClone(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	a.OnHeaderCredential(func(_ context.Context, h http.Header) (*User, error) {
		if h.Get("Test-Header") != "test-value" {
			t.Errorf("hook saw Test-Header %q", h.Get("Test-Header"))
		}
		h.Del("Test-Header")
		h.Set("X-Injected", "1")
		return &User{Identifier: "ada"}, nil
	}, "Test-Header")
	for _, req := range []*http.Request{httptest.NewRequest(http.MethodPost, "/auth/header", nil), httptest.NewRequest(http.MethodGet, "/user", nil)} {
		req.Header.Set("test-header", "test-value")
		if resp := serve(t, a, req); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s = %d", req.Method, req.URL.Path, resp.StatusCode)
		}
		if req.Header.Get("Test-Header") != "test-value" || req.Header.Get("X-Injected") != "" {
			t.Errorf("hook changed the request's headers: %v", req.Header)
		}
	}
}

func TestHeaderLoginFailures(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	wantError(t, serve(t, a, httptest.NewRequest(http.MethodPost, "/auth/header", nil)), http.StatusNotFound, "header login not enabled")
	a.OnHeaderCredential(func(_ context.Context, h http.Header) (*User, error) {
		if h.Get("X-Api-Key") == "" {
			return nil, nil
		}
		return &User{Identifier: "ada"}, nil
	}, "X-Api-Key")
	resp := serve(t, a, httptest.NewRequest(http.MethodPost, "/auth/header", nil))
	wantError(t, resp, http.StatusUnauthorized, "credentialssignin")
	if len(resp.Cookies()) != 0 {
		t.Errorf("rejected header login set %v", resp.Cookies())
	}
	if resp := serve(t, a, httptest.NewRequest(http.MethodGet, "/auth/header", nil)); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /auth/header = %d", resp.StatusCode)
	}
}

// headerHook is a header hook for tests: it counts its calls and logs in
// the user its header names, directly (a proxy's X-Forwarded-User: ada) or
// as a key (X-Api-Key: key-ada). The user "nobody" is rejected.
func headerHook(header string, calls *atomic.Int32) HeaderFunc {
	return func(_ context.Context, h http.Header) (*User, error) {
		calls.Add(1)
		user := strings.TrimPrefix(h.Get(header), "key-")
		if user == "" || user == "nobody" {
			return nil, nil
		}
		return &User{Identifier: user}, nil
	}
}

// headerModeCase is one of the two header modes, as a test uses it.
type headerModeCase struct {
	name     string
	header   string
	register func(a *Auth, f HeaderFunc)
	value    func(user string) string // the header value that logs user in
	peer     string                   // a RemoteAddr the mode accepts
}

// headerModeCases has one row per mode. Both trust 10.0.0.1 as a proxy
// (headerTestConfig); the credential's peer is any other address.
var headerModeCases = []headerModeCase{
	{"proxy", "X-Forwarded-User", func(a *Auth, f HeaderFunc) { a.OnProxyHeader(f, "X-Forwarded-User") },
		func(u string) string { return u }, "10.0.0.1:4711"},
	{"credential", "X-Api-Key", func(a *Auth, f HeaderFunc) { a.OnHeaderCredential(f, "X-Api-Key") },
		func(u string) string { return "key-" + u }, "198.51.100.7:4711"},
}

// headerTestConfig trusts one proxy, 10.0.0.1.
func headerTestConfig() Config { return Config{Proxy: ProxyConfig{Trusted: []string{"10.0.0.1"}}} }

// request is a request from peer, with the mode's header naming user
// when user is not empty.
func (m headerModeCase) request(method, path, user string) *http.Request {
	r := httptest.NewRequest(method, path, nil)
	r.RemoteAddr = m.peer
	if user != "" {
		r.Header.Set(m.header, m.value(user))
	}
	return r
}

// newHeaderModeAuth is an Auth trusting the proxy 10.0.0.1, with header
// login in mode m by headerHook, and the count of the hook's calls.
func newHeaderModeAuth(t *testing.T, m headerModeCase, cfg Config) (*Auth, *testClock, *syncBuffer, *atomic.Int32) {
	t.Helper()
	cfg.Proxy.Trusted = []string{"10.0.0.1"}
	a, clk, logs := newTestAuth(t, cfg)
	calls := new(atomic.Int32)
	m.register(a, headerHook(m.header, calls))
	return a, clk, logs, calls
}

func TestHeaderLoginOnEveryRequest(t *testing.T) {
	for _, m := range headerModeCases {
		t.Run(m.name, func(t *testing.T) {
			a, _, logs, calls := newHeaderModeAuth(t, m, Config{})
			h := protected(a)

			// The first request carrying the header is already logged in,
			// and carries the session cookie back.
			first := serve(t, h, m.request("GET", "/chat", "ada"))
			if body := readBody(t, first); first.StatusCode != 200 || body != "ada" || cookieNamed(first, "access_token") == nil {
				t.Fatalf("first request: %d %q %v", first.StatusCode, body, first.Cookies())
			}
			// Later ones ride on the cookie, with or without the header:
			// the hook is not asked again for the same values.
			for _, user := range []string{"", "ada"} {
				resp := serve(t, h, addCookies(m.request("GET", "/chat", user), first))
				if resp.StatusCode != 200 || len(resp.Cookies()) != 0 || calls.Load() != 1 {
					t.Errorf("cookie request (header %q): %d, cookies %v, hook calls %d", user, resp.StatusCode, resp.Cookies(), calls.Load())
				}
			}
			// GET R/user and a WebSocket handshake, without the cookie: the
			// same session again, no hook call.
			ws := m.request("GET", "/chat", "ada")
			ws.Header.Set("Upgrade", "websocket")
			ws.Header.Set("Connection", "Upgrade")
			for _, resp := range []*http.Response{serve(t, a, m.request("GET", "/user", "ada")), serve(t, h, ws)} {
				if resp.StatusCode != 200 || calls.Load() != 1 || cookieNamed(resp, "access_token") == nil {
					t.Errorf("request without cookie: %d %s, hook calls %d", resp.StatusCode, readBody(t, resp), calls.Load())
				}
			}
			// The hook says no: 401 credentialssignin, logged as such.
			wantError(t, serve(t, h, m.request("GET", "/chat", "nobody")), 401, "credentialssignin")
			if !strings.Contains(logs.String(), "auth.method=header auth.outcome=rejected auth.reason=credentialssignin") {
				t.Errorf("rejection not logged:\n%s", logs)
			}
			// Neither header nor cookie: an ordinary anonymous request.
			wantError(t, serve(t, h, m.request("GET", "/chat", "")), 401, "Not authenticated")
			// WithUser lets a rejected one through without a user.
			open := a.WithUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if UserFrom(r.Context()) != nil {
					t.Error("user for rejected headers")
				}
			}))
			if resp := serve(t, open, m.request("GET", "/", "nobody")); resp.StatusCode != 200 {
				t.Errorf("WithUser: %d", resp.StatusCode)
			}
		})
	}
}

func TestProxyHeaderOnlyFromTrustedProxies(t *testing.T) {
	tests := []struct {
		name    string
		proxies []string
		remote  string
		ok      bool
	}{
		{"untrusted peer", []string{"10.0.0.0/8"}, "203.0.113.9:5555", false},
		{"trusted peer", []string{"10.0.0.0/8"}, "10.2.3.4:5555", true},
		{"trusted single address", []string{"127.0.0.1"}, "127.0.0.1:5555", true},
		{"IPv4-mapped trusted peer", []string{"127.0.0.1"}, "[::ffff:127.0.0.1]:5555", true},
		{"IPv6 trusted peer", []string{"fd00::/8"}, "[fd00::1]:5555", true},
		{"no proxies configured", nil, "127.0.0.1:5555", false},
		{"unparsable peer", []string{"10.0.0.0/8"}, "somewhere", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, logs := newTestAuth(t, Config{Proxy: ProxyConfig{Trusted: tt.proxies}})
			var calls atomic.Int32
			a.OnProxyHeader(headerHook("X-Forwarded-User", &calls), "X-Forwarded-User")
			for _, req := range []*http.Request{httptest.NewRequest("POST", "/auth/header", nil), httptest.NewRequest("GET", "/chat", nil)} {
				req.RemoteAddr = tt.remote
				req.Header.Set("X-Forwarded-User", "admin")
				var h http.Handler = a
				if req.Method == "GET" {
					h = protected(a)
				}
				resp := serve(t, h, req)
				if tt.ok {
					if resp.StatusCode != 200 {
						t.Errorf("%s %s = %d", req.Method, req.URL.Path, resp.StatusCode)
					}
					continue
				}
				detail := "Invalid authentication token"
				if req.Method == "POST" {
					detail = "credentialssignin"
				}
				wantError(t, resp, http.StatusUnauthorized, detail)
			}
			switch {
			case tt.ok && calls.Load() != 2:
				t.Errorf("hook called %d times, want 2", calls.Load())
			case !tt.ok && calls.Load() != 0:
				t.Error("hook called for an untrusted peer")
			case !tt.ok && (strings.Count(logs.String(), "auth.reason=untrusted_peer") != 2 || !strings.Contains(logs.String(), "trusted_proxy=false")):
				t.Errorf("reason not logged for both requests:\n%s", logs)
			}
		})
	}
}

func TestHeaderCredentialFromAnyPeer(t *testing.T) {
	for _, remote := range []string{"10.0.0.1:5555", "203.0.113.9:5555", "[2001:db8::1]:5555", "somewhere"} {
		t.Run(remote, func(t *testing.T) {
			a, _, _ := newTestAuth(t, headerTestConfig())
			var calls atomic.Int32
			a.OnHeaderCredential(headerHook("X-Api-Key", &calls), "X-Api-Key")
			post := httptest.NewRequest("POST", "/auth/header", nil)
			get := httptest.NewRequest("GET", "/chat", nil)
			for _, req := range []*http.Request{post, get} {
				req.RemoteAddr = remote
				req.Header.Set("X-Api-Key", "key-ada")
			}
			wantSuccess(t, serve(t, a, post))
			if resp := serve(t, protected(a), get); resp.StatusCode != 200 {
				t.Errorf("GET /chat = %d", resp.StatusCode)
			}
		})
	}
}

// TestHeaderCredentialAbsentIsNoGuess: POST R/auth/header without any of
// the credential hook's headers, as Chainlit's web client sends it on each
// visit of its login page, is refused without asking the hook or counting
// against the address.
func TestHeaderCredentialAbsentIsNoGuess(t *testing.T) {
	cfg := headerTestConfig()
	cfg.Login.Limits = PasswordLimits{PerAddress: 3}
	a, _, logs := newTestAuth(t, cfg)
	var calls atomic.Int32
	a.OnHeaderCredential(headerHook("X-Api-Key", &calls), "X-Api-Key")
	for range 10 {
		wantError(t, serve(t, a, httptest.NewRequest("POST", "/auth/header", nil)), 401, "credentialssignin")
	}
	if calls.Load() != 0 || !strings.Contains(logs.String(), "auth.reason=no_credential") {
		t.Errorf("hook calls %d, logs:\n%s", calls.Load(), logs)
	}
	req := httptest.NewRequest("POST", "/auth/header", nil)
	req.Header.Set("X-Api-Key", "key-ada")
	wantSuccess(t, serve(t, a, req))
}

// TestBothHeaderModes has a proxy and API keys at once, as the demo can:
// each header is believed from whom its mode says.
func TestBothHeaderModes(t *testing.T) {
	a, _, logs := newTestAuth(t, headerTestConfig())
	var proxyCalls, keyCalls atomic.Int32
	a.OnProxyHeader(headerHook("X-Forwarded-User", &proxyCalls), "X-Forwarded-User")
	a.OnHeaderCredential(headerHook("X-Api-Key", &keyCalls), "X-Api-Key")
	tests := []struct {
		name, peer, forwardedUser, apiKey string
		status                            int
		user, reason                      string
	}{
		{"proxy header from the proxy", "10.0.0.1:1", "ada", "", 200, "ada", "ok"},
		{"key from anywhere", "203.0.113.9:1", "", "key-bob", 200, "bob", "ok"},
		{"key through the proxy", "10.0.0.1:1", "", "key-bob", 200, "bob", "ok"},
		{"both through the proxy: the proxy wins", "10.0.0.1:1", "ada", "key-bob", 200, "ada", "ok"},
		{"proxy header from elsewhere", "203.0.113.9:1", "admin", "", 401, "", "untrusted_peer"},
		{"proxy header and key from elsewhere: the key counts", "203.0.113.9:1", "admin", "key-bob", 200, "bob", "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := len(logs.String())
			req := httptest.NewRequest("GET", "/chat", nil)
			req.RemoteAddr = tt.peer
			if tt.forwardedUser != "" {
				req.Header.Set("X-Forwarded-User", tt.forwardedUser)
			}
			if tt.apiKey != "" {
				req.Header.Set("X-Api-Key", tt.apiKey)
			}
			resp := serve(t, protected(a), req)
			if body := readBody(t, resp); resp.StatusCode != tt.status || tt.status == 200 && body != tt.user {
				t.Errorf("%d %q, want %d %q", resp.StatusCode, body, tt.status, tt.user)
			}
			if tt.status != 200 && !strings.Contains(logs.String()[seen:], "auth.reason="+tt.reason) {
				t.Errorf("reason %s not logged:\n%s", tt.reason, logs)
			}
		})
	}
}

// TestSessionFollowsHeader is issue 11's recipe 8: with a session for bob,
// a request whose header names carol answers carol and replaces the
// session; one whose header the hook rejects ends the session.
func TestSessionFollowsHeader(t *testing.T) {
	for _, m := range headerModeCases {
		t.Run(m.name, func(t *testing.T) {
			a, _, _, calls := newHeaderModeAuth(t, m, Config{})
			a.OnPassword(acceptUser(&User{Identifier: "bob"}))
			h := protected(a)
			login := loginRequest("", "bob", "pw")
			login.RemoteAddr = m.peer
			bob := serve(t, a, login)
			wantSuccess(t, bob)
			bobToken := cookieNamed(bob, "access_token").Value

			carol := serve(t, h, addCookies(m.request("GET", "/chat", "carol"), bob))
			if body := readBody(t, carol); carol.StatusCode != 200 || body != "carol" || cookieNamed(carol, "access_token") == nil {
				t.Fatalf("bob's cookie with carol's header: %d %q %v", carol.StatusCode, body, carol.Cookies())
			}
			wantError(t, serve(t, a, userRequest(a, bobToken)), 401, "Invalid authentication token") // replaced: revoked
			if resp := serve(t, h, addCookies(m.request("GET", "/chat", "carol"), carol)); readBody(t, resp) != "carol" || calls.Load() != 1 {
				t.Errorf("carol's cookie and header: %d, hook calls %d", resp.StatusCode, calls.Load())
			}

			ended := serve(t, h, addCookies(m.request("GET", "/chat", "nobody"), carol))
			wantError(t, ended, 401, "credentialssignin")
			if c := cookieNamed(ended, "access_token"); c == nil || c.MaxAge >= 0 {
				t.Errorf("session cookie not cleared: %v", ended.Cookies())
			}
			wantError(t, serve(t, a, userRequest(a, cookieNamed(carol, "access_token").Value)), 401, "Invalid authentication token")
		})
	}
}

// TestProxyHeaderFromElsewhereLeavesSessionAlone: headers the mode does not
// believe from this peer are not a change of identity.
func TestProxyHeaderFromElsewhereLeavesSessionAlone(t *testing.T) {
	a, _, _ := newTestAuth(t, headerTestConfig())
	var calls atomic.Int32
	a.OnProxyHeader(headerHook("X-Forwarded-User", &calls), "X-Forwarded-User")
	req := httptest.NewRequest("GET", "/chat", nil)
	req.RemoteAddr = "203.0.113.9:1"
	req.Header.Set("X-Forwarded-User", "carol")
	req.AddCookie(&http.Cookie{Name: "access_token", Value: issue(t, a, &User{Identifier: "bob"})})
	if resp := serve(t, protected(a), req); readBody(t, resp) != "bob" || calls.Load() != 0 {
		t.Errorf("untrusted carol with bob's cookie: %d, hook calls %d", resp.StatusCode, calls.Load())
	}
}

func TestCookielessClientDoesNotPileUpSessions(t *testing.T) {
	for _, m := range headerModeCases {
		t.Run(m.name, func(t *testing.T) {
			a, _, _, calls := newHeaderModeAuth(t, m, Config{})
			sessions := map[string]bool{}
			h := a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sessions[SessionFrom(r.Context()).ID] = true
			}))
			for i := range 10000 {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, m.request("GET", "/api/messages", "ada"))
				if rec.Code != 200 {
					t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
				}
			}
			if entries, _ := a.headerSessions.size(); len(sessions) != 1 || calls.Load() != 1 || entries != 1 {
				t.Errorf("10000 requests: %d sessions, %d hook calls, %d remembered; want 1 each", len(sessions), calls.Load(), entries)
			}
		})
	}
}

// TestRememberedHeaderSessionEnds: a logout, RevokeUser or the end of the
// session sends the next request to the hook again.
func TestRememberedHeaderSessionEnds(t *testing.T) {
	m := headerModeCases[1]
	a, clk, _, calls := newHeaderModeAuth(t, m, Config{})
	id := func() string {
		t.Helper()
		var s *Session
		h := a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s = SessionFrom(r.Context()) }))
		if resp := serve(t, h, m.request("GET", "/", "ada")); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return s.ID
	}
	first := id()
	if err := a.EndUserSessions(context.Background(), "ada"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Millisecond)
	second := id()
	clk.Advance(a.cfg.SessionTimeout + time.Second) // exp is rounded up to the second
	third := id()
	if first == second || second == third || calls.Load() != 3 {
		t.Errorf("sessions %s %s %s, hook calls %d: want three sessions, three calls", first, second, third, calls.Load())
	}
}

// TestHeaderSessionRenewalKeepsItsHeaders: a renewed token still records
// the header values, so the renewal costs no hook call.
func TestHeaderSessionRenewalKeepsItsHeaders(t *testing.T) {
	m := headerModeCases[0]
	a, clk, _, calls := newHeaderModeAuth(t, m, Config{Session: SessionConfig{IdleTimeout: time.Hour}})
	h := protected(a)
	resp := serve(t, h, m.request("GET", "/chat", "ada"))
	clk.Advance(31 * time.Minute)
	renewed := serve(t, h, addCookies(m.request("GET", "/chat", "ada"), resp))
	if cookieNamed(renewed, "access_token") == nil {
		t.Fatal("cookie not renewed")
	}
	clk.Advance(time.Minute)
	if resp := serve(t, h, addCookies(m.request("GET", "/chat", "ada"), renewed)); resp.StatusCode != 200 || calls.Load() != 1 {
		t.Errorf("after renewal: %d, hook calls %d", resp.StatusCode, calls.Load())
	}
}

func TestHeaderCredentialGuessingThrottled(t *testing.T) {
	cfg := headerTestConfig()
	cfg.Login.Limits = PasswordLimits{PerAddress: 3}
	a, clk, logs := newTestAuth(t, cfg)
	var calls atomic.Int32
	a.OnHeaderCredential(headerHook("X-Api-Key", &calls), "X-Api-Key")
	a.OnPassword(func(context.Context, string, string) (*User, error) { return nil, nil })
	get := func(peer, key string) *http.Response {
		req := httptest.NewRequest("GET", "/user", nil)
		req.RemoteAddr = peer
		req.Header.Set("X-Api-Key", key)
		return serve(t, a, req)
	}
	if resp := get("203.0.113.9:1", "key-ada"); resp.StatusCode != 200 { // remembered from now on
		t.Fatalf("right key: %d", resp.StatusCode)
	}
	for range 3 {
		wantError(t, get("203.0.113.9:1", "key-nobody"), 401, "credentialssignin")
	}
	resp := get("203.0.113.9:1", "key-nobody")
	wantError(t, resp, 429, "too many login attempts, try again later")
	if resp.Header.Get("Retry-After") == "" || calls.Load() != 4 || !strings.Contains(logs.String(), "auth.reason=throttled") {
		t.Errorf("Retry-After %q, hook calls %d (want 4), logs:\n%s", resp.Header.Get("Retry-After"), calls.Load(), logs)
	}
	// The budget is the address's, shared with wrong passwords, whatever
	// the key: a right one waits too, even one whose session is
	// remembered (else the answer would tell remembered keys from wrong
	// ones); another address does not wait.
	wantError(t, get("203.0.113.9:1", "key-ada"), 429, "too many login attempts, try again later")
	login := loginRequest("", "ada", "guess")
	login.RemoteAddr = "203.0.113.9:1"
	wantError(t, serve(t, a, login), 429, "too many login attempts, try again later")
	if resp := get("198.51.100.7:1", "key-ada"); resp.StatusCode != 200 {
		t.Errorf("other address: %d", resp.StatusCode)
	}
	clk.Advance(a.cfg.PasswordLimits.Window)
	if resp := get("203.0.113.9:1", "key-ada"); resp.StatusCode != 200 {
		t.Errorf("after the window: %d", resp.StatusCode)
	}
	// Successes are forgiven: they never use up the failure budget.
	for i := range 5 {
		if resp := get("192.0.2.1:1", fmt.Sprintf("key-user%d", i)); resp.StatusCode != 200 {
			t.Fatalf("right key %d: %d", i, resp.StatusCode)
		}
	}
	for range 3 {
		wantError(t, get("192.0.2.1:1", "key-nobody"), 401, "credentialssignin")
	}
}

// TestHeaderFirstRequestOverHTTP is the seed of issue 19: a client (here
// Go's, standing in for Python's requests.get) sends its own header to a
// protected page and is logged in on that first request; a browser-like
// client keeps the cookie it got and needs the header no more.
func TestHeaderFirstRequestOverHTTP(t *testing.T) {
	srv := seedServer(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	for i, header := range []string{"test-value", ""} {
		req, _ := http.NewRequest("GET", srv.URL+"/chat", nil)
		if header != "" {
			req.Header["test-header"] = []string{header} // lower case, as requests sends it
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != 200 || body != "hello seed" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
	}
	req, _ := http.NewRequest("GET", srv.URL+"/chat", nil)
	req.Header.Set("test-header", "wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, resp, 401, "credentialssignin")
}

// seedServer serves GET /chat, protected, with header login by the
// credential "test-header: test-value", on loopback.
func seedServer(t *testing.T) *httptest.Server {
	t.Helper()
	a, _, _ := newTestAuth(t, Config{})
	a.OnHeaderCredential(func(_ context.Context, h http.Header) (*User, error) {
		if h.Get("test-header") != "test-value" {
			return nil, nil
		}
		return &User{Identifier: "seed"}, nil
	}, "test-header")
	mux := http.NewServeMux()
	a.Mount(mux)
	mux.Handle("GET /chat", a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", UserFrom(r.Context()).Identifier)
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// seedClient is the seed's client in Python, with the standard library's
// urllib: it prints the status, the body and the name of the first cookie
// set.
const seedClient = `
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], headers={"test-header": sys.argv[2]})
try:
    with urllib.request.urlopen(req) as r:
        cookie = (r.headers.get("Set-Cookie") or "=").split("=")[0]
        print(r.status, r.read().decode(), cookie)
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode().strip())
`

// TestHeaderFirstRequestFromPython runs the seed's scenario with a real
// Python client: python3's urllib (any python3; urllib is in its standard
// library).
func TestHeaderFirstRequestFromPython(t *testing.T) {
	python := findPython3(t)
	srv := seedServer(t)
	for value, want := range map[string]string{
		"test-value": "200 hello seed access_token",
		"wrong":      `401 {"detail":"credentialssignin"}`,
	} {
		out, err := exec.Command(python, "-c", seedClient, srv.URL+"/chat", value).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("python client with %q: %v\n%s\nwant %s", value, err, out, want)
		}
	}
}

// findPython3 is a python3 for tests that need only its standard library:
// the one on PATH, else Debian's. Without one the test is skipped, or
// fails under CI=true.
func findPython3(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("python3 not found (Debian package python3)")
	}
	t.Skip("python3 not found: install Debian's python3 to run this test")
	return ""
}

// TestWebSocketHandshakeByHeaderCredential opens a real WebSocket
// handshake over loopback with an API key in a header and no cookie: it is
// authenticated by the key, answered 101, and gets the session cookie.
func TestWebSocketHandshakeByHeaderCredential(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	var calls atomic.Int32
	a.OnHeaderCredential(headerHook("X-Api-Key", &calls), "X-Api-Key")
	srv := httptest.NewServer(a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		w.Header().Set("Upgrade", "websocket")
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Sec-WebSocket-Accept", base64.StdEncoding.EncodeToString(sum[:]))
		w.Header().Set("X-User", UserFrom(r.Context()).Identifier)
		w.WriteHeader(http.StatusSwitchingProtocols)
	})))
	t.Cleanup(srv.Close)
	for key, want := range map[string]int{"key-ada": 101, "key-nobody": 401} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Api-Key: %s\r\n\r\n",
			srv.Listener.Addr(), key)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
		if resp.StatusCode != want || want == 101 && (resp.Header.Get("X-User") != "ada" || cookieNamed(resp, "access_token") == nil ||
			resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") {
			t.Errorf("handshake with %s: %d %v", key, resp.StatusCode, resp.Header)
		}
	}
}

// TestHeaderDebugLog: at debug level each attempt says which headers
// arrived (names only), which log in on every request, the mode and whether the
// peer is a trusted proxy: "my header never reaches the hook" in one line.
func TestHeaderDebugLog(t *testing.T) {
	a, _, logs := newTestAuth(t, headerTestConfig())
	var calls atomic.Int32
	a.OnProxyHeader(headerHook("X-Forwarded-User", &calls), "X-Forwarded-User")
	a.OnHeaderCredential(headerHook("X-Api-Key", &calls), "X-Api-Key")
	for _, tt := range []struct {
		peer, header, value string
		want                []string
	}{
		{"198.51.100.7:1", "test-header", "tv-0a1b2c", []string{"mode=none", "headers=[Test-Header]", "login_headers=\"[X-Forwarded-User X-Api-Key]\"", "trusted_proxy=false"}},
		{"198.51.100.7:1", "X-Api-Key", "key-kv5d4e", []string{"mode=credential", "headers=[X-Api-Key]", "trusted_proxy=false"}},
		{"10.0.0.1:1", "X-Forwarded-User", "fu7f8g9h", []string{"mode=proxy", "headers=[X-Forwarded-User]", "trusted_proxy=true"}},
		{"198.51.100.7:1", "X-Forwarded-User", "fu7f8g9h", []string{"mode=none", "trusted_proxy=false", "auth.reason=untrusted_peer"}},
	} {
		seen := len(logs.String())
		req := httptest.NewRequest("GET", "/chat", nil)
		req.RemoteAddr = tt.peer
		req.Header = http.Header{http.CanonicalHeaderKey(tt.header): {tt.value}}
		serve(t, protected(a), req)
		out := logs.String()[seen:]
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s from %s: log lacks %s:\n%s", tt.header, tt.peer, w, out)
			}
		}
		// A proxy's identity header names the user, which success lines
		// carry as user; a credential is never logged.
		if tt.header != "X-Forwarded-User" && strings.Contains(out, tt.value) {
			t.Errorf("log contains the value of %s:\n%s", tt.header, out)
		}
	}
}

func TestHeaderModeRegistration(t *testing.T) {
	var calls atomic.Int32
	hook := headerHook("X-Api-Key", &calls)
	tests := []struct {
		name     string
		cfg      Config
		register func(a *Auth)
		on       bool
		warning  string // "" for none
	}{
		{"proxy", headerTestConfig(), func(a *Auth) { a.OnProxyHeader(hook, "X-Forwarded-User") }, true, ""},
		{"proxy without trusted proxies", Config{}, func(a *Auth) { a.OnProxyHeader(hook, "X-Forwarded-User") }, true, "without TrustedProxies"},
		{"credential", Config{}, func(a *Auth) { a.OnHeaderCredential(hook, "X-Api-Key") }, true, ""},
		{"credential reading an identity header", Config{}, func(a *Auth) { a.OnHeaderCredential(hook, "x-forwarded-user") }, true, "only identity headers"},
		{"credential signing an identity header", Config{}, func(a *Auth) { a.OnHeaderCredential(hook, "X-Forwarded-User", "X-Signature") }, true, ""},
		{"bad header name", Config{}, func(a *Auth) { a.OnHeaderCredential(hook, "X Api Key", "") }, true, "not a header name"},
		{"nil hook turns the mode off", Config{}, func(a *Auth) { a.OnHeaderCredential(hook, "X-Api-Key"); a.OnHeaderCredential(nil) }, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, logs := newTestAuth(t, tt.cfg)
			tt.register(a)
			if a.headerLoginOn() != tt.on {
				t.Errorf("header login on = %v", a.headerLoginOn())
			}
			warned := strings.Contains(logs.String(), "level=WARN") || strings.Contains(logs.String(), "level=ERROR")
			if warned != (tt.warning != "") || !strings.Contains(logs.String(), tt.warning) {
				t.Errorf("want warning %q, log:\n%s", tt.warning, logs)
			}
		})
	}
}

// TestReadmeHeaderSnippetsAreExamples keeps the README's header login
// snippets tested as written: every line of them is in example_test.go,
// where ExampleAuth_OnProxyHeader and ExampleAuth_OnHeaderCredential run
// them.
func TestReadmeHeaderSnippetsAreExamples(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	examples, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, line := range strings.Split(string(examples), "\n") {
		have[strings.TrimSpace(line)] = true
	}
	for _, section := range []string{"## Behind an authenticating proxy", "## API keys and other credentials in a header"} {
		_, text, ok := strings.Cut(string(readme), section)
		if !ok {
			t.Fatalf("README has no section %q", section)
		}
		text, _, _ = strings.Cut(text, "\n## ")
		blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(text, -1)
		if len(blocks) == 0 {
			t.Fatalf("README section %q has no Go snippet", section)
		}
		for _, b := range blocks {
			for _, line := range strings.Split(b[1], "\n") {
				if line = strings.TrimSpace(line); line != "" && !have[line] {
					t.Errorf("README %s: line not in example_test.go: %s", section, line)
				}
			}
		}
	}
}

func TestHeaderLoginLogLinesShareARequestID(t *testing.T) {
	a, _, logs := newTestAuth(t, Config{})
	a.OnHeaderCredential(func(context.Context, http.Header) (*User, error) { return &User{Identifier: "ada"}, nil })
	wantSuccess(t, serve(t, a, httptest.NewRequest(http.MethodPost, "/auth/header", nil)))
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines:\n%s", logs)
	}
	id := func(line string) string {
		_, rest, _ := strings.Cut(line, "request_id=")
		v, _, _ := strings.Cut(rest, " ")
		return v
	}
	if id(lines[0]) == "" || id(lines[0]) != id(lines[1]) {
		t.Errorf("request ids differ:\n%s", logs)
	}
}

// BenchmarkRequireUserProxyHeaderUnchanged is a browser behind an
// authenticating proxy: its session cookie, and the proxy's identity
// header with the value the session was started with. What re-checking
// the header costs on every request is the difference to
// BenchmarkRequireUser: one keyed hash, no hook call.
func BenchmarkRequireUserProxyHeaderUnchanged(b *testing.B) {
	a, err := New(Config{Secret: []byte(strings.Repeat("s", 32)), Logger: discardLogger(), Proxy: ProxyConfig{Trusted: []string{"192.0.2.0/24"}}})
	if err != nil {
		b.Fatal(err)
	}
	a.OnProxyHeader(func(_ context.Context, h http.Header) (*User, error) { return benchUser, nil }, "X-Forwarded-User")
	first := httptest.NewRequest("GET", "/chat", nil)
	first.Header.Set("X-Forwarded-User", benchUser.Identifier)
	rec := httptest.NewRecorder()
	a.RequireUser(benchHandler).ServeHTTP(rec, first)
	token := cookieNamed(rec.Result(), "access_token").Value
	benchHeaderRequests(b, a.RequireUser(benchHandler), "X-Forwarded-User", benchUser.Identifier, "access_token="+token)
}

// BenchmarkRequireUserHeaderCredentialNoCookie is a script sending its API
// key on every request and keeping no cookie: the session its key started
// is found by the header hash, verified and set as the cookie again.
func BenchmarkRequireUserHeaderCredentialNoCookie(b *testing.B) {
	a := benchAuth(b)
	a.OnHeaderCredential(func(_ context.Context, h http.Header) (*User, error) { return benchUser, nil }, "X-Api-Key")
	benchHeaderRequests(b, a.RequireUser(benchHandler), "X-Api-Key", "k-0123456789abcdef0123456789abcdef", "")
}

func benchHeaderRequests(b *testing.B, h http.Handler, header, value, cookie string) {
	b.Helper()
	r := httptest.NewRequest("GET", "/chat", nil)
	r.Header.Set(header, value)
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	serveBenchRequest(b, h, r)
}
