package main

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chatauth/chatauth/chatauthtest"
)

// TestOIDCLoginFromEnv configures the demo with OAUTH_OIDC_* pointing at a
// real in-process OpenID provider: its button is listed and a login works.
func TestOIDCLoginFromEnv(t *testing.T) {
	idp := chatauthtest.NewProvider(t)
	env := map[string]string{
		"CHAINLIT_AUTH_SECRET":     strings.Repeat("e", 32),
		"CHATAUTH_DEMO_USERS":      "alice:pw1",
		"OAUTH_OIDC_ISSUER":        idp.Issuer,
		"OAUTH_OIDC_CLIENT_ID":     idp.ClientID,
		"OAUTH_OIDC_CLIENT_SECRET": idp.ClientSecret,
		"OAUTH_OIDC_NAME":          "corp",
	}
	s, err := newServer(options{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/auth/config")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"oauthProviders":["corp"]`) {
		t.Fatalf("config %s", body)
	}
	c := idp.LoginClient(t, srv.URL, "corp")
	resp, err = c.Get(srv.URL + "/user")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/user after OIDC login: %d", resp.StatusCode)
	}
}
