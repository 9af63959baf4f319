package chatauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chatauth/chatauth/internal/cookiechunk"
)

// minSecretBytes is the shortest accepted signing secret (RFC 7518 3.2:
// an HS256 key must be at least as long as the hash output).
const minSecretBytes = 32

// createSecretHint tells a person how to make a secret.
const createSecretHint = "make one with: go run github.com/chatauth/chatauth/cmd/chatauth@latest create-secret"

// Config is everything New needs, in parts: the cookie, the session, the
// proxies in front, the cross-origin callers, logins, OAuth and the stores.
// Each part checks itself, and New names every problem at once.
//
// One rule holds for every number and duration: zero takes the default
// named on the field, and a negative value is refused by New with an error
// naming the field, except Off (-1) on the fields that say it turns
// something off. Secret is the only required field.
type Config struct {
	// Secret signs session tokens (HS256) and seals the OAuth state cookie.
	// At least 32 bytes. CHAINLIT_AUTH_SECRET; the same value as a Chainlit
	// deployment keeps its users logged in.
	Secret []byte
	// PreviousSecrets are still accepted when verifying tokens, so a secret
	// can be rotated without logging everyone out. A token's kid header,
	// derived from the secret that signed it, picks the key; tokens without
	// kid (Chainlit's) are tried with each. CHATAUTH_PREVIOUS_SECRETS
	// (comma-separated).
	//
	// A previous secret may be shorter than 32 bytes (not empty): Chainlit
	// accepts any secret, and a deployment moving over keeps its sessions by
	// signing with a new long Secret while its old short one still verifies
	// the sessions it signed, until they end (Session.Timeout at most). New
	// logs a warning naming each short one; remove it then.
	PreviousSecrets [][]byte

	// BaseURL is the public URL of the app ("https://chat.example.com"),
	// used for OAuth redirect URIs and to decide the cookies' Secure flag.
	// A path is kept, for a proxy that serves the app under a prefix it
	// strips ("https://x.example/chat"): redirect URIs are BaseURL +
	// RootPath + "/auth/oauth/{id}/callback", as Chainlit builds them from
	// CHAINLIT_URL; a query or fragment is dropped. Empty: derived from
	// each request (see ProxyConfig.ForwardedAllowIPs). CHAINLIT_URL.
	BaseURL string
	// RootPath is the prefix every route lives under ("/chat"); empty for
	// none. CHAINLIT_ROOT_PATH.
	RootPath string

	// Cookie is the session cookie.
	Cookie CookieConfig
	// Session is how long sessions last and what their tokens carry.
	Session SessionConfig
	// Proxy says which peers are believed about the client and the URL.
	Proxy ProxyConfig
	// Origins are the other sites that may call the app.
	Origins OriginsConfig
	// HostTokens, when set, makes /auth/jwt accept tokens of a host
	// application signed with its own public keys instead of the secret.
	HostTokens *HostTokens
	// Login bounds password and header logins.
	Login LoginConfig
	// OAuth is how chatauth talks to OAuth providers.
	OAuth OAuthConfig
	// Stores keep logouts, login attempts and provider tokens.
	Stores StoresConfig

	// UI is the look of the login page that GET /auth/config hands to
	// Chainlit's web client.
	UI UISettings
	// RequireLogin makes /auth/config say a login is required even when no
	// hook is registered: for apps that start sessions from their own
	// routes with StartSession. CHAINLIT_CUSTOM_AUTH.
	RequireLogin bool
	// BodyReadTimeout bounds the time each of chatauth's routes spends
	// reading a request body (http.ResponseController's read deadline):
	// a body that has not arrived by then is answered 408 (reason
	// body_timeout) by the routes that read one, and its connection is
	// closed. Default 5 s; Off leaves it to the http.Server.
	BodyReadTimeout time.Duration
	// Logger receives one line per auth decision; default slog.Default().
	Logger *slog.Logger
}

// Off turns off the fields that document it (Session.TokenCacheSize,
// BodyReadTimeout); any other negative value is refused by New.
const Off = -1

