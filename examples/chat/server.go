package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/loginpage"
)

// server is the demo app: chatauth's routes, the pages and the bot.
type server struct {
	auth           *chatauth.Auth
	mux            http.Handler
	root           string
	log            *slog.Logger
	users          *userTable
	headerUser     string
	trustedProxies []string
	apiKeys        *apiKeyTable
	// proxiesByDefault: CHATAUTH_TRUSTED_PROXIES was unset and header
	// login believes loopbackProxies.
	proxiesByDefault bool
	secretGenerated  bool
	tokenInterval    time.Duration
	pages            *pages
	// login is the sign-in page, chatauth's loginpage.
	login *loginpage.Page
	// redis is the client of CHATAUTH_REDIS_URL, nil without it.
	redis io.Closer
	// stateDir is the state directory the Auth keeps logouts in, if any.
	stateDir string
}

// newServer builds the demo from o without listening: configuration from
// the environment, the password users, header login, OAuth providers, the
// routes.
func newServer(o options) (*server, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	log, err := o.logger(getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := chatauth.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	cfg.RootPath = o.Root
	cfg.Logger = log
	s := &server{log: log, tokenInterval: o.TokenInterval}
	if s.tokenInterval <= 0 {
		s.tokenInterval = 35 * time.Millisecond
	}
	if len(cfg.Secret) == 0 {
		cfg.Secret = randomSecret()
		s.secretGenerated = true
	}
	if err := s.configureHeaderLogin(&cfg, getenv("CHATAUTH_HEADER_USER")); err != nil {
		return nil, err
	}
	redisURL := getenv("CHATAUTH_REDIS_URL")
	if err := chooseStateDir(&cfg, o.DefaultStateDir, redisURL != "", log); err != nil {
		return nil, err
	}
	s.stateDir = cfg.Stores.StateDir
	if redisURL != "" {
		if s.redis, err = useRedis(&cfg, redisURL, getenv("CHATAUTH_REDIS_CACHE"), s.secretGenerated, log); err != nil {
			return nil, err
		}
	}
	if err := s.build(cfg, getenv); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// build makes the Auth from cfg and everything that hangs off it: the
// password users, header login, OAuth providers, pages and routes.
func (s *server) build(cfg chatauth.Config, getenv func(string) string) error {
	log := cfg.Logger
	var err error
	if s.auth, err = chatauth.New(cfg); err != nil {
		return err
	}
	s.root = s.auth.RootPath()
	if s.secretGenerated {
		log.Warn("chat: CHAINLIT_AUTH_SECRET is not set, using a random secret: sessions end with the process; " +
			"make a lasting one with: go run github.com/chatauth/chatauth/cmd/chatauth@latest create-secret")
	}
	if s.users, err = loadUsers(getenv("CHATAUTH_DEMO_USERS")); err != nil {
		return err
	}
	s.auth.OnPassword(s.users.check)
	if s.headerUser != "" {
		// No header names: the proxy's identity logs in at POST
		// R/auth/header only (the login page calls it, as Chainlit's does),
		// so that logging out of the chat means something while the proxy
		// still vouches for the browser.
		s.auth.OnProxyHeader(headerLogin(s.headerUser))
		s.logHeaderLogin(log)
	}
	if s.apiKeys, err = loadAPIKeys(getenv("CHATAUTH_DEMO_API_KEYS")); err != nil {
		return err
	}
	if s.apiKeys != nil {
		s.auth.OnHeaderCredential(s.apiKeys.check, apiKeyHeader)
		log.Info("chat: API keys accepted in "+apiKeyHeader+", from any address", "users", strings.Join(s.apiKeys.names, ","))
	}
	if err := addProviders(s.auth, getenv, log); err != nil {
		return err
	}
	if s.pages, err = loadPages(); err != nil {
		return err
	}
	if s.login, err = loginpage.New(s.auth, loginpage.Options{Title: "chatauth demo", LogoURL: s.root + "/static/favicon.svg"}); err != nil {
		return err
	}
	s.routes()
	return nil
}

// Close releases what the server holds open: the state directory and
// the Redis client, if any.
func (s *server) Close() error {
	err := s.auth.Close() // nil-safe: the Auth may not be made yet
	if s.redis != nil {
		err = errors.Join(err, s.redis.Close())
	}
	return err
}

// logger is o.Log, or a text logger on o.Stderr at CHATAUTH_LOG_LEVEL.
func (o options) logger(getenv func(string) string) (*slog.Logger, error) {
	if o.Log != nil {
		return o.Log, nil
	}
	w := o.Stderr
	if w == nil {
		w = os.Stderr
	}
	return newLogger(w, getenv("CHATAUTH_LOG_LEVEL"))
}

// loopbackProxies are the demo's trusted proxies for header login when
// CHATAUTH_TRUSTED_PROXIES is unset: a proxy on this machine, at exactly
// 127.0.0.1 or ::1 (not the rest of 127.0.0.0/8, which other local
// services and containers may use).
var loopbackProxies = []string{"127.0.0.1/32", "::1/128"}

// configureHeaderLogin turns on header login behind a proxy when header
// names the header that carries the user: believed only from the proxies
// CHATAUTH_TRUSTED_PROXIES names, by default a proxy on this machine
// (loopbackProxies).
func (s *server) configureHeaderLogin(cfg *chatauth.Config, header string) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return nil
	}
	if !validHeaderName(header) {
		return fmt.Errorf("CHATAUTH_HEADER_USER=%q is not a header name", header)
	}
	s.headerUser = http.CanonicalHeaderKey(header)
	if len(cfg.Proxy.Trusted) == 0 {
		cfg.Proxy.Trusted = loopbackProxies
		s.proxiesByDefault = true
	}
	s.trustedProxies = cfg.Proxy.Trusted
	return nil
}

