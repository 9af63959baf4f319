package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode) // no route listing on stdout
	m.Run()
}

// roots are the root paths every router is tested under.
var roots = []string{"", "/chat"}

// TestRoutersLoginStreamLogout drives the same app on every router, under
// / and under a root path: a protected route is 401 without a session;
// POST R/login logs in; R/api/me answers the user; R/api/stream streams
// events to the user; POST R/logout ends the session, after which the
// route is 401 again and the open stream ends with "session_ended".
func TestRoutersLoginStreamLogout(t *testing.T) {
	eachRouter(t, func(t *testing.T, _, _, base string, c *http.Client) {
		refused(t, c, base+"/api/me")
		refused(t, c, base+"/api/stream")
		if code := login(t, c, base, "wrong"); code != http.StatusUnauthorized {
			t.Fatalf("POST /login with a wrong password = %d, want 401", code)
		}
		if code := login(t, c, base, testPassword); code != http.StatusOK {
			t.Fatalf("POST /login = %d, want 200", code)
		}
		if u := me(t, c, base); u.Identifier != "alice" {
			t.Fatalf("GET /api/me: user %q, want alice", u.Identifier)
		}

		events := openStream(t, c, base+"/api/stream")
		for n := 1; n <= 2; n++ {
			ev := nextEvent(t, events)
			var msg struct {
				N    int    `json:"n"`
				User string `json:"user"`
			}
			if err := json.Unmarshal([]byte(ev.data), &msg); ev.name != "message" || err != nil || msg.N != n || msg.User != "alice" {
				t.Fatalf("stream event %d = %q %q, want message %d to alice", n, ev.name, ev.data, n)
			}
		}

		if code := post(t, c, base+"/logout", nil); code != http.StatusOK {
			t.Fatalf("POST /logout = %d, want 200", code)
		}
		refused(t, c, base+"/api/me")
		refused(t, c, base+"/api/stream")
		if !streamEnds(t, events) {
			t.Fatal("the stream did not announce the end of the session")
		}
	})
}

// TestRoutersRouting checks what each router does with chatauth's routes
// and the app's beyond the happy path: wrong methods, trailing slashes,
// unknown paths and paths outside the root path.
func TestRoutersRouting(t *testing.T) {
	type want struct {
		status int
		allow  string // the Allow header, when a 405 must carry one
	}
	tests := []struct {
		method, path string
		want         want
		// byRouter overrides want where a router differs, on purpose.
		byRouter map[string]want
	}{
		{"GET", "/auth/config", want{200, ""}, nil},
		{"GET", "/user", want{401, ""}, nil},
		{"GET", "/auth/oauth/nope", want{404, ""}, nil},
		{"GET", "/auth/nope", want{404, ""}, nil},
		// chatauth's own mux routes the methods of its paths.
		{"GET", "/login", want{405, "POST"}, nil},
		{"PUT", "/user", want{405, "GET, HEAD"}, nil},
		{"GET", "/logout", want{405, "POST"}, nil},
		// The app's routes: the router routes the methods, each with its
		// own Allow (gorilla sends none). Only ServeMux serves HEAD for GET.
		{"POST", "/api/me", want{405, "GET"}, map[string]want{
			"servemux": {405, "GET, HEAD"}, "gorilla": {405, ""}, "echo": {405, "OPTIONS, GET"},
		}},
		{"HEAD", "/api/me", want{405, ""}, map[string]want{"servemux": {401, ""}}},
		{"GET", "/api/nope", want{404, ""}, nil},
		// gin redirects a trailing slash to the route without it (301 for
		// GET, 307 otherwise); the others answer 404.
		{"GET", "/api/me/", want{404, ""}, map[string]want{"gin": {301, ""}}},
		{"POST", "/login/", want{404, ""}, map[string]want{"gin": {307, ""}}},
	}
	eachRouter(t, func(t *testing.T, router, root, base string, c *http.Client) {
		for _, tt := range tests {
			want := tt.want
			if w, ok := tt.byRouter[router]; ok {
				want = w
			}
			resp := do(t, c, tt.method, base+tt.path, nil)
			if resp.StatusCode != want.status {
				t.Errorf("%s %s = %d, want %d", tt.method, root+tt.path, resp.StatusCode, want.status)
			}
			if allow := resp.Header.Get("Allow"); want.allow != "" && allow != want.allow {
				t.Errorf("%s %s: Allow %q, want %q", tt.method, root+tt.path, allow, want.allow)
			}
		}
		if root != "" {
			origin := strings.TrimSuffix(base, root)
			for _, path := range []string{"/login", "/auth/config", "/api/me"} {
				if code := do(t, c, "POST", origin+path, nil).StatusCode; code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
					t.Errorf("POST %s outside the root path = %d, want 404 or 405", path, code)
				}
			}
		}
	})
}

