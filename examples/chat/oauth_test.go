package main

import (
	"io"
	"net/http/httptest"
	"slices"
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
	t.Cleanup(func() { _ = s.Close() })
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

// chainlitEnv is a .env a Chainlit app ran on, with every provider Chainlit
// knows.
var chainlitEnv = []string{
	"CHAINLIT_AUTH_SECRET", strings.Repeat("c", 32),
	"CHAINLIT_URL", "https://chat.example.com",
	"OAUTH_PROMPT", "select_account",
	"OAUTH_GITHUB_CLIENT_ID", "Iv1.0123456789abcdef", "OAUTH_GITHUB_CLIENT_SECRET", "gh-secret",
	"OAUTH_GOOGLE_CLIENT_ID", "123-abc.apps.googleusercontent.com", "OAUTH_GOOGLE_CLIENT_SECRET", "GOCSPX-secret",
	"OAUTH_AZURE_AD_CLIENT_ID", "0b1c2d3e-0000-0000-0000-000000000000", "OAUTH_AZURE_AD_CLIENT_SECRET", "az-secret",
	"OAUTH_AZURE_AD_TENANT_ID", "contoso.onmicrosoft.com", "OAUTH_AZURE_AD_ENABLE_SINGLE_TENANT", "true",
	"OAUTH_AZURE_AD_HYBRID_CLIENT_ID", "0b1c2d3e-0000-0000-0000-000000000001", "OAUTH_AZURE_AD_HYBRID_CLIENT_SECRET", "azh-secret",
	"OAUTH_AZURE_AD_HYBRID_TENANT_ID", "contoso.onmicrosoft.com", "OAUTH_AZURE_AD_HYBRID_ENABLE_SINGLE_TENANT", "true",
	"OAUTH_OKTA_CLIENT_ID", "0oa1", "OAUTH_OKTA_CLIENT_SECRET", "okta-secret", "OAUTH_OKTA_DOMAIN", "dev-1.okta.com",
	"OAUTH_AUTH0_CLIENT_ID", "a0", "OAUTH_AUTH0_CLIENT_SECRET", "a0-secret", "OAUTH_AUTH0_DOMAIN", "tenant.eu.auth0.com",
	"OAUTH_DESCOPE_CLIENT_ID", "P2d", "OAUTH_DESCOPE_CLIENT_SECRET", "ds-secret",
	"OAUTH_COGNITO_CLIENT_ID", "cg", "OAUTH_COGNITO_CLIENT_SECRET", "cg-secret", "OAUTH_COGNITO_DOMAIN", "example.auth.us-east-1.amazoncognito.com",
	"OAUTH_GITLAB_CLIENT_ID", "gl", "OAUTH_GITLAB_CLIENT_SECRET", "gl-secret", "OAUTH_GITLAB_DOMAIN", "gitlab.com",
	"OAUTH_KEYCLOAK_CLIENT_ID", "kc", "OAUTH_KEYCLOAK_CLIENT_SECRET", "kc-secret", "OAUTH_KEYCLOAK_REALM", "main",
	"OAUTH_KEYCLOAK_BASE_URL", "https://sso.example.com", "OAUTH_KEYCLOAK_NAME", "corp-sso",
	"OAUTH_GENERIC_CLIENT_ID", "gen", "OAUTH_GENERIC_CLIENT_SECRET", "gen-secret", "OAUTH_GENERIC_NAME", "strava",
	"OAUTH_GENERIC_AUTH_URL", "https://www.strava.com/oauth/authorize", "OAUTH_GENERIC_TOKEN_URL", "https://www.strava.com/oauth/token",
	"OAUTH_GENERIC_USER_INFO_URL", "https://www.strava.com/api/v3/athlete", "OAUTH_GENERIC_SCOPES", "read,activity:read",
	"OAUTH_GENERIC_USER_IDENTIFIER", "username",
}

// TestChainlitEnvStarts: the demo starts on a Chainlit .env naming every
// provider Chainlit knows, without reaching any of them, lists them all,
// and logs, per provider, that it keeps Chainlit's identifiers.
func TestChainlitEnvStarts(t *testing.T) {
	app := newTestApp(t, env(chainlitEnv...), "")
	resp, err := app.Client().Get(app.URL + "/auth/config")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `"oauthProviders":["auth0","aws-cognito","azure-ad","azure-ad-hybrid","corp-sso","descope","github","gitlab","google","okta","strava"]`
	if !strings.Contains(string(body), want) {
		t.Errorf("config %s, want %s", body, want)
	}
	if n := strings.Count(app.logs.String(), `identity="chainlit: user data`); n != 11 {
		t.Errorf("%d providers log Chainlit's identity rule, want 11:\n%s", n, app.logs)
	}
}

// TestPartlyConfiguredProvider: a provider with only some of its variables
// stops the start, naming what is missing (the contract), unless
// CHATAUTH_OAUTH_PARTIAL=skip, which skips it with one warning, as
// Chainlit does.
func TestPartlyConfiguredProvider(t *testing.T) {
	partial := append(slices.Clone(chainlitEnv), "OAUTH_OKTA_DOMAIN", "") // Okta without its domain
	_, err := newServer(options{Getenv: env(partial...), Stderr: &logBuffer{}})
	if err == nil || !strings.Contains(err.Error(), "OAUTH_OKTA_DOMAIN") || !strings.Contains(err.Error(), "CHATAUTH_OAUTH_PARTIAL=skip") {
		t.Fatalf("newServer error %v, want one naming OAUTH_OKTA_DOMAIN and the way to skip", err)
	}
	app := newTestApp(t, env(append(partial, "CHATAUTH_OAUTH_PARTIAL", "skip")...), "")
	resp, err := app.Client().Get(app.URL + "/auth/config")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), `"okta"`) || !strings.Contains(string(body), `"github"`) {
		t.Errorf("config %s: okta should be skipped, the others kept", body)
	}
	if logs := app.logs.String(); !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "provider=okta missing=OAUTH_OKTA_DOMAIN") {
		t.Errorf("no warning naming okta's missing variable:\n%s", logs)
	}
	if _, err := newServer(options{Getenv: env("CHATAUTH_OAUTH_PARTIAL", "sometimes"), Stderr: &logBuffer{}}); err == nil {
		t.Error("CHATAUTH_OAUTH_PARTIAL=sometimes accepted")
	}
}
