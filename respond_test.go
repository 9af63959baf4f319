package chatauth

import (
	"net/http"
	"strings"
	"testing"
)

// headerInjectionCases are CR/LF and header lines smuggled into values
// that reach a response.
func headerInjectionCases() []badCase {
	noInjection := func(t *testing.T, _ *badApp, resp *http.Response) {
		if loc := resp.Header.Get("Location"); loc != "" {
			t.Errorf("Location %q", loc)
		}
	}
	return []badCase{
		{name: "redirect_param", status: 400, detail: dBadRedir, reason: reasonBadRedirect, check: noInjection,
			req: fixed(func() *http.Request {
				return badGet("/auth/oauth/test?redirect=%2Fchat%0D%0ASet-Cookie%3A%20evil%3D1")
			})},
		{name: "redirect_param_lf_only", status: 400, detail: dBadRedir, reason: reasonBadRedirect, check: noInjection,
			req: fixed(func() *http.Request { return badGet("/auth/oauth/test?redirect=%2Fchat%0ALocation%3A%20evil") })},
		{name: "redirect_param_double_encoded", status: 302, reason: reasonOK,
			req: fixed(func() *http.Request {
				return badGet("/auth/oauth/test?redirect=%2Fchat%250D%250ASet-Cookie%3A%20evil%3D1")
			}),
			check: func(t *testing.T, app *badApp, resp *http.Response) {
				// Accepted as the literal path "/chat%0D%0ASet-Cookie: evil=1":
				// it stays percent-encoded, sealed in the state cookie.
				if !strings.HasPrefix(resp.Header.Get("Location"), "http://127.0.0.1:9/authorize?") {
					t.Errorf("Location %q", resp.Header.Get("Location"))
				}
				if c := cookieNamed(resp, "oauth_state"); c == nil || strings.Contains(c.Value, "evil") {
					t.Errorf("state cookie %v", c)
				}
			}},
		{name: "provider_id", status: 404, detail: "Provider te\r\nst not found", reason: reasonNotEnabled, check: noInjection,
			req: fixed(func() *http.Request { return badGet("/auth/oauth/te%0D%0Ast") })},
		{name: "provider_id_header_like", status: 404, detail: "Provider x\r\nSet-Cookie: evil=1 not found", reason: reasonNotEnabled,
			check: noInjection,
			req:   fixed(func() *http.Request { return badGet("/auth/oauth/x%0D%0ASet-Cookie:%20evil=1") })},
		{name: "provider_id_callback", status: 404, detail: "Provider te\r\nst not found", reason: reasonNotEnabled, check: noInjection,
			req: fixed(func() *http.Request { return badGet("/auth/oauth/te%0D%0Ast/callback?code=c&state=s") })},
		{name: "origin_header", status: 403, detail: dCrossOrig, reason: reasonCrossOrigin,
			cfg: Config{Origins: OriginsConfig{Embed: []string{"https://embed.example"}}},
			req: fixed(func() *http.Request {
				return withHeader(loginRequest("", "ada", badPassword), "Origin", "https://embed.example\r\nSet-Cookie: evil=1")
			}),
			check: func(t *testing.T, _ *badApp, resp *http.Response) {
				if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
					t.Errorf("Access-Control-Allow-Origin %q", v)
				}
			}},
		{name: "request_id_header", status: 401, detail: dCreds, reason: reasonCredentials,
			req: fixed(func() *http.Request {
				return withHeader(loginRequest("", "ada", "wrong"), "X-Request-Id", "id\r\nSet-Cookie: evil=1")
			}),
			check: func(t *testing.T, app *badApp, _ *http.Response) {
				if strings.Contains(app.logs.String(), "evil") {
					t.Errorf("request id echoed in the log:\n%s", app.logs)
				}
			}},
		{name: "login_username", status: 401, detail: dCreds, reason: reasonCredentials,
			check: hookGot("ada\r\nSet-Cookie: evil=1"),
			req:   fixed(func() *http.Request { return loginRequest("", "ada\r\nSet-Cookie: evil=1", "wrong") })},
	}
}

// TestNoHeaderInjection: CR, LF and header lines in a redirect target,
// provider id, Origin, request id or username never reach a response
// header.
func TestNoHeaderInjection(t *testing.T) { runBadCases(t, headerInjectionCases()) }
