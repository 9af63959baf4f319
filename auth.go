package chatauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"slices"
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
	cfg           Config
	proxies       []netip.Prefix
	forwarded     []netip.Prefix // ForwardedAllowIPs
	parserOptions []jwt.ParserOption
	keys          atomic.Pointer[keyring]
	origins       *http.CrossOriginProtection
	mux           *http.ServeMux
	now           func() time.Time
	password      PasswordFunc
	logout        LogoutFunc
	persist       PersistFunc
	oauth         OAuthFunc

	providersMu sync.RWMutex
	providers   map[string]*Provider
	hostKeys    *hostVerifier
	renewed     renewals
	cuts        cutClock
	revokedMu   sync.Mutex
	revokedCh   chan struct{}
	tokenBudget int // the longest token issued: what MaxCookieChunks cookies hold

	// Header login (header.go): the two modes, and the sessions they
	// started for clients that send their credential on every request.
	proxyHeader      *headerMode
	headerCredential *headerMode
	headerSessions   *headerSessions
	// Login CPU (logincpu.go): the checks that may run at once, and how
	// long one waits for a slot.
	passwordSlots, headerSlots slots
	checkWait                  time.Duration
	// stateDir is the StateDir New opened for Config.StateDir, which
	// Close releases.
	stateDir *StateDir
}

// zeroTime reads better than time.Time{} in grants: "no fixed end".
var zeroTime time.Time

// PasswordFunc checks a username and password. It returns the user on
// success, nil and nil to reject (401 credentialssignin), or an error for a
// failure of its own (500, cause logged).
type PasswordFunc func(ctx context.Context, username, password string) (*User, error)

// HeaderFunc turns the request's headers (all of them, a copy) into a user:
// an authenticating proxy's X-Forwarded-User (register it with
// OnProxyHeader), an API key or a gateway's signed token (register it with
// OnHeaderCredential). nil and nil rejects the request (401
// credentialssignin).
type HeaderFunc func(ctx context.Context, header http.Header) (*User, error)

// LogoutFunc runs at logout, after the session is revoked and its cookies
// cleared; u is nil when the request had no valid session. What it writes to
// w (headers, cookies) reaches the client with the cookie deletions.
type LogoutFunc func(w http.ResponseWriter, r *http.Request, u *User)

// PersistFunc stores a user at each login (an upsert, like Chainlit's data
// layer) and returns the stored user, typically with ID and CreatedAt set.
// The returned user is the one the session carries.
type PersistFunc func(ctx context.Context, u *User) (*User, error)

