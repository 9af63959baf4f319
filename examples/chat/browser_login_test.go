package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/chatauthtest"
	"github.com/chatauth/chatauth/loginpage"
)

// The sign-in page (chatauth's loginpage, which the demo serves) in
// headless Chromium: each method signs in from the page, keyboard only and
// without JavaScript too; every code is shown in words in three languages;
// axe-core finds no accessibility violation.

// TestLoginPageInBrowser runs the sign-in page's flows in one Chromium.
func TestLoginPageInBrowser(t *testing.T) {
	exe := chromiumPath(t)
	axe := axeSource(t)
	b := startBrowser(t, exe)
	demo, _ := startDemo(t, env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", browserUser+":"+browserPassword))
	proxied, _ := startDemo(t, env("CHAINLIT_AUTH_SECRET", testSecret, "CHATAUTH_DEMO_USERS", browserUser+":"+browserPassword,
		"CHATAUTH_HEADER_USER", "X-Forwarded-User", "CHATAUTH_TRUSTED_PROXIES", "127.0.0.1/32"))
	oauthOnly := startProvidersOnlyApp(t)

	t.Run("keyboard only", func(t *testing.T) {
		keyboardFlow(t, b.newPage(t, "keyboard-", desktop), demo)
	})
	t.Run("without JavaScript", func(t *testing.T) {
		noScriptFlow(t, b.newPage(t, "noscript-", desktop), demo)
	})
	t.Run("every code in two languages", func(t *testing.T) {
		codesFlow(t, b.newPage(t, "codes-", desktop), demo)
	})
	t.Run("header login from the page", func(t *testing.T) {
		headerFlow(t, b.newPage(t, "header-", desktop), proxied)
	})
	t.Run("providers only: OAuth from the page", func(t *testing.T) {
		providerFlow(t, b.newPage(t, "providers-", phone), oauthOnly)
	})
	t.Run("accessibility", func(t *testing.T) {
		for _, v := range []struct {
			name, url string
			screen    chromedp.Action[chromedp.Void]
		}{
			{"password, light", demo.URL + "/login", desktop},
			{"providers only, dark phone", oauthOnly.URL + "/login", phone},
			{"error, dark desktop", demo.URL + "/login?error=throttled&retry_after=30", darkDesktop},
			{"signed out, header login, light", proxied.URL + "/login?notice=logged_out", desktop},
		} {
			t.Run(v.name, func(t *testing.T) {
				p := b.newPage(t, "axe-"+strings.NewReplacer(",", "", " ", "-").Replace(v.name)+"-", v.screen)
				p.run("open "+v.url, navigate(v.url))
				p.waitUntil("page ready", `document.body && document.body.dataset.ready === "true"`)
				p.shot("page")
				checkAccessible(t, p, axe)
			})
		}
	})
}

// darkDesktop is a laptop's screen in dark mode.
var darkDesktop = chromedp.Steps(chromedp.EmulateViewport(1280, 800), emulateMedia("dark"))

// keyboardFlow signs in with the keys only: the username field has the
// focus, Tab reaches the password, Enter submits.
func keyboardFlow(t *testing.T, p *page, app *browserApp) {
	p.run("open the chat", navigate(app.URL+"/"))
	p.waitUntil("on the sign-in page", loginPageReady(""))
	p.shot("login")
	if id := eval[string](p, "focus", "document.activeElement.id"); id != "username" {
		t.Fatalf("the focus starts on %q, not the username", id)
	}
	p.run("type the username, Tab", chromedp.KeyEvent(browserUser), chromedp.KeyEvent(kbTab))
	if id := eval[string](p, "focus after Tab", "document.activeElement.id"); id != "password" {
		t.Fatalf("Tab moves the focus to %q, not the password", id)
	}
	p.run("type the password, Enter", chromedp.KeyEvent(browserPassword), chromedp.KeyEvent(kbEnter))
	p.waitUntil("signed in, on the chat page", chatPageReady(""))
	p.shot("chat")
}

// Keys as chromedp's KeyEvent types them.
const (
	kbTab   = "\t"
	kbEnter = "\r"
)

// noScriptFlow: with JavaScript off, the page's plain form signs in, a
// wrong password comes back in words, and the sign-in ends on the page
// it was for.
func noScriptFlow(t *testing.T, p *page, app *browserApp) {
	p.run("turn JavaScript off", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	p.run("open the sign-in page", navigate(app.URL+"/login?redirect=/"))
	p.run("the form is there", waitVisible("#username"))
	if ready := eval[string](p, "no script ran", `document.body.dataset.ready || ""`); ready != "" {
		t.Fatal("the page's script ran with JavaScript off")
	}
	p.run("a wrong password", sendKeys("#username", browserUser), sendKeys("#password", "nope"), click("#login-submit"))
	p.waitUntil("back on the page with the reason", `location.search.includes("error=credentialssignin") && document.getElementById("login-error")`)
	if msg := p.text("error", "#login-error"); !strings.HasPrefix(msg, "Sign-in was refused.") {
		t.Errorf("#login-error = %q", msg)
	}
	p.shot("wrong-password")
	p.run("the right password", sendKeys("#username", browserUser), sendKeys("#password", browserPassword), click("#login-submit"))
	p.waitUntil("on the chat page", `location.pathname === "/" && document.getElementById("user-name")`)
	if name := p.text("chat header", "#user-name"); name != browserUser {
		t.Errorf("#user-name = %q", name)
	}
	p.shot("chat")
}

// codesFlow opens the page with every ?error= and ?notice= in French and
// Simplified Chinese (English is what the other flows read), and reads the
// words shown; in French, the script says a throttled password in place.
func codesFlow(t *testing.T, p *page, app *browserApp) {
	codes := []string{"credentialssignin", "access_denied", "missing_code", "missing_state", "invalid_state",
		"exchange_failed", "userinfo_failed", "invalid_id_token", "session_expired", "missing_field", "too_large",
		"store_unavailable", "server_error", "not_enabled"}
	for _, lang := range []string{"fr", "zh-CN"} {
		words := loginpageMessages(t, lang)
		p.run("ask for "+lang, askForLanguage(lang))
		check := func(query, box, want string) {
			t.Helper()
			p.run("open ?"+query, navigate(app.URL+"/login?"+query))
			p.waitUntil("page ready", loginPageReady(""))
			if got := p.text(query, box); got != want {
				t.Errorf("%s ?%s: %s says %q, want %q", lang, query, box, got, want)
			}
		}
		for _, code := range codes {
			check("error="+code, "#login-error", words[code])
		}
		check("error=throttled&retry_after=42", "#login-error", strings.ReplaceAll(words["throttled_seconds"], "{n}", "42"))
		check("error=throttled&retry_after=600", "#login-error", strings.ReplaceAll(words["throttled_minutes"], "{n}", "10"))
		check("error=no_such_code", "#login-error", words["default"])
		check("notice=logged_out", "#login-status", words["logged_out"])
		check("notice=logged_out_elsewhere", "#login-status", words["logged_out_elsewhere"])
		p.shot("codes-" + lang)
	}
	throttledInPlace(t, p, app, "fr", loginpageMessages(t, "fr"))
}

// throttledInPlace: the script says a throttled password in place, with
// the wait, without reloading the page.
func throttledInPlace(t *testing.T, p *page, app *browserApp, lang string, words map[string]string) {
	t.Helper()
	p.run("ask for "+lang, askForLanguage(lang))
	p.run("open the page", navigate(app.URL+"/login"))
	p.waitUntil("page ready", loginPageReady(""))
	for i := 0; i < 12; i++ {
		p.run("a wrong password", chromedp.SetValue(chromedp.CSS("#username"), "mallory-"+lang),
			chromedp.SetValue(chromedp.CSS("#password"), "guess"), click("#login-submit"))
		p.waitUntil("answered", `!document.getElementById("login-submit").disabled && !document.getElementById("login-error").hidden`)
		got := p.text("error", "#login-error")
		if got == words["credentialssignin"] {
			continue
		}
		if wait := strings.Split(words["throttled_minutes"], "{n}")[0]; !strings.HasPrefix(got, wait) {
			t.Fatalf("%s: after %d wrong passwords the page says %q", lang, i+1, got)
		}
		if path := eval[string](p, "no reload", "location.pathname + location.search"); path != "/login" {
			t.Errorf("the script's error reloaded the page: %s", path)
		}
		p.shot("throttled-" + lang)
		return
	}
	t.Errorf("%s: no throttling after 12 wrong passwords", lang)
}

// headerFlow: behind a proxy that sets X-Forwarded-User on every request,
// opening the sign-in page signs in at once; after logging out it waits
// to be asked, and its button (reached with Tab) signs in again.
func headerFlow(t *testing.T, p *page, app *browserApp) {
	p.run("the proxy's header", setHeaders(map[string]string{"X-Forwarded-User": "carol"}))
	p.run("open the sign-in page", navigate(app.URL+"/login"))
	p.waitUntil("signed in by the header, on the chat page", chatPageReady(""))
	if name := p.text("chat header", "#user-name"); name != "carol" {
		t.Fatalf("#user-name = %q, want carol", name)
	}
	p.run("log out", click("#logout-button"))
	p.waitUntil("on the sign-in page, signed out", loginPageReady(""))
	if msg := p.text("status", "#login-status"); msg != "You are signed out." {
		t.Errorf("#login-status = %q", msg)
	}
	if status := fetchStatus(p, "/user"); status != 401 {
		t.Fatalf("the page signed carol straight back in after her logout: /user = %d", status)
	}
	p.shot("signed-out")
	eval[bool](p, "start from the top", `document.activeElement.blur(), true`)
	for i := 0; i < 5 && eval[string](p, "focus", "document.activeElement.id") != "header-login"; i++ {
		p.run("Tab", chromedp.KeyEvent(kbTab))
	}
	p.run("press Enter on it", chromedp.KeyEvent(kbEnter))
	p.waitUntil("signed in again", chatPageReady(""))
}

// providerFlow: on a page with only a provider's button, clicking it signs
// in at the provider and lands back on the page the sign-in was for.
func providerFlow(t *testing.T, p *page, app *providersOnlyApp) {
	p.run("open a thread", navigate(app.URL+"/thread/42"))
	p.waitUntil("on the sign-in page", `location.pathname === "/login" && document.body.dataset.ready === "true"`)
	checkFitsWidth(t, p, "sign-in page")
	if n := eval[int](p, "forms", "document.forms.length"); n != 0 {
		t.Errorf("a providers-only page has %d forms", n)
	}
	button := `.oauth-button[data-provider="corp"]`
	if label := p.text("button", button); label != "Continue with Corp" {
		t.Errorf("the button says %q", label)
	}
	p.shot("providers")
	p.run("click the button", click(button))
	p.waitUntil("back on the thread, signed in", `location.pathname === "/thread/42" && document.getElementById("who")`)
	if who := p.text("who", "#who"); who != app.email {
		t.Errorf("signed in as %q, want %q", who, app.email)
	}
}

// setHeaders makes the page's requests carry extra headers, as a proxy in
// front of the app or a browser's language setting would.
func setHeaders(h map[string]string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		headers := network.Headers{}
		for k, v := range h {
			headers[k] = v
		}
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: headers})
		return err
	})
}

