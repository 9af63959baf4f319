package chatauthtest

import (
	"net/http"
	"net/url"
	"testing"
)

func endSession(t *testing.T, p *Provider, q url.Values) *http.Response {
	t.Helper()
	resp, err := noRedirect.Get(p.Issuer + EndSessionPath + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestEndSession(t *testing.T) {
	p := NewProvider(t)
	f := newFlow(p)
	hint := idToken(t, f.login(t))
	const back = "http://127.0.0.1:9/login?logged_out=1"
	resp := endSession(t, p, url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {back}, "state": {"s1"}})
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("end_session: %s, want 302", resp.Status)
	}
	loc, _ := resp.Location()
	if q := loc.Query(); loc.Path != "/login" || q.Get("state") != "s1" || q.Get("logged_out") != "1" {
		t.Errorf("end_session redirected to %s, want %s with state s1", loc, back)
	}
	calls := p.EndSessions()
	if len(calls) != 1 || calls[0].Get("id_token_hint") != hint || calls[0].Get("post_logout_redirect_uri") != back {
		t.Errorf("EndSessions() = %v", calls)
	}

	// Without a redirect: a page, still recorded.
	if resp := endSession(t, p, url.Values{"id_token_hint": {hint}}); resp.StatusCode != http.StatusOK {
		t.Errorf("end_session without redirect: %s, want 200", resp.Status)
	}
	if n := len(p.EndSessions()); n != 2 || p.Counts().EndSession != 2 {
		t.Errorf("%d end sessions recorded, want 2", n)
	}

	// An expired id_token is still a good hint (RP-Initiated Logout 1.0 §2).
	p.Misbehave(ExpiredIDToken)
	expired := idToken(t, newFlow(p).login(t))
	if resp := endSession(t, p, url.Values{"id_token_hint": {expired}, "post_logout_redirect_uri": {back}}); resp.StatusCode != http.StatusFound {
		t.Errorf("end_session with an expired hint: %s, want 302", resp.Status)
	}
}

func TestEndSessionRefusals(t *testing.T) {
	p := NewProvider(t)
	hint := idToken(t, newFlow(p).login(t))
	other := NewProvider(t)
	foreign := idToken(t, newFlow(other).login(t))
	const back = "http://127.0.0.1:9/"
	tests := []struct {
		name string
		q    url.Values
	}{
		{"no client named", url.Values{"post_logout_redirect_uri": {back}}},
		{"hint of another provider", url.Values{"id_token_hint": {foreign}, "post_logout_redirect_uri": {back}}},
		{"tampered hint", url.Values{"id_token_hint": {hint[:len(hint)-4] + "AAAA"}, "post_logout_redirect_uri": {back}}},
		{"unknown client", url.Values{"client_id": {"someone"}, "post_logout_redirect_uri": {back}}},
		{"remote target", url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://attacker.example/"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if resp := endSession(t, p, tt.q); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Errorf("end_session: %s to %q, want 400", resp.Status, resp.Header.Get("Location"))
			}
		})
	}

	p.AllowPostLogoutRedirectURI("https://chat.example.com/login")
	if resp := endSession(t, p, url.Values{"client_id": {p.ClientID}, "post_logout_redirect_uri": {back}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unregistered target once one is registered: %s, want 400", resp.Status)
	}
	resp := endSession(t, p, url.Values{"client_id": {p.ClientID}, "post_logout_redirect_uri": {"https://chat.example.com/login"}})
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://chat.example.com/login" {
		t.Errorf("registered target: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
}
