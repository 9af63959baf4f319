package loginpage

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/providers"
)

// testSecret signs the sessions of the tests.
var testSecret = []byte("loginpage-test-secret-0123456789abcdef")

// newAuth is a quiet Auth on cfg (Secret filled in).
func newAuth(t testing.TB, cfg chatauth.Config) *chatauth.Auth {
	t.Helper()
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := chatauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// withPassword turns on password login: "ada" with "right".
func withPassword(a *chatauth.Auth) {
	a.OnPassword(func(_ context.Context, username, password string) (*chatauth.User, error) {
		if username == "ada" && password == "right" {
			return &chatauth.User{Identifier: "ada"}, nil
		}
		return nil, nil
	})
}

// withHeader turns on header login from X-User.
func withHeader(a *chatauth.Auth) {
	a.OnHeaderCredential(func(_ context.Context, h http.Header) (*chatauth.User, error) {
		if u := h.Get("X-User"); u != "" {
			return &chatauth.User{Identifier: u}, nil
		}
		return nil, nil
	})
}

// withProviders turns on OAuth with providers, made routable without
// network by clearing what would need discovery.
func withProviders(t testing.TB, a *chatauth.Auth, providers ...*chatauth.Provider) {
	t.Helper()
	a.OnOAuth(func(_ context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) { return l.User, nil })
	for _, p := range providers {
		if p.AuthURL == "" {
			p.AuthURL, p.TokenURL, p.Issuer = "https://idp.example/auth", "https://idp.example/token", ""
		}
		if err := a.AddProvider(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
}

// everyPreset is one provider of each of chatauth's twelve presets.
func everyPreset() []*chatauth.Provider {
	return []*chatauth.Provider{
		providers.GitHub("id", "s"), providers.Google("id", "s"),
		providers.AzureAD(providers.AzureADOptions{Tenant: "t", ClientID: "id", ClientSecret: "s"}),
		providers.AzureAD(providers.AzureADOptions{Tenant: "t", ClientID: "id", ClientSecret: "s", Hybrid: true}),
		providers.Okta(providers.OktaOptions{Domain: "o.example", ClientID: "id", ClientSecret: "s", AuthorizationServer: "default"}),
		providers.Auth0(providers.Auth0Options{Domain: "a.example", ClientID: "id", ClientSecret: "s"}), providers.Descope("id", "s"),
		providers.Cognito(providers.CognitoOptions{Domain: "c.example", ClientID: "id", ClientSecret: "s"}),
		providers.GitLab(providers.GitLabOptions{Domain: "g.example", ClientID: "id", ClientSecret: "s"}),
		providers.Keycloak(providers.KeycloakOptions{BaseURL: "https://k.example", Realm: "r", ClientID: "id", ClientSecret: "s"}),
		providers.Generic(providers.GenericOptions{ClientID: "id", ClientSecret: "s", AuthURL: "https://g.example/a", TokenURL: "https://g.example/t", UserInfoURL: "https://g.example/u"}),
		providers.OIDC(providers.OIDCOptions{Issuer: "https://o.example", ClientID: "id", ClientSecret: "s"}),
	}
}

// get requests path from h with the given header pairs.
func get(t *testing.T, h http.Handler, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result(), rec.Body.String()
}

// newPage is New that fails the test on error.
func newPage(t *testing.T, a *chatauth.Auth, opts Options) *Page {
	t.Helper()
	p, err := New(a, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// contains fails the test unless body has every want.
func contains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
}
