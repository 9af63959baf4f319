package chatauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// The presets below build a Provider with the endpoints, scopes and user
// mapping of each provider Chainlit supports. Every field can be changed
// before AddProvider (endpoint overrides for tests or sovereign clouds).
// They use VerifiedIdentity unless Identity is set (ProvidersFromEnv sets
// ChainlitIdentity), and send the client credentials in the token request's
// form (oauth2.AuthStyleInParams): Chainlit does, so a registration that
// worked with Chainlit works here, and each of these providers documents
// it.

// GitHub is github.com. Its user data is GitHub's /user answer plus
// "emails", the /user/emails list (as Chainlit gives it); the subject is
// the numeric user id. Chainlit's identifier is the login; the verified one
// the verified primary e-mail. For GitHub Enterprise, set AuthURL, TokenURL
// and UserInfoURL (OAUTH_GITHUB_AUTH_URL, ..._TOKEN_URL, ..._USER_INFO_URL).
func GitHub(clientID, clientSecret string) *Provider {
	return &Provider{
		ID: "github", ClientID: clientID, ClientSecret: clientSecret,
		Name: "GitHub", Preset: "github",
		AuthURL:     "https://github.com/login/oauth/authorize",
		TokenURL:    "https://github.com/login/oauth/access_token",
		UserInfoURL: "https://api.github.com/user",
		AuthStyle:   oauth2.AuthStyleInParams,
		Scopes:      []string{"user:email"},
		FetchUser:   fetchGitHubUser,
		chainlit:    chainlitMapping{identifier: "login", metadata: chainlitMetadata("github", "avatar_url", "")},
	}
}

// Google is Google's OpenID provider. Its user data is Google's
// userinfo/v2/me answer (id, email, verified_email, name, picture..., as
// Chainlit reads it) over the verified id_token's claims.
func Google(clientID, clientSecret string) *Provider {
	return &Provider{
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
		chainlit:    chainlitMapping{metadata: chainlitMetadata("google", "picture", "")},
	}
}

// AzureAD is Microsoft Entra ID through Microsoft Graph. With singleTenant
// the endpoints are the tenant's; otherwise "common" (any organisation).
// Its user data is Graph's /me answer plus "image", the user's 48x48 photo
// as a data URL when there is one (fetched as Chainlit does, best effort:
// a few seconds and 4 KiB at most). Chainlit's identifier is the
// userPrincipalName; the verified one "azure-ad:<object id>", since user
// principal names are chosen by each tenant's admins.
func AzureAD(tenantID, clientID, clientSecret string, singleTenant bool) *Provider {
	base := "https://login.microsoftonline.com/" + entraTenant(tenantID, singleTenant) + "/oauth2/v2.0"
	return &Provider{
		ID: "azure-ad", ClientID: clientID, ClientSecret: clientSecret,
		Name: "Microsoft", Preset: "azure-ad",
		AuthURL:       base + "/authorize",
		TokenURL:      base + "/token",
		UserInfoURL:   "https://graph.microsoft.com/v1.0/me",
		AuthStyle:     oauth2.AuthStyleInParams,
		Scopes:        []string{"https://graph.microsoft.com/User.Read", "offline_access"},
		AuthParams:    map[string]string{"response_mode": "query"},
		FetchUser:     fetchGraphUser,
		chainlit:      azureChainlitMapping,
		subjectClaims: azureSubjectClaims,
	}
}

