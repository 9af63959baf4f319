package chatauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"golang.org/x/oauth2"

	"github.com/chatauth/chatauth/internal/jwks"
)

// Provider is an OAuth 2.0 or OpenID Connect provider users can log in
// with. The presets (GitHub, Google, AzureAD, Okta, Auth0, Descope, Cognito,
// GitLab, Keycloak, Generic, OIDC) fill it in; any field can be overridden
// before AddProvider.
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
	// IdentifierClaim names the user-data field used as the default
	// identifier: "email" by default, which VerifiedIdentity takes only
	// when verified; any other field is taken as the provider gives it
	// (the app vouches for it). ChainlitIdentity takes Chainlit's field
	// for the presets (GitHub's login, Azure AD's userPrincipalName), this
	// one for Generic and hand-made providers.
	IdentifierClaim string
	// Identity is the rule that turns user data into the default user:
	// VerifiedIdentity (the zero value, collision-safe) or ChainlitIdentity
	// (Chainlit's identifiers, for apps moving from Chainlit). AddProvider
	// logs which one each provider uses.
	Identity IdentityRule
	// FetchUser replaces the plain GET of UserInfoURL, for providers that
	// need more than one call (GitHub's verified e-mail). client carries
	// the access token.
	FetchUser func(ctx context.Context, client *http.Client, p *Provider) (map[string]any, error)
	// MapUser replaces the default mapping from user data to the default
	// User given to the OAuth hook, whatever Identity says.
	MapUser func(p *Provider, raw map[string]any) (*User, error)
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
	// chainlit is how Chainlit maps this preset's users (ChainlitIdentity).
	chainlit chainlitMapping
	// subjectClaims are the user-data fields tried for the subject; nil
	// for sub, then id.
	subjectClaims []string
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
	// DefaultUser is RawUser mapped by the provider's Identity rule (or
	// MapUser); return it, change it, or look the user up by it.
	DefaultUser *User
	// IDToken is the raw id_token, verified when IDTokenVerified is true.
	IDToken string
	// IDTokenVerified reports that IDToken passed every OpenID check.
	IDTokenVerified bool
}

// OAuthFunc decides who an OAuth login is. nil and nil rejects the login
// (R/login?error=credentialssignin).
type OAuthFunc func(ctx context.Context, login OAuthLogin) (*User, error)

// OnOAuth registers the OAuth hook. Providers are routable and listed in
// /auth/config only once it is registered.
func (a *Auth) OnOAuth(f OAuthFunc) {
	if a != nil {
		a.oauth = f
	}
}

// ErrProviderConfig is wrapped by AddProvider's errors.
var ErrProviderConfig = errors.New("chatauth: bad provider configuration")

