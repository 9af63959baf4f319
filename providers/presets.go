// Package providers holds chatauth's OAuth provider presets: the endpoints,
// scopes and user mapping of every provider Chainlit supports, and FromEnv,
// which builds them from Chainlit's OAUTH_* variables. Each preset returns
// a *chatauth.Provider for (*chatauth.Auth).AddProvider; every field can
// be changed before (endpoint overrides for tests or sovereign clouds).
//
// Presets built in Go map users with VerifiedUser, the collision-safe rule
// for new apps; FromEnv uses ChainlitUser, so that a .env Chainlit ran on
// keeps its users' identifiers (see UseChainlitIdentity). Every preset
// sends the client credentials in the token request's form
// (oauth2.AuthStyleInParams): Chainlit does, so a registration that worked
// with Chainlit works here, and each of these providers documents it.
package providers

import (
	"strings"

	"golang.org/x/oauth2"

	"github.com/chatauth/chatauth"
)

// GitHub is github.com. Its user data is GitHub's /user answer plus
// "emails", the /user/emails list (as Chainlit gives it); the subject is
// the numeric user id. Chainlit's identifier is the login; the verified one
// the verified primary e-mail. For GitHub Enterprise, set AuthURL, TokenURL
// and UserInfoURL. FromEnv reads OAUTH_GITHUB_CLIENT_ID,
// OAUTH_GITHUB_CLIENT_SECRET and, for GitHub Enterprise,
// OAUTH_GITHUB_AUTH_URL, OAUTH_GITHUB_TOKEN_URL, OAUTH_GITHUB_USER_INFO_URL.
func GitHub(clientID, clientSecret string) *chatauth.Provider {
	return UseVerifiedIdentity(&chatauth.Provider{
		ID: "github", ClientID: clientID, ClientSecret: clientSecret,
		Name: "GitHub", Preset: "github",
		AuthURL:     "https://github.com/login/oauth/authorize",
		TokenURL:    "https://github.com/login/oauth/access_token",
		UserInfoURL: "https://api.github.com/user",
		AuthStyle:   oauth2.AuthStyleInParams,
		Scopes:      []string{"user:email"},
		FetchUser:   fetchGitHubUser,
	})
}

// Google is Google's OpenID provider. Its user data is Google's
// userinfo/v2/me answer (id, email, verified_email, name, picture..., as
// Chainlit reads it) over the verified id_token's claims. FromEnv reads
// OAUTH_GOOGLE_CLIENT_ID and OAUTH_GOOGLE_CLIENT_SECRET.
func Google(clientID, clientSecret string) *chatauth.Provider {
	return UseVerifiedIdentity(&chatauth.Provider{
		ID: "google", ClientID: clientID, ClientSecret: clientSecret,
		Name: "Google", Preset: "google",
		AuthURL:     "https://accounts.google.com/o/oauth2/v2/auth",
		TokenURL:    "https://oauth2.googleapis.com/token",
		UserInfoURL: "https://www.googleapis.com/userinfo/v2/me",
		Issuer:      "https://accounts.google.com",
		JWKSURL:     "https://www.googleapis.com/oauth2/v3/certs",
		AuthStyle:   oauth2.AuthStyleInParams,
		Scopes:      []string{"openid", "email", "profile"},
		AuthParams:  map[string]string{"access_type": "offline"},
	})
}

// AzureADOptions configures AzureAD.
type AzureADOptions struct {
	// Tenant is the directory (tenant) id, or a domain such as
	// "contoso.onmicrosoft.com"; used only with SingleTenant.
	Tenant string
	// ClientID and ClientSecret are the app registration's credentials.
	ClientID, ClientSecret string
	// SingleTenant uses the tenant's endpoints; otherwise "common" (any
	// organisation).
	SingleTenant bool
	// Hybrid is Chainlit's Azure AD hybrid flow: OpenID, the callback a
	// form_post carrying code and id_token, state and nonce checked and
	// the id_token verified against Microsoft's keys. Its provider ID is
	// "azure-ad-hybrid".
	Hybrid bool
}

