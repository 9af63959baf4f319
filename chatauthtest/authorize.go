package chatauthtest

import (
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// authCode is an issued authorization code and everything it is bound to.
type authCode struct {
	clientID, redirectURI, challenge, nonce string
	scope                                   []string
	user                                    User
	authTime, expires                       time.Time
	used                                    bool
	issued                                  []string // tokens minted from it, revoked if it is replayed
}

// authResponse is where and how the authorize answer goes.
type authResponse struct {
	redirectURI, mode, state string
}

// singleParams may appear at most once in an authorize request (RFC 6749 3.1).
var singleParams = []string{"client_id", "redirect_uri", "response_type", "response_mode", "scope",
	"state", "nonce", "code_challenge", "code_challenge_method", "prompt"}

// serveAuthorize is the authorization endpoint (RFC 6749 4.1.1, OpenID
// Connect Core 3.1.2). It logs the current user in without a form. Errors
// about the client or the redirect URI are answered 400 here, since they
// must not redirect (RFC 6749 4.1.2.1); the others redirect back.
func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	p.count(&p.counts.Authorize)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "chatauthtest: invalid_request: "+err.Error(), http.StatusBadRequest)
		return
	}
	q := r.Form
	p.mu.Lock()
	p.lastAuthorize = cloneValues(q)
	p.mu.Unlock()

	if err := p.checkClient(q); err != nil {
		http.Error(w, "chatauthtest: "+err.Error(), http.StatusBadRequest)
		return
	}
	resp := authResponse{redirectURI: q.Get("redirect_uri"), mode: "query", state: q.Get("state")}
	if q.Get("response_mode") == "form_post" {
		resp.mode = "form_post" // any other mode is answered, refused, in the default one
	}
	m := p.faults()
	if code, desc := p.checkAuthorizeRequest(q); code != "" {
		p.answerAuthorize(w, r, resp, oauthError(code, desc), m)
		return
	}
	if m&ErrorRedirect != 0 {
		p.mu.Lock()
		params := oauthError(p.errCode, p.errDesc)
		p.mu.Unlock()
		p.answerAuthorize(w, r, resp, params, m)
		return
	}
	p.answerAuthorize(w, r, resp, url.Values{"code": {p.issueCode(q)}}, m)
}

// checkClient checks what must be right before the provider may redirect
// anywhere: the client and its redirect URI.
func (p *Provider) checkClient(q url.Values) error {
	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(q[k]) > 1 {
			return fmt.Errorf("invalid_request: %s given more than once", k)
		}
	}
	if id := q.Get("client_id"); id != p.ClientID {
		return fmt.Errorf("invalid_client: unknown client_id %q", id)
	}
	p.mu.Lock()
	allowed := slices.Clone(p.redirectURIs)
	p.mu.Unlock()
	if err := checkRedirectURI(q.Get("redirect_uri"), allowed); err != nil {
		return fmt.Errorf("invalid_request: %w", err)
	}
	return nil
}

// checkRedirectURI accepts uri when it is registered, or, when nothing is
// registered, when it is an absolute http(s) URI on a loopback host.
func checkRedirectURI(uri string, registered []string) error {
	if uri == "" {
		return errors.New("redirect_uri is missing")
	}
	if len(registered) > 0 {
		if !slices.Contains(registered, uri) {
			return fmt.Errorf("redirect_uri %q is not registered", uri)
		}
		return nil
	}
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("redirect_uri %q is not an absolute http(s) URI without fragment", uri)
	}
	if !isLoopback(u.Hostname()) {
		return fmt.Errorf("redirect_uri %q is not on a loopback host and none is registered (AllowRedirectURI)", uri)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkAuthorizeRequest checks the parameters that are answered by an error
// redirect, and returns the error code and description, or "".
func (p *Provider) checkAuthorizeRequest(q url.Values) (code, desc string) {
	for _, k := range singleParams {
		if len(q[k]) > 1 {
			return "invalid_request", k + " given more than once"
		}
	}
	switch q.Get("response_mode") {
	case "", "query", "form_post":
	default:
		return "invalid_request", fmt.Sprintf("response_mode %q is not supported", q.Get("response_mode"))
	}
	if rt := q.Get("response_type"); rt != "code" {
		return "unsupported_response_type", fmt.Sprintf("response_type %q is not supported, only code", rt)
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "":
		return "invalid_request", "code_challenge is required (PKCE, RFC 7636)"
	case method != "S256":
		return "invalid_request", fmt.Sprintf("code_challenge_method %q is not supported, only S256", method)
	case !validPKCE(challenge) || len(challenge) != 43:
		return "invalid_request", "code_challenge is not a base64url SHA-256 hash"
	}
	return "", ""
}

// validPKCE reports whether s has the length and alphabet of a PKCE code
// verifier or challenge (RFC 7636 4.1, 4.2).
func validPKCE(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)) {
			return false
		}
	}
	return true
}

// issueCode stores a new single-use code bound to the request and the
// current user.
func (p *Provider) issueCode(q url.Values) string {
	code := randomToken(32)
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, c := range p.codes { // forget the expired ones
		if now.After(c.expires) {
			delete(p.codes, k)
		}
	}
	p.codes[code] = &authCode{
		clientID:    q.Get("client_id"),
		redirectURI: q.Get("redirect_uri"),
		challenge:   q.Get("code_challenge"),
		nonce:       q.Get("nonce"),
		scope:       strings.Fields(q.Get("scope")),
		user:        p.user,
		authTime:    now,
		expires:     now.Add(CodeLifetime),
	}
	return code
}

func oauthError(code, desc string) url.Values {
	v := url.Values{"error": {code}}
	if desc != "" {
		v.Set("error_description", desc)
	}
	return v
}

// answerAuthorize sends params (a code or an error) back to the client,
// with state and iss, in the response mode asked for.
func (p *Provider) answerAuthorize(w http.ResponseWriter, r *http.Request, resp authResponse, params url.Values, m Misbehavior) {
	switch {
	case m&NoState != 0:
	case m&WrongState != 0:
		params.Set("state", "wrong-state-"+randomToken(8))
	case resp.state != "":
		params.Set("state", resp.state)
	}
	params.Set("iss", p.Issuer)
	if m&WrongIssParam != 0 {
		params.Set("iss", "https://issuer.invalid")
	}
	w.Header().Set("Cache-Control", "no-store")
	if resp.mode == "form_post" {
		writeFormPost(w, resp.redirectURI, params)
		return
	}
	u, _ := url.Parse(resp.redirectURI) // checked by checkClient
	q := u.Query()                      // the redirect URI's own query is kept (RFC 6749 3.1.2)
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// formPostPage is the OAuth 2.0 Form Post Response Mode page: the browser
// posts the response to the redirect URI as soon as it loads.
var formPostPage = template.Must(template.New("form_post").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Signing in</title></head>
<body onload="document.forms[0].submit()">
<form method="post" action="{{.Action}}" data-chatauthtest="form_post">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><button type="submit">Continue</button></noscript>
</form>
</body></html>
`))

type formField struct{ Name, Value string }

func writeFormPost(w http.ResponseWriter, action string, params url.Values) {
	var fields []formField
	for _, k := range slices.Sorted(maps.Keys(params)) {
		for _, v := range params[k] {
			fields = append(fields, formField{k, v})
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = formPostPage.Execute(w, struct {
		Action template.URL
		Fields []formField
	}{template.URL(action), fields})
}
