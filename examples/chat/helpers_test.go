package main

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/internal/testutil"
)

// testSecret is a fixed CHAINLIT_AUTH_SECRET for tests.
const testSecret = "test-secret-test-secret-test-secret-0123456789"

// env turns pairs into a getenv function.
func env(pairs ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return func(k string) string { return m[k] }
}

// logBuffer collects log output safely across goroutines: the
// repository's one log buffer.
type logBuffer = testutil.LogBuffer

// testApp is the demo under httptest.
type testApp struct {
	*httptest.Server
	s    *server
	logs *logBuffer
}

// newTestApp starts the demo with getenv and root on a loopback port;
// tweak, when given, adjusts the options first.
func newTestApp(t *testing.T, getenv func(string) string, root string, tweak ...func(*options)) *testApp {
	t.Helper()
	logs := &logBuffer{}
	o := options{
		Getenv:        getenv,
		Root:          root,
		Log:           slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		TokenInterval: time.Millisecond,
	}
	for _, f := range tweak {
		f(&o)
	}
	s, err := newServer(o)
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	return &testApp{Server: srv, s: s, logs: logs}
}

// newClient is a browser-like client: a cookie jar, no automatic redirects.
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

// do sends a request and returns the response with its body read.
func do(t *testing.T, c *http.Client, method, target string, body io.Reader, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, target, err)
	}
	return resp, string(b)
}

// form encodes pairs as an urlencoded body.
func form(pairs ...string) io.Reader {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Set(pairs[i], pairs[i+1])
	}
	return strings.NewReader(v.Encode())
}

// login logs c in with a password and fails the test otherwise.
func login(t *testing.T, c *http.Client, base, username, password string) {
	t.Helper()
	resp, body := do(t, c, "POST", base+"/login", form("username", username, "password", password))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"success":true`) {
		t.Fatalf("login as %s: %d %s", username, resp.StatusCode, body)
	}
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ name, data string }

// readEvents reads Server-Sent Events until the stream ends.
func readEvents(t *testing.T, r io.Reader) []sseEvent {
	t.Helper()
	var events []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.name != "" || cur.data != "" {
				events = append(events, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading the event stream: %v", err)
	}
	return events
}

// replyText joins the text of the token events of a stream body.
func replyText(t *testing.T, body string) string {
	t.Helper()
	var text strings.Builder
	for _, e := range readEvents(t, strings.NewReader(body)) {
		var tok struct{ Text string }
		if e.name == "token" && json.Unmarshal([]byte(e.data), &tok) == nil {
			text.WriteString(tok.Text)
		}
	}
	return text.String()
}

// inCI reports whether missing prerequisites must fail rather than skip.
func inCI() bool { return os.Getenv("CI") == "true" }

// userWithImage is a user whose metadata["image"] is image.
func userWithImage(image any) *chatauth.User {
	return &chatauth.User{Identifier: "u", Metadata: map[string]any{"image": image}}
}
