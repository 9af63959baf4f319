package chatauthtest

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	// maxLoginHops bounds the requests of one Login, against redirect loops.
	maxLoginHops = 20
	// maxLoginBody bounds each answer's body kept by Login.
	maxLoginBody = 1 << 20
	// loginTimeout bounds each request of LoginClient's client.
	loginTimeout = 30 * time.Second
)

// LoginClient logs the provider's current user (SetUser) in to the app at
// appURL, its base URL including the root path ("http://127.0.0.1:PORT/chat"),
// through the app's provider providerID, and returns the browser-like client
// that did it: its cookie jar holds the session cookie. It fails the test,
// showing every URL of the flow, unless the flow ends on
// R/login/callback?success=True, as the contract says a login does.
func (p *Provider) LoginClient(t testing.TB, appURL, providerID string) *http.Client {
	t.Helper()
	if p == nil {
		t.Fatalf("chatauthtest: LoginClient on a nil Provider")
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("chatauthtest: cookie jar: %v", err)
	}
	c := &http.Client{Jar: jar, Timeout: loginTimeout}
	start := strings.TrimRight(appURL, "/") + "/auth/oauth/" + url.PathEscape(providerID)
	resp, chain := p.Login(t, c, start)
	if !loginSucceeded(chain[len(chain)-1]) {
		t.Fatalf("chatauthtest: OAuth login ended on %s (%s), not on R/login/callback?success=True; the flow:\n%s",
			chain[len(chain)-1], resp.Status, numbered(chain))
	}
	return c
}

func loginSucceeded(final string) bool {
	u, err := url.Parse(final)
	return err == nil && strings.HasSuffix(u.Path, "/login/callback") && u.Query().Get("success") == "True"
}

func numbered(chain []string) string {
	var b strings.Builder
	for i, u := range chain {
		fmt.Fprintf(&b, "\t%d. %s\n", i+1, u)
	}
	return b.String()
}

// Login drives a browser's OAuth login with c from startURL (typically
// R/auth/oauth/{provider} of the app) and reports where it ended, without
// judging it: for tests of failures, which end on R/login?error=<code>.
//
// It follows redirects one at a time, and submits this provider's
// form_post page as a browser would, a cross-site POST (with Origin and
// Sec-Fetch-Site: cross-site). It stops at the first other answer, which it
// returns with its body read into memory, and returns the URLs it requested
// in order. A redirect to a host that is not loopback ends the flow without
// being requested: its URL is the last of the chain, the redirect the
// answer returned. An error of the transport fails the test.
//
// Cookies go through c.Jar as a browser would send them if the provider
// were on another site, as it is in production: once the flow has passed
// through another origin, SameSite=Strict cookies are withheld, and on the
// form_post's cross-site POST SameSite=Lax ones too. (Chrome's two-minute
// grace for cookies without SameSite is not modelled: those are sent.)
// c's CheckRedirect is not used; its Transport and Timeout are.
func (p *Provider) Login(t testing.TB, c *http.Client, startURL string) (*http.Response, []string) {
	t.Helper()
	if p == nil || c == nil {
		t.Fatalf("chatauthtest: Login needs a Provider and an *http.Client")
	}
	b := &browser{client: *c, jar: c.Jar, sameSite: make(map[string]http.SameSite)}
	b.client.Jar = nil // b sends and stores the cookies itself
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequest(http.MethodGet, startURL, nil)
	if err != nil {
		t.Fatalf("chatauthtest: login start URL %q: %v", startURL, err)
	}
	var chain []string
	for range maxLoginHops {
		chain = append(chain, req.URL.String())
		resp, body, err := b.do(req)
		if err != nil {
			t.Fatalf("chatauthtest: login: %s %s: %v; flow so far:\n%s", req.Method, req.URL, err, numbered(chain))
		}
		next := p.nextLoginRequest(resp, body)
		if next == nil {
			return resp, chain
		}
		if !isLoopback(next.URL.Hostname()) {
			return resp, append(chain, next.URL.String())
		}
		req = next
	}
	t.Fatalf("chatauthtest: login: more than %d requests; flow:\n%s", maxLoginHops, numbered(chain))
	return nil, chain
}

// browser sends the requests of one login: one at a time, with the
// cookies a browser would send.
type browser struct {
	client   http.Client
	jar      http.CookieJar
	sameSite map[string]http.SameSite // of the cookies set during the login, by name
	origins  []string                 // visited so far
}

// do sends req and returns its answer, with the body read into memory
// (and also left readable in resp.Body).
func (b *browser) do(req *http.Request) (*http.Response, []byte, error) {
	origin := req.URL.Scheme + "://" + req.URL.Host
	crossSite := slices.ContainsFunc(b.origins, func(o string) bool { return o != origin })
	b.origins = append(b.origins, origin)
	if b.jar != nil {
		for _, ck := range b.jar.Cookies(req.URL) {
			if sendCookie(b.sameSite[ck.Name], crossSite, req.Method) {
				req.AddCookie(ck)
			}
		}
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxLoginBody))
	_ = resp.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if set := resp.Cookies(); b.jar != nil && len(set) > 0 {
		for _, ck := range set {
			b.sameSite[ck.Name] = ck.SameSite
		}
		b.jar.SetCookies(req.URL, set)
	}
	return resp, body, nil
}

// sendCookie applies a browser's SameSite rules to a navigation.
func sendCookie(mode http.SameSite, crossSite bool, method string) bool {
	switch {
	case !crossSite:
		return true
	case mode == http.SameSiteStrictMode:
		return false
	case mode == http.SameSiteLaxMode:
		return method == http.MethodGet || method == http.MethodHead
	}
	return true
}

// nextLoginRequest is what a browser does after resp: follow its redirect,
// submit the provider's form_post page, or nothing (nil).
func (p *Provider) nextLoginRequest(resp *http.Response, body []byte) *http.Request {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		loc, err := resp.Location()
		if err != nil {
			return nil
		}
		// Browsers turn a redirected POST into a GET but for 307 and 308;
		// the only POST here is the form_post, whose answer is 302 or 303.
		req, err := http.NewRequest(http.MethodGet, loc.String(), nil)
		if err != nil {
			return nil
		}
		return req
	case http.StatusOK:
		return p.formPostRequest(resp, body)
	}
	return nil
}

var (
	formPostRe = regexp.MustCompile(`<form method="post" action="([^"]*)" data-chatauthtest="form_post">`)
	hiddenRe   = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// formPostRequest is the POST a browser sends when it loads this
// provider's form_post page, or nil when body is not one.
func (p *Provider) formPostRequest(resp *http.Response, body []byte) *http.Request {
	if resp.Request == nil || !strings.HasPrefix(resp.Request.URL.String(), p.Issuer+"/") {
		return nil
	}
	m := formPostRe.FindSubmatch(body)
	if m == nil {
		return nil
	}
	form := url.Values{}
	for _, f := range hiddenRe.FindAllSubmatch(body, -1) {
		form.Add(html.UnescapeString(string(f[1])), html.UnescapeString(string(f[2])))
	}
	req, err := http.NewRequest(http.MethodPost, html.UnescapeString(string(m[1])), strings.NewReader(form.Encode()))
	if err != nil {
		return nil
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.Issuer)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	return req
}