// logHeaderLogin says at start-up whom header login believes: the proxies
// of CHATAUTH_TRUSTED_PROXIES, or the loopback addresses by default.
func (s *server) logHeaderLogin(log *slog.Logger) {
	if s.proxiesByDefault {
		log.Warn("chat: header login (CHATAUTH_HEADER_USER="+s.headerUser+") believes the header from "+
			strings.Join(s.trustedProxies, " and ")+" only, CHATAUTH_TRUSTED_PROXIES being unset: a proxy on this machine. "+
			"Name your proxy in CHATAUTH_TRUSTED_PROXIES", "header", s.headerUser)
		return
	}
	log.Info("chat: header login from trusted proxies only", "header", s.headerUser,
		"trusted_proxies", strings.Join(s.trustedProxies, ","))
}

// routes registers chatauth's routes and the app's own on one mux.
func (s *server) routes() {
	m := http.NewServeMux()
	r := s.root
	m.HandleFunc("GET /healthz", serveHealth)
	s.auth.Mount(m)
	s.login.Mount(m) // GET R/login
	m.Handle("GET "+r+"/login/callback", http.HandlerFunc(s.serveCallbackPage))
	m.Handle("GET "+r+"/static/", http.StripPrefix(r+"/static/", s.pages.static))
	m.Handle("GET "+r+"/{$}", s.login.RequireUser(http.HandlerFunc(s.serveChatPage)))
	m.Handle("POST "+r+"/chat/stream", s.auth.RequireUser(http.HandlerFunc(s.serveStream)))
	m.Handle("POST "+r+"/logout/everywhere", s.auth.RequireUser(http.HandlerFunc(s.serveLogoutEverywhere)))
	if r != "" {
		// People type the bare host or forget the trailing slash.
		m.Handle("GET /{$}", http.RedirectHandler(r+"/", http.StatusFound))
		m.Handle("GET "+r, http.RedirectHandler(r+"/", http.StatusFound))
	}
	// A path like //login gets 404 instead of ServeMux's 307, which a
	// browser would follow by posting the password again.
	s.mux = chatauth.CleanPathsOnly(m)
}

// ServeHTTP serves the whole app.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	s.mux.ServeHTTP(w, r)
}

// serveLogoutEverywhere ends every session of the signed-in user, on every
// instance sharing the revocation store (with CHATAUTH_REDIS_URL, every
// instance on that Redis), this one included, and clears its cookies.
func (s *server) serveLogoutEverywhere(w http.ResponseWriter, r *http.Request) {
	u := chatauth.UserFrom(r.Context())
	if err := s.auth.EndUserSessions(r.Context(), u.Identifier); err != nil {
		s.log.Error("chat: log out everywhere", "user", u.Identifier, "error", err)
		writeDetail(w, http.StatusServiceUnavailable, "session store unavailable")
		return
	}
	_, _ = s.auth.EndSession(w, r) // revoked already: this clears the cookies
	s.log.Info("chat: logged out everywhere", "user", u.Identifier)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"success":true}`+"\n")
}

func serveHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, "ok")
}

// randomSecret is a fresh 32-byte secret, hex encoded.
func randomSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return []byte(hex.EncodeToString(b))
}

// validHeaderName reports whether name is an HTTP header field name (RFC
// 9110 token).
func validHeaderName(name string) bool {
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return false
		}
	}
	return name != ""
}
