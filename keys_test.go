package chatauth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chatauth/chatauth/internal/cookiechunk"
	"github.com/chatauth/chatauth/internal/seal"
	"github.com/chatauth/chatauth/internal/testutil"
)

// signHMAC makes a JWT the way Chainlit (PyJWT) does, with plain
// crypto/hmac: base64url(header) "." base64url(payload) "." signature.
// alg "none" leaves the signature empty; "RS256" signs with HMAC-SHA256,
// as an algorithm-confusion attack would.
func signHMAC(t *testing.T, secret []byte, header, payload map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signingInput := enc(header) + "." + enc(payload)
	var h func() hash.Hash
	switch header["alg"] {
	case "none":
		return signingInput + "."
	case "HS384":
		h = sha512.New384
	case "HS512":
		h = sha512.New
	default:
		h = sha256.New
	}
	mac := hmac.New(h, secret)
	mac.Write([]byte(signingInput))
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// chainlitPayload is what Chainlit's create_jwt puts in a token: the user's
// to_dict() plus exp and iat; no jti, no kid.
func chainlitPayload(now time.Time, exp time.Duration) map[string]any {
	return map[string]any{
		"identifier":   "ada@example.com",
		"display_name": "Ada Lovelace",
		"metadata":     map[string]any{"provider": "credentials", "image": "https://example.com/ada.png"},
		"exp":          now.Add(exp).Unix(),
		"iat":          now.Unix(),
	}
}

func chainlitToken(t *testing.T, secret []byte, now time.Time, exp time.Duration) string {
	t.Helper()
	return signHMAC(t, secret, map[string]any{"alg": "HS256", "typ": "JWT"}, chainlitPayload(now, exp))
}

func TestChainlitTokenAccepted(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{})
	a.OnPassword(acceptUser(&User{Identifier: "x"}))
	token := chainlitToken(t, testSecret, clk.Now(), time.Hour)

	s, err := a.VerifyToken(context.Background(), token)
	if err != nil {
		t.Fatalf("VerifyToken: %v", err)
	}
	u := s.User
	if u.Identifier != "ada@example.com" || u.DisplayName != "Ada Lovelace" || u.Metadata["provider"] != "credentials" {
		t.Errorf("user %+v", u)
	}
	if !s.ExpiresAt.Equal(clk.Now().Add(time.Hour)) || !s.IssuedAt.Equal(clk.Now()) || s.ID == "" {
		t.Errorf("session %+v", s)
	}

	resp := serve(t, a, userRequest(a, token))
	body := strings.TrimSpace(readBody(t, resp))
	want := `{"identifier":"ada@example.com","display_name":"Ada Lovelace","metadata":{"image":"https://example.com/ada.png","provider":"credentials"}}`
	if resp.StatusCode != 200 || body != want {
		t.Errorf("GET /user = %d %s", resp.StatusCode, body)
	}

	req := httptest.NewRequest(http.MethodGet, "/user", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if got := userOf(t, a, req); got != "ada@example.com" {
		t.Errorf("Bearer: user %q", got)
	}
}

func TestChainlitTokenRevocableAtLogout(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{})
	a.OnPassword(acceptUser(&User{Identifier: "x"}))
	token := chainlitToken(t, testSecret, clk.Now(), time.Hour)
	logout := httptest.NewRequest(http.MethodPost, "/logout", nil)
	logout.Header.Set("Authorization", "Bearer "+token)
	wantSuccess(t, serve(t, a, logout))
	wantError(t, serve(t, a, userRequest(a, token)), http.StatusUnauthorized, "Invalid authentication token")
}

func TestOurTokensReadableByChainlit(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	token := issue(t, a, &User{Identifier: "ada", DisplayName: "Ada", Metadata: map[string]any{"k": "v"}})
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	mac := hmac.New(sha256.New, testSecret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) != parts[2] {
		t.Fatal("token is not HS256 over the secret")
	}
	var header, claims map[string]any
	decode := func(s string, v any) {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	decode(parts[0], &header)
	decode(parts[1], &claims)
	if header["alg"] != "HS256" || header["kid"] != keyID(testSecret) {
		t.Errorf("header %v", header)
	}
	for _, k := range []string{"identifier", "display_name", "metadata", "exp", "iat", "jti"} {
		if _, ok := claims[k]; !ok {
			t.Errorf("claim %s missing in %v", k, claims)
		}
	}
	if claims["identifier"] != "ada" || claims["display_name"] != "Ada" {
		t.Errorf("claims %v", claims)
	}
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 15*24*3600 {
		t.Errorf("exp - iat = %v", exp-iat)
	}
	for _, k := range []string{"iss", "aud", "id", "createdAt"} {
		if _, ok := claims[k]; ok {
			t.Errorf("unexpected claim %s", k)
		}
	}
}

func TestForeignAlgorithmsRejected(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{})
	a.OnPassword(acceptUser(&User{Identifier: "x"}))
	payload := chainlitPayload(clk.Now(), time.Hour)
	for _, alg := range []string{"none", "None", "HS384", "HS512", "RS256", "ES256", "PS256", "EdDSA", ""} {
		t.Run(alg, func(t *testing.T) {
			token := signHMAC(t, testSecret, map[string]any{"alg": alg, "typ": "JWT"}, payload)
			if _, err := a.VerifyToken(context.Background(), token); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("VerifyToken = %v, want ErrInvalidToken", err)
			}
			wantError(t, serve(t, a, userRequest(a, token)), http.StatusUnauthorized, "Invalid authentication token")
			req := httptest.NewRequest(http.MethodPost, "/auth/jwt", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			wantError(t, serve(t, a, req), http.StatusUnauthorized, "Invalid token")
		})
	}
}

