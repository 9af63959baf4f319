package chatauthtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/providers"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// Paths of the provider's endpoints, relative to Issuer.
const (
	DiscoveryPath  = "/.well-known/openid-configuration"
	AuthorizePath  = "/authorize"
	TokenPath      = "/token"
	UserinfoPath   = "/userinfo"
	JWKSPath       = "/jwks"
	EndSessionPath = "/end_session"
)

// Lifetimes of what the provider issues, unless changed.
const (
	// CodeLifetime bounds an authorization code (RFC 6749 4.1.2 recommends
	// at most ten minutes).
	CodeLifetime = 10 * time.Minute
	// DefaultTokenLifetime is the lifetime of access tokens and id_tokens
	// (expires_in, exp); SetTokenLifetime changes it for access tokens.
	DefaultTokenLifetime = time.Hour
)

// User is the person the provider logs in at its authorize endpoint, without
// a form. Its fields become the standard claims of the id_token and of the
// userinfo answer, each when the granted scope asks for it: sub always;
// name, picture and preferred_username with "profile"; email and
// email_verified with "email". Empty fields are left out.
type User struct {
	// Subject is the stable identifier (sub). Empty: derived from Email,
	// or "user-1" when Email is empty too.
	Subject string
	// Email and EmailVerified are the email and email_verified claims.
	Email         string
	EmailVerified bool
	// Name, Picture and PreferredUsername are profile claims.
	Name, Picture, PreferredUsername string
	// Claims are added to the id_token and the userinfo answer whatever the
	// scope, over the standard claims above (a test can so send
	// email_verified as the string "true", as some providers do). The
	// protocol claims of the id_token (iss, aud, exp, ...) cannot be
	// overridden here: use Misbehave.
	Claims map[string]any
}

// TestUser is the user a new Provider logs in.
var TestUser = User{
	Subject:           "user-1",
	Email:             "ada@example.com",
	EmailVerified:     true,
	Name:              "Ada Lovelace",
	Picture:           "https://example.com/ada.png",
	PreferredUsername: "ada",
}

// Provider is a real OpenID Connect provider (OpenID Connect Core 1.0 and
// Discovery 1.0, RFC 6749, RFC 7636 PKCE, RFC 7517 JWKS, RFC 9207 iss)
// serving on loopback, for tests of relying parties. Its authorize endpoint
// logs in the current user without a form; everything else is checked as a
// strict provider checks it: client authentication, single-use codes bound
// to client, redirect URI and PKCE challenge, bearer access tokens.
//
// Misbehave turns on faults (wrong nonce, expired id_token, a token endpoint
// that fails or hangs, ...) to test the relying party's defences. All
// methods are safe for concurrent use.
type Provider struct {
	// Issuer is the provider's issuer identifier and base URL, the
	// httptest server's URL ("http://127.0.0.1:PORT"). Read-only.
	Issuer string
	// ClientID and ClientSecret are the one registered client's
	// credentials, random for each Provider. Read-only.
	ClientID, ClientSecret string

	srv       *httptest.Server
	done      chan struct{} // closed by Close: blocked handlers return
	closeOnce sync.Once

	mu            sync.Mutex
	user          User
	redirectURIs  []string
	logoutURIs    []string
	misbehavior   Misbehavior
	errCode       string
	errDesc       string
	tokenLifetime time.Duration
	keys          keySet
	codes         map[string]*authCode
	access        map[string]*grant
	refresh       map[string]*grant
	counts        Counts
	lastAuthorize url.Values
	lastToken     url.Values
	lastAuth      string
	endSessions   []url.Values
}

// Counts are the requests each endpoint received, failed ones included.
type Counts struct {
	Discovery, Authorize, Token, Userinfo, JWKS, EndSession int
	// Refresh counts the token requests with grant_type=refresh_token that
	// were granted.
	Refresh int
}

// NewProvider starts a Provider on a loopback port. t.Cleanup closes it.
func NewProvider(t testing.TB) *Provider {
	t.Helper()
	k, err := newSigningKey()
	if err != nil {
		t.Fatalf("chatauthtest: generating the provider's RSA key: %v", err)
	}
	p := &Provider{
		ClientID:      "chatauthtest-" + randomToken(8),
		ClientSecret:  randomToken(32),
		done:          make(chan struct{}),
		user:          TestUser,
		tokenLifetime: DefaultTokenLifetime,
		keys:          keySet{current: k},
		codes:         make(map[string]*authCode),
		access:        make(map[string]*grant),
		refresh:       make(map[string]*grant),
	}
	p.Behave()
	// Issuer is set before the server starts, so that handlers read it
	// without a race.
	p.srv = httptest.NewUnstartedServer(p.routes())
	p.Issuer = "http://" + p.srv.Listener.Addr().String()
	p.srv.Start()
	t.Cleanup(p.Close)
	return p
}

func (p *Provider) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DiscoveryPath, p.serveDiscovery)
	mux.HandleFunc(TokenPath, p.serveToken)
	mux.HandleFunc("GET "+JWKSPath, p.serveJWKS)
	// These take GET or POST; the mux answers other methods 405 with Allow.
	for path, h := range map[string]http.HandlerFunc{
		AuthorizePath:  p.serveAuthorize,
		UserinfoPath:   p.serveUserinfo,
		EndSessionPath: p.serveEndSession,
	} {
		mux.HandleFunc("GET "+path, h)
		mux.HandleFunc("POST "+path, h)
	}
	return mux
}

