package loginpage

import (
	"html/template"
	"net/http"
	"strings"
	"testing"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/providers"
)

func TestNewNamesEveryBadOption(t *testing.T) {
	a := newAuth(t, chatauth.Config{RootPath: "/chat"})
	_, err := New(a, Options{
		Theme: "sepia", Redirect: "https://evil.example/", LogoURL: "javascript:alert(1)", Image: "//cdn.example/x.png",
		ImageFilter: "rounded", StylesheetURL: "ftp://x.example/a.css", Messages: map[string]map[string]string{"fr": {"nope": "x"}},
	})
	for _, want := range []string{"Theme", "Redirect", "LogoURL", "Image:", "ImageFilter", "StylesheetURL", `unknown key "nope"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New's error %v does not name %s", err, want)
		}
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New(nil) works")
	}
	defer func() {
		if recover() == nil {
			t.Error("Must did not panic on an error")
		}
	}()
	Must(New(nil, Options{}))
}

func TestLookOptions(t *testing.T) {
	a := newAuth(t, chatauth.Config{})
	withPassword(a)
	p := newPage(t, a, Options{
		Title: "Acme chat", LogoURL: "/static/logo.svg", Image: "https://cdn.example/side.jpg",
		ImageFilter: "brightness-75", Theme: "dark", StylesheetURL: "https://cdn.example/brand.css",
	})
	resp, body := get(t, p, "/login")
	contains(t, body, `<html lang="en" data-theme="dark">`, `<title>Sign in · Acme chat</title>`,
		`<img class="logo" src="/static/logo.svg" alt="Acme chat">`, `<link rel="icon" href="/static/logo.svg">`,
		`<div class="side"><img src="https://cdn.example/side.jpg" alt=""></div>`,
		`<link rel="stylesheet" href="https://cdn.example/brand.css">`,
		".side img{filter:brightness(75%)}.side img{filter:brightness(0.2) grayscale(1)}", `class="layout with-image"`)
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"img-src 'self' data: https://cdn.example;", "style-src 'nonce-", " https://cdn.example;",
		"font-src https://cdn.example"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
}

func TestSystemThemeFiltersInDarkMode(t *testing.T) {
	a := newAuth(t, chatauth.Config{})
	_, body := get(t, newPage(t, a, Options{Image: "/side.png", ImageDarkFilter: "brightness(0.5)"}), "/login")
	contains(t, body, `<meta name="color-scheme" content="light dark">`,
		"@media (prefers-color-scheme:dark){.side img{filter:brightness(0.5)}}")
}

func TestOwnTemplate(t *testing.T) {
	a := newAuth(t, chatauth.Config{})
	withPassword(a)
	withProviders(t, a, providers.GitHub("id", "s"))
	tmpl := template.Must(template.New("mine").Parse(`<!doctype html><html lang="{{.Lang}}"><title>{{.Text.sign_in}}</title>` +
		`<style nonce="{{.Nonce}}">{{.Style}}</style>` +
		`<form method="post" action="{{.LoginAction}}"><input name="username"><input name="password" type="password"></form>` +
		`{{range .Providers}}<a href="{{.URL}}">{{.Icon}}{{.Label}}</a>{{end}}` +
		`<script type="application/json" id="login-data" nonce="{{.Nonce}}">{{.Client}}</script>` +
		`<script nonce="{{.Nonce}}">{{.Script}}</script>`))
	resp, body := get(t, newPage(t, a, Options{Template: tmpl}), "/login", "Accept-Language", "de")
	checkSafePage(t, resp, body)
	contains(t, body, `<html lang="de"><title>Anmelden</title>`, `action="/login"`, `href="/auth/oauth/github?redirect=/"`, "Weiter mit GitHub")

	broken := template.Must(template.New("broken").Parse(`{{.Nope}}`))
	if resp, _ := get(t, newPage(t, a, Options{Template: broken}), "/login"); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("a failing template: %d", resp.StatusCode)
	}
}

func TestZeroValuesDoNotPanic(t *testing.T) {
	if Must(nil, nil) != nil {
		t.Error("Must(nil, nil) is not nil")
	}
	for _, p := range []*Page{nil, {}} {
		if resp, _ := get(t, p, "/login"); resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("%#v: %d", p, resp.StatusCode)
		}
		if resp, _ := get(t, p.RequireUser(nil), "/"); resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("%#v RequireUser: %d", p, resp.StatusCode)
		}
		p.Mount(http.NewServeMux())
		if u := p.URL(nil, ""); u != "/login" {
			t.Errorf("URL = %q", u)
		}
	}
	p := newPage(t, newAuth(t, chatauth.Config{}), Options{})
	p.Mount(nil)
	if resp, _ := get(t, p.RequireUser(nil), "/", "Cookie", "x=y"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("RequireUser(nil) without a session: %d", resp.StatusCode)
	}
}
