package chatauth

// respond.go is the one way to say no. Every refusal of every route and
// middleware is a denial (status, reason, detail, cause), made where the
// decision is taken and written once, by deny: one log line with the
// reason code, and the answer ({"detail": ...}, or for an OAuth callback a
// redirect to R/login?error=<reason>).

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
)

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

// denial is one refusal: what the client is told (status, detail), what
// the log line says (method, reason, cause, attrs). It is an error, so
// that the checks of the middleware can return it; its cause stays
// reachable with errors.Is.
type denial struct {
	method string // auth.method: "password", "session", "oauth"...
	status int
	reason string // the reason code, in the log and where safe in the answer
	detail string // the answer's {"detail"}
	cause  error  // logged, never sent
	attrs  []slog.Attr
	// challenge answers "WWW-Authenticate: Bearer" (RFC 6750 section 3).
	challenge bool
	// retryAfter, when set, is the answer's Retry-After (in whole seconds).
	retryAfter string
	// toLoginPage sends the browser to R/login?error=<reason> instead of
	// answering JSON: a failed OAuth callback, logged at warning level.
	toLoginPage bool
}

func (d *denial) Error() string {
	if d.cause != nil {
		return d.reason + ": " + d.cause.Error()
	}
	return d.reason
}

func (d *denial) Unwrap() error { return d.cause }

// deny writes d: one log line, then the answer.
func (a *Auth) deny(w http.ResponseWriter, r *http.Request, d *denial) {
	level := slog.LevelInfo
	switch {
	case d.toLoginPage:
		level = slog.LevelWarn
	case d.status >= 500:
		level = slog.LevelError
	}
	attrs := d.attrs
	if d.cause != nil {
		attrs = append(attrs[:len(attrs):len(attrs)], slog.String("error", d.cause.Error()))
	}
	a.logDecision(r, level, d.method, "rejected", d.reason, attrs...)
	if d.toLoginPage {
		http.Redirect(w, r, a.cfg.RootPath+"/login?error="+url.QueryEscape(d.reason), http.StatusFound)
		return
	}
	if d.challenge {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	if d.retryAfter != "" {
		w.Header().Set("Retry-After", d.retryAfter)
	}
	if d.status == http.StatusTooManyRequests || d.status == http.StatusServiceUnavailable {
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "1")
		}
	}
	writeJSON(w, d.status, map[string]string{"detail": d.detail})
}

// refused is the denial of a request: status, reason and detail, for
// method, with the cause and attributes for the log.
func refused(method string, status int, reason, detail string, cause error, attrs ...slog.Attr) *denial {
	return &denial{method: method, status: status, reason: reason, detail: detail, cause: cause, attrs: attrs}
}

// crossOrigin refuses an unsafe request (or a WebSocket handshake: reason
// bad_origin) from another origin.
func crossOrigin(method, reason string, err error) *denial {
	return refused(method, http.StatusForbidden, reason, "cross-origin request rejected", err)
}

// storeDown refuses a request a store could not decide: 503.
func storeDown(method string, err error) *denial {
	return refused(method, http.StatusServiceUnavailable, reasonStoreDown, "session store unavailable", err)
}

// hookFailed refuses after a hook's error or panic, or a user from a hook
// too large for the cookie budget: 500, cause logged, nothing leaked.
func hookFailed(method string, err error) *denial {
	reason := reasonHookError
	switch {
	case errors.Is(err, errHookPanic):
		reason = reasonHookPanic
	case errors.Is(err, ErrSessionTooLarge):
		reason = reasonSessionTooLarge
	}
	return refused(method, http.StatusInternalServerError, reason, "internal error", err)
}

// loginFailed refuses a login whose session could not start: a hook's
// failure (hookFailed), except at /auth/jwt, where the user is the
// client's token, not the app's data: a token too large for the cookie
// budget is then a 4xx, like any other token too large to carry.
func loginFailed(method string, err error) *denial {
	if method == "jwt" && errors.Is(err, ErrSessionTooLarge) {
		return refused(method, http.StatusRequestHeaderFieldsTooLarge, reasonTooLarge, "session token too large", err)
	}
	return hookFailed(method, err)
}