// CookieConfig is the session cookie.
type CookieConfig struct {
	// Name names the session cookie; default "access_token".
	// CHAINLIT_AUTH_COOKIE_NAME.
	Name string
	// Path is the Path of the session cookie, set and cleared; by default
	// the root path ("/" without one). It must be "/" or contain the root
	// path, or browsers would not send the cookie to the routes.
	// CHAINLIT_AUTH_COOKIE_PATH.
	//
	// Chainlit sets its cookie at "/" whatever its root path (and clears it
	// at CHAINLIT_AUTH_COOKIE_PATH); whenever Path is not "/", logout and
	// every new session also delete the "/" copies the request carries, so
	// that a cookie left by a Chainlit deployment neither survives logout
	// nor rides beside the new session.
	Path string
	// SameSite is http.SameSiteLaxMode (the default, also for zero and
	// http.SameSiteDefaultMode), http.SameSiteStrictMode or
	// http.SameSiteNoneMode (which forces Secure). CHAINLIT_COOKIE_SAMESITE
	// (lax, strict or none).
	SameSite http.SameSite
	// Secure forces the Secure flag even when the app looks like it is
	// served over plain http.
	Secure bool
	// Partitioned makes the session cookie SameSite=None; Secure;
	// Partitioned (CHIPS), for an app embedded in another site's page.
	Partitioned bool
	// MaxChunks bounds the cookies one session may take; a user whose
	// token needs more is refused when the session starts, with an error
	// naming the metadata that made it large. Default 4, at most 5: five
	// cookies of 3000 bytes are the longest token MaxTokenBytes reads back.
	// The same budget holds for every token issued (login, StartSession,
	// IssueToken, renewal, /auth/jwt), so none is issued that this Auth
	// would refuse.
	MaxChunks int
}

// SessionConfig is how long sessions last and what their tokens carry.
type SessionConfig struct {
	// Timeout is how long a session lasts; default 15 days, at least 1 s.
	// Unless idle or logged out, a session lasts at least this long: token
	// exp and cookie Max-Age are rounded up to the second (the cookie
	// outlives the token by less than a second). It is also the most any
	// session lasts: a token presented to /auth/jwt (a host's, or one
	// signed with the secret whose exp is years away) gives a session that
	// ends by then. CHAINLIT_USER_SESSION_TIMEOUT (seconds), a chatauth
	// variable: Chainlit reads user_session_timeout from [project] in
	// .chainlit/config.toml, so "user_session_timeout = 3600" there is
	// CHAINLIT_USER_SESSION_TIMEOUT=3600 here.
	Timeout time.Duration
	// IdleTimeout, when set, ends a session unused for that long: tokens
	// then expire after IdleTimeout, and the middleware re-issues the cookie
	// (same session, new exp) once past half of it, never past the absolute
	// Timeout. Default none (zero); at least 2 s when set. Renewal happens
	// in RequireUser and WithUser, on requests that carry the session
	// cookie; GET R/user does not renew (it only reads the session), and
	// bearer tokens (Authorization, the WebSocket subprotocol) are never
	// renewed: the client holds them, so a client of IssueToken asks for a
	// new token before IdleTimeout runs out.
	IdleTimeout time.Duration
	// CheckInterval is how often WatchSession asks the RevocationStore
	// whether an open connection's session was revoked on another
	// instance; default 30 s. A RevocationWatcher store (redisstore) tells
	// it at once, and the poll is only a safety net.
	CheckInterval time.Duration
	// Issuer and Audience, when set, are written to every token (iss, aud)
	// and required on every token read.
	Issuer, Audience string
	// TokenCacheSize bounds the cache of verified tokens; default 10000,
	// Off turns the cache off.
	TokenCacheSize int
	// TokenCacheBytes bounds the memory of the cache of verified tokens
	// (each token plus an estimate of its decoded session); default 16 MiB.
	// Tokens over a sixteenth of it are not cached.
	TokenCacheBytes int
}

// ProxyConfig says which peers are believed about the client and the URL.
type ProxyConfig struct {
	// Trusted are the CIDRs ("10.0.0.0/8", "127.0.0.1/32") whose
	// X-Forwarded-For/-Proto/-Host headers are believed, and the only
	// peers whose identity headers reach a hook registered with
	// OnProxyHeader. Empty: no proxy is trusted. CHATAUTH_TRUSTED_PROXIES.
	Trusted []string
	// ForwardedAllowIPs are the peers (CIDRs or addresses, "*" for any)
	// whose X-Forwarded-Proto is believed when the public URL comes from
	// the request (BaseURL unset): for OAuth redirect URIs and the
	// cookies' Secure flag. Default loopback (127.0.0.0/8 and ::1):
	// uvicorn, and so Chainlit, believes X-Forwarded-Proto from 127.0.0.1
	// unless told otherwise, so a proxy on the same host that passes Host
	// on works without settings. X-Forwarded-Host, which uvicorn never
	// reads, is believed from Trusted only. These peers are believed about
	// the URL only, never about who the user is (header login) or the
	// client's address: that takes Trusted. With BaseURL set, no request
	// header matters. FORWARDED_ALLOW_IPS (uvicorn's variable,
	// comma-separated).
	ForwardedAllowIPs []string
}

