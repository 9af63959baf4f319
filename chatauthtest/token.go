package chatauthtest

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// grant is what an access or refresh token stands for.
type grant struct {
	clientID string
	scope    []string
	user     User
	authTime time.Time
	expires  time.Time // access tokens only
}

// tokenError is an RFC 6749 5.2 error answer.
type tokenError struct {
	status      int
	code, desc  string
	basicFailed bool // answer with WWW-Authenticate: Basic
}

func (e *tokenError) Error() string { return e.code + ": " + e.desc }

func badRequest(code, format string, args ...any) *tokenError {
	return &tokenError{status: http.StatusBadRequest, code: code, desc: fmt.Sprintf(format, args...)}
}

func (e *tokenError) write(w http.ResponseWriter) {
	if e.basicFailed {
		w.Header().Set("WWW-Authenticate", `Basic realm="chatauthtest"`)
	}
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.desc})
}

// serveToken is the token endpoint (RFC 6749 3.2, 4.1.3, 6; OpenID Connect
// Core 3.1.3).
func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	p.count(&p.counts.Token)
	if p.tokenFault(w, r, p.faults()) {
		return
	}
	resp, err := p.token(w, r)
	if err != nil {
		var te *tokenError
		if !errors.As(err, &te) {
			te = &tokenError{status: http.StatusInternalServerError, code: "server_error", desc: err.Error()}
		}
		te.write(w)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// token checks the request and the client, then runs the grant.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		return nil, &tokenError{status: http.StatusMethodNotAllowed, code: "invalid_request", desc: "the token endpoint takes POST"}
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil, badRequest("invalid_request", "the body must be application/x-www-form-urlencoded, not %q", mt)
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return nil, badRequest("invalid_request", "unreadable form: %v", err)
	}
	form := r.PostForm
	method, authErr := p.authenticateClient(r, form)
	p.mu.Lock()
	p.lastToken, p.lastAuth = cloneValues(form), method
	p.mu.Unlock()
	for k, vs := range form {
		if len(vs) > 1 {
			return nil, badRequest("invalid_request", "%s given more than once", k)
		}
	}
	if authErr != nil {
		return nil, authErr
	}
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
		return p.exchangeCode(form)
	case "refresh_token":
		return p.refreshToken(form)
	case "":
		return nil, badRequest("invalid_request", "grant_type is missing")
	default:
		return nil, badRequest("unsupported_grant_type", "grant_type %q is not supported", gt)
	}
}

// tokenFault commits the token endpoint's faults; it reports whether it
// answered.
func (p *Provider) tokenFault(w http.ResponseWriter, r *http.Request, m Misbehavior) bool {
	switch {
	case m&ResetConnection != 0:
		resetConnection(w)
	case m&SlowToken != 0:
		select {
		case <-r.Context().Done():
		case <-p.done:
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable"})
	case m&TokenServerError != 0:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error", "error_description": "chatauthtest TokenServerError"})
	case m&GarbageToken != 0:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("<html><body>Bad Gateway, but 200 and not JSON</body></html>"))
	default:
		return false
	}
	return true
}

