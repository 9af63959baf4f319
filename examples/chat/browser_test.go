package main

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"
)

// The browser tests drive the demo in headless Chromium as a person does:
// typing, clicking, reading what the page says. They use only the hooks
// listed in README.md ("For browser tests").

// browserApp is a demo started for the browser tests.
type browserApp struct {
	*demo
	root string
	// origin is URL without the root path.
	origin string
}

// browserUser is the password user of the browser tests.
const (
	browserUser     = "alice"
	browserPassword = "correct horse battery staple"
	oidcProviderID  = "zitadel"
)

// TestBrowser runs every flow in one Chromium, at the root and under a
// root path, against the demo started as `go run` starts it, with the
// zitadel example OpenID provider configured through OAUTH_OIDC_*.
func TestBrowser(t *testing.T) {
	exe := chromiumPath(t)
	began := time.Now()
	roots := []string{"", "/chat"}
	// The apps listen first, so that the provider can be told every
	// redirect URI before the apps exist (they discover it at start-up).
	listeners := map[string]net.Listener{}
	var redirectURIs []string
	for _, root := range roots {
		ln := loopbackListener(t)
		listeners[root] = ln
		redirectURIs = append(redirectURIs, "http://"+ln.Addr().String()+root+"/auth/oauth/"+oidcProviderID+"/callback")
	}
	op := startZitadelOP(t, redirectURIs...)
	b := startBrowser(t, exe)
	t.Logf("chromium started in %s", time.Since(began).Round(time.Millisecond))

	for _, root := range roots {
		app := startBrowserApp(t, listeners[root], root, op)
		name, prefix := "root=/", ""
		if root != "" {
			name, prefix = "root="+root, "rootpath-"
		}
		t.Run(name, func(t *testing.T) {
			t.Run("password login, streamed reply, reload, logout", func(t *testing.T) {
				passwordFlow(t, b.newPage(t, prefix, desktop), app)
			})
			t.Run("wrong password is explained", func(t *testing.T) {
				wrongPasswordFlow(t, b.newPage(t, prefix, desktop), app)
			})
			t.Run("OpenID login at the zitadel example provider", func(t *testing.T) {
				oidcFlow(t, b.newPage(t, prefix, desktop), app, op)
			})
			if root == "" {
				t.Run("pages fit a phone", func(t *testing.T) {
					phoneFlow(t, b.newPage(t, "phone-", phone), app)
				})
			}
		})
	}
	t.Logf("browser tests took %s", time.Since(began).Round(time.Millisecond))
}

// startBrowserApp starts the demo on ln as `go run ./examples/chat -root
// root` would, with a password user and the zitadel provider.
func startBrowserApp(t *testing.T, ln net.Listener, root string, op *zitadelOP) *browserApp {
	t.Helper()
	var stdout, logs logBuffer
	getenv := env(
		"CHAINLIT_AUTH_SECRET", testSecret,
		"CHATAUTH_DEMO_USERS", browserUser+":"+browserPassword,
		"CHATAUTH_LOG_LEVEL", "debug",
		"CHATAUTH_STATE_DIR", t.TempDir(), // one per app: the apps under each root run at once
		"OAUTH_OIDC_NAME", oidcProviderID,
		"OAUTH_OIDC_ISSUER", op.Issuer,
		"OAUTH_OIDC_CLIENT_ID", op.ClientID,
		"OAUTH_OIDC_CLIENT_SECRET", op.ClientSecret,
	)
	listen := func(string) (net.Listener, error) { return ln, nil }
	d, err := startWith(listen, []string{"-root", root}, getenv, &stdout, &logs)
	if err != nil {
		ln.Close()
		t.Fatalf("starting the demo under %q: %v\n%s", root, err, logs.String())
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("demo log (root %q):\n%s", root, logs.String())
		}
	})
	return &browserApp{demo: d, root: root, origin: strings.TrimSuffix(d.URL, root)}
}

// passwordFlow: the chat sends a stranger to the login page; signing in
// lands on the chat; a message gets a reply streamed word by word; a reload
// keeps the session; logging out ends it.
func passwordFlow(t *testing.T, p *page, app *browserApp) {
	r := app.root
	p.run("open the chat without a session", navigate(app.URL+"/"))
	p.waitUntil("sent to the login page", loginPageReady(r))
	p.run("the form is there", waitVisible("#username"), waitVisible("#password"), waitVisible("#login-submit"))
	p.shot("login")

	signIn(p, browserUser, browserPassword)
	p.waitUntil("signed in, on the chat page", chatPageReady(r))
	if name := p.text("chat header", "#user-name"); name != browserUser {
		t.Fatalf("#user-name = %q, want %q", name, browserUser)
	}
	if initials := p.text("avatar", "#user-avatar"); initials != "A" {
		t.Errorf("#user-avatar = %q, want the initial A", initials)
	}

	reply := sendAndWatch(t, p, "hello there")
	if !strings.HasPrefix(reply, "Hi "+browserUser+"!") {
		t.Errorf("bot reply %q does not greet %s", reply, browserUser)
	}
	p.shot("chat")

	p.run("reload the chat", reload())
	p.waitUntil("still on the chat after a reload", chatPageReady(r))
	if name := p.text("chat header after reload", "#user-name"); name != browserUser {
		t.Fatalf("after reload #user-name = %q", name)
	}

	logOutAndCheck(t, p, app)
	p.shot("signed-out")
}