// OriginsConfig are the other sites that may call the app. Both lists are
// written in the form browsers send in Origin ("https://app.example.com":
// scheme and host in lower case, no default port, no trailing slash); New
// rewrites each value in that form and refuses anything with a path,
// query or wildcard. One check covers both: the app's own origin
// (BaseURL's) and every origin listed here may POST cross-origin.
type OriginsConfig struct {
	// Allowed may send unsafe requests (POST) cross-origin, for instance a
	// front end on another host. CHATAUTH_ALLOWED_ORIGINS.
	Allowed []string
	// Embed are the sites allowed to embed the app (an iframe or a
	// widget): the auth routes answer them CORS with credentials (their
	// exact origin, never "*"), they may POST cross-origin, and
	// Auth.AllowFraming lets them frame the app's pages. CORS covers the
	// library's routes only: wrap the app's own with Auth.CORS.
	Embed []string
}

// LoginConfig bounds password and header logins.
type LoginConfig struct {
	// Limits bound password attempts and header credential checks; zero
	// fields take defaults.
	Limits PasswordLimits
	// PasswordConcurrency bounds the password checks (calls of the
	// password hook, where the bcrypt comparison runs) in progress at once.
	// A login that finds every slot taken waits up to a second, then gets
	// 503 with Retry-After (reason busy). Default GOMAXPROCS-1, at least 1:
	// a core is left for chat traffic however many logins arrive.
	PasswordConcurrency int
	// HeaderConcurrency is the same bound for calls of the header hooks
	// (OnProxyHeader, OnHeaderCredential), so that a slow hook cannot take
	// the server down; default as PasswordConcurrency.
	HeaderConcurrency int
}

// OAuthConfig is how chatauth talks to OAuth providers.
type OAuthConfig struct {
	// HTTPClient makes every call to OAuth providers; default a client
	// with a Timeout time-out.
	HTTPClient *http.Client
	// Timeout bounds each call to a provider (discovery, token exchange,
	// user info, keys); default 10 s.
	Timeout time.Duration
	// StateCookieLifetime bounds an OAuth login from redirect to callback;
	// default 180 s, at least 1 s. CHAINLIT_STATE_COOKIE_LIFETIME (seconds).
	StateCookieLifetime time.Duration
	// KeepProviderTokens stores each OAuth login's provider token in
	// Stores.Tokens, for Auth.TokenSource. Off by default: the tokens are
	// never put in the session either way. They are deleted when the user
	// logs out (POST /logout or EndSession of a session opened with that
	// provider) and by RevokeUser, unless KeepProviderTokensAfterLogout.
	// The store keeps one token per user and provider, shared by all of the
	// user's sessions, so logging out on one device ends TokenSource for
	// the others until their next login with the provider.
	KeepProviderTokens bool
	// KeepProviderTokensAfterLogout keeps the provider tokens after logout
	// and RevokeUser, for apps that act for the user while they are away (a
	// nightly sync). The id_token kept for ProviderLogout is deleted either
	// way. Off by default: a logout ends the app's access to the provider
	// too.
	KeepProviderTokensAfterLogout bool
	// ProviderLogout makes logout of a session opened with an OpenID
	// provider that has an end_session_endpoint also log out at the
	// provider (RP-initiated logout): POST /logout answers the provider's
	// logout URL as its redirect. The login's id_token is kept in
	// Stores.Tokens for the id_token_hint, and deleted at logout. Without
	// it, the next "Sign in with ..." may log the user straight back in;
	// OAUTH_PROMPT=login is the other cure. A logout hook's
	// SetLogoutRedirect does not cancel it: the provider logs the user out,
	// then sends the browser to the hook's target (see SetLogoutRedirect).
	ProviderLogout bool
	// PostLogoutRedirectURI is where the provider sends the browser after
	// its logout when the logout hook sets no redirect; default the public
	// origin + root path + /login. Register it at the provider.
	PostLogoutRedirectURI string
}

// StoresConfig keeps logouts, login attempts and provider tokens. By
// default all three live in this process's memory, bounded by the Max
// fields; set Revocations, Throttle and Tokens to shared stores
// (redisstore) for several instances, or StateDir for one that must
// remember logouts across restarts. The Max fields size the memory stores
// (and the state directory's, which holds its records in memory too).
type StoresConfig struct {
	// Revocations remembers logged-out sessions; default in memory.
	Revocations RevocationStore
	// Throttle counts password attempts; default in memory.
	Throttle Throttle
	// Tokens keeps OAuth provider tokens when OAuth.KeepProviderTokens or
	// OAuth.ProviderLogout is set; default in memory.
	Tokens TokenStore
	// StateDir is a directory where this instance keeps what a restart
	// must not forget: logouts and RevokeUser cuts, the single use of OAuth
	// states, and the provider tokens (sealed with Secret). New opens it as
	// a StateDir (creating it, 0700) and uses it as Revocations, Throttle
	// and Tokens, which must then be left nil; Auth.Close releases it. One
	// process owns a directory at a time. Without StateDir (or a shared
	// store such as redisstore), revocations live in memory: a restart
	// forgets every logout, and New logs a warning saying so.
	// CHATAUTH_STATE_DIR.
	StateDir string
	// MaxRevocations bounds the revocations the memory store (and the
	// state directory) hold one by one; default 1,048,576, about 56 bytes
	// each. Past it the oldest are folded into per-user cuts (a user's
	// sessions issued before the cut end), never dropped. Up to
	// MaxRevocations/8 (at least 16) users' cuts and MaxRevocations
	// one-time OAuth states are held beside them.
	MaxRevocations int
	// MaxThrottleKeys bounds the usernames and addresses the memory
	// throttle counts exactly; default 100,000, about 40 bytes each.
	// Further keys are counted in a fixed-size sketch, which may
	// over-count but never under-counts.
	MaxThrottleKeys int
	// MaxProviderTokens and MaxProviderTokenBytes bound the memory token
	// store; default 100,000 tokens and 64 MiB. Past either, the tokens
	// saved longest ago are forgotten: TokenSource then fails with
	// ErrNoToken until the user logs in again.
	MaxProviderTokens, MaxProviderTokenBytes int
}

