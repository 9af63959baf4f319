//go:build loadtest

package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/chatauthtest"
	"github.com/chatauth/chatauth/providers"
)

const (
	// faultTimeout is Config.OAuth.Timeout in TestFaultyProvider.
	faultTimeout = 2 * time.Second
	// faultMargin is how much longer than faultTimeout a failing login may
	// take: scheduling under -race on a busy machine, and the JWKS cache,
	// which holds its lock while it fetches (see TestFaultyProvider).
	faultMargin = 3 * time.Second
	// faultLogins is how many logins run concurrently for each fault.
	faultLogins = 50
	// faultRoot is the root path of the app under test.
	faultRoot = "/chat"
)

// fault is a way for an endpoint of a provider to fail, committed by
// faultyServer.
type fault string

const (
	faultNone fault = ""
	// hang never answers: the handler blocks until the client gives up.
	hang fault = "hang"
	// reset drops the connection without an answer, with a TCP RST.
	reset fault = "reset"
	// notJSON answers 200 application/json with an HTML body.
	notJSON fault = "not-json"
	// wrongType answers 200 text/html: a proxy's or a login page.
	wrongType fault = "wrong-content-type"
	// truncated answers 200 application/json, a complete HTTP message whose
	// JSON stops half-way.
	truncated fault = "truncated-json"
	// shortBody promises the whole JSON in Content-Length, sends half of it
	// and closes the connection.
	shortBody fault = "short-body"
)

// ownFaults are the faults faultyServer commits.
var ownFaults = []fault{hang, reset, notJSON, wrongType, truncated, shortBody}

// wholeJSON has something of every endpoint's answer (token, userinfo,
// JWKS, discovery); truncatedJSON is its first half.
const wholeJSON = `{"access_token":"at-1","token_type":"Bearer","expires_in":3600,` +
	`"sub":"user-1","email":"ada@example.com","email_verified":true,` +
	`"keys":[{"kty":"RSA","kid":"k1","use":"sig","n":"AQAB","e":"AQAB"}],` +
	`"issuer":"http://127.0.0.1","authorization_endpoint":"http://127.0.0.1/authorize"}`

var truncatedJSON = wholeJSON[:len(wholeJSON)/2]

// newFaultyServer starts a server that commits f on every request. Its
// hanging handlers return when the test ends, before the server closes.
func newFaultyServer(t *testing.T, f fault) *httptest.Server {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		commitFault(w, r, f, done)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // runs before srv.Close
	return srv
}