// AzureAD is Microsoft Entra ID through Microsoft Graph. Its user data is
// Graph's /me answer plus "image", the user's 48x48 photo as a data URL
// when there is one (fetched as Chainlit does, best effort: a few seconds
// and 4 KiB at most). Chainlit's identifier is the userPrincipalName; the
// verified one "azure-ad:<object id>" (Graph's object id is the subject of
// both flows), since user principal names are chosen by each tenant's
// admins. With Hybrid, a single tenant given by domain is fine: the
// id_token's issuer, which names the tenant's id, is read from the
// tenant's discovery document. FromEnv reads OAUTH_AZURE_AD_CLIENT_ID,
// OAUTH_AZURE_AD_CLIENT_SECRET, OAUTH_AZURE_AD_TENANT_ID,
// OAUTH_AZURE_AD_ENABLE_SINGLE_TENANT and OAUTH_AZURE_AD_SCOPES, and the
// same with OAUTH_AZURE_AD_HYBRID_ for Hybrid.
func AzureAD(o AzureADOptions) *chatauth.Provider {
	tenant := "common"
	if o.SingleTenant {
		tenant = o.Tenant
	}
	base := "https://login.microsoftonline.com/" + tenant
	p := &chatauth.Provider{
		ID: "azure-ad", ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		Name: "Microsoft", Preset: "azure-ad",
		AuthURL:     base + "/oauth2/v2.0/authorize",
		TokenURL:    base + "/oauth2/v2.0/token",
		UserInfoURL: "https://graph.microsoft.com/v1.0/me",
		AuthStyle:   oauth2.AuthStyleInParams,
		Scopes:      []string{"https://graph.microsoft.com/User.Read", "offline_access"},
		AuthParams:  map[string]string{"response_mode": "query"},
		FetchUser:   fetchGraphUser,
	}
	if o.Hybrid {
		p.ID, p.Preset = "azure-ad-hybrid", "azure-ad-hybrid"
		p.Issuer = "https://login.microsoftonline.com/{tenantid}/v2.0"
		if o.SingleTenant {
			p.Issuer = "https://login.microsoftonline.com/" + o.Tenant + "/v2.0"
		}
		p.IssuerFromDiscovery = o.SingleTenant
		p.JWKSURL = base + "/discovery/v2.0/keys"
		p.Scopes = []string{"openid", "profile", "email", "offline_access", "https://graph.microsoft.com/User.Read"}
		p.ResponseMode = "form_post"
		p.AuthParams = map[string]string{"response_type": "code id_token"}
	}
	return UseVerifiedIdentity(p)
}

// OktaOptions configures Okta.
type OktaOptions struct {
	// Domain is the Okta org's domain ("example.okta.com") or origin; a
	// custom domain is fine.
	Domain string
	// ClientID and ClientSecret are the app's credentials.
	ClientID, ClientSecret string
	// AuthorizationServer is the id of a custom authorization server
	// ("default", "aus123..."); empty is the org authorization server.
	AuthorizationServer string
}

// Okta is an Okta org. A custom domain is fine: the issuer it signs with
// is read from its discovery document when it is not the domain's.
// FromEnv reads OAUTH_OKTA_CLIENT_ID, OAUTH_OKTA_CLIENT_SECRET,
// OAUTH_OKTA_DOMAIN and OAUTH_OKTA_AUTHORIZATION_SERVER_ID, as Chainlit
// does: unset is "default", "false" the org server.
func Okta(o OktaOptions) *chatauth.Provider {
	origin := httpsOrigin(o.Domain)
	issuer, api := origin, origin+"/oauth2"
	if o.AuthorizationServer != "" {
		issuer = origin + "/oauth2/" + o.AuthorizationServer
		api = issuer
	}
	return UseVerifiedIdentity(&chatauth.Provider{
		ID: "okta", ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		Name: "Okta", Preset: "okta",
		AuthURL:             api + "/v1/authorize",
		TokenURL:            api + "/v1/token",
		UserInfoURL:         api + "/v1/userinfo",
		Issuer:              issuer,
		IssuerFromDiscovery: true,
		JWKSURL:             api + "/v1/keys",
		AuthStyle:           oauth2.AuthStyleInParams,
		Scopes:              []string{"openid", "profile", "email"},
	})
}

// Auth0Options configures Auth0.
type Auth0Options struct {
	// Domain is the tenant's domain ("example.us.auth0.com") or a custom
	// domain.
	Domain string
	// ClientID and ClientSecret are the app's credentials.
	ClientID, ClientSecret string
	// OriginalDomain, when the tenant is reached through a custom domain,
	// is the tenant's own domain (for the userinfo audience), as in
	// Chainlit.
	OriginalDomain string
}

