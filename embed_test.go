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
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestPartitionedCookies(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{Cookie: CookieConfig{Partitioned: true}})
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
	if _, err := New(Config{Secret: testSecret, Origins: OriginsConfig{Embed: []string{"*"}}}); err == nil || !strings.Contains(err.Error(), "never allowed") {
		t.Errorf("EmbedOrigins * accepted: %v", err)
	}
	a, _, _ := newTestAuth(t, Config{Origins: OriginsConfig{Embed: []string{"https://host.example"}}})
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

// TestEmbedOriginSpellings: however an origin is written in EmbedOrigins,
// the browser's spelling of it gets CORS on the library's routes and the
// app's (Auth.CORS), may POST cross-origin, and may frame the app (a
// trailing slash or upper case used to work for the CSP and POSTs only).
func TestEmbedOriginSpellings(t *testing.T) {
	const origin = "https://host.example"
	for _, spelling := range []string{"https://host.example", "https://host.example/", "HTTPS://Host.EXAMPLE", "https://host.example:443"} {
		t.Run(spelling, func(t *testing.T) {
			a, _, _ := newTestAuth(t, Config{Origins: OriginsConfig{Embed: []string{spelling}}})
			a.OnPassword(acceptUser(&User{Identifier: "ada"}))
			login := loginRequest("", "ada", "pw")
			login.Header.Set("Origin", origin)
			login.Header.Set("Sec-Fetch-Site", "cross-site")
			resp := serve(t, a, login)
			if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != origin {
				t.Errorf("cross-origin login: %d, Access-Control-Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
			}
			api := httptest.NewRequest("GET", "/api/messages", nil)
			api.Header.Set("Origin", origin)
			if got := serve(t, a.CORS(protected(a)), addCookies(api, resp)); got.StatusCode != 200 || got.Header.Get("Access-Control-Allow-Origin") != origin {
				t.Errorf("app route: %d, Access-Control-Allow-Origin %q", got.StatusCode, got.Header.Get("Access-Control-Allow-Origin"))
			}
			framed := serve(t, a.AllowFraming(http.NotFoundHandler()), httptest.NewRequest("GET", "/", nil))
			if csp := framed.Header.Get("Content-Security-Policy"); csp != "frame-ancestors 'self' "+origin {
				t.Errorf("CSP %q", csp)
			}
		})
	}
}

// TestCORSOnAppRoutes: Auth.CORS gives the app's own routes behind
// RequireUser the auth routes' policy: preflights answered before the
// session check, credentials allowed for EmbedOrigins only.
func TestCORSOnAppRoutes(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{Origins: OriginsConfig{Embed: []string{"https://host.example"}}})
	token := issue(t, a, &User{Identifier: "ada"})
	mux := http.NewServeMux()
	mux.Handle("/api/", a.CORS(protected(a)))
	request := func(method, origin string, mod func(*http.Request)) *http.Response {
		req := httptest.NewRequest(method, "/api/messages", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		mod(req)
		return serve(t, mux, req)
	}
	preflight := func(r *http.Request) {
		r.Header.Set("Access-Control-Request-Method", "DELETE")
		r.Header.Set("Access-Control-Request-Headers", "content-type")
	}
	withCookie := func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "access_token", Value: token}) }

	resp := request("OPTIONS", "https://host.example", preflight)
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://host.example" ||
		resp.Header.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "DELETE") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := request("OPTIONS", "https://evil.example", preflight); resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp = request("DELETE", "https://host.example", withCookie)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://host.example" || !strings.Contains(resp.Header.Get("Vary"), "Origin") {
		t.Errorf("embedded DELETE: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := request("DELETE", "https://evil.example", withCookie); resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign DELETE: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := request("GET", "https://host.example", func(*http.Request) {}); resp.StatusCode != 401 || resp.Header.Get("Access-Control-Allow-Origin") != "https://host.example" {
		t.Errorf("no session: %d %v (the embedding page must be able to read the 401)", resp.StatusCode, resp.Header)
	}
	// Without a handler, only preflights are answered.
	pre := httptest.NewRequest("OPTIONS", "/api/messages", nil)
	pre.Header.Set("Origin", "https://host.example")
	preflight(pre)
	if resp := serve(t, a.CORS(nil), pre); resp.StatusCode != 204 {
		t.Errorf("CORS(nil) preflight: %d", resp.StatusCode)
	}
	if resp := serve(t, a.CORS(nil), httptest.NewRequest("GET", "/api/messages", nil)); resp.StatusCode != 404 {
		t.Errorf("CORS(nil): %d", resp.StatusCode)
	}
	// Without EmbedOrigins there is no policy: preflights reach the app.
	plain, _, _ := newTestAuth(t, Config{})
	req := httptest.NewRequest("OPTIONS", "/api/messages", nil)
	req.Header.Set("Origin", "https://host.example")
	preflight(req)
	if resp := serve(t, plain.CORS(protected(plain)), req); resp.StatusCode != 401 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("without EmbedOrigins: %d %v", resp.StatusCode, resp.Header)
	}
}

// rotatingJWKS is a host's key set that the test can add keys to, counting
// fetches.
type rotatingJWKS struct {
	mu      sync.Mutex
	keys    []any
	fetches int
}

func (j *rotatingJWKS) add(t *testing.T, kid string) *rsa.PrivateKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.keys = append(j.keys, map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())})
	return key
}