// settings is Config resolved by New: every default filled in, every
// value checked and in its one spelling, flat for the code that reads it.
type settings struct {
	Secret                        []byte
	PreviousSecrets               [][]byte
	BaseURL                       string
	RootPath                      string
	CookieName                    string
	CookiePath                    string
	SameSite                      string // "lax", "strict" or "none"
	CookieSecure                  bool
	SessionTimeout                time.Duration
	IdleTimeout                   time.Duration
	SessionCheckInterval          time.Duration
	MaxCookieChunks               int
	Partitioned                   bool
	StateCookieLifetime           time.Duration
	Issuer, Audience              string
	TrustedProxies                []string
	ForwardedAllowIPs             []string
	AllowedOrigins                []string
	EmbedOrigins                  []string
	HostTokens                    *HostTokens
	UI                            UISettings
	RequireLogin                  bool
	PasswordLimits                PasswordLimits
	PasswordConcurrency           int
	HeaderConcurrency             int
	Revocations                   RevocationStore
	Throttle                      Throttle
	Tokens                        TokenStore
	KeepProviderTokens            bool
	KeepProviderTokensAfterLogout bool
	ProviderLogout                bool
	PostLogoutRedirectURI         string
	HTTPClient                    *http.Client
	OAuthTimeout                  time.Duration
	TokenCacheSize                int
	BodyReadTimeout               time.Duration
	TokenCacheBytes               int
	Logger                        *slog.Logger
	StateDir                      string
	MaxRevocations                int
	MaxThrottleKeys               int
	MaxProviderTokens             int
	MaxProviderTokenBytes         int
}

// UISettings are the login page settings Chainlit keeps in the [UI]
// section of .chainlit/config.toml and its web client reads from
// GET /auth/config (default_theme, and ui.login_page_image,
// ui.login_page_image_filter, ui.login_page_image_dark_filter). chatauth
// only passes them on; ConfigFromEnv reads them from CHATAUTH_ variables.
type UISettings struct {
	// DefaultTheme is "dark" (the default, as in Chainlit) or "light".
	// CHATAUTH_DEFAULT_THEME.
	DefaultTheme string
	// LoginPageImage is the picture beside the login form: a URL, or a path
	// the app serves ("/public/login.jpg"); empty for Chainlit's default.
	// CHATAUTH_LOGIN_PAGE_IMAGE.
	LoginPageImage string
	// LoginPageImageFilter and LoginPageImageDarkFilter are Tailwind filter
	// classes ("brightness-50 grayscale") applied to that picture in the
	// light and the dark theme. CHATAUTH_LOGIN_PAGE_IMAGE_FILTER,
	// CHATAUTH_LOGIN_PAGE_IMAGE_DARK_FILTER.
	LoginPageImageFilter, LoginPageImageDarkFilter string
}

// PasswordLimits bound password login attempts, per username and per client
// address, in a fixed window. Attempts past the limit are answered 429 with
// Retry-After before the password hook runs; a successful login clears the
// username's count.
type PasswordLimits struct {
	// PerUsername is the attempts allowed per username and window; default 10.
	PerUsername int
	// PerAddress is the attempts allowed per client address and window;
	// default 100.
	PerAddress int
	// Window is the length of the window; default 15 minutes.
	Window time.Duration
	// ChecksPerAddress bounds the password and header credential checks
	// one client address may cause per window, whether they succeed or
	// not: the CPU a client can make the server spend on bcrypt or on the
	// credential hook. Default 1000, or twice PerAddress when that is more.
	ChecksPerAddress int
}

// problems collects the errors of a Config's parts; each names its field.
type problems []error

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Errorf(format, args...)) }

