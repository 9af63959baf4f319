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
// header; the scheme is case-insensitive.
func bearerToken(h string) (string, error) {
	if h == "" {
		return "", errNoAuthorization
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok {
		if strings.EqualFold(h, "bearer") {
			return "", errBadAuthFormat
		}
		return "", errNotBearer
	}
	if !strings.EqualFold(scheme, "bearer") {
		return "", errNotBearer
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", errBadAuthFormat
	}
	return token, nil
}

// serveJWTLogin answers POST /auth/jwt: a token signed with the secret (by
// the app, or by Chainlit) becomes a session cookie that ends when the
// presented token does; it is never extended.
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
		a.reject(w, r, method, http.StatusUnauthorized, reason, err.Error(), nil)
		return
	}
	s, err := a.VerifyToken(r.Context(), token)
	if err != nil {
		reason, status := sessionReason(err)
		detail := "Invalid token"
		if status != http.StatusUnauthorized {
			detail = sessionDetail(status)
		}
		a.reject(w, r, method, status, reason, detail, err)
		return
	}
	a.login(w, r, method, s.User, s.ExpiresAt)
}