func TestBadTokensRejected(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{})
	now := clk.Now()
	valid := issue(t, a, &User{Identifier: "ada"})
	parts := strings.Split(valid, ".")
	otherPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"identifier":"admin","exp":9999999999,"iat":1}`))
	hs := map[string]any{"alg": "HS256", "typ": "JWT"}
	without := func(key string) map[string]any {
		p := chainlitPayload(now, time.Hour)
		delete(p, key)
		return p
	}
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"garbage", "garbage", ErrInvalidToken},
		{"two parts", parts[0] + "." + parts[1], ErrInvalidToken},
		{"payload swapped", parts[0] + "." + otherPayload + "." + parts[2], ErrInvalidToken},
		{"signature altered", parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])), ErrInvalidToken},
		{"signature dropped", parts[0] + "." + parts[1] + ".", ErrInvalidToken},
		{"other secret", chainlitToken(t, []byte("some-other-secret-0123456789abcdef0123"), now, time.Hour), ErrInvalidToken},
		{"expired", chainlitToken(t, testSecret, now.Add(-2*time.Hour), time.Hour), ErrExpired},
		{"expired by a second", chainlitToken(t, testSecret, now.Add(-time.Hour), time.Hour-time.Second), ErrExpired},
		{"no exp", signHMAC(t, testSecret, hs, without("exp")), ErrInvalidToken},
		{"no identifier", signHMAC(t, testSecret, hs, without("identifier")), ErrInvalidToken},
		{"issued in the future", signHMAC(t, testSecret, hs, map[string]any{"identifier": "ada", "exp": now.Add(2 * time.Hour).Unix(), "iat": now.Add(time.Hour).Unix()}), ErrInvalidToken},
		{"not valid yet", signHMAC(t, testSecret, hs, map[string]any{"identifier": "ada", "exp": now.Add(2 * time.Hour).Unix(), "nbf": now.Add(time.Hour).Unix()}), ErrInvalidToken},
		{"unknown kid", signHMAC(t, testSecret, map[string]any{"alg": "HS256", "kid": "nope"}, chainlitPayload(now, time.Hour)), ErrInvalidToken},
		{"too large", strings.Repeat("a", MaxTokenBytes+1), ErrTokenTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := a.VerifyToken(context.Background(), tt.token); !errors.Is(err, tt.want) {
				t.Errorf("VerifyToken = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestTwoAuthsDoNotAcceptEachOthersTokens(t *testing.T) {
	a1, clk, _ := newTestAuth(t, Config{})
	other := []byte("another-secret-0123456789abcdef0123456")
	a2, _, _ := newTestAuth(t, Config{Secret: other})
	a2.now = clk.Now
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		token  string
		signer *Auth
	}{
		{"a1 token", issue(t, a1, &User{Identifier: "ada"}), a1},
		{"a2 token", issue(t, a2, &User{Identifier: "ada"}), a2},
		{"a1 Chainlit token", chainlitToken(t, testSecret, clk.Now(), time.Hour), a1},
		{"a2 Chainlit token", chainlitToken(t, other, clk.Now(), time.Hour), a2},
	} {
		for _, verifier := range []*Auth{a1, a2} {
			_, err := verifier.VerifyToken(ctx, tt.token)
			if verifier == tt.signer && err != nil {
				t.Errorf("%s refused by its own Auth: %v", tt.name, err)
			}
			if verifier != tt.signer && !errors.Is(err, ErrInvalidToken) {
				t.Errorf("%s accepted by the other Auth: %v", tt.name, err)
			}
		}
	}
}

func TestKeyRotation(t *testing.T) {
	oldKey := testSecret
	newKey := []byte("rotated-secret-0123456789abcdef0123456")
	a, clk, _ := newTestAuth(t, Config{Secret: oldKey})
	ctx := context.Background()
	oldToken := issue(t, a, &User{Identifier: "ada"})
	oldChainlit := chainlitToken(t, oldKey, clk.Now(), time.Hour)

	if err := a.SetSecrets(newKey, oldKey); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"old token": oldToken, "old Chainlit token": oldChainlit} {
		if _, err := a.VerifyToken(ctx, tok); err != nil {
			t.Errorf("%s refused after rotation: %v", name, err)
		}
	}
	newToken := issue(t, a, &User{Identifier: "ada"})
	if kid := tokenHeader(t, newToken)["kid"]; kid != keyID(newKey) {
		t.Errorf("new token kid %v, want %s", kid, keyID(newKey))
	}
	onlyNew, _, _ := newTestAuth(t, Config{Secret: newKey})
	onlyNew.now = clk.Now
	if _, err := onlyNew.VerifyToken(ctx, newToken); err != nil {
		t.Errorf("new token not signed with the new key: %v", err)
	}

	if err := a.SetSecrets(newKey); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"old token": oldToken, "old Chainlit token": oldChainlit} {
		if _, err := a.VerifyToken(ctx, tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s after its key was removed: %v, want ErrInvalidToken", name, err)
		}
	}
	if _, err := a.VerifyToken(ctx, newToken); err != nil {
		t.Errorf("new token refused: %v", err)
	}
	if err := a.SetSecrets([]byte("short")); err == nil {
		t.Error("SetSecrets accepted a short secret")
	}
}

func TestPreviousSecretsInConfig(t *testing.T) {
	oldKey := []byte("old-secret-0123456789abcdef0123456789")
	old, clk, _ := newTestAuth(t, Config{Secret: oldKey})
	a, _, _ := newTestAuth(t, Config{PreviousSecrets: [][]byte{oldKey}})
	a.now = clk.Now
	if _, err := a.VerifyToken(context.Background(), issue(t, old, &User{Identifier: "ada"})); err != nil {
		t.Errorf("token of a previous secret refused: %v", err)
	}
}

func tokenHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestVerifiedTokenCache(t *testing.T) {
	ctx := context.Background()
	cached := func(a *Auth, token string) bool {
		_, ok := a.keys.Load().cache.get(token)
		return ok
	}

	t.Run("revoked while cached", func(t *testing.T) {
		a, _, _ := newTestAuth(t, Config{})
		token := issue(t, a, &User{Identifier: "ada"})
		for range 2 {
			if _, err := a.VerifyToken(ctx, token); err != nil {
				t.Fatal(err)
			}
		}
		if !cached(a, token) {
			t.Fatal("token not cached")
		}
		req := httptest.NewRequest(http.MethodPost, "/logout", nil)
		req.AddCookie(&http.Cookie{Name: "access_token", Value: token})
		wantSuccess(t, serve(t, a, req))
		if _, err := a.VerifyToken(ctx, token); !errors.Is(err, ErrRevoked) {
			t.Errorf("cached token after logout: %v, want ErrRevoked", err)
		}
	})
	t.Run("expired while cached", func(t *testing.T) {
		a, clk, _ := newTestAuth(t, Config{Session: SessionConfig{Timeout: time.Hour}})
		token := issue(t, a, &User{Identifier: "ada"})
		if _, err := a.VerifyToken(ctx, token); err != nil || !cached(a, token) {
			t.Fatalf("first verify: %v", err)
		}
		clk.Advance(time.Hour - time.Second)
		if _, err := a.VerifyToken(ctx, token); err != nil {
			t.Errorf("a second before exp: %v", err)
		}
		clk.Advance(time.Second)
		if _, err := a.VerifyToken(ctx, token); !errors.Is(err, ErrExpired) {
			t.Errorf("cached token at exp: %v, want ErrExpired", err)
		}
		wantError(t, serve(t, a.RequireUser(whoAmI), userRequest(a, token)), http.StatusUnauthorized, "Invalid authentication token")
	})
	t.Run("key removed while cached", func(t *testing.T) {
		a, _, _ := newTestAuth(t, Config{})
		token := issue(t, a, &User{Identifier: "ada"})
		if _, err := a.VerifyToken(ctx, token); err != nil || !cached(a, token) {
			t.Fatalf("first verify: %v", err)
		}
		if err := a.SetSecrets([]byte("brand-new-secret-0123456789abcdef0123")); err != nil {
			t.Fatal(err)
		}
		if _, err := a.VerifyToken(ctx, token); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("cached token after its key was removed: %v, want ErrInvalidToken", err)
		}
	})
	t.Run("user revoked while cached", func(t *testing.T) {
		a, _, _ := newTestAuth(t, Config{})
		token := issue(t, a, &User{Identifier: "ada"})
		if _, err := a.VerifyToken(ctx, token); err != nil {
			t.Fatal(err)
		}
		if err := a.EndUserSessions(ctx, "ada"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.VerifyToken(ctx, token); !errors.Is(err, ErrRevoked) {
			t.Errorf("cached token after RevokeUser: %v", err)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		a, _, _ := newTestAuth(t, Config{Session: SessionConfig{TokenCacheSize: 8}})
		for range 50 {
			if _, err := a.VerifyToken(ctx, issue(t, a, &User{Identifier: "ada"})); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(a.keys.Load().cache.entries); n > 8 {
			t.Errorf("cache holds %d tokens, limit 8", n)
		}
	})
	t.Run("invalid tokens are not cached", func(t *testing.T) {
		a, _, _ := newTestAuth(t, Config{})
		a.VerifyToken(ctx, "garbage")
		if n := len(a.keys.Load().cache.entries); n != 0 {
			t.Errorf("cache holds %d entries", n)
		}
	})
	t.Run("off", func(t *testing.T) {
		a, _, _ := newTestAuth(t, Config{Session: SessionConfig{TokenCacheSize: -1}})
		token := issue(t, a, &User{Identifier: "ada"})
		for range 2 {
			if _, err := a.VerifyToken(ctx, token); err != nil {
				t.Fatal(err)
			}
		}
		if cached(a, token) {
			t.Error("disabled cache holds a token")
		}
	})
}

func TestIssuerAndAudience(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{Session: SessionConfig{Issuer: "https://chat.example.com", Audience: "chat"}})
	ctx := context.Background()
	token := issue(t, a, &User{Identifier: "ada"})
	if _, err := a.VerifyToken(ctx, token); err != nil {
		t.Fatalf("own token: %v", err)
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"iss":"https://chat.example.com"`) || !strings.Contains(string(b), `"aud":["chat"]`) {
		t.Errorf("claims %s", b)
	}
	hs := map[string]any{"alg": "HS256"}
	p := chainlitPayload(clk.Now(), time.Hour)
	for name, tok := range map[string]string{
		"no iss or aud": signHMAC(t, testSecret, hs, p),
		"other iss":     signHMAC(t, testSecret, hs, merge(p, map[string]any{"iss": "https://evil.example", "aud": "chat"})),
		"other aud":     signHMAC(t, testSecret, hs, merge(p, map[string]any{"iss": "https://chat.example.com", "aud": "other"})),
	} {
		if _, err := a.VerifyToken(ctx, tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: %v, want ErrInvalidToken", name, err)
		}
	}
	good := signHMAC(t, testSecret, hs, merge(p, map[string]any{"iss": "https://chat.example.com", "aud": "chat"}))
	if _, err := a.VerifyToken(ctx, good); err != nil {
		t.Errorf("matching iss and aud: %v", err)
	}
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestIssueTokenNeedsIdentifier(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	for _, u := range []*User{nil, {}, {DisplayName: "nobody"}} {
		if _, _, err := a.IssueToken(u); err == nil {
			t.Errorf("IssueToken(%+v) succeeded", u)
		}
	}
}

