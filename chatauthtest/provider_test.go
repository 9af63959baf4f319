package chatauthtest

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// testRedirectURI is the client's redirect URI in tests that play the
// relying party by hand: nothing listens there, the tests read the
// redirects instead of following them.
const testRedirectURI = "http://127.0.0.1:9/auth/oauth/test/callback"

// noRedirect is a client that returns redirects instead of following them.
var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       30 * time.Second,
}

// flow is a relying party on golang.org/x/oauth2, one login at a time.
type flow struct {
	p                      *Provider
	cfg                    *oauth2.Config
	verifier, nonce, state string
}

func newFlow(p *Provider) *flow {
	return &flow{
		p: p,
		cfg: &oauth2.Config{
			ClientID:     p.ClientID,
			ClientSecret: p.ClientSecret,
			Endpoint:     p.Endpoint(),
			RedirectURL:  testRedirectURI,
			Scopes:       []string{"openid", "profile", "email"},
		},
		verifier: oauth2.GenerateVerifier(),
		nonce:    randomToken(16),
		state:    randomToken(16),
	}
}

// authURL is the authorize URL with PKCE and nonce, plus opts.
func (f *flow) authURL(opts ...oauth2.AuthCodeOption) string {
	opts = append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), oauth2.SetAuthURLParam("nonce", f.nonce)}, opts...)
	return f.cfg.AuthCodeURL(f.state, opts...)
}

// authorize requests authURL and returns the parameters of the redirect to
// the client; anything else fails the test.
func (f *flow) authorize(t *testing.T, authURL string) url.Values {
	t.Helper()
	resp, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("authorize: %s, want 302; body: %s", resp.Status, body)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	if base := strings.SplitN(loc.String(), "?", 2)[0]; base != f.cfg.RedirectURL {
		t.Fatalf("authorize redirected to %s, want %s", loc, f.cfg.RedirectURL)
	}
	return loc.Query()
}

// code runs authorize and returns the code, failing on an error redirect.
func (f *flow) code(t *testing.T, opts ...oauth2.AuthCodeOption) string {
	t.Helper()
	q := f.authorize(t, f.authURL(opts...))
	if q.Get("error") != "" || q.Get("code") == "" {
		t.Fatalf("authorize answered %v, want a code", q)
	}
	return q.Get("code")
}

func (f *flow) exchange(t *testing.T, code string) (*oauth2.Token, error) {
	t.Helper()
	return f.cfg.Exchange(t.Context(), code, oauth2.VerifierOption(f.verifier))
}

// login runs the whole flow and returns the token response.
func (f *flow) login(t *testing.T) *oauth2.Token {
	t.Helper()
	tok, err := f.exchange(t, f.code(t))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

// idToken is the token response's id_token, failing when there is none.
func idToken(t *testing.T, tok *oauth2.Token) string {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("token response has no id_token")
	}
	return raw
}

// fetchKeys reads the provider's JWKS as a relying party would.
func fetchKeys(t *testing.T, p *Provider) map[string]*rsa.PublicKey {
	t.Helper()
	var set struct {
		Keys []struct{ Kty, Use, Alg, Kid, N, E string }
	}
	getJSON(t, p.Issuer+JWKSPath, &set)
	keys := make(map[string]*rsa.PublicKey)
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Use != "sig" || k.Alg != "RS256" || k.Kid == "" {
			t.Fatalf("JWKS key %+v lacks kty RSA, use sig, alg RS256 or kid", k)
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil {
			t.Fatalf("JWKS key %s: n or e is not base64url", k.Kid)
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return keys
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

var (
	errNonce      = errors.New("id token nonce differs from the request's")
	errAzpMissing = errors.New("id token has several audiences and no azp")
	errAzp        = errors.New("id token azp is not the client")
)

// verifyIDToken checks raw as OpenID Connect Core 3.1.3.7 asks a relying
// party to, against the provider's JWKS.
func verifyIDToken(t *testing.T, p *Provider, raw, nonce string) (jwt.MapClaims, error) {
	t.Helper()
	keys := fetchKeys(t, p)
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(p.Issuer),
		jwt.WithAudience(p.ClientID), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	var c jwt.MapClaims
	_, err := parser.ParseWithClaims(raw, &c, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		if k, ok := keys[kid]; ok {
			return k, nil
		}
		return nil, fmt.Errorf("unknown kid %q", kid)
	})
	if err != nil {
		return c, err
	}
	if got, _ := c["nonce"].(string); got != nonce {
		return c, errNonce
	}
	aud, _ := c.GetAudience()
	azp, _ := c["azp"].(string)
	switch {
	case len(aud) > 1 && azp == "":
		return c, errAzpMissing
	case azp != "" && azp != p.ClientID:
		return c, errAzp
	}
	return c, nil
}

// userinfo calls the userinfo endpoint with the access token.
func userinfo(t *testing.T, p *Provider, accessToken string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.Issuer+UserinfoPath, nil)
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var claims map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&claims)
	return resp.StatusCode, claims
}

