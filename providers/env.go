package providers

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/internal/userdata"
)

// fetchGitHubUser reads /user and, as Chainlit does, adds the /user/emails
// list under "emails" (GitHub Enterprise: the same paths under its API).
func fetchGitHubUser(ctx context.Context, client *http.Client, p *chatauth.Provider) (map[string]any, error) {
	var user map[string]any
	if err := userdata.GetJSON(ctx, client, p.UserInfoURL, &user); err != nil {
		return nil, err
	}
	var emails []any
	if err := userdata.GetJSON(ctx, client, strings.TrimRight(p.UserInfoURL, "/")+"/emails", &emails); err != nil {
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
func fetchGraphUser(ctx context.Context, client *http.Client, p *chatauth.Provider) (map[string]any, error) {
	var user map[string]any
	if err := userdata.GetJSON(ctx, client, p.UserInfoURL, &user); err != nil {
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

// providerEnv describes how one provider is read from the environment:
// the variables it needs, and how to build it from them.
type providerEnv struct {
	prefix   string // OAUTH_<prefix>_
	id       func(get func(string) string) string
	required []string
	build    func(get func(string) string) *chatauth.Provider
}

func fixedID(id string) func(func(string) string) string {
	return func(func(string) string) string { return id }
}

var providerEnvs = []providerEnv{
	{"GITHUB", fixedID("github"), []string{"CLIENT_ID", "CLIENT_SECRET"}, func(g func(string) string) *chatauth.Provider {
		p := GitHub(g("CLIENT_ID"), g("CLIENT_SECRET"))
		// GitHub Enterprise (Chainlit reads the same three).
		p.AuthURL = orDefault(g("AUTH_URL"), p.AuthURL)
		p.TokenURL = orDefault(g("TOKEN_URL"), p.TokenURL)
		p.UserInfoURL = orDefault(g("USER_INFO_URL"), p.UserInfoURL)
		return p
	}},
	{"GOOGLE", fixedID("google"), []string{"CLIENT_ID", "CLIENT_SECRET"}, func(g func(string) string) *chatauth.Provider {
		return Google(g("CLIENT_ID"), g("CLIENT_SECRET"))
	}},
	{"AZURE_AD", fixedID("azure-ad"), []string{"CLIENT_ID", "CLIENT_SECRET", "TENANT_ID"}, func(g func(string) string) *chatauth.Provider {
		p := AzureAD(AzureADOptions{Tenant: g("TENANT_ID"), ClientID: g("CLIENT_ID"), ClientSecret: g("CLIENT_SECRET"),
			SingleTenant: g("ENABLE_SINGLE_TENANT") != ""})
		return withScopes(p, g("SCOPES"))
	}},
	{"AZURE_AD_HYBRID", fixedID("azure-ad-hybrid"), []string{"CLIENT_ID", "CLIENT_SECRET", "TENANT_ID"}, func(g func(string) string) *chatauth.Provider {
		p := AzureAD(AzureADOptions{Tenant: g("TENANT_ID"), ClientID: g("CLIENT_ID"), ClientSecret: g("CLIENT_SECRET"),
			SingleTenant: g("ENABLE_SINGLE_TENANT") != "", Hybrid: true})
		return withScopes(p, g("SCOPES"))
	}},
	{"OKTA", fixedID("okta"), []string{"CLIENT_ID", "CLIENT_SECRET", "DOMAIN"}, func(g func(string) string) *chatauth.Provider {
		// Chainlit's rule: unset is "default", "false" the org server.
		server := orDefault(g("AUTHORIZATION_SERVER_ID"), "default")
		if server == "false" {
			server = ""
		}
		return Okta(OktaOptions{Domain: g("DOMAIN"), ClientID: g("CLIENT_ID"), ClientSecret: g("CLIENT_SECRET"), AuthorizationServer: server})
	}},
	{"AUTH0", fixedID("auth0"), []string{"CLIENT_ID", "CLIENT_SECRET", "DOMAIN"}, func(g func(string) string) *chatauth.Provider {
		return Auth0(Auth0Options{Domain: g("DOMAIN"), ClientID: g("CLIENT_ID"), ClientSecret: g("CLIENT_SECRET"), OriginalDomain: g("ORIGINAL_DOMAIN")})
	}},
	{"DESCOPE", fixedID("descope"), []string{"CLIENT_ID", "CLIENT_SECRET"}, func(g func(string) string) *chatauth.Provider {
		return Descope(g("CLIENT_ID"), g("CLIENT_SECRET"))
	}},
	{"COGNITO", fixedID("aws-cognito"), []string{"CLIENT_ID", "CLIENT_SECRET", "DOMAIN"}, func(g func(string) string) *chatauth.Provider {
		return withScopes(Cognito(CognitoOptions{Domain: g("DOMAIN"), ClientID: g("CLIENT_ID"), ClientSecret: g("CLIENT_SECRET")}), g("SCOPE"))
	}},
	{"GITLAB", fixedID("gitlab"), []string{"CLIENT_ID", "CLIENT_SECRET", "DOMAIN"}, func(g func(string) string) *chatauth.Provider {
		return GitLab(GitLabOptions{Domain: g("DOMAIN"), ClientID: g("CLIENT_ID"), ClientSecret: g("CLIENT_SECRET")})
	}},
	{"KEYCLOAK", func(g func(string) string) string { return orDefault(g("NAME"), "keycloak") },
		[]string{"CLIENT_ID", "CLIENT_SECRET", "REALM", "BASE_URL"}, func(g func(string) string) *chatauth.Provider {
			return Keycloak(KeycloakOptions{ID: g("NAME"), BaseURL: g("BASE_URL"), Realm: g("REALM"), ClientID: g("CLIENT_ID"), ClientSecret: g("CLIENT_SECRET")})
		}},
	{"GENERIC", func(g func(string) string) string { return orDefault(g("NAME"), "generic") },
		[]string{"CLIENT_ID", "CLIENT_SECRET", "AUTH_URL", "TOKEN_URL", "USER_INFO_URL", "SCOPES"}, func(g func(string) string) *chatauth.Provider {
			// The scope is sent as given, commas included: some
			// providers separate scopes with them.
			return Generic(GenericOptions{ID: g("NAME"), ClientID: g("CLIENT_ID"), ClientSecret: g("CLIENT_SECRET"),
				AuthURL: g("AUTH_URL"), TokenURL: g("TOKEN_URL"), UserInfoURL: g("USER_INFO_URL"),
				Scopes: strings.Fields(g("SCOPES")), UserIdentifier: g("USER_IDENTIFIER")})
		}},
	{"OIDC", func(g func(string) string) string { return orDefault(g("NAME"), "oidc") },
		[]string{"ISSUER", "CLIENT_ID", "CLIENT_SECRET"}, func(g func(string) string) *chatauth.Provider {
			p := OIDC(OIDCOptions{ID: g("NAME"), Issuer: g("ISSUER"), ClientID: g("CLIENT_ID"), ClientSecret: g("CLIENT_SECRET")})
			if s := g("SCOPES"); s != "" {
				p.Scopes = strings.Fields(strings.ReplaceAll(s, ",", " "))
			}
			p.IdentifierClaim = g("USER_IDENTIFIER")
			return UseVerifiedIdentity(p) // describes the claim
		}},
}

// withScopes replaces p's scopes by a space-separated list, when set.
func withScopes(p *chatauth.Provider, scopes string) *chatauth.Provider {
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

// EnvOption changes how FromEnv reads the environment.
type EnvOption func(*envOptions)

type envOptions struct {
	skipPartial bool
	logger      *slog.Logger
}

// SkipPartlyConfigured makes FromEnv skip a provider whose
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

// FromEnv builds every provider whose Chainlit variables are set
// (OAUTH_GITHUB_*, OAUTH_GOOGLE_*, OAUTH_AZURE_AD_*, OAUTH_AZURE_AD_HYBRID_*,
// OAUTH_OKTA_*, OAUTH_AUTH0_*, OAUTH_DESCOPE_*, OAUTH_COGNITO_*,
// OAUTH_GITLAB_*, OAUTH_KEYCLOAK_*, OAUTH_GENERIC_*, OAUTH_OIDC_*), with
// OAUTH_PROMPT or OAUTH_<ID>_PROMPT, read as Chainlit reads them (each
// preset's doc lists its variables): the providers Chainlit knows map
// users with ChainlitUser, so that a .env Chainlit ran on keeps its users'
// identifiers (OIDC, chatauth's own, uses VerifiedUser); call
// UseVerifiedIdentity on a result to change that. A provider
// whose required variables are only partly set is an error naming the
// missing ones (all such errors are returned together), unless
// SkipPartlyConfigured is given. getenv is os.Getenv when nil. Nothing is
// fetched from the network.
func FromEnv(getenv func(string) string, opts ...EnvOption) ([]*chatauth.Provider, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var o envOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	var out []*chatauth.Provider
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
			UseChainlitIdentity(p)
		}
		out = append(out, p)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", chatauth.ErrProviderConfig, errors.Join(errs...))
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