func TestKeyIDRevealsNothing(t *testing.T) {
	id := keyID(testSecret)
	if strings.Contains(string(testSecret), id) || len(id) != 8 || id == keyID([]byte("other-secret-0123456789abcdef0123456789")) {
		t.Errorf("keyID = %q", id)
	}
}

// TestSessionLastsAtLeastItsTimeout: exp is rounded up to the second, so a
// token issued at any fraction of a second lasts its whole timeout (a 3 s
// session issued at .97 used to end after 2.03 s), and never a whole
// second more.
func TestSessionLastsAtLeastItsTimeout(t *testing.T) {
	for _, timeout := range []time.Duration{time.Second, 3 * time.Second, 2500 * time.Millisecond, time.Hour} {
		for _, frac := range []time.Duration{0, time.Millisecond, 500 * time.Millisecond, 970 * time.Millisecond, time.Second - time.Nanosecond} {
			t.Run(fmt.Sprintf("%v at +%v", timeout, frac), func(t *testing.T) {
				a, clk, _ := newTestAuth(t, Config{Session: SessionConfig{Timeout: timeout}})
				clk.Advance(frac)
				start := clk.Now()
				token, s, err := a.IssueToken(&User{Identifier: "ada"})
				if err != nil {
					t.Fatal(err)
				}
				if life := s.ExpiresAt.Sub(start); life < timeout || life >= timeout+time.Second || !s.ExpiresAt.Equal(s.ExpiresAt.Truncate(time.Second)) {
					t.Errorf("exp %v after issue, want whole seconds in [%v, %v)", life, timeout, timeout+time.Second)
				}
				clk.Advance(timeout - time.Nanosecond)
				if _, err := a.VerifyToken(context.Background(), token); err != nil {
					t.Errorf("token refused before its timeout: %v", err)
				}
			})
		}
	}
}

