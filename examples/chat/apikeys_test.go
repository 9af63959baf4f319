package main

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestAPIKeys runs issue 19's demo: CHATAUTH_DEMO_API_KEYS turns on API
// keys in X-API-Key, from any address, while CHATAUTH_HEADER_USER is still
// believed from CHATAUTH_TRUSTED_PROXIES only.
func TestAPIKeys(t *testing.T) {
	app := newTestApp(t, env(
		"CHAINLIT_AUTH_SECRET", testSecret,
		"CHATAUTH_DEMO_USERS", "carol:pw1",
		"CHATAUTH_DEMO_API_KEYS", "alice:key1,bob:key2",
		"CHATAUTH_HEADER_USER", "X-Forwarded-User",
		"CHATAUTH_TRUSTED_PROXIES", "127.0.0.1/32",
	), "")
	curl := &http.Client{} // no cookie jar

	t.Run("curl with a key gets its user", func(t *testing.T) {
		for key, want := range map[string]string{"key1": "alice", "key2": "bob"} {
			resp, body := do(t, curl, "GET", app.URL+"/user", nil, apiKeyHeader, key)
			var u struct {
				Identifier string
				Metadata   map[string]any
			}
			if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &u) != nil || u.Identifier != want || u.Metadata["provider"] != "api_key" {
				t.Errorf("GET /user with %s = %d %s, want %s", key, resp.StatusCode, body, want)
			}
		}
	})
	t.Run("a browser with the key lands on the chat page logged in", func(t *testing.T) {
		c := newClient(t)
		resp, body := do(t, c, "GET", app.URL+"/", nil, apiKeyHeader, "key1", "Accept", "text/html")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="user-name" title="alice">alice<`) {
			t.Fatalf("GET / with the key = %d, want the chat page as alice", resp.StatusCode)
		}
		// The page's own requests carry the cookie, not the key.
		if resp, body := do(t, c, "GET", app.URL+"/user", nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"alice"`) {
			t.Errorf("GET /user with the cookie = %d %s", resp.StatusCode, body)
		}
		if resp, _ := do(t, newClient(t), "GET", app.URL+"/", nil, "Accept", "text/html"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("GET / without key or cookie = %d, want 303 to the login page", resp.StatusCode)
		}
	})
	t.Run("the key works from any address, the proxy header from the proxy only", func(t *testing.T) {
		other := clientFrom(t, "127.0.0.2")
		if resp, body := do(t, other, "GET", app.URL+"/user", nil, apiKeyHeader, "key2"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"bob"`) {
			t.Errorf("key from 127.0.0.2 = %d %s", resp.StatusCode, body)
		}
		for _, route := range []string{"/auth/header", "/user"} {
			method := map[string]string{"/auth/header": "POST", "/user": "GET"}[route]
			if resp, body := do(t, clientFrom(t, "127.0.0.2"), method, app.URL+route, nil, "X-Forwarded-User", "carol"); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with X-Forwarded-User from 127.0.0.2 = %d %s, want 401", method, route, resp.StatusCode, body)
			}
		}
		if resp, body := do(t, newClient(t), "POST", app.URL+"/auth/header", nil, "X-Forwarded-User", "carol"); resp.StatusCode != http.StatusOK {
			t.Errorf("X-Forwarded-User from the trusted 127.0.0.1 = %d %s", resp.StatusCode, body)
		}
	})
	t.Run("a wrong key is 401 credentialssignin, then throttled", func(t *testing.T) {
		c := clientFrom(t, "127.0.0.3")
		for i := range 100 { // the default PasswordLimits.PerAddress
			resp, body := do(t, c, "GET", app.URL+"/user", nil, apiKeyHeader, "wrong-key")
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "credentialssignin") {
				t.Fatalf("wrong key %d = %d %s", i, resp.StatusCode, body)
			}
		}
		resp, body := do(t, c, "GET", app.URL+"/user", nil, apiKeyHeader, "key1")
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Errorf("after 100 wrong keys = %d %s, want 429 with Retry-After", resp.StatusCode, body)
		}
	})
	t.Run("logs never hold a key", func(t *testing.T) {
		for _, key := range []string{"key1", "key2", "wrong-key"} {
			if strings.Contains(app.logs.String(), key) {
				t.Errorf("the log holds %q", key)
			}
		}
	})
}

// TestHeaderLoginTrustsLoopbackOnlyByDefault: CHATAUTH_HEADER_USER without
// CHATAUTH_TRUSTED_PROXIES believes a proxy on this machine at exactly
// 127.0.0.1 (as the contract's "default loopback" says), never the rest of
// 127.0.0.0/8 (issue 11's finding), and says so at start-up.
func TestHeaderLoginTrustsLoopbackOnlyByDefault(t *testing.T) {
	app := newTestApp(t, env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", "alice:pw1",
		"CHATAUTH_HEADER_USER", "X-Forwarded-User"), "")
	resp, body := do(t, newClient(t), "POST", app.URL+"/auth/header", nil, "X-Forwarded-User", "admin")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("header login from 127.0.0.1 = %d %s, want 200", resp.StatusCode, body)
	}
	other := newClient(t)
	other.Transport = &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}
	resp, body = do(t, other, "POST", app.URL+"/auth/header", nil, "X-Forwarded-User", "admin")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(app.logs.String(), "auth.reason=untrusted_peer") {
		t.Errorf("header login from 127.0.0.2 = %d %s, want 401 untrusted_peer", resp.StatusCode, body)
	}
	if !strings.Contains(app.logs.String(), "CHATAUTH_TRUSTED_PROXIES being unset") {
		t.Errorf("no start-up warning:\n%s", app.logs)
	}
	var out logBuffer
	app.s.printWelcome(&out, app.URL)
	if !strings.Contains(out.String(), "from a proxy on this machine (127.0.0.1/32, ::1/128) only") {
		t.Errorf("welcome does not say whom header login believes:\n%s", out.String())
	}
}
