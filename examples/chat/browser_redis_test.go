package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chatauth/chatauth/redisstore/redistest"
)

// TestBrowserLogoutEverywhere is what a person with two browsers sees with
// two demo servers sharing one Redis (CHATAUTH_REDIS_URL): signed in on
// each, "Log out everywhere" in the first browser sends the second, which
// talks to the other server, back to the login page on its next request.
func TestBrowserLogoutEverywhere(t *testing.T) {
	exe := chromiumPath(t)
	rdb := redistest.Start(t)
	getenv := env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", browserUser+":"+browserPassword,
		"CHATAUTH_REDIS_URL", rdb.URL(), "CHATAUTH_REDIS_CACHE", "0s")
	first, second := startRedisDemo(t, getenv), startRedisDemo(t, getenv)
	b := startBrowser(t, exe)

	laptop := b.newPage(t, "everywhere-laptop-", desktop)
	phonePage := b.newPage(t, "everywhere-phone-", phone)
	for _, s := range []struct {
		p   *page
		app *browserApp
	}{{laptop, first}, {phonePage, second}} {
		s.p.run("open the login page", navigate(s.app.URL+"/login"))
		s.p.waitUntil("login page ready", loginPageReady(""))
		signIn(s.p, browserUser, browserPassword)
		s.p.waitUntil("signed in, on the chat page", chatPageReady(""))
	}
	phonePage.shot("chat")

	laptop.run("log out everywhere", click("#logout-everywhere-button"))
	laptop.waitUntil("back on the login page", loginPageReady(""))
	laptop.shot("signed-out")

	if status := fetchStatus(phonePage, "/user"); status != 401 {
		t.Errorf("the other browser, other server: GET /user = %d, want 401", status)
	}
	phonePage.run("reload the chat", reload())
	phonePage.waitUntil("sent to the login page", loginPageReady(""))
	phonePage.shot("signed-out")
}

// startRedisDemo starts the demo on a free loopback port as `go run
// ./examples/chat` would with getenv.
func startRedisDemo(t *testing.T, getenv func(string) string) *browserApp {
	t.Helper()
	var stdout, logs logBuffer
	d, err := start([]string{"-addr", "127.0.0.1:0"}, getenv, &stdout, &logs)
	if err != nil {
		t.Fatalf("starting the demo: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "sessions shared through redis") {
		t.Errorf("the demo does not say it shares sessions through redis:\n%s", logs.String())
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("demo log:\n%s", logs.String())
		}
	})
	return &browserApp{demo: d, origin: d.URL}
}
