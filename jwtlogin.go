//lint:file-ignore ST1005 the bearerToken errors are the contract's /auth/jwt details, sent as they are

package chatauth

import (
	"errors"
	"net/http"
	"strings"
)

// Errors of bearerToken, worded as the contract's details for /auth/jwt.
var (
	errNoAuthorization = errors.New("Authorization header missing")
	errNotBearer       = errors.New("Invalid authentication scheme. Please use Bearer")
	errBadAuthFormat   = errors.New("Invalid authorization header format")
)

// bearerToken extracts the token of an "Authorization: Bearer <token>"
// header; the scheme is case-insensitive. As in Chainlit
// (scheme, token = authorization.split()), a value that is not exactly two
// words is a format error, whatever its scheme.
func bearerToken(h string) (string, error) {
	if h == "" {
		return "", errNoAuthorization
	}
	h = strings.TrimSpace(h)
	i := strings.IndexAny(h, " \t")
	if i < 0 {
		return "", errBadAuthFormat
	}
	scheme, token := h[:i], strings.TrimSpace(h[i+1:])
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", errBadAuthFormat
	}
	if !strings.EqualFold(scheme, "bearer") {
		return "", errNotBearer
	}
	return token, nil
}

// serveJWTLogin answers POST /auth/jwt: a token signed with the secret (by
// the app, or by Chainlit) becomes a session cookie that ends when the
// presented token does; it is never extended. With Config.HostTokens the
// token must instead be the host application's, signed with its keys.
func (a *Auth) serveJWTLogin(w http.ResponseWriter, r *http.Request) {
	const method = "jwt"
	token, err := bearerToken(r.Header.Get("Authorization"))
	if err != nil {
		reason := reasonBadFormat
		switch err {
		case errNoAuthorization:
			reason = reasonNoHeader
		case errNotBearer:
			reason = reasonBadScheme
		}
		a.deny(w, r, refused(method, http.StatusUnauthorized, reason, err.Error(), nil))
		return
	}
	if a.hostKeys != nil {
		u, exp, err := a.hostKeys.verify(r.Context(), token)
		if err != nil {
			a.deny(w, r, refused(method, http.StatusUnauthorized, reasonInvalidToken, "Invalid token", err))
			return
		}
		a.loginJSON(w, r, login{method: method, user: u, grant: a.newGrant(exp, "")})
		return
	}
	s, err := a.VerifyToken(r.Context(), token)
	if err != nil {
		a.deny(w, r, sessionDenial(method, err))
		return
	}
	// The new token joins the presented token's session: logging out
	// either ends both. s is this request's own copy (VerifyToken), which
	// the persist hook may change.
	g := a.newGrant(s.AbsoluteExpiresAt, s.Provider)
	g.family = s.ID
	a.loginJSON(w, r, login{method: method, user: s.User, grant: g})
}
