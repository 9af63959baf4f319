package chatauth_test

// The tests SECURITY.md names for requirements no other test covers:
// RFC 9700 (OAuth 2.0 Security BCP), RFC 9207 (iss), RFC 8725 (JWT BCP)
// and OWASP ASVS 5.0. They drive the library from outside, through its
// routes, against chatauthtest's real OpenID provider where a provider is
// involved. Helpers are prefixed "sec" to stay clear of other test files.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/chatauthtest"
	"github.com/chatauth/chatauth/providers"
)

// secSecret signs the session tokens of the password apps below.
var secSecret = []byte("chatauth-security-test-secret-0123456789")

// secPasswordApp is an Auth whose password hook knows one user, "ada",
// with the password "correct horse" (compared as plain text: cheap under
// -race; secBcryptHook is the real thing).
func secPasswordApp(t *testing.T, cfg chatauth.Config) *chatauth.Auth {
	t.Helper()
	cfg.Secret = secSecret
	cfg.Logger = slog.New(slog.DiscardHandler)
	a, err := chatauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.OnPassword(func(_ context.Context, username, password string) (*chatauth.User, error) {
		if username == "ada" && password == "correct horse" {
			return &chatauth.User{Identifier: username}, nil
		}
		return nil, nil
	})
	return a
}

// secBcryptHook checks passwords the way the docs tell apps to: with
// CheckPassword against the stored bcrypt hash, or against "" for an
// unknown user. It knows "ada".
func secBcryptHook(t *testing.T) chatauth.PasswordFunc {
	t.Helper()
	hash, err := chatauth.HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]string{"ada": hash}
	return func(_ context.Context, username, password string) (*chatauth.User, error) {
		if chatauth.CheckPassword(users[username], password) {
			return &chatauth.User{Identifier: username}, nil
		}
		return nil, nil
	}
}

// secLogin POSTs R/login with the form and the given cookies, same-origin.
func secLogin(t *testing.T, a *chatauth.Auth, username, password string, cookies ...*http.Cookie) *http.Response {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}
	req := httptest.NewRequest(http.MethodPost, a.RootPath()+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	return rec.Result()
}

// secUserStatus is the status of GET R/user with the given cookies.
func secUserStatus(t *testing.T, a *chatauth.Auth, cookies ...*http.Cookie) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, a.RootPath()+"/user", nil)
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	return rec.Code
}

// secCookie returns the cookie called name that resp sets, or fails.
func secCookie(t *testing.T, resp *http.Response, name string) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", name, resp.Header["Set-Cookie"])
	return nil
}

// secJWTPart decodes part i (0 header, 1 payload) of a compact JWT.
func secJWTPart(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// secRandomBits checks that s is base64url of at least minBytes bytes.
func secRandomBits(t *testing.T, what, s string, minBytes int) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < minBytes {
		t.Errorf("%s %q: %d bytes (%v), want at least %d random bytes", what, s, len(b), err, minBytes)
	}
}

// secAuthorize starts a login with c and returns the authorize request's
// parameters, without following the redirect to the provider.
func secAuthorize(t *testing.T, app *oauthApp, c *http.Client) url.Values {
	t.Helper()
	noFollow := *c
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(app.base + "/auth/oauth/corp")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("start: %s", resp.Status)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query()
}

// secHasSession reports whether GET R/user with the jar client c finds a
// valid session.
func secHasSession(t *testing.T, app *oauthApp, c *http.Client) bool {
	t.Helper()
	status, _ := app.get(t, c, "/user")
	return status == http.StatusOK
}

