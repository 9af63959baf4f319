package chatauthtest

import (
	"net/http"
	"strings"
	"time"
)

// serveUserinfo is the UserInfo endpoint (OpenID Connect Core 5.3): the
// claims of the access token's user that its scope grants, for a valid
// bearer token (RFC 6750 2.1). It answers any valid access token, with or
// without the openid scope, so that plain OAuth 2.0 clients can use it as
// their user API.
func (p *Provider) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	p.count(&p.counts.Userinfo)
	m := p.faults()
	if m&UserinfoError != 0 {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error", "error_description": "chatauthtest UserinfoError"})
		return
	}
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		// No error code when no credentials were sent (RFC 6750 3.1).
		w.Header().Set("WWW-Authenticate", `Bearer realm="chatauthtest"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "bearer access token required"})
		return
	}
	p.mu.Lock()
	g := p.access[token]
	p.mu.Unlock()
	if g == nil || time.Now().After(g.expires) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="chatauthtest", error="invalid_token", error_description="unknown, revoked or expired access token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "unknown, revoked or expired access token"})
		return
	}
	claims := g.user.claims(g.scope, m)
	if m&WrongUserinfoSubject != 0 {
		claims["sub"] = "someone-else"
	}
	writeJSON(w, http.StatusOK, claims)
}

// bearer extracts the token of "Authorization: Bearer <token>"; the scheme
// is case-insensitive.
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}
