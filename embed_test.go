package chatauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestPartitionedCookies(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{Partitioned: true})
	a.OnPassword(acceptUser(&User{Identifier: "ada"}))
	resp := serve(t, a, loginRequest("", "ada", "pw"))
	line := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"SameSite=None", "Secure", "Partitioned", "HttpOnly"} {
		if !strings.Contains(line, want) {
			t.Errorf("Set-Cookie %q lacks %s", line, want)
		}
	}
	// Cleared with the same attributes, or the browser keeps it.
	req := addCookies(httptest.NewRequest("POST", "/logout", nil), resp)
	if line := serve(t, a, req).Header.Get("Set-Cookie"); !strings.Contains(line, "Partitioned") || !strings.Contains(line, "Max-Age=0") {
		t.Errorf("clearing Set-Cookie %q", line)
	}
}

func TestWebSocketBearerInProtocolHeader(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	token := issue(t, a, &User{Identifier: "ada"})
	h := protected(a)
	upgrade := func(mod func(*http.Request)) *http.Response {
		req := httptest.NewRequest("GET", "http://example.com/ws", nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Origin", "http://example.com")
		mod(req)
		return serve(t, h, req)
	}
	if resp := upgrade(func(r *http.Request) {
		r.Header.Set("Sec-WebSocket-Protocol", "chat.v1, "+WebSocketBearerPrefix+token)
	}); resp.StatusCode != 200 {
		t.Errorf("bearer in Sec-WebSocket-Protocol: %d", resp.StatusCode)
	}
	if resp := upgrade(func(r *http.Request) { r.URL.RawQuery = "access_token=" + token }); resp.StatusCode != 401 {
		t.Errorf("token in the URL accepted: %d", resp.StatusCode)
	}
	if resp := upgrade(func(r *http.Request) {
		r.Header.Set("Sec-WebSocket-Protocol", WebSocketBearerPrefix+token)
		r.Header.Set("Origin", "https://evil.example")
	}); resp.StatusCode != 403 {
		t.Errorf("foreign origin: %d", resp.StatusCode)
	}
}

func TestEmbedOrigins(t *testing.T) {
	if _, err := New(Config{Secret: testSecret, EmbedOrigins: []string{"*"}}); err == nil || !strings.Contains(err.Error(), "never allowed") {
		t.Errorf("EmbedOrigins * accepted: %v", err)
	}
	a, _, _ := newTestAuth(t, Config{EmbedOrigins: []string{"https://host.example"}})
	a.OnPassword(acceptUser(&User{Identifier: "ada"}))
	req := loginRequest("", "ada", "pw")
	req.Header.Set("Origin", "https://host.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp := serve(t, a, req)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://host.example" || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("embedding origin: %d %v", resp.StatusCode, resp.Header)
	}
	req = loginRequest("", "ada", "pw")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp = serve(t, a, req)
	if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin: %d %v", resp.StatusCode, resp.Header)
	}
	pre := httptest.NewRequest("OPTIONS", "/login", nil)
	pre.Header.Set("Origin", "https://host.example")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	if resp := serve(t, a, pre); resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Methods") == "" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	framed := serve(t, a.AllowFraming(http.NotFoundHandler()), httptest.NewRequest("GET", "/", nil))
	if csp := framed.Header.Get("Content-Security-Policy"); csp != "frame-ancestors 'self' https://host.example" {
		t.Errorf("CSP %q", csp)
	}
}

// hostKeys is a host application's key pair and its JWKS server.
func hostJWKS(t *testing.T) (*rsa.PrivateKey, *httptest.Server) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwk := map[string]any{"kty": "RSA", "kid": "host-1", "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{jwk}})
	}))
	t.Cleanup(srv.Close)
	return key, srv
}