// TestSecurityOAuthState covers RFC 9700 2.1, 2.1.1, 4.5 and 4.7 (ASVS
// 10.1.2, 10.2.1): state, PKCE verifier and nonce are fresh, unguessable,
// per transaction and bound to the browser that started the login.
func TestSecurityOAuthState(t *testing.T) {
	t.Run("fresh_random_values", func(t *testing.T) {
		app := newOAuthApp(t, chatauth.Config{}, nil)
		c := newJarClient()
		q1, q2 := secAuthorize(t, app, c), secAuthorize(t, app, c)
		for _, q := range []url.Values{q1, q2} {
			secRandomBits(t, "state", q.Get("state"), 16)
			secRandomBits(t, "nonce", q.Get("nonce"), 16)
			if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
				t.Errorf("PKCE %q %q, want S256", q.Get("code_challenge_method"), q.Get("code_challenge"))
			}
			if q.Get("response_type") != "code" {
				t.Errorf("response_type %q: only the code flow is used", q.Get("response_type"))
			}
		}
		for _, k := range []string{"state", "nonce", "code_challenge"} {
			if q1.Get(k) == q2.Get(k) {
				t.Errorf("%s repeated across logins", k)
			}
		}
	})
	t.Run("bound_to_the_browser", func(t *testing.T) {
		// Login CSRF: the attacker's own authorization response, delivered
		// to the victim's browser, must not log the victim in.
		app := newOAuthApp(t, chatauth.Config{}, nil)
		attacker, victim := newJarClient(), newJarClient()
		q := callbackParams(t, app, attacker, "corp")
		if code := loginExpectingError(t, app, victim, app.base+"/auth/oauth/corp/callback?"+q.Encode()); code != "invalid_state" {
			t.Errorf("error=%q, want invalid_state", code)
		}
		if secHasSession(t, app, victim) {
			t.Error("victim got a session from the attacker's response")
		}
	})
	t.Run("code_injection_refused_by_PKCE", func(t *testing.T) {
		// A stolen code replayed in the attacker's own login, with the
		// attacker's valid state: the code is bound to the victim's PKCE
		// challenge, so the exchange fails.
		app := newOAuthApp(t, chatauth.Config{}, nil)
		victim, attacker := newJarClient(), newJarClient()
		stolen := callbackParams(t, app, victim, "corp")
		own := callbackParams(t, app, attacker, "corp")
		own.Set("code", stolen.Get("code"))
		if code := loginExpectingError(t, app, attacker, app.base+"/auth/oauth/corp/callback?"+own.Encode()); code != "exchange_failed" {
			t.Errorf("error=%q, want exchange_failed", code)
		}
		if secHasSession(t, app, attacker) {
			t.Error("attacker got a session with the victim's code")
		}
	})
	t.Run("PKCE_S256_for_plain_OAuth2", func(t *testing.T) {
		// Providers without OpenID (GitHub, Generic...) get PKCE too.
		app := newOAuthApp(t, chatauth.Config{}, nil, func(p *chatauth.Provider) {
			iss := p.Issuer
			*p = *providers.Generic(providers.GenericOptions{ID: "corp", ClientID: p.ClientID, ClientSecret: p.ClientSecret,
				AuthURL: iss + chatauthtest.AuthorizePath, TokenURL: iss + chatauthtest.TokenPath, UserInfoURL: iss + chatauthtest.UserinfoPath,
				Scopes: []string{"profile", "email"}})
		})
		c := app.idp.LoginClient(t, app.base, "corp")
		if !secHasSession(t, app, c) {
			t.Fatal("no session after a plain OAuth2 login")
		}
		q := app.idp.LastAuthorize()
		if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") != "" {
			t.Errorf("authorize %v: want PKCE S256 and no nonce", q)
		}
		if app.idp.LastToken().Get("code_verifier") == "" {
			t.Error("token request without code_verifier")
		}
	})
	t.Run("exact_redirect_uri", func(t *testing.T) {
		// The redirect URI is computed one way and registered exactly; the
		// token request repeats the authorize request's.
		app := newOAuthApp(t, chatauth.Config{}, nil)
		app.idp.AllowRedirectURI(app.base + "/auth/oauth/corp/callback")
		app.idp.LoginClient(t, app.base, "corp")
		if a, tk := app.idp.LastAuthorize().Get("redirect_uri"), app.idp.LastToken().Get("redirect_uri"); a != app.base+"/auth/oauth/corp/callback" || tk != a {
			t.Errorf("redirect_uri authorize %q, token %q", a, tk)
		}
	})
}