// AzureADHybrid is Microsoft Entra ID with OpenID: the callback is a
// form_post carrying code and id_token, and here state and nonce are
// checked and the id_token verified against Microsoft's keys. Its users
// are AzureAD's (Chainlit names both "azure-ad"). A single tenant given by
// domain ("contoso.onmicrosoft.com") is fine: the id_token's issuer, which
// names the tenant's id, is read from the tenant's discovery document.
func AzureADHybrid(tenantID, clientID, clientSecret string, singleTenant bool) *Provider {
	tenant := entraTenant(tenantID, singleTenant)
	issuer := "https://login.microsoftonline.com/{tenantid}/v2.0"
	if singleTenant {
		issuer = "https://login.microsoftonline.com/" + tenantID + "/v2.0"
	}
	base := "https://login.microsoftonline.com/" + tenant
	return &Provider{
		ID: "azure-ad-hybrid", ClientID: clientID, ClientSecret: clientSecret,
		Name: "Microsoft", Preset: "azure-ad-hybrid",
		AuthURL:             base + "/oauth2/v2.0/authorize",
		TokenURL:            base + "/oauth2/v2.0/token",
		UserInfoURL:         "https://graph.microsoft.com/v1.0/me",
		Issuer:              issuer,
		IssuerFromDiscovery: singleTenant,
		JWKSURL:             base + "/discovery/v2.0/keys",
		AuthStyle:           oauth2.AuthStyleInParams,
		Scopes:              []string{"openid", "profile", "email", "offline_access", "https://graph.microsoft.com/User.Read"},
		ResponseMode:        "form_post",
		AuthParams:          map[string]string{"response_type": "code id_token"},
		FetchUser:           fetchGraphUser,
		chainlit:            azureChainlitMapping,
		subjectClaims:       azureSubjectClaims,
	}
}

// azureChainlitMapping is Chainlit's AzureADOAuthProvider.get_user_info
// (and AzureADHybridOAuthProvider's, which writes "azure-ad" too). Chainlit
// also writes the refresh token into the metadata; here it never enters
// the session (see KeepProviderTokens).
var azureChainlitMapping = chainlitMapping{identifier: "userPrincipalName", metadata: chainlitMetadata("azure-ad", "image", nil)}

// azureSubjectClaims make Graph's object id the subject of both Azure
// presets (the id_token's sub is pairwise, different for each app).
var azureSubjectClaims = []string{"id", "oid", "sub"}

func entraTenant(tenantID string, singleTenant bool) string {
	if singleTenant {
		return tenantID
	}
	return "common"
}

// Okta is an Okta org. authServerID picks the authorization server:
// empty for "default", "false" for the org server, else its id. A custom
// domain is fine: the issuer it signs with is read from its discovery
// document when it is not the domain's.
func Okta(domain, clientID, clientSecret, authServerID string) *Provider {
	origin := httpsOrigin(domain)
	issuer := origin + "/oauth2/default"
	switch authServerID {
	case "":
	case "false":
		issuer = origin
	default:
		issuer = origin + "/oauth2/" + authServerID
	}
	api := issuer
	if authServerID == "false" {
		api = origin + "/oauth2"
	}
	return &Provider{
		ID: "okta", ClientID: clientID, ClientSecret: clientSecret,
		Name: "Okta", Preset: "okta",
		AuthURL:             api + "/v1/authorize",
		TokenURL:            api + "/v1/token",
		UserInfoURL:         api + "/v1/userinfo",
		Issuer:              issuer,
		IssuerFromDiscovery: true,
		JWKSURL:             api + "/v1/keys",
		AuthStyle:           oauth2.AuthStyleInParams,
		Scopes:              []string{"openid", "profile", "email"},
		chainlit:            chainlitMapping{metadata: chainlitMetadata("okta", "", "")},
	}
}

// Auth0 is an Auth0 tenant. originalDomain, when the tenant is reached
// through a custom domain, is the tenant's own domain (for the userinfo
// audience), as in Chainlit.
func Auth0(domain, clientID, clientSecret, originalDomain string) *Provider {
	origin := httpsOrigin(domain)
	original := origin
	if originalDomain != "" {
		original = httpsOrigin(originalDomain)
	}
	return &Provider{
		ID: "auth0", ClientID: clientID, ClientSecret: clientSecret,
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
		chainlit:            chainlitMapping{metadata: chainlitMetadata("auth0", "picture", "")},
	}
}

