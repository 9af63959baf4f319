package loginpage

import (
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/chatauth/chatauth"
)

// Options are the sign-in page's look and behaviour. The zero value is a
// plain page that follows the browser's light or dark setting.
type Options struct {
	// Title is the app's name, shown above the form and in the window
	// title ("Sign in · Acme chat"); Chainlit's [UI] name.
	Title string
	// LogoURL is an image shown above the form, also the page's icon: a
	// path on the app ("/static/logo.svg") or an http(s) URL.
	LogoURL string
	// Image is a picture beside the form on wide screens (Chainlit's
	// login_page_image): a path on the app or an http(s) URL.
	Image string
	// ImageFilter and ImageDarkFilter restyle Image in light and dark
	// mode (Chainlit's login_page_image_filter and
	// login_page_image_dark_filter): CSS filter functions
	// ("brightness(0.6) grayscale(1)") or the Tailwind classes Chainlit
	// takes ("brightness-50 grayscale", "brightness-[0.2]"). As in
	// Chainlit, ImageDarkFilter defaults to "brightness-[0.2] grayscale".
	ImageFilter, ImageDarkFilter string
	// Theme is "system" (the default: the browser's setting), "light" or
	// "dark"; Chainlit's default_theme.
	Theme string
	// StylesheetURL is a stylesheet loaded after the page's own, to restyle
	// it: a path on the app or an http(s) URL (allowed by the page's
	// Content-Security-Policy, with fonts and images from the same place).
	StylesheetURL string
	// Template, when set, renders the page instead of the built-in one:
	// it is executed with a *Data. The Content-Security-Policy allows only
	// scripts and styles that carry Data.Nonce.
	Template *template.Template
	// Messages adds languages or changes the page's words: language tag
	// ("it", "pt-PT", "fr") to message key to text. The keys are those of
	// messages/en.json; a new language takes English for the keys it
	// leaves out. "{provider}" and "{n}" are filled in where English has
	// them.
	Messages map[string]map[string]string
	// DefaultLanguage is the language for a browser that asks for none the
	// page has; default "en".
	DefaultLanguage string
	// AutoRedirect sends the browser straight to the provider when it is
	// the only way to sign in (one OAuth provider, no password or header
	// login), instead of showing its button; never after an error or a
	// logout. Off by default: people want to see where they are going
	// (Chainlit issue #1186).
	AutoRedirect bool
	// Redirect is where a sign-in ends when the page's address has no
	// ?redirect=: default the root path + "/". It must be a safe path
	// under the root path (chatauth.Auth.IsSafeRedirect).
	Redirect string
}

// Page serves the sign-in page of an *chatauth.Auth: GET R/login. It reads
// the login methods at each request, so hooks and providers may be added
// after it is made.
type Page struct {
	auth                       *chatauth.Auth
	opts                       Options
	tmpl                       *template.Template
	text                       *catalog
	style                      template.CSS
	imageSources, styleSources string
}

//go:embed page.html
var pageHTML string

//go:embed page.css
var pageCSS string

//go:embed page.js
var pageJS string

// New checks opts and returns the sign-in page of a, or an error naming
// every bad option at once.
func New(a *chatauth.Auth, opts Options) (*Page, error) {
	if a == nil {
		return nil, errors.New("loginpage: New needs a *chatauth.Auth")
	}
	p := &Page{auth: a, opts: opts, tmpl: opts.Template}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch opts.Theme {
	case "", "system", "light", "dark":
	default:
		bad("Theme %q must be system, light or dark", opts.Theme)
	}
	if p.opts.Redirect == "" {
		p.opts.Redirect = a.RootPath() + "/"
	} else if !a.IsSafeRedirect(p.opts.Redirect) {
		bad("Redirect %q is not a relative path under the root path %q", opts.Redirect, a.RootPath()+"/")
	}
	images := []string{"'self'", "data:"}
	for _, u := range []struct{ name, value string }{{"LogoURL", opts.LogoURL}, {"Image", opts.Image}} {
		src, err := source(u.value)
		if err != nil {
			bad("%s: %v", u.name, err)
		}
		images = appendSource(images, src)
	}
	styles := []string{}
	if opts.StylesheetURL != "" {
		src, err := source(opts.StylesheetURL)
		if err != nil {
			bad("StylesheetURL: %v", err)
		}
		styles = appendSource(styles, src)
		images = appendSource(images, src)
	}
	p.imageSources, p.styleSources = strings.Join(images, " "), strings.Join(styles, " ")
	style, err := imageStyle(opts)
	if err != nil {
		errs = append(errs, err)
	}
	p.style = template.CSS(pageCSS + style)
	if p.text, err = newCatalog(opts.Messages, opts.DefaultLanguage); err != nil {
		errs = append(errs, err)
	}
	if p.tmpl == nil {
		p.tmpl = template.Must(template.New("page.html").Parse(pageHTML))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("loginpage: bad options: %w", errors.Join(errs...))
	}
	return p, nil
}

// Must is New's page, and panics on New's error: for a program's start,
// as template.Must.
func Must(p *Page, err error) *Page {
	if err != nil {
		panic(err)
	}
	return p
}

// Mount registers the page on mux as GET R/login (HEAD too), next to
// the routes chatauth.Auth.Mount registers.
func (p *Page) Mount(mux *http.ServeMux) {
	if p == nil || p.auth == nil || mux == nil {
		return
	}
	mux.Handle("GET "+p.auth.RootPath()+"/login", p)
}

// source is the Content-Security-Policy source that lets the page load
// an address: 'self' for a path on the app, the origin for an http(s)
// URL, nothing for "".
func source(address string) (string, error) {
	if address == "" {
		return "", nil
	}
	u, err := url.Parse(address)
	switch {
	case err != nil || strings.ContainsAny(address, " \t\r\n;,'\"\\"):
		return "", fmt.Errorf("%q is not a URL", address)
	case strings.HasPrefix(address, "/") && !strings.HasPrefix(address, "//") && u.Host == "":
		return "'self'", nil
	case (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil:
		return u.Scheme + "://" + u.Host, nil
	}
	return "", fmt.Errorf("%q is neither a path on the app (/static/...) nor an http(s) URL", address)
}

func appendSource(list []string, src string) []string {
	for _, s := range list {
		if s == src {
			return list
		}
	}
	if src == "" {
		return list
	}
	return append(list, src)
}

// imageStyle is the CSS of the side image's filters, light and dark.
func imageStyle(opts Options) (string, error) {
	if opts.Image == "" {
		return "", nil
	}
	dark := opts.ImageDarkFilter
	if dark == "" {
		dark = "brightness-[0.2] grayscale"
	}
	light, err := cssFilter(opts.ImageFilter)
	if err != nil {
		return "", fmt.Errorf("ImageFilter: %w", err)
	}
	if dark, err = cssFilter(dark); err != nil {
		return "", fmt.Errorf("ImageDarkFilter: %w", err)
	}
	var css strings.Builder
	if light != "" {
		fmt.Fprintf(&css, ".side img{filter:%s}", light)
	}
	switch opts.Theme {
	case "dark":
		fmt.Fprintf(&css, ".side img{filter:%s}", dark)
	case "", "system":
		fmt.Fprintf(&css, "@media (prefers-color-scheme:dark){.side img{filter:%s}}", dark)
	}
	return css.String(), nil
}
