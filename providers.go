package chatauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// The presets below build a Provider with the endpoints, scopes and user
// mapping of each provider Chainlit supports. Every field can be changed
// before AddProvider (endpoint overrides for tests or sovereign clouds).

// GitHub is github.com. Its default user carries the numeric user id as
// subject and the verified primary e-mail from /user/emails.
func GitHub(clientID, clientSecret string) *Provider {
	return &Provider{
		ID: "github", ClientID: clientID, ClientSecret: clientSecret,
		AuthURL:     "https://github.com/login/oauth/authorize",
		TokenURL:    "https://github.com/login/oauth/access_token",
		UserInfoURL: "https://api.github.com/user",
		Scopes:      []string{"user:email"},
		FetchUser:   fetchGitHubUser,
	}
}

// Google is Google's OpenID provider.
func Google(clientID, clientSecret string) *Provider {
	return &Provider{
		ID: "google", ClientID: clientID, ClientSecret: clientSecret,
		AuthURL:     "https://accounts.google.com/o/oauth2/v2/auth",
		TokenURL:    "https://oauth2.googleapis.com/token",
		UserInfoURL: "https://openidconnect.googleapis.com/v1/userinfo",
		Issuer:      "https://accounts.google.com",
		JWKSURL:     "https://www.googleapis.com/oauth2/v3/certs",
		Scopes:      []string{"openid", "email", "profile"},
		AuthParams:  map[string]string{"access_type": "offline"},
	}
}

// AzureAD is Microsoft Entra ID through Microsoft Graph. With singleTenant
// the endpoints are the tenant's; otherwise "common" (any organisation).
// The default identifier is "azure-ad:<object id>": user principal names
// are chosen by each tenant's admins and must not be trusted across tenants.
func AzureAD(tenantID, clientID, clientSecret string, singleTenant bool) *Provider {
	base := "https://login.microsoftonline.com/" + entraTenant(tenantID, singleTenant) + "/oauth2/v2.0"
	return &Provider{
		ID: "azure-ad", ClientID: clientID, ClientSecret: clientSecret,
		AuthURL:     base + "/authorize",
		TokenURL:    base + "/token",
		UserInfoURL: "https://graph.microsoft.com/v1.0/me",
		Scopes:      []string{"https://graph.microsoft.com/User.Read", "offline_access"},
		AuthParams:  map[string]string{"response_mode": "query"},
	}
}

// AzureADHybrid is Microsoft Entra ID with OpenID: the callback is a
// form_post carrying code and id_token, and here state and nonce are
// checked and the id_token verified against Microsoft's keys.
func AzureADHybrid(tenantID, clientID, clientSecret string, singleTenant bool) *Provider {
	tenant := entraTenant(tenantID, singleTenant)
	issuer := "https://login.microsoftonline.com/{tenantid}/v2.0"
	if singleTenant {
		issuer = "https://login.microsoftonline.com/" + tenantID + "/v2.0"
	}
	base := "https://login.microsoftonline.com/" + tenant
	return &Provider{
		ID: "azure-ad-hybrid", ClientID: clientID, ClientSecret: clientSecret,
		AuthURL:      base + "/oauth2/v2.0/authorize",
		TokenURL:     base + "/oauth2/v2.0/token",
		UserInfoURL:  "https://graph.microsoft.com/v1.0/me",
		Issuer:       issuer,
		JWKSURL:      base + "/discovery/v2.0/keys",
		Scopes:       []string{"openid", "profile", "email", "offline_access", "https://graph.microsoft.com/User.Read"},
		ResponseMode: "form_post",
		AuthParams:   map[string]string{"response_type": "code id_token"},
	}
}

func entraTenant(tenantID string, singleTenant bool) string {
	if singleTenant {
		return tenantID
	}
	return "common"
}

// Okta is an Okta org. authServerID picks the authorization server:
// empty for "default", "false" for the org server, else its id.
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
		AuthURL:     api + "/v1/authorize",
		TokenURL:    api + "/v1/token",
		UserInfoURL: api + "/v1/userinfo",
		Issuer:      issuer,
		JWKSURL:     api + "/v1/keys",
		Scopes:      []string{"openid", "profile", "email"},
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
		AuthURL:     origin + "/authorize",
		TokenURL:    origin + "/oauth/token",
		UserInfoURL: original + "/userinfo",
		Issuer:      origin + "/",
		JWKSURL:     origin + "/.well-known/jwks.json",
		Scopes:      []string{"openid", "profile", "email"},
		AuthParams:  map[string]string{"audience": original + "/userinfo"},
	}
}