// Descope is Descope's OAuth endpoint. Its id_token issuer depends on the
// project, so it is used as plain OAuth2 with user info; set Issuer and
// JWKSURL to have id_tokens verified.
func Descope(clientID, clientSecret string) *Provider {
	const base = "https://api.descope.com/oauth2/v1"
	return &Provider{
		ID: "descope", ClientID: clientID, ClientSecret: clientSecret,
		Name: "Descope", Preset: "descope",
		AuthURL:     base + "/authorize",
		TokenURL:    base + "/token",
		UserInfoURL: base + "/userinfo",
		AuthStyle:   oauth2.AuthStyleInParams,
		Scopes:      []string{"openid", "profile", "email"},
		AuthParams:  map[string]string{"audience": base + "/userinfo"},
		chainlit:    chainlitMapping{metadata: chainlitMetadata("descope", "", "")},
	}
}

// Cognito is an Amazon Cognito user pool's hosted UI at domain. Its issuer
// names the pool, not the domain, so it is used as plain OAuth2 with user
// info; set Issuer and JWKSURL to have id_tokens verified.
func Cognito(domain, clientID, clientSecret string) *Provider {
	origin := httpsOrigin(domain)
	return &Provider{
		ID: "aws-cognito", ClientID: clientID, ClientSecret: clientSecret,
		Name: "Amazon Cognito", Preset: "aws-cognito",
		AuthURL:     origin + "/login",
		TokenURL:    origin + "/oauth2/token",
		UserInfoURL: origin + "/oauth2/userInfo",
		AuthStyle:   oauth2.AuthStyleInParams,
		Scopes:      []string{"openid", "profile", "email"},
		chainlit:    chainlitMapping{metadata: chainlitMetadata("aws-cognito", "picture", "")},
	}
}

// GitLab is gitlab.com or a self-managed GitLab at domain.
func GitLab(domain, clientID, clientSecret string) *Provider {
	origin := httpsOrigin(domain)
	return &Provider{
		ID: "gitlab", ClientID: clientID, ClientSecret: clientSecret,
		Name: "GitLab", Preset: "gitlab",
		AuthURL:             origin + "/oauth/authorize",
		TokenURL:            origin + "/oauth/token",
		UserInfoURL:         origin + "/oauth/userinfo",
		Issuer:              origin,
		IssuerFromDiscovery: true,
		JWKSURL:             origin + "/oauth/discovery/keys",
		AuthStyle:           oauth2.AuthStyleInParams,
		Scopes:              []string{"openid", "profile", "email"},
		chainlit:            chainlitMapping{metadata: chainlitMetadata("gitlab", "picture", "")},
	}
}

// Keycloak is a realm of a Keycloak server at baseURL; id names the
// provider ("keycloak" when empty). A server reached at another hostname
// than the one it signs with (KC_HOSTNAME) is fine: the issuer is then read
// from the realm's discovery document.
func Keycloak(id, baseURL, realm, clientID, clientSecret string) *Provider {
	if id == "" {
		id = "keycloak"
	}
	issuer := strings.TrimRight(baseURL, "/") + "/realms/" + realm
	return &Provider{
		ID: id, ClientID: clientID, ClientSecret: clientSecret,
		Preset:              "keycloak",
		AuthURL:             issuer + "/protocol/openid-connect/auth",
		TokenURL:            issuer + "/protocol/openid-connect/token",
		UserInfoURL:         issuer + "/protocol/openid-connect/userinfo",
		Issuer:              issuer,
		IssuerFromDiscovery: true,
		JWKSURL:             issuer + "/protocol/openid-connect/certs",
		AuthStyle:           oauth2.AuthStyleInParams,
		Scopes:              []string{"profile", "email", "openid"},
		chainlit: chainlitMapping{metadata: func(map[string]any) map[string]any {
			return map[string]any{"provider": "keycloak"} // whatever OAUTH_KEYCLOAK_NAME says
		}},
	}
}

