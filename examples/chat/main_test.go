package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestStartWithEmptyEnvironment starts the demo as `go run ./examples/chat`
// does on a fresh machine, and logs in with what it printed.
func TestStartWithEmptyEnvironment(t *testing.T) {
	var stdout, stderr logBuffer
	d, err := start([]string{"-addr", "127.0.0.1:0"}, env(), &stdout, &stderr)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	out := stdout.String()
	m := regexp.MustCompile(`Open +(\S+)/login\n +Username +(\S+)\n +Password +(\S+)\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("start printed no login instructions:\n%s", out)
	}
	base, username, password := m[1], m[2], m[3]
	if base != d.URL || username != demoUsername || len(password) < 12 {
		t.Fatalf("printed %q %q %q", base, username, password)
	}
	if errOut := stderr.String(); !strings.Contains(errOut, "level=WARN") || !strings.Contains(errOut, "CHAINLIT_AUTH_SECRET") {
		t.Errorf("no warning about the generated secret on stderr:\n%s", errOut)
	}
	if strings.Contains(stderr.String(), password) {
		t.Error("the demo password reached the log")
	}
	if resp, body := do(t, http.DefaultClient, "GET", base+"/healthz", nil); resp.StatusCode != http.StatusOK || body != "ok" {
		t.Fatalf("GET /healthz = %d %q", resp.StatusCode, body)
	}
	c := newClient(t)
	login(t, c, base, username, password)
	if resp, body := do(t, c, "GET", base+"/", nil, "Accept", "text/html"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Hello, demo") {
		t.Fatalf("chat page = %d", resp.StatusCode)
	}
}

func TestGeneratedDemoUser(t *testing.T) {
	app := newTestApp(t, env("CHAINLIT_AUTH_SECRET", testSecret), "")
	var out logBuffer
	app.s.printWelcome(&out, app.URL)
	m := regexp.MustCompile(`Username +demo\n +Password +([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})\n`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no generated demo user in:\n%s", out.String())
	}
	login(t, newClient(t), app.URL, "demo", m[1])
	if strings.Contains(out.String(), "sessions end") {
		t.Error("warned about a generated secret although one was set")
	}
	if p := randomPassword(); p == m[1] {
		t.Error("two generated passwords are equal")
	}
}

func TestGivenUsersAreListed(t *testing.T) {
	app := newTestApp(t, env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", "alice:pw1,bob:pw2",
		"CHATAUTH_HEADER_USER", "x-forwarded-user", "CHATAUTH_TRUSTED_PROXIES", "10.0.0.5/32,127.0.0.1/32"), "")
	var out logBuffer
	app.s.printWelcome(&out, app.URL)
	for _, want := range []string{"alice, bob", "X-Forwarded-User", "10.0.0.5/32, 127.0.0.1/32 only"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("welcome lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "pw1") || strings.Contains(out.String(), "Password") {
		t.Errorf("welcome shows given passwords:\n%s", out.String())
	}
}

func TestFlags(t *testing.T) {
	o, err := parseFlags(nil, env("CHAINLIT_ROOT_PATH", "/from-env"), &logBuffer{})
	if err != nil || o.Addr != "127.0.0.1:8000" || o.Root != "/from-env" {
		t.Fatalf("defaults: %+v, %v", o, err)
	}
	o, err = parseFlags([]string{"-root", "/flag", "-addr", ":9"}, env("CHAINLIT_ROOT_PATH", "/from-env"), &logBuffer{})
	if err != nil || o.Addr != ":9" || o.Root != "/flag" {
		t.Fatalf("flags: %+v, %v", o, err)
	}
	if _, err := parseFlags([]string{"extra"}, env(), &logBuffer{}); err == nil {
		t.Fatal("a stray argument was accepted")
	}
}

// TestDemoCutsSlowBodies is issue 11's recipe 4 against the demo as `go run`
// starts it: a POST /login announcing 64 KiB of body and sending a few
// bytes is answered 408 once chatauth's BodyReadTimeout (5 s) has passed,
// and its connection closed, while /healthz answers meanwhile.
func TestDemoCutsSlowBodies(t *testing.T) {
	var stdout, stderr logBuffer
	d, err := start([]string{"-addr", "127.0.0.1:0"}, env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", "alice:pw1"), &stdout, &stderr)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = d.Shutdown(ctx)
	})
	u, _ := url.Parse(d.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second)) // a safety net only
	head := "POST /login HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 65536\r\n\r\nusername=al"
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	if resp, body := do(t, http.DefaultClient, "GET", d.URL+"/healthz", nil); resp.StatusCode != http.StatusOK || body != "ok" {
		t.Errorf("GET /healthz during a slow body = %d %q", resp.StatusCode, body)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to the slow body: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "request body too slow") {
		t.Errorf("slow body answered %d %s, want 408", resp.StatusCode, b)
	}
	if n, err := br.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("connection still open after the 408: %d bytes, %v", n, err)
	}
	if !strings.Contains(stderr.String(), "auth.reason=body_timeout") {
		t.Errorf("no body_timeout in the log:\n%s", stderr.String())
	}
}

// TestStreamOutlivesServerTimeouts: with the demo's http.Server read and
// write timeouts shortened to 300 ms, a chat reply streamed over 1 s still
// arrives whole: each event gets its own write deadline, and net/http
// lifts the read deadline once the form is read.
func TestStreamOutlivesServerTimeouts(t *testing.T) {
	s, err := newServer(options{
		Getenv:        env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", "alice:pw1"),
		Log:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		TokenInterval: 40 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	// Log in on a server of its own: a bcrypt check under -race takes
	// longer than 300 ms. Cookies do not tell ports apart.
	plain := httptest.NewServer(s)
	t.Cleanup(plain.Close)
	c := newClient(t)
	login(t, c, plain.URL, "alice", "pw1")

	ts := httptest.NewUnstartedServer(s)
	ts.Config = newHTTPServer(s)
	ts.Config.ReadTimeout, ts.Config.WriteTimeout = 300*time.Millisecond, 300*time.Millisecond
	ts.Start()
	t.Cleanup(ts.Close)
	start := time.Now()
	resp, body := do(t, c, "POST", ts.URL+"/chat/stream", form("message", "one two three four five six seven eight nine ten eleven twelve"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream = %d %s", resp.StatusCode, body)
	}
	events := readEvents(t, strings.NewReader(body))
	if len(events) == 0 || events[len(events)-1].name != "done" {
		t.Fatalf("stream cut after %v: %d events, the last %+v", time.Since(start), len(events), events[len(events)-1:])
	}
	if took := time.Since(start); took < ts.Config.WriteTimeout {
		t.Fatalf("the stream took %v, not longer than WriteTimeout: the test proves nothing", took)
	}
}