// TestSecurityMixUp covers RFC 9700 4.4.2.1 and RFC 9207 2.4 (ASVS
// 10.2.2, 10.5.3): the iss parameter is compared with the issuer when
// sent, and required from providers that advertise it.
func TestSecurityMixUp(t *testing.T) {
	// manual skips discovery: the provider's endpoints are configured by
	// hand, so its support for iss is unknown.
	manual := func(p *chatauth.Provider) {
		iss := p.Issuer
		p.AuthURL, p.TokenURL = iss+chatauthtest.AuthorizePath, iss+chatauthtest.TokenPath
		p.UserInfoURL, p.JWKSURL = iss+chatauthtest.UserinfoPath, iss+chatauthtest.JWKSPath
	}
	t.Run("iss_required_when_advertised", func(t *testing.T) {
		var p *chatauth.Provider
		app := newOAuthApp(t, chatauth.Config{}, nil, func(cp *chatauth.Provider) { p = cp })
		if !p.RequireIssParameter {
			t.Fatal("discovery advertises authorization_response_iss_parameter_supported; RequireIssParameter not set")
		}
		c := newJarClient()
		q := callbackParams(t, app, c, "corp")
		q.Del("iss")
		if code := loginExpectingError(t, app, c, app.base+"/auth/oauth/corp/callback?"+q.Encode()); code != "invalid_state" {
			t.Errorf("error=%q, want invalid_state", code)
		}
		if !strings.Contains(app.logs.String(), "iss parameter missing") {
			t.Errorf("log does not explain:\n%s", app.logs)
		}
	})
	t.Run("iss_optional_when_not_advertised", func(t *testing.T) {
		app := newOAuthApp(t, chatauth.Config{}, nil, manual)
		c := newJarClient()
		q := callbackParams(t, app, c, "corp")
		q.Del("iss")
		resp, err := c.Get(app.base + "/auth/oauth/corp/callback?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !secHasSession(t, app, c) {
			t.Errorf("login without iss refused from a provider that does not send it; ended on %s", resp.Request.URL)
		}
	})
	t.Run("wrong_iss_refused_when_not_advertised", func(t *testing.T) {
		app := newOAuthApp(t, chatauth.Config{}, nil, manual)
		app.idp.Misbehave(chatauthtest.WrongIssParam)
		if code := loginExpectingError(t, app, newJarClient(), app.base+"/auth/oauth/corp"); code != "invalid_state" {
			t.Errorf("error=%q, want invalid_state", code)
		}
	})
	t.Run("tenant_template_issuer", func(t *testing.T) {
		// A multi-tenant issuer ("https://login.microsoftonline.com/{tenantid}/v2.0")
		// matches the iss of any one tenant, and the id_token's iss its tid.
		// Here the provider's host:port plays the tenant.
		tenant := ""
		app := newOAuthApp(t, chatauth.Config{}, nil, manual, func(p *chatauth.Provider) {
			tenant = strings.TrimPrefix(p.Issuer, "http://")
			p.Issuer = "http://{tenantid}"
		})
		u := chatauthtest.TestUser
		u.Claims = map[string]any{"tid": tenant}
		app.idp.SetUser(u)
		if !secHasSession(t, app, app.idp.LoginClient(t, app.base, "corp")) {
			t.Fatal("no session")
		}
		app.idp.Misbehave(chatauthtest.WrongIssParam)
		if code := loginExpectingError(t, app, newJarClient(), app.base+"/auth/oauth/corp"); code != "invalid_state" {
			t.Errorf("iss of another issuer: error=%q, want invalid_state", code)
		}
	})
	t.Run("discovery_issuer_must_match", func(t *testing.T) {
		idp := chatauthtest.NewProvider(t)
		a, err := chatauth.New(chatauth.Config{Secret: secSecret, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		p := providers.OIDC(providers.OIDCOptions{ID: "corp", Issuer: idp.Issuer + "/", ClientID: idp.ClientID, ClientSecret: idp.ClientSecret})
		if err := a.AddProvider(context.Background(), p); err == nil || !strings.Contains(err.Error(), "discovery names issuer") {
			t.Errorf("AddProvider with metadata of another issuer: %v", err)
		}
	})
}

// secTamperingTokenEndpoint stands between the app and the provider's
// token endpoint (a malicious provider, or a network attacker) and
// replaces the id_token of every answer with tamper(claims).
func secTamperingTokenEndpoint(t *testing.T, idp *chatauthtest.Provider, tamper func(t *testing.T, claims jwt.MapClaims) string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, idp.Issuer+chatauthtest.TokenPath, strings.NewReader(string(body)))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var answer map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if raw, ok := answer["id_token"].(string); ok {
			claims := jwt.MapClaims{}
			if _, _, err := jwt.NewParser().ParseUnverified(raw, claims); err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			answer["id_token"] = tamper(t, claims)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(resp.StatusCode)
		_ = json.NewEncoder(w).Encode(answer)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// secProviderKey reads the provider's current RSA public key from its JWKS.
func secProviderKey(t *testing.T, idp *chatauthtest.Provider) *rsa.PublicKey {
	t.Helper()
	resp, err := http.Get(idp.Issuer + chatauthtest.JWKSPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kid, N, E string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Kid != idp.KeyID() {
			continue
		}
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		e, _ := base64.RawURLEncoding.DecodeString(k.E)
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	t.Fatal("current key not in the JWKS")
	return nil
}

// TestSecurityIDToken covers RFC 8725 2.1, 3.1 and 3.2 (ASVS 6.8.2, 9.1.1
// to 9.1.3) for id_tokens: only asymmetric algorithms with the issuer's
// published keys; keys named in the token's own header are never used.
func TestSecurityIDToken(t *testing.T) {
	attackerKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	attackerJWKSHits := atomic.Int32{}
	attackerJWKS := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attackerJWKSHits.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": "attacker", "alg": "RS256", "use": "sig",
			"n": base64.RawURLEncoding.EncodeToString(attackerKey.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(attackerKey.E)).Bytes()),
		}}})
	}))
	t.Cleanup(attackerJWKS.Close)

	// sign runs in the tampering server's goroutine: it reports, never
	// stops the test.
	sign := func(t *testing.T, m jwt.SigningMethod, key any, claims jwt.MapClaims, header map[string]any) string {
		tok := jwt.NewWithClaims(m, claims)
		for k, v := range header {
			tok.Header[k] = v
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Errorf("signing the forged id_token: %v", err)
		}
		return s
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, idp *chatauthtest.Provider) func(*testing.T, jwt.MapClaims) string
	}{
		{"HS256_with_the_public_key_as_secret", func(t *testing.T, idp *chatauthtest.Provider) func(*testing.T, jwt.MapClaims) string {
			// Key confusion: the verifier's RSA public key, as PEM, used as
			// an HMAC secret.
			der, err := x509.MarshalPKIXPublicKey(secProviderKey(t, idp))
			if err != nil {
				t.Fatal(err)
			}
			pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			return func(t *testing.T, c jwt.MapClaims) string {
				return sign(t, jwt.SigningMethodHS256, pemKey, c, map[string]any{"kid": idp.KeyID()})
			}
		}},
		{"HS256_with_the_client_secret", func(t *testing.T, idp *chatauthtest.Provider) func(*testing.T, jwt.MapClaims) string {
			return func(t *testing.T, c jwt.MapClaims) string {
				return sign(t, jwt.SigningMethodHS256, []byte(idp.ClientSecret), c, nil)
			}
		}},
		{"embedded_jwk_header", func(t *testing.T, idp *chatauthtest.Provider) func(*testing.T, jwt.MapClaims) string {
			return func(t *testing.T, c jwt.MapClaims) string {
				jwk := map[string]string{"kty": "RSA", "kid": idp.KeyID(),
					"n": base64.RawURLEncoding.EncodeToString(attackerKey.N.Bytes()), "e": "AQAB"}
				return sign(t, jwt.SigningMethodRS256, attackerKey, c, map[string]any{"kid": idp.KeyID(), "jwk": jwk})
			}
		}},
		{"jku_header", func(t *testing.T, idp *chatauthtest.Provider) func(*testing.T, jwt.MapClaims) string {
			return func(t *testing.T, c jwt.MapClaims) string {
				return sign(t, jwt.SigningMethodRS256, attackerKey, c, map[string]any{"kid": "attacker", "jku": attackerJWKS.URL})
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp := chatauthtest.NewProvider(t)
			tamperer := secTamperingTokenEndpoint(t, idp, tt.tamper(t, idp))
			app := newOAuthApp(t, chatauth.Config{}, nil, func(p *chatauth.Provider) {
				*p = *idp.Config("corp")
				p.TokenURL = tamperer.URL
			})
			app.idp = idp // the provider the app uses, in place of the one newOAuthApp made
			c := newJarClient()
			if code := loginExpectingError(t, app, c, app.base+"/auth/oauth/corp"); code != "invalid_id_token" {
				t.Errorf("error=%q, want invalid_id_token; log:\n%s", code, app.logs)
			}
			if secHasSession(t, app, c) {
				t.Error("session from a forged id_token")
			}
		})
	}
	if n := attackerJWKSHits.Load(); n != 0 {
		t.Errorf("the jku named in a token was fetched %d times", n)
	}
}