// TestSessionNeverOutlivesSessionTimeout: whatever end a presented or
// renewed token asks for (exp of 2^62 gave Max-Age=9223372036), a session
// ends within SessionTimeout, on every path that issues a token.
func TestSessionNeverOutlivesSessionTimeout(t *testing.T) {
	const timeout = time.Hour
	far := int64(1) << 62
	hostKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&hostKey.PublicKey)
	hostPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	tests := []struct {
		name  string
		cfg   Config
		token func(t *testing.T, a *Auth, now time.Time) string // the new session's token
	}{
		{"IssueToken", Config{}, func(t *testing.T, a *Auth, now time.Time) string {
			return issue(t, a, &User{Identifier: "ada"})
		}},
		{"/auth/jwt with exp 2^62", Config{}, func(t *testing.T, a *Auth, now time.Time) string {
			return cookieOf(t, jwtLogin(t, a, rawToken(hs256, map[string]any{"identifier": "ada", "iat": now.Unix(), "exp": far}, testSecret)))
		}},
		{"/auth/jwt with sexp 2^62", Config{Session: SessionConfig{IdleTimeout: time.Minute}}, func(t *testing.T, a *Auth, now time.Time) string {
			return cookieOf(t, jwtLogin(t, a, rawToken(hs256, map[string]any{"identifier": "ada", "iat": now.Unix(), "exp": now.Unix() + 60, "sexp": far}, testSecret)))
		}},
		{"host token with exp 2^62", Config{HostTokens: &HostTokens{PublicKeysPEM: hostPEM, Issuer: "h", Audience: "chat"}},
			func(t *testing.T, a *Auth, now time.Time) string {
				return cookieOf(t, jwtLogin(t, a, hostToken(t, jwt.SigningMethodES256, hostKey, "", jwt.MapClaims{
					"iss": "h", "aud": "chat", "sub": "ada", "iat": now.Unix(), "exp": far})))
			}},
		{"renewal with sexp 2^62", Config{Session: SessionConfig{IdleTimeout: time.Minute}}, func(t *testing.T, a *Auth, now time.Time) string {
			old := rawToken(hs256, map[string]any{"identifier": "ada", "iat": now.Unix() - 40, "exp": now.Unix() + 20, "sexp": far, "jti": "j"}, testSecret)
			return cookieOf(t, getWithCookie(t, protected(a), a, old))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Session.Timeout = timeout
			a, clk, _ := newTestAuth(t, tt.cfg)
			now := clk.Now()
			token := tt.token(t, a, now)
			s, err := a.VerifyToken(context.Background(), token)
			if err != nil {
				t.Fatal(err)
			}
			if s.ExpiresAt.After(now.Add(timeout)) || s.AbsoluteExpiresAt.After(now.Add(timeout)) {
				t.Errorf("session ends at +%v (absolute +%v), beyond SessionTimeout %v",
					s.ExpiresAt.Sub(now), s.AbsoluteExpiresAt.Sub(now), timeout)
			}
		})
	}
}

// cookieOf is the session token resp sets as its cookie; it fails the test
// when there is none.
func cookieOf(t *testing.T, resp *http.Response) string {
	t.Helper()
	c := cookieNamed(resp, "access_token")
	if c == nil || c.Value == "" {
		t.Fatalf("no session cookie: %d %s", resp.StatusCode, readBody(t, resp))
	}
	if c.MaxAge > int(time.Hour/time.Second)+1 {
		t.Errorf("Max-Age %d beyond SessionTimeout", c.MaxAge)
	}
	return c.Value
}

func TestIssueTokenHonoursIdleTimeout(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{Session: SessionConfig{Timeout: 8 * time.Hour, IdleTimeout: 30 * time.Minute}})
	_, s, err := a.IssueToken(&User{Identifier: "ada"})
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now()
	if !s.ExpiresAt.Equal(now.Add(30*time.Minute)) || !s.AbsoluteExpiresAt.Equal(now.Add(8*time.Hour)) {
		t.Errorf("exp +%v, absolute +%v; want the idle timeout and the session timeout", s.ExpiresAt.Sub(now), s.AbsoluteExpiresAt.Sub(now))
	}
}

// TestNoPathIssuesATokenItWouldRefuse: the longest token each cookie
// budget lets IssueToken sign is read back from cookies and as a bearer
// token, and one byte of metadata more is refused by every path that
// issues tokens (with 6 cookies allowed, a login used to answer 200 with a
// 16,838-byte token that every later request refused).
func TestNoPathIssuesATokenItWouldRefuse(t *testing.T) {
	for _, chunks := range []int{1, 4, maxCookieChunks} {
		t.Run(fmt.Sprint(chunks, " cookies"), func(t *testing.T) {
			a, _, logs := newTestAuth(t, Config{Cookie: CookieConfig{MaxChunks: chunks}, Session: SessionConfig{IdleTimeout: time.Hour}})
			user := func(n int) *User {
				return &User{Identifier: "ada", Metadata: map[string]any{"groups": strings.Repeat("g", n)}}
			}
			// The largest metadata IssueToken accepts.
			lo, hi := 0, chunks*cookiechunk.Size
			for lo < hi {
				mid := (lo + hi + 1) / 2
				if _, _, err := a.IssueToken(user(mid)); err == nil {
					lo = mid
				} else if !errors.Is(err, ErrSessionTooLarge) {
					t.Fatal(err)
				} else {
					hi = mid - 1
				}
			}
			token := issue(t, a, user(lo))
			rec := httptest.NewRecorder()
			if _, err := a.StartSession(rec, httptest.NewRequest("GET", "https://chat.example/", nil), user(lo)); err != nil {
				t.Fatalf("StartSession of a user IssueToken accepts: %v", err)
			}
			if n := len(rec.Result().Cookies()); n > chunks {
				t.Errorf("%d cookies, budget %d", n, chunks)
			}
			if got := userOf(t, a, addCookies(httptest.NewRequest("GET", "/user", nil), rec.Result())); got != "ada" {
				t.Errorf("cookies read back as %q", got)
			}
			bearer := httptest.NewRequest("GET", "/user", nil)
			bearer.Header.Set("Authorization", "Bearer "+token)
			if got := userOf(t, a, bearer); got != "ada" {
				t.Errorf("bearer read back as %q", got)
			}

			big := user(lo + 1)
			if _, _, err := a.IssueToken(big); !errors.Is(err, ErrSessionTooLarge) {
				t.Errorf("IssueToken: %v", err)
			}
			if _, err := a.StartSession(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), big); !errors.Is(err, ErrSessionTooLarge) {
				t.Errorf("StartSession: %v", err)
			}
			a.OnPassword(acceptUser(big))
			if resp := serve(t, a, loginRequest("", "ada", "pw")); resp.StatusCode != 500 || len(resp.Cookies()) != 0 {
				t.Errorf("login: %d, cookies %v", resp.StatusCode, resp.Cookies())
			}
			if !strings.Contains(logs.String(), "auth.reason=session_too_large") {
				t.Errorf("login not logged as session_too_large:\n%s", logs)
			}
		})
	}
}

