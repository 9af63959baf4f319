// Package authproxy is the authenticating reverse proxy of examples/proxy:
// it checks an API key, then tells the app behind it who the user is in
// X-Forwarded-User and X-Forwarded-Email, headers it first strips from the
// client's request so that nobody can name themselves.
package authproxy

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
)

// Headers the proxy sets for the app, and the ones clients use to prove
// who they are to the proxy.
const (
	UserHeader   = "X-Forwarded-User"
	EmailHeader  = "X-Forwarded-Email"
	APIKeyHeader = "X-Api-Key"
	APIKeyParam  = "api_key"
	CookieName   = "chatauth_proxy"
)

// Options configure New.
type Options struct {
	// Upstream is the app's base URL, e.g. http://127.0.0.1:8000.
	Upstream string
	// APIKey is the key clients present; required.
	APIKey string
	// User and Email name the person the key belongs to; User is required.
	User, Email string
	// Log receives one line per refused request; default slog.Default().
	Log *slog.Logger
	// Transport carries requests to the upstream; default
	// http.DefaultTransport.
	Transport http.RoundTripper
}

// New returns the proxy. A request is let through when it carries the API
// key in the X-Api-Key header, in a ?api_key= parameter (browsers; the
// proxy then sets a cookie and redirects to the same URL without the key),
// or in the cookie set that way.
func New(o Options) (http.Handler, error) {
	up, err := url.Parse(o.Upstream)
	if err != nil || (up.Scheme != "http" && up.Scheme != "https") || up.Host == "" {
		return nil, fmt.Errorf("authproxy: upstream %q is not an http(s) URL", o.Upstream)
	}
	if o.APIKey == "" || o.User == "" {
		return nil, errors.New("authproxy: APIKey and User are required")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	p := &proxy{opts: o, cookieValue: cookieValue(o.APIKey)}
	p.rp = &httputil.ReverseProxy{
		Rewrite:   p.rewrite,
		Transport: o.Transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			o.Log.Error("authproxy: upstream unreachable", "error", err)
			http.Error(w, "upstream unreachable", http.StatusBadGateway)
		},
	}
	p.upstream = up
	return p, nil
}

type proxy struct {
	opts        Options
	upstream    *url.URL
	rp          *httputil.ReverseProxy
	cookieValue string
}

// cookieValue is what the browser cookie holds: a MAC of the key, so the
// key itself is not stored in the browser.
func cookieValue(key string) string {
	m := hmac.New(sha256.New, []byte(key))
	_, _ = io.WriteString(m, "chatauth proxy session")
	return hex.EncodeToString(m.Sum(nil))
}

// ServeHTTP authenticates the request and forwards it.
func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if key := r.URL.Query().Get(APIKeyParam); key != "" {
		p.exchangeKeyForCookie(w, r, key)
		return
	}
	if !p.authenticated(r) {
		p.opts.Log.Info("authproxy: refused", "reason", "no_credentials", "path", r.URL.Path)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "401 Unauthorized: this proxy wants its API key, in an X-Api-Key header "+
			"or, from a browser, once as ?api_key=... on any URL.\n")
		return
	}
	// The upstream may answer (a chat stream starts at once) while the
	// transport is still finishing with the request body it forwards.
	// Without full duplex the server, seeing a response begin before the
	// body's end, reads what it takes for an unread body itself, beside the
	// transport; full duplex lets the two overlap as they do here. (The
	// likely cause of a stream cut mid-way, about once in 30 runs of
	// TestHeaderLoginBehindProxy under the race detector.)
	_ = http.NewResponseController(w).EnableFullDuplex()
	p.rp.ServeHTTP(w, r)
}

// authenticated checks the X-Api-Key header or the proxy's cookie, in
// constant time.
func (p *proxy) authenticated(r *http.Request) bool {
	if key := r.Header.Get(APIKeyHeader); key != "" {
		return equal(key, p.opts.APIKey)
	}
	c, err := r.Cookie(CookieName)
	return err == nil && equal(c.Value, p.cookieValue)
}

// exchangeKeyForCookie answers a browser's ?api_key=: a cookie and a
// redirect to the same URL without the key, so it does not stay in the
// address bar or the history.
func (p *proxy) exchangeKeyForCookie(w http.ResponseWriter, r *http.Request, key string) {
	if !equal(key, p.opts.APIKey) {
		p.opts.Log.Info("authproxy: refused", "reason", "bad_api_key", "path", r.URL.Path)
		http.Error(w, "401 Unauthorized: wrong API key", http.StatusUnauthorized)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: p.cookieValue, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
	})
	u := *r.URL
	q := u.Query()
	q.Del(APIKeyParam)
	u.RawQuery = q.Encode()
	u.Scheme, u.Host = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
}

// rewrite builds the upstream request: the client's identity headers and
// the proxy's own credentials removed, ours set, the Host kept (so that the
// app's same-origin checks see the host the browser used).
func (p *proxy) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(p.upstream)
	pr.Out.Host = pr.In.Host
	pr.SetXForwarded()
	out := pr.Out.Header
	stripIdentityHeaders(out)
	out.Del(APIKeyHeader)
	removeCookie(pr.Out, CookieName)
	out.Set(UserHeader, p.opts.User)
	if p.opts.Email != "" {
		out.Set(EmailHeader, p.opts.Email)
	}
}

// stripIdentityHeaders deletes every spelling of the identity headers a
// client might send, including X_Forwarded_User: some servers and
// frameworks treat "_" and "-" alike, and a header the proxy does not
// recognise must not slip through to one that does.
func stripIdentityHeaders(h http.Header) {
	for name := range h {
		n := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
		if n == "x-forwarded-user" || n == "x-forwarded-email" {
			delete(h, name)
		}
	}
}

// removeCookie drops one cookie from the request's Cookie headers, keeping
// the app's own cookies byte for byte.
func removeCookie(r *http.Request, name string) {
	var kept []string
	for _, line := range r.Header.Values("Cookie") {
		for _, pair := range strings.Split(line, ";") {
			pair = strings.TrimSpace(pair)
			if n, _, _ := strings.Cut(pair, "="); pair != "" && strings.TrimSpace(n) != name {
				kept = append(kept, pair)
			}
		}
	}
	r.Header.Del("Cookie")
	if len(kept) > 0 {
		r.Header.Set("Cookie", strings.Join(kept, "; "))
	}
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