// askForLanguage makes the browser prefer lang, with English far behind.
func askForLanguage(lang string) chromedp.Action[chromedp.Void] {
	return setHeaders(map[string]string{"Accept-Language": lang + ";q=0.9, en;q=0.1"})
}

// loginpageMessages reads the sign-in page's words in lang from the
// package's own message files.
func loginpageMessages(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "loginpage", "messages", lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// axeSource is axe-core's script, from e2e/node_modules (pinned in
// e2e/package-lock.json).
func axeSource(t *testing.T) string {
	t.Helper()
	ensureNodeModules(t)
	b, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("reading axe-core: %v", err)
	}
	return string(b)
}

// axePath is axe-core's browser build, installed by npm ci in e2e.
var axePath = filepath.Join(e2eDir, "node_modules", "axe-core", "axe.min.js")

// axeViolation is the part of an axe-core result a failure message needs.
type axeViolation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// checkAccessible runs axe-core inside the page (through the DevTools
// protocol, which the page's Content-Security-Policy does not govern) and
// fails on any violation of WCAG 2.2 A and AA or axe's best practices.
func checkAccessible(t *testing.T, p *page, axe string) {
	t.Helper()
	eval[bool](p, "inject axe-core", axe+"\n;true")
	raw := eval[string](p, "run axe-core", `axe.run(document, {
	  runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
	  resultTypes: ["violations"],
	}).then(r => JSON.stringify(r.violations))`)
	var violations []axeViolation
	if err := json.Unmarshal([]byte(raw), &violations); err != nil {
		t.Fatalf("axe-core's answer %s: %v", raw, err)
	}
	for _, v := range violations {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target)+" "+n.HTML)
		}
		t.Errorf("axe-core: %s (%s):\n  %s", v.ID, v.Help, strings.Join(where, "\n  "))
	}
}