// wrongPasswordFlow: a wrong password keeps the person on the login page
// with the reason in words.
func wrongPasswordFlow(t *testing.T, p *page, app *browserApp) {
	p.run("open the login page", navigate(app.URL+"/login"))
	p.waitUntil("login page ready", loginPageReady(app.root))
	signIn(p, browserUser, "not the password")
	p.run("the error appears", waitVisible("#login-error"))
	const refused = "Sign-in was refused. Check your username and password, or try another account."
	if msg := p.text("error text", "#login-error"); msg != refused {
		t.Errorf("#login-error = %q, want %q", msg, refused)
	}
	p.shot("login-error")
	if path := eval[string](p, "still on the login page", "location.pathname"); path != app.root+"/login" {
		t.Errorf("after a wrong password the page is %s", path)
	}
	if left := eval[string](p, "password field", `document.getElementById("password").value`); left != "" {
		t.Errorf("the wrong password was left in the field")
	}
	if status := fetchStatus(p, app.root+"/user"); status != 401 {
		t.Errorf("GET /user after a wrong password = %d, want 401", status)
	}
}

// oidcFlow: the provider's button on the login page leads to the
// provider's own login form; signing in there lands on the chat as the
// provider's user.
func oidcFlow(t *testing.T, p *page, app *browserApp, op *zitadelOP) {
	r := app.root
	p.run("open the login page", navigate(app.URL+"/login"))
	p.waitUntil("login page ready", loginPageReady(r))
	button := `.oauth-button[data-provider="` + oidcProviderID + `"]`
	p.run("the provider's button is there", waitVisible(button))
	if label := p.text("button label", button); label != "Continue with Zitadel" {
		t.Errorf("provider button says %q", label)
	}
	p.shot("login-with-provider")

	p.run("click the provider's button", click(button))
	p.waitUntil("on the provider's login form",
		`location.origin === `+jsString(op.Issuer)+` && document.querySelector("form input[name=password]")`)
	p.shot("provider-login")
	p.run("sign in at the provider",
		sendKeys("#username", op.Username),
		sendKeys("#password", op.Password),
		click(`form button[type="submit"]`))

	p.waitUntil("back from the provider, on the chat page", chatPageReady(r))
	if name := p.text("chat header", "#user-name"); name != op.DisplayName {
		t.Errorf("#user-name = %q, want the provider's name %q", name, op.DisplayName)
	}
	if id := eval[string](p, "identifier", `document.getElementById("user-name").title`); id != op.Email {
		t.Errorf("signed in as %q, want the provider's verified e-mail %q", id, op.Email)
	}
	reply := sendAndWatch(t, p, "/whoami")
	if want := "You are " + op.Email + ", signed in with " + oidcProviderID + "."; !strings.HasPrefix(reply, want) {
		t.Errorf("whoami reply %q, want it to start %q", reply, want)
	}
	p.shot("chat-after-provider-login")
	logOutAndCheck(t, p, app)
}

// phoneFlow: on a phone-sized screen the login and chat pages fit the
// width (nothing to scroll sideways) and work.
func phoneFlow(t *testing.T, p *page, app *browserApp) {
	p.run("open the login page", navigate(app.URL+"/login"))
	p.waitUntil("login page ready", loginPageReady(app.root))
	checkFitsWidth(t, p, "login page")
	p.shot("login")
	signIn(p, browserUser, browserPassword)
	p.waitUntil("on the chat page", chatPageReady(app.root))
	p.shot("chat-empty")
	sendAndWatch(t, p, "What does a phone see?")
	checkFitsWidth(t, p, "chat page")
	p.shot("chat")
}

// checkFitsWidth fails if the page is wider than the screen.
func checkFitsWidth(t *testing.T, p *page, what string) {
	t.Helper()
	if over := eval[int](p, "measure "+what, "document.documentElement.scrollWidth - window.innerWidth"); over > 0 {
		t.Errorf("the %s is %d px wider than the screen", what, over)
	}
}