// zeroOr is v, or def when v is zero; a negative v is refused, naming
// field, unless off is allowed and v is Off.
func zeroOr[T int | time.Duration](p *problems, field string, v, def T, offAllowed bool) T {
	switch {
	case v == 0:
		return def
	case v == Off && offAllowed:
		return v
	case v < 0:
		p.add("%s %v is negative (zero takes the default)", field, v)
	}
	return v
}

// atLeast refuses a set v shorter than least, naming field.
func atLeast(p *problems, field string, v, least time.Duration) {
	if v > 0 && v < least {
		p.add("%s %v is shorter than %v", field, v, least)
	}
}

// resolve checks every part of c and fills in the defaults, naming every
// problem at once.
func (c Config) resolve() (settings, []netip.Prefix, error) {
	var p problems
	s := settings{Secret: c.Secret, PreviousSecrets: c.PreviousSecrets, HostTokens: c.HostTokens,
		RequireLogin: c.RequireLogin, Logger: c.Logger}
	c.checkSecrets(&p)
	s.BaseURL, s.RootPath = c.urls(&p)
	c.Cookie.resolve(&p, &s)
	c.Session.resolve(&p, &s)
	proxies := c.Proxy.resolve(&p, &s)
	c.Origins.resolve(&p, &s)
	c.Login.resolve(&p, &s)
	c.OAuth.resolve(&p, &s)
	c.Stores.resolve(&p, &s)
	s.BodyReadTimeout = zeroOr(&p, "BodyReadTimeout", c.BodyReadTimeout, defaultBodyReadTimeout, true)
	s.UI = c.UI
	switch s.UI.DefaultTheme {
	case "":
		s.UI.DefaultTheme = "dark"
	case "dark", "light":
	default:
		p.add("UI.DefaultTheme %q must be dark or light", s.UI.DefaultTheme)
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if len(p) > 0 {
		return s, nil, fmt.Errorf("chatauth: bad configuration: %w", errors.Join(p...))
	}
	return s, proxies, nil
}

// checkSecrets checks Secret and PreviousSecrets, as SetSecrets does.
func (c Config) checkSecrets(p *problems) {
	err := checkSecrets(c.Secret, c.PreviousSecrets)
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			p.add("%v", e)
		}
	}
}

// urls checks BaseURL and RootPath and returns them cleaned.
func (c Config) urls(p *problems) (base, root string) {
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add("BaseURL %q is not an http(s) URL such as https://chat.example.com", c.BaseURL)
		} else {
			base = u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/")
		}
	}
	root, err := cleanRootPath(c.RootPath)
	if err != nil {
		p.add("%v", err)
	}
	return base, root
}

// resolve checks the cookie part; s.RootPath is set.
func (c CookieConfig) resolve(p *problems, s *settings) {
	s.CookieName, s.CookieSecure, s.Partitioned = c.Name, c.Secure, c.Partitioned
	if s.CookieName == "" {
		s.CookieName = "access_token"
	} else if !validCookieName(s.CookieName) {
		p.add("Cookie.Name %q is not a valid cookie name", s.CookieName)
	}
	var err error
	if s.CookiePath, err = cookiePath(c.Path, s.RootPath, s.CookieName); err != nil {
		p.add("%v", err)
	}
	switch c.SameSite {
	case 0, http.SameSiteDefaultMode, http.SameSiteLaxMode:
		s.SameSite = "lax"
	case http.SameSiteStrictMode:
		s.SameSite = "strict"
	case http.SameSiteNoneMode:
		s.SameSite = "none"
	default:
		p.add("Cookie.SameSite %d is not an http.SameSite mode", c.SameSite)
	}
	switch s.MaxCookieChunks = zeroOr(p, "Cookie.MaxChunks", c.MaxChunks, 4, false); {
	case s.MaxCookieChunks > maxCookieChunks:
		// The two budgets must agree: a login would otherwise answer 200
		// with a token that every later request refuses.
		p.add("Cookie.MaxChunks %d lets a session token grow to %d bytes (%d cookies of %d), more than MaxTokenBytes (%d) reads back: at most %d",
			c.MaxChunks, c.MaxChunks*cookiechunk.Size, c.MaxChunks, cookiechunk.Size, MaxTokenBytes, maxCookieChunks)
	}
}

// resolve checks the session part.
func (c SessionConfig) resolve(p *problems, s *settings) {
	s.SessionTimeout = zeroOr(p, "Session.Timeout", c.Timeout, 15*24*time.Hour, false)
	atLeast(p, "Session.Timeout", s.SessionTimeout, time.Second)
	s.IdleTimeout = zeroOr(p, "Session.IdleTimeout", c.IdleTimeout, 0, false)
	atLeast(p, "Session.IdleTimeout", s.IdleTimeout, 2*time.Second)
	s.SessionCheckInterval = zeroOr(p, "Session.CheckInterval", c.CheckInterval, 30*time.Second, false)
	s.Issuer, s.Audience = c.Issuer, c.Audience
	s.TokenCacheSize = zeroOr(p, "Session.TokenCacheSize", c.TokenCacheSize, 0, true)
	s.TokenCacheBytes = zeroOr(p, "Session.TokenCacheBytes", c.TokenCacheBytes, 0, false)
}

