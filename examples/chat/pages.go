package main

import (
	"embed"
	"fmt"
	"hash/fnv"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/chatauth/chatauth"
)

//go:embed web
var webFS embed.FS

// pages holds the parsed templates and the static file server.
type pages struct {
	chat, callback *template.Template
	static         http.Handler
}

func loadPages() (*pages, error) {
	parse := func(name string) (*template.Template, error) {
		return template.ParseFS(webFS, "web/layout.html", "web/"+name)
	}
	p := &pages{}
	var err error
	if p.chat, err = parse("chat.html"); err != nil {
		return nil, err
	}
	if p.callback, err = parse("callback.html"); err != nil {
		return nil, err
	}
	static, err := fs.Sub(webFS, "web/static")
	if err != nil {
		return nil, err
	}
	p.static = noCache(http.FileServerFS(static))
	return p, nil
}

// noCache makes browsers revalidate the (unversioned) static files, so a
// rebuilt demo is picked up on reload.
func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy allows the page's own scripts and styles only, and
// avatars from anywhere over https.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' https: data:; " +
	"script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// render writes a page.
func (s *server) render(w http.ResponseWriter, t *template.Template, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	if err := t.ExecuteTemplate(w, "page", data); err != nil {
		s.log.Error("chat: rendering page", "error", err)
	}
}

// pageData is what every page needs.
type pageData struct {
	Root  string
	Title string
}

// serveCallbackPage is the landing page after an OAuth login
// (R/login/callback?success=True): it sends the browser on to the chat.
func (s *server) serveCallbackPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, s.pages.callback, pageData{Root: s.root, Title: "Signed in"})
}

// chatData fills chat.html.
type chatData struct {
	pageData
	Name        string
	Identifier  string
	Initials    string
	AvatarURL   string
	AvatarColor int
}

// serveChatPage shows the chat; RequireUser has checked the session.
func (s *server) serveChatPage(w http.ResponseWriter, r *http.Request) {
	u := chatauth.UserFrom(r.Context())
	name := displayName(u)
	s.render(w, s.pages.chat, chatData{
		pageData:    pageData{Root: s.root, Title: "Chat"},
		Name:        name,
		Identifier:  u.Identifier,
		Initials:    initials(name),
		AvatarURL:   avatarURL(u),
		AvatarColor: avatarColor(u.Identifier),
	})
}

// displayName is what the UI calls the user.
func displayName(u *chatauth.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Identifier
}

// initials are up to two letters for the avatar: "Ada Lovelace" → "AL",
// "alice@example.com" → "A".
func initials(name string) string {
	name, _, _ = strings.Cut(name, "@")
	var out []rune
	for _, word := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		out = append(out, unicode.ToUpper([]rune(word)[0]))
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// avatarURL is metadata["image"] (what chatauth's OAuth providers fill)
// when it is an http(s) URL.
func avatarURL(u *chatauth.User) string {
	img, _ := u.Metadata["image"].(string)
	p, err := url.Parse(img)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return ""
	}
	return img
}

// avatarColors is the number of avatar background classes in style.css.
const avatarColors = 8

// avatarColor picks a stable background for a user's initials.
func avatarColor(identifier string) int {
	h := fnv.New32a()
	_, _ = io.WriteString(h, identifier)
	return int(h.Sum32() % avatarColors)
}

// printWelcome tells the person who started the demo how to log in.
func (s *server) printWelcome(w io.Writer, baseURL string) {
	var b strings.Builder
	fmt.Fprintf(&b, "\nchatauth demo chat is running.\n\n  Open      %s/login\n", baseURL)
	if p := s.users.generatedPassword; p != "" {
		fmt.Fprintf(&b, "  Username  %s\n  Password  %s\n\n", demoUsername, p)
		b.WriteString("  (set CHATAUTH_DEMO_USERS=\"alice:pw1,bob:pw2\" to choose your own users)\n")
	} else {
		fmt.Fprintf(&b, "  Users     %s (passwords from CHATAUTH_DEMO_USERS)\n", strings.Join(s.users.names, ", "))
	}
	if s.headerUser != "" && s.proxiesByDefault {
		fmt.Fprintf(&b, "  Header login: %s from a proxy on this machine (%s) only; set CHATAUTH_TRUSTED_PROXIES to yours (see examples/proxy)\n",
			s.headerUser, strings.Join(s.trustedProxies, ", "))
	} else if s.headerUser != "" {
		fmt.Fprintf(&b, "  Header login: %s from trusted proxies %s only (see examples/proxy)\n",
			s.headerUser, strings.Join(s.trustedProxies, ", "))
	}
	if s.apiKeys != nil {
		fmt.Fprintf(&b, "  API keys  %s, from any address: curl -H '%s: <key>' %s/user\n",
			strings.Join(s.apiKeys.names, ", "), apiKeyHeader, baseURL)
	}
	if s.secretGenerated {
		b.WriteString("  No CHAINLIT_AUTH_SECRET set: sessions end when this process exits.\n")
	} else if s.stateDir != "" {
		fmt.Fprintf(&b, "  Logouts survive restarts: kept in %s (CHATAUTH_STATE_DIR)\n", s.stateDir)
	}
	b.WriteString("\n  Stop with Ctrl-C.\n\n")
	_, _ = io.WriteString(w, b.String())
}
