package main

import (
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
	signInAt(laptop, first)
	signInAt(phonePage, second)
	phonePage.shot("chat")

	laptop.run("log out everywhere", click("#logout-everywhere-button"))
	laptop.waitUntil("back on the login page", loginPageReady(""))
	laptop.shot("signed-out")

	if status := fetchStatus(phonePage, "/user"); status != 401 {
		t.Errorf("the other browser, other server: GET /user = %d, want 401", status)
	}
	phonePage.run("reload the chat", reload())
	phonePage.waitUntil("sent to the login page", loginPageReady(""))
	if msg := phonePage.text("told why", "#login-status"); msg != "You were signed out from another device." {
		t.Errorf("the other browser's sign-in page says %q", msg)
	}
	phonePage.shot("signed-out")
}

// TestBrowserLoggedOutElsewhereWhileStreaming: two demo servers share one
// Redis, each instance trusting its "not revoked" answers for ten minutes
// (CHATAUTH_REDIS_CACHE=10m). While the bot's reply streams to the second
// browser from the second server, "Log out everywhere" in the first ends
// that stream (the logout is announced through Redis, and the second
// server's WatchSession hears of it at once), and the second browser lands
// on the sign-in page, which says why, with no click of its own.
func TestBrowserLoggedOutElsewhereWhileStreaming(t *testing.T) {
	exe := chromiumPath(t)
	rdb := redistest.Start(t)
	getenv := env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", browserUser+":"+browserPassword,
		"CHATAUTH_REDIS_URL", rdb.URL(), "CHATAUTH_REDIS_CACHE", "10m")
	first, second := startRedisDemo(t, getenv), startRedisDemo(t, getenv)
	// A slow bot, so that the reply is still streaming when the logout
	// comes (set before the first request reaches the server).
	second.app.tokenInterval = 300 * time.Millisecond
	b := startBrowser(t, exe)

	laptop := b.newPage(t, "elsewhere-laptop-", desktop)
	phonePage := b.newPage(t, "elsewhere-phone-", phone)
	signInAt(laptop, first)
	signInAt(phonePage, second)
	phonePage.run("ask the bot", sendKeys("#message-input", "tell me a long story"), click("#send-button"))
	phonePage.waitUntil("the reply streaming", `(() => {
	  const bot = document.querySelector("#messages .message.bot");
	  return bot && bot.dataset.state === "streaming" && bot.textContent.length > 0;
	})()`)
	phonePage.shot("streaming")

	laptop.run("log out everywhere", click("#logout-everywhere-button"))
	laptop.waitUntil("back on the login page", loginPageReady(""))
	phonePage.waitUntil("sent to the sign-in page by the stream's end", loginPageReady(""))
	if msg := phonePage.text("told why", "#login-status"); msg != "You were signed out from another device." {
		t.Errorf("the other browser's sign-in page says %q", msg)
	}
	phonePage.shot("logged-out-elsewhere")
	if status := fetchStatus(phonePage, "/user"); status != 401 {
		t.Errorf("the other browser, other server: GET /user = %d, want 401", status)
	}
}

// startRedisDemo starts the demo on a free loopback port as `go run
// ./examples/chat` would with getenv.
func startRedisDemo(t *testing.T, getenv func(string) string) *browserApp {
	t.Helper()
	app, logs := startDemo(t, getenv)
	if !strings.Contains(logs.String(), "sessions shared through redis") {
		t.Errorf("the demo does not say it shares sessions through redis:\n%s", logs.String())
	}
	return app
}

// signInAt signs the browser user in on p at app's login page and waits
// for the chat page.
func signInAt(p *page, app *browserApp) {
	p.t.Helper()
	p.run("open the login page", navigate(app.URL+"/login"))
	p.waitUntil("login page ready", loginPageReady(""))
	signIn(p, browserUser, browserPassword)
	p.waitUntil("signed in, on the chat page", chatPageReady(""))
}
