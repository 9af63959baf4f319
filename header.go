package chatauth

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"net/http"
	"slices"
	"strings"
)

// Header login comes in two modes, named for what the hook trusts.
//
// Identity from a proxy (OnProxyHeader): an authenticating proxy checked
// the person and says who it is in a header such as X-Forwarded-User. The
// hook believes that value, so it runs only for requests whose peer is in
// Config.Proxy.Trusted; anyone else could send the same header.
//
// Credential in a header (OnHeaderCredential): the client holds a secret
// (an API key, a gateway's signed token, an HMAC signature) and the hook
// verifies it, so it runs for requests from any address, throttled per
// address like passwords.
//
// In both modes the hook runs at POST R/auth/header, and in RequireUser,
// WithUser and GET R/user for a request that carries one of the mode's
// headers: a request without a valid session is logged in on the way, and
// one whose session was started by other header values (or by another
// login) is given to the hook again, which replaces the session or, when it
// says no, ends it. The session records a keyed hash of the header values
// it was started with, so that later requests with the same values cost a
// hash and no hook call; a client that keeps no cookies reuses the session
// its values started (headerSessions) instead of making a new one each time.

// The modes' names, in logs and in the header hash.
const (
	modeProxy      = "proxy"
	modeCredential = "credential"
)

// headerMode is one registered header login.
type headerMode struct {
	name string
	hook HeaderFunc
	// headers are the canonical names of the headers carrying the identity
	// or credential: a request with one of them is authenticated by the
	// middleware, and their values are what the session follows.
	headers []string
}

// OnProxyHeader registers f as header login behind an authenticating proxy
// (oauth2-proxy, an SSO gateway, a corporate front end) that sets identity
// headers after checking the person. The hook may simply believe them,
// because chatauth calls it only for requests whose TCP peer is in
// Config.Proxy.Trusted: the same headers from any other address are
// ignored (logged with reason untrusted_peer).
//
// headers names the headers that carry the identity, such as
// "X-Forwarded-User" and "X-Forwarded-Email". A request from the proxy
// that carries one of them is authenticated by RequireUser, WithUser and
// GET R/user on its way, and the proxy stays the source of truth: when
// their values change, the hook is asked again and its answer replaces the
// session, or ends it when the hook returns nil. Without names, only POST
// R/auth/header logs in (Chainlit's behaviour). A nil f turns the mode off.
func (a *Auth) OnProxyHeader(f HeaderFunc, headers ...string) {
	if !a.madeByNew() {
		return
	}
	m := a.newHeaderMode(modeProxy, f, headers)
	a.setHook(func(h *hooks) { h.proxyHeader = m })
	if m != nil && len(a.proxies) == 0 {
		a.cfg.Logger.Warn("chatauth: OnProxyHeader without TrustedProxies refuses every request; " +
			"set TrustedProxies (CHATAUTH_TRUSTED_PROXIES) to the proxy's address")
	}
}

// OnHeaderCredential registers f as header login with a credential the
// client holds and sends in a header: an API key, a gateway's signed
// token, an HMAC signature. The hook must verify the secret (compare keys
// in constant time, check signatures), because chatauth calls it for
// requests from any address; its failures count against the client
// address's budget of failed logins, as wrong passwords do (429), and
// Config.Login.HeaderConcurrency bounds the calls in progress.
//
// Never register a hook that believes a bare identity header such as
// X-Forwarded-User here: any client can send one, and would log in as
// whoever it names. That is what OnProxyHeader is for.
//
// headers names the headers that carry the credential, such as
// "X-API-Key". A request carrying one of them is authenticated by
// RequireUser, WithUser and GET R/user: the first request of a browser
// gets its session cookie on the way back, and a script that never keeps
// cookies is authenticated by the same session on every request, without
// a new one each time. A request carrying none of them presents no
// credential: POST R/auth/header refuses it without calling the hook or
// counting it (reason no_credential). Without names, only POST
// R/auth/header logs in, and every such request is given to the hook. A
// nil f turns the mode off.
func (a *Auth) OnHeaderCredential(f HeaderFunc, headers ...string) {
	if !a.madeByNew() {
		return
	}
	m := a.newHeaderMode(modeCredential, f, headers)
	a.setHook(func(h *hooks) { h.headerCredential = m })
	if m != nil && len(m.headers) > 0 && !slices.ContainsFunc(m.headers, notIdentityHeader) {
		a.cfg.Logger.Warn("chatauth: OnHeaderCredential reads only identity headers, which any client can send; "+
			"register a hook that believes them with OnProxyHeader", slog.Any("headers", m.headers))
	}
}