// resetConnection drops the request's connection without an answer, with
// a TCP reset where it can.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // the server drops the connection
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// authenticateClient checks the client's credentials, sent with HTTP Basic
// (RFC 6749 2.3.1, form-encoded first) or in the form, never both. It
// returns the method the client used.
func (p *Provider) authenticateClient(r *http.Request, form url.Values) (string, error) {
	id, secret, basic := r.BasicAuth()
	fail := func(method, format string, args ...any) (string, error) {
		return method, &tokenError{status: http.StatusUnauthorized, code: "invalid_client",
			desc: fmt.Sprintf(format, args...), basicFailed: method == "client_secret_basic"}
	}
	switch {
	case basic && form.Has("client_secret"):
		return fail("client_secret_basic", "the client authenticated with more than one method")
	case basic:
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return fail("client_secret_basic", "the Basic credentials are not form-encoded")
		}
		if form.Has("client_id") && form.Get("client_id") != id {
			return fail("client_secret_basic", "client_id in the form differs from the authenticated client")
		}
		if !equal(id, p.ClientID) || !equal(secret, p.ClientSecret) {
			return fail("client_secret_basic", "client authentication failed")
		}
		return "client_secret_basic", nil
	case form.Has("client_secret"):
		if !equal(form.Get("client_id"), p.ClientID) || !equal(form.Get("client_secret"), p.ClientSecret) {
			return fail("client_secret_post", "client authentication failed")
		}
		return "client_secret_post", nil
	default:
		return fail("", "client authentication is required (client_secret_basic or client_secret_post)")
	}
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// exchangeCode is the authorization_code grant: the code is used up by the
// first attempt, whatever its outcome; a replayed code also revokes the
// tokens issued from it (RFC 6749 4.1.2, 10.5).
func (p *Provider) exchangeCode(form url.Values) (map[string]any, error) {
	code := form.Get("code")
	if code == "" {
		return nil, badRequest("invalid_request", "code is missing")
	}
	p.mu.Lock()
	c := p.codes[code]
	if c == nil {
		p.mu.Unlock()
		return nil, badRequest("invalid_grant", "unknown code")
	}
	if c.used {
		p.revokeLocked(c.issued)
		p.mu.Unlock()
		return nil, badRequest("invalid_grant", "code was already used; the tokens issued from it are revoked")
	}
	c.used = true
	ac := *c
	p.mu.Unlock()

	if err := checkCodeUse(&ac, form, p.ClientID); err != nil {
		return nil, err
	}
	g := grant{clientID: ac.clientID, scope: ac.scope, user: ac.user, authTime: ac.authTime}
	resp, tokens, err := p.mintTokens(g, ac.nonce)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	c.issued = append(c.issued, tokens...)
	p.mu.Unlock()
	return resp, nil
}

// checkCodeUse checks that the code is used in time, by its client, with
// its redirect URI and the verifier of its PKCE challenge (RFC 7636 4.6).
func checkCodeUse(c *authCode, form url.Values, clientID string) error {
	switch {
	case time.Now().After(c.expires):
		return badRequest("invalid_grant", "code expired")
	case c.clientID != clientID:
		return badRequest("invalid_grant", "code was issued to another client")
	case form.Get("redirect_uri") != c.redirectURI:
		return badRequest("invalid_grant", "redirect_uri %q differs from the authorize request's", form.Get("redirect_uri"))
	}
	v := form.Get("code_verifier")
	switch {
	case v == "":
		return badRequest("invalid_grant", "code_verifier is missing (PKCE)")
	case !validPKCE(v):
		return badRequest("invalid_grant", "code_verifier is not 43 to 128 unreserved characters")
	}
	sum := sha256.Sum256([]byte(v))
	if !equal(b64(sum[:]), c.challenge) {
		return badRequest("invalid_grant", "code_verifier does not match the code_challenge")
	}
	return nil
}

// revokeLocked forgets the access and refresh tokens named; p.mu is held.
func (p *Provider) revokeLocked(tokens []string) {
	for _, t := range tokens {
		delete(p.access, t)
		delete(p.refresh, t)
	}
}

// mintTokens issues an access token, a refresh token and, when the scope
// has openid, an id_token for g.
func (p *Provider) mintTokens(g grant, nonce string) (map[string]any, []string, error) {
	m := p.faults()
	access, refresh := randomToken(32), randomToken(32)
	p.mu.Lock()
	life := p.tokenLifetime
	ga := g
	ga.expires = time.Now().Add(life)
	p.access[access], p.refresh[refresh] = &ga, &g
	p.mu.Unlock()
	resp := map[string]any{
		"access_token":  access,
		"token_type":    "Bearer",
		"expires_in":    int64(life / time.Second),
		"refresh_token": refresh,
		"scope":         strings.Join(g.scope, " "),
	}
	if slices.Contains(g.scope, "openid") && m&NoIDToken == 0 {
		idt, err := p.idToken(g, nonce, m)
		if err != nil {
			return nil, nil, err
		}
		resp["id_token"] = idt
	}
	return resp, []string{access, refresh}, nil
}

