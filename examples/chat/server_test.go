package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestHealthz(t *testing.T) {
	for _, root := range []string{"", "/chat"} {
		app := newTestApp(t, env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", "alice:pw1"), root)
		resp, body := do(t, http.DefaultClient, "GET", app.URL+"/healthz", nil)
		if resp.StatusCode != http.StatusOK || body != "ok" {
			t.Errorf("root %q: GET /healthz = %d %q, want 200 ok", root, resp.StatusCode, body)
		}
	}
}

func TestPasswordLoginAndChatPage(t *testing.T) {
	app := newTestApp(t, env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", "alice:pw1, bob:p:w2"), "")
	c := newClient(t)

	t.Run("browser without session is sent to login", func(t *testing.T) {
		resp, _ := do(t, c, "GET", app.URL+"/", nil, "Accept", "text/html,application/xhtml+xml")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Fatalf("GET / = %d Location %q, want 303 /login", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("API client without session gets 401 JSON", func(t *testing.T) {
		resp, body := do(t, c, "GET", app.URL+"/", nil, "Accept", "application/json")
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"detail"`) {
			t.Fatalf("GET / = %d %s, want 401 with detail", resp.StatusCode, body)
		}
	})
	t.Run("login page has the form", func(t *testing.T) {
		resp, body := do(t, c, "GET", app.URL+"/login", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /login = %d", resp.StatusCode)
		}
		for _, id := range []string{`id="username"`, `id="password"`, `id="login-submit"`, `id="login-error"`,
			`<title>Sign in · chatauth demo</title>`, `src="/static/favicon.svg"`} {
			if !strings.Contains(body, id) {
				t.Errorf("login page lacks %s", id)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'nonce-") || strings.Contains(csp, "unsafe") {
			t.Errorf("login page CSP %q", csp)
		}
	})
	t.Run("wrong password refused", func(t *testing.T) {
		resp, body := do(t, c, "POST", app.URL+"/login", form("username", "alice", "password", "nope"))
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "credentialssignin") {
			t.Fatalf("wrong password: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("password with a colon", func(t *testing.T) {
		login(t, newClient(t), app.URL, "bob", "p:w2")
	})

	login(t, c, app.URL, "alice", "pw1")

	t.Run("user route", func(t *testing.T) {
		resp, body := do(t, c, "GET", app.URL+"/user", nil)
		var u struct{ Identifier string }
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &u) != nil || u.Identifier != "alice" {
			t.Fatalf("GET /user = %d %s", resp.StatusCode, body)
		}
	})
	t.Run("chat page greets the user", func(t *testing.T) {
		resp, body := do(t, c, "GET", app.URL+"/", nil, "Accept", "text/html")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET / with session = %d", resp.StatusCode)
		}
		for _, want := range []string{`<span id="user-name" title="alice">alice</span>`, "Hello, alice", `id="message-input"`,
			`id="send-button"`, `id="messages"`, `id="logout-button"`, `class="avatar avatar-c`, ">A</span>"} {
			if !strings.Contains(body, want) {
				t.Errorf("chat page lacks %s", want)
			}
		}
	})
	t.Run("login page sends a signed-in user to the chat", func(t *testing.T) {
		resp, _ := do(t, c, "GET", app.URL+"/login", nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Fatalf("GET /login with session = %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("logout ends the session", func(t *testing.T) {
		resp, _ := do(t, c, "POST", app.URL+"/logout", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST /logout = %d", resp.StatusCode)
		}
		resp, _ = do(t, c, "GET", app.URL+"/", nil, "Accept", "text/html")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("GET / after logout = %d, want 303 to login", resp.StatusCode)
		}
		resp, _ = do(t, c, "GET", app.URL+"/user", nil)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("GET /user after logout = %d, want 401", resp.StatusCode)
		}
	})
	if logs := app.logs.String(); strings.Contains(logs, "pw1") || strings.Contains(logs, "p:w2") {
		t.Errorf("a password reached the log:\n%s", logs)
	}
}

func TestStream(t *testing.T) {
	app := newTestApp(t, env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", "alice:pw1"), "")
	stream := app.URL + "/chat/stream"

	t.Run("refused without session", func(t *testing.T) {
		resp, body := do(t, newClient(t), "POST", stream, form("message", "hello"))
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("stream without session = %d %s", resp.StatusCode, body)
		}
	})

	c := newClient(t)
	login(t, c, app.URL, "alice", "pw1")

	t.Run("streams tokens", func(t *testing.T) {
		req, _ := http.NewRequest("POST", stream, form("message", "the quick brown fox"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("stream = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		events := readEvents(t, resp.Body)
		var text strings.Builder
		tokens := 0
		for _, e := range events[:len(events)-1] {
			var tok struct{ Text string }
			if e.name != "token" || json.Unmarshal([]byte(e.data), &tok) != nil {
				t.Fatalf("event %+v is not a token", e)
			}
			tokens++
			text.WriteString(tok.Text)
		}
		if last := events[len(events)-1]; last.name != "done" {
			t.Fatalf("last event %+v, want done", last)
		}
		if tokens < 5 || !strings.Contains(text.String(), "quick brown fox") || !strings.Contains(text.String(), "alice") {
			t.Fatalf("%d tokens, reply %q", tokens, text.String())
		}
	})
	t.Run("whoami knows the session", func(t *testing.T) {
		_, body := do(t, c, "POST", stream, form("message", "/whoami"))
		if reply := replyText(t, body); !strings.HasPrefix(reply, "You are alice, signed in with a password.") {
			t.Fatalf("whoami reply %q", reply)
		}
	})
	t.Run("empty message", func(t *testing.T) {
		resp, body := do(t, c, "POST", stream, form("message", "  "))
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("empty message = %d %s", resp.StatusCode, body)
		}
	})
	t.Run("too long message", func(t *testing.T) {
		resp, _ := do(t, c, "POST", stream, form("message", strings.Repeat("é", maxMessageRunes+1)))
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("long message = %d", resp.StatusCode)
		}
	})
	t.Run("cross-origin refused", func(t *testing.T) {
		resp, body := do(t, c, "POST", stream, form("message", "hi"),
			"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-origin stream = %d %s", resp.StatusCode, body)
		}
	})
	t.Run("same-origin browser accepted", func(t *testing.T) {
		resp, _ := do(t, c, "POST", stream, form("message", "hi"), "Origin", app.URL, "Sec-Fetch-Site", "same-origin")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("same-origin stream = %d", resp.StatusCode)
		}
	})
}

func TestRootPath(t *testing.T) {
	app := newTestApp(t, env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", "alice:pw1",
		"CHAINLIT_ROOT_PATH", "/ignored"), "/chat/")
	base := app.URL + "/chat"
	c := newClient(t)

	for _, tc := range []struct{ path, location string }{
		{"/", "/chat/"},
		{"/chat", "/chat/"},
		{"/chat/", "/chat/login"},
	} {
		resp, _ := do(t, c, "GET", app.URL+tc.path, nil, "Accept", "text/html")
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 != 3 || loc != tc.location {
			t.Errorf("GET %s = %d %q, want a redirect to %s", tc.path, resp.StatusCode, loc, tc.location)
		}
	}
	resp, body := do(t, c, "GET", base+"/login", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/chat/login"`) || !strings.Contains(body, `src="/chat/static/favicon.svg"`) {
		t.Fatalf("GET /chat/login = %d, page without the root path:\n%s", resp.StatusCode, body)
	}
	if resp, _ := do(t, c, "GET", base+"/static/chat.js", nil); resp.StatusCode != http.StatusOK ||
		!strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
		t.Fatalf("GET /chat/static/chat.js = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ := do(t, c, "POST", app.URL+"/login", form("username", "alice", "password", "pw1")); resp.StatusCode == http.StatusOK {
		t.Fatal("POST /login outside the root path succeeded")
	}

	resp, _ = do(t, c, "POST", base+"/login", form("username", "alice", "password", "pw1"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /chat/login = %d", resp.StatusCode)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "access_token" && ck.Path != "/chat" {
			t.Errorf("session cookie Path %q, want /chat", ck.Path)
		}
	}
	if resp, body := do(t, c, "GET", base+"/", nil, "Accept", "text/html"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "/chat/static/chat.js") {
		t.Fatalf("GET /chat/ with session = %d", resp.StatusCode)
	}
	if resp, body := do(t, c, "POST", base+"/chat/stream", form("message", "hello there")); resp.StatusCode != http.StatusOK ||
		!strings.Contains(body, "event: done") {
		t.Fatalf("POST /chat/chat/stream = %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, c, "GET", base+"/healthz", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /chat/healthz = %d, want 404: health lives at /healthz", resp.StatusCode)
	}
}

// TestLoginErrorsInWords: the demo's sign-in page (chatauth's loginpage)
// puts the codes into words in the browser's language, and never shows
// what the query says.
func TestLoginErrorsInWords(t *testing.T) {
	app := newTestApp(t, env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", "alice:pw1"), "")
	for _, tt := range []struct{ query, lang, want string }{
		{"error=invalid_state", "en", "This sign-in has expired or was started in another tab."},
		{"error=access_denied", "fr-FR,fr;q=0.9", "La connexion a été annulée ou refusée par le fournisseur."},
		{"error=credentialssignin", "de", "Die Anmeldung wurde abgelehnt."},
		{"error=%3Cscript%3E", "en", "Sign-in failed. Please try again."},
		{"notice=logged_out", "ja", "サインアウトしました。"},
	} {
		_, body := do(t, http.DefaultClient, "GET", app.URL+"/login?"+tt.query, nil, "Accept-Language", tt.lang)
		if !strings.Contains(body, tt.want) || strings.Contains(body, "<script>") {
			t.Errorf("?%s in %s: page lacks %q", tt.query, tt.lang, tt.want)
		}
	}
}

func TestCallbackPage(t *testing.T) {
	app := newTestApp(t, env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", "alice:pw1"), "/r")
	resp, body := do(t, http.DefaultClient, "GET", app.URL+"/r/login/callback?success=True", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "/r/static/callback.js") || !strings.Contains(body, `href="/r/"`) {
		t.Fatalf("GET /r/login/callback = %d\n%s", resp.StatusCode, body)
	}
}

func TestAvatarFromMetadata(t *testing.T) {
	for _, tc := range []struct {
		image any
		want  string
	}{
		{"https://avatars.example.com/u/1.png", "https://avatars.example.com/u/1.png"},
		{"javascript:alert(1)", ""},
		{42, ""},
		{nil, ""},
	} {
		u := userWithImage(tc.image)
		if got := avatarURL(u); got != tc.want {
			t.Errorf("avatarURL(%v) = %q, want %q", tc.image, got, tc.want)
		}
	}
	for name, want := range map[string]string{"Ada Lovelace": "AL", "alice@example.com": "A", "émile zola": "ÉZ", "--": "?"} {
		if got := initials(name); got != want {
			t.Errorf("initials(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestBadConfiguration(t *testing.T) {
	for name, getenv := range map[string]func(string) string{
		"user without password":  env("CHATAUTH_DEMO_USERS", "alice"),
		"duplicate user":         env("CHATAUTH_DEMO_USERS", "alice:a,alice:b"),
		"password too long":      env("CHATAUTH_DEMO_USERS", "alice:"+strings.Repeat("x", 73)),
		"bad log level":          env("CHATAUTH_LOG_LEVEL", "loud"),
		"bad header name":        env("CHATAUTH_HEADER_USER", "X Forwarded User"),
		"short secret":           env("CHAINLIT_AUTH_SECRET", "short"),
		"bad trusted proxies":    env("CHATAUTH_HEADER_USER", "X-Forwarded-User", "CHATAUTH_TRUSTED_PROXIES", "not-a-cidr"),
		"one API key, two users": env("CHATAUTH_DEMO_API_KEYS", "alice:k1,bob:k1"),
		"API key entry no key":   env("CHATAUTH_DEMO_API_KEYS", "alice"),
	} {
		if _, err := newServer(options{Getenv: getenv, Stderr: &logBuffer{}}); err == nil {
			t.Errorf("%s: newServer accepted it", name)
		}
	}
}

// TestNonCanonicalPathsAreNotRedirected is issue 11's recipe 12 against
// the demo: POST //login (and the like) gets 404, never ServeMux's 307,
// which a browser would follow by posting the password again.
func TestNonCanonicalPathsAreNotRedirected(t *testing.T) {
	app := newTestApp(t, env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", "alice:pw1"), "/chat")
	for _, p := range []string{"/chat//login", "//chat/login", "/chat/./login", "/chat/x/../login"} {
		resp, body := do(t, newClient(t), "POST", app.URL+p, form("username", "alice", "password", "pw1"))
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" {
			t.Errorf("POST %s = %d (Location %q) %s, want 404", p, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
	if resp, _ := do(t, newClient(t), "POST", app.URL+"/chat/login", form("username", "alice", "password", "pw1")); resp.StatusCode != http.StatusOK {
		t.Errorf("POST /chat/login = %d, want 200", resp.StatusCode)
	}
}

// TestAmbiguousSessionPageEndsBoth: a browser navigating to the chat page
// with two different session cookies (one planted at another path) is sent
// to the login page with both deleted, so that logging in again works.
func TestAmbiguousSessionPageEndsBoth(t *testing.T) {
	app := newTestApp(t, env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", "alice:pw1,bob:pw2"), "/chat")
	c := newClient(t)
	login(t, c, app.URL+"/chat", "bob", "pw2")
	alice := newClient(t)
	login(t, alice, app.URL+"/chat", "alice", "pw1")
	u, _ := url.Parse(app.URL + "/chat/")
	for _, ck := range alice.Jar.Cookies(u) {
		c.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/"}})
	}
	resp, _ := do(t, c, "GET", app.URL+"/chat/", nil, "Accept", "text/html")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "/chat/login") {
		t.Fatalf("chat page with two session cookies = %d to %q, want 303 to the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, ck := range c.Jar.Cookies(u) {
		if strings.HasPrefix(ck.Name, "access_token") {
			t.Errorf("cookie %s left in the browser", ck.Name)
		}
	}
	login(t, c, app.URL+"/chat", "bob", "pw2")
	if resp, body := do(t, c, "GET", app.URL+"/chat/", nil, "Accept", "text/html"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "bob") {
		t.Errorf("chat page after logging in again = %d", resp.StatusCode)
	}
}
