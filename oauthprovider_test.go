package chatauth

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
)

// newOAuthTestAuth returns an Auth with a fixed secret and an OAuth hook
// that accepts the user chatauth would log in.
func newOAuthTestAuth(t *testing.T, cfg Config) *Auth {
	t.Helper()
	if cfg.Secret == nil {
		cfg.Secret = []byte(strings.Repeat("k", 32))
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.OnOAuth(func(_ context.Context, l OAuthLogin) (*User, error) { return l.User, nil })
	return a
}

func TestAddProviderChecks(t *testing.T) {
	a := newOAuthTestAuth(t, Config{})
	err := a.AddProvider(context.Background(), &Provider{ID: "x"})
	if err == nil || !strings.Contains(err.Error(), "ClientID") || !strings.Contains(err.Error(), "ClientSecret") {
		t.Errorf("error %v", err)
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("GET", "/auth/oauth/github", nil))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "Provider github not found") {
		t.Errorf("unknown provider: %d %s", rec.Code, rec.Body)
	}
}

func TestSafeRedirect(t *testing.T) {
	a := newOAuthTestAuth(t, Config{RootPath: "/app"})
	for target, ok := range map[string]bool{
		"/app":                true,
		"/app/":               true,
		"/app/chat?x=1#top":   true,
		"/application":        false,
		"/other":              false,
		"//evil.com/app":      false,
		"/\\evil.com":         false,
		"https://evil.com":    false,
		"javascript:alert(1)": false,
		"/app/%2F%2Fevil.com": true, // stays a path under /app once decoded: //evil.com is inside it
		"/%2F%2Fevil.com":     false,
		"/app/../evil":        false,
		"/app/%2e%2e/evil":    false,
		"/app/\r\nSet-Cookie": false,
		"app/chat":            false,
		"":                    false,
		"/app/\x00":           false,
	} {
		if got := a.safeRedirect(target); got != ok {
			t.Errorf("safeRedirect(%q) = %v, want %v", target, got, ok)
		}
	}
}

// TestDiscoveredAuthStyle: an OpenID issuer's listed token endpoint
// authentication methods pick the style.
func TestDiscoveredAuthStyle(t *testing.T) {
	if got := discoveredAuthStyle([]string{"client_secret_post", "client_secret_basic"}); got != 2 {
		t.Errorf("style %v, want AuthStyleInHeader", got)
	}
	if got := discoveredAuthStyle([]string{"private_key_jwt", "client_secret_post"}); got != 1 {
		t.Errorf("style %v, want AuthStyleInParams", got)
	}
	if got := discoveredAuthStyle(nil); got != 2 {
		t.Errorf("style %v without a list, want OpenID's default AuthStyleInHeader", got)
	}
}

// TestProviderWithoutMapUser: a Provider built by hand without MapUser
// gets the collision-safe rule, and AddProvider's log line says so.
func TestProviderWithoutMapUser(t *testing.T) {
	a := newOAuthTestAuth(t, Config{})
	p := &Provider{ID: "corp"}
	for _, tt := range []struct {
		raw  map[string]any
		want string
	}{
		{map[string]any{"sub": "s1", "email": "ada@example.com", "email_verified": true}, "ada@example.com"},
		{map[string]any{"sub": "s1", "email": "ada@example.com"}, "corp:s1"},
	} {
		u, err := a.mapUser(p, tt.raw)
		if err != nil || u.Identifier != tt.want || u.Metadata["provider"] != "corp" || u.Metadata["subject"] != "s1" {
			t.Errorf("mapUser(%v) = %+v, %v; want identifier %q", tt.raw, u, err, tt.want)
		}
	}
	if _, err := a.mapUser(p, map[string]any{"email": "ada@example.com"}); err == nil {
		t.Error("user data without a subject mapped")
	}
	if d := p.describeIdentity(); !strings.HasPrefix(d, "verified: ") {
		t.Errorf("describeIdentity() = %q", d)
	}
	p.MapUser = func(*Provider, map[string]any) (*User, error) { return &User{Identifier: "x"}, nil }
	if d := p.describeIdentity(); d != "custom MapUser" {
		t.Errorf("describeIdentity() with MapUser = %q", d)
	}
}