// TestRoutersPassPreflights checks that every router lets chatauth answer
// the CORS preflight of an embedding site (Config.Origins.Embed) on its
// routes, which the routers are given with any method.
func TestRoutersPassPreflights(t *testing.T) {
	const site = "https://host.example"
	for _, rt := range routers() {
		t.Run(rt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig("/chat")
			cfg.Origins.Embed = []string{site}
			base := serveConfig(t, rt, cfg)
			for _, path := range []string{"/login", "/logout", "/user", "/auth/config"} {
				req, err := http.NewRequestWithContext(t.Context(), http.MethodOptions, base+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Origin", site)
				req.Header.Set("Access-Control-Request-Method", http.MethodPost)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != site {
					t.Errorf("OPTIONS /chat%s = %d, Access-Control-Allow-Origin %q; want 204 and %s",
						path, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), site)
				}
			}
		})
	}
}

// eachRouter runs test in parallel on the app served by every router,
// under every root path, with base the server's URL and root path and c a
// fresh client.
func eachRouter(t *testing.T, test func(t *testing.T, router, root, base string, c *http.Client)) {
	t.Helper()
	for _, rt := range routers() {
		for _, root := range roots {
			t.Run(rt.name+"/"+strings.TrimPrefix(root, "/"), func(t *testing.T) {
				t.Parallel()
				test(t, rt.name, root, serve(t, rt, root), newClient(t))
			})
		}
	}
}

// testPassword is alice's password in the tests.
const testPassword = "correct horse"

// serve starts the app on router rt under root and returns its base URL
// (server URL and root path).
func serve(t *testing.T, rt router, root string) string {
	t.Helper()
	return serveConfig(t, rt, testConfig(root))
}

// testConfig is the tests' configuration under root.
func testConfig(root string) chatauth.Config {
	return chatauth.Config{Secret: []byte(strings.Repeat("s", 32)), RootPath: root}
}

// serveConfig starts the app on router rt with cfg and returns its base URL.
func serveConfig(t *testing.T, rt router, cfg chatauth.Config) string {
	t.Helper()
	// bcrypt's minimum cost: the production cost would make -race runs slow.
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	app, err := newChatApp(cfg, map[string]string{"alice": string(hash)}, 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rt.handler(app))
	t.Cleanup(srv.Close)
	return srv.URL + app.root
}

// newClient is a client with a cookie jar that does not follow redirects.
func newClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// do sends a request, reads the whole body and returns the response.
func do(t *testing.T, c *http.Client, method, addr string, form url.Values) *http.Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, addr, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp
}

// refused checks that GET addr is chatauth's 401, and only that: a
// router that ran the handler after the middleware refused the request
// would add to the body.
func refused(t *testing.T, c *http.Client, addr string) {
	t.Helper()
	resp, err := c.Get(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	if err := json.Unmarshal(b, &body); resp.StatusCode != http.StatusUnauthorized || err != nil || body["detail"] == "" {
		t.Fatalf("GET %s = %d %q, want 401 with chatauth's detail alone", addr, resp.StatusCode, b)
	}
}

func post(t *testing.T, c *http.Client, addr string, form url.Values) int {
	t.Helper()
	return do(t, c, http.MethodPost, addr, form).StatusCode
}

func login(t *testing.T, c *http.Client, base, password string) int {
	t.Helper()
	return post(t, c, base+"/login", url.Values{"username": {"alice"}, "password": {password}})
}

// me reads GET R/api/me, which must answer 200 with a user.
func me(t *testing.T, c *http.Client, base string) chatauth.User {
	t.Helper()
	resp, err := c.Get(base + "/api/me")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var u chatauth.User
	if err := json.NewDecoder(resp.Body).Decode(&u); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("GET /api/me = %d (%v), want 200 with a user", resp.StatusCode, err)
	}
	return u
}

// event is one Server-Sent Event.
type event struct{ name, data string }

// openStream opens an event stream and returns its events as they arrive;
// the channel closes when the stream ends.
func openStream(t *testing.T, c *http.Client, addr string) <-chan event {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The stream lives longer than c's timeout may allow.
	stream := *c
	stream.Timeout = 0
	resp, err := stream.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		resp.Body.Close()
		t.Fatalf("GET %s = %d %q, want 200 text/event-stream", addr, resp.StatusCode, ct)
	}
	events := make(chan event)
	go func() {
		defer close(events)
		defer resp.Body.Close()
		readEvents(ctx, resp.Body, events)
	}()
	return events
}

// readEvents parses Server-Sent Events from r onto events until r ends or
// ctx is done.
func readEvents(ctx context.Context, r io.Reader, events chan<- event) {
	var ev event
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			select {
			case events <- ev:
			case <-ctx.Done():
				return
			}
			ev = event{}
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data = strings.TrimPrefix(line, "data: ")
		}
	}
}

// streamWait bounds every wait for the stream: generous, for a loaded
// machine under -race.
const streamWait = 20 * time.Second

// nextEvent waits for the stream's next event.
func nextEvent(t *testing.T, events <-chan event) event {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("the stream ended early")
		}
		return ev
	case <-time.After(streamWait):
		t.Fatalf("no stream event within %v", streamWait)
	}
	return event{}
}

// streamEnds reads the stream to its end and reports whether its last
// event said the session was revoked.
func streamEnds(t *testing.T, events <-chan event) bool {
	t.Helper()
	var last event
	deadline := time.After(streamWait)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return last.name == "session_ended" && last.data == `{"reason":"revoked"}`
			}
			last = ev
		case <-deadline:
			t.Fatalf("the stream was still open %v after logout", streamWait)
		}
	}
}
