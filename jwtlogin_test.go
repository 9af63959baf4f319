package chatauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func jwtRequest(authorization string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/auth/jwt", nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return req
}

func TestJWTLoginFailures(t *testing.T) {
	a, clk, logs := newTestAuth(t, Config{})
	valid := issue(t, a, &User{Identifier: "ada"})
	revoked := issue(t, a, &User{Identifier: "bob"})
	s, _ := a.VerifyToken(context.Background(), revoked)
	a.cfg.Revocations.Revoke(context.Background(), Revocation{ID: s.ID, User: s.User.Identifier, Expires: s.ExpiresAt})

	tests := []struct {
		name, authorization, detail, reason string
	}{
		{"missing", "", "Authorization header missing", "header_missing"},
		{"basic scheme", "Basic YWRhOnB3", "Invalid authentication scheme. Please use Bearer", "bad_scheme"},
		{"token scheme", "Token " + valid, "Invalid authentication scheme. Please use Bearer", "bad_scheme"},
		{"bearer without token", "Bearer", "Invalid authorization header format", "bad_header_format"},
		{"bearer with space only", "Bearer ", "Invalid authorization header format", "bad_header_format"},
		{"three parts", "Bearer " + valid + " extra", "Invalid authorization header format", "bad_header_format"},
		{"garbage", "Bearer garbage", "Invalid token", "invalid_token"},
		{"tampered", "Bearer " + valid[:len(valid)-3] + "abc", "Invalid token", "invalid_token"},
		{"expired", "Bearer " + chainlitToken(t, testSecret, clk.Now().Add(-time.Hour), time.Minute), "Invalid token", "expired"},
		{"revoked", "Bearer " + revoked, "Invalid token", "revoked"},
		{"other secret", "Bearer " + chainlitToken(t, []byte("x-other-secret-0123456789abcdef012345"), clk.Now(), time.Hour), "Invalid token", "invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := serve(t, a, jwtRequest(tt.authorization))
			wantError(t, resp, http.StatusUnauthorized, tt.detail)
			if len(resp.Cookies()) != 0 {
				t.Errorf("cookies set: %v", resp.Cookies())
			}
			if !strings.Contains(logs.String(), "auth.reason="+tt.reason) {
				t.Errorf("reason %s not logged", tt.reason)
			}
		})
	}
}