// Descope is Descope's OAuth endpoint. Its id_token issuer depends on the
// project, so it is used as plain OAuth2 with user info; set Issuer and
// JWKSURL to have id_tokens verified.
func Descope(clientID, clientSecret string) *Provider {
	const base = "https://api.descope.com/oauth2/v1"
	return &Provider{
		ID: "descope", ClientID: clientID, ClientSecret: clientSecret,
		AuthURL:     base + "/authorize",
		TokenURL:    base + "/token",
		UserInfoURL: base + "/userinfo",
		Scopes:      []string{"openid", "profile", "email"},
		AuthParams:  map[string]string{"audience": base + "/userinfo"},
	}
}

// Cognito is an Amazon Cognito user pool's hosted UI at domain. Its issuer
// names the pool, not the domain, so it is used as plain OAuth2 with user
// info; set Issuer and JWKSURL to have id_tokens verified.
func Cognito(domain, clientID, clientSecret string) *Provider {
	origin := httpsOrigin(domain)
	return &Provider{
		ID: "aws-cognito", ClientID: clientID, ClientSecret: clientSecret,
		AuthURL:     origin + "/login",
		TokenURL:    origin + "/oauth2/token",
		UserInfoURL: origin + "/oauth2/userInfo",
		Scopes:      []string{"openid", "profile", "email"},
	}
}

// GitLab is gitlab.com or a self-managed GitLab at domain.
func GitLab(domain, clientID, clientSecret string) *Provider {
	origin := httpsOrigin(domain)
	return &Provider{
		ID: "gitlab", ClientID: clientID, ClientSecret: clientSecret,
		AuthURL:     origin + "/oauth/authorize",
		TokenURL:    origin + "/oauth/token",
		UserInfoURL: origin + "/oauth/userinfo",
		Issuer:      origin,
		JWKSURL:     origin + "/oauth/discovery/keys",
		Scopes:      []string{"openid", "profile", "email"},
	}
}

// Keycloak is a realm of a Keycloak server at baseURL; id names the
// provider ("keycloak" when empty).
func Keycloak(id, baseURL, realm, clientID, clientSecret string) *Provider {
	if id == "" {
		id = "keycloak"
	}
	issuer := strings.TrimRight(baseURL, "/") + "/realms/" + realm
	return &Provider{
		ID: id, ClientID: clientID, ClientSecret: clientSecret,
		AuthURL:     issuer + "/protocol/openid-connect/auth",
		TokenURL:    issuer + "/protocol/openid-connect/token",
		UserInfoURL: issuer + "/protocol/openid-connect/userinfo",
		Issuer:      issuer,
		JWKSURL:     issuer + "/protocol/openid-connect/certs",
		Scopes:      []string{"profile", "email", "openid"},
	}
}

// Generic is any OAuth2 provider with the given endpoints (no OpenID
// checks); identifierClaim names the user-info field used as identifier
// ("email" when empty, and then only when verified).
func Generic(id, clientID, clientSecret, authURL, tokenURL, userInfoURL string, scopes []string, identifierClaim string) *Provider {
	if id == "" {
		id = "generic"
	}
	return &Provider{
		ID: id, ClientID: clientID, ClientSecret: clientSecret,
		AuthURL: authURL, TokenURL: tokenURL, UserInfoURL: userInfoURL,
		Scopes: scopes, IdentifierClaim: identifierClaim,
	}
}