// newHeaderMode makes a mode of f reading headers; nil when f is nil.
// Names that are not header names are left out, with an error logged.
func (a *Auth) newHeaderMode(name string, f HeaderFunc, headers []string) *headerMode {
	if f == nil {
		return nil
	}
	m := &headerMode{name: name, hook: f}
	for _, h := range headers {
		if !validHeaderName(h) {
			a.cfg.Logger.Error("chatauth: header login: not a header name, left out", slog.String("header", h))
			continue
		}
		if c := http.CanonicalHeaderKey(h); !slices.Contains(m.headers, c) {
			m.headers = append(m.headers, c)
		}
	}
	return m
}

// identityHeaders are headers that name a user without proving anything:
// set by authenticating proxies, and by anyone else who likes.
var identityHeaders = []string{
	"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Preferred-Username", "X-Forwarded-Groups",
	"X-Auth-Request-User", "X-Auth-Request-Email", "X-Remote-User", "Remote-User", "X-Webauth-User", "X-User",
}

func notIdentityHeader(name string) bool { return !slices.Contains(identityHeaders, name) }

// validHeaderName reports whether name is a header field name (RFC 9110
// token).
func validHeaderName(name string) bool {
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return false
		}
	}
	return name != ""
}

// headerLoginOn reports whether a header hook is registered.
func (a *Auth) headerLoginOn() bool {
	h := a.hook()
	return h.proxyHeader != nil || h.headerCredential != nil
}

// carriedBy reports whether r carries one of the mode's headers.
func (m *headerMode) carriedBy(r *http.Request) bool {
	for _, h := range m.headers {
		if len(r.Header[h]) > 0 {
			return true
		}
	}
	return false
}

// headerAttempt is what header login makes of a request.
type headerAttempt struct {
	mode    *headerMode // the mode that applies; nil: none
	hash    string      // headerHash of the mode's headers
	trusted bool        // the peer is a trusted proxy
	reason  string      // with no mode, why: untrusted_peer or no_credential
}

// headerAttemptFor picks the mode that applies to r. The middleware
// (explicit false) applies a mode only to a request carrying one of its
// headers: the proxy's from a trusted peer, else the credential's. POST
// R/auth/header (explicit true) asks the proxy's hook for any request from
// a trusted peer that sends no credential, and the credential's for a
// request carrying one of its headers, or for any request when the hook
// named none. A request presenting no credential makes no guess: it never
// reaches the credential hook nor its budgets, so that Chainlit's web
// client, which calls POST R/auth/header on every visit of its login page,
// does not use up the address's budget.
func (a *Auth) headerAttemptFor(r *http.Request, explicit bool) headerAttempt {
	h := a.hook()
	p, c := h.proxyHeader, h.headerCredential
	att := headerAttempt{trusted: a.fromTrustedProxy(r), reason: reasonNoCredential}
	proxyCarried := p != nil && p.carriedBy(r)
	credentialCarried := c != nil && c.carriedBy(r)
	switch {
	case p != nil && att.trusted && (proxyCarried || explicit && !credentialCarried):
		att.mode = p
	case c != nil && (credentialCarried || explicit && len(c.headers) == 0):
		att.mode = c
	case p != nil && (proxyCarried || explicit):
		att.reason = reasonUntrustedPeer
	}
	if att.mode != nil {
		att.hash = a.headerHash(att.mode, r)
	}
	return att
}

// headerHash names the values of the mode's headers in r: an HMAC under a
// key derived from the signing secret, so that every instance computes the
// same one, and a token that leaks reveals nothing that could be guessed
// offline (as a plain digest of a short API key could be).
func (a *Auth) headerHash(m *headerMode, r *http.Request) string {
	keys := a.keys.Load()
	h := keys.headerMACs.Get().(*headerMAC)
	defer keys.headerMACs.Put(h)
	b := appendField(h.buf[:0], m.name)
	for _, name := range m.headers {
		values := r.Header[name]
		b = appendField(b, name)
		b = binary.BigEndian.AppendUint32(b, uint32(len(values)))
		for _, v := range values {
			b = appendField(b, v)
		}
	}
	if cap(b) <= maxHeaderMACBuffer {
		h.buf = b
	}
	h.mac.Reset()
	h.mac.Write(b)
	h.sum = h.mac.Sum(h.sum[:0])
	return base64.RawURLEncoding.EncodeToString(h.sum[:16])
}

