//go:build loadtest

package loadtest

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
)

var (
	loadDuration = flag.Duration("loadtest.duration", 20*time.Second, "how long TestLoadLoginUserLogout's clients loop")
	loadClients  = flag.Int("loadtest.clients", 200, "concurrent clients of TestLoadLoginUserLogout and TestHookPanicsUnderLoad")
)

// The steps of one loop of a load client, named for the tally.
const (
	stepLogin     = "1 POST /login"
	stepUser      = "2 GET /user"
	stepApp       = "3 GET /app/hello"
	stepLogout    = "4 POST /logout"
	stepUserAfter = "5 GET /user (after)"
	stepRevoked   = "6 GET /user (revoked)"
)

// TestLoadLoginUserLogout runs whole sessions, login to logout, from many
// concurrent clients against one server, and checks every answer, that no
// answer is a 5xx, and that no goroutine is left behind.
func TestLoadLoginUserLogout(t *testing.T) {
	clients := *loadClients
	users := make(map[string]string, clients) // username -> password; read-only once built
	for i := range clients {
		users[fmt.Sprintf("user-%03d", i)] = rand.Text()
	}
	a := newAuth(t, chatauth.Config{
		Login: chatauth.LoginConfig{
			// Every client is 127.0.0.1, and the address limit counts each
			// attempt from before the hook runs until its success forgives it:
			// with a slower hook (bcrypt), more than the default 100 correct
			// logins in flight get 429, and as refused attempts count too, the
			// address then stays locked for the window. The per-username limit
			// keeps its default: each client is its own user, and a success
			// resets it.
			Limits: chatauth.PasswordLimits{PerAddress: 1 << 30},
			// The library is loaded here, not the login CPU bound of
			// TestLoginFlood: every client gets a slot.
			PasswordConcurrency: clients,
		},
		Stores: chatauth.StoresConfig{
			// Room for every logout of a long run: when the in-memory store is
			// full it forgets revocations, and step 6 would see them.
			MaxRevocations: 1 << 24,
		},
	})
	// A map, not bcrypt: the test loads the library, not the hash.
	a.OnPassword(func(_ context.Context, username, password string) (*chatauth.User, error) {
		want, ok := users[username]
		if !ok || subtle.ConstantTimeCompare([]byte(want), []byte(password)) != 1 {
			return nil, nil
		}
		return &chatauth.User{Identifier: username, DisplayName: "User " + username}, nil
	})
	mux := http.NewServeMux()
	a.Mount(mux)
	mux.Handle("GET /app/hello", a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", chatauth.UserFrom(r.Context()).Identifier)
	})))
	srv := startServer(t, mux)
	tr := newTransport(clients + 16)
	defer tr.CloseIdleConnections()

	before := runtime.NumGoroutine()
	tl := newTally()
	var loops atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	until := start.Add(*loadDuration)
	for i := range clients {
		username := fmt.Sprintf("user-%03d", i)
		lc := newLoadClient(t, tr, srv.URL, username, users[username], i%2 == 0, tl)
		wg.Go(func() {
			for time.Now().Before(until) && lc.loop() {
				loops.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	tr.CloseIdleConnections()
	after := waitGoroutines(t, before)
	total := tl.total.Load()
	t.Logf("%d clients, %v: %d requests (%d loops), %.0f req/s; goroutines %d before, %d after; answers by step:%s",
		clients, elapsed.Round(time.Millisecond), total, loops.Load(), float64(total)/elapsed.Seconds(), before, after, tl)
	tl.check(t)
	srv.checkErrorLog(t)
	if loops.Load() < int64(clients) {
		t.Errorf("only %d loops for %d clients", loops.Load(), clients)
	}
}

// loadClient is one user's client, with its own cookie jar.
type loadClient struct {
	client             *http.Client
	base               string
	username, password string
	// browser makes the client send what a same-origin browser sends
	// (Sec-Fetch-Site, and Origin on POST); otherwise it sends neither, as
	// non-browser clients do. Both pass the cross-origin protection.
	browser bool
	tally   *tally
}

func (c *loadClient) request(method, path, form string) *http.Request {
	var req *http.Request
	if form != "" {
		req, _ = http.NewRequest(method, c.base+path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(method, c.base+path, nil)
	}
	if c.browser {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if method == http.MethodPost {
			req.Header.Set("Origin", c.base)
		}
	}
	return req
}

// checker judges an answer: what is wrong with it, or "".
type checker func(resp *http.Response, body []byte) string

// send sends req as step and tallies its answer, judged by check. It
// reports whether the client may go on: false after a transport error.
func send(c *http.Client, tl *tally, step string, req *http.Request, check checker) bool {
	resp, body, err := do(c, req)
	if err != nil {
		tl.failed(step, err)
		return false
	}
	problem := check(resp, body)
	tl.add(step, resp.StatusCode, problem == "", problem)
	return true
}

// send is send with the client's own client and tally.
func (c *loadClient) send(step string, req *http.Request, check checker) bool {
	return send(c.client, c.tally, step, req, check)
}

// loop runs one session: login, user, app route, logout, user twice.
func (c *loadClient) loop() bool {
	form := url.Values{"username": {c.username}, "password": {c.password}}.Encode()
	if !c.send(stepLogin, c.request(http.MethodPost, "/login", form), wantSuccess) {
		return false
	}
	token := c.sessionToken()
	if !c.send(stepUser, c.request(http.MethodGet, "/user", ""), c.wantUser) {
		return false
	}
	if !c.send(stepApp, c.request(http.MethodGet, "/app/hello", ""), func(resp *http.Response, body []byte) string {
		if resp.StatusCode != http.StatusOK || string(body) != "hello "+c.username {
			return "want 200 hello " + c.username + ", got " + snippet(body)
		}
		return ""
	}) {
		return false
	}
	if !c.send(stepLogout, c.request(http.MethodPost, "/logout", ""), wantSuccess) {
		return false
	}
	if !c.send(stepUserAfter, c.request(http.MethodGet, "/user", ""), wantNotAuthenticated) {
		return false
	}
	// The logged-out token itself, presented again: revoked.
	req := c.request(http.MethodGet, "/user", "")
	req.Header.Set("Authorization", "Bearer "+token)
	return c.send(stepRevoked, req, wantUnauthorized)
}

// sessionToken is the session cookie's value in the client's jar ("" when
// the login set none, which step 6 then reports).
func (c *loadClient) sessionToken() string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.client.Jar.Cookies(u) {
		if ck.Name == "access_token" {
			return ck.Value
		}
	}
	return ""
}

func (c *loadClient) wantUser(resp *http.Response, body []byte) string {
	var u struct {
		Identifier  string `json:"identifier"`
		DisplayName string `json:"display_name"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &u) != nil ||
		u.Identifier != c.username || u.DisplayName != "User "+c.username {
		return "want 200 user " + c.username + ", got " + snippet(body)
	}
	return ""
}

func wantSuccess(resp *http.Response, body []byte) string {
	var v struct {
		Success bool `json:"success"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &v) != nil || !v.Success {
		return `want 200 {"success": true}, got ` + snippet(body)
	}
	return ""
}

func wantUnauthorized(resp *http.Response, body []byte) string {
	return wantDetail(resp, body, http.StatusUnauthorized, "Invalid authentication token")
}

// wantNotAuthenticated is the answer to a request without a token.
func wantNotAuthenticated(resp *http.Response, body []byte) string {
	return wantDetail(resp, body, http.StatusUnauthorized, "Not authenticated")
}

// wantDetail checks a contract error: status, JSON content type and
// {"detail": detail}.
func wantDetail(resp *http.Response, body []byte, status int, detail string) string {
	var v struct {
		Detail string `json:"detail"`
	}
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != "application/json" ||
		json.Unmarshal(body, &v) != nil || v.Detail != detail {
		return fmt.Sprintf("want %d application/json {\"detail\": %q}, got %s %s",
			status, detail, resp.Header.Get("Content-Type"), snippet(body))
	}
	return ""
}