func (j *rotatingJWKS) fetched() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.fetches
}

func (j *rotatingJWKS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.fetches++
	json.NewEncoder(w).Encode(map[string]any{"keys": j.keys})
}

// TestHostKeyRotationNotDelayedByForeignTokens: a token with an unknown kid
// meant for another issuer or audience, or expired, does not fetch the key
// set, so it cannot start the refetch cooldown that would make the host's
// next new key wait 10 s.
func TestHostKeyRotationNotDelayedByForeignTokens(t *testing.T) {
	for name, mod := range map[string]func(jwt.MapClaims){
		"other issuer":   func(c jwt.MapClaims) { c["iss"] = "https://other.example" },
		"other audience": func(c jwt.MapClaims) { c["aud"] = "billing" },
		"expired":        func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() },
	} {
		t.Run(name, func(t *testing.T) {
			keys := &rotatingJWKS{}
			first := keys.add(t, "host-1")
			srv := httptest.NewServer(keys)
			t.Cleanup(srv.Close)
			// The real clock: the cooldown of internal/jwks runs on it.
			a, err := New(Config{Secret: testSecret, Logger: discardLogger(),
				HostTokens: &HostTokens{JWKSURL: srv.URL, Issuer: "https://host.example", Audience: "chat"}})
			if err != nil {
				t.Fatal(err)
			}
			claims := func() jwt.MapClaims {
				now := time.Now()
				return jwt.MapClaims{"iss": "https://host.example", "aud": "chat", "sub": "ada", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
			}
			if resp := jwtLogin(t, a, hostToken(t, jwt.SigningMethodRS256, first, "host-1", claims())); resp.StatusCode != 200 {
				t.Fatalf("first key: %d", resp.StatusCode)
			}
			foreign := claims()
			mod(foreign)
			other, _ := rsa.GenerateKey(rand.Reader, 2048)
			if resp := jwtLogin(t, a, hostToken(t, jwt.SigningMethodRS256, other, "foreign-kid", foreign)); resp.StatusCode != 401 {
				t.Fatalf("foreign token: %d", resp.StatusCode)
			}
			if n := keys.fetched(); n != 1 {
				t.Errorf("the foreign token fetched the key set (%d fetches)", n)
			}
			// The host rotates: its new key works at once.
			second := keys.add(t, "host-2")
			if resp := jwtLogin(t, a, hostToken(t, jwt.SigningMethodRS256, second, "host-2", claims())); resp.StatusCode != 200 {
				t.Errorf("new host key refused: %d", resp.StatusCode)
			}
		})
	}
}

// TestHostTokenUser: identifier wins over sub, display_name over name, and
// the host's metadata is the user's, as HostTokens documents.
func TestHostTokenUser(t *testing.T) {
	key, jwks := hostJWKS(t)
	a, clk, _ := newTestAuth(t, Config{HostTokens: &HostTokens{JWKSURL: jwks.URL, Issuer: "h", Audience: "chat"}})
	now := clk.Now()
	base := jwt.MapClaims{"iss": "h", "aud": "chat", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for _, tt := range []struct {
		name    string
		claims  jwt.MapClaims
		id, dn  string
		role    any
		refused bool
	}{
		{name: "sub and name", claims: jwt.MapClaims{"sub": "u-7", "name": "Ada"}, id: "u-7", dn: "Ada"},
		{name: "identifier wins", claims: jwt.MapClaims{"sub": "u-7", "identifier": "ada@host.example", "name": "Ada", "display_name": "Ada L."}, id: "ada@host.example", dn: "Ada L."},
		{name: "metadata as set", claims: jwt.MapClaims{"sub": "u-7", "metadata": map[string]any{"role": "admin"}}, id: "u-7", role: "admin"},
		{name: "neither", claims: jwt.MapClaims{"name": "Ada"}, refused: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := jwt.MapClaims{}
			for k, v := range base {
				c[k] = v
			}
			for k, v := range tt.claims {
				c[k] = v
			}
			resp := jwtLogin(t, a, hostToken(t, jwt.SigningMethodRS256, key, "host-1", c))
			if tt.refused {
				if resp.StatusCode != 401 {
					t.Errorf("%d", resp.StatusCode)
				}
				return
			}
			s, err := a.VerifyToken(context.Background(), cookieNamed(resp, "access_token").Value)
			if err != nil {
				t.Fatal(err)
			}
			if s.User.Identifier != tt.id || s.User.DisplayName != tt.dn || s.User.Metadata["role"] != tt.role {
				t.Errorf("user %+v", s.User)
			}
		})
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
		{"control", hdr, claims(exp + `,"metadata":` + losslessMetadata), 200},
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
				if got := bodyMetadata(t, serve(t, a, userRequest(a, c.Value))); got != losslessMetadata {
					t.Errorf("metadata = %s, want %s", got, losslessMetadata)
				}
			}
		})
	}
}

// TestSecurityFraming covers RFC 9700 4.16 and ASVS 3.4.6: AllowFraming
// lets only the app's own origin frame its pages unless EmbedOrigins
// names others.
func TestSecurityFraming(t *testing.T) {
	a := passwordApp(t, Config{})
	rec := httptest.NewRecorder()
	a.AllowFraming(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if csp := rec.Header().Get("Content-Security-Policy"); csp != "frame-ancestors 'self'" {
		t.Errorf("Content-Security-Policy %q, want frame-ancestors 'self'", csp)
	}
}