// checkDenial refuses a check that admit did not let run (429, 503 busy),
// with Retry-After.
func (a *Auth) checkDenial(r *http.Request, method string, cr *checkRefused) *denial {
	d := refused(method, cr.status, cr.reason, cr.detail(), nil, slog.String("client", a.clientAddr(r)))
	d.retryAfter = retryAfterSeconds(cr.retryAfter)
	return d
}

// loginCheckDenial refuses a login check that failed: refused by admit, a
// Throttle that could not be reached (503), or a failed hook (500).
func (a *Auth) loginCheckDenial(r *http.Request, method string, err error) *denial {
	var cr *checkRefused
	switch {
	case errors.As(err, &cr):
		return a.checkDenial(r, method, cr)
	case errors.Is(err, ErrStoreUnavailable):
		return storeDown(method, err)
	}
	return hookFailed(method, err)
}

// requestDenial refuses a request the middleware (or GET R/user) could
// not authenticate: a denial already made, a header login refused
// unchecked or failed, or a session that does not check out.
func (a *Auth) requestDenial(r *http.Request, err error) *denial {
	var d *denial
	var cr *checkRefused
	switch {
	case errors.As(err, &d):
		return d
	case errors.As(err, &cr):
		return a.checkDenial(r, "header", cr)
	case errors.Is(err, errHookFailed):
		return hookFailed("header", err)
	}
	return sessionDenial("session", err)
}

// sessionDenial refuses a session token that does not check out (the
// errors of VerifyToken and tokenFromRequest). As Chainlit's, the answers
// for a missing token and another scheme say "WWW-Authenticate: Bearer"
// (RFC 6750 section 3). At R/auth/jwt (method "jwt") a token that does not
// check out is "Invalid token", without a challenge.
func sessionDenial(method string, err error) *denial {
	d := refused(method, http.StatusUnauthorized, reasonInvalidToken, "", err)
	switch {
	case errors.Is(err, errHeaderRejected):
		d.method, d.reason = "header", reasonCredentials
	case errors.Is(err, errUntrustedPeer):
		d.method, d.reason = "header", reasonUntrustedPeer
	case errors.Is(err, errOtherScheme):
		d.reason, d.challenge = reasonBadScheme, true
	case errors.Is(err, errBearerFormat):
		d.reason = reasonBadFormat
	case errors.Is(err, ErrNoSession):
		d.reason, d.challenge = reasonNoSession, true
	case errors.Is(err, ErrExpired):
		d.reason = reasonExpired
	case errors.Is(err, ErrRevoked):
		d.reason = reasonRevoked
	case errors.Is(err, ErrTokenTooLarge):
		d.status, d.reason = http.StatusRequestHeaderFieldsTooLarge, reasonTooLarge
	case errors.Is(err, ErrStoreUnavailable):
		d.status, d.reason = http.StatusServiceUnavailable, reasonStoreDown
	case errors.Is(err, ErrAmbiguousSession):
		d.reason = reasonAmbiguous
	}
	d.detail = sessionDetail(d.reason, d.status)
	if method == "jwt" && d.status == http.StatusUnauthorized {
		d.detail, d.challenge = "Invalid token", false
	}
	return d
}

// sessionDetail is the detail of a failed session check, worded as
// Chainlit's: "Not authenticated" without a token, "Invalid
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

// oauthFailed is a failed OAuth callback: the code for the browser (the
// reason, sent to R/login?error=<code>), the real cause for the log.
func oauthFailed(code string, format string, args ...any) *denial {
	return &denial{method: "oauth", status: http.StatusFound, reason: code, cause: fmt.Errorf(format, args...), toLoginPage: true}
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

var successBody = map[string]bool{"success": true}

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
		return randomToken(16)[:12]
	}
	for _, c := range id {
		if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return randomToken(16)[:12]
		}
	}
	return id
}