// refreshToken is the refresh_token grant (RFC 6749 6): a new access token
// for the same grant. The refresh token stays valid; no id_token is sent.
func (p *Provider) refreshToken(form url.Values) (map[string]any, error) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, badRequest("invalid_request", "refresh_token is missing")
	}
	p.mu.Lock()
	g := p.refresh[rt]
	p.mu.Unlock()
	if g == nil {
		return nil, badRequest("invalid_grant", "unknown or revoked refresh_token")
	}
	if g.clientID != p.ClientID {
		return nil, badRequest("invalid_grant", "refresh_token was issued to another client")
	}
	for _, s := range strings.Fields(form.Get("scope")) {
		if !slices.Contains(g.scope, s) {
			return nil, badRequest("invalid_scope", "scope %q was not granted", s)
		}
	}
	access := randomToken(32)
	p.mu.Lock()
	life := p.tokenLifetime
	ga := *g
	ga.expires = time.Now().Add(life)
	p.access[access] = &ga
	p.counts.Refresh++
	p.mu.Unlock()
	return map[string]any{
		"access_token": access,
		"token_type":   "Bearer",
		"expires_in":   int64(life / time.Second),
		"scope":        strings.Join(g.scope, " "),
	}, nil
}

// otherClient is the audience of the audience faults.
const otherClient = "some-other-client"

// idToken signs the id_token of g (OpenID Connect Core 2), committing the
// id_token faults in m.
func (p *Provider) idToken(g grant, nonce string, m Misbehavior) (string, error) {
	now := time.Now()
	c := jwt.MapClaims{}
	for k, v := range g.user.claims(g.scope, m) {
		c[k] = v
	}
	iat, exp := now, now.Add(DefaultTokenLifetime)
	switch {
	case m&ExpiredIDToken != 0:
		iat, exp = now.Add(-2*time.Hour), now.Add(-time.Hour)
	case m&IssuedInFuture != 0:
		iat, exp = now.Add(time.Hour), now.Add(2*time.Hour)
	}
	c["iss"] = p.Issuer
	if m&WrongIssuer != 0 {
		c["iss"] = "https://issuer.invalid"
	}
	c["aud"], c["azp"] = g.clientID, g.clientID
	switch {
	case m&WrongAudience != 0:
		c["aud"], c["azp"] = otherClient, otherClient
	case m&MultipleAudiencesWithoutAzp != 0:
		c["aud"] = []string{g.clientID, otherClient}
		delete(c, "azp")
	case m&WrongAzp != 0:
		c["aud"], c["azp"] = []string{g.clientID, otherClient}, otherClient
	}
	c["iat"], c["exp"], c["auth_time"] = iat.Unix(), exp.Unix(), g.authTime.Unix()
	switch {
	case m&WrongNonce != 0:
		c["nonce"] = "wrong-nonce-" + randomToken(8)
	case nonce != "":
		c["nonce"] = nonce
	}
	return p.sign(c, m)
}

// claims are the user's claims that scope grants, then u.Claims.
func (u User) claims(scope []string, m Misbehavior) map[string]any {
	c := map[string]any{"sub": u.Subject}
	if slices.Contains(scope, "profile") {
		for k, v := range map[string]string{"name": u.Name, "picture": u.Picture, "preferred_username": u.PreferredUsername} {
			if v != "" {
				c[k] = v
			}
		}
	}
	if slices.Contains(scope, "email") && u.Email != "" {
		c["email"], c["email_verified"] = u.Email, u.EmailVerified
	}
	for k, v := range u.Claims {
		c[k] = v
	}
	if _, ok := c["email_verified"]; ok && m&NoEmailVerified != 0 {
		c["email_verified"] = false
	}
	return c
}
