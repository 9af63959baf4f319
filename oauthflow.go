package chatauth

// oauthflow.go is an OAuth login from start to callback, top to bottom:
// GET R/auth/oauth/{provider} (serveOAuthStart) seals a pending login into
// the state cookie; the callback (serveOAuthCallback) takes it back
// (takePending), exchanges the code, verifies the id_token
// (verifyIDToken), reads the user (fetchUser), asks the OAuth hook, and
// hands the user to the one login tail (login.go), keeping the id_token
// for provider logout (keepIDToken). The provider's configuration
// (Provider, AddProvider, discovery, the user mapping) is in oauth.go and
// the presets.
//
// The walk of an OAuth callback, top to bottom through three files:
//
//	oauthflow.go  serveOAuthCallback -> completeOAuth -> takePending -> exchange
//	              -> verifyIDToken -> fetchUser -> [mapUser] -> OAuth hook
//	login.go      startLogin -> persistedUser -> keep (keepIDToken, SaveToken)
//	              -> startSession -> [issueToken] -> writeSessionCookie
//	              -> endPreviousSession -> success log
//	keys.go       issueToken (sessionEnds, checkTokenSize in login.go)
//
// A failure anywhere is one denial (respond.go), sent to R/login?error=.

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/chatauth/chatauth/internal/cookiechunk"
	"github.com/chatauth/chatauth/internal/jwks"
	"github.com/chatauth/chatauth/internal/seal"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

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
	u, err := callHook(func() (*User, error) { return a.hook().oauth(r.Context(), *pending) })
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
	login.User = u
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

// keepIDToken stores a login's id_token for the id_token_hint of a later
// RP-initiated logout.
func (a *Auth) keepIDToken(ctx context.Context, identifier, provider, idToken string) error {
	if !a.cfg.ProviderLogout || idToken == "" {
		return nil
	}
	return a.cfg.Tokens.SaveToken(ctx, identifier, idTokenKey(provider), &oauth2.Token{AccessToken: idToken, TokenType: "id_token"})
}

// stateCookieName is the cookie holding the pending OAuth logins.
const stateCookieName = "oauth_state"

// maxPending bounds the logins pending at once in one browser (tabs).
const maxPending = 4

// pendingLogin is one OAuth login between redirect and callback. Several
// travel together in the sealed state cookie, so that logins started in
// parallel tabs do not overwrite each other.
type pendingLogin struct {
	State    string `json:"s"`
	Verifier string `json:"v"`
	Nonce    string `json:"n,omitempty"`
	Provider string `json:"p"`
	Redirect string `json:"r,omitempty"`
	Expires  int64  `json:"e"`
}

// readPending opens the state cookie; a missing, forged or expired cookie
// reads as no pending logins.
func (a *Auth) readPending(r *http.Request) []pendingLogin {
	v, ok := cookiechunk.Lookup(r.Header, stateCookieName)
	if !ok || len(v) > 4096 {
		return nil
	}
	plain, err := seal.Open(a.keys.Load().stateKeys, stateCookieName, v)
	if err != nil {
		return nil
	}
	var list []pendingLogin
	if json.Unmarshal(plain, &list) != nil {
		return nil
	}
	now := a.now().Unix()
	live := list[:0]
	for _, p := range list {
		if p.Expires > now {
			live = append(live, p)
		}
	}
	return live
}

// writePending seals the pending logins into the state cookie, or clears it
// when there are none.
func (a *Auth) writePending(w http.ResponseWriter, r *http.Request, p *Provider, list []pendingLogin) {
	c := a.stateCookie(r, p)
	if len(list) == 0 {
		c.MaxAge = -1
		http.SetCookie(w, &c)
		return
	}
	plain, _ := json.Marshal(list)
	c.Value = seal.Seal(a.keys.Load().stateKeys[0], stateCookieName, plain)
	c.MaxAge = int(a.cfg.StateCookieLifetime / time.Second)
	http.SetCookie(w, &c)
}

// stateCookie is the template of the state cookie: HttpOnly, with the
// session cookie's SameSite and Secure. A provider that POSTs its callback
// (form_post) is a cross-site POST, which carries only SameSite=None
// cookies, which browsers keep only with Secure (localhost counts as
// secure, so this works in development too).
func (a *Auth) stateCookie(r *http.Request, p *Provider) http.Cookie {
	c := a.sessionCookie(r)
	c.Name = stateCookieName
	if p != nil && p.ResponseMode == "form_post" {
		c.SameSite, c.Secure = http.SameSiteNoneMode, true
	}
	return c
}

// savePending adds a login to the state cookie, dropping the oldest when
// more than maxPending are under way.
func (a *Auth) savePending(w http.ResponseWriter, r *http.Request, p *Provider, st pendingLogin) {
	list := append(a.readPending(r), st)
	if len(list) > maxPending {
		list = list[len(list)-maxPending:]
	}
	a.writePending(w, r, p, list)
}

