package loginpage

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/chatauth/chatauth"
)

// Data is what the page's template is executed with.
type Data struct {
	// Lang is the language tag of the page's words ("en", "pt-BR").
	Lang string
	// Text is every message in that language, by key (Text.sign_in).
	Text map[string]string
	// Nonce is this response's Content-Security-Policy nonce: every
	// <script> and <style> needs nonce="{{.Nonce}}".
	Nonce string
	// Title, LogoURL, Image, StylesheetURL are the Options.
	Title, LogoURL, Image, StylesheetURL string
	// Theme is "light", "dark", or "" to follow the browser.
	Theme string
	// Error and Notice are the words for ?error= and ?notice=, "" for
	// none: never the query's own text.
	Error, Notice string
	// Password, Header: the password form and header login are on.
	Password, Header bool
	// Providers are the OAuth buttons, in configuration order.
	Providers []Button
	// LoginAction and HeaderAction are R/login and R/auth/header.
	LoginAction, HeaderAction string
	// Redirect is where the sign-in ends: a safe path under the root.
	Redirect string
	// Style is the page's stylesheet and Script its script, for a
	// template that keeps them.
	Style  template.CSS
	Script template.JS
	// Client is what the script reads (as JSON): the words it may show,
	// the addresses it calls, whether to try header login at once.
	Client ClientData
}

// Button is one provider's button.
type Button struct {
	// ID is the provider's id, Name what people call it.
	ID, Name string
	// Label is "Continue with <Name>" in the page's language.
	Label string
	// URL starts the login: R/auth/oauth/{ID}?redirect=<where it ends>.
	URL string
	// Icon is an inline SVG (the preset's, or a neutral key).
	Icon template.HTML
}

// ClientData is the page script's configuration.
type ClientData struct {
	Text         map[string]string `json:"text"`
	LoginAction  string            `json:"loginAction"`
	HeaderAction string            `json:"headerAction"`
	Redirect     string            `json:"redirect"`
	// TryHeader makes the script call POST R/auth/header at once; not
	// after an error or a logout, so that a logout sticks.
	TryHeader bool `json:"tryHeader"`
	// HeaderOnly means there is no other way to sign in, so a refused
	// header login is worth saying.
	HeaderOnly bool `json:"headerOnly"`
}

// clientKeys are the messages the script may show.
var clientKeys = []string{
	"credentialssignin", "missing_field", "not_enabled", "too_large", "throttled", "throttled_seconds",
	"throttled_minutes", "store_unavailable", "server_error", "network", "default", "signing_in",
}

// ServeHTTP answers GET (and HEAD) R/login: the page, or 303 onward for a
// browser that is already signed in, or straight to the only provider
// with Options.AutoRedirect.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p == nil || p.auth == nil {
		http.Error(w, "loginpage: the Page was not made by New", http.StatusInternalServerError)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	redirect := q.Get("redirect")
	if !p.auth.IsSafeRedirect(redirect) {
		redirect = p.opts.Redirect
	}
	methods := p.auth.LoginMethods()
	quiet := q.Get("error") == "" && q.Get("notice") == ""
	if s, err := p.auth.VerifyRequest(r); err == nil && s != nil && quiet {
		http.Redirect(w, r, redirect, http.StatusSeeOther)
		return
	}
	if p.opts.AutoRedirect && quiet && len(methods.Providers) == 1 && !methods.Password && !methods.Header {
		http.Redirect(w, r, p.startURL(methods.Providers[0].ID, redirect), http.StatusSeeOther)
		return
	}
	d := p.data(r, methods, redirect)
	var body bytes.Buffer
	if err := p.tmpl.Execute(&body, d); err != nil {
		http.Error(w, "the sign-in page could not be rendered", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", p.policy(d.Nonce))
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept-Language, Cookie")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Content-Length", strconv.Itoa(body.Len()))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body.Bytes())
}

// data fills the template's Data for a request.
func (p *Page) data(r *http.Request, m chatauth.LoginMethods, redirect string) *Data {
	q := r.URL.Query()
	lang := p.text.language(r.Header.Get("Accept-Language"))
	text := p.text.messages(lang)
	root := p.auth.RootPath()
	d := &Data{
		Lang: lang, Text: text, Nonce: newNonce(),
		Title: p.opts.Title, LogoURL: p.opts.LogoURL, Image: p.opts.Image, StylesheetURL: p.opts.StylesheetURL,
		Error: errorText(text, q.Get("error"), q.Get("retry_after")), Notice: noticeText(text, q.Get("notice")),
		Password: m.Password, Header: m.Header,
		LoginAction: root + "/login", HeaderAction: root + "/auth/header", Redirect: redirect,
		Style: p.style, Script: template.JS(pageJS),
	}
	if p.opts.Theme == "light" || p.opts.Theme == "dark" {
		d.Theme = p.opts.Theme
	}
	for _, pr := range m.Providers {
		d.Providers = append(d.Providers, Button{
			ID: pr.ID, Name: pr.Name, Label: strings.ReplaceAll(text["continue_with"], "{provider}", pr.Name),
			URL: p.startURL(pr.ID, redirect), Icon: providerIcon(pr.Preset),
		})
	}
	d.Client = ClientData{
		Text: map[string]string{}, LoginAction: d.LoginAction, HeaderAction: d.HeaderAction, Redirect: redirect,
		TryHeader:  m.Header && d.Error == "" && d.Notice == "",
		HeaderOnly: m.Header && !m.Password && len(m.Providers) == 0,
	}
	for _, k := range clientKeys {
		d.Client.Text[k] = text[k]
	}
	return d
}