// TestTokenCacheBoundedInEntriesAndBytes: 100,000 distinct tokens of
// many sizes (a logged-in client gets distinct valid tokens by calling
// POST /auth/jwt again and again) never make the cache hold more than its
// entries or bytes, and what it is charged adds up. The cache is fed
// directly, as VerifyToken feeds it, to keep the test fast under -race;
// loadtest's TestBoundedMemoryUnderAttack feeds it over HTTP.
func TestTokenCacheBoundedInEntriesAndBytes(t *testing.T) {
	const entries, bytes = 5000, 2 << 20
	c := newTokenCache(entries, bytes)
	for i := range 100000 {
		pad := strings.Repeat("p", i%3000)
		s := &Session{ID: strconv.Itoa(i), User: &User{Identifier: "mallory", Metadata: map[string]any{"pad": pad}}}
		c.put("token-"+strconv.Itoa(i)+"."+pad, s)
		if i%1000 != 999 {
			continue
		}
		n, charged, sum := len(c.entries), c.bytes, 0
		for tok, e := range c.entries {
			sum += e.cost
			if e.cost < len(tok) {
				t.Errorf("entry charged %d for a %d-byte token", e.cost, len(tok))
			}
		}
		if n > entries || charged > bytes || charged != sum {
			t.Fatalf("after %d tokens: %d entries, %d bytes charged (sum %d); bounds %d, %d", i+1, n, charged, sum, entries, bytes)
		}
	}
	c.put("huge", &Session{User: &User{Identifier: strings.Repeat("h", bytes/16)}})
	if _, ok := c.get("huge"); ok {
		t.Error("a token over a sixteenth of the bytes was cached")
	}
}

// TestTokenCacheChargesAtLeastWhatSessionsHold: the estimate a cached
// token is charged is at least the heap its text and decoded session take,
// measured on 2,000 tokens with small and with many-field metadata.
func TestTokenCacheChargesAtLeastWhatSessionsHold(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{Session: SessionConfig{TokenCacheSize: -1}})
	many := map[string]any{}
	for i := range 60 {
		many["k"+strconv.Itoa(i)] = []any{float64(i), true, nil, "v"}
	}
	for name, md := range map[string]map[string]any{
		"small":       {"provider": "github", "image": "https://avatars.example.com/u/1"},
		"many_fields": many,
	} {
		t.Run(name, func(t *testing.T) {
			const n = 2000
			tokens := make([]string, n)
			for i := range tokens {
				tokens[i] = issue(t, a, &User{Identifier: "user" + strconv.Itoa(i) + "@example.com", DisplayName: "User", Metadata: md})
			}
			held := make([]*Session, n)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			charged := 0
			for i, tok := range tokens {
				s, err := a.parseToken(a.keys.Load(), tok)
				if err != nil {
					t.Fatal(err)
				}
				held[i] = s
				charged += sessionBytes(s) // the token text is held by tokens already
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			used := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			runtime.KeepAlive(held)
			t.Logf("%s: %d bytes per session held, %d charged", name, used/n, charged/n)
			if used > int64(charged) {
				t.Errorf("sessions hold %d bytes, charged only %d", used, charged)
			}
		})
	}
}

// pythonWith finds a Python 3 that can import module: the first python3 on
// PATH that can, which is Debian's /usr/bin/python3 once debPackage is
// installed (a pyenv python3 earlier on PATH usually lacks it). Without
// one the test is skipped, saying what to install, or fails under CI=true.
func pythonWith(t *testing.T, module, debPackage string) string {
	t.Helper()
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, "python3")
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if exec.Command(p, "-c", "import "+module).Run() == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("no python3 on PATH imports %s, and CI=true: .ci/run installs %s", module, debPackage)
	}
	t.Skipf("needs %s (apt-get install %s): no python3 on PATH imports %s", debPackage, debPackage, module)
	return ""
}

// chainlitJWT runs testdata/pyjwt/chainlit_jwt.py (Chainlit's create_jwt
// and decode_jwt with PyJWT) with request as its JSON input.
func chainlitJWT(t *testing.T, python, op string, request any) []json.RawMessage {
	t.Helper()
	in, err := json.Marshal(request)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, filepath.Join("testdata", "pyjwt", "chainlit_jwt.py"), op)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chainlit_jwt.py %s: %v\n%s", op, err, stderr.String())
	}
	var list []json.RawMessage
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatalf("chainlit_jwt.py %s printed %q: %v", op, out, err)
	}
	return list
}

// pyjwtMetadata is metadata whose text survives Python's json untouched
// (sorted keys, compact, ASCII), with the numbers encoding/json alone
// would change.
const pyjwtMetadata = `{"big":9223372036854775809,"f":2.0,"list":[1.0,{"x":3.1}],"role":"admin"}`