// TestSecurityTokenSeparation covers RFC 8725 2.8, 3.11 and 3.12 (ASVS
// 9.2.2) and RFC 9700 4.2/4.3 (ASVS 10.1.1): a provider's id_token is
// never taken for a session, and the provider's tokens never reach the
// browser, the session token or a URL.
func TestSecurityTokenSeparation(t *testing.T) {
	var mu sync.Mutex
	var login chatauth.OAuthLogin
	app := newOAuthApp(t, chatauth.Config{}, func(_ context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) {
		mu.Lock()
		login = l
		mu.Unlock()
		return l.User, nil
	})
	c := newJarClient()
	resp, chain := app.idp.Login(t, c, app.base+"/auth/oauth/corp")
	resp.Body.Close()
	mu.Lock()
	idToken, access, refresh := login.IDToken, login.Token.AccessToken, login.Token.RefreshToken
	mu.Unlock()
	if idToken == "" || access == "" || refresh == "" {
		t.Fatalf("login gave id_token %t, access %t, refresh %t", idToken != "", access != "", refresh != "")
	}
	secrets := map[string]string{"id_token": idToken, "access token": access, "refresh token": refresh}

	t.Run("provider_tokens_not_in_cookies_or_urls", func(t *testing.T) {
		base, _ := url.Parse(app.base)
		var session string
		for _, ck := range c.Jar.Cookies(base) {
			for what, s := range secrets {
				if strings.Contains(ck.Value, s) {
					t.Errorf("%s in cookie %s", what, ck.Name)
				}
			}
			if ck.Name == app.auth.CookieName() {
				session = ck.Value
			}
		}
		if session == "" {
			t.Fatal("no session cookie")
		}
		claims := secJWTPart(t, session, 1)
		keys := make([]string, 0, len(claims))
		for k := range claims {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !slices.Contains([]string{"display_name", "exp", "iat", "iatms", "identifier", "jti", "metadata", "prv", "sid"}, k) {
				t.Errorf("session token claim %q (claims %v)", k, keys)
			}
		}
		for _, u := range chain {
			for what, s := range secrets {
				if strings.Contains(u, s) || strings.Contains(u, url.QueryEscape(s)) {
					t.Errorf("%s in URL %s", what, u)
				}
			}
		}
		_, body := app.get(t, c, "/user")
		for what, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("%s in /user", what)
			}
		}
	})
	t.Run("id_token_is_not_a_session", func(t *testing.T) {
		ask := func(req *http.Request) int {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		req, _ := http.NewRequest(http.MethodGet, app.base+"/user", nil)
		req.AddCookie(&http.Cookie{Name: app.auth.CookieName(), Value: idToken})
		if s := ask(req); s != http.StatusUnauthorized {
			t.Errorf("id_token as session cookie: %d", s)
		}
		req, _ = http.NewRequest(http.MethodGet, app.base+"/user", nil)
		req.Header.Set("Authorization", "Bearer "+idToken)
		if s := ask(req); s != http.StatusUnauthorized {
			t.Errorf("id_token as bearer: %d", s)
		}
		req, _ = http.NewRequest(http.MethodPost, app.base+"/auth/jwt", nil)
		req.Header.Set("Authorization", "Bearer "+idToken)
		if s := ask(req); s != http.StatusUnauthorized {
			t.Errorf("id_token at /auth/jwt: %d", s)
		}
	})
}