// providersOnlyApp is a small app on chatauth whose only way in is one
// OAuth provider (a real one, chatauthtest's, on loopback), with the
// sign-in page and one page behind it.
type providersOnlyApp struct {
	URL   string
	email string
}

func startProvidersOnlyApp(t *testing.T) *providersOnlyApp {
	t.Helper()
	idp := chatauthtest.NewProvider(t)
	a, err := chatauth.New(chatauth.Config{Secret: []byte(testSecret), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	a.OnOAuth(func(_ context.Context, l chatauth.OAuthLogin) (*chatauth.User, error) { return l.User, nil })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.AddProvider(ctx, idp.Config("corp")); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Mount(mux)
	page := loginpage.Must(loginpage.New(a, loginpage.Options{Title: "Providers only"}))
	page.Mount(mux)
	mux.Handle("GET /thread/{id}", page.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>thread</title><p id="who">%s</p>`, chatauth.UserFrom(r.Context()).Identifier)
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &providersOnlyApp{URL: srv.URL, email: chatauthtest.TestUser.Email}
}

// startDemo starts the demo on a free loopback port as `go run
// ./examples/chat` would with getenv, and stops it when the test ends.
func startDemo(t *testing.T, getenv func(string) string) (*browserApp, *logBuffer) {
	t.Helper()
	var stdout, logs logBuffer
	getenv = withStateDir(getenv, t.TempDir())
	d, err := start([]string{"-addr", "127.0.0.1:0"}, getenv, &stdout, &logs)
	if err != nil {
		t.Fatalf("starting the demo: %v\n%s", err, logs.String())
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
	return &browserApp{demo: d, origin: d.URL}, &logs
}