// TestPyJWTInterop runs Chainlit's own token code (PyJWT, Debian's
// python3-jwt) against chatauth, both ways: tokens Chainlit mints are
// sessions here (cookie, chunked cookies, Bearer, /auth/jwt, and a short
// secret kept as a previous secret), and the tokens chatauth issues
// (plain, chunked, from /auth/jwt) decode in Chainlit's decode_jwt with
// the user and metadata intact.
func TestPyJWTInterop(t *testing.T) {
	python := pythonWith(t, "jwt", "python3-jwt")
	short := "chainlit-secret" // Chainlit takes any secret
	bigMetadata := fmt.Sprintf(`{"f":2.0,"notes":%q}`, strings.Repeat("n", 4000))
	users := map[string]string{
		"ada": `{"identifier":"ada","display_name":"Ada Lovelace","metadata":` + pyjwtMetadata + `}`,
		"big": `{"identifier":"big","display_name":null,"metadata":` + bigMetadata + `}`,
	}
	a, err := New(Config{Secret: testSecret, PreviousSecrets: [][]byte{[]byte(short)}, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	a.OnPassword(func(_ context.Context, username, _ string) (*User, error) {
		var u User
		return &u, json.Unmarshal([]byte(users[username]), &u)
	})
	mint := func(secret string, names ...string) []string {
		var list []json.RawMessage
		for _, n := range names {
			list = append(list, json.RawMessage(users[n]))
		}
		var tokens []string
		for _, raw := range chainlitJWT(t, python, "mint", map[string]any{"secret": secret, "timeout": 3600, "users": list}) {
			var tok string
			if err := json.Unmarshal(raw, &tok); err != nil {
				t.Fatal(err)
			}
			tokens = append(tokens, tok)
		}
		return tokens
	}
	minted := mint(string(testSecret), "ada", "big")
	minted = append(minted, mint(short, "ada")...)
	if len(minted[1]) <= 3000 {
		t.Fatalf("the big token has %d characters, want more than one 3000-character chunk", len(minted[1]))
	}

	// Chainlit's tokens are sessions here.
	getUser := func(t *testing.T, req *http.Request) map[string]json.RawMessage {
		t.Helper()
		resp := serve(t, a, req)
		body := readBody(t, resp)
		var u map[string]json.RawMessage
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &u) != nil {
			t.Fatalf("GET /user = %d %s", resp.StatusCode, body)
		}
		return u
	}
	cookieReq := func(cookies ...*http.Cookie) *http.Request {
		req := httptest.NewRequest(http.MethodGet, "/user", nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		return req
	}
	bearerReq := httptest.NewRequest(http.MethodGet, "/user", nil)
	bearerReq.Header.Set("Authorization", "Bearer "+minted[0])
	for _, tt := range []struct {
		name, identifier, metadata string
		req                        *http.Request
	}{
		{"cookie", "ada", pyjwtMetadata, cookieReq(&http.Cookie{Name: "access_token", Value: minted[0]})},
		{"bearer", "ada", pyjwtMetadata, bearerReq},
		{"chunked as Chainlit splits it", "big", bigMetadata, cookieReq(
			&http.Cookie{Name: "access_token_0", Value: minted[1][:3000]},
			&http.Cookie{Name: "access_token_1", Value: minted[1][3000:]})},
		{"short secret, kept as a previous secret", "ada", pyjwtMetadata, cookieReq(&http.Cookie{Name: "access_token", Value: minted[2]})},
	} {
		t.Run("chainlit to chatauth/"+tt.name, func(t *testing.T) {
			u := getUser(t, tt.req)
			if string(u["identifier"]) != strconv.Quote(tt.identifier) || string(u["metadata"]) != tt.metadata {
				t.Errorf("GET /user: identifier %s metadata %s, want %q %s", u["identifier"], u["metadata"], tt.identifier, tt.metadata)
			}
		})
	}

	// chatauth's tokens decode in Chainlit.
	session := func(resp *http.Response) string {
		t.Helper()
		var b strings.Builder
		if c := cookieNamed(resp, "access_token"); c != nil && c.MaxAge > 0 {
			return c.Value
		}
		for i := 0; ; i++ {
			c := cookieNamed(resp, fmt.Sprintf("access_token_%d", i))
			if c == nil || c.MaxAge <= 0 {
				break
			}
			b.WriteString(c.Value)
		}
		if b.Len() == 0 {
			t.Fatalf("no session cookie in %v", resp.Cookies())
		}
		return b.String()
	}
	jwtLogin := httptest.NewRequest(http.MethodPost, "/auth/jwt", nil)
	jwtLogin.Header.Set("Authorization", "Bearer "+minted[0])
	ours := []struct{ name, token, identifier, metadata string }{
		{"password login", session(serve(t, a, loginRequest("", "ada", "pw"))), "ada", pyjwtMetadata},
		{"chunked", session(serve(t, a, loginRequest("", "big", "pw"))), "big", bigMetadata},
		{"from /auth/jwt", session(serve(t, a, jwtLogin)), "ada", pyjwtMetadata},
	}
	tokens := []string{}
	for _, o := range ours {
		tokens = append(tokens, o.token)
	}
	tampered := ours[0].token[:len(ours[0].token)-4] + "AAAA"
	decoded := chainlitJWT(t, python, "decode", map[string]any{"secret": string(testSecret), "tokens": append(tokens, tampered)})
	for i, o := range ours {
		t.Run("chatauth to chainlit/"+o.name, func(t *testing.T) {
			var u struct {
				Identifier   string  `json:"identifier"`
				DisplayName  *string `json:"display_name"`
				MetadataJSON string  `json:"metadata_json"`
				Error        string  `json:"error"`
			}
			if err := json.Unmarshal(decoded[i], &u); err != nil || u.Error != "" {
				t.Fatalf("decode_jwt: %s (%v)", decoded[i], err)
			}
			if u.Identifier != o.identifier || u.MetadataJSON != o.metadata {
				t.Errorf("decode_jwt = %s, want identifier %q metadata %s", decoded[i], o.identifier, o.metadata)
			}
		})
	}
	if !strings.Contains(string(decoded[len(ours)]), "InvalidSignatureError") {
		t.Errorf("decode_jwt of a tampered token = %s, want InvalidSignatureError", decoded[len(ours)])
	}
}

// TestSetSecretsReplacesEveryDerivedKey: after a rotation (a leaked
// secret), a state cookie sealed under the old secret no longer opens,
// and a new one is sealed with a key derived from the new secret; the
// secrets are checked as New checks them.
func TestSetSecretsReplacesEveryDerivedKey(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	p := &Provider{ID: "corp"}
	pending := []pendingLogin{{State: "s1", Verifier: "v", Provider: "corp", Expires: a.now().Add(time.Hour).Unix()}}
	sealState := func() *http.Cookie {
		rec := httptest.NewRecorder()
		a.writePending(rec, httptest.NewRequest(http.MethodGet, "/", nil), p, pending)
		for _, c := range rec.Result().Cookies() {
			if c.Name == stateCookieName {
				return c
			}
		}
		t.Fatal("no state cookie written")
		return nil
	}
	withCookie := func(c *http.Cookie) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(c)
		return r
	}
	before := sealState()
	if got := a.readPending(withCookie(before)); len(got) != 1 {
		t.Fatalf("state cookie does not open before the rotation: %v", got)
	}
	newSecret := []byte("rotated-after-a-leak-0123456789abcdef")
	if err := a.SetSecrets(newSecret); err != nil {
		t.Fatal(err)
	}
	if got := a.readPending(withCookie(before)); len(got) != 0 {
		t.Errorf("a state cookie sealed under the removed secret still opens: %v", got)
	}
	after := sealState()
	if _, err := seal.Open([][]byte{seal.DeriveKey(newSecret, purposeOAuthState)}, stateCookieName, after.Value); err != nil {
		t.Errorf("the new state cookie is not sealed with the new secret's key: %v", err)
	}
	if _, err := seal.Open([][]byte{seal.DeriveKey(testSecret, purposeOAuthState)}, stateCookieName, after.Value); err == nil {
		t.Error("the new state cookie opens with the old secret's key")
	}
	if got, want := a.keys.Load().headerKey, seal.DeriveKey(newSecret, purposeHeaderHash); !bytes.Equal(got, want) {
		t.Error("the header hash key was not derived from the new secret")
	}

	// Checked as New checks Config.Secret and PreviousSecrets, and nothing
	// changes on a refusal.
	for name, tc := range map[string]struct {
		current  []byte
		previous [][]byte
	}{
		"short current":  {[]byte("short"), nil},
		"empty current":  {nil, nil},
		"empty previous": {newSecret, [][]byte{{}}},
	} {
		err := a.SetSecrets(tc.current, tc.previous...)
		_, newErr := New(Config{Secret: tc.current, PreviousSecrets: tc.previous})
		if err == nil || newErr == nil {
			t.Errorf("%s: SetSecrets said %v, New said %v; both must refuse", name, err, newErr)
		}
	}
	if _, err := seal.Open(a.keys.Load().stateKeys[:1], stateCookieName, after.Value); err != nil {
		t.Errorf("a refused SetSecrets changed the keys: %v", err)
	}
}

// TestCachedSessionNotShared: the verified-token cache hands every request
// its own session; handlers editing Metadata (nested values included) of
// the same token at once do not race (go test -race), and no edit is seen
// by another request.
func TestCachedSessionNotShared(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	token := issue(t, a, &User{Identifier: "ada", Metadata: map[string]any{
		"role": "admin", "n": 1, "nested": map[string]any{"k": "v"}, "list": []any{"a", map[string]any{"x": 1}},
	}})
	h := a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := UserFrom(r.Context())
		if u.Metadata["role"] != "admin" || u.Metadata["nested"].(map[string]any)["k"] != "v" {
			t.Errorf("another request's edit is visible: %v", u.Metadata)
		}
		u.Metadata["role"] = "edited"
		u.Metadata["nested"].(map[string]any)["k"] = "edited"
		u.Metadata["list"].([]any)[1].(map[string]any)["x"] = "edited"
		u.DisplayName = "edited"
	}))
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 20 {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, userRequest(a, token))
				if rec.Code != http.StatusOK {
					t.Errorf("status %d", rec.Code)
				}
				s, err := a.VerifyToken(t.Context(), token)
				if err != nil {
					t.Error(err)
					return
				}
				if s.User.Metadata["role"] != "admin" || s.User.DisplayName != "" {
					t.Errorf("VerifyToken returned an edited user: %+v", s.User)
				}
				s.User.Metadata["role"] = "edited too"
			}
		})
	}
	wg.Wait()
}

