package chatauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/chatauth/chatauth/internal/jwks"
	"github.com/chatauth/chatauth/internal/userdata"
	"golang.org/x/oauth2"
)

// Provider is an OAuth 2.0 or OpenID Connect provider users can log in
// with. The presets of package github.com/chatauth/chatauth/providers
// (GitHub, Google, AzureAD, Okta, Auth0, Descope, Cognito, GitLab,
// Keycloak, Generic, OIDC, and FromEnv for Chainlit's variables) fill it
// in; any field can be overridden before AddProvider.
type Provider struct {
	// ID names the provider in routes (R/auth/oauth/{ID}) and in
	// /auth/config: "github", "google", "oidc"...
	ID string
	// ClientID and ClientSecret are the app's credentials at the provider.
	ClientID, ClientSecret string
	// AuthURL, TokenURL and UserInfoURL are the provider's endpoints.
	// With Issuer set, empty ones are read from OpenID discovery.
	AuthURL, TokenURL, UserInfoURL string
	// Issuer makes the provider an OpenID provider: a nonce is sent, and
	// the id_token is verified (signature against JWKSURL, iss, aud, exp,
	// iat, nonce, azp). "{tenantid}" in it stands for the token's tid
	// claim (Microsoft's multi-tenant endpoints).
	Issuer string
	// IssuerFromDiscovery also accepts, from id_tokens and the iss
	// parameter, the issuer named by Issuer's own discovery document
	// (Issuer + "/.well-known/openid-configuration"), read at the first
	// login whose issuer is not Issuer: for providers reached at another
	// URL than the one they sign with (an Entra tenant given by domain,
	// Keycloak behind another hostname, an Okta custom domain). The
	// presets that need it set it.
	IssuerFromDiscovery bool
	// JWKSURL is where the issuer publishes its signing keys.
	JWKSURL string
	// EndSessionURL is the OpenID end_session_endpoint, for logout at the
	// provider.
	EndSessionURL string
	// RequireIssParameter refuses an authorization response without the
	// iss parameter (RFC 9207), the mix-up defence of providers that always
	// send it. AddProvider sets it when discovery advertises
	// authorization_response_iss_parameter_supported. An iss that is sent
	// is checked against Issuer either way.
	RequireIssParameter bool
	// Scopes are requested at authorization.
	Scopes []string
	// Prompt is sent as the prompt parameter when set ("login",
	// "select_account", "consent"): OAUTH_PROMPT or OAUTH_<ID>_PROMPT.
	Prompt string
	// AuthParams are the provider's own authorization parameters
	// (Google's access_type, Auth0's audience...).
	AuthParams map[string]string
	// ResponseMode "form_post" makes the provider POST the callback.
	ResponseMode string
	// AuthStyle is how the app authenticates at TokenURL:
	// oauth2.AuthStyleInParams sends client_id and client_secret in the
	// form (client_secret_post, what Chainlit sends and what every preset
	// uses), oauth2.AuthStyleInHeader in HTTP Basic (client_secret_basic,
	// OpenID's default, which OIDC takes when discovery lists it). The zero
	// value tries Basic, then the form, on the first exchange and keeps
	// the style that worked.
	AuthStyle oauth2.AuthStyle
	// IdentifierClaim names the user-data field used as the identifier:
	// "email" by default, which the collision-safe rule takes only when
	// verified; any other field is taken as the provider gives it (the app
	// vouches for it). The providers package's mappings read it too
	// (Chainlit's rule for Generic and hand-made providers).
	IdentifierClaim string
	// FetchUser replaces the plain GET of UserInfoURL, for providers that
	// need more than one call (GitHub's verified e-mail). client carries
	// the access token.
	FetchUser func(ctx context.Context, client *http.Client, p *Provider) (map[string]any, error)
	// MapUser maps user data to OAuthLogin.User, the user chatauth would
	// log in. The presets set it (providers.VerifiedUser or
	// providers.ChainlitUser). When nil, the collision-safe rule applies:
	// the e-mail when the provider says it is verified (or the value of a
	// non-e-mail IdentifierClaim), else "ID:subject"; metadata records
	// "provider" and "subject" (sub, else id).
	MapUser func(p *Provider, raw map[string]any) (*User, error)
	// Identity says, in AddProvider's start-up log line, which identifier
	// MapUser gives ("chainlit: user data \"login\" as given"); the
	// providers package sets it with MapUser. Empty: "custom MapUser", or
	// the collision-safe rule's description when MapUser is nil.
	Identity string
	// Name is what people see on the sign-in page's button ("GitHub");
	// the presets set it, and when empty the ID is shown with its first
	// letter in upper case, as Chainlit does.
	Name string
	// Preset names the preset that built the provider ("github",
	// "azure-ad", "keycloak", "oidc"...), empty for one built by hand: a
	// sign-in page picks the provider's icon by it, whatever its ID.
	Preset string

	keys *jwks.Set
	// discovered caches the issuer of IssuerFromDiscovery.
	discovered *issuerDiscovery
	// conf is p for golang.org/x/oauth2, built once by AddProvider so that
	// a detected AuthStyle is remembered; the redirect URI, which depends
	// on the request, is passed with each call.
	conf *oauth2.Config
	// added orders the providers as AddProvider received them.
	added int
}