// retrieveError asserts err is an OAuth error answer with the code.
func retrieveError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("error %v, want an OAuth error answer %s", err, code)
	}
	if re.Response.StatusCode != status || re.ErrorCode != code {
		t.Fatalf("token endpoint answered %d %q (%s), want %d %s", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription, status, code)
	}
}

func TestDiscovery(t *testing.T) {
	p := NewProvider(t)
	var d map[string]any
	getJSON(t, p.Issuer+DiscoveryPath, &d)
	want := map[string]string{
		"issuer":                 p.Issuer,
		"authorization_endpoint": p.Issuer + AuthorizePath,
		"token_endpoint":         p.Issuer + TokenPath,
		"userinfo_endpoint":      p.Issuer + UserinfoPath,
		"jwks_uri":               p.Issuer + JWKSPath,
		"end_session_endpoint":   p.Issuer + EndSessionPath,
	}
	for k, v := range want {
		if d[k] != v {
			t.Errorf("%s = %v, want %s", k, d[k], v)
		}
	}
	lists := map[string][]string{
		"response_types_supported":              {"code"},
		"response_modes_supported":              {"query", "form_post"},
		"grant_types_supported":                 {"authorization_code", "refresh_token"},
		"id_token_signing_alg_values_supported": {"RS256"},
		"code_challenge_methods_supported":      {"S256"},
		"token_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post"},
		"subject_types_supported":               {"public"},
	}
	for k, vs := range lists {
		got, _ := d[k].([]any)
		for _, v := range vs {
			if !slices.Contains(got, any(v)) {
				t.Errorf("%s = %v, lacks %s", k, d[k], v)
			}
		}
	}
	if !strings.HasPrefix(p.Issuer, "http://127.0.0.1:") {
		t.Errorf("Issuer %s is not on loopback", p.Issuer)
	}
	if p.Counts().Discovery != 1 {
		t.Errorf("Counts().Discovery = %d, want 1", p.Counts().Discovery)
	}
}