// TestSessionLastsItsConfiguredTime: JWT times are whole seconds, and a
// session lasts at least its configured time: exp rounds up, so a 3 s
// session started 0.97 s into a second is still valid 2.99 s later (it
// once ended after 2.03 s), and ends within a second after.
func TestSessionLastsItsConfiguredTime(t *testing.T) {
	for _, cfg := range []Config{
		{Session: SessionConfig{Timeout: 3 * time.Second}},
		{Session: SessionConfig{Timeout: time.Hour, IdleTimeout: 3 * time.Second}},
	} {
		a, clk, _ := newTestAuth(t, cfg)
		clk.Advance(970 * time.Millisecond)
		start := clk.Now()
		token, s, err := a.IssueToken(&User{Identifier: "ada"})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.ExpiresAt.Sub(start); got < 3*time.Second || got >= 4*time.Second {
			t.Errorf("%+v: session lasts %v, want 3 s up to the next whole second", cfg, got)
		}
		clk.Advance(2990 * time.Millisecond)
		if _, err := a.VerifyToken(t.Context(), token); err != nil {
			t.Errorf("%+v: refused %v after its start: %v", cfg, clk.Now().Sub(start), err)
		}
		clk.Advance(time.Second)
		if _, err := a.VerifyToken(t.Context(), token); !errors.Is(err, ErrExpired) {
			t.Errorf("%+v: %v after its start: %v, want ErrExpired", cfg, clk.Now().Sub(start), err)
		}
	}
}

// malformedTokenCases are the bad session tokens, each sent three ways.
func malformedTokenCases() []badCase {
	// Tokens, each sent three ways: session cookie and Bearer on GET
	// /user, Bearer on POST /auth/jwt.
	type badToken struct {
		name        string
		token       func(t *testing.T, app *badApp) string
		reason      string
		status      int // 401 unless set
		userDetail  string
		loginDetail string
	}
	tokens := []badToken{
		{name: "truncated_signature", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			v := app.valid(t)
			return v[:len(v)-5]
		}},
		{name: "truncated_half", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			v := app.valid(t)
			return v[:len(v)/2]
		}},
		{name: "two_segments", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			v := app.valid(t)
			return v[:strings.LastIndexByte(v, '.')]
		}},
		{name: "base64_padding", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			// Correctly signed, but every segment padded with "=".
			c := app.claims()
			for pad := ""; ; pad += "x" {
				c["pad"] = pad
				if b, _ := json.Marshal(c); len(b)%3 != 0 {
					break
				}
			}
			tok := signSegments(base64.URLEncoding, segment(base64.URLEncoding, hs256), segment(base64.URLEncoding, c))
			if strings.Count(tok, "=") < 2 {
				t.Fatalf("token not padded: %s", tok)
			}
			return tok
		}},
		{name: "base64_std_alphabet", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			// Correctly signed, segments in the standard alphabet (+ and /).
			c := app.with(func(c map[string]any) { c["metadata"] = map[string]any{"q": "?????????~~~~~~~~~"} })
			payload := segment(base64.RawStdEncoding, c)
			if !strings.ContainsAny(payload, "+/") {
				t.Fatalf("payload has neither + nor /: %s", payload)
			}
			return signSegments(base64.RawStdEncoding, segment(base64.RawStdEncoding, hs256), payload)
		}},
		{name: "base64_invalid_chars", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			// Correctly signed over a payload segment with "!" and "*".
			p := segment(base64.RawURLEncoding, app.claims())
			return signSegments(base64.RawURLEncoding, segment(base64.RawURLEncoding, hs256), p[:10]+"!*"+p[10:])
		}},
		{name: "alg_none", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return signHMAC(t, testSecret, map[string]any{"alg": "none", "typ": "JWT"}, app.claims())
		}},
		{name: "alg_none_with_signature", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return rawToken(map[string]any{"alg": "none", "typ": "JWT"}, app.claims(), testSecret)
		}},
		{name: "alg_HS512_with_secret", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return signHMAC(t, testSecret, map[string]any{"alg": "HS512", "typ": "JWT"}, app.claims())
		}},
		{name: "alg_RS256_signed_with_secret", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return signHMAC(t, testSecret, map[string]any{"alg": "RS256", "typ": "JWT"}, app.claims())
		}},
		{name: "claims_100KB", reason: reasonTooLarge, status: http.StatusRequestHeaderFieldsTooLarge,
			userDetail: dTooLarge, loginDetail: dTooLarge, token: func(t *testing.T, app *badApp) string {
				// Correctly signed, 100 KB of metadata.
				// IssueToken refuses a token beyond the cookie budget.
				tok := rawToken(hs256, app.with(func(c map[string]any) {
					c["metadata"] = map[string]any{"blob": strings.Repeat("b", 100<<10)}
				}), testSecret)
				if len(tok) < 100<<10 {
					t.Fatalf("token of %d bytes", len(tok))
				}
				return tok
			}},
		{name: "exp_missing", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return rawToken(hs256, app.with(func(c map[string]any) { delete(c, "exp") }), testSecret)
		}},
		{name: "exp_past", reason: reasonExpired, token: func(t *testing.T, app *badApp) string {
			now := app.clk.Now()
			return rawToken(hs256, app.with(func(c map[string]any) {
				c["iat"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
			}), testSecret)
		}},
		{name: "exp_non_numeric", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return rawToken(hs256, app.with(func(c map[string]any) { c["exp"] = "tomorrow" }), testSecret)
		}},
		{name: "exp_null", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return rawToken(hs256, app.with(func(c map[string]any) { c["exp"] = nil }), testSecret)
		}},
		{name: "exp_1e300", reason: reasonExpired, token: func(t *testing.T, app *badApp) string {
			return rawToken(hs256, app.with(func(c map[string]any) { c["exp"] = 1e300 }), testSecret)
		}},
		{name: "kid_unknown", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return rawToken(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "no-such-kid"}, app.claims(), testSecret)
		}},
		{name: "kid_not_a_string", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return rawToken(map[string]any{"alg": "HS256", "typ": "JWT", "kid": 42}, app.claims(), testSecret)
		}},
		{name: "identifier_missing", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return rawToken(hs256, app.with(func(c map[string]any) { delete(c, "identifier") }), testSecret)
		}},
		{name: "other_secret", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return rawToken(hs256, app.claims(), []byte("another-secret-of-at-least-32-bytes!"))
		}},
	}
	var cases []badCase
	for _, tk := range tokens {
		status, userDetail, loginDetail := tk.status, tk.userDetail, tk.loginDetail
		if status == 0 {
			status, userDetail, loginDetail = http.StatusUnauthorized, dSession, dToken
		}
		cases = append(cases,
			badCase{name: tk.name + "/cookie", req: userCookie(tk.token), status: status, detail: userDetail, reason: tk.reason},
			badCase{name: tk.name + "/bearer", req: userBearer(tk.token), status: status, detail: userDetail, reason: tk.reason},
			badCase{name: tk.name + "/jwt_login", req: jwtLoginWith(tk.token), status: status, detail: loginDetail, reason: tk.reason},
		)
	}

	// Accepted, as PyJWT does (int("1741064827")): only a holder of the
	// secret can sign it.
	cases = append(cases, badCase{name: "exp_numeric_string/cookie", status: 200, user: "ada", reason: reasonOK,
		req: userCookie(func(t *testing.T, app *badApp) string {
			return rawToken(hs256, app.with(func(c map[string]any) {
				c["exp"] = strconv.FormatInt(app.clk.Now().Add(time.Hour).Unix(), 10)
			}), testSecret)
		})})
	return cases
}