func commitFault(w http.ResponseWriter, r *http.Request, f fault, done <-chan struct{}) {
	switch f {
	case hang:
		select {
		case <-r.Context().Done():
		case <-done:
		}
	case reset:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
		}
		_ = conn.Close()
	case notJSON:
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
	case wrongType:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><title>Sign in</title><form method="post"><input name="user"></form>`)
	case truncated:
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, truncatedJSON)
	case shortBody:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(wholeJSON)))
		_, _ = io.WriteString(w, truncatedJSON)
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // the server drops the connection
	}
}

// faultCase is one fault at one endpoint.
type faultCase struct {
	endpoint string // "token", "userinfo", "jwks", "discovery", or "" for none
	// misbehave is the fault when chatauthtest's provider commits it;
	// otherwise fault is, at a faultyServer standing in for the endpoint.
	misbehave chatauthtest.Misbehavior
	fault     fault
	code      string // the login's error code; "" for success
}

func (c faultCase) name() string {
	f := string(c.fault)
	if c.misbehave != 0 {
		f = c.misbehave.String()
	}
	if c.endpoint == "" {
		return "healthy"
	}
	return c.endpoint + "/" + f
}

func faultCases() []faultCase {
	cases := []faultCase{
		{endpoint: ""}, // the harness itself: a login that works
		{endpoint: "token", misbehave: chatauthtest.SlowToken, code: "exchange_failed"},
		{endpoint: "token", misbehave: chatauthtest.ResetConnection, code: "exchange_failed"},
		{endpoint: "token", misbehave: chatauthtest.GarbageToken, code: "exchange_failed"},
		{endpoint: "userinfo", misbehave: chatauthtest.UserinfoError, code: "userinfo_failed"},
	}
	for _, f := range []fault{wrongType, truncated, shortBody} { // the rest are chatauthtest's
		cases = append(cases, faultCase{endpoint: "token", fault: f, code: "exchange_failed"})
	}
	for _, f := range ownFaults {
		cases = append(cases,
			faultCase{endpoint: "userinfo", fault: f, code: "userinfo_failed"},
			faultCase{endpoint: "jwks", fault: f, code: "invalid_id_token"},
			faultCase{endpoint: "discovery", fault: f},
		)
	}
	return cases
}

// TestFaultyProvider runs OAuth logins, faultLogins at once, against a
// provider whose token, userinfo or JWKS endpoint hangs, resets the
// connection or answers garbage, and checks that each ends on a 302 to
// R/login?error=<code> within Config.OAuth.Timeout plus faultMargin,
// never a 5xx. The same faults at the discovery endpoint must make
// AddProvider fail in time. The provider is chatauthtest's, with its
// misbehaviours where it has them, and with one endpoint pointed at a
// faultyServer for the rest.
//
// A hanging JWKS endpoint can make a login wait up to about twice the
// time-out: internal/jwks holds its lock across the fetch, so a login
// queues behind another's fetch, which its own context does not cut short,
// and may then fetch again itself. faultMargin covers it.
func TestFaultyProvider(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, tc := range faultCases() {
		t.Run(tc.name(), func(t *testing.T) {
			if tc.endpoint == "discovery" {
				runFaultyDiscovery(t, tc)
			} else {
				runFaultyLogins(t, tc)
			}
		})
	}
	// Every subtest closed its servers on its way out.
	after := waitGoroutines(t, before)
	t.Logf("goroutines %d before, %d after", before, after)
}

// loginResult is how one OAuth login ended.
type loginResult struct {
	resp  *http.Response // the last answer, body closed
	err   error
	took  time.Duration
	state bool // the oauth_state cookie is still in the jar
}

func runFaultyLogins(t *testing.T, tc faultCase) {
	idp := chatauthtest.NewProvider(t)
	idp.Misbehave(tc.misbehave)
	p := idp.Config("corp")
	if tc.fault != faultNone {
		// Set before AddProvider: discovery fills only the empty endpoints.
		front := newFaultyServer(t, tc.fault).URL
		switch tc.endpoint {
		case "token":
			p.TokenURL = front + chatauthtest.TokenPath
		case "userinfo":
			p.UserInfoURL = front + chatauthtest.UserinfoPath
		case "jwks":
			p.JWKSURL = front + chatauthtest.JWKSPath
		}
	}
	a := newAuth(t, chatauth.Config{RootPath: faultRoot, OAuth: chatauth.OAuthConfig{Timeout: faultTimeout}})
	a.OnOAuth(func(_ context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) { return l.User, nil })
	if err := a.AddProvider(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Mount(mux)
	app := startServer(t, mux)
	tr := newTransport(2 * faultLogins)
	defer tr.CloseIdleConnections()

	results := make([]loginResult, faultLogins)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i] = oauthLogin(tr, app.URL) })
	}
	wg.Wait()

	var slowest time.Duration
	for i, r := range results {
		slowest = max(slowest, r.took)
		if problem := judgeLogin(r, tc.code); problem != "" {
			t.Errorf("login %d (%v): %s", i, r.took.Round(time.Millisecond), problem)
		}
	}
	app.checkErrorLog(t)
	want := "error=" + tc.code
	if tc.code == "" {
		want = "success"
	}
	t.Logf("%d concurrent logins, each a 302 to %s/login %s; slowest %v (time-out %v)",
		faultLogins, faultRoot, want, slowest.Round(time.Millisecond), faultTimeout)
}

// oauthLogin runs a login as a browser would, through tr, from
// R/auth/oauth/corp of the app at base to the app's answer to the callback.
func oauthLogin(tr http.RoundTripper, base string) loginResult {
	jar, _ := cookiejar.New(nil)
	app, _ := url.Parse(base + faultRoot + "/")
	c := &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			switch {
			case len(via) > 10:
				return errors.New("more than 10 redirects")
			case req.URL.Host == app.Host && (req.URL.Path == faultRoot+"/login" || req.URL.Path == faultRoot+"/login/callback"):
				return http.ErrUseLastResponse // the app's pages: where the login ends
			}
			return nil
		}}
	start := time.Now()
	resp, _, err := do(c, mustRequest(http.MethodGet, base+faultRoot+"/auth/oauth/corp"))
	r := loginResult{resp: resp, err: err, took: time.Since(start)}
	for _, ck := range jar.Cookies(app) {
		if ck.Name == "oauth_state" {
			r.state = true
		}
	}
	return r
}

// judgeLogin says what is wrong with how a login ended, or "": a 302 from
// the callback to R/login?error=code, or to R/login/callback?success=True
// when code is "", in time, with the state cookie cleared.
func judgeLogin(r loginResult, code string) string {
	if r.err != nil {
		return r.err.Error()
	}
	loc, err := r.resp.Location()
	switch {
	case r.resp.StatusCode != http.StatusFound || err != nil:
		return fmt.Sprintf("ended on %d at %s, want 302", r.resp.StatusCode, r.resp.Request.URL.Path)
	case r.resp.Request.URL.Path != faultRoot+"/auth/oauth/corp/callback":
		return "302 from " + r.resp.Request.URL.Path + ", want the callback"
	case code == "" && (loc.Path != faultRoot+"/login/callback" || loc.Query().Get("success") != "True"):
		return "redirected to " + loc.Path + "?error=" + loc.Query().Get("error") + ", want success"
	case code != "" && (loc.Path != faultRoot+"/login" || loc.Query().Get("error") != code):
		return "redirected to " + loc.Path + "?error=" + loc.Query().Get("error") + ", want error=" + code
	case r.took > faultTimeout+faultMargin:
		return fmt.Sprintf("took %v, more than %v + %v", r.took, faultTimeout, faultMargin)
	case r.state:
		return "oauth_state cookie not cleared"
	}
	return ""
}

func mustRequest(method, target string) *http.Request {
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		panic(err)
	}
	return req
}

// runFaultyDiscovery adds an OpenID provider whose discovery endpoint
// commits tc.fault, faultLogins times at once: each AddProvider must fail
// with ErrProviderConfig in time, and the provider stay unknown.
func runFaultyDiscovery(t *testing.T, tc faultCase) {
	issuer := newFaultyServer(t, tc.fault).URL
	a := newAuth(t, chatauth.Config{RootPath: faultRoot, OAuth: chatauth.OAuthConfig{Timeout: faultTimeout}})
	a.OnOAuth(func(_ context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) { return l.User, nil })
	errs := make([]error, faultLogins)
	took := make([]time.Duration, faultLogins)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			start := time.Now()
			errs[i] = a.AddProvider(context.Background(), providers.OIDC(providers.OIDCOptions{ID: "corp", Issuer: issuer, ClientID: "client-id", ClientSecret: "client-secret"}))
			took[i] = time.Since(start)
		})
	}
	wg.Wait()
	var slowest time.Duration
	for i, err := range errs {
		slowest = max(slowest, took[i])
		switch {
		case !errors.Is(err, chatauth.ErrProviderConfig):
			t.Errorf("AddProvider %d: %v, want ErrProviderConfig", i, err)
		case took[i] > faultTimeout+faultMargin:
			t.Errorf("AddProvider %d took %v, more than %v + %v", i, took[i], faultTimeout, faultMargin)
		}
	}
	if ps := a.LoginMethods().Providers; len(ps) != 0 {
		t.Errorf("providers %v after failed discovery", ps)
	}
	app := startServer(t, a)
	resp, _, err := do(app.Client(), mustRequest(http.MethodGet, app.URL+faultRoot+"/auth/oauth/corp"))
	if err != nil {
		t.Errorf("GET R/auth/oauth/corp after failed discovery: %v", err)
	} else if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET R/auth/oauth/corp after failed discovery: %d, want 404", resp.StatusCode)
	}
	t.Logf("%d concurrent AddProvider calls failed; slowest %v (time-out %v); e.g. %v",
		faultLogins, slowest.Round(time.Millisecond), faultTimeout, errs[0])
}