// OIDC is any OpenID Connect issuer, configured by discovery in
// AddProvider; its id_tokens are verified against the issuer's keys.
func OIDC(id, issuer, clientID, clientSecret string) *Provider {
	if id == "" {
		id = "oidc"
	}
	return &Provider{
		ID: id, ClientID: clientID, ClientSecret: clientSecret,
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

// fetchGitHubUser reads /user and /user/emails, and keeps the primary
// e-mail only when GitHub says it is verified.
func fetchGitHubUser(ctx context.Context, client *http.Client, p *Provider) (map[string]any, error) {
	var user map[string]any
	if err := getJSONWith(ctx, client, p.UserInfoURL, &user); err != nil {
		return nil, err
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	emailsURL := strings.TrimSuffix(p.UserInfoURL, "/user") + "/user/emails"
	if err := getJSONWith(ctx, client, emailsURL, &emails); err != nil {
		return nil, err
	}
	user["email"], user["email_verified"] = nil, false
	list := make([]any, 0, len(emails))
	for _, e := range emails {
		list = append(list, map[string]any{"email": e.Email, "primary": e.Primary, "verified": e.Verified})
		if e.Primary {
			user["email"], user["email_verified"] = e.Email, e.Verified
		}
	}
	user["emails"] = list
	return user, nil
}

// getJSONWith is Auth.getJSON for presets, which have no Auth at hand.
func getJSONWith(ctx context.Context, client *http.Client, where string, v any) error {
	return (&Auth{cfg: Config{HTTPClient: client}}).getJSON(ctx, client, where, v)
}

// mapUser builds the default User of an OAuth login.
func (a *Auth) mapUser(p *Provider, raw map[string]any) (*User, error) {
	if p.MapUser != nil {
		return p.MapUser(p, raw)
	}
	return DefaultUser(p, raw)
}

// DefaultUser is the default mapping from a provider's user data to a User.
// Identities cannot collide across providers: metadata records "provider"
// and the provider's stable "subject" (sub, or GitHub's numeric id); the
// e-mail is the identifier only when the provider says it is verified
// (email_verified, GitHub's verified primary e-mail). Otherwise the
// identifier is "provider:subject" and metadata "email_unverified" is true.
// An e-mail that is not an address ("github:42" from a rogue provider) is
// never the identifier, so no provider can spell another's identities.
func DefaultUser(p *Provider, raw map[string]any) (*User, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: nil Provider", ErrProviderConfig)
	}
	subject, err := subjectClaim(raw)
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
	if email != "" {
		md["email"] = email
	}
	switch {
	case claim != "email" && claimString(raw, claim) != "":
		// The app named the claim: it vouches for it.
		u.Identifier = claimString(raw, claim)
	case email != "" && claimBool(raw, "email_verified") && plainAddress(email):
		u.Identifier = email
	default:
		u.Identifier = p.ID + ":" + subject
		if email != "" {
			md["email_unverified"] = true
		}
	}
	return u, nil
}

// subjectClaim is the provider's stable subject: sub, else id (GitHub's
// number, Microsoft Graph's object id). A number decoded as float64 beyond
// 2^53, or with a fraction, may have been rounded: two users could share
// it, so it is refused.
func subjectClaim(raw map[string]any) (string, error) {
	for _, k := range []string{"sub", "id"} {
		if f, ok := raw[k].(float64); ok && (f != math.Trunc(f) || math.Abs(f) >= 1<<53) {
			return "", fmt.Errorf("user data %s %v is a number too large to be exact (decode it with json.Number)", k, f)
		}
		if s := claimString(raw, k); s != "" {
			return s, nil
		}
	}
	return "", errors.New("user data has no subject (sub or id)")
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
		return GitHub(g("CLIENT_ID"), g("CLIENT_SECRET"))
	}},
	{"GOOGLE", fixedID("google"), []string{"CLIENT_ID", "CLIENT_SECRET"}, func(g func(string) string) *Provider {
		return Google(g("CLIENT_ID"), g("CLIENT_SECRET"))
	}},
	{"AZURE_AD", fixedID("azure-ad"), []string{"CLIENT_ID", "CLIENT_SECRET", "TENANT_ID"}, func(g func(string) string) *Provider {
		return AzureAD(g("TENANT_ID"), g("CLIENT_ID"), g("CLIENT_SECRET"), g("ENABLE_SINGLE_TENANT") != "")
	}},
	{"AZURE_AD_HYBRID", fixedID("azure-ad-hybrid"), []string{"CLIENT_ID", "CLIENT_SECRET", "TENANT_ID"}, func(g func(string) string) *Provider {
		return AzureADHybrid(g("TENANT_ID"), g("CLIENT_ID"), g("CLIENT_SECRET"), g("ENABLE_SINGLE_TENANT") != "")
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
		p := Cognito(g("DOMAIN"), g("CLIENT_ID"), g("CLIENT_SECRET"))
		if s := g("SCOPE"); s != "" {
			p.Scopes = strings.Fields(s)
		}
		return p
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
			return Generic(g("NAME"), g("CLIENT_ID"), g("CLIENT_SECRET"), g("AUTH_URL"), g("TOKEN_URL"), g("USER_INFO_URL"),
				strings.Fields(strings.ReplaceAll(g("SCOPES"), ",", " ")), g("USER_IDENTIFIER"))
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

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// ProvidersFromEnv builds every provider whose Chainlit variables are set
// (OAUTH_GITHUB_*, OAUTH_GOOGLE_*, OAUTH_AZURE_AD_*, OAUTH_AZURE_AD_HYBRID_*,
// OAUTH_OKTA_*, OAUTH_AUTH0_*, OAUTH_DESCOPE_*, OAUTH_COGNITO_*,
// OAUTH_GITLAB_*, OAUTH_KEYCLOAK_*, OAUTH_GENERIC_*, OAUTH_OIDC_*), with
// OAUTH_PROMPT or OAUTH_<ID>_PROMPT. A provider whose variables are only
// partly set is an error naming the missing ones; all such errors are
// returned together. getenv is os.Getenv when nil.
func ProvidersFromEnv(getenv func(string) string) ([]*Provider, error) {
	if getenv == nil {
		getenv = os.Getenv
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
		if set == 0 {
			continue
		}
		if len(missing) > 0 {
			errs = append(errs, fmt.Errorf("provider %s is half configured: missing %s", pe.id(get), strings.Join(missing, ", ")))
			continue
		}
		p := pe.build(get)
		p.Prompt = promptFromEnv(getenv, p.ID)
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
