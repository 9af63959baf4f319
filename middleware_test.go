package chatauth

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// whoAmI answers the identifier UserFrom finds, or "anonymous".
var whoAmI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if u := UserFrom(r.Context()); u != nil {
		if s := SessionFrom(r.Context()); s == nil || s.User != u {
			http.Error(w, "SessionFrom disagrees with UserFrom", 500)
			return
		}
		io.WriteString(w, u.Identifier)
		return
	}
	io.WriteString(w, "anonymous")
})

func TestRequireUser(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	token := issue(t, a, &User{Identifier: "ada"})
	h := a.RequireUser(whoAmI)

	req := httptest.NewRequest(http.MethodGet, "/chat", nil)
	req.AddCookie(&http.Cookie{Name: "access_token", Value: token})
	resp := serve(t, h, req)
	if body := readBody(t, resp); resp.StatusCode != 200 || body != "ada" {
		t.Errorf("with cookie: %d %q", resp.StatusCode, body)
	}

	req = httptest.NewRequest(http.MethodGet, "/chat", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp = serve(t, h, req)
	if body := readBody(t, resp); resp.StatusCode != 200 || body != "ada" {
		t.Errorf("with bearer: %d %q", resp.StatusCode, body)
	}

	wantError(t, serve(t, h, userRequest(a, "")), http.StatusUnauthorized, "Not authenticated")
	for _, tok := range []string{"garbage", token + "x"} {
		resp := serve(t, h, userRequest(a, tok))
		wantError(t, resp, http.StatusUnauthorized, "Invalid authentication token")
	}
}

func TestRequireUserRefusesCrossOriginPost(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	token := issue(t, a, &User{Identifier: "ada"})
	h := a.RequireUser(whoAmI)
	for _, tt := range crossOriginCases {
		if tt.allowed != nil {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/chat/send", nil)
			req.AddCookie(&http.Cookie{Name: "access_token", Value: token})
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp := serve(t, h, req)
			if tt.refused {
				wantError(t, resp, http.StatusForbidden, "cross-origin request rejected")
				return
			}
			if body := readBody(t, resp); resp.StatusCode != 200 || body != "ada" {
				t.Errorf("%d %q", resp.StatusCode, body)
			}
		})
	}
}

func TestWithUser(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	token := issue(t, a, &User{Identifier: "ada"})
	h := a.WithUser(whoAmI)
	for _, tt := range []struct {
		token, want string
	}{
		{token, "ada"},
		{"", "anonymous"},
		{"garbage", "anonymous"},
	} {
		resp := serve(t, h, userRequest(a, tt.token))
		if body := readBody(t, resp); resp.StatusCode != 200 || body != tt.want {
			t.Errorf("token %.10q: %d %q, want %q", tt.token, resp.StatusCode, body, tt.want)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/x", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	wantError(t, serve(t, h, req), http.StatusForbidden, "cross-origin request rejected")

	b, _, _ := newTestAuth(t, Config{Stores: StoresConfig{Revocations: failingStore{}}})
	wantError(t, serve(t, b.WithUser(whoAmI), userRequest(b, issue(t, b, &User{Identifier: "ada"}))),
		http.StatusServiceUnavailable, "session store unavailable")
}

func TestUserFromWithoutMiddleware(t *testing.T) {
	if u := UserFrom(context.Background()); u != nil {
		t.Errorf("UserFrom(empty) = %v", u)
	}
	if s := SessionFrom(context.Background()); s != nil {
		t.Errorf("SessionFrom(empty) = %v", s)
	}
}

func TestWebSocketUpgrade(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{Origins: OriginsConfig{Allowed: []string{"https://app.example.com"}}})
	token := issue(t, a, &User{Identifier: "ada"})
	h := a.RequireUser(whoAmI)
	upgrade := func(origin string) *http.Request {
		req := httptest.NewRequest(http.MethodGet, "/ws", nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		return req
	}

	for _, origin := range []string{"", "http://example.com", "https://app.example.com"} {
		req := upgrade(origin)
		req.AddCookie(&http.Cookie{Name: "access_token", Value: token})
		if resp := serve(t, h, req); readBody(t, resp) != "ada" {
			t.Errorf("cookie, Origin %q: %d", origin, resp.StatusCode)
		}
	}

	req := upgrade("http://example.com")
	req.Header.Set("Authorization", "Bearer "+token)
	wantError(t, serve(t, h, req), http.StatusUnauthorized, "Not authenticated")

	for _, origin := range []string{"https://evil.example", "null", "http://example.com.evil.example"} {
		req = upgrade(origin)
		req.AddCookie(&http.Cookie{Name: "access_token", Value: token})
		wantError(t, serve(t, h, req), http.StatusForbidden, "cross-origin request rejected")
	}

	req = upgrade("http://example.com")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.AddCookie(&http.Cookie{Name: "access_token", Value: token})
	wantError(t, serve(t, h, req), http.StatusForbidden, "cross-origin request rejected")

	// WithUser applies the same rules.
	req = upgrade("https://evil.example")
	req.AddCookie(&http.Cookie{Name: "access_token", Value: token})
	wantError(t, serve(t, a.WithUser(whoAmI), req), http.StatusForbidden, "cross-origin request rejected")
	req = upgrade("")
	req.Header.Set("Authorization", "Bearer "+token)
	if body := readBody(t, serve(t, a.WithUser(whoAmI), req)); !strings.Contains(body, "anonymous") {
		t.Errorf("WithUser took a Bearer token on an upgrade: %q", body)
	}
}

func TestMiddlewareDebugLog(t *testing.T) {
	a, _, logs := newTestAuth(t, Config{})
	token := issue(t, a, &User{Identifier: "ada"})
	serve(t, a.RequireUser(whoAmI), userRequest(a, token))
	out := logs.String()
	if !strings.Contains(out, "level=DEBUG") || !strings.Contains(out, "user=ada") || strings.Contains(out, token) {
		t.Errorf("debug line:\n%s", out)
	}
}