func hostToken(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jwtLogin(t *testing.T, a *Auth, token string) *http.Response {
	t.Helper()
	req := httptest.NewRequest("POST", "/auth/jwt", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return serve(t, a, req)
}

func TestHostIssuedTokens(t *testing.T) {
	key, jwks := hostJWKS(t)
	cfg := Config{HostTokens: &HostTokens{JWKSURL: jwks.URL, Issuer: "https://host.example", Audience: "chat"}}
	a, clk, _ := newTestAuth(t, cfg)
	now := clk.Now()
	claims := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": "https://host.example", "aud": "chat", "sub": "user-7", "name": "Ada",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	resp := jwtLogin(t, a, hostToken(t, jwt.SigningMethodRS256, key, "host-1", claims()))
	if resp.StatusCode != 200 {
		t.Fatalf("RS256 host token: %d %s", resp.StatusCode, readBody(t, resp))
	}
	if got := userOf(t, a, addCookies(httptest.NewRequest("GET", "/user", nil), resp)); got != "user-7" {
		t.Errorf("user %q", got)
	}
	if c := cookieNamed(resp, "access_token"); c.MaxAge != 3600 {
		t.Errorf("session not ending with the host token: Max-Age %d", c.MaxAge)
	}
	// Our own HS256 tokens, or HS256 with any secret, are refused in this mode.
	wantError(t, jwtLogin(t, a, issue(t, a, &User{Identifier: "ada"})), 401, "Invalid token")
	wantError(t, jwtLogin(t, a, hostToken(t, jwt.SigningMethodHS256, testSecret, "host-1", claims())), 401, "Invalid token")
	for name, mod := range map[string]func(jwt.MapClaims){
		"wrong iss": func(c jwt.MapClaims) { c["iss"] = "https://evil.example" },
		"wrong aud": func(c jwt.MapClaims) { c["aud"] = "other" },
		"no aud":    func(c jwt.MapClaims) { delete(c, "aud") },
		"expired":   func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() },
	} {
		c := claims()
		mod(c)
		if resp := jwtLogin(t, a, hostToken(t, jwt.SigningMethodRS256, key, "host-1", c)); resp.StatusCode != 401 {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if resp := jwtLogin(t, a, hostToken(t, jwt.SigningMethodRS256, other, "host-1", claims())); resp.StatusCode != 401 {
		t.Errorf("foreign key: %d", resp.StatusCode)
	}
}

func TestHostTokensFromPEM(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	a, clk, _ := newTestAuth(t, Config{HostTokens: &HostTokens{PublicKeysPEM: pemKey, Issuer: "h", Audience: "chat"}})
	tok := hostToken(t, jwt.SigningMethodES256, key, "", jwt.MapClaims{"iss": "h", "aud": "chat", "identifier": "ada",
		"iat": clk.Now().Unix(), "exp": clk.Now().Add(time.Hour).Unix()})
	if resp := jwtLogin(t, a, tok); resp.StatusCode != 200 {
		t.Fatalf("ES256 host token: %d %s", resp.StatusCode, readBody(t, resp))
	}
	for name, h := range map[string]*HostTokens{
		"no issuer":   {PublicKeysPEM: pemKey, Audience: "chat"},
		"no audience": {PublicKeysPEM: pemKey, Issuer: "h"},
		"no keys":     {Issuer: "h", Audience: "chat"},
		"hmac":        {PublicKeysPEM: pemKey, Issuer: "h", Audience: "chat", Algorithms: []string{"HS256"}},
	} {
		if _, err := New(Config{Secret: testSecret, HostTokens: h}); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestHeaderAuthOnEveryRequest(t *testing.T) {
	if _, err := New(Config{Secret: testSecret, HeaderAuthOnEveryRequest: true}); err == nil || !strings.Contains(err.Error(), "TrustedProxies") {
		t.Errorf("every-request header auth without trusted proxies: %v", err)
	}
	a, _, logs := newTestAuth(t, Config{HeaderAuthOnEveryRequest: true, TrustedProxies: []string{"10.0.0.1"}})
	calls := 0
	a.OnHeader(func(_ context.Context, h http.Header) (*User, error) {
		calls++
		if u := h.Get("X-Forwarded-User"); u != "" {
			return &User{Identifier: u}, nil
		}
		return nil, nil
	})
	h := protected(a)
	req := func(peer, user string) *http.Request {
		r := httptest.NewRequest("GET", "/chat", nil)
		r.RemoteAddr = peer + ":4711"
		if user != "" {
			r.Header.Set("X-Forwarded-User", user)
		}
		return r
	}
	// The first request through the proxy is already authenticated, and
	// carries the session cookie back.
	resp := serve(t, h, req("10.0.0.1", "ada"))
	if body := readBody(t, resp); resp.StatusCode != 200 || body != "ada" || cookieNamed(resp, "access_token") == nil {
		t.Fatalf("proxied first request: %d %q %v", resp.StatusCode, body, resp.Cookies())
	}
	// Later requests ride on the cookie: the hook is not asked again.
	if resp := serve(t, h, addCookies(req("10.0.0.1", "ada"), resp)); resp.StatusCode != 200 || calls != 1 {
		t.Errorf("cookie request: %d, hook calls %d", resp.StatusCode, calls)
	}
	// The same headers from an untrusted address are ignored.
	wantError(t, serve(t, h, req("192.0.2.9", "mallory")), 401, "credentialssignin")
	if calls != 1 {
		t.Errorf("hook called for an untrusted peer")
	}
	if !strings.Contains(logs.String(), "trusted_proxy=false") || !strings.Contains(logs.String(), "X-Forwarded-User") || strings.Contains(logs.String(), "mallory") {
		t.Errorf("debug log should list header names and trust, never values:\n%s", logs)
	}
	// No user from the hook: 401 credentialssignin; WithUser lets it through.
	wantError(t, serve(t, h, req("10.0.0.1", "")), 401, "credentialssignin")
	open := a.WithUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if UserFrom(r.Context()) != nil {
			t.Error("user without identity headers")
		}
	}))
	if resp := serve(t, open, req("10.0.0.1", "")); resp.StatusCode != 200 {
		t.Errorf("WithUser: %d", resp.StatusCode)
	}
	// WebSocket handshakes through the proxy are authenticated the same way.
	ws := req("10.0.0.1", "ada")
	ws.Header.Set("Upgrade", "websocket")
	ws.Header.Set("Connection", "Upgrade")
	if resp := serve(t, h, ws); resp.StatusCode != 200 {
		t.Errorf("websocket through proxy: %d", resp.StatusCode)
	}
}

func TestLogoutRedirect(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	a.OnLogout(func(w http.ResponseWriter, r *http.Request, u *User) { SetLogoutRedirect(w, "/goodbye") })
	resp := serve(t, a, httptest.NewRequest("POST", "/logout", nil))
	if body := readBody(t, resp); resp.StatusCode != 200 || strings.TrimSpace(body) != `{"redirect":"/goodbye","success":true}` {
		t.Errorf("fetch logout: %d %s", resp.StatusCode, body)
	}
	form := httptest.NewRequest("POST", "/logout", strings.NewReader(""))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	form.Header.Set("Accept", "text/html,application/xhtml+xml")
	form.Header.Set("Sec-Fetch-Mode", "navigate")
	if resp := serve(t, a, form); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/goodbye" {
		t.Errorf("form logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestHostTokensStrictNames: host tokens follow the same reading rules as
// our own: crit refused, claim names exact and never twice, metadata
// numbers exact.
func TestHostTokensStrictNames(t *testing.T) {
	key, jwks := hostJWKS(t)
	a, clk, _ := newTestAuth(t, Config{HostTokens: &HostTokens{JWKSURL: jwks.URL, Issuer: "h", Audience: "chat"}})
	now := clk.Now()
	sign := func(header, payload string) string {
		enc := base64.RawURLEncoding.EncodeToString
		signing := enc([]byte(header)) + "." + enc([]byte(payload))
		sig, err := jwt.SigningMethodRS256.Sign(signing, key)
		if err != nil {
			t.Fatal(err)
		}
		return signing + "." + enc(sig)
	}
	hdr := `{"alg":"RS256","kid":"host-1","typ":"JWT"}`
	claims := func(extra string) string {
		return fmt.Sprintf(`{"iss":"h","aud":"chat","sub":"user-7","iat":%d%s}`, now.Unix(), extra)
	}
	exp := fmt.Sprintf(`,"exp":%d`, now.Add(time.Hour).Unix())
	for _, tt := range []struct {
		name, header, payload string
		status                int
	}{
		{"control", hdr, claims(exp + `,"metadata":` + chainlitMetadata), 200},
		{"crit", `{"alg":"RS256","kid":"host-1","crit":["x"],"x":1}`, claims(exp), 401},
		{"sub twice", hdr, claims(exp + `,"sub":"admin"`), 401},
		{"exp twice", hdr, claims(exp + exp), 401},
		{"EXP only", hdr, claims(strings.ToUpper(exp)), 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := jwtLogin(t, a, sign(tt.header, tt.payload))
			if resp.StatusCode != tt.status {
				t.Fatalf("POST /auth/jwt = %d, want %d: %s", resp.StatusCode, tt.status, readBody(t, resp))
			}
			if tt.status == 200 {
				c := cookieNamed(resp, "access_token")
				if got := bodyMetadata(t, serve(t, a, userRequest(a, c.Value))); got != chainlitMetadata {
					t.Errorf("metadata = %s, want %s", got, chainlitMetadata)
				}
			}
		})
	}
}