// TestSecuritySessionToken covers RFC 8725 3.2, 3.5, 3.6 and 3.11 and
// ASVS 7.2.3 and 14.2.1 for the session JWT.
func TestSecuritySessionToken(t *testing.T) {
	a := secPasswordApp(t, chatauth.Config{})
	t.Run("issued_header_is_alg_kid_typ", func(t *testing.T) {
		// HS256 only, typ JWT as Chainlit (PyJWT) writes it, no zip, no
		// jku/jwk/x5u: nothing a reader could be told to trust.
		tok, _, err := a.IssueToken(&chatauth.User{Identifier: "ada", Metadata: map[string]any{"big": strings.Repeat("x", 500)}})
		if err != nil {
			t.Fatal(err)
		}
		h := secJWTPart(t, tok, 0)
		if len(h) != 3 || h["alg"] != "HS256" || h["typ"] != "JWT" || h["kid"] == "" {
			t.Errorf("header %v, want exactly alg HS256, typ JWT, kid", h)
		}
	})
	t.Run("claims_are_UTF-8", func(t *testing.T) {
		// Invalid bytes in user data never reach the token as such.
		tok, _, err := a.IssueToken(&chatauth.User{Identifier: "ada\xff", DisplayName: "A\xc0da", Metadata: map[string]any{"k\xfe": "v\xff"}})
		if err != nil {
			t.Fatal(err)
		}
		for i, part := range strings.Split(tok, ".")[:2] {
			raw, err := base64.RawURLEncoding.DecodeString(part)
			if err != nil || !utf8.Valid(raw) {
				t.Errorf("segment %d is not UTF-8 JSON (%v)", i, err)
			}
		}
	})
	t.Run("jti_has_128_random_bits", func(t *testing.T) {
		seen := map[string]bool{}
		for range 200 {
			_, s, err := a.IssueToken(&chatauth.User{Identifier: "ada"})
			if err != nil {
				t.Fatal(err)
			}
			secRandomBits(t, "jti", s.ID, 16)
			if seen[s.ID] {
				t.Fatalf("jti %q repeated", s.ID)
			}
			seen[s.ID] = true
		}
	})
	t.Run("key_of_at_least_32_bytes", func(t *testing.T) {
		short := []byte(strings.Repeat("k", 31))
		if _, err := chatauth.New(chatauth.Config{Secret: short}); err == nil {
			t.Error("New accepted a 31-byte secret")
		}
		// A short previous secret (a Chainlit deployment's) only verifies
		// the sessions it signed; an empty one is refused.
		if _, err := chatauth.New(chatauth.Config{Secret: secSecret, PreviousSecrets: [][]byte{{}}}); err == nil {
			t.Error("New accepted an empty previous secret")
		}
		if err := a.SetSecrets(short); err == nil {
			t.Error("SetSecrets accepted a 31-byte secret")
		}
	})
	t.Run("never_read_from_the_URL", func(t *testing.T) {
		tok, _, err := a.IssueToken(&chatauth.User{Identifier: "ada"})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"access_token=", "token=", "jwt=", "authorization=Bearer%20"} {
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/user?"+q+url.QueryEscape(tok), nil))
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("GET /user?%s...: %d", q, rec.Code)
			}
			rec = httptest.NewRecorder()
			a.RequireUser(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/app?"+q+url.QueryEscape(tok), nil))
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("RequireUser with ?%s...: %d", q, rec.Code)
			}
		}
	})
}