// signIn fills in and submits the password form.
func signIn(p *page, username, password string) {
	p.t.Helper()
	p.run("sign in as "+username,
		sendKeys("#username", username),
		sendKeys("#password", password),
		click("#login-submit"))
}

// streamSnapshot is the bot's message as the page showed it at one moment.
type streamSnapshot struct {
	State string `json:"state"`
	Text  string `json:"text"`
}

// watchStreamJS records every state of the newest bot message as the
// page changes it, in window.__botStates.
const watchStreamJS = `(() => {
  const states = window.__botStates = [];
  const list = document.getElementById("messages");
  const record = () => {
    const bots = list.querySelectorAll(".message.bot");
    const bot = bots[bots.length - 1];
    if (!bot) return;
    const s = { state: bot.dataset.state || "", text: bot.querySelector(".bubble").textContent };
    const last = states[states.length - 1];
    if (!last || last.state !== s.state || last.text !== s.text) states.push(s);
  };
  new MutationObserver(record).observe(list, { subtree: true, childList: true, characterData: true, attributes: true });
  return true;
})()`

// sendAndWatch sends a message from the composer and returns the bot's
// reply, after checking that it arrived piece by piece: several growing
// texts while data-state was "streaming", then "done".
func sendAndWatch(t *testing.T, p *page, message string) string {
	t.Helper()
	eval[bool](p, "watch the bot's message", watchStreamJS)
	p.run("send "+message, sendKeys("#message-input", message), click("#send-button"))
	p.run("my message is shown", waitVisible("#messages .message.user"))
	p.waitUntil("the reply is complete", `(() => {
	  const bots = document.querySelectorAll("#messages .message.bot");
	  return bots.length > 0 && bots[bots.length - 1].dataset.state === "done";
	})()`)
	mine := eval[string](p, "my message", `(() => {
	  const mine = document.querySelectorAll("#messages .message.user .bubble");
	  return mine[mine.length - 1].textContent;
	})()`)
	if mine != message {
		t.Errorf("my message shows as %q, want %q", mine, message)
	}
	raw := eval[string](p, "read the recorded states", "JSON.stringify(window.__botStates)")
	var states []streamSnapshot
	if err := json.Unmarshal([]byte(raw), &states); err != nil || len(states) == 0 {
		t.Fatalf("recorded states %s: %v", raw, err)
	}
	final := states[len(states)-1]
	if final.State != "done" || final.Text == "" {
		t.Fatalf("the bot's message ended as %+v", final)
	}
	var partial []string
	for _, s := range states {
		if s.State == "streaming" && s.Text != "" && s.Text != final.Text {
			if !strings.HasPrefix(final.Text, s.Text) {
				t.Fatalf("while streaming the page showed %q, which the final reply %q does not start with", s.Text, final.Text)
			}
			if n := len(partial); n > 0 && len(s.Text) <= len(partial[n-1]) {
				t.Fatalf("the streamed text shrank from %q to %q", partial[n-1], s.Text)
			}
			partial = append(partial, s.Text)
		}
	}
	if len(partial) < 3 {
		t.Fatalf("the reply did not stream: only %d partial states before %q", len(partial), final.Text)
	}
	t.Logf("reply to %q streamed through %d partial states", message, len(partial))
	return final.Text
}

// logOutAndCheck logs out with the button and checks the session is gone:
// back on the login page, /user refused, the chat sends to login again.
func logOutAndCheck(t *testing.T, p *page, app *browserApp) {
	t.Helper()
	r := app.root
	p.run("log out", click("#logout-button"))
	p.waitUntil("back on the login page", loginPageReady(r))
	p.run("told so", waitVisible("#login-status"))
	if msg := p.text("status", "#login-status"); msg != "You are signed out." {
		t.Errorf("#login-status = %q", msg)
	}
	if status := fetchStatus(p, r+"/user"); status != 401 {
		t.Errorf("GET %s/user after logout = %d, want 401", r, status)
	}
	p.run("open the chat again", navigate(app.URL+"/"))
	p.waitUntil("sent to the login page again", loginPageReady(r))
}

// fetchStatus is the status of a same-origin GET made by the page.
func fetchStatus(p *page, path string) int {
	p.t.Helper()
	return eval[int](p, "fetch "+path,
		`fetch(`+jsString(path)+`, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(r => r.status)`)
}

// loginPageReady is true on R/login once its script has set up.
func loginPageReady(root string) string {
	return `location.pathname === ` + jsString(root+"/login") + ` && document.body && document.body.dataset.ready === "true"`
}

// chatPageReady is true on the chat page once its script has set up.
func chatPageReady(root string) string {
	return `location.pathname === ` + jsString(root+"/") + ` && document.body && document.body.dataset.ready === "true" && document.getElementById("user-name")`
}