func TestHappyPath(t *testing.T) {
	p := NewProvider(t)
	f := newFlow(p)
	q := f.authorize(t, f.authURL())
	if q.Get("state") != f.state || q.Get("iss") != p.Issuer || q.Get("code") == "" {
		t.Fatalf("authorize redirect parameters %v, want code, state %s, iss %s", q, f.state, p.Issuer)
	}
	got := p.LastAuthorize()
	for k, v := range map[string]string{"client_id": p.ClientID, "nonce": f.nonce, "code_challenge_method": "S256",
		"code_challenge": oauth2.S256ChallengeFromVerifier(f.verifier), "state": f.state, "scope": "openid profile email"} {
		if got.Get(k) != v {
			t.Errorf("LastAuthorize %s = %q, want %q", k, got.Get(k), v)
		}
	}
	tok, err := f.exchange(t, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.RefreshToken == "" || tok.Expiry.Before(time.Now().Add(50*time.Minute)) {
		t.Errorf("token %+v: want Bearer, a refresh token, expiry in an hour", tok)
	}
	if m := p.LastTokenAuthMethod(); m != "client_secret_basic" {
		t.Errorf("LastTokenAuthMethod = %q, want client_secret_basic", m)
	}
	if v := p.LastToken().Get("code_verifier"); v != f.verifier {
		t.Errorf("LastToken code_verifier = %q, want the verifier", v)
	}
	c, err := verifyIDToken(t, p, idToken(t, tok), f.nonce)
	if err != nil {
		t.Fatalf("id_token does not verify: %v", err)
	}
	for k, v := range map[string]any{"sub": "user-1", "email": "ada@example.com", "email_verified": true,
		"name": "Ada Lovelace", "preferred_username": "ada", "picture": TestUser.Picture, "azp": p.ClientID} {
		if c[k] != v {
			t.Errorf("id_token %s = %v, want %v", k, c[k], v)
		}
	}
	if _, ok := c["auth_time"].(float64); !ok {
		t.Errorf("id_token has no auth_time: %v", c)
	}
	status, info := userinfo(t, p, tok.AccessToken)
	if status != http.StatusOK || info["sub"] != "user-1" || info["email"] != "ada@example.com" || info["name"] != "Ada Lovelace" {
		t.Errorf("userinfo %d %v", status, info)
	}
}

func TestSetUserAndScopes(t *testing.T) {
	p := NewProvider(t)
	p.SetUser(User{Email: "grace@example.com", Name: "Grace Hopper", Claims: map[string]any{"groups": []any{"admins"}}})
	f := newFlow(p)
	f.cfg.Scopes = []string{"openid", "email"}
	tok := f.login(t)
	c, err := verifyIDToken(t, p, idToken(t, tok), f.nonce)
	if err != nil {
		t.Fatal(err)
	}
	if c["email"] != "grace@example.com" || c["email_verified"] != false || !strings.HasPrefix(c["sub"].(string), "sub-") {
		t.Errorf("id_token claims %v", c)
	}
	if _, ok := c["name"]; ok {
		t.Errorf("name sent without the profile scope: %v", c)
	}
	if g, _ := c["groups"].([]any); len(g) != 1 || g[0] != "admins" {
		t.Errorf("extra claim groups = %v", c["groups"])
	}

	f = newFlow(p)
	f.cfg.Scopes = []string{"profile"} // plain OAuth 2.0: no id_token
	tok = f.login(t)
	if tok.Extra("id_token") != nil {
		t.Error("id_token issued without the openid scope")
	}
	if status, info := userinfo(t, p, tok.AccessToken); status != 200 || info["name"] != "Grace Hopper" || info["email"] != nil {
		t.Errorf("userinfo for scope profile: %d %v", status, info)
	}
}

func TestClientSecretPost(t *testing.T) {
	p := NewProvider(t)
	f := newFlow(p)
	f.cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	f.login(t)
	if m := p.LastTokenAuthMethod(); m != "client_secret_post" {
		t.Errorf("LastTokenAuthMethod = %q, want client_secret_post", m)
	}
}

func TestTokenErrors(t *testing.T) {
	p := NewProvider(t)
	t.Run("wrong verifier", func(t *testing.T) {
		f := newFlow(p)
		code := f.code(t)
		f.verifier = oauth2.GenerateVerifier()
		_, err := f.exchange(t, code)
		retrieveError(t, err, 400, "invalid_grant")
	})
	t.Run("no verifier", func(t *testing.T) {
		f := newFlow(p)
		_, err := f.cfg.Exchange(t.Context(), f.code(t))
		retrieveError(t, err, 400, "invalid_grant")
	})
	t.Run("code reuse revokes", func(t *testing.T) {
		f := newFlow(p)
		code := f.code(t)
		tok, err := f.exchange(t, code)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.exchange(t, code)
		retrieveError(t, err, 400, "invalid_grant")
		if status, _ := userinfo(t, p, tok.AccessToken); status != http.StatusUnauthorized {
			t.Errorf("userinfo with a token of a replayed code: %d, want 401", status)
		}
	})
	t.Run("code burnt by a failed attempt", func(t *testing.T) {
		f := newFlow(p)
		code := f.code(t)
		good := f.verifier
		f.verifier = oauth2.GenerateVerifier()
		_, _ = f.exchange(t, code)
		f.verifier = good
		_, err := f.exchange(t, code)
		retrieveError(t, err, 400, "invalid_grant")
	})
	t.Run("other redirect_uri", func(t *testing.T) {
		f := newFlow(p)
		code := f.code(t)
		f.cfg.RedirectURL = "http://127.0.0.1:9/elsewhere"
		_, err := f.exchange(t, code)
		retrieveError(t, err, 400, "invalid_grant")
	})
	t.Run("unknown code", func(t *testing.T) {
		_, err := newFlow(p).exchange(t, "no-such-code")
		retrieveError(t, err, 400, "invalid_grant")
	})
	t.Run("wrong secret", func(t *testing.T) {
		f := newFlow(p)
		code := f.code(t)
		f.cfg.ClientSecret = "wrong"
		f.cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
		_, err := f.exchange(t, code)
		retrieveError(t, err, 401, "invalid_client")
	})
	t.Run("unsupported grant", func(t *testing.T) {
		form := url.Values{"grant_type": {"password"}, "client_id": {p.ClientID}, "client_secret": {p.ClientSecret}}
		resp, err := http.PostForm(p.Issuer+TokenPath, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode != 400 || body["error"] != "unsupported_grant_type" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("password grant: %d %v", resp.StatusCode, body)
		}
	})
}

func TestAuthorizeErrors(t *testing.T) {
	p := NewProvider(t)
	tests := []struct {
		name  string
		query func(f *flow) string
		want  string
	}{
		{"missing code_challenge", func(f *flow) string {
			return f.cfg.AuthCodeURL(f.state, oauth2.SetAuthURLParam("nonce", f.nonce))
		}, "invalid_request"},
		{"plain PKCE", func(f *flow) string {
			return f.cfg.AuthCodeURL(f.state, oauth2.SetAuthURLParam("code_challenge", f.verifier),
				oauth2.SetAuthURLParam("code_challenge_method", "plain"))
		}, "invalid_request"},
		{"response_type token", func(f *flow) string {
			return f.authURL(oauth2.SetAuthURLParam("response_type", "token"))
		}, "unsupported_response_type"},
		{"fragment response mode", func(f *flow) string {
			return f.authURL(oauth2.SetAuthURLParam("response_mode", "fragment"))
		}, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFlow(p)
			q := f.authorize(t, tt.query(f))
			if q.Get("error") != tt.want || q.Get("code") != "" || q.Get("state") != f.state || q.Get("iss") != p.Issuer {
				t.Errorf("authorize answered %v, want error %s with state and iss", q, tt.want)
			}
		})
	}
}