// startURL is the route that starts an OAuth login with provider id. It
// always names the redirect, so that the callback lands on it rather than
// on Chainlit's R/login/callback, which an app need not have.
func (p *Page) startURL(id, redirect string) string {
	return p.auth.RootPath() + "/auth/oauth/" + url.PathEscape(id) + "?redirect=" +
		strings.ReplaceAll(url.QueryEscape(redirect), "%2F", "/")
}

// knownErrors are the ?error= codes the page puts into words.
var knownErrors = map[string]bool{
	"credentialssignin": true, "missing_field": true, "not_enabled": true, "too_large": true,
	"store_unavailable": true, "server_error": true, "access_denied": true, "missing_code": true,
	"missing_state": true, "invalid_state": true, "exchange_failed": true, "userinfo_failed": true,
	"invalid_id_token": true, chatauth.ErrorSessionExpired: true,
}

// maxWait bounds the wait a ?retry_after= may announce.
const maxWait = 24 * 60 * 60

// errorText is the message for ?error=code: a known code's own words, the
// generic words for any other, the wait for throttled. Nothing of the
// query is ever shown but a number of seconds the page re-renders.
func errorText(text map[string]string, code, retryAfter string) string {
	switch {
	case code == "":
		return ""
	case code == "throttled":
		n, err := strconv.Atoi(retryAfter)
		switch {
		case err != nil || n <= 0 || n > maxWait:
			return text["throttled"]
		case n < 120:
			return strings.ReplaceAll(text["throttled_seconds"], "{n}", strconv.Itoa(n))
		}
		return strings.ReplaceAll(text["throttled_minutes"], "{n}", strconv.Itoa((n+59)/60))
	case knownErrors[code]:
		return text[code]
	}
	return text["default"]
}

// noticeText is the message for ?notice=: only the two notices there are.
func noticeText(text map[string]string, notice string) string {
	switch notice {
	case chatauth.NoticeLoggedOut, chatauth.NoticeLoggedOutElsewhere:
		return text[notice]
	}
	return ""
}

// policy is the page's Content-Security-Policy: nothing inline but this
// response's nonce, no third-party requests except the images and
// stylesheet the app names, framing as chatauth's embedding settings say.
func (p *Page) policy(nonce string) string {
	n := "'nonce-" + nonce + "'"
	style := n
	if p.styleSources != "" {
		style += " " + p.styleSources
	}
	csp := "default-src 'none'; script-src " + n + "; style-src " + style + "; img-src " + p.imageSources +
		"; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors " + p.auth.FrameAncestors()
	if p.styleSources != "" {
		csp += "; font-src " + p.styleSources
	}
	return csp
}

// newNonce is a fresh 128-bit nonce.
func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	// URL-safe base64: "-" and "_" need no escaping in an HTML attribute.
	return base64.RawURLEncoding.EncodeToString(b)
}

// URL is the sign-in page's address for a browser sent there because it
// has no valid session: why is the session check's error
// (chatauth.ErrExpired adds ?error=session_expired, chatauth.ErrRevoked
// ?notice=logged_out_elsewhere), and redirect, when it is a safe path,
// where to come back after signing in.
func (p *Page) URL(why error, redirect string) string {
	if p == nil || p.auth == nil {
		return "/login"
	}
	q := url.Values{}
	switch {
	case errors.Is(why, chatauth.ErrExpired):
		q.Set("error", chatauth.ErrorSessionExpired)
	case errors.Is(why, chatauth.ErrRevoked):
		q.Set("notice", chatauth.NoticeLoggedOutElsewhere)
	}
	if redirect != p.opts.Redirect && p.auth.IsSafeRedirect(redirect) {
		q.Set("redirect", redirect)
	}
	u := p.auth.RootPath() + "/login"
	if len(q) > 0 {
		u += "?" + strings.ReplaceAll(q.Encode(), "%2F", "/")
	}
	return u
}

// RequireUser is chatauth's RequireUser for pages: a browser navigating
// without a valid session is sent to the sign-in page (with the reason
// and the way back, see URL) instead of getting the 401 JSON meant for
// scripts, which every other request still gets. Header login on every
// request (the header names given to OnProxyHeader or OnHeaderCredential)
// is tried first.
func (p *Page) RequireUser(next http.Handler) http.Handler {
	if p == nil || p.auth == nil {
		return p // answers that it was not made by New
	}
	if next == nil {
		next = http.NotFoundHandler()
	}
	api := p.auth.RequireUser(next)
	page := p.auth.WithUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if chatauth.UserFrom(r.Context()) != nil {
			next.ServeHTTP(w, r)
			return
		}
		_, why := p.auth.VerifyRequest(r)
		http.Redirect(w, r, p.URL(why, r.URL.RequestURI()), http.StatusSeeOther)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if navigating(r) {
			page.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// navigating reports whether r is a browser loading a page: a GET or HEAD
// that accepts HTML and is no WebSocket handshake.
func navigating(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		strings.Contains(r.Header.Get("Accept"), "text/html") &&
		!strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}