// Generic is any OAuth2 provider with the given endpoints (no OpenID
// checks); identifierClaim names the user-info field used as identifier
// ("email" when empty, and then, under VerifiedIdentity, only when
// verified).
func Generic(id, clientID, clientSecret, authURL, tokenURL, userInfoURL string, scopes []string, identifierClaim string) *Provider {
	if id == "" {
		id = "generic"
	}
	return &Provider{
		ID: id, ClientID: clientID, ClientSecret: clientSecret,
		Preset:  "generic",
		AuthURL: authURL, TokenURL: tokenURL, UserInfoURL: userInfoURL,
		AuthStyle: oauth2.AuthStyleInParams,
		Scopes:    scopes, IdentifierClaim: identifierClaim,
	}
}

// OIDC is any OpenID Connect issuer, configured by discovery in
// AddProvider; its id_tokens are verified against the issuer's keys.
func OIDC(id, issuer, clientID, clientSecret string) *Provider {
	name := ""
	if id == "" {
		id, name = "oidc", "OpenID Connect"
	}
	return &Provider{
		ID: id, ClientID: clientID, ClientSecret: clientSecret,
		Name: name, Preset: "oidc",
		Issuer: issuer,
		Scopes: []string{"openid", "profile", "email"},
	}
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

// fetchGitHubUser reads /user and, as Chainlit does, adds the /user/emails
// list under "emails" (GitHub Enterprise: the same paths under its API).
func fetchGitHubUser(ctx context.Context, client *http.Client, p *Provider) (map[string]any, error) {
	var user map[string]any
	if err := getJSONWith(ctx, client, p.UserInfoURL, &user); err != nil {
		return nil, err
	}
	var emails []any
	if err := getJSONWith(ctx, client, strings.TrimRight(p.UserInfoURL, "/")+"/emails", &emails); err != nil {
		return nil, err
	}
	user["emails"] = emails
	return user, nil
}

// Bounds of the Azure AD photo: it travels in the session cookie, and it
// must never hold a login up.
const (
	maxPhotoBytes = 4 << 10
	photoTimeout  = 3 * time.Second
)

// fetchGraphUser reads Microsoft Graph's /me and, as Chainlit does, adds
// the 48x48 photo as a data URL under "image", best effort: no photo, a
// slow one (a quarter of the time left, at most photoTimeout) or a large
// one (over maxPhotoBytes) leaves "image" out, and the login goes on.
func fetchGraphUser(ctx context.Context, client *http.Client, p *Provider) (map[string]any, error) {
	var user map[string]any
	if err := getJSONWith(ctx, client, p.UserInfoURL, &user); err != nil {
		return nil, err
	}
	if img := fetchPhoto(ctx, client, strings.TrimRight(p.UserInfoURL, "/")+"/photos/48x48/$value"); img != "" {
		user["image"] = img
	}
	return user, nil
}

// fetchPhoto GETs an image and returns it as a data URL, or "" when it
// cannot be had quickly and small.
func fetchPhoto(ctx context.Context, client *http.Client, where string) string {
	budget := photoTimeout
	if deadline, ok := ctx.Deadline(); ok {
		budget = min(budget, time.Until(deadline)/4)
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return ""
	}
	resp, err := client.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	kind, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || err != nil || !strings.HasPrefix(kind, "image/") {
		return ""
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPhotoBytes+1))
	if err != nil || len(body) == 0 || len(body) > maxPhotoBytes {
		return ""
	}
	return "data:" + kind + ";base64," + base64.StdEncoding.EncodeToString(body)
}

// getJSONWith is Auth.getJSON for presets, which have no Auth at hand.
func getJSONWith(ctx context.Context, client *http.Client, where string, v any) error {
	return (&Auth{cfg: settings{HTTPClient: client}}).getJSON(ctx, client, where, v)
}

// mapUser builds the default User of an OAuth login: p.MapUser, else the
// rule p.Identity names.
func (a *Auth) mapUser(p *Provider, raw map[string]any) (*User, error) {
	switch {
	case p.MapUser != nil:
		return p.MapUser(p, raw)
	case p.Identity == ChainlitIdentity:
		return chainlitUser(p, raw)
	}
	return DefaultUser(p, raw)
}