// New checks cfg and returns an Auth, or an error naming every problem in
// cfg at once.
func New(cfg Config) (*Auth, error) {
	cfg, proxies, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	forwarded, _ := forwardedPeers(cfg.ForwardedAllowIPs) // checked by withDefaults
	a := &Auth{cfg: cfg, proxies: proxies, forwarded: forwarded, now: time.Now, origins: http.NewCrossOriginProtection(),
		providers: make(map[string]*Provider), revokedCh: make(chan struct{})}
	a.passwordSlots = make(slots, cfg.PasswordConcurrency)
	a.headerSlots = make(slots, cfg.HeaderConcurrency)
	a.checkWait = defaultCheckWait
	a.headerSessions = newHeaderSessions(headerSessionsMaxEntries, headerSessionsMaxBytes)
	// The app's own public origin is never cross-origin, even when a proxy
	// rewrites the Host header that the Origin is otherwise compared with.
	if cfg.HostTokens != nil {
		if a.hostKeys, err = newHostVerifier(cfg.HostTokens, cfg.HTTPClient, func() time.Time { return a.now() }); err != nil {
			return nil, fmt.Errorf("chatauth: bad configuration: %w", err)
		}
	}
	// The origin lists are canonical already (withDefaults); BaseURL may
	// still have upper-case letters or a default port, which browsers never
	// send in Origin.
	base, _ := canonicalOrigin(baseOrigin(cfg.BaseURL))
	for _, o := range slices.Concat([]string{base}, cfg.AllowedOrigins, cfg.EmbedOrigins) {
		if o == "" {
			continue
		}
		if err := a.origins.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("chatauth: AllowedOrigins: %w", err)
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

// OnPassword registers the password hook and turns on POST /login.
func (a *Auth) OnPassword(f PasswordFunc) {
	if a != nil {
		a.password = f
	}
}

// OnLogout registers the logout hook.
func (a *Auth) OnLogout(f LogoutFunc) {
	if a != nil {
		a.logout = f
	}
}

// OnPersist registers the hook that stores users at login.
func (a *Auth) OnPersist(f PersistFunc) {
	if a != nil {
		a.persist = f
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
			a.reject(w, r, "request", http.StatusForbidden, reasonCrossOrigin, "cross-origin request rejected", err)
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
		"passwordAuth":   a.password != nil,
		"headerAuth":     a.headerLoginOn(),
		"oauthProviders": a.Providers(),
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
	return a.cfg.RequireLogin || a.password != nil || a.headerLoginOn() || len(a.Providers()) > 0
}

// Reason codes: every rejection carries one, in the log line under
// auth.reason and, where safe, in the response. The list is stable and
// documented in doc.go.
const (
	reasonOK            = "ok"
	reasonCredentials   = "credentialssignin"
	reasonMissingField  = "missing_field"
	reasonNotEnabled    = "not_enabled"
	reasonThrottled     = "throttled"
	reasonCrossOrigin   = "cross_origin"
	reasonNoSession     = "no_session"
	reasonInvalidToken  = "invalid_token"
	reasonExpired       = "expired"
	reasonRevoked       = "revoked"
	reasonTooLarge      = "too_large"
	reasonBadScheme     = "bad_scheme"
	reasonBadFormat     = "bad_header_format"
	reasonNoHeader      = "header_missing"
	reasonUntrustedPeer = "untrusted_peer"
	reasonHookError     = "hook_error"
	reasonHookPanic     = "hook_panic"
	reasonStoreDown     = "store_unavailable"
	reasonBadOrigin     = "bad_origin"
	reasonBadRequest    = "bad_request"
	reasonBadRedirect   = "bad_redirect"
	// reasonSessionTooLarge is a user from the app (a hook) whose token
	// would not fit the cookie budget: the app's data, so a 500, unlike
	// reasonTooLarge, which is the client's input.
	reasonSessionTooLarge = "session_too_large"
	reasonBusy            = "busy"
	reasonNoCredential    = "no_credential"
)

// sessionReason maps a VerifyToken error to its reason code and status.
func sessionReason(err error) (reason string, status int) {
	switch {
	case errors.Is(err, errHeaderRejected):
		return reasonCredentials, http.StatusUnauthorized
	case errors.Is(err, errUntrustedPeer):
		return reasonUntrustedPeer, http.StatusUnauthorized
	case errors.Is(err, errOtherScheme):
		return reasonBadScheme, http.StatusUnauthorized
	case errors.Is(err, errBearerFormat):
		return reasonBadFormat, http.StatusUnauthorized
	case errors.Is(err, ErrNoSession):
		return reasonNoSession, http.StatusUnauthorized
	case errors.Is(err, ErrExpired):
		return reasonExpired, http.StatusUnauthorized
	case errors.Is(err, ErrRevoked):
		return reasonRevoked, http.StatusUnauthorized
	case errors.Is(err, ErrTokenTooLarge):
		return reasonTooLarge, http.StatusRequestHeaderFieldsTooLarge
	case errors.Is(err, ErrStoreUnavailable):
		return reasonStoreDown, http.StatusServiceUnavailable
	case errors.Is(err, ErrAmbiguousSession):
		return reasonAmbiguous, http.StatusUnauthorized
	default:
		return reasonInvalidToken, http.StatusUnauthorized
	}
}

// sessionDetail is the response detail for a failed session check,
// worded as Chainlit's: "Not authenticated" without a token, "Invalid
// authentication credentials" for another Authorization scheme, "Invalid
// authentication token" for a token that does not check out.
func sessionDetail(reason string, status int) string {
	switch reason {
	case reasonCredentials:
		return reasonCredentials
	case reasonNoSession:
		return "Not authenticated"
	case reasonBadScheme:
		return "Invalid authentication credentials"
	}
	switch status {
	case http.StatusServiceUnavailable:
		return "session store unavailable"
	case http.StatusRequestHeaderFieldsTooLarge:
		return "session token too large"
	}
	return "Invalid authentication token"
}

// rejectSession answers a failed session check (GET /user, RequireUser).
// As Chainlit's, the answers for a missing token and another scheme say
// "WWW-Authenticate: Bearer" (RFC 6750 section 3).
func (a *Auth) rejectSession(w http.ResponseWriter, r *http.Request, err error) {
	reason, status := sessionReason(err)
	if reason == reasonNoSession || reason == reasonBadScheme {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	method := "session"
	if errors.Is(err, errHeaderRejected) || errors.Is(err, errUntrustedPeer) {
		method = "header"
	}
	a.reject(w, r, method, status, reason, sessionDetail(reason, status), err)
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

var successBody = map[string]bool{"success": true}

// reject logs one line for a refused request and answers
// {"detail": detail} with status.
func (a *Auth) reject(w http.ResponseWriter, r *http.Request, method string, status int, reason, detail string, cause error, attrs ...slog.Attr) {
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	if cause != nil {
		attrs = append(attrs, slog.String("error", cause.Error()))
	}
	a.logDecision(r, level, method, "rejected", reason, attrs...)
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "1")
		}
	}
	writeJSON(w, status, map[string]string{"detail": detail})
}

// logDecision writes the one log line of an auth decision.
func (a *Auth) logDecision(r *http.Request, level slog.Level, method, outcome, reason string, attrs ...slog.Attr) {
	ctx := r.Context()
	if !a.cfg.Logger.Enabled(ctx, level) {
		return
	}
	base := []slog.Attr{
		slog.String("auth.method", method),
		slog.String("auth.outcome", outcome),
		slog.String("auth.reason", reason),
		slog.String("request_id", requestID(r)),
		slog.String("path", r.URL.Path),
	}
	a.cfg.Logger.LogAttrs(ctx, level, "chatauth: "+method+" "+outcome, append(base, attrs...)...)
}

type requestIDKey struct{}

// requestID is the id guard gave the request, else its X-Request-Id when
// it looks like one, else a fresh random id.
func requestID(r *http.Request) string {
	if id, ok := r.Context().Value(requestIDKey{}).(string); ok {
		return id
	}
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > 64 {
		return randomID()[:12]
	}
	for _, c := range id {
		if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return randomID()[:12]
		}
	}
	return id
}

// errHookPanic marks a recovered panic of a hook.
var errHookPanic = errors.New("hook panicked")

// callHook runs a user hook, turning a panic into an error.
func callHook(f func() (*User, error)) (u *User, err error) {
	defer func() {
		if p := recover(); p != nil {
			u, err = nil, fmt.Errorf("%w: %v\n%s", errHookPanic, p, debug.Stack())
		}
	}()
	return f()
}

// hookFailed answers a hook's error or panic, or a user from a hook too
// large for the cookie budget: 500, cause logged, nothing leaked.
func (a *Auth) hookFailed(w http.ResponseWriter, r *http.Request, method string, err error) {
	reason := reasonHookError
	switch {
	case errors.Is(err, errHookPanic):
		reason = reasonHookPanic
	case errors.Is(err, ErrSessionTooLarge):
		reason = reasonSessionTooLarge
	}
	a.reject(w, r, method, http.StatusInternalServerError, reason, "internal error", err)
}

// login finishes a successful login of any method: persist the user,
// issue the session, log, answer {"success": true}.
func (a *Auth) login(w http.ResponseWriter, r *http.Request, method string, u *User, g grant) {
	u, ok := a.persistUser(w, r, method, u)
	if !ok {
		return
	}
	s, err := a.startSession(w, r, u, g)
	if errors.Is(err, ErrSessionTooLarge) && method == "jwt" {
		// At /auth/jwt the user is the client's token, not the app's data:
		// a 4xx, like any other token too large to carry.
		a.reject(w, r, method, http.StatusRequestHeaderFieldsTooLarge, reasonTooLarge,
			sessionDetail(reasonTooLarge, http.StatusRequestHeaderFieldsTooLarge), err)
		return
	}
	if err != nil {
		a.hookFailed(w, r, method, err)
		return
	}
	a.endPreviousSession(r, s)
	a.logDecision(r, slog.LevelInfo, method, "success", reasonOK, slog.String("user", u.Identifier), slog.String("session", s.ID))
	writeJSON(w, http.StatusOK, successBody)
}

// persistUser runs the persistence hook, when there is one, and returns
// the user to put in the session: the stored one, or u when the hook
// returns none. On a hook failure it answers 500 and returns false.
func (a *Auth) persistUser(w http.ResponseWriter, r *http.Request, method string, u *User) (*User, bool) {
	stored, err := a.persistedUser(r.Context(), u)
	if err != nil {
		a.hookFailed(w, r, method, err)
		return nil, false
	}
	return stored, true
}

// persistedUser runs the persistence hook, when there is one, and returns
// the stored user, or u when the hook returns none.
func (a *Auth) persistedUser(ctx context.Context, u *User) (*User, error) {
	if a.persist == nil {
		return u, nil
	}
	stored, err := callHook(func() (*User, error) { return a.persist(ctx, u) })
	if err != nil {
		return nil, fmt.Errorf("persist hook: %w", err)
	}
	if stored != nil {
		return stored, nil
	}
	return u, nil
}

// peer is the address of the host that sent the request, unmapped.
func peer(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		a, _ := netip.ParseAddr(r.RemoteAddr)
		return a.Unmap()
	}
	return ap.Addr().Unmap()
}

