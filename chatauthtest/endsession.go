package chatauthtest

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/golang-jwt/jwt/v5"
)

// serveEndSession is the end_session_endpoint of OpenID Connect
// RP-Initiated Logout 1.0: it records the call and sends the browser to
// post_logout_redirect_uri with state, after checking that the URI belongs
// to the client, which id_token_hint or client_id names. Without a
// post_logout_redirect_uri it shows a "logged out" page.
func (p *Provider) serveEndSession(w http.ResponseWriter, r *http.Request) {
	p.count(&p.counts.EndSession)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "chatauthtest: invalid_request: "+err.Error(), http.StatusBadRequest)
		return
	}
	q := r.Form
	p.mu.Lock()
	p.endSessions = append(p.endSessions, cloneValues(q))
	p.mu.Unlock()
	target, err := p.checkEndSession(q)
	if err != nil {
		http.Error(w, "chatauthtest: invalid_request: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if target == nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!DOCTYPE html><title>Logged out</title><p>You are logged out.</p>\n"))
		return
	}
	http.Redirect(w, r, target.String(), http.StatusFound)
}

// checkEndSession checks the logout request and returns where to send the
// browser, with state, or nil for nowhere.
func (p *Provider) checkEndSession(q url.Values) (*url.URL, error) {
	hint, client := q.Get("id_token_hint"), q.Get("client_id")
	if hint != "" {
		if err := p.checkIDTokenHint(hint); err != nil {
			return nil, err
		}
	}
	if client != "" && client != p.ClientID {
		return nil, fmt.Errorf("unknown client_id %q", client)
	}
	target := q.Get("post_logout_redirect_uri")
	if target == "" {
		return nil, nil
	}
	if hint == "" && client == "" {
		return nil, errors.New("post_logout_redirect_uri needs id_token_hint or client_id to name the client")
	}
	p.mu.Lock()
	allowed := slices.Clone(p.logoutURIs)
	p.mu.Unlock()
	if err := checkRedirectURI(target, allowed); err != nil {
		return nil, fmt.Errorf("post_logout_redirect_uri: %w", err)
	}
	u, _ := url.Parse(target)
	if s := q.Get("state"); s != "" {
		v := u.Query()
		v.Set("state", s)
		u.RawQuery = v.Encode()
	}
	return u, nil
}

// checkIDTokenHint accepts an id_token this provider signed for its client,
// expired or not (RP-Initiated Logout 1.0 §2).
func (p *Provider) checkIDTokenHint(raw string) error {
	var c jwt.MapClaims
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation()).
		ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
			kid, _ := t.Header["kid"].(string)
			if k := p.publicKey(kid); k != nil {
				return k, nil
			}
			return nil, fmt.Errorf("unknown kid %q", kid)
		})
	if err != nil {
		return fmt.Errorf("id_token_hint: %w", err)
	}
	if iss, _ := c.GetIssuer(); iss != p.Issuer {
		return fmt.Errorf("id_token_hint issued by %q, not this provider", iss)
	}
	if aud, _ := c.GetAudience(); !slices.Contains(aud, p.ClientID) {
		return errors.New("id_token_hint was not issued to the client")
	}
	return nil
}
