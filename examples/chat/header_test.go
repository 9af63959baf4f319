package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chatauth/chatauth/examples/proxy/authproxy"
)

// clientFrom is a client whose connections come from the loopback address
// ip, so that a test can be a host that is not the trusted proxy.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		if inCI() {
			t.Fatalf("cannot use loopback address %s: %v", ip, err)
		}
		t.Skipf("cannot use loopback address %s (only 127.0.0.1 on this system?): %v", ip, err)
	}
	ln.Close()
	c := newClient(t)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c.Transport = &http.Transport{DialContext: d.DialContext}
	return c
}

// TestHeaderLoginBehindProxy runs the chat server with header login trusted
// from 127.0.0.1 only, and the real authenticating proxy in front of it.
func TestHeaderLoginBehindProxy(t *testing.T) {
	app := newTestApp(t, env(
		"CHAINLIT_AUTH_SECRET", testSecret,
		"CHATAUTH_DEMO_USERS", "alice:pw1",
		"CHATAUTH_HEADER_USER", "X-Forwarded-User",
		"CHATAUTH_TRUSTED_PROXIES", "127.0.0.1/32",
	), "")
	const key = "test-api-key"
	h, err := authproxy.New(authproxy.Options{Upstream: app.URL, APIKey: key, User: "ada", Email: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(h)
	t.Cleanup(front.Close)

	t.Run("auth config says header login is on", func(t *testing.T) {
		_, body := do(t, http.DefaultClient, "GET", app.URL+"/auth/config", nil)
		if !strings.Contains(body, `"headerAuth":true`) {
			t.Fatalf("GET /auth/config = %s", body)
		}
	})
	t.Run("spoofed header from an untrusted address is ignored", func(t *testing.T) {
		c := clientFrom(t, "127.0.0.2")
		resp, body := do(t, c, "POST", app.URL+"/auth/header", nil, "X-Forwarded-User", "mallory")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("direct header login = %d %s, want 401", resp.StatusCode, body)
		}
		if !strings.Contains(app.logs.String(), "untrusted_peer") {
			t.Error("the refusal was not logged with reason untrusted_peer")
		}
	})
	t.Run("proxy refuses a client without the key", func(t *testing.T) {
		resp, _ := do(t, newClient(t), "POST", front.URL+"/auth/header", nil, "X-Forwarded-User", "mallory")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("keyless request through the proxy = %d, want 401", resp.StatusCode)
		}
	})
	t.Run("through the proxy the proxy's user wins", func(t *testing.T) {
		c := newClient(t)
		resp, body := do(t, c, "POST", front.URL+"/auth/header", nil,
			authproxy.APIKeyHeader, key, "X-Forwarded-User", "mallory", "X_Forwarded_User", "mallory")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("header login through the proxy = %d %s", resp.StatusCode, body)
		}
		resp, body = do(t, c, "GET", front.URL+"/user", nil, authproxy.APIKeyHeader, key)
		var u struct {
			Identifier string
			Metadata   map[string]any
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &u) != nil {
			t.Fatalf("GET /user through the proxy = %d %s", resp.StatusCode, body)
		}
		if u.Identifier != "ada" || u.Metadata["email"] != "ada@example.com" || u.Metadata["provider"] != "header" {
			t.Fatalf("user through the proxy = %+v, want ada with her e-mail", u)
		}
	})
	t.Run("browser flow: key once, then cookie, then chat", func(t *testing.T) {
		c := newClient(t)
		resp, _ := do(t, c, "GET", front.URL+"/login?api_key="+key, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Fatalf("GET /login?api_key= = %d %q, want 303 /login", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, body := do(t, c, "GET", front.URL+"/login", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="header-form"`) || !strings.Contains(body, `"tryHeader":true`) {
			t.Fatalf("login page through the proxy = %d", resp.StatusCode)
		}
		origin := []string{"Origin", front.URL, "Sec-Fetch-Site", "same-origin"}
		if resp, body := do(t, c, "POST", front.URL+"/auth/header", nil, origin...); resp.StatusCode != http.StatusOK {
			t.Fatalf("header login with the proxy cookie = %d %s", resp.StatusCode, body)
		}
		if resp, body := do(t, c, "GET", front.URL+"/", nil, "Accept", "text/html"); resp.StatusCode != http.StatusOK ||
			!strings.Contains(body, `id="user-name" title="ada">ada<`) {
			t.Fatalf("chat page through the proxy = %d", resp.StatusCode)
		}
		resp, body = do(t, c, "POST", front.URL+"/chat/stream", form("message", "hello through the proxy"), origin...)
		if resp.StatusCode != http.StatusOK || strings.Count(body, "event: token") < 5 {
			t.Fatalf("stream through the proxy = %d %s", resp.StatusCode, body)
		}
	})
	t.Run("logs name headers, never their values", func(t *testing.T) {
		if logs := app.logs.String(); strings.Contains(logs, "mallory") || strings.Contains(logs, key) {
			t.Fatalf("a header value reached the log:\n%s", logs)
		}
	})
}

// TestStreamFlushesThroughProxy checks that tokens reach the client as they
// are made, not all at the end: the first token arrives while the bot is
// still paused before the second.
func TestStreamFlushesThroughProxy(t *testing.T) {
	app := newTestApp(t, env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", "alice:pw1",
		"CHATAUTH_HEADER_USER", "X-Forwarded-User", "CHATAUTH_TRUSTED_PROXIES", "127.0.0.1/32"), "",
		func(o *options) { o.TokenInterval = time.Hour }) // the second token never comes during the test
	h, err := authproxy.New(authproxy.Options{Upstream: app.URL, APIKey: "k", User: "ada"})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(h)
	t.Cleanup(front.Close)
	c := newClient(t)
	if resp, _ := do(t, c, "POST", front.URL+"/auth/header", nil, authproxy.APIKeyHeader, "k"); resp.StatusCode != http.StatusOK {
		t.Fatalf("header login = %d", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", front.URL+"/chat/stream", form("message", "one two three"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(authproxy.APIKeyHeader, "k")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 256)
	n, err := resp.Body.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "event: token\n") {
		t.Fatalf("first read = %q, %v; want the first token before the stream ends", buf[:n], err)
	}
}