func TestAuthorizeRefusesWithoutRedirect(t *testing.T) {
	p := NewProvider(t)
	tests := []struct {
		name string
		edit func(cfg *oauth2.Config)
	}{
		{"unknown client", func(cfg *oauth2.Config) { cfg.ClientID = "someone" }},
		{"remote redirect", func(cfg *oauth2.Config) { cfg.RedirectURL = "https://attacker.example/cb" }},
		{"no redirect", func(cfg *oauth2.Config) { cfg.RedirectURL = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFlow(p)
			tt.edit(f.cfg)
			resp, err := noRedirect.Get(f.authURL())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Errorf("authorize: %s to %q, want 400 and no redirect", resp.Status, resp.Header.Get("Location"))
			}
		})
	}
}

func TestAllowRedirectURI(t *testing.T) {
	p := NewProvider(t)
	p.AllowRedirectURI("https://chat.example.com/auth/oauth/test/callback")
	f := newFlow(p) // its loopback redirect URI is no longer good enough
	resp, err := noRedirect.Get(f.authURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unregistered redirect_uri: %s, want 400", resp.Status)
	}
	f.cfg.RedirectURL = "https://chat.example.com/auth/oauth/test/callback"
	f.code(t)
}

func TestRefresh(t *testing.T) {
	p := NewProvider(t)
	p.SetTokenLifetime(time.Second) // expired at once for x/oauth2
	f := newFlow(p)
	tok := f.login(t)
	src := f.cfg.TokenSource(t.Context(), tok)
	fresh, err := src.Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == tok.AccessToken || p.Refreshes() != 1 {
		t.Fatalf("TokenSource did not refresh: same token %v, Refreshes() = %d", fresh.AccessToken == tok.AccessToken, p.Refreshes())
	}
	if v := p.LastToken(); v.Get("grant_type") != "refresh_token" || v.Get("refresh_token") != tok.RefreshToken {
		t.Errorf("LastToken = %v", v)
	}
	p.SetTokenLifetime(time.Hour)
	fresh, err = f.cfg.TokenSource(t.Context(), fresh).Token()
	if err != nil || p.Refreshes() != 2 {
		t.Fatalf("second refresh: %v, Refreshes() = %d", err, p.Refreshes())
	}
	if status, info := userinfo(t, p, fresh.AccessToken); status != 200 || info["sub"] != "user-1" {
		t.Errorf("userinfo with the refreshed token: %d %v", status, info)
	}
	_, err = f.cfg.TokenSource(t.Context(), &oauth2.Token{RefreshToken: "bogus"}).Token()
	retrieveError(t, err, 400, "invalid_grant")
}