func TestJWTLoginOversizedToken(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	resp := serve(t, a, jwtRequest("Bearer "+strings.Repeat("a", 1<<20)))
	if resp.StatusCode < 400 || resp.StatusCode > 499 {
		t.Errorf("huge Authorization header: %d, want 4xx", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestJWTLoginKeepsPresentedExpiry(t *testing.T) {
	for _, tt := range []struct {
		name  string
		token func(a *Auth, now time.Time) string
	}{
		{"Chainlit token", func(a *Auth, now time.Time) string { return chainlitToken(t, testSecret, now, 2*time.Hour) }},
		{"own token", func(a *Auth, now time.Time) string {
			tok, _, err := a.issueToken(&User{Identifier: "ada@example.com"}, grant{issued: now, expires: now.Add(2 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, clk, _ := newTestAuth(t, Config{})
			start := clk.Now()
			presented := tt.token(a, start)
			for _, elapsed := range []time.Duration{0, 30 * time.Minute, 2*time.Hour - time.Second} {
				clk.Advance(elapsed - clk.Now().Sub(start))
				for _, scheme := range []string{"Bearer ", "bearer "} {
					resp := serve(t, a, jwtRequest(scheme+presented))
					wantSuccess(t, resp)
					c := cookieNamed(resp, "access_token")
					if c == nil {
						t.Fatal("no session cookie")
					}
					if want := int((2*time.Hour - elapsed) / time.Second); c.MaxAge != want {
						t.Errorf("after %v: Max-Age %d, want %d", elapsed, c.MaxAge, want)
					}
					s, err := a.VerifyToken(context.Background(), c.Value)
					if err != nil {
						t.Fatal(err)
					}
					if !s.ExpiresAt.Equal(start.Add(2*time.Hour)) || s.User.Identifier != "ada@example.com" {
						t.Errorf("session cookie: exp %v user %q, want exp %v", s.ExpiresAt, s.User.Identifier, start.Add(2*time.Hour))
					}
					if !c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteLaxMode {
						t.Errorf("cookie attributes %s", c)
					}
				}
			}
			clk.Advance(time.Second)
			wantError(t, serve(t, a, jwtRequest("Bearer "+presented)), http.StatusUnauthorized, "Invalid token")
		})
	}
}

func TestJWTLoginRunsPersistHook(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{})
	a.OnPersist(func(_ context.Context, u *User) (*User, error) {
		stored := *u
		stored.ID = "db-1"
		return &stored, nil
	})
	resp := serve(t, a, jwtRequest("Bearer "+chainlitToken(t, testSecret, clk.Now(), time.Hour)))
	wantSuccess(t, resp)
	s, err := a.VerifyToken(context.Background(), cookieNamed(resp, "access_token").Value)
	if err != nil || s.User.ID != "db-1" {
		t.Errorf("session user %+v, %v", s, err)
	}
}

func TestBearerToken(t *testing.T) {
	for _, tt := range []struct {
		header, token string
		err           error
	}{
		{"Bearer abc", "abc", nil},
		{"bearer abc", "abc", nil},
		{"BEARER abc", "abc", nil},
		{"Bearer  abc ", "abc", nil},
		{"", "", errNoAuthorization},
		{"Bearer", "", errBadAuthFormat},
		{"Bearer ", "", errBadAuthFormat},
		{"Bearer a b", "", errBadAuthFormat},
		{"Basic abc", "", errNotBearer},
		{"abc", "", errBadAuthFormat},
		{"Basic a b", "", errBadAuthFormat},
	} {
		token, err := bearerToken(tt.header)
		if token != tt.token || err != tt.err {
			t.Errorf("bearerToken(%q) = %q, %v; want %q, %v", tt.header, token, err, tt.token, tt.err)
		}
	}
}

func TestJWTLoginPersistHookCannotChangeCachedSessions(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{})
	a.OnPersist(func(_ context.Context, u *User) (*User, error) {
		u.DisplayName = "changed"
		u.Metadata["role"] = "admin"
		return u, nil
	})
	token := chainlitToken(t, testSecret, clk.Now(), time.Hour)
	if _, err := a.VerifyToken(context.Background(), token); err != nil { // now cached
		t.Fatal(err)
	}
	wantSuccess(t, serve(t, a, jwtRequest("Bearer "+token)))
	s, err := a.VerifyToken(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if s.User.DisplayName != "Ada Lovelace" || s.User.Metadata["role"] != nil {
		t.Errorf("presented token's cached user changed by the hook: %+v", s.User)
	}
}

// unreadBodyCases are bodies sent to routes that do not read them.
func unreadBodyCases() []badCase {
	return []badCase{
		{name: "jwt_login_body_1MB", status: 401, detail: dNoAuthzHdr, reason: reasonNoHeader,
			req: fixed(func() *http.Request {
				req := httptest.NewRequest(http.MethodPost, "/auth/jwt", strings.NewReader(`{"token":"`+strings.Repeat("t", 1<<20)+`"}`))
				req.Header.Set("Content-Type", "application/json")
				return req
			})},
		{name: "jwt_login_body_malformed", status: 401, detail: dNoAuthzHdr, reason: reasonNoHeader,
			req: fixed(func() *http.Request {
				req := httptest.NewRequest(http.MethodPost, "/auth/jwt", strings.NewReader(`{"token":`))
				req.Header.Set("Content-Type", "application/json")
				return req
			})},
		{name: "jwt_login_token_in_body", status: 401, detail: dNoAuthzHdr, reason: reasonNoHeader,
			req: func(t *testing.T, app *badApp) *http.Request {
				req := httptest.NewRequest(http.MethodPost, "/auth/jwt", strings.NewReader(`{"token":"`+app.valid(t)+`"}`))
				req.Header.Set("Content-Type", "application/json")
				return req
			}},
		{name: "header_login_body_1MB", status: 401, detail: dCreds, reason: reasonCredentials,
			req: fixed(func() *http.Request {
				return httptest.NewRequest(http.MethodPost, "/auth/header", strings.NewReader(strings.Repeat("{", 1<<20)))
			})},
		{name: "logout_body_1MB", status: 200, reason: reasonOK,
			req: fixed(func() *http.Request {
				return httptest.NewRequest(http.MethodPost, "/logout", strings.NewReader(strings.Repeat("[", 1<<20)))
			})},
	}
}

// TestUnreadRequestBodies: large or malformed bodies sent to routes that
// do not read them change nothing.
func TestUnreadRequestBodies(t *testing.T) { runBadCases(t, unreadBodyCases()) }