// headerMAC is a keyed hash of header values and its scratch space,
// pooled per keyring: a request carrying header login's headers costs no
// allocation for it but the hash's text.
type headerMAC struct {
	mac hash.Hash
	buf []byte
	sum []byte
}

// maxHeaderMACBuffer bounds the scratch space a pooled headerMAC keeps.
const maxHeaderMACBuffer = 4 << 10

// appendField appends s, preceded by its length, so that no two lists of
// values hash alike.
func appendField(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// serveHeaderLogin answers POST /auth/header: the hook of the mode that
// applies sees every request header, unmodified, in a copy it may keep.
func (a *Auth) serveHeaderLogin(w http.ResponseWriter, r *http.Request) {
	const method = "header"
	if !a.headerLoginOn() {
		a.deny(w, r, refused(method, http.StatusNotFound, reasonNotEnabled, "header login not enabled", nil))
		return
	}
	att := a.headerAttemptFor(r, true)
	a.logHeaderNames(r, att)
	if att.mode == nil {
		a.deny(w, r, refused(method, http.StatusUnauthorized, att.reason, reasonCredentials, nil,
			slog.String("peer", peer(r).String())))
		return
	}
	u, err := a.checkHeader(r, att.mode)
	if err != nil {
		a.deny(w, r, a.loginCheckDenial(r, method, err))
		return
	}
	if u == nil {
		a.deny(w, r, refused(method, http.StatusUnauthorized, reasonCredentials, reasonCredentials, nil, slog.String("mode", att.mode.name)))
		return
	}
	g := a.newGrant(zeroTime, "")
	g.headerHash = att.hash
	a.loginJSON(w, r, login{method: method, user: u, grant: g})
}

// errHookFailed means a header hook (or the persistence hook after it)
// failed: 500.
var errHookFailed = errors.New("header hook failed")

// checkHeader runs the mode's hook on a copy of r's headers, within the
// login CPU bounds: a slot of HeaderConcurrency, and for credentials the
// client address's budgets. Its errors are a *checkRefused, one wrapping
// ErrStoreUnavailable, or one wrapping errHookFailed.
func (a *Auth) checkHeader(r *http.Request, m *headerMode) (*User, error) {
	var budgets []budget
	if m.name == modeCredential {
		budgets = a.credentialBudgets(r)
	}
	adm, err := a.admit(r, a.headerSlots, budgets)
	if err != nil {
		return nil, err
	}
	u, err := callHook(func() (*User, error) { return m.hook(r.Context(), r.Header.Clone()) })
	adm.done(err == nil && u != nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s header hook: %w", errHookFailed, m.name, err)
	}
	return u, nil
}

// logHeaderNames writes, at debug level, what header login made of the
// request: the names of the headers it carried (never the values), the
// names that log in on every request (login_headers), the mode that
// applies, and whether its peer is a trusted proxy. That line answers "my
// header never reaches the hook".
func (a *Auth) logHeaderNames(r *http.Request, att headerAttempt) {
	if !a.cfg.Logger.Enabled(r.Context(), slog.LevelDebug) {
		return
	}
	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	var read []string
	h := a.hook()
	for _, m := range []*headerMode{h.proxyHeader, h.headerCredential} {
		if m != nil {
			read = append(read, m.headers...)
		}
	}
	mode := "none"
	if att.mode != nil {
		mode = att.mode.name
	}
	a.cfg.Logger.LogAttrs(r.Context(), slog.LevelDebug, "chatauth: headers seen",
		slog.String("auth.method", "header"),
		slog.String("mode", mode),
		slog.Any("headers", names),
		slog.Any("login_headers", read),
		slog.String("peer", peer(r).String()),
		slog.Bool("trusted_proxy", att.trusted),
		slog.String("request_id", requestID(r)))
}