// resolve checks the proxy part and returns the trusted proxies parsed.
func (c ProxyConfig) resolve(p *problems, s *settings) []netip.Prefix {
	s.TrustedProxies, s.ForwardedAllowIPs = c.Trusted, c.ForwardedAllowIPs
	proxies := make([]netip.Prefix, 0, len(c.Trusted))
	for _, t := range c.Trusted {
		pr, err := parsePrefix(t)
		if err != nil {
			p.add("Proxy.Trusted: %q is not a CIDR or address", t)
			continue
		}
		proxies = append(proxies, pr)
	}
	if _, err := forwardedPeers(c.ForwardedAllowIPs); err != nil {
		p.add("Proxy.ForwardedAllowIPs: %v", err)
	}
	return proxies
}

// resolve checks the origins part and writes each origin the way browsers
// send it.
func (c OriginsConfig) resolve(p *problems, s *settings) {
	var errs []error
	s.AllowedOrigins, errs = canonicalOrigins("Origins.Allowed", "https://app.example.com", c.Allowed)
	*p = append(*p, errs...)
	s.EmbedOrigins, errs = canonicalOrigins("Origins.Embed", "https://host.example.com (\"*\" is never allowed with credentials)", c.Embed)
	*p = append(*p, errs...)
}

// trustedOrigins is every origin that may POST cross-origin: the app's own
// public origin (BaseURL's, which a proxy rewriting Host would otherwise
// make cross-origin), Origins.Allowed and Origins.Embed. It is the one
// cross-origin check of both lists.
func (s *settings) trustedOrigins() *http.CrossOriginProtection {
	cop := http.NewCrossOriginProtection()
	base, _ := canonicalOrigin(baseOrigin(s.BaseURL))
	for _, o := range slices.Concat([]string{base}, s.AllowedOrigins, s.EmbedOrigins) {
		if o != "" {
			// Canonical origins always parse: resolve checked them.
			_ = cop.AddTrustedOrigin(o)
		}
	}
	return cop
}

// resolve checks the login part.
func (c LoginConfig) resolve(p *problems, s *settings) {
	l := c.Limits
	l.PerUsername = zeroOr(p, "Login.Limits.PerUsername", l.PerUsername, 10, false)
	l.PerAddress = zeroOr(p, "Login.Limits.PerAddress", l.PerAddress, 100, false)
	l.Window = zeroOr(p, "Login.Limits.Window", l.Window, 15*time.Minute, false)
	l.ChecksPerAddress = zeroOr(p, "Login.Limits.ChecksPerAddress", l.ChecksPerAddress, max(1000, 2*l.PerAddress), false)
	s.PasswordLimits = l
	cores := max(1, runtime.GOMAXPROCS(0)-1)
	s.PasswordConcurrency = zeroOr(p, "Login.PasswordConcurrency", c.PasswordConcurrency, cores, false)
	s.HeaderConcurrency = zeroOr(p, "Login.HeaderConcurrency", c.HeaderConcurrency, cores, false)
}

// resolve checks the OAuth part.
func (c OAuthConfig) resolve(p *problems, s *settings) {
	s.OAuthTimeout = zeroOr(p, "OAuth.Timeout", c.Timeout, 10*time.Second, false)
	s.HTTPClient = c.HTTPClient
	if s.HTTPClient == nil {
		s.HTTPClient = &http.Client{Timeout: s.OAuthTimeout}
	}
	s.StateCookieLifetime = zeroOr(p, "OAuth.StateCookieLifetime", c.StateCookieLifetime, 180*time.Second, false)
	atLeast(p, "OAuth.StateCookieLifetime", s.StateCookieLifetime, time.Second)
	s.KeepProviderTokens, s.KeepProviderTokensAfterLogout = c.KeepProviderTokens, c.KeepProviderTokensAfterLogout
	s.ProviderLogout, s.PostLogoutRedirectURI = c.ProviderLogout, c.PostLogoutRedirectURI
}