// AddProvider makes a provider available. It checks p, reads OpenID
// discovery when p has an Issuer and lacks endpoints, and logs the
// redirect URI to register at the provider and the identity rule its users
// get (see IdentityRule).
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
	if err := a.getJSON(ctx, http.DefaultClient, where, &doc); err != nil {
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

// maxProviderBody bounds what is read from a provider.
const maxProviderBody = 1 << 20

// getJSON GETs where with client (which may add a token) and decodes the
// JSON answer into v.
func (a *Auth) getJSON(ctx context.Context, client *http.Client, where string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if client == http.DefaultClient {
		client = a.cfg.HTTPClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", where, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProviderBody))
	if err != nil {
		return fmt.Errorf("GET %s: %w", where, err)
	}
	// Numbers stay exact (json.Number): a numeric id beyond 2^53 is
	// somebody's, not a rounded neighbour's.
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("GET %s: not JSON: %w", where, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("GET %s: not JSON: data after the value", where)
	}
	return nil
}

// Providers lists the ids of the routable providers, sorted.
func (a *Auth) Providers() []string {
	if a == nil || a.oauth == nil {
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
	if a.oauth == nil {
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

// redirectURIOption sends this request's redirect URI, the same in the
// authorization request and in the token request (RFC 6749 4.1.3).
func (a *Auth) redirectURIOption(r *http.Request, p *Provider) oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam("redirect_uri", a.RedirectURI(r, p.ID))
}

// AuthCodeURL is the provider's authorization URL for a login with the
// given state, PKCE verifier and nonce (empty for plain OAuth2).
func (a *Auth) authCodeURL(r *http.Request, p *Provider, st pendingLogin) string {
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(st.Verifier)}
	if st.Nonce != "" {
		opts = append(opts, oauth2.SetAuthURLParam("nonce", st.Nonce))
	}
	if p.Prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", p.Prompt))
	}
	if p.ResponseMode != "" {
		opts = append(opts, oauth2.SetAuthURLParam("response_mode", p.ResponseMode))
	}
	for _, k := range sortedKeys(p.AuthParams) {
		opts = append(opts, oauth2.SetAuthURLParam(k, p.AuthParams[k]))
	}
	opts = append(opts, a.redirectURIOption(r, p))
	return p.conf.AuthCodeURL(st.State, opts...)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// serveOAuthStart answers GET R/auth/oauth/{provider}: a fresh state, PKCE
// verifier and nonce go into the sealed state cookie, and the browser to
// the provider.
func (a *Auth) serveOAuthStart(w http.ResponseWriter, r *http.Request) {
	const method = "oauth"
	id := r.PathValue("provider")
	p := a.provider(id)
	if p == nil {
		a.deny(w, r, refused(method, http.StatusNotFound, reasonNotEnabled, fmt.Sprintf("Provider %s not found", id), nil,
			slog.String("provider", id)))
		return
	}
	redirect := r.URL.Query().Get("redirect")
	if redirect != "" && !a.safeRedirect(redirect) {
		a.deny(w, r, refused(method, http.StatusBadRequest, reasonBadRedirect, "redirect must be a relative path under the root path", nil,
			slog.String("provider", id)))
		return
	}
	st := pendingLogin{
		State:    randomToken(32),
		Verifier: oauth2.GenerateVerifier(),
		Provider: p.ID,
		Redirect: redirect,
		Expires:  a.now().Add(a.cfg.StateCookieLifetime).Unix(),
	}
	if p.OpenID() {
		st.Nonce = randomToken(24)
	}
	a.savePending(w, r, p, st)
	a.logDecision(r, slog.LevelInfo, method, "redirect", reasonOK, slog.String("provider", p.ID))
	http.Redirect(w, r, a.authCodeURL(r, p, st), http.StatusFound)
}

// maxRedirectBytes bounds a remembered redirect: it travels in the state cookie.
const maxRedirectBytes = 512

// safeRedirect accepts only relative paths under the root path: no
// scheme, no host, no //, /\ or encoded tricks, no control characters.
func (a *Auth) safeRedirect(target string) bool {
	if len(target) > maxRedirectBytes || !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") ||
		strings.HasPrefix(target, "/\\") || strings.ContainsAny(target, "\\\r\n\t") ||
		strings.HasSuffix(target, " ") { // trimmed from a header value: "/app/.. " would be "/app/.."
		return false
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	// Decode once more: %2F%2F and %5C must not become // or \ downstream.
	unescaped, err := url.PathUnescape(u.EscapedPath())
	if err != nil || strings.HasPrefix(unescaped, "//") || strings.ContainsAny(unescaped, "\\") || strings.Contains(unescaped, "/../") || strings.HasSuffix(unescaped, "/..") {
		return false
	}
	// http.Redirect cleans all before the first '?' as a path, fragment
	// included: "/app#/.." would be sent as "/".
	if _, fragment, _ := strings.Cut(target, "#"); strings.Contains(fragment, "/..") {
		return false
	}
	for _, c := range target {
		if c < 0x20 || (c >= 0x7f && c <= 0x9f) { // C0, DEL and C1 (U+0085 NEL...)
			return false
		}
	}
	root := a.cfg.RootPath
	return root == "" || u.Path == root || strings.HasPrefix(u.Path, root+"/")
}

// OAuth failure codes, sent to R/login?error=<code>.
const (
	codeAccessDenied   = "access_denied"
	codeMissingCode    = "missing_code"
	codeMissingState   = "missing_state"
	codeInvalidState   = "invalid_state"
	codeExchangeFailed = "exchange_failed"
	codeUserinfoFailed = "userinfo_failed"
	codeInvalidIDToken = "invalid_id_token"
)

// serveOAuthCallback answers GET and POST R/auth/oauth/{provider}/callback.
func (a *Auth) serveOAuthCallback(w http.ResponseWriter, r *http.Request) {
	const method = "oauth"
	id := r.PathValue("provider")
	p := a.provider(id)
	if p == nil {
		a.deny(w, r, refused(method, http.StatusNotFound, reasonNotEnabled, fmt.Sprintf("Provider %s not found", id), nil))
		return
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	}
	if err := r.ParseForm(); err != nil {
		a.writePending(w, r, p, nil) // a failed callback clears the state cookie, as every other failure does
		a.denyCallback(w, r, p, oauthFailed(codeMissingCode, "unreadable callback parameters: %v", err))
		return
	}
	pending, redirect, d := a.completeOAuth(w, r, p)
	if d != nil {
		a.denyCallback(w, r, p, d)
		return
	}
	u, err := callHook(func() (*User, error) { return a.oauth(r.Context(), *pending) })
	if err != nil {
		a.denyCallback(w, r, p, hookFailed(method, fmt.Errorf("oauth hook: %w", err)))
		return
	}
	if u == nil {
		a.denyCallback(w, r, p, oauthFailed(reasonCredentials, "oauth hook rejected the login"))
		return
	}
	_, _, d = a.startLogin(w, r, login{method: method, user: u, grant: a.newGrant(zeroTime, p.ID),
		keep: func(ctx context.Context, u *User) *denial {
			if err := a.keepIDToken(ctx, u.Identifier, p.ID, pending.IDToken); err != nil {
				return storeDown(method, err)
			}
			if a.cfg.KeepProviderTokens {
				if err := a.cfg.Tokens.SaveToken(ctx, u.Identifier, p.ID, pending.Token); err != nil {
					return storeDown(method, err)
				}
			}
			return nil
		},
		attrs: []slog.Attr{slog.String("provider", p.ID)}})
	if d != nil {
		a.deny(w, r, d)
		return
	}
	target := a.cfg.RootPath + "/login/callback?success=True"
	if redirect != "" {
		target = redirect
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// denyCallback answers a failed callback; a failure sent to the login page
// names the provider in its log line.
func (a *Auth) denyCallback(w http.ResponseWriter, r *http.Request, p *Provider, d *denial) {
	if d.toLoginPage {
		d.attrs = append([]slog.Attr{slog.String("provider", p.ID)}, d.attrs...)
	}
	a.deny(w, r, d)
}

// completeOAuth runs every check of the callback and the exchange, and
// returns what the hook is given and the remembered redirect.
func (a *Auth) completeOAuth(w http.ResponseWriter, r *http.Request, p *Provider) (*OAuthLogin, string, *denial) {
	q := r.Form
	state := q.Get("state")
	// The pending login is consumed whatever happens next: single use.
	st, stErr := a.takePending(w, r, p, state)
	if e := q.Get("error"); e != "" {
		return nil, "", oauthFailed(codeAccessDenied, "provider answered error=%q error_description=%q", truncate(e, 100), truncate(q.Get("error_description"), 300))
	}
	code := q.Get("code")
	switch {
	case code == "":
		return nil, "", oauthFailed(codeMissingCode, "callback without code")
	case state == "":
		return nil, "", oauthFailed(codeMissingState, "callback without state")
	case stErr != nil:
		return nil, "", oauthFailed(codeInvalidState, "%w", stErr)
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.OAuthTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, a.cfg.HTTPClient)
	if iss := q.Get("iss"); iss != "" && p.Issuer != "" && !issParamMatches(p.Issuer, iss) {
		// RFC 9207: the response came from another issuer (mix-up attack),
		// unless it is the one the provider's discovery names.
		if ok, err := a.acceptsIssuer(ctx, p, iss, ""); !ok {
			return nil, "", oauthFailed(codeInvalidState, "iss parameter %q is not the provider's issuer %q%s", truncate(iss, 200), p.Issuer, because(err))
		}
	} else if iss == "" && p.RequireIssParameter {
		// RFC 9207 2.4: a provider that sends iss always sends it; a
		// response without it did not come from this provider.
		return nil, "", oauthFailed(codeInvalidState, "iss parameter missing, though provider %q always sends it (RFC 9207)", p.ID)
	}
	tok, err := p.conf.Exchange(ctx, code, oauth2.VerifierOption(st.Verifier), a.redirectURIOption(r, p))
	if err != nil {
		return nil, "", oauthFailed(codeExchangeFailed, "%s", describeExchangeError(err))
	}
	login := &OAuthLogin{Provider: p.ID, Token: tok}
	var claims map[string]any
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		login.IDToken = raw
		if p.keys != nil {
			if claims, err = a.verifyIDToken(ctx, p, raw, st.Nonce); err != nil {
				return nil, "", oauthFailed(codeInvalidIDToken, "%v", err)
			}
			login.IDTokenVerified = true
		}
	} else if p.OpenID() && slices.Contains(p.Scopes, "openid") {
		return nil, "", oauthFailed(codeInvalidIDToken, "token response has no id_token")
	}
	raw, f := a.fetchUser(ctx, p, tok, claims)
	if f != nil {
		return nil, "", f
	}
	login.RawUser = raw
	u, err := a.mapUser(p, raw)
	if err != nil {
		return nil, "", oauthFailed(codeUserinfoFailed, "mapping user data: %v", err)
	}
	login.DefaultUser = u
	return login, st.Redirect, nil
}

// fetchUser reads the user data: the provider's own fetch, the user-info
// endpoint, or the verified id_token's claims.
func (a *Auth) fetchUser(ctx context.Context, p *Provider, tok *oauth2.Token, claims map[string]any) (map[string]any, *denial) {
	client := oauth2.NewClient(ctx, oauth2.StaticTokenSource(tok))
	var raw map[string]any
	var err error
	switch {
	case p.FetchUser != nil:
		raw, err = p.FetchUser(ctx, client, p)
	case p.UserInfoURL != "":
		err = a.getJSON(ctx, client, p.UserInfoURL, &raw)
	case claims != nil:
		return claims, nil
	default:
		return nil, oauthFailed(codeUserinfoFailed, "provider %q has no user-info endpoint and no id_token", p.ID)
	}
	if err != nil {
		return nil, oauthFailed(codeUserinfoFailed, "%v", err)
	}
	if claims != nil {
		// OpenID Core 5.3.2: the user-info sub must be the id_token's.
		if sub, _ := raw["sub"].(string); sub != "" && sub != claims["sub"] {
			return nil, oauthFailed(codeUserinfoFailed, "user-info sub %q is not the id_token's", sub)
		}
		for k, v := range claims {
			if _, ok := raw[k]; !ok && !registeredClaim(k) {
				raw[k] = v
			}
		}
	}
	return raw, nil
}

// issParamMatches compares the iss parameter of an authorization response
// with the configured issuer by simple string comparison (RFC 9207 2.4);
// "{tenantid}" in the configured issuer (Microsoft multi-tenant) matches one
// segment; the id_token's iss is then checked against its own tid.
func issParamMatches(want, got string) bool {
	prefix, suffix, template := strings.Cut(want, "{tenantid}")
	if !template {
		return sameIssuer(want, got, "")
	}
	if !strings.HasPrefix(got, prefix) || !strings.HasSuffix(got, suffix) || len(got) <= len(prefix)+len(suffix) {
		return false
	}
	tenant := got[len(prefix) : len(got)-len(suffix)]
	return !strings.ContainsAny(tenant, "/?#")
}

// because explains a refusal by err, when there is one.
func because(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

func registeredClaim(k string) bool {
	switch k {
	case "iss", "aud", "exp", "iat", "nbf", "nonce", "azp", "at_hash", "c_hash", "auth_time", "jti", "sid":
		return true
	}
	return false
}

// describeExchangeError says why the token exchange failed: the provider's
// HTTP status and error code, never the response body's tokens.
func describeExchangeError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if re.ErrorCode != "" {
			return fmt.Sprintf("token endpoint answered HTTP %d error=%q error_description=%q", status, re.ErrorCode, truncate(re.ErrorDescription, 300))
		}
		return fmt.Sprintf("token endpoint answered HTTP %d", status)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "token endpoint timed out: " + err.Error()
	}
	return "token exchange: " + err.Error()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// TokenSource returns a source of the provider's access token for a user
// who logged in with it, when Config.KeepProviderTokens is on (without it,
// logins store none: the error wraps ErrNoToken and names the setting). It
// refreshes the token with the refresh token when expired and stores the
// new one. ctx carries the HTTP client and lives as long as the source is
// used. The token is gone once the user logs out, unless
// Config.KeepProviderTokensAfterLogout: the error then wraps ErrNoToken.
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
		return nil, fmt.Errorf("%w (Config.KeepProviderTokens is off: OAuth logins store no provider tokens)", err)
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
