package main

import (
	"context"
	"net/http"
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