// resolve checks the stores part and makes the memory stores that are
// needed.
func (c StoresConfig) resolve(p *problems, s *settings) {
	s.MaxRevocations = zeroOr(p, "Stores.MaxRevocations", c.MaxRevocations, defaultMaxRevocations, false)
	s.MaxThrottleKeys = zeroOr(p, "Stores.MaxThrottleKeys", c.MaxThrottleKeys, defaultMaxThrottleKeys, false)
	s.MaxProviderTokens = zeroOr(p, "Stores.MaxProviderTokens", c.MaxProviderTokens, defaultMaxProviderTokens, false)
	s.MaxProviderTokenBytes = zeroOr(p, "Stores.MaxProviderTokenBytes", c.MaxProviderTokenBytes, defaultMaxTokenBytes, false)
	s.Revocations, s.Throttle, s.Tokens, s.StateDir = c.Revocations, c.Throttle, c.Tokens, c.StateDir
	if s.StateDir != "" {
		if c.Revocations != nil || c.Throttle != nil || c.Tokens != nil {
			p.add("Stores.StateDir is set beside Stores.Revocations, Throttle or Tokens: the state directory is all three; " +
				"set StateDir alone, or open it with OpenStateDir and set the three")
		}
		return
	}
	if len(*p) > 0 {
		return // New fails: no store needed
	}
	if s.Revocations == nil {
		s.Revocations = newMemoryRevocationStore(s.MaxRevocations)
	}
	if s.Throttle == nil {
		s.Throttle = newMemoryThrottle(s.MaxThrottleKeys)
	}
	if s.Tokens == nil {
		s.Tokens = newMemoryTokenStore(s.MaxProviderTokens, s.MaxProviderTokenBytes)
	}
}

// maxCookieChunks is the most session cookies whose joined value stays
// within MaxTokenBytes: five of 3000 bytes.
const maxCookieChunks = MaxTokenBytes / cookiechunk.Size

// cleanRootPath turns "", "/" into "" and "chat/" into "/chat", and refuses
// paths that could not be mounted as a ServeMux prefix.
func cleanRootPath(p string) (string, error) {
	p = strings.TrimRight(p, "/")
	if p == "" {
		return "", nil
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("RootPath %q has an empty, . or .. segment", p)
		}
	}
	if strings.ContainsAny(p, "{}?#% \t\r\n\\") {
		return "", fmt.Errorf("RootPath %q may not contain braces, ?, #, %%, spaces or backslashes", p)
	}
	return p, nil
}

// cookiePath is the session cookie's Path: p cleaned, or by default the
// root path. It must contain the root path, so that browsers send the
// cookie to every route, and be "/" for a __Host- cookie.
func cookiePath(p, root, name string) (string, error) {
	hostPrefix := strings.HasPrefix(name, "__Host-")
	if p == "" {
		if root == "" || hostPrefix {
			return "/", nil
		}
		return root, nil
	}
	clean, err := cleanRootPath(p)
	if err != nil {
		return "", fmt.Errorf("Cookie.Path %q is not a path such as /chat (no empty, . or .. segment, braces, ?, #, %%, spaces or backslashes)", p)
	}
	if clean == "" {
		return "/", nil
	}
	if hostPrefix {
		return "", fmt.Errorf("Cookie.Path %q: a __Host- cookie must have Path=/", p)
	}
	if root != clean && !strings.HasPrefix(root, clean+"/") {
		return "", fmt.Errorf("Cookie.Path %q does not contain the root path %q: browsers would not send the session cookie to the routes", p, root)
	}
	return clean, nil
}