// takePending finds the pending login whose state matches (constant time),
// removes it from the cookie, and checks it was issued for p and never used
// before. When nothing matches, the whole cookie is cleared.
func (a *Auth) takePending(w http.ResponseWriter, r *http.Request, p *Provider, state string) (pendingLogin, error) {
	list := a.readPending(r)
	found := -1
	for i := range list {
		if subtle.ConstantTimeCompare([]byte(list[i].State), []byte(state)) == 1 {
			found = i
		}
	}
	if found < 0 {
		a.writePending(w, r, p, nil)
		if len(list) == 0 {
			return pendingLogin{}, errors.New("no pending login in the state cookie (missing, expired, or forged)")
		}
		return pendingLogin{}, errors.New("state does not match any pending login")
	}
	st := list[found]
	a.writePending(w, r, p, append(list[:found], list[found+1:]...))
	if st.Provider != p.ID {
		return st, fmt.Errorf("state was issued for provider %q, not %q", st.Provider, p.ID)
	}
	// Single use, even if the browser (or an attacker) sends the old cookie
	// again: the store records used states until they expire, atomically
	// (two callbacks racing with one state: one wins), and refuses when it
	// cannot record one.
	first, err := a.cfg.Revocations.FirstUse(r.Context(), "oauth-state:"+hashHex(state), time.Unix(st.Expires, 0))
	switch {
	case err != nil:
		return st, fmt.Errorf("recording state use: %w", err)
	case !first:
		return st, errors.New("state was already used (replay)")
	}
	return st, nil
}

// idTokenAlgorithms are the signature algorithms accepted on id_tokens:
// asymmetric only, so a client secret can never be used as a key.
var idTokenAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// jwksKeyFunc is the key function of tokens signed by keys a JWKS
// publishes (OpenID id_tokens, HostTokens): the keys the token's kid
// names, fetched when not known yet. check, when set, runs first on the
// unverified token, so that a token that would be refused anyway never
// makes us fetch.
func jwksKeyFunc(ctx context.Context, set *jwks.Set, check func(*jwt.Token) error) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if check != nil {
			if err := check(t); err != nil {
				return nil, err
			}
		}
		kid, _ := t.Header["kid"].(string)
		keys, err := set.Keys(ctx, kid)
		if err != nil {
			return nil, err
		}
		vks := jwt.VerificationKeySet{Keys: make([]jwt.VerificationKey, 0, len(keys))}
		for _, k := range keys {
			vks.Keys = append(vks.Keys, k)
		}
		return vks, nil
	}
}

// verifyIDToken applies OpenID Connect Core 3.1.3.7 to an id_token: the
// signature against the issuer's keys, iss, aud, azp, exp, iat and nonce.
// Errors name the check that failed.
func (a *Auth) verifyIDToken(ctx context.Context, p *Provider, raw, nonce string) (map[string]any, error) {
	parser := jwt.NewParser(
		jwt.WithValidMethods(idTokenAlgorithms),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithAudience(p.ClientID),
		jwt.WithLeeway(time.Minute),
		jwt.WithTimeFunc(a.now),
	)
	claims := jwt.MapClaims{}
	_, err := parser.ParseWithClaims(raw, claims, jwksKeyFunc(ctx, p.keys, nil))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, fmt.Errorf("id_token expired: %w", err)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return nil, fmt.Errorf("id_token audience is not client id %q: %w", p.ClientID, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return nil, fmt.Errorf("id_token signature does not verify with the issuer's keys: %w", err)
	case err != nil:
		return nil, fmt.Errorf("id_token invalid: %w", err)
	}
	iss, _ := claims["iss"].(string)
	tid, _ := claims["tid"].(string)
	if ok, err := a.acceptsIssuer(ctx, p, iss, tid); !ok {
		return nil, fmt.Errorf("id_token issued by a different provider, expected %q got %q%s", p.Issuer, iss, because(err))
	}
	if _, ok := claims["iat"]; !ok {
		return nil, errors.New("id_token has no iat")
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		return nil, errors.New("id_token has no sub")
	}
	got, _ := claims["nonce"].(string)
	if nonce != "" && subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
		return nil, errors.New("id_token nonce does not match the one sent (replayed or injected token)")
	}
	aud, _ := claims.GetAudience()
	azp, hasAzp := claims["azp"].(string)
	if len(aud) > 1 && !hasAzp {
		return nil, errors.New("id_token has several audiences and no azp")
	}
	if hasAzp && azp != p.ClientID {
		return nil, fmt.Errorf("id_token azp %q is not client id %q", azp, p.ClientID)
	}
	return claims, nil
}
