package chatauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

func TestHeaderHookSeesEveryHeader(t *testing.T) {
	a, _, logs := newTestAuth(t, Config{})
	var seen http.Header
	a.OnHeader(func(ctx context.Context, h http.Header) (*User, error) {
		seen = h.Clone()
		return &User{Identifier: h.Get("X-Forwarded-User")}, nil
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
	a.OnHeader(func(_ context.Context, h http.Header) (*User, error) {
		if h.Get("Test-Header") != "test-value" {
			t.Errorf("hook saw Test-Header %q", h.Get("Test-Header"))
		}
		h.Del("Test-Header")
		h.Set("X-Injected", "1")
		return &User{Identifier: "ada"}, nil
	})
	req := httptest.NewRequest(http.MethodPost, "/auth/header", nil)
	req.Header.Set("test-header", "test-value")
	wantSuccess(t, serve(t, a, req))
	if req.Header.Get("Test-Header") != "test-value" || req.Header.Get("X-Injected") != "" {
		t.Errorf("hook changed the request's headers: %v", req.Header)
	}
}

func TestHeaderLoginFailures(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	wantError(t, serve(t, a, httptest.NewRequest(http.MethodPost, "/auth/header", nil)), http.StatusNotFound, "header login not enabled")
	a.OnHeader(func(_ context.Context, h http.Header) (*User, error) {
		if h.Get("X-Forwarded-User") == "" {
			return nil, nil
		}
		return &User{Identifier: h.Get("X-Forwarded-User")}, nil
	})
	resp := serve(t, a, httptest.NewRequest(http.MethodPost, "/auth/header", nil))
	wantError(t, resp, http.StatusUnauthorized, "credentialssignin")
	if len(resp.Cookies()) != 0 {
		t.Errorf("rejected header login set %v", resp.Cookies())
	}
	if resp := serve(t, a, httptest.NewRequest(http.MethodGet, "/auth/header", nil)); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /auth/header = %d", resp.StatusCode)
	}
}

func TestHeaderAuthTrustedProxiesOnly(t *testing.T) {
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
			a, _, logs := newTestAuth(t, Config{HeaderAuthTrustedProxiesOnly: true, TrustedProxies: tt.proxies})
			var calls atomic.Int32
			a.OnHeader(func(_ context.Context, h http.Header) (*User, error) {
				calls.Add(1)
				return &User{Identifier: h.Get("X-Forwarded-User")}, nil
			})
			req := httptest.NewRequest(http.MethodPost, "/auth/header", nil)
			req.RemoteAddr = tt.remote
			req.Header.Set("X-Forwarded-User", "ada")
			resp := serve(t, a, req)
			if tt.ok {
				wantSuccess(t, resp)
				if calls.Load() != 1 {
					t.Errorf("hook called %d times", calls.Load())
				}
				return
			}
			wantError(t, resp, http.StatusUnauthorized, "credentialssignin")
			if calls.Load() != 0 {
				t.Error("hook called for an untrusted peer")
			}
			if !strings.Contains(logs.String(), "auth.reason=untrusted_peer") || !strings.Contains(logs.String(), "trusted_proxy=false") {
				t.Errorf("reason not logged:\n%s", logs)
			}
		})
	}
}

func TestHeaderLoginWithoutTrustedProxiesOnlyTakesAnyPeer(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{TrustedProxies: []string{"10.0.0.0/8"}})
	a.OnHeader(func(context.Context, http.Header) (*User, error) { return &User{Identifier: "ada"}, nil })
	req := httptest.NewRequest(http.MethodPost, "/auth/header", nil)
	req.RemoteAddr = "203.0.113.9:5555"
	wantSuccess(t, serve(t, a, req))
}

func TestHeaderLoginLogLinesShareARequestID(t *testing.T) {
	a, _, logs := newTestAuth(t, Config{})
	a.OnHeader(func(context.Context, http.Header) (*User, error) { return &User{Identifier: "ada"}, nil })
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