// OpenID reports whether p is an OpenID provider (it has an Issuer).
func (p *Provider) OpenID() bool { return p != nil && p.Issuer != "" }

// OAuthLogin is what the OAuth hook receives after a successful
// authorization-code flow.
type OAuthLogin struct {
	// Provider is the provider's ID.
	Provider string
	// Token is the provider's token response (access, refresh).
	Token *oauth2.Token
	// RawUser is the provider's user data: the user-info answer (with the
	// fields Chainlit's callbacks read: GitHub's "emails", Azure AD's
	// "image"), over the verified id_token's claims. Numbers in it are
	// json.Number, exact.
	RawUser map[string]any
	// User is the user chatauth would log in: RawUser mapped by the
	// provider's MapUser (or the collision-safe rule). The hook may return
	// it as is, change it, or look the user up by it.
	User *User
	// IDToken is the raw id_token, verified when IDTokenVerified is true.
	IDToken string
	// IDTokenVerified reports that IDToken passed every OpenID check.
	IDTokenVerified bool
}

// OAuthFunc decides who an OAuth login is.
//
// It answers as every chatauth hook that decides who a user is does
// (Chainlit's Optional[User]): a user accepts; nil and a nil error
// rejects (302 to R/login?error=credentialssignin); an error is a failure of the hook's own (500, cause
// logged, never shown); a panic is recovered and answered as an error
// (500, logged).
type OAuthFunc func(ctx context.Context, login OAuthLogin) (*User, error)

// OnOAuth registers the OAuth hook; nil restores the default. Without one,
// every provider added with AddProvider is routable and listed in
// /auth/config at once, and a login is its OAuthLogin.User: anyone
// the provider authenticates may log in. Register a hook to decide who
// may (an allow-list, a domain, a group claim). It may be called at any
// time, also while requests are served.
func (a *Auth) OnOAuth(f OAuthFunc) {
	if f == nil {
		f = defaultOAuth
	}
	if a.madeByNew() {
		a.setHook(func(h *hooks) { h.oauth = f })
	}
}

// ErrProviderConfig is wrapped by AddProvider's errors.
var ErrProviderConfig = errors.New("chatauth: bad provider configuration")

