// Package loginpage is the sign-in page Chainlit gives its apps, for an app
// on chatauth: GET R/login, rendered from what the *chatauth.Auth has
// configured. Three lines add it to an app:
//
//	page := loginpage.Must(loginpage.New(a, loginpage.Options{Title: "Acme chat"}))
//	page.Mount(mux)                                    // GET R/login
//	mux.Handle("GET /{$}", page.RequireUser(chatPage)) // no session: to the sign-in page
//
// # What it shows
//
// The password form when a password hook is registered (autocomplete
// "username" and "current-password", so password managers fill it); one
// button per OAuth provider, in the order they were added, with the
// provider's name and an icon for the twelve presets of package providers (a neutral
// one for others); with a header hook, a "Continue with single sign-on"
// button, pressed at once by the page's script, so that behind an
// authenticating proxy the page just passes through. With a single
// provider and nothing else, a button: Options.AutoRedirect goes straight
// to the provider instead. A browser that already has a session is sent on.
//
// Every ?error= code chatauth produces, and ?notice=logged_out and
// ?notice=logged_out_elsewhere, is put into words in English, French,
// German, Spanish, Brazilian Portuguese, Japanese or Simplified Chinese,
// chosen from Accept-Language (q-values honoured, "pt-PT" gets "pt-BR");
// Options.Messages adds languages or changes words. An unknown code gets a
// generic message: the page never shows text from the request.
//
// # Without JavaScript
//
// The forms are plain HTML forms: chatauth answers a browser's form post
// to R/login or R/auth/header with 303 to the page the sign-in was for
// (the form's redirect field, a safe path under the root), or back to
// R/login?error=<code> (throttled with retry_after). The script only
// improves it: errors in place without a reload, header login at once.
// Scripts and Chainlit's client posting with fetch get the JSON of
// Chainlit's contract, as always.
//
// # Safe by construction
//
// Every response carries a Content-Security-Policy with a fresh nonce and
// no 'unsafe-inline': default-src 'none', scripts and styles by nonce
// only, images from the app and the addresses in Options, connect-src and
// form-action 'self', frame-ancestors from chatauth's embedding settings
// (Auth.FrameAncestors). The page makes no third-party request; without
// the app's images it weighs under 30 KB.
//
// # Look
//
// Options take Chainlit's knobs: Title, LogoURL, the side Image with its
// light and dark filters (Chainlit's Tailwind classes or CSS filters),
// Theme (light, dark, or the browser's), a StylesheetURL loaded after the
// page's own styles, and, for full control, a Template executed with
// *Data.
//
// # For tests
//
// The built-in page keeps these for browser tests: the form #login-form
// with #username, #password and #login-submit; #login-error (role alert)
// and #login-status (role status); #header-form with #header-login; the
// links .oauth-button with data-provider; and body[data-ready="true"] once
// the script has set up (after header login, when on, was refused).
package loginpage
