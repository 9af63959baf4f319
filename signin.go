package chatauth

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// LoginMethods is what a sign-in page offers: the login methods that are
// on, as GET R/auth/config reports them, with the OAuth providers in the
// order they were added and under the names people see.
type LoginMethods struct {
	// Password is on when a password hook is registered (POST R/login).
	Password bool
	// Header is on when a header hook is registered (POST R/auth/header).
	Header bool
	// Providers are the routable OAuth providers, in the order AddProvider
	// received them.
	Providers []ProviderInfo
}

// ProviderInfo is an OAuth provider as a sign-in page shows it.
type ProviderInfo struct {
	// ID names the provider in its route: its button leads to
	// R/auth/oauth/{ID}.
	ID string
	// Name is Provider.Name, else the ID with its first letter in upper
	// case (Chainlit's rule).
	Name string
	// Preset is Provider.Preset: which preset built it, for its icon.
	Preset string
}

// LoginMethods reports which login methods are on, for a sign-in page.
func (a *Auth) LoginMethods() LoginMethods {
	if !a.madeByNew() {
		return LoginMethods{Providers: []ProviderInfo{}}
	}
	m := LoginMethods{Password: a.hook().password != nil, Header: a.headerLoginOn(), Providers: []ProviderInfo{}}
	if a.hook().oauth == nil {
		return m
	}
	a.providersMu.RLock()
	ps := make([]*Provider, 0, len(a.providers))
	for _, p := range a.providers {
		ps = append(ps, p)
	}
	a.providersMu.RUnlock()
	slices.SortFunc(ps, func(x, y *Provider) int { return x.added - y.added })
	for _, p := range ps {
		name := p.Name
		if name == "" {
			r, size := utf8.DecodeRuneInString(p.ID)
			name = string(unicode.ToUpper(r)) + p.ID[size:]
		}
		m.Providers = append(m.Providers, ProviderInfo{ID: p.ID, Name: name, Preset: p.Preset})
	}
	return m
}

// IsSafeRedirect reports whether target is a place chatauth would send a
// browser after a login: a relative path under the root path, with no
// scheme, host, "//", backslash, dot-dot or control character in any
// spelling. Anything else in a ?redirect= is an open redirect.
func (a *Auth) IsSafeRedirect(target string) bool { return a.safeRedirect(target) }

// Values of R/login?error= and ?notice= that chatauth and its sign-in page
// produce besides the OAuth callback's codes (access_denied, ...,
// credentialssignin) and the refused form posts' (see answerFormPost).
const (
	// ErrorSessionExpired: the browser's session ended by its timeout.
	ErrorSessionExpired = "session_expired"
	// NoticeLoggedOut: the person logged out here.
	NoticeLoggedOut = "logged_out"
	// NoticeLoggedOutElsewhere: the session was ended from another device
	// or tab (EndUserSessions, "log out everywhere").
	NoticeLoggedOutElsewhere = "logged_out_elsewhere"
)

// Codes of R/login?error= for a refused browser form post of a login
// route, by the status a script would have been answered.
var formPostErrors = map[int]string{
	http.StatusBadRequest:            reasonMissingField,
	http.StatusUnauthorized:          reasonCredentials,
	http.StatusNotFound:              reasonNotEnabled,
	http.StatusRequestEntityTooLarge: reasonTooLarge,
	http.StatusTooManyRequests:       reasonThrottled,
	http.StatusServiceUnavailable:    reasonStoreDown,
}

// answerFormPost makes a browser's HTML form post to a login route (see
// isFormPost) end on a page, so that the sign-in works without
// JavaScript: 303 to the form's "redirect" field when it is a safe path,
// else R/, on success; 303 to R/login?error=<code> on failure, with
// retry_after=<seconds> when throttled and the redirect kept. fetch and API
// clients get the contract's JSON, untouched. The route's own log line
// still says what happened; a hook's failure is error=server_error.
func (a *Auth) answerFormPost(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !isFormPost(r) {
			h(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r)
		redirect := r.PostFormValue("redirect") // parsed by h, if at all
		if !a.safeRedirect(redirect) {
			redirect = ""
		}
		target := redirect
		if sw.status == http.StatusOK {
			if target == "" {
				target = a.cfg.RootPath + "/"
			}
		} else {
			target = a.loginErrorURL(sw.status, w.Header().Get("Retry-After"), redirect)
		}
		w.Header().Del("Content-Type")
		http.Redirect(w, r, target, http.StatusSeeOther)
	}
}

// loginErrorURL is R/login?error=<code> for a refusal with status.
func (a *Auth) loginErrorURL(status int, retryAfter, redirect string) string {
	code, ok := formPostErrors[status]
	if !ok {
		code = "server_error"
	}
	q := url.Values{"error": {code}}
	if n, err := strconv.Atoi(retryAfter); err == nil && n > 0 && code == reasonThrottled {
		q.Set("retry_after", strconv.Itoa(n))
	}
	if redirect != "" {
		q.Set("redirect", redirect)
	}
	return a.cfg.RootPath + "/login?" + strings.ReplaceAll(q.Encode(), "%2F", "/")
}

// statusWriter keeps the status a route answers and drops its JSON body,
// for answerFormPost to answer a redirect instead; headers (the session
// cookies, Retry-After) go to the real writer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	return len(b), nil
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