// AddProvider makes a provider available. It checks p, reads OpenID
// discovery when p has an Issuer and lacks endpoints, and logs the
// redirect URI to register at the provider and the identity rule its users
// get (Provider.Identity).
func (a *Auth) AddProvider(ctx context.Context, p *Provider) error {
	switch {
	case !a.madeByNew():
		return errNotMadeByNew
	case p == nil:
		return fmt.Errorf("%w: nil Provider", ErrProviderConfig)
	}
	ctx = orBackground(ctx)
	if err := a.checkProvider(p); err != nil {
		return err
	}
	if p.Issuer != "" && (p.AuthURL == "" || p.TokenURL == "" || p.JWKSURL == "") {
		if err := a.discover(ctx, p); err != nil {
			return err
		}
	}
	if p.AuthURL == "" || p.TokenURL == "" {
		return fmt.Errorf("%w: provider %q: AuthURL and TokenURL are required", ErrProviderConfig, p.ID)
	}
	if p.IdentifierClaim == "" {
		p.IdentifierClaim = "email"
	}
	if p.JWKSURL != "" {
		p.keys = jwks.New(p.JWKSURL, a.cfg.HTTPClient)
	}
	if p.IssuerFromDiscovery {
		p.discovered = newIssuerDiscovery()
	}
	p.conf = &oauth2.Config{
		ClientID:     p.ClientID,
		ClientSecret: p.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: p.AuthURL, TokenURL: p.TokenURL, AuthStyle: p.AuthStyle},
		Scopes:       p.Scopes,
	}
	a.providersMu.Lock()
	p.added = len(a.providers)
	if old := a.providers[p.ID]; old != nil {
		p.added = old.added // a replaced provider keeps its place
	}
	a.providers[p.ID] = p
	a.providersMu.Unlock()
	callback := a.cfg.RootPath + "/auth/oauth/" + p.ID + "/callback"
	if a.cfg.BaseURL != "" {
		callback = a.cfg.BaseURL + callback
	} else {
		callback = "<public origin of each request>" + callback + " (set CHAINLIT_URL to fix it)"
	}
	a.cfg.Logger.Info("chatauth: OAuth provider ready", slog.String("provider", p.ID),
		slog.String("redirect_uri", callback), slog.Bool("openid", p.OpenID()), slog.String("identity", p.describeIdentity()))
	a.warnRedirectURIFromHost(p)
	return nil
}

func (a *Auth) checkProvider(p *Provider) error {
	var missing []string
	if p.ID == "" {
		missing = append(missing, "ID")
	}
	if p.ClientID == "" {
		missing = append(missing, "ClientID")
	}
	if p.ClientSecret == "" {
		missing = append(missing, "ClientSecret")
	}
	if p.Issuer == "" && (p.AuthURL == "" || p.TokenURL == "") {
		missing = append(missing, "AuthURL and TokenURL (or Issuer)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: provider %q: missing %s", ErrProviderConfig, p.ID, strings.Join(missing, ", "))
	}
	if strings.ContainsAny(p.ID, "/{}?#% ") {
		return fmt.Errorf("%w: provider id %q may not contain / { } ? # %% or spaces", ErrProviderConfig, p.ID)
	}
	return nil
}

// discover reads the issuer's OpenID configuration into p's empty fields.
func (a *Auth) discover(ctx context.Context, p *Provider) error {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.OAuthTimeout)
	defer cancel()
	where := strings.TrimRight(p.Issuer, "/") + "/.well-known/openid-configuration"
	var doc struct {
		Issuer        string   `json:"issuer"`
		Authorization string   `json:"authorization_endpoint"`
		Token         string   `json:"token_endpoint"`
		UserInfo      string   `json:"userinfo_endpoint"`
		JWKS          string   `json:"jwks_uri"`
		EndSession    string   `json:"end_session_endpoint"`
		IssParameter  bool     `json:"authorization_response_iss_parameter_supported"`
		AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := a.getJSON(ctx, a.cfg.HTTPClient, where, &doc); err != nil {
		return fmt.Errorf("%w: provider %q: OpenID discovery: %w", ErrProviderConfig, p.ID, err)
	}
	if doc.Issuer != p.Issuer {
		return fmt.Errorf("%w: provider %q: discovery names issuer %q, expected %q", ErrProviderConfig, p.ID, doc.Issuer, p.Issuer)
	}
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&p.AuthURL, doc.Authorization)
	fill(&p.TokenURL, doc.Token)
	fill(&p.UserInfoURL, doc.UserInfo)
	fill(&p.JWKSURL, doc.JWKS)
	fill(&p.EndSessionURL, doc.EndSession)
	p.RequireIssParameter = p.RequireIssParameter || doc.IssParameter
	if p.AuthStyle == oauth2.AuthStyleAutoDetect {
		p.AuthStyle = discoveredAuthStyle(doc.AuthMethods)
	}
	if p.JWKSURL == "" {
		return fmt.Errorf("%w: provider %q: discovery has no jwks_uri", ErrProviderConfig, p.ID)
	}
	return nil
}

