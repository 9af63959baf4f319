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
)

// server is the demo app: chatauth's routes, the pages and the bot.
type server struct {
	auth            *chatauth.Auth
	mux             *http.ServeMux
	root            string
	log             *slog.Logger
	users           *userTable
	headerUser      string
	trustedProxies  []string
	secretGenerated bool
	tokenInterval   time.Duration
	pages           *pages
	// redis is the client of CHATAUTH_REDIS_URL, nil without it.
	redis io.Closer
}

// loopbackProxies are the trusted proxies when header login is on and
// CHATAUTH_TRUSTED_PROXIES is unset: a proxy on the same machine.
var loopbackProxies = []string{"127.0.0.0/8", "::1/128"}

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
	if url := getenv("CHATAUTH_REDIS_URL"); url != "" {
		if s.redis, err = useRedis(&cfg, url, getenv("CHATAUTH_REDIS_CACHE"), s.secretGenerated, log); err != nil {
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
		s.auth.OnHeader(headerLogin(s.headerUser))
	}
	if err := addProviders(s.auth, getenv); err != nil {
		return err
	}
	if s.pages, err = loadPages(); err != nil {
		return err
	}
	s.routes()
	return nil
}

// Close releases what the server holds open: the Redis client, if any.
func (s *server) Close() error {
	if s.redis == nil {
		return nil
	}
	return s.redis.Close()
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

// configureHeaderLogin turns on header login when header names the header
// that carries the user: only from trusted proxies, loopback by default.
func (s *server) configureHeaderLogin(cfg *chatauth.Config, header string) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return nil
	}
	if !validHeaderName(header) {
		return fmt.Errorf("CHATAUTH_HEADER_USER=%q is not a header name", header)
	}
	s.headerUser = http.CanonicalHeaderKey(header)
	cfg.HeaderAuthTrustedProxiesOnly = true
	if len(cfg.TrustedProxies) == 0 {
		cfg.TrustedProxies = loopbackProxies
	}
	s.trustedProxies = cfg.TrustedProxies
	return nil
}

// routes registers chatauth's routes and the app's own on one mux.
func (s *server) routes() {
	m := http.NewServeMux()
	r := s.root
	m.HandleFunc("GET /healthz", serveHealth)
	s.auth.Mount(m)
	m.Handle("GET "+r+"/login", http.HandlerFunc(s.serveLoginPage))
	m.Handle("GET "+r+"/login/callback", http.HandlerFunc(s.serveCallbackPage))
	m.Handle("GET "+r+"/static/", http.StripPrefix(r+"/static/", s.pages.static))
	m.Handle("GET "+r+"/{$}", s.pageRequiringUser(http.HandlerFunc(s.serveChatPage)))
	m.Handle("POST "+r+"/chat/stream", s.auth.RequireUser(http.HandlerFunc(s.serveStream)))
	m.Handle("POST "+r+"/logout/everywhere", s.auth.RequireUser(http.HandlerFunc(s.serveLogoutEverywhere)))
	if r != "" {
		// People type the bare host or forget the trailing slash.
		m.Handle("GET /{$}", http.RedirectHandler(r+"/", http.StatusFound))
		m.Handle("GET "+r, http.RedirectHandler(r+"/", http.StatusFound))
	}
	s.mux = m
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
	if err := s.auth.RevokeUser(r.Context(), u.Identifier); err != nil {
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

// pageRequiringUser is RequireUser for pages: a browser navigating without
// a valid session is sent to the login page instead of getting the JSON 401
// meant for API clients.
func (s *server) pageRequiringUser(next http.Handler) http.Handler {
	protected := s.auth.RequireUser(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.auth.SessionFromRequest(r); err != nil && loginWouldHelp(err) && wantsHTML(r) {
			http.Redirect(w, r, s.root+"/login", http.StatusSeeOther)
			return
		}
		protected.ServeHTTP(w, r)
	})
}

// loginWouldHelp reports whether a session error is one that logging in
// again fixes (and not, say, a revocation store that is down).
func loginWouldHelp(err error) bool {
	return errors.Is(err, chatauth.ErrNoSession) || errors.Is(err, chatauth.ErrInvalidToken) ||
		errors.Is(err, chatauth.ErrExpired) || errors.Is(err, chatauth.ErrRevoked)
}

// wantsHTML reports whether r is a browser navigating to a page.
func wantsHTML(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		strings.Contains(r.Header.Get("Accept"), "text/html")
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