// DefaultUser is the collision-safe mapping (VerifiedIdentity) from a
// provider's user data to a User. Identities cannot collide across
// providers: metadata records "provider" and the provider's stable
// "subject" (sub, GitHub's numeric id, Microsoft Graph's object id); the
// e-mail is the identifier only when the provider says it is verified
// (email_verified, Google's verified_email, GitHub's verified primary
// e-mail). Otherwise the identifier is "provider:subject" and metadata
// "email_unverified" is true. An e-mail that is not an address ("github:42"
// from a rogue provider) is never the identifier, so no provider can spell
// another's identities. A Provider whose Identity is ChainlitIdentity maps
// users as Chainlit did instead.
func DefaultUser(p *Provider, raw map[string]any) (*User, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: nil Provider", ErrProviderConfig)
	}
	subject, err := subjectOf(p, raw)
	if err != nil {
		return nil, err
	}
	md := map[string]any{"provider": p.ID, "subject": subject}
	if img := firstClaim(raw, "picture", "avatar_url", "image"); img != "" {
		md["image"] = img
	}
	u := &User{Metadata: md, DisplayName: firstClaim(raw, "name", "displayName", "login", "preferred_username")}
	claim := p.IdentifierClaim
	if claim == "" {
		claim = "email"
	}
	email := claimString(raw, "email")
	verified := verifiedEmail(raw)
	if verified != "" {
		email = verified
	}
	if email != "" {
		md["email"] = email
	}
	switch {
	case claim != "email" && claimString(raw, claim) != "":
		// The app named the claim: it vouches for it.
		u.Identifier = claimString(raw, claim)
	case verified != "" && plainAddress(verified):
		u.Identifier = verified
	default:
		u.Identifier = p.ID + ":" + subject
		if email != "" {
			md["email_unverified"] = true
		}
	}
	return u, nil
}

// plainAddress reports whether an e-mail looks like one: an @, and no colon
// that could make it read as a "provider:subject" identifier.
func plainAddress(email string) bool {
	return strings.Contains(email, "@") && !strings.Contains(email, ":")
}

func claimString(raw map[string]any, k string) string {
	switch v := raw[k].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case json.Number:
		return v.String()
	}
	return ""
}

func firstClaim(raw map[string]any, keys ...string) string {
	for _, k := range keys {
		if v := claimString(raw, k); v != "" {
			return v
		}
	}
	return ""
}