// Close shuts the provider down. Requests blocked by SlowToken return
// first, so Close never hangs on them. Closing twice is harmless.
func (p *Provider) Close() {
	if p == nil {
		return
	}
	p.closeOnce.Do(func() {
		if p.done != nil {
			close(p.done)
		}
		if p.srv != nil {
			p.srv.Close()
		}
	})
}

// Endpoint is the provider's endpoint for golang.org/x/oauth2.
func (p *Provider) Endpoint() oauth2.Endpoint {
	if p == nil {
		return oauth2.Endpoint{}
	}
	return oauth2.Endpoint{AuthURL: p.Issuer + AuthorizePath, TokenURL: p.Issuer + TokenPath}
}

// SetUser sets the user logged in from the next authorize request on.
// Codes and tokens issued before keep the user they were issued for.
func (p *Provider) SetUser(u User) {
	if p == nil {
		return
	}
	if u.Subject == "" {
		u.Subject = subjectFor(u.Email)
	}
	u.Claims = cloneClaims(u.Claims)
	p.mu.Lock()
	p.user = u
	p.mu.Unlock()
}

// subjectFor derives a stable subject from an e-mail address.
func subjectFor(email string) string {
	if email == "" {
		return TestUser.Subject
	}
	sum := sha256.Sum256([]byte(email))
	return "sub-" + hex.EncodeToString(sum[:8])
}

// AllowRedirectURI registers a redirect URI of the client. Once one is
// registered, authorize requests must name a registered URI exactly (OpenID
// Connect Core 3.1.2.1); before, any http(s) URI on a loopback host is
// accepted.
func (p *Provider) AllowRedirectURI(uri string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.redirectURIs = append(p.redirectURIs, uri)
	p.mu.Unlock()
}

// AllowPostLogoutRedirectURI registers a post_logout_redirect_uri of the
// client, with the same rules as AllowRedirectURI for the end_session
// endpoint.
func (p *Provider) AllowPostLogoutRedirectURI(uri string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.logoutURIs = append(p.logoutURIs, uri)
	p.mu.Unlock()
}

// SetTokenLifetime sets expires_in of the access tokens issued from now
// on, in whole seconds, at least one. A lifetime under ten seconds makes
// golang.org/x/oauth2 consider the token expired at once, which tests of
// refreshing token sources want.
func (p *Provider) SetTokenLifetime(d time.Duration) {
	if p == nil {
		return
	}
	d = max(d.Truncate(time.Second), time.Second)
	p.mu.Lock()
	p.tokenLifetime = d
	p.mu.Unlock()
}

// Counts returns how many requests each endpoint has received.
func (p *Provider) Counts() Counts {
	if p == nil {
		return Counts{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts
}

// Refreshes is how many refresh_token grants the token endpoint granted.
func (p *Provider) Refreshes() int { return p.Counts().Refresh }

// LastAuthorize returns the parameters of the last authorize request (a
// copy), or nil before the first.
func (p *Provider) LastAuthorize() url.Values {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return cloneValues(p.lastAuthorize)
}

// LastToken returns the form of the last token request (a copy, including
// client_secret when the client sent it in the form), or nil before the
// first.
func (p *Provider) LastToken() url.Values {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return cloneValues(p.lastToken)
}

// LastTokenAuthMethod is how the last token request authenticated the
// client: "client_secret_basic", "client_secret_post", or "" for none.
func (p *Provider) LastTokenAuthMethod() string {
	if p == nil {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastAuth
}

// EndSessions returns the parameters of every end_session request so far,
// in order.
func (p *Provider) EndSessions() []url.Values {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]url.Values, len(p.endSessions))
	for i, v := range p.endSessions {
		out[i] = cloneValues(v)
	}
	return out
}

// count adds one to n, a field of p.counts.
func (p *Provider) count(n *int) {
	p.mu.Lock()
	*n++
	p.mu.Unlock()
}

// serveDiscovery answers the OpenID Provider Metadata (Discovery 1.0 §3).
func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	p.count(&p.counts.Discovery)
	iss := p.Issuer
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + AuthorizePath,
		"token_endpoint":                        iss + TokenPath,
		"userinfo_endpoint":                     iss + UserinfoPath,
		"jwks_uri":                              iss + JWKSPath,
		"end_session_endpoint":                  iss + EndSessionPath,
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query", "form_post"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"claims_supported": []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp",
			"email", "email_verified", "name", "picture", "preferred_username"},
		"authorization_response_iss_parameter_supported": true,
	})
}

// writeJSON answers v as JSON, never cached (RFC 6749 5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// randomToken is n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func cloneClaims(c map[string]any) map[string]any {
	if c == nil {
		return nil
	}
	out := make(map[string]any, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// Config is the library's configuration of this provider under the given
// id: an OpenID issuer with its client credentials, for Auth.AddProvider,
// which reads the provider's discovery document (providers.OIDC).
func (p *Provider) Config(id string) *chatauth.Provider {
	if p == nil {
		return providers.OIDC(providers.OIDCOptions{ID: id})
	}
	return providers.OIDC(providers.OIDCOptions{ID: id, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret})
}