// Auth0 is an Auth0 tenant. FromEnv reads OAUTH_AUTH0_CLIENT_ID,
// OAUTH_AUTH0_CLIENT_SECRET, OAUTH_AUTH0_DOMAIN and
// OAUTH_AUTH0_ORIGINAL_DOMAIN.
func Auth0(o Auth0Options) *chatauth.Provider {
	origin := httpsOrigin(o.Domain)
	original := origin
	if o.OriginalDomain != "" {
		original = httpsOrigin(o.OriginalDomain)
	}
	return UseVerifiedIdentity(&chatauth.Provider{
		ID: "auth0", ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		Name: "Auth0", Preset: "auth0",
		AuthURL:             origin + "/authorize",
		TokenURL:            origin + "/oauth/token",
		UserInfoURL:         original + "/userinfo",
		Issuer:              origin + "/",
		IssuerFromDiscovery: true,
		JWKSURL:             origin + "/.well-known/jwks.json",
		AuthStyle:           oauth2.AuthStyleInParams,
		Scopes:              []string{"openid", "profile", "email"},
		AuthParams:          map[string]string{"audience": original + "/userinfo"},
	})
}

// Descope is Descope's OAuth endpoint. Its id_token issuer depends on the
// project, so it is used as plain OAuth2 with user info; set Issuer and
// JWKSURL to have id_tokens verified. FromEnv reads
// OAUTH_DESCOPE_CLIENT_ID and OAUTH_DESCOPE_CLIENT_SECRET.
func Descope(clientID, clientSecret string) *chatauth.Provider {
	const base = "https://api.descope.com/oauth2/v1"
	return UseVerifiedIdentity(&chatauth.Provider{
		ID: "descope", ClientID: clientID, ClientSecret: clientSecret,
		Name: "Descope", Preset: "descope",
		AuthURL:     base + "/authorize",
		TokenURL:    base + "/token",
		UserInfoURL: base + "/userinfo",
		AuthStyle:   oauth2.AuthStyleInParams,
		Scopes:      []string{"openid", "profile", "email"},
		AuthParams:  map[string]string{"audience": base + "/userinfo"},
	})
}

// CognitoOptions configures Cognito.
type CognitoOptions struct {
	// Domain is the user pool's hosted UI domain
	// ("example.auth.eu-west-1.amazoncognito.com").
	Domain string
	// ClientID and ClientSecret are the app client's credentials.
	ClientID, ClientSecret string
}

// Cognito is an Amazon Cognito user pool's hosted UI. Its issuer names the
// pool, not the domain, so it is used as plain OAuth2 with user info; set
// Issuer and JWKSURL to have id_tokens verified. FromEnv reads
// OAUTH_COGNITO_CLIENT_ID, OAUTH_COGNITO_CLIENT_SECRET,
// OAUTH_COGNITO_DOMAIN and OAUTH_COGNITO_SCOPE.
func Cognito(o CognitoOptions) *chatauth.Provider {
	origin := httpsOrigin(o.Domain)
	return UseVerifiedIdentity(&chatauth.Provider{
		ID: "aws-cognito", ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		Name: "Amazon Cognito", Preset: "aws-cognito",
		AuthURL:     origin + "/login",
		TokenURL:    origin + "/oauth2/token",
		UserInfoURL: origin + "/oauth2/userInfo",
		AuthStyle:   oauth2.AuthStyleInParams,
		Scopes:      []string{"openid", "profile", "email"},
	})
}

// GitLabOptions configures GitLab.
type GitLabOptions struct {
	// Domain is "gitlab.com" or a self-managed GitLab's domain or origin.
	Domain string
	// ClientID and ClientSecret are the application's credentials.
	ClientID, ClientSecret string
}

// GitLab is gitlab.com or a self-managed GitLab. FromEnv reads
// OAUTH_GITLAB_CLIENT_ID, OAUTH_GITLAB_CLIENT_SECRET and
// OAUTH_GITLAB_DOMAIN.
func GitLab(o GitLabOptions) *chatauth.Provider {
	origin := httpsOrigin(o.Domain)
	return UseVerifiedIdentity(&chatauth.Provider{
		ID: "gitlab", ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		Name: "GitLab", Preset: "gitlab",
		AuthURL:             origin + "/oauth/authorize",
		TokenURL:            origin + "/oauth/token",
		UserInfoURL:         origin + "/oauth/userinfo",
		Issuer:              origin,
		IssuerFromDiscovery: true,
		JWKSURL:             origin + "/oauth/discovery/keys",
		AuthStyle:           oauth2.AuthStyleInParams,
		Scopes:              []string{"openid", "profile", "email"},
	})
}

// KeycloakOptions configures Keycloak.
type KeycloakOptions struct {
	// ID names the provider in routes; "keycloak" when empty.
	ID string
	// BaseURL is the Keycloak server's URL ("https://kc.example.com").
	BaseURL string
	// Realm is the realm's name.
	Realm string
	// ClientID and ClientSecret are the client's credentials.
	ClientID, ClientSecret string
}