// discoveredAuthStyle picks the token endpoint authentication from the
// methods an issuer lists: client_secret_basic, OpenID's default (also when
// the list is absent), else client_secret_post, else detection.
func discoveredAuthStyle(methods []string) oauth2.AuthStyle {
	switch {
	case len(methods) == 0 || slices.Contains(methods, "client_secret_basic"):
		return oauth2.AuthStyleInHeader
	case slices.Contains(methods, "client_secret_post"):
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleAutoDetect
}

// getJSON GETs where with client (which may add a token) and decodes the
// JSON answer into v, numbers as json.Number.
func (a *Auth) getJSON(ctx context.Context, client *http.Client, where string, v any) error {
	return userdata.GetJSON(ctx, client, where, v)
}

// providerIDs lists the ids of the routable providers, sorted, as
// /auth/config lists them (LoginMethods lists them in AddProvider order).
func (a *Auth) providerIDs() []string {
	if a == nil || a.hook().oauth == nil {
		return []string{}
	}
	a.providersMu.RLock()
	defer a.providersMu.RUnlock()
	ids := make([]string, 0, len(a.providers))
	for id := range a.providers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (a *Auth) provider(id string) *Provider {
	if a.hook().oauth == nil {
		return nil
	}
	a.providersMu.RLock()
	defer a.providersMu.RUnlock()
	return a.providers[id]
}

// RedirectURI is the callback URL of provider id, computed one way
// everywhere: BaseURL (CHAINLIT_URL) or the request's public origin, then
// the root path, then /auth/oauth/{id}/callback.
func (a *Auth) RedirectURI(r *http.Request, id string) string {
	if a == nil {
		return ""
	}
	base := a.cfg.BaseURL
	if r != nil {
		base = a.publicBase(r)
	}
	return base + a.cfg.RootPath + "/auth/oauth/" + url.PathEscape(id) + "/callback"
}

// TokenSource returns a source of the provider's access token for a user
// who logged in with it, when Config.OAuth.KeepProviderTokens is on (without it,
// logins store none: the error wraps ErrNoToken and names the setting). It
// refreshes the token with the refresh token when expired and stores the
// new one. ctx carries the HTTP client and lives as long as the source is
// used. The token is gone once the user logs out, unless
// Config.OAuth.KeepProviderTokensAfterLogout: the error then wraps ErrNoToken.
func (a *Auth) TokenSource(ctx context.Context, identifier, providerID string) (oauth2.TokenSource, error) {
	if !a.madeByNew() {
		return nil, errNotMadeByNew
	}
	ctx = orBackground(ctx)
	p := a.provider(providerID)
	if p == nil {
		return nil, fmt.Errorf("chatauth: provider %q not found", providerID)
	}
	tok, err := a.cfg.Tokens.Token(ctx, identifier, providerID)
	if errors.Is(err, ErrNoToken) && !a.cfg.KeepProviderTokens {
		return nil, fmt.Errorf("%w (Config.OAuth.KeepProviderTokens is off: OAuth logins store no provider tokens)", err)
	}
	if err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, a.cfg.HTTPClient)
	return &storingTokenSource{
		ctx: ctx, store: a.cfg.Tokens, identifier: identifier, provider: providerID,
		last: tok, src: oauth2.ReuseTokenSource(tok, p.conf.TokenSource(ctx, tok)),
	}, nil
}

// storingTokenSource saves every new token its source hands out, so that a
// refreshed token (and a rotated refresh token) survives the process.
type storingTokenSource struct {
	ctx                  context.Context
	store                TokenStore
	identifier, provider string
	src                  oauth2.TokenSource

	mu   sync.Mutex
	last *oauth2.Token
}

// Token implements oauth2.TokenSource.
func (s *storingTokenSource) Token() (*oauth2.Token, error) {
	tok, err := s.src.Token()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil || tok.AccessToken != s.last.AccessToken {
		if err := s.store.SaveToken(s.ctx, s.identifier, s.provider, tok); err != nil {
			return nil, fmt.Errorf("chatauth: storing refreshed token: %w", err)
		}
		s.last = tok
	}
	return tok, nil
}

// warnRedirectURIFromHost warns, at AddProvider, when the redirect URI
// will come from each request's Host header: without BaseURL, and with no
// trusted proxy to say the public host, a request naming another host gets
// a redirect URI on that host (the provider refuses it unless registered,
// but the app should not depend on that).
func (a *Auth) warnRedirectURIFromHost(p *Provider) {
	if a.cfg.BaseURL != "" || len(a.proxies) > 0 {
		return
	}
	a.cfg.Logger.Warn("chatauth: OAuth redirect URI taken from each request's Host header: set CHAINLIT_URL (Config.BaseURL) to the app's public origin",
		slog.String("provider", p.ID))
}