func validCookieName(n string) bool {
	for _, r := range n {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) {
			return false
		}
	}
	return n != ""
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ConfigFromEnv reads the Chainlit variables (and chatauth's own) through
// getenv, os.Getenv when nil, so that a Chainlit .env works unchanged:
// CHAINLIT_AUTH_SECRET, CHAINLIT_URL, CHAINLIT_ROOT_PATH,
// CHAINLIT_AUTH_COOKIE_NAME, CHAINLIT_COOKIE_SAMESITE,
// CHAINLIT_STATE_COOKIE_LIFETIME, CHAINLIT_AUTH_COOKIE_PATH,
// CHAINLIT_CUSTOM_AUTH, and chatauth's own: CHAINLIT_USER_SESSION_TIMEOUT
// (Chainlit's user_session_timeout in [project] of .chainlit/config.toml),
// CHATAUTH_PREVIOUS_SECRETS, CHATAUTH_TRUSTED_PROXIES and
// CHATAUTH_ALLOWED_ORIGINS (comma-separated), CHATAUTH_DEFAULT_THEME,
// CHATAUTH_LOGIN_PAGE_IMAGE, CHATAUTH_LOGIN_PAGE_IMAGE_FILTER and
// CHATAUTH_LOGIN_PAGE_IMAGE_DARK_FILTER (Chainlit's [UI] settings of the
// same names), CHATAUTH_STATE_DIR, and uvicorn's FORWARDED_ALLOW_IPS. OAuth
// providers are read by providers.FromEnv (package
// github.com/chatauth/chatauth/providers).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var errs []error
	seconds := func(name string) time.Duration {
		v := getenv(name)
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q is not a positive number of seconds", name, v))
			return 0
		}
		return time.Duration(n) * time.Second
	}
	c := Config{
		BaseURL:  getenv("CHAINLIT_URL"),
		RootPath: getenv("CHAINLIT_ROOT_PATH"),
		Cookie: CookieConfig{
			Name: getenv("CHAINLIT_AUTH_COOKIE_NAME"),
			Path: getenv("CHAINLIT_AUTH_COOKIE_PATH"),
		},
		Session: SessionConfig{Timeout: seconds("CHAINLIT_USER_SESSION_TIMEOUT")},
		Proxy: ProxyConfig{
			Trusted:           splitList(getenv("CHATAUTH_TRUSTED_PROXIES")),
			ForwardedAllowIPs: splitList(getenv("FORWARDED_ALLOW_IPS")),
		},
		Origins:      OriginsConfig{Allowed: splitList(getenv("CHATAUTH_ALLOWED_ORIGINS"))},
		OAuth:        OAuthConfig{StateCookieLifetime: seconds("CHAINLIT_STATE_COOKIE_LIFETIME")},
		RequireLogin: getenv("CHAINLIT_CUSTOM_AUTH") != "" && getenv("CHAINLIT_CUSTOM_AUTH") != "false",
		UI: UISettings{
			DefaultTheme:             getenv("CHATAUTH_DEFAULT_THEME"),
			LoginPageImage:           getenv("CHATAUTH_LOGIN_PAGE_IMAGE"),
			LoginPageImageFilter:     getenv("CHATAUTH_LOGIN_PAGE_IMAGE_FILTER"),
			LoginPageImageDarkFilter: getenv("CHATAUTH_LOGIN_PAGE_IMAGE_DARK_FILTER"),
		},
		Stores: StoresConfig{StateDir: strings.TrimSpace(getenv("CHATAUTH_STATE_DIR"))},
	}
	if v := getenv("CHAINLIT_COOKIE_SAMESITE"); v != "" {
		mode, ok := sameSiteModes[strings.ToLower(v)]
		if !ok {
			errs = append(errs, fmt.Errorf("CHAINLIT_COOKIE_SAMESITE=%q must be lax, strict or none", v))
		}
		c.Cookie.SameSite = mode
	}
	if s := getenv("CHAINLIT_AUTH_SECRET"); s != "" {
		c.Secret = []byte(s)
	}
	for _, s := range splitList(getenv("CHATAUTH_PREVIOUS_SECRETS")) {
		c.PreviousSecrets = append(c.PreviousSecrets, []byte(s))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("chatauth: bad environment: %w", errors.Join(errs...))
	}
	return c, nil
}

// sameSiteModes are the spellings of CHAINLIT_COOKIE_SAMESITE.
var sameSiteModes = map[string]http.SameSite{
	"lax": http.SameSiteLaxMode, "strict": http.SameSiteStrictMode, "none": http.SameSiteNoneMode,
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// loopbackPeers are the default ForwardedAllowIPs.
var loopbackPeers = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// forwardedPeers parses ForwardedAllowIPs: loopback when empty, every
// address for "*".
func forwardedPeers(list []string) ([]netip.Prefix, error) {
	if len(list) == 0 {
		return loopbackPeers, nil
	}
	var out []netip.Prefix
	for _, s := range list {
		if strings.TrimSpace(s) == "*" {
			out = append(out, netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"))
			continue
		}
		p, err := parsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR, an address or *", s)
		}
		out = append(out, p)
	}
	return out, nil
}

// baseOrigin is the origin (scheme and host) of a BaseURL, without its path.
func baseOrigin(base string) string {
	if scheme, rest, ok := strings.Cut(base, "://"); ok {
		host, _, _ := strings.Cut(rest, "/")
		return scheme + "://" + host
	}
	return base
}

// canonicalOrigins returns origins in the one spelling browsers send in
// the Origin header (see canonicalOrigin), and an error naming each value
// of field that is not an origin such as example.
func canonicalOrigins(field, example string, origins []string) ([]string, []error) {
	var out []string
	var errs []error
	for _, o := range origins {
		c, err := canonicalOrigin(o)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not an origin such as %s: %w", field, o, example, err))
			continue
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, errs
}

// canonicalOrigin is the serialization of an origin (RFC 6454 section
// 6.1), the form browsers send in Origin and that CORS, CSP and the
// cross-origin check all compare with: scheme and host in lower case, the
// scheme's default port dropped, no trailing slash. A path, query,
// fragment, user info or wildcard is refused rather than dropped: each
// says the value is not an origin.
func canonicalOrigin(o string) (string, error) {
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return "", err
	case strings.Contains(o, "*"):
		return "", errors.New("wildcards are not origins")
	case u.Scheme == "" || u.Host == "" || u.Opaque != "":
		return "", errors.New("scheme and host are required")
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", errors.New("an origin has no user info, path, query or fragment")
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if port := u.Port(); (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		host = strings.TrimSuffix(host, ":"+port)
	}
	return scheme + "://" + host, nil
}
