package providers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/providers"
)

// newAuth is the app of the examples.
func newAuth() *chatauth.Auth {
	a, err := chatauth.New(chatauth.Config{
		Secret:  []byte("a secret of at least thirty-two bytes!!"),
		BaseURL: "https://chat.example.com",
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	a.OnOAuth(func(ctx context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) {
		return l.User, nil
	})
	return a
}

// A chat app with "Sign in with GitHub": the user is the verified
// primary e-mail, or "github:<numeric id>" when GitHub has none verified.
func ExampleGitHub() {
	a, err := chatauth.New(chatauth.Config{
		Secret:  []byte("a secret of at least thirty-two bytes!!"),
		BaseURL: "https://chat.example.com",
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	a.OnOAuth(func(ctx context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) {
		if l.User.Metadata["email_unverified"] == true {
			return nil, nil // this app only admits verified addresses
		}
		return l.User, nil
	})
	gh := providers.GitHub(os.Getenv("OAUTH_GITHUB_CLIENT_ID"), os.Getenv("OAUTH_GITHUB_CLIENT_SECRET"))
	gh.ClientID, gh.ClientSecret = "Iv1.example", "example-secret" // for the example
	if err := a.AddProvider(context.Background(), gh); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Mount(mux) // GET /auth/oauth/github starts the login
	fmt.Println(providerIDs(a))
	// Output: [github]
}

// Google is an OpenID provider: its id_tokens are verified against
// Google's keys, fetched at the first login.
func ExampleGoogle() {
	a := newAuth()
	if err := a.AddProvider(context.Background(), providers.Google("id.apps.googleusercontent.com", "secret")); err != nil {
		log.Fatal(err)
	}
	fmt.Println(providerIDs(a))
	// Output: [google]
}

// Microsoft Entra ID, one tenant; Hybrid would make it Chainlit's
// "azure-ad-hybrid" flow.
func ExampleAzureAD() {
	a := newAuth()
	p := providers.AzureAD(providers.AzureADOptions{
		Tenant:       "contoso.onmicrosoft.com",
		ClientID:     "app-id",
		ClientSecret: "secret",
		SingleTenant: true,
	})
	if err := a.AddProvider(context.Background(), p); err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.ID, p.AuthURL)
	// Output: azure-ad https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize
}

// An Okta org with its "default" authorization server; leave
// AuthorizationServer empty for the org server.
func ExampleOkta() {
	a := newAuth()
	p := providers.Okta(providers.OktaOptions{
		Domain:              "example.okta.com",
		ClientID:            "client-id",
		ClientSecret:        "secret",
		AuthorizationServer: "default",
	})
	if err := a.AddProvider(context.Background(), p); err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Issuer)
	// Output: https://example.okta.com/oauth2/default
}

// An Auth0 tenant reached through a custom domain.
func ExampleAuth0() {
	p := providers.Auth0(providers.Auth0Options{
		Domain:         "login.example.com",
		ClientID:       "client-id",
		ClientSecret:   "secret",
		OriginalDomain: "example.eu.auth0.com",
	})
	fmt.Println(p.AuthURL, p.UserInfoURL)
	// Output: https://login.example.com/authorize https://example.eu.auth0.com/userinfo
}

// Amazon Cognito: the user pool's hosted UI domain, as plain OAuth 2 with
// user info.
func ExampleCognito() {
	p := providers.Cognito(providers.CognitoOptions{
		Domain:       "example.auth.eu-west-1.amazoncognito.com",
		ClientID:     "client-id",
		ClientSecret: "secret",
	})
	fmt.Println(p.ID, p.AuthURL)
	// Output: aws-cognito https://example.auth.eu-west-1.amazoncognito.com/login
}

// GitLab.com or a self-managed GitLab, an OpenID issuer at its own origin.
func ExampleGitLab() {
	p := providers.GitLab(providers.GitLabOptions{
		Domain:       "gitlab.example.com",
		ClientID:     "application-id",
		ClientSecret: "secret",
	})
	fmt.Println(p.ID, p.Issuer)
	// Output: gitlab https://gitlab.example.com
}

// Descope needs only the project's client credentials.
func ExampleDescope() {
	p := providers.Descope("project-id", "access-key")
	fmt.Println(p.ID, p.Name)
	// Output: descope Descope
}

// A Keycloak realm, under an ID of the app's choice.
func ExampleKeycloak() {
	a := newAuth()
	p := providers.Keycloak(providers.KeycloakOptions{
		ID:           "corp",
		BaseURL:      "https://sso.example.com",
		Realm:        "staff",
		ClientID:     "chat",
		ClientSecret: "secret",
	})
	if err := a.AddProvider(context.Background(), p); err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.ID, p.Issuer)
	// Output: corp https://sso.example.com/realms/staff
}

// Any OAuth 2 API with a user-info endpoint; here its "username" is the
// identifier.
func ExampleGeneric() {
	a := newAuth()
	p := providers.Generic(providers.GenericOptions{
		ID:             "forge",
		ClientID:       "client-id",
		ClientSecret:   "secret",
		AuthURL:        "https://forge.example.com/oauth/authorize",
		TokenURL:       "https://forge.example.com/oauth/token",
		UserInfoURL:    "https://forge.example.com/api/user",
		Scopes:         []string{"read:user"},
		UserIdentifier: "username",
	})
	if err := a.AddProvider(context.Background(), p); err != nil {
		log.Fatal(err)
	}
	fmt.Println(providerIDs(a))
	// Output: [forge]
}

// Any OpenID Connect issuer, configured by discovery: AddProvider reads
// the issuer's /.well-known/openid-configuration once, at start-up, and
// its id_tokens are then verified against the issuer's keys.
func ExampleOIDC() {
	a := newAuth()
	corp := providers.OIDC(providers.OIDCOptions{
		ID:           "corp",
		Issuer:       "https://id.example.com",
		ClientID:     "client-id",
		ClientSecret: "client-secret",
	})
	corp.Prompt = "login" // always ask: no silent re-login after logout
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	if err := a.AddProvider(ctx, corp); err != nil {
		// Here no issuer answers: in a real app this stops the start.
		fmt.Println("provider not added")
	}
	// Output: provider not added
}

// The providers of a Chainlit .env keep Chainlit's identifiers (GitHub's
// login here); a provider whose variables are only partly set is skipped
// with a warning, as Chainlit does, instead of stopping the start.
func ExampleFromEnv() {
	env := map[string]string{ // a Chainlit .env
		"OAUTH_GITHUB_CLIENT_ID":     "Iv1.example",
		"OAUTH_GITHUB_CLIENT_SECRET": "example-secret",
		"OAUTH_GOOGLE_CLIENT_ID":     "left over, without its secret",
	}
	ps, err := providers.FromEnv(func(k string) string { return env[k] },
		providers.SkipPartlyConfigured(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range ps {
		fmt.Println(p.ID, p.Identity)
	}
	// Output: github chainlit: user data "login" as given
}

// The two mappings side by side, on GitHub's answer for a user whose
// primary e-mail is verified.
func ExampleChainlitUser() {
	gh := providers.GitHub("id", "secret")
	raw := map[string]any{"login": "octocat", "id": json.Number("1"), "avatar_url": "https://github.com/o.png",
		"emails": []any{map[string]any{"email": "octocat@github.com", "primary": true, "verified": true}}}
	chainlit, _ := providers.ChainlitUser(gh, raw)
	verified, _ := providers.VerifiedUser(gh, raw)
	fmt.Println(chainlit.Identifier, verified.Identifier)
	// Output: octocat octocat@github.com
}

// providerIDs lists the ids of a's providers, in the order they were added.
func providerIDs(a *chatauth.Auth) []string {
	var ids []string
	for _, p := range a.LoginMethods().Providers {
		ids = append(ids, p.ID)
	}
	return ids
}