func TestUserinfoNeedsToken(t *testing.T) {
	p := NewProvider(t)
	for _, token := range []string{"", "not-a-token"} {
		status, _ := userinfo(t, p, token)
		if status != http.StatusUnauthorized {
			t.Errorf("userinfo with %q: %d, want 401", token, status)
		}
	}
}

func TestFormPostPage(t *testing.T) {
	p := NewProvider(t)
	f := newFlow(p)
	f.state = `st"ate<&>`
	resp, err := noRedirect.Get(f.authURL(oauth2.SetAuthURLParam("response_mode", "form_post")))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "document.forms[0].submit()") {
		t.Fatalf("form_post: %s %s", resp.Status, body)
	}
	req := p.formPostRequest(resp, body)
	if req == nil {
		t.Fatalf("form_post page not recognised: %s", body)
	}
	if req.URL.String() != testRedirectURI || req.Method != http.MethodPost {
		t.Errorf("form posts %s to %s", req.Method, req.URL)
	}
	b, _ := io.ReadAll(req.Body)
	form, _ := url.ParseQuery(string(b))
	if form.Get("state") != f.state || form.Get("iss") != p.Issuer || form.Get("code") == "" {
		t.Errorf("form fields %v", form)
	}
	if _, err := f.exchange(t, form.Get("code")); err != nil {
		t.Errorf("exchange of the form_post code: %v", err)
	}
}

func TestCounts(t *testing.T) {
	p := NewProvider(t)
	f := newFlow(p)
	tok := f.login(t)
	userinfo(t, p, tok.AccessToken)
	fetchKeys(t, p)
	want := Counts{Authorize: 1, Token: 1, Userinfo: 1, JWKS: 1}
	if got := p.Counts(); got != want {
		t.Errorf("Counts() = %+v, want %+v", got, want)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	p := NewProvider(t)
	p.Close()
	p.Close()
	if _, err := http.Get(p.Issuer + DiscoveryPath); err == nil {
		t.Error("closed provider still answers")
	}
}

// fatalTB records the first Fatal or Fatalf and ends the goroutine, for
// tests of helpers that fail the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// fatalMessage runs fn and returns the message it failed the test with,
// failing t if it did not.
func fatalMessage(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	if f.msg == "" {
		t.Fatal("the helper did not fail the test")
	}
	return f.msg
}