// claimBool reads a boolean that some providers send as a string.
func claimBool(raw map[string]any, k string) bool {
	switch v := raw[k].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// providerEnv describes how one provider is read from the environment:
// the variables it needs, and how to build it from them.
type providerEnv struct {
	prefix   string // OAUTH_<prefix>_
	id       func(get func(string) string) string
	required []string
	build    func(get func(string) string) *Provider
}

func fixedID(id string) func(func(string) string) string {
	return func(func(string) string) string { return id }
}

var providerEnvs = []providerEnv{
	{"GITHUB", fixedID("github"), []string{"CLIENT_ID", "CLIENT_SECRET"}, func(g func(string) string) *Provider {
		p := GitHub(g("CLIENT_ID"), g("CLIENT_SECRET"))
		// GitHub Enterprise (Chainlit reads the same three).
		p.AuthURL = orDefault(g("AUTH_URL"), p.AuthURL)
		p.TokenURL = orDefault(g("TOKEN_URL"), p.TokenURL)
		p.UserInfoURL = orDefault(g("USER_INFO_URL"), p.UserInfoURL)
		return p
	}},
	{"GOOGLE", fixedID("google"), []string{"CLIENT_ID", "CLIENT_SECRET"}, func(g func(string) string) *Provider {
		return Google(g("CLIENT_ID"), g("CLIENT_SECRET"))
	}},
	{"AZURE_AD", fixedID("azure-ad"), []string{"CLIENT_ID", "CLIENT_SECRET", "TENANT_ID"}, func(g func(string) string) *Provider {
		p := AzureAD(g("TENANT_ID"), g("CLIENT_ID"), g("CLIENT_SECRET"), g("ENABLE_SINGLE_TENANT") != "")
		return withScopes(p, g("SCOPES"))
	}},
	{"AZURE_AD_HYBRID", fixedID("azure-ad-hybrid"), []string{"CLIENT_ID", "CLIENT_SECRET", "TENANT_ID"}, func(g func(string) string) *Provider {
		p := AzureADHybrid(g("TENANT_ID"), g("CLIENT_ID"), g("CLIENT_SECRET"), g("ENABLE_SINGLE_TENANT") != "")
		return withScopes(p, g("SCOPES"))
	}},
	{"OKTA", fixedID("okta"), []string{"CLIENT_ID", "CLIENT_SECRET", "DOMAIN"}, func(g func(string) string) *Provider {
		return Okta(g("DOMAIN"), g("CLIENT_ID"), g("CLIENT_SECRET"), g("AUTHORIZATION_SERVER_ID"))
	}},
	{"AUTH0", fixedID("auth0"), []string{"CLIENT_ID", "CLIENT_SECRET", "DOMAIN"}, func(g func(string) string) *Provider {
		return Auth0(g("DOMAIN"), g("CLIENT_ID"), g("CLIENT_SECRET"), g("ORIGINAL_DOMAIN"))
	}},
	{"DESCOPE", fixedID("descope"), []string{"CLIENT_ID", "CLIENT_SECRET"}, func(g func(string) string) *Provider {
		return Descope(g("CLIENT_ID"), g("CLIENT_SECRET"))
	}},
	{"COGNITO", fixedID("aws-cognito"), []string{"CLIENT_ID", "CLIENT_SECRET", "DOMAIN"}, func(g func(string) string) *Provider {
		return withScopes(Cognito(g("DOMAIN"), g("CLIENT_ID"), g("CLIENT_SECRET")), g("SCOPE"))
	}},
	{"GITLAB", fixedID("gitlab"), []string{"CLIENT_ID", "CLIENT_SECRET", "DOMAIN"}, func(g func(string) string) *Provider {
		return GitLab(g("DOMAIN"), g("CLIENT_ID"), g("CLIENT_SECRET"))
	}},
	{"KEYCLOAK", func(g func(string) string) string { return orDefault(g("NAME"), "keycloak") },
		[]string{"CLIENT_ID", "CLIENT_SECRET", "REALM", "BASE_URL"}, func(g func(string) string) *Provider {
			return Keycloak(g("NAME"), g("BASE_URL"), g("REALM"), g("CLIENT_ID"), g("CLIENT_SECRET"))
		}},
	{"GENERIC", func(g func(string) string) string { return orDefault(g("NAME"), "generic") },
		[]string{"CLIENT_ID", "CLIENT_SECRET", "AUTH_URL", "TOKEN_URL", "USER_INFO_URL", "SCOPES"}, func(g func(string) string) *Provider {
			// The scope is sent as given, commas included: some
			// providers separate scopes with them.
			return Generic(g("NAME"), g("CLIENT_ID"), g("CLIENT_SECRET"), g("AUTH_URL"), g("TOKEN_URL"), g("USER_INFO_URL"),
				strings.Fields(g("SCOPES")), g("USER_IDENTIFIER"))
		}},
	{"OIDC", func(g func(string) string) string { return orDefault(g("NAME"), "oidc") },
		[]string{"ISSUER", "CLIENT_ID", "CLIENT_SECRET"}, func(g func(string) string) *Provider {
			p := OIDC(g("NAME"), g("ISSUER"), g("CLIENT_ID"), g("CLIENT_SECRET"))
			if s := g("SCOPES"); s != "" {
				p.Scopes = strings.Fields(strings.ReplaceAll(s, ",", " "))
			}
			p.IdentifierClaim = g("USER_IDENTIFIER")
			return p
		}},
}

// withScopes replaces p's scopes by a space-separated list, when set.
func withScopes(p *Provider, scopes string) *Provider {
	if scopes != "" {
		p.Scopes = strings.Fields(scopes)
	}
	return p
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// EnvOption changes how ProvidersFromEnv reads the environment.
type EnvOption func(*envOptions)

type envOptions struct {
	skipPartial bool
	logger      *slog.Logger
}

// SkipPartlyConfigured makes ProvidersFromEnv skip a provider whose
// variables are only partly set, as Chainlit does, with one warning on
// logger (slog.Default() when nil) naming the missing variables, instead of
// failing. Without it, such a provider is an error: a typo in a variable
// name then stops the app at start-up instead of hiding a login button.
func SkipPartlyConfigured(logger *slog.Logger) EnvOption {
	return func(o *envOptions) {
		o.skipPartial = true
		o.logger = logger
	}
}

// ProvidersFromEnv builds every provider whose Chainlit variables are set
// (OAUTH_GITHUB_*, OAUTH_GOOGLE_*, OAUTH_AZURE_AD_*, OAUTH_AZURE_AD_HYBRID_*,
// OAUTH_OKTA_*, OAUTH_AUTH0_*, OAUTH_DESCOPE_*, OAUTH_COGNITO_*,
// OAUTH_GITLAB_*, OAUTH_KEYCLOAK_*, OAUTH_GENERIC_*, OAUTH_OIDC_*), with
// OAUTH_PROMPT or OAUTH_<ID>_PROMPT, read as Chainlit reads them: the
// providers Chainlit knows use ChainlitIdentity, so that a .env Chainlit ran
// on keeps its users' identifiers (OIDC, chatauth's own, uses
// VerifiedIdentity); set Identity on the result to change that. A provider
// whose required variables are only partly set is an error naming the
// missing ones (all such errors are returned together), unless
// SkipPartlyConfigured is given. getenv is os.Getenv when nil. Nothing is
// fetched from the network.
func ProvidersFromEnv(getenv func(string) string, opts ...EnvOption) ([]*Provider, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var o envOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	var out []*Provider
	var errs []error
	for _, pe := range providerEnvs {
		get := func(name string) string { return strings.TrimSpace(getenv("OAUTH_" + pe.prefix + "_" + name)) }
		var missing []string
		set := 0
		for _, name := range pe.required {
			if get(name) == "" {
				missing = append(missing, "OAUTH_"+pe.prefix+"_"+name)
			} else {
				set++
			}
		}
		switch {
		case set == 0:
			continue
		case len(missing) > 0 && o.skipPartial:
			logger := o.logger
			if logger == nil {
				logger = slog.Default()
			}
			logger.Warn("chatauth: OAuth provider skipped: its variables are only partly set",
				slog.String("provider", pe.id(get)), slog.String("missing", strings.Join(missing, ", ")))
			continue
		case len(missing) > 0:
			errs = append(errs, fmt.Errorf("provider %s is half configured: missing %s", pe.id(get), strings.Join(missing, ", ")))
			continue
		}
		p := pe.build(get)
		p.Prompt = promptFromEnv(getenv, p.ID)
		if pe.prefix != "OIDC" {
			p.Identity = ChainlitIdentity
		}
		out = append(out, p)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrProviderConfig, errors.Join(errs...))
	}
	return out, nil
}

// promptFromEnv is OAUTH_<ID>_PROMPT, else OAUTH_PROMPT (Chainlit's rule).
func promptFromEnv(getenv func(string) string, id string) string {
	prefix := strings.ToUpper(strings.ReplaceAll(id, "-", "_"))
	if v := getenv("OAUTH_" + prefix + "_PROMPT"); v != "" {
		return v
	}
	return getenv("OAUTH_PROMPT")
}