// Keycloak is a realm of a Keycloak server. A server reached at another
// hostname than the one it signs with (KC_HOSTNAME) is fine: the issuer is
// then read from the realm's discovery document. FromEnv reads
// OAUTH_KEYCLOAK_CLIENT_ID, OAUTH_KEYCLOAK_CLIENT_SECRET,
// OAUTH_KEYCLOAK_REALM, OAUTH_KEYCLOAK_BASE_URL and OAUTH_KEYCLOAK_NAME
// (the ID).
func Keycloak(o KeycloakOptions) *chatauth.Provider {
	id := o.ID
	if id == "" {
		id = "keycloak"
	}
	issuer := strings.TrimRight(o.BaseURL, "/") + "/realms/" + o.Realm
	return UseVerifiedIdentity(&chatauth.Provider{
		ID: id, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		Preset:              "keycloak",
		AuthURL:             issuer + "/protocol/openid-connect/auth",
		TokenURL:            issuer + "/protocol/openid-connect/token",
		UserInfoURL:         issuer + "/protocol/openid-connect/userinfo",
		Issuer:              issuer,
		IssuerFromDiscovery: true,
		JWKSURL:             issuer + "/protocol/openid-connect/certs",
		AuthStyle:           oauth2.AuthStyleInParams,
		Scopes:              []string{"profile", "email", "openid"},
	})
}

// GenericOptions configures Generic.
type GenericOptions struct {
	// ID names the provider in routes; "generic" when empty.
	ID string
	// ClientID and ClientSecret are the app's credentials.
	ClientID, ClientSecret string
	// AuthURL, TokenURL and UserInfoURL are the provider's endpoints.
	AuthURL, TokenURL, UserInfoURL string
	// Scopes are requested at authorization.
	Scopes []string
	// UserIdentifier names the user-info field used as identifier:
	// "email" when empty, and then, under VerifiedUser, only when
	// verified (Provider.IdentifierClaim).
	UserIdentifier string
}

// Generic is any OAuth2 provider with the given endpoints (no OpenID
// checks). FromEnv reads OAUTH_GENERIC_CLIENT_ID,
// OAUTH_GENERIC_CLIENT_SECRET, OAUTH_GENERIC_AUTH_URL,
// OAUTH_GENERIC_TOKEN_URL, OAUTH_GENERIC_USER_INFO_URL,
// OAUTH_GENERIC_SCOPES (one scope parameter, sent as given, commas
// included), OAUTH_GENERIC_USER_IDENTIFIER and OAUTH_GENERIC_NAME (the ID).
func Generic(o GenericOptions) *chatauth.Provider {
	id := o.ID
	if id == "" {
		id = "generic"
	}
	return UseVerifiedIdentity(&chatauth.Provider{
		ID: id, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		Preset:  "generic",
		AuthURL: o.AuthURL, TokenURL: o.TokenURL, UserInfoURL: o.UserInfoURL,
		AuthStyle: oauth2.AuthStyleInParams,
		Scopes:    o.Scopes, IdentifierClaim: o.UserIdentifier,
	})
}

// OIDCOptions configures OIDC.
type OIDCOptions struct {
	// ID names the provider in routes; "oidc" (shown as "OpenID
	// Connect") when empty.
	ID string
	// Issuer is the OpenID issuer; AddProvider reads its discovery
	// document.
	Issuer string
	// ClientID and ClientSecret are the app's credentials.
	ClientID, ClientSecret string
}

// OIDC is any OpenID Connect issuer, configured by discovery in
// AddProvider; its id_tokens are verified against the issuer's keys. It is
// chatauth's own (Chainlit has none), so FromEnv keeps VerifiedUser for
// it. FromEnv reads OAUTH_OIDC_ISSUER, OAUTH_OIDC_CLIENT_ID,
// OAUTH_OIDC_CLIENT_SECRET, OAUTH_OIDC_NAME (the ID), OAUTH_OIDC_SCOPES
// (space- or comma-separated) and OAUTH_OIDC_USER_IDENTIFIER.
func OIDC(o OIDCOptions) *chatauth.Provider {
	id, name := o.ID, ""
	if id == "" {
		id, name = "oidc", "OpenID Connect"
	}
	return UseVerifiedIdentity(&chatauth.Provider{
		ID: id, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		Name: name, Preset: "oidc",
		Issuer: o.Issuer,
		Scopes: []string{"openid", "profile", "email"},
	})
}

// httpsOrigin turns Chainlit's bare domains ("example.okta.com") into an
// origin; a value with a scheme is kept.
func httpsOrigin(domain string) string {
	domain = strings.TrimRight(domain, "/")
	if strings.Contains(domain, "://") {
		return domain
	}
	return "https://" + domain
}
