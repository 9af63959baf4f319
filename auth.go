package chatauth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Auth is one app's authentication: its configuration, its hooks, its
// routes and its middleware. Make one with New; register hooks before
// serving. Several Auth values can live in one process.
//
// Auth is an http.Handler serving the contract's routes under the root path;
// Mount registers the same routes on an existing ServeMux instead.
type Auth struct {
	cfg           settings
	proxies       []netip.Prefix
	forwarded     []netip.Prefix // ForwardedAllowIPs
	parserOptions []jwt.ParserOption
	keys          atomic.Pointer[keyring]
	origins       *http.CrossOriginProtection
	mux           *http.ServeMux
	now           func() time.Time
	hooks         hookRegistry // hooks.go

	providersMu sync.RWMutex
	providers   map[string]*Provider
	hostKeys    *hostVerifier
	renewed     renewals
	cuts        cutClock
	revokedMu   sync.Mutex
	revokedCh   chan struct{}
	tokenBudget int // the longest token issued: what MaxCookieChunks cookies hold

	// Header login (header.go): the sessions its two modes (in hooks)
	// started for clients that send their credential on every request.
	headerSessions *headerSessions
	// Login CPU (logincpu.go): the checks that may run at once, and how
	// long one waits for a slot.
	passwordSlots, headerSlots slots
	checkWait                  time.Duration
	// stateDir is the StateDir New opened for Config.Stores.StateDir, which
	// Close releases.
	stateDir *StateDir
}

// zeroTime reads better than time.Time{} in grants: "no fixed end".
var zeroTime time.Time

// PasswordFunc checks a username and password.
//
// It answers as every chatauth hook that decides who a user is does
// (Chainlit's Optional[User]): a user accepts; nil and a nil error
// rejects (401 credentialssignin); an error is a failure of the hook's own (500, cause
// logged, never shown); a panic is recovered and answered as an error
// (500, logged).
type PasswordFunc func(ctx context.Context, username, password string) (*User, error)

// HeaderFunc turns the request's headers (all of them, a copy) into a user:
// an authenticating proxy's X-Forwarded-User (register it with
// OnProxyHeader), an API key or a gateway's signed token (register it with
// OnHeaderCredential).
//
// It answers as every chatauth hook that decides who a user is does
// (Chainlit's Optional[User]): a user accepts; nil and a nil error
// rejects (401 credentialssignin); an error is a failure of the hook's own (500, cause
// logged, never shown); a panic is recovered and answered as an error
// (500, logged).
type HeaderFunc func(ctx context.Context, header http.Header) (*User, error)

// LogoutFunc runs at logout, after the session is revoked and its cookies
// cleared; u is nil when the request had no valid session. What it writes to
// w (headers, cookies) reaches the client with the cookie deletions. It
// cannot refuse a logout, which is done when it runs; a panic is
// recovered, logged and answered 500 (the session stays revoked).
type LogoutFunc func(w http.ResponseWriter, r *http.Request, u *User)

// PersistFunc stores a user at each login (an upsert, like Chainlit's data
// layer) and returns the stored user, typically with ID and CreatedAt set.
// The returned user is the one the session carries. It does not decide who
// may log in (the login hooks do): nil and a nil error keeps u as it is;
// an error, or a panic, is answered 500 and logged, and no session starts.
type PersistFunc func(ctx context.Context, u *User) (*User, error)