// TestMalformedTokens: truncated, re-encoded, re-signed or forged session
// tokens are refused on every route that reads one.
func TestMalformedTokens(t *testing.T) { runBadCases(t, malformedTokenCases()) }

// TestForgedHeadersConcurrent checks that tokens with distinct forged headers, sent
// at once to one Auth, are each refused; under -race this also checks the
// fast path's cache of headers.
func TestForgedHeadersConcurrent(t *testing.T) {
	app := newBadApp(t, Config{})
	const workers, each = 4, 40
	errs := make(chan string, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				head := map[string]any{"alg": "HS256", "typ": "JWT", "kid": fmt.Sprintf("forged-%d-%d", w, i)}
				req := badGet("/user")
				req.AddCookie(&http.Cookie{Name: "access_token", Value: rawToken(head, app.claims(), testSecret)})
				rec := httptest.NewRecorder()
				app.mux.ServeHTTP(rec, req)
				if body := strings.TrimSpace(rec.Body.String()); rec.Code != 401 || body != `{"detail":"`+dSession+`"}` {
					errs <- fmt.Sprintf("%d %s", rec.Code, body)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("forged header: %s", e)
	}
}

// TestSecuritySessionToken covers RFC 8725 3.2, 3.5, 3.6 and 3.11 and
// ASVS 7.2.3 and 14.2.1 for the session JWT.
func TestSecuritySessionToken(t *testing.T) {
	a := passwordApp(t, Config{})
	t.Run("issued_header_is_alg_kid_typ", func(t *testing.T) {
		// HS256 only, typ JWT as Chainlit (PyJWT) writes it, no zip, no
		// jku/jwk/x5u: nothing a reader could be told to trust.
		tok, _, err := a.IssueToken(&User{Identifier: "ada", Metadata: map[string]any{"big": strings.Repeat("x", 500)}})
		if err != nil {
			t.Fatal(err)
		}
		h := testutil.JWTPart(t, tok, 0)
		if len(h) != 3 || h["alg"] != "HS256" || h["typ"] != "JWT" || h["kid"] == "" {
			t.Errorf("header %v, want exactly alg HS256, typ JWT, kid", h)
		}
	})
	t.Run("claims_are_UTF-8", func(t *testing.T) {
		// Invalid bytes in user data never reach the token as such.
		tok, _, err := a.IssueToken(&User{Identifier: "ada\xff", DisplayName: "A\xc0da", Metadata: map[string]any{"k\xfe": "v\xff"}})
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
			_, s, err := a.IssueToken(&User{Identifier: "ada"})
			if err != nil {
				t.Fatal(err)
			}
			testutil.WantRandomBytes(t, "jti", s.ID, 16)
			if seen[s.ID] {
				t.Fatalf("jti %q repeated", s.ID)
			}
			seen[s.ID] = true
		}
	})
	t.Run("key_of_at_least_32_bytes", func(t *testing.T) {
		short := []byte(strings.Repeat("k", 31))
		if _, err := New(Config{Secret: short}); err == nil {
			t.Error("New accepted a 31-byte secret")
		}
		// A short previous secret (a Chainlit deployment's) only verifies
		// the sessions it signed; an empty one is refused.
		if _, err := New(Config{Secret: testSecret, PreviousSecrets: [][]byte{{}}}); err == nil {
			t.Error("New accepted an empty previous secret")
		}
		if err := a.SetSecrets(short); err == nil {
			t.Error("SetSecrets accepted a 31-byte secret")
		}
	})
	t.Run("never_read_from_the_URL", func(t *testing.T) {
		tok, _, err := a.IssueToken(&User{Identifier: "ada"})
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
