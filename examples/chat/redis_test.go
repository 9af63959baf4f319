package main

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/redisstore/redistest"
)

// sessionCookie is c's session cookie for base, to replay it elsewhere.
func sessionCookie(t *testing.T, c *http.Client, base string) *http.Cookie {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/user", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range c.Jar.Cookies(req.URL) {
		if ck.Name == "access_token" {
			return ck
		}
	}
	t.Fatal("no access_token cookie")
	return nil
}

// userStatus is the status of GET base/user with only the cookie ck.
func userStatus(t *testing.T, base string, ck *http.Cookie) int {
	t.Helper()
	resp, _ := do(t, http.DefaultClient, "GET", base+"/user", nil, "Cookie", ck.Name+"="+ck.Value)
	return resp.StatusCode
}

func TestLogoutEverywhere(t *testing.T) {
	app := newTestApp(t, env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", "alice:pw1,bob:pw2"), "")
	laptop, phone, bob := newClient(t), newClient(t), newClient(t)
	login(t, laptop, app.URL, "alice", "pw1")
	login(t, phone, app.URL, "alice", "pw1")
	login(t, bob, app.URL, "bob", "pw2")
	phoneCookie := sessionCookie(t, phone, app.URL)

	if resp, _ := do(t, newClient(t), "POST", app.URL+"/logout/everywhere", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a session: %d, want 401", resp.StatusCode)
	}
	if resp, _ := do(t, laptop, "POST", app.URL+"/logout/everywhere", nil, "Origin", "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin: %d, want 403", resp.StatusCode)
	}
	resp, body := do(t, laptop, "POST", app.URL+"/logout/everywhere", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"success":true`) {
		t.Fatalf("POST /logout/everywhere = %d %s", resp.StatusCode, body)
	}
	if !clearsCookie(resp, "access_token") {
		t.Error("the response does not clear the session cookie")
	}
	if got := userStatus(t, app.URL, phoneCookie); got != http.StatusUnauthorized {
		t.Errorf("alice's other session: /user = %d, want 401", got)
	}
	if resp, _ := do(t, bob, "GET", app.URL+"/user", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("bob's session: /user = %d, want 200", resp.StatusCode)
	}
	login(t, phone, app.URL, "alice", "pw1")
	if resp, _ := do(t, phone, "GET", app.URL+"/user", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("alice logging in again: /user = %d, want 200", resp.StatusCode)
	}
}

// clearsCookie reports whether resp deletes the cookie name.
func clearsCookie(resp *http.Response, name string) bool {
	for _, c := range resp.Cookies() {
		if c.Name == name && c.MaxAge < 0 {
			return true
		}
	}
	return false
}

// TestInstancesShareRedis runs two demo instances on one real redis-server,
// as two servers behind a load balancer: a logout or a "log out everywhere"
// on one is seen by the other at once (CHATAUTH_REDIS_CACHE=0s).
func TestInstancesShareRedis(t *testing.T) {
	rdb := redistest.Start(t)
	getenv := env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", "alice:pw1",
		"CHATAUTH_REDIS_URL", rdb.URL(), "CHATAUTH_REDIS_CACHE", "0s")
	a, b := newTestApp(t, getenv, ""), newTestApp(t, getenv, "")
	if !strings.Contains(a.logs.String(), "sessions shared through redis") {
		t.Errorf("no start-up line about redis:\n%s", a.logs)
	}

	onA := newClient(t)
	login(t, onA, a.URL, "alice", "pw1")
	ck := sessionCookie(t, onA, a.URL)
	if got := userStatus(t, b.URL, ck); got != http.StatusOK {
		t.Fatalf("A's session on B: /user = %d, want 200", got)
	}
	if resp, _ := do(t, onA, "POST", a.URL+"/logout", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout on A: %d", resp.StatusCode)
	}
	if got := userStatus(t, b.URL, ck); got != http.StatusUnauthorized {
		t.Errorf("after logout on A, the token on B: /user = %d, want 401", got)
	}

	first, second := newClient(t), newClient(t)
	login(t, first, a.URL, "alice", "pw1")
	login(t, second, b.URL, "alice", "pw1")
	if resp, _ := do(t, first, "POST", a.URL+"/logout/everywhere", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout everywhere on A: %d", resp.StatusCode)
	}
	if resp, _ := do(t, second, "GET", b.URL+"/user", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("session made on B after logout everywhere on A: /user = %d, want 401", resp.StatusCode)
	}
}

// TestRedisDown starts the demo against a Redis that is not there: it
// starts and says so, and session checks fail closed with 503.
func TestRedisDown(t *testing.T) {
	rdb := redistest.Start(t)
	url := rdb.URL()
	rdb.Kill()
	app := newTestApp(t, env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", "alice:pw1",
		"CHATAUTH_REDIS_URL", url), "")
	if !strings.Contains(app.logs.String(), "redis not reachable yet") {
		t.Errorf("no warning about redis at start-up:\n%s", app.logs)
	}
	tok, _, err := app.s.auth.IssueToken(&chatauth.User{Identifier: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, http.DefaultClient, "GET", app.URL+"/user", nil, "Cookie", "access_token="+tok)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "session store unavailable") {
		t.Errorf("/user with Redis down = %d %s, want 503 session store unavailable", resp.StatusCode, body)
	}
}

func TestRedisConfiguration(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"no secret", []string{"CHATAUTH_REDIS_URL", "redis://127.0.0.1:1/0"}, "CHAINLIT_AUTH_SECRET"},
		{"bad url", []string{"CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_REDIS_URL", "http://x"}, "CHATAUTH_REDIS_URL"},
		{"bad cache", []string{"CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_REDIS_URL", "redis://127.0.0.1:1/0",
			"CHATAUTH_REDIS_CACHE", "soon"}, "CHATAUTH_REDIS_CACHE"},
		{"a state directory too", []string{"CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_REDIS_URL", "redis://127.0.0.1:1/0",
			"CHATAUTH_STATE_DIR", t.TempDir()}, "CHATAUTH_STATE_DIR and CHATAUTH_REDIS_URL are both set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newServer(options{Getenv: env(tc.env...), Stderr: &logBuffer{}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("newServer error = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

// With two instances on one Redis and a ten-minute not-revoked cache, "log
// out everywhere" on A ends the reply B is streaming to alice's other
// browser at once (announced through Redis; B's SessionCheckInterval is
// 30 s): a last "session_ended" event says why, long before the reply
// would be done, and B refuses the session from then on.
func TestStreamEndsWhenLoggedOutElsewhere(t *testing.T) {
	rdb := redistest.Start(t)
	getenv := env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", "alice:pw1",
		"CHATAUTH_REDIS_URL", rdb.URL(), "CHATAUTH_REDIS_CACHE", "10m")
	slow := func(o *options) { o.TokenInterval = 200 * time.Millisecond } // a reply takes seconds
	a, b := newTestApp(t, getenv, ""), newTestApp(t, getenv, "", slow)
	laptop, phone := newClient(t), newClient(t)
	login(t, laptop, a.URL, "alice", "pw1")
	login(t, phone, b.URL, "alice", "pw1")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", b.URL+"/chat/stream", form("message", "one two three four five six seven eight nine ten"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := phone.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "event: token\n" {
		t.Fatalf("first line of the stream = %q, %v", line, err)
	}
	start := time.Now()
	if resp, _ := do(t, laptop, "POST", a.URL+"/logout/everywhere", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout everywhere on A: %d", resp.StatusCode)
	}
	events := readEvents(t, br)
	t.Logf("the stream on B ended %v after the logout on A began", time.Since(start))
	last := events[len(events)-1]
	if last.name != "session_ended" || last.data != `{"notice":"logged_out_elsewhere"}` {
		t.Errorf("last event %s %s, want session_ended {\"notice\":\"logged_out_elsewhere\"}", last.name, last.data)
	}
	for _, e := range events {
		if e.name == "done" {
			t.Error("the reply streamed to its end after the logout")
		}
	}
	if resp, _ := do(t, phone, "GET", b.URL+"/user", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("B after the logout on A: /user = %d, want 401", resp.StatusCode)
	}
}