// TestSecurityLogin covers ASVS 6.3.1, 6.3.8 and 7.2.4 for password login:
// credential stuffing is throttled alike for every username, an unknown
// user cannot be told from a wrong password, and a login starts a new
// session and ends the one the browser had.
func TestSecurityLogin(t *testing.T) {
	t.Run("unknown_user_and_wrong_password_look_alike", func(t *testing.T) {
		a := secPasswordApp(t, chatauth.Config{Login: chatauth.LoginConfig{Limits: chatauth.PasswordLimits{PerUsername: 100, PerAddress: 1000}}})
		a.OnPassword(secBcryptHook(t))
		type answer struct {
			status  int
			body    string
			headers http.Header
		}
		var answers [2]answer
		var fastest [2]time.Duration
		for round := range 2 {
			for i, username := range []string{"ada", "nobody"} {
				start := time.Now()
				resp := secLogin(t, a, username, "wrong password")
				took := time.Since(start)
				body, _ := io.ReadAll(resp.Body)
				h := resp.Header.Clone()
				h.Del("Date")
				answers[i] = answer{resp.StatusCode, string(body), h}
				if round == 0 || took < fastest[i] {
					fastest[i] = took
				}
			}
		}
		if answers[0].status != http.StatusUnauthorized || answers[0].status != answers[1].status || answers[0].body != answers[1].body {
			t.Errorf("wrong password %d %q, unknown user %d %q", answers[0].status, answers[0].body, answers[1].status, answers[1].body)
		}
		if !secEqualHeaders(answers[0].headers, answers[1].headers) {
			t.Errorf("headers differ: %v vs %v", answers[0].headers, answers[1].headers)
		}
		// Both spend one bcrypt comparison at the same cost; allow a wide
		// margin for a busy machine.
		slow, fast := max(fastest[0], fastest[1]), min(fastest[0], fastest[1])
		if raceEnabled {
			t.Logf("race detector on: wrong password %v, unknown user %v; the ratio is reported, not checked", fastest[0], fastest[1])
		} else if slow > 2*fast {
			t.Errorf("response times differ: wrong password %v, unknown user %v", fastest[0], fastest[1])
		}
	})
	t.Run("password_passed_unmodified", func(t *testing.T) {
		// ASVS 6.2.8: no trimming, case folding or truncation before the hook.
		a, err := chatauth.New(chatauth.Config{Secret: secSecret, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan [2]string, 1)
		a.OnPassword(func(_ context.Context, username, password string) (*chatauth.User, error) {
			got <- [2]string{username, password}
			return nil, nil
		})
		password := " Pass Wörd\t" + strings.Repeat("x", 100) + " "
		secLogin(t, a, " Ada ", password)
		if g := <-got; g[0] != " Ada " || g[1] != password {
			t.Errorf("hook got %q / %d bytes, want the form's values as sent", g[0], len(g[1]))
		}
	})
	t.Run("throttled_alike_for_unknown_users", func(t *testing.T) {
		a := secPasswordApp(t, chatauth.Config{Login: chatauth.LoginConfig{Limits: chatauth.PasswordLimits{PerUsername: 2, PerAddress: 1000}}})
		for _, username := range []string{"ada", "nobody"} {
			var statuses []int
			var retry string
			for range 3 {
				resp := secLogin(t, a, username, "wrong password")
				statuses = append(statuses, resp.StatusCode)
				retry = resp.Header.Get("Retry-After")
			}
			if !slices.Equal(statuses, []int{401, 401, 429}) || retry == "" {
				t.Errorf("%s: statuses %v, Retry-After %q", username, statuses, retry)
			}
		}
	})
	t.Run("new_session_ends_the_previous_one", func(t *testing.T) {
		a := secPasswordApp(t, chatauth.Config{})
		first := secCookie(t, secLogin(t, a, "ada", "correct horse"), a.CookieName())
		second := secCookie(t, secLogin(t, a, "ada", "correct horse", first), a.CookieName())
		if first.Value == second.Value || secJWTPart(t, first.Value, 1)["jti"] == secJWTPart(t, second.Value, 1)["jti"] {
			t.Fatal("a login kept the previous session")
		}
		if s := secUserStatus(t, a, first); s != http.StatusUnauthorized {
			t.Errorf("previous session after a new login: %d, want 401", s)
		}
		if s := secUserStatus(t, a, second); s != http.StatusOK {
			t.Errorf("new session: %d", s)
		}
	})
	t.Run("planted_session_replaced_at_login", func(t *testing.T) {
		// Session fixation: a session planted in the victim's browser (here
		// the attacker's own, valid one) is ended when the victim logs in.
		a := secPasswordApp(t, chatauth.Config{})
		planted := chatauthtest.SessionCookie(t, a, chatauth.User{Identifier: "mallory"})
		resp := secLogin(t, a, "ada", "correct horse", planted)
		fresh := secCookie(t, resp, a.CookieName())
		if got := secJWTPart(t, fresh.Value, 1)["identifier"]; got != "ada" {
			t.Errorf("session after login is %v's", got)
		}
		if s := secUserStatus(t, a, planted); s != http.StatusUnauthorized {
			t.Errorf("planted session still valid: %d", s)
		}
	})
	t.Run("new_OAuth_session_ends_the_previous_one", func(t *testing.T) {
		app := newOAuthApp(t, chatauth.Config{}, nil)
		old := chatauthtest.SessionCookie(t, app.auth, chatauth.User{Identifier: "someone-else"})
		c := newJarClient()
		base, _ := url.Parse(app.base)
		c.Jar.SetCookies(base, []*http.Cookie{old})
		resp, chain := app.idp.Login(t, c, app.base+"/auth/oauth/corp")
		resp.Body.Close()
		if !strings.Contains(chain[len(chain)-1], "success=True") {
			t.Fatalf("login ended on %s", chain[len(chain)-1])
		}
		if s := secUserStatus(t, app.auth, old); s != http.StatusUnauthorized {
			t.Errorf("previous session after an OAuth login: %d, want 401", s)
		}
	})
}

// secEqualHeaders compares two headers, order of values included.
func secEqualHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestSecurityCookiePrefixes covers ASVS 3.3.1 and 3.3.3: a session cookie
// named with the __Host- or __Secure- prefix gets the attributes browsers
// demand of it (Secure; for __Host-, Path=/ and no Domain), under a root
// path and over plain http too, on every chunk and when cleared.
func TestSecurityCookiePrefixes(t *testing.T) {
	for _, name := range []string{"__Host-access_token", "__Secure-access_token"} {
		t.Run(name, func(t *testing.T) {
			a := secPasswordApp(t, chatauth.Config{Cookie: chatauth.CookieConfig{Name: name}, RootPath: "/chat"})
			wantPath := "/chat"
			if strings.HasPrefix(name, "__Host-") {
				wantPath = "/"
			}
			check := func(what string, resp *http.Response) {
				t.Helper()
				cookies := resp.Cookies()
				if len(cookies) == 0 {
					t.Fatalf("%s: no cookies", what)
				}
				for _, c := range cookies {
					// Under a root path, deletions also go to the Path=/
					// copies a Chainlit deployment leaves.
					rootCopy := c.MaxAge < 0 && c.Path == "/"
					if !c.Secure || (c.Path != wantPath && !rootCopy) || c.Domain != "" || !c.HttpOnly {
						t.Errorf("%s: %s, want Secure, Path=%s, no Domain, HttpOnly", what, c, wantPath)
					}
				}
			}
			login := secLogin(t, a, "ada", "correct horse")
			check("login", login)
			session := secCookie(t, login, name)
			if s := secUserStatus(t, a, session); s != http.StatusOK {
				t.Errorf("session cookie %s not read back: %d", name, s)
			}
			// A large session is chunked: every chunk has the attributes.
			rec := httptest.NewRecorder()
			big := chatauth.User{Identifier: "ada", Metadata: map[string]any{"notes": strings.Repeat("n", 5000)}}
			if _, err := a.StartSession(rec, httptest.NewRequest(http.MethodGet, "/chat/", nil), &big); err != nil {
				t.Fatal(err)
			}
			if len(rec.Result().Cookies()) < 2 {
				t.Errorf("expected chunks, got %v", rec.Result().Cookies())
			}
			check("chunks", rec.Result())
			logout := httptest.NewRequest(http.MethodPost, "/chat/logout", nil)
			logout.AddCookie(&http.Cookie{Name: name, Value: session.Value})
			rec = httptest.NewRecorder()
			a.ServeHTTP(rec, logout)
			check("logout", rec.Result())
		})
	}
}

// TestSecurityRedirects covers RFC 9700 4.11 and 4.12: the callback
// answers a POST (form_post) with 302, which browsers follow with a GET
// without the body, never 307/308, and a failed callback goes to the fixed
// login page, not to a target named in the request.
func TestSecurityRedirects(t *testing.T) {
	app := newOAuthApp(t, chatauth.Config{}, nil)
	noFollow := newJarClient()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	post := func(q url.Values) *http.Response {
		t.Helper()
		resp, err := noFollow.PostForm(app.base+"/auth/oauth/corp/callback", q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	q := callbackParams(t, app, noFollow, "corp")
	if resp := post(q); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/login/callback?success=True" {
		t.Errorf("form_post callback: %s to %q, want 302 to /login/callback?success=True", resp.Status, resp.Header.Get("Location"))
	}
	q.Set("redirect", "https://evil.example/")
	q.Set("redirect_uri", "https://evil.example/")
	if resp := post(q); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/login?error=invalid_state" {
		t.Errorf("replayed form_post callback: %s to %q, want 302 to /login?error=invalid_state", resp.Status, resp.Header.Get("Location"))
	}
}

// TestSecurityFraming covers RFC 9700 4.16 and ASVS 3.4.6: AllowFraming
// lets only the app's own origin frame its pages unless EmbedOrigins
// names others.
func TestSecurityFraming(t *testing.T) {
	a := secPasswordApp(t, chatauth.Config{})
	rec := httptest.NewRecorder()
	a.AllowFraming(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if csp := rec.Header().Get("Content-Security-Policy"); csp != "frame-ancestors 'self'" {
		t.Errorf("Content-Security-Policy %q, want frame-ancestors 'self'", csp)
	}
}