func (a *Auth) trusted(addr netip.Addr) bool {
	for _, p := range a.proxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// fromTrustedProxy reports whether the request's peer is a trusted proxy.
func (a *Auth) fromTrustedProxy(r *http.Request) bool { return a.trusted(peer(r)) }

// clientAddr is the address of the client: the peer, or, when the peer is a
// trusted proxy, the right-most untrusted address of X-Forwarded-For.
func (a *Auth) clientAddr(r *http.Request) string {
	addr := peer(r)
	if !a.trusted(addr) {
		return addr.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if h = h.Unmap(); !a.trusted(h) {
			return h.String()
		}
	}
	return addr.String()
}

// publicBase is the app's public URL: BaseURL, or the origin the request
// says. X-Forwarded-Proto is believed from ForwardedAllowIPs (loopback by
// default, as uvicorn does) and trusted proxies; X-Forwarded-Host only from
// trusted proxies, since uvicorn never reads it (a proxy on the same host
// passes Host on), and a local process must not be able to move the
// redirect URI to another host.
func (a *Auth) publicBase(r *http.Request) string {
	if a.cfg.BaseURL != "" {
		return a.cfg.BaseURL
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	trusted := a.fromTrustedProxy(r)
	if trusted || a.forwardedFrom(peer(r)) {
		if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p == "https" || p == "http" {
			scheme = p
		}
	}
	if trusted {
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" && validHost(h) {
			host = h
		}
	}
	return scheme + "://" + host
}

// forwardedFrom reports whether addr is in ForwardedAllowIPs.
func (a *Auth) forwardedFrom(addr netip.Addr) bool {
	for _, p := range a.forwarded {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func firstValue(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

func validHost(h string) bool {
	u, err := url.Parse("http://" + h)
	return err == nil && u.Host == h && u.User == nil && u.Path == ""
}

// retryAfterSeconds renders a wait as whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(ceilSeconds(d), 1))
}