// New checks cfg and returns an Auth, or an error naming every problem in
// cfg at once.
func New(c Config) (*Auth, error) {
	cfg, proxies, err := c.resolve()
	if err != nil {
		return nil, err
	}
	forwarded, _ := forwardedPeers(cfg.ForwardedAllowIPs) // checked by resolve
	a := &Auth{cfg: cfg, proxies: proxies, forwarded: forwarded, now: time.Now, origins: cfg.trustedOrigins(),
		providers: make(map[string]*Provider), revokedCh: make(chan struct{})}
	a.hooks.cur.Store(&hooks{oauth: defaultOAuth})
	a.passwordSlots = make(slots, cfg.PasswordConcurrency)
	a.headerSlots = make(slots, cfg.HeaderConcurrency)
	a.checkWait = defaultCheckWait
	a.headerSessions = newHeaderSessions(headerSessionsMaxEntries, headerSessionsMaxBytes)
	if cfg.HostTokens != nil {
		if a.hostKeys, err = newHostVerifier(cfg.HostTokens, cfg.HTTPClient, func() time.Time { return a.now() }); err != nil {
			return nil, fmt.Errorf("chatauth: bad configuration: %w", err)
		}
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		// One spelling per token: base64url with non-zero padding bits would
		// give a revoked Chainlit token (named by its hash) a fresh name.
		jwt.WithStrictDecoding(),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		// Instances' clocks differ a little: a token issued on one must not
		// be "issued in the future" on another. exp is checked strictly
		// after parsing, without leeway.
		jwt.WithLeeway(5 * time.Second),
		jwt.WithTimeFunc(func() time.Time { return a.now() }),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	a.parserOptions = opts
	if err := a.openStores(); err != nil {
		return nil, err
	}
	cfg = a.cfg
	giveLogger(cfg)
	a.setSecrets(cfg.Secret, cfg.PreviousSecrets)
	a.tokenBudget = a.cookieTokenBudget()
	a.mux = http.NewServeMux()
	a.Mount(a.mux)
	return a, nil
}

// NewFromEnv is New(ConfigFromEnv(os.Getenv)): a Chainlit .env works as is.
func NewFromEnv() (*Auth, error) {
	cfg, err := ConfigFromEnv(nil)
	if err != nil {
		return nil, err
	}
	return New(cfg)
}

// OnPassword registers the password hook and turns on POST /login; nil
// turns it off. Like every On method, it may be called at any time, also
// while requests are served: the hook takes effect for the requests that
// start after it.
func (a *Auth) OnPassword(f PasswordFunc) {
	if a.madeByNew() {
		a.setHook(func(h *hooks) { h.password = f })
	}
}

// OnLogout registers the logout hook; nil removes it.
func (a *Auth) OnLogout(f LogoutFunc) {
	if a.madeByNew() {
		a.setHook(func(h *hooks) { h.logout = f })
	}
}

// OnPersist registers the hook that stores users at login; nil removes it.
func (a *Auth) OnPersist(f PersistFunc) {
	if a.madeByNew() {
		a.setHook(func(h *hooks) { h.persist = f })
	}
}

// RootPath is the cleaned root path every route lives under ("" for none).
func (a *Auth) RootPath() string {
	if a == nil {
		return ""
	}
	return a.cfg.RootPath
}

// CookieName is the name of the session cookie (chunks add _0, _1, ...).
func (a *Auth) CookieName() string {
	if a == nil {
		return ""
	}
	return a.cfg.CookieName
}

// Mount registers the contract's routes on mux under the root path, with
// Go 1.22 method patterns:
//
//	GET  R/auth/config    POST R/login     POST R/auth/header
//	POST R/auth/jwt       GET  R/user      POST R/logout
//	GET  R/auth/oauth/{provider}    GET, POST R/auth/oauth/{provider}/callback
func (a *Auth) Mount(mux *http.ServeMux) {
	if mux == nil {
		return
	}
	if !a.madeByNew() {
		slog.Default().Error(errNotMadeByNew.Error() + ": Mount registers no routes")
		return
	}
	r := a.cfg.RootPath
	routes := []struct {
		pattern string
		handler http.Handler
	}{
		{"GET " + r + "/auth/config", http.HandlerFunc(a.serveConfig)},
		{"POST " + r + "/login", a.guard(a.answerFormPost(a.serveLogin))},
		{"POST " + r + "/auth/header", a.guard(a.answerFormPost(a.serveHeaderLogin))},
		{"POST " + r + "/auth/jwt", a.guard(a.serveJWTLogin)},
		{"GET " + r + "/user", http.HandlerFunc(a.serveUser)},
		{"POST " + r + "/logout", a.guard(a.serveLogout)},
		{"GET " + r + "/auth/oauth/{provider}", http.HandlerFunc(a.serveOAuthStart)},
		// The callback is a cross-site POST with response_mode=form_post: it
		// is protected by the sealed, single-use state, not by Origin checks.
		{"GET " + r + "/auth/oauth/{provider}/callback", http.HandlerFunc(a.serveOAuthCallback)},
		{"POST " + r + "/auth/oauth/{provider}/callback", http.HandlerFunc(a.serveOAuthCallback)},
	}
	preflights := map[string]bool{}
	for _, rt := range routes {
		mux.Handle(rt.pattern, a.cors(a.limitBodyTime(rt.handler)))
		if _, path, _ := strings.Cut(rt.pattern, " "); len(a.cfg.EmbedOrigins) > 0 && !preflights[path] {
			preflights[path] = true
			mux.Handle("OPTIONS "+path, a.cors(http.HandlerFunc(a.servePreflight)))
		}
	}
}

// ServeHTTP serves the contract's routes, as Mount registers them; a path
// not in canonical form ("//login") is answered 404, not redirected
// (CleanPathsOnly).
func (a *Auth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case w == nil || r == nil:
		return
	case !a.madeByNew():
		notMadeByNew().ServeHTTP(w, r)
		return
	}
	if !cleanRequestPath(r) {
		refuseUncleanPath(w)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// maxBodyBytes bounds request bodies of the auth routes.
const maxBodyBytes = 64 << 10

// guard wraps an unsafe (POST) route: cross-origin requests are refused and
// the body is bounded.
func (a *Auth) guard(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.origins.Check(r); err != nil {
			a.deny(w, r, crossOrigin("request", reasonCrossOrigin, err))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		// One id for every log line of the request.
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, requestID(r)))
		h(w, r)
	})
}

// serveConfig answers GET /auth/config as Chainlit does: the login
// methods, and the login page's look (default_theme and ui), which
// Chainlit's web client reads from there.
func (a *Auth) serveConfig(w http.ResponseWriter, r *http.Request) {
	ui := a.cfg.UI
	writeJSON(w, http.StatusOK, map[string]any{
		"requireLogin":   a.loginConfigured(),
		"passwordAuth":   a.hook().password != nil,
		"headerAuth":     a.headerLoginOn(),
		"oauthProviders": a.providerIDs(),
		"default_theme":  ui.DefaultTheme,
		"ui": map[string]*string{
			"login_page_image":             nullIfEmpty(ui.LoginPageImage),
			"login_page_image_filter":      nullIfEmpty(ui.LoginPageImageFilter),
			"login_page_image_dark_filter": nullIfEmpty(ui.LoginPageImageDarkFilter),
		},
	})
}

// nullIfEmpty is s, or JSON null for "" (Chainlit's None).
func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (a *Auth) loginConfigured() bool {
	return a.cfg.RequireLogin || a.hook().password != nil || a.headerLoginOn() || len(a.providerIDs()) > 0
}

// retryAfterSeconds renders a wait as whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(ceilSeconds(d), 1))
}
