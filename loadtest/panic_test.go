//go:build loadtest

package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
)

// panicLoadDuration is how long TestHookPanicsUnderLoad's clients loop.
const panicLoadDuration = 5 * time.Second

// userHeader carries the identity the header hook reads.
const userHeader = "X-Load-User"

// The steps of TestHookPanicsUnderLoad, named for the tally.
const (
	stepPasswordOK    = "POST /login (ok)"
	stepPasswordPanic = "POST /login (panic)"
	stepHeaderOK      = "POST /auth/header (ok)"
	stepHeaderPanic   = "POST /auth/header (panic)"
	stepHookUser      = "GET /user (ok)"
)

// TestHookPanicsUnderLoad has password and header hooks panic for half of
// the users, under many concurrent clients: the panicking logins always get
// 500 {"detail": "internal error"} and no cookie, the others succeed, the
// server answers normally afterwards, and no goroutine is left behind.
func TestHookPanicsUnderLoad(t *testing.T) {
	clients := *loadClients
	a := newAuth(t, chatauth.Config{
		Login: chatauth.LoginConfig{
			// A panic is a failed attempt, never forgiven: the panicking users
			// would reach the default 10 per username within a second and be
			// answered 429 before the hook runs. All clients share 127.0.0.1.
			Limits: chatauth.PasswordLimits{PerUsername: 1 << 30, PerAddress: 1 << 30},
			// The hooks are loaded here, not the login CPU bound: every client
			// gets a slot.
			PasswordConcurrency: clients,
			HeaderConcurrency:   clients,
		},
		Proxy: chatauth.ProxyConfig{
			// The header hook believes an identity header: a proxy's, from
			// loopback.
			Trusted: []string{"127.0.0.1"},
		},
	})
	var panics atomic.Int64
	a.OnPassword(func(_ context.Context, username, password string) (*chatauth.User, error) {
		if strings.HasPrefix(username, "panic-") {
			panics.Add(1)
			panic("password hook panics for " + username)
		}
		if password != "pw-"+username {
			return nil, nil
		}
		return &chatauth.User{Identifier: username, DisplayName: "User " + username}, nil
	})
	a.OnProxyHeader(func(_ context.Context, h http.Header) (*chatauth.User, error) {
		username := h.Get(userHeader)
		if strings.HasPrefix(username, "panic-") {
			panics.Add(1)
			panic("header hook panics for " + username)
		}
		if username == "" {
			return nil, nil
		}
		return &chatauth.User{Identifier: username, DisplayName: "User " + username}, nil
	})
	srv := startServer(t, a)
	tr := newTransport(clients + 16)
	defer tr.CloseIdleConnections()

	before := runtime.NumGoroutine()
	tl := newTally()
	var wg sync.WaitGroup
	start := time.Now()
	until := start.Add(panicLoadDuration)
	for i := range clients {
		username := fmt.Sprintf("user-%03d", i)
		if i%2 == 1 {
			username = fmt.Sprintf("panic-%03d", i)
		}
		lc := newLoadClient(t, tr, srv.URL, username, "pw-"+username, i%4 < 2, tl)
		wg.Go(func() {
			for n := 0; time.Now().Before(until) && lc.hookLoop(n%2 == 0); n++ {
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	// The server still serves logins and sessions.
	after := newTally()
	lc := newLoadClient(t, tr, srv.URL, "user-after", "pw-user-after", false, after)
	lc.hookLoop(true)
	send(lc.client, after, "GET /auth/config", lc.request(http.MethodGet, "/auth/config", ""), func(resp *http.Response, body []byte) string {
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"passwordAuth":true`) {
			return "want 200 with passwordAuth, got " + snippet(body)
		}
		return ""
	})
	if after.total.Load() != 3 {
		t.Errorf("after the load, %d answers, want 3", after.total.Load())
	}
	after.check(t)

	tr.CloseIdleConnections()
	n := waitGoroutines(t, before)
	total := tl.total.Load()
	t.Logf("%d clients, %v: %d requests, %.0f req/s, %d hook panics; goroutines %d before, %d after; answers by step:%s",
		clients, elapsed.Round(time.Millisecond), total, float64(total)/elapsed.Seconds(), panics.Load(), before, n, tl)
	tl.check(t)
	srv.checkErrorLog(t)
	if panics.Load() == 0 {
		t.Error("no hook panicked")
	}
}

// newLoadClient is a client with its own cookie jar, on tr.
func newLoadClient(t *testing.T, tr http.RoundTripper, base, username, password string, browser bool, tl *tally) *loadClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &loadClient{
		client: &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second},
		base:   base, username: username, password: password, browser: browser, tally: tl,
	}
}

// hookLoop logs in once, with the password or the header hook: a user
// whose hook panics must get the library's 500, the others 200 and a
// session that GET /user accepts.
func (c *loadClient) hookLoop(password bool) bool {
	var req *http.Request
	if password {
		form := url.Values{"username": {c.username}, "password": {c.password}}.Encode()
		req = c.request(http.MethodPost, "/login", form)
	} else {
		req = c.request(http.MethodPost, "/auth/header", "")
		req.Header.Set(userHeader, c.username)
	}
	if strings.HasPrefix(c.username, "panic-") {
		step := map[bool]string{true: stepPasswordPanic, false: stepHeaderPanic}[password]
		return c.send(step, req, wantPanicAnswer)
	}
	step := map[bool]string{true: stepPasswordOK, false: stepHeaderOK}[password]
	if !c.send(step, req, wantSuccess) {
		return false
	}
	return c.send(stepHookUser, c.request(http.MethodGet, "/user", ""), c.wantUser)
}

// wantPanicAnswer checks the library's answer to a hook that panicked:
// 500 application/json {"detail": "internal error"}, and no cookie.
func wantPanicAnswer(resp *http.Response, body []byte) string {
	if p := wantDetail(resp, body, http.StatusInternalServerError, "internal error"); p != "" {
		return p
	}
	if len(resp.Cookies()) != 0 {
		return fmt.Sprintf("500 set %d cookies", len(resp.Cookies()))
	}
	return ""
}
