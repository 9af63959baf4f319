package chatauth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The bad-input catalogue (issue 6): every malformed input below goes to
// the routes as Mount registers them, and gets an exact status, JSON detail
// and logged reason code; none gets a 5xx, a session, or a header that the
// input could have spelled. SECURITY.md lists the same cases.

// badPassword is the fixture password the password hook accepts for "ada".
const badPassword = "fixture-password"

// badApp is an Auth with every login method on and one OAuth provider
// ("test", never contacted), its routes mounted on a fresh ServeMux, and
// its hooks recording what they were given.
type badApp struct {
	a    *Auth
	mux  *http.ServeMux
	logs *syncBuffer
	clk  *testClock

	mu        sync.Mutex
	usernames []string      // what the password hook got, in order
	headers   []http.Header // what the header hook got, in order
}

func newBadApp(t *testing.T, cfg Config) *badApp {
	t.Helper()
	a, clk, logs := newTestAuth(t, cfg)
	app := &badApp{a: a, clk: clk, logs: logs, mux: http.NewServeMux()}
	a.OnPassword(func(_ context.Context, username, password string) (*User, error) {
		app.mu.Lock()
		app.usernames = append(app.usernames, username)
		app.mu.Unlock()
		if username == "ada" && password == badPassword {
			return &User{Identifier: "ada"}, nil
		}
		return nil, nil
	})
	a.OnHeaderCredential(func(_ context.Context, h http.Header) (*User, error) {
		app.mu.Lock()
		app.headers = append(app.headers, h)
		app.mu.Unlock()
		return nil, nil
	})
	a.OnOAuth(func(context.Context, OAuthLogin) (*User, error) { return nil, nil })
	err := a.AddProvider(context.Background(), &Provider{
		ID: "test", ClientID: "client", ClientSecret: "client-secret",
		AuthURL: "http://127.0.0.1:9/authorize", TokenURL: "http://127.0.0.1:9/token",
	})
	if err != nil {
		t.Fatal(err)
	}
	a.Mount(app.mux)
	return app
}

// hookUsernames returns what the password hook was given.
func (app *badApp) hookUsernames() []string {
	app.mu.Lock()
	defer app.mu.Unlock()
	return append([]string(nil), app.usernames...)
}

// hookHeaders returns what the header hook was given.
func (app *badApp) hookHeaders() []http.Header {
	app.mu.Lock()
	defer app.mu.Unlock()
	return append([]http.Header(nil), app.headers...)
}

// valid is a valid session token of "ada".
func (app *badApp) valid(t *testing.T) string { return issue(t, app.a, &User{Identifier: "ada"}) }

// claims are those of a valid token of "ada" at the app's clock.
func (app *badApp) claims() map[string]any {
	now := app.clk.Now()
	return map[string]any{
		"identifier": "ada", "display_name": nil, "metadata": map[string]any{},
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "bad-input-jti",
	}
}

// with returns the app's claims changed by f.
func (app *badApp) with(f func(c map[string]any)) map[string]any {
	c := app.claims()
	f(c)
	return c
}

var hs256 = map[string]any{"alg": "HS256", "typ": "JWT"}

// signSegments signs "head.payload" as given (however encoded) with
// HMAC-SHA256 under the test secret; the signature is encoded with enc.
func signSegments(enc *base64.Encoding, head, payload string) string {
	m := hmac.New(sha256.New, testSecret)
	m.Write([]byte(head + "." + payload))
	return head + "." + payload + "." + enc.EncodeToString(m.Sum(nil))
}

// segment is the JSON of v encoded with enc.
func segment(enc *base64.Encoding, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return enc.EncodeToString(b)
}

// Request builders.

func badGet(path string) *http.Request { return httptest.NewRequest(http.MethodGet, path, nil) }

func withCookie(req *http.Request, cookie string) *http.Request {
	req.Header.Set("Cookie", cookie)
	return req
}

func withHeader(req *http.Request, name, value string) *http.Request {
	req.Header[http.CanonicalHeaderKey(name)] = []string{value}
	return req
}

func badForm(contentType, body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	return req
}

const urlencoded = "application/x-www-form-urlencoded"

// multipartForm is POST /login with the fields as multipart/form-data.
func multipartForm(fields ...[2]string) *http.Request {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range fields {
		_ = mw.WriteField(f[0], f[1])
	}
	_ = mw.Close()
	return badForm(mw.FormDataContentType(), body.String())
}

// wsUpgrade is a WebSocket handshake to GET /user offering protocols.
func wsUpgrade(protocols string) *http.Request {
	req := badGet("/user")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Protocol", protocols)
	return req
}

// chunkCookies is a Cookie header of n chunk cookies access_token_0..n-1.
func chunkCookies(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "access_token_%d=v; ", i)
	}
	return strings.TrimSuffix(b.String(), "; ")
}

// Response details of the contract.
const (
	dSession    = "Invalid authentication token"
	dNoToken    = "Not authenticated"
	dOtherAuth  = "Invalid authentication credentials"
	dToken      = "Invalid token"
	dTooLarge   = "session token too large"
	dCreds      = "credentialssignin"
	dBodyLarge  = "http: request body too large"
	dNotUTF8    = "malformed form: not UTF-8"
	dBadBody    = "malformed form: cannot parse body"
	dBadFormat  = "Invalid authorization header format"
	dBadRedir   = "redirect must be a relative path under the root path"
	dCrossOrig  = "cross-origin request rejected"
	dNoAuthzHdr = "Authorization header missing"
)

// badCase is one malformed input and the exact answer it gets.
type badCase struct {
	name string
	cfg  Config
	// wire sends the request over a real loopback connection
	// (httptest.Server, net/http's default MaxHeaderBytes of 1 MiB).
	wire bool
	req  func(t *testing.T, app *badApp) *http.Request
	// status and detail: the JSON error {"detail": detail}; with 200 and
	// no detail, user is the identifier GET /user answers, or "" for
	// {"success": true}; a 302 has no body to check.
	status int
	detail string
	user   string
	// reason is the auth.reason logged; "" when no line is expected.
	reason string
	// rawBody, when set, is the start of a body that net/http itself
	// wrote (not JSON): the library never saw the request.
	rawBody string
	check   func(t *testing.T, app *badApp, resp *http.Response)
}

// badCases are the catalogue, by group.
func badCases() map[string][]badCase {
	userCookie := func(token func(t *testing.T, app *badApp) string) func(t *testing.T, app *badApp) *http.Request {
		return func(t *testing.T, app *badApp) *http.Request {
			req := badGet("/user")
			req.AddCookie(&http.Cookie{Name: "access_token", Value: token(t, app)})
			return req
		}
	}
	userBearer := func(token func(t *testing.T, app *badApp) string) func(t *testing.T, app *badApp) *http.Request {
		return func(t *testing.T, app *badApp) *http.Request {
			return withHeader(badGet("/user"), "Authorization", "Bearer "+token(t, app))
		}
	}
	jwtLoginWith := func(token func(t *testing.T, app *badApp) string) func(t *testing.T, app *badApp) *http.Request {
		return func(t *testing.T, app *badApp) *http.Request {
			return withHeader(httptest.NewRequest(http.MethodPost, "/auth/jwt", nil), "Authorization", "Bearer "+token(t, app))
		}
	}
	fixed := func(req func() *http.Request) func(*testing.T, *badApp) *http.Request {
		return func(*testing.T, *badApp) *http.Request { return req() }
	}
	hookNotCalled := func(t *testing.T, app *badApp, _ *http.Response) {
		if got := app.hookUsernames(); len(got) > 0 {
			t.Errorf("password hook called with %d usernames", len(got))
		}
	}
	hookGot := func(want string) func(t *testing.T, app *badApp, _ *http.Response) {
		return func(t *testing.T, app *badApp, _ *http.Response) {
			if got := app.hookUsernames(); len(got) != 1 || got[0] != want {
				t.Errorf("password hook got %+q, want exactly %+q", got, want)
			}
		}
	}

	// Tokens, each sent three ways: session cookie and Bearer on GET
	// /user, Bearer on POST /auth/jwt.
	type badToken struct {
		name        string
		token       func(t *testing.T, app *badApp) string
		reason      string
		status      int // 401 unless set
		userDetail  string
		loginDetail string
	}
	tokens := []badToken{
		{name: "truncated_signature", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			v := app.valid(t)
			return v[:len(v)-5]
		}},
		{name: "truncated_half", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			v := app.valid(t)
			return v[:len(v)/2]
		}},
		{name: "two_segments", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			v := app.valid(t)
			return v[:strings.LastIndexByte(v, '.')]
		}},
		{name: "base64_padding", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			// Correctly signed, but every segment padded with "=".
			c := app.claims()
			for pad := ""; ; pad += "x" {
				c["pad"] = pad
				if b, _ := json.Marshal(c); len(b)%3 != 0 {
					break
				}
			}
			tok := signSegments(base64.URLEncoding, segment(base64.URLEncoding, hs256), segment(base64.URLEncoding, c))
			if strings.Count(tok, "=") < 2 {
				t.Fatalf("token not padded: %s", tok)
			}
			return tok
		}},
		{name: "base64_std_alphabet", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			// Correctly signed, segments in the standard alphabet (+ and /).
			c := app.with(func(c map[string]any) { c["metadata"] = map[string]any{"q": "?????????~~~~~~~~~"} })
			payload := segment(base64.RawStdEncoding, c)
			if !strings.ContainsAny(payload, "+/") {
				t.Fatalf("payload has neither + nor /: %s", payload)
			}
			return signSegments(base64.RawStdEncoding, segment(base64.RawStdEncoding, hs256), payload)
		}},
		{name: "base64_invalid_chars", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			// Correctly signed over a payload segment with "!" and "*".
			p := segment(base64.RawURLEncoding, app.claims())
			return signSegments(base64.RawURLEncoding, segment(base64.RawURLEncoding, hs256), p[:10]+"!*"+p[10:])
		}},
		{name: "alg_none", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return signHMAC(t, testSecret, map[string]any{"alg": "none", "typ": "JWT"}, app.claims())
		}},
		{name: "alg_none_with_signature", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return rawToken(map[string]any{"alg": "none", "typ": "JWT"}, app.claims(), testSecret)
		}},
		{name: "alg_HS512_with_secret", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return signHMAC(t, testSecret, map[string]any{"alg": "HS512", "typ": "JWT"}, app.claims())
		}},
		{name: "alg_RS256_signed_with_secret", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return signHMAC(t, testSecret, map[string]any{"alg": "RS256", "typ": "JWT"}, app.claims())
		}},
		{name: "claims_100KB", reason: reasonTooLarge, status: http.StatusRequestHeaderFieldsTooLarge,
			userDetail: dTooLarge, loginDetail: dTooLarge, token: func(t *testing.T, app *badApp) string {
				// Correctly signed, 100 KB of metadata.
				// IssueToken refuses a token beyond the cookie budget.
				tok := rawToken(hs256, app.with(func(c map[string]any) {
					c["metadata"] = map[string]any{"blob": strings.Repeat("b", 100<<10)}
				}), testSecret)
				if len(tok) < 100<<10 {
					t.Fatalf("token of %d bytes", len(tok))
				}
				return tok
			}},
		{name: "exp_missing", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return rawToken(hs256, app.with(func(c map[string]any) { delete(c, "exp") }), testSecret)
		}},
		{name: "exp_past", reason: reasonExpired, token: func(t *testing.T, app *badApp) string {
			now := app.clk.Now()
			return rawToken(hs256, app.with(func(c map[string]any) {
				c["iat"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
			}), testSecret)
		}},
		{name: "exp_non_numeric", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return rawToken(hs256, app.with(func(c map[string]any) { c["exp"] = "tomorrow" }), testSecret)
		}},
		{name: "exp_null", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return rawToken(hs256, app.with(func(c map[string]any) { c["exp"] = nil }), testSecret)
		}},
		{name: "exp_1e300", reason: reasonExpired, token: func(t *testing.T, app *badApp) string {
			return rawToken(hs256, app.with(func(c map[string]any) { c["exp"] = 1e300 }), testSecret)
		}},
		{name: "kid_unknown", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return rawToken(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "no-such-kid"}, app.claims(), testSecret)
		}},
		{name: "kid_not_a_string", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return rawToken(map[string]any{"alg": "HS256", "typ": "JWT", "kid": 42}, app.claims(), testSecret)
		}},
		{name: "identifier_missing", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return rawToken(hs256, app.with(func(c map[string]any) { delete(c, "identifier") }), testSecret)
		}},
		{name: "other_secret", reason: reasonInvalidToken, token: func(t *testing.T, app *badApp) string {
			return rawToken(hs256, app.claims(), []byte("another-secret-of-at-least-32-bytes!"))
		}},
	}
	cases := map[string][]badCase{}
	for _, tk := range tokens {
		status, userDetail, loginDetail := tk.status, tk.userDetail, tk.loginDetail
		if status == 0 {
			status, userDetail, loginDetail = http.StatusUnauthorized, dSession, dToken
		}
		cases["token"] = append(cases["token"],
			badCase{name: tk.name + "/cookie", req: userCookie(tk.token), status: status, detail: userDetail, reason: tk.reason},
			badCase{name: tk.name + "/bearer", req: userBearer(tk.token), status: status, detail: userDetail, reason: tk.reason},
			badCase{name: tk.name + "/jwt_login", req: jwtLoginWith(tk.token), status: status, detail: loginDetail, reason: tk.reason},
		)
	}

	// Accepted, as PyJWT does (int("1741064827")): only a holder of the
	// secret can sign it.
	cases["token"] = append(cases["token"], badCase{name: "exp_numeric_string/cookie", status: 200, user: "ada", reason: reasonOK,
		req: userCookie(func(t *testing.T, app *badApp) string {
			return rawToken(hs256, app.with(func(c map[string]any) {
				c["exp"] = strconv.FormatInt(app.clk.Now().Add(time.Hour).Unix(), 10)
			}), testSecret)
		})})

	cases["cookie"] = []badCase{
		// Two different copies: a cookie planted beside the user's own
		// (issue 11, recipe 7); neither is used, every copy is deleted.
		{name: "duplicate_session_valid_first", status: 401, detail: dSession, reason: reasonAmbiguous,
			req: func(t *testing.T, app *badApp) *http.Request {
				return withCookie(badGet("/user"), "access_token="+app.valid(t)+"; access_token=garbage")
			}},
		{name: "duplicate_session_garbage_first", status: 401, detail: dSession, reason: reasonAmbiguous,
			req: func(t *testing.T, app *badApp) *http.Request {
				return withCookie(badGet("/user"), "access_token=garbage; access_token="+app.valid(t))
			}},
		{name: "session_valid_chunks_garbage", status: 200, user: "ada", reason: reasonOK,
			req: func(t *testing.T, app *badApp) *http.Request {
				return withCookie(badGet("/user"), "access_token_0=garb; access_token="+app.valid(t)+"; access_token_1=age")
			}},
		{name: "session_garbage_chunks_valid", status: 401, detail: dSession, reason: reasonInvalidToken,
			req: func(t *testing.T, app *badApp) *http.Request {
				v := app.valid(t)
				return withCookie(badGet("/user"), "access_token_0="+v[:100]+"; access_token=garbage; access_token_1="+v[100:])
			}},
		{name: "session_empty_chunks_valid", status: 200, user: "ada", reason: reasonOK,
			req: func(t *testing.T, app *badApp) *http.Request {
				v := app.valid(t)
				return withCookie(badGet("/user"), "access_token=; access_token_1="+v[100:]+"; access_token_0="+v[:100])
			}},
		{name: "chunks_with_gap", status: 401, detail: dSession, reason: reasonInvalidToken,
			req: func(t *testing.T, app *badApp) *http.Request {
				v := app.valid(t)
				return withCookie(badGet("/user"), "access_token_0="+v[:100]+"; access_token_2="+v[100:])
			}},
		{name: "duplicate_chunk", status: 401, detail: dSession, reason: reasonAmbiguous,
			req: func(t *testing.T, app *badApp) *http.Request {
				v := app.valid(t)
				return withCookie(badGet("/user"), "access_token_0=garbage; access_token_0="+v[:100]+"; access_token_1="+v[100:])
			}},
		{name: "chunks_10000/user", status: 431, detail: dTooLarge, reason: reasonTooLarge,
			req: fixed(func() *http.Request { return withCookie(badGet("/user"), chunkCookies(10000)) })},
		{name: "chunks_10000/logout", status: 200, reason: reasonOK,
			req: fixed(func() *http.Request {
				return withCookie(httptest.NewRequest(http.MethodPost, "/logout", nil), chunkCookies(10000))
			}),
			check: func(t *testing.T, _ *badApp, resp *http.Response) {
				// Chunks are found by chatauth's own reading of the Cookie
				// header, not net/http's Request.Cookies (which ignores more
				// than 3000 cookies): the session cookie and chunks 0..63
				// (cookiechunk's maxCleared) are cleared, no more.
				if n := len(resp.Cookies()); n != 1+64 {
					t.Errorf("%d Set-Cookie lines, want %d", n, 1+64)
				}
			}},
		{name: "chunks_2999/logout", status: 200, reason: reasonOK,
			req: fixed(func() *http.Request {
				return withCookie(httptest.NewRequest(http.MethodPost, "/logout", nil), chunkCookies(2999))
			}),
			check: func(t *testing.T, _ *badApp, resp *http.Response) {
				// The session cookie and chunks 0..63 (cookiechunk's
				// maxCleared) are cleared, no more.
				if n := len(resp.Cookies()); n != 1+64 {
					t.Errorf("%d Set-Cookie lines, want %d", n, 1+64)
				}
			}},
		{name: "chunks_10000_over_http/user", wire: true, status: 431, detail: dTooLarge, reason: reasonTooLarge,
			req: fixed(func() *http.Request { return withCookie(badGet("/user"), chunkCookies(10000)) })},
		{name: "chunks_10000_over_http/logout", wire: true, status: 200, reason: reasonOK,
			req: fixed(func() *http.Request {
				return withCookie(httptest.NewRequest(http.MethodPost, "/logout", nil), chunkCookies(10000))
			}),
			check: func(t *testing.T, _ *badApp, resp *http.Response) {
				if n := len(resp.Cookies()); n != 1+64 {
					t.Errorf("%d Set-Cookie lines, want %d", n, 1+64)
				}
			}},
		{name: "header_500KB_other_cookies_over_http", wire: true, status: 401, detail: dNoToken, reason: reasonNoSession,
			req: fixed(func() *http.Request {
				return withCookie(badGet("/user"), "junk="+strings.Repeat("j", 500<<10))
			})},
		{name: "session_cookie_500KB_over_http", wire: true, status: 431, detail: dTooLarge, reason: reasonTooLarge,
			req: fixed(func() *http.Request {
				return withCookie(badGet("/user"), "access_token="+strings.Repeat("a", 500<<10))
			})},
		{name: "header_over_1MiB_over_http", wire: true, status: 431, rawBody: "431 Request Header Fields Too Large",
			req: fixed(func() *http.Request {
				return withCookie(badGet("/user"), "junk="+strings.Repeat("j", 3<<19))
			})},
	}

	cases["utf8"] = []badCase{
		{name: "header_value_over_http", wire: true, status: 401, detail: dCreds, reason: reasonCredentials,
			req: fixed(func() *http.Request {
				return withHeader(httptest.NewRequest(http.MethodPost, "/auth/header", nil), "X-Forwarded-User", "\xff\xfeada\xc3")
			}),
			check: func(t *testing.T, app *badApp, _ *http.Response) {
				// The hook gets the bytes as sent: chatauth neither refuses
				// nor repairs them.
				if h := app.hookHeaders(); len(h) != 1 || h[0].Get("X-Forwarded-User") != "\xff\xfeada\xc3" {
					t.Errorf("header hook got %+q", h)
				}
			}},
		{name: "login_username_percent_encoded", status: 400, detail: dNotUTF8, reason: reasonMissingField, check: hookNotCalled,
			req: fixed(func() *http.Request { return badForm(urlencoded, "username=%FF%FEada&password=pw") })},
		{name: "login_username_raw_bytes", status: 400, detail: dNotUTF8, reason: reasonMissingField, check: hookNotCalled,
			req: fixed(func() *http.Request { return badForm(urlencoded, "username=ad\xe9&password=pw") })},
		{name: "login_password", status: 400, detail: dNotUTF8, reason: reasonMissingField, check: hookNotCalled,
			req: fixed(func() *http.Request { return badForm(urlencoded, "username=ada&password=%C3%28") })},
		{name: "login_overlong_encoding", status: 400, detail: dNotUTF8, reason: reasonMissingField, check: hookNotCalled,
			req: fixed(func() *http.Request { return badForm(urlencoded, "username=%C0%AFada&password=pw") })},
		{name: "login_surrogate", status: 400, detail: dNotUTF8, reason: reasonMissingField, check: hookNotCalled,
			req: fixed(func() *http.Request { return badForm(urlencoded, "username=%ED%A0%80&password=pw") })},
		{name: "login_multipart", status: 400, detail: dNotUTF8, reason: reasonMissingField, check: hookNotCalled,
			req: fixed(func() *http.Request {
				return multipartForm([2]string{"username", "\xffada"}, [2]string{"password", "pw"})
			})},
	}

	noInjection := func(t *testing.T, _ *badApp, resp *http.Response) {
		if loc := resp.Header.Get("Location"); loc != "" {
			t.Errorf("Location %q", loc)
		}
	}
	cases["crlf"] = []badCase{
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

	bigForm := func(n int) string {
		// A form body of exactly n bytes with username padded.
		prefix, suffix := "username=", "&password=wrong"
		return prefix + strings.Repeat("u", n-len(prefix)-len(suffix)) + suffix
	}
	manyFields := func(n int) string {
		return strings.Repeat("f=1&", n) + "username=ada&password=wrong"
	}
	cases["form"] = []badCase{
		{name: "body_at_bound_64KiB", status: 401, detail: dCreds, reason: reasonCredentials,
			req: fixed(func() *http.Request { return badForm(urlencoded, bigForm(maxBodyBytes)) }),
			check: func(t *testing.T, app *badApp, _ *http.Response) {
				if got := app.hookUsernames(); len(got) != 1 || len(got[0]) != maxBodyBytes-len("username=&password=wrong") {
					t.Errorf("password hook got %d usernames", len(got))
				}
			}},
		{name: "body_one_byte_over", status: 413, detail: dBodyLarge, reason: reasonTooLarge, check: hookNotCalled,
			req: fixed(func() *http.Request { return badForm(urlencoded, bigForm(maxBodyBytes+1)) })},
		{name: "username_1MB", status: 413, detail: dBodyLarge, reason: reasonTooLarge, check: hookNotCalled,
			req: fixed(func() *http.Request { return badForm(urlencoded, bigForm(1<<20)) })},
		{name: "username_1MB_over_http", wire: true, status: 413, detail: dBodyLarge, reason: reasonTooLarge, check: hookNotCalled,
			req: fixed(func() *http.Request { return badForm(urlencoded, bigForm(1<<20)) })},
		{name: "multipart_username_1MB", status: 413, detail: dBodyLarge, reason: reasonTooLarge, check: hookNotCalled,
			req: fixed(func() *http.Request {
				return multipartForm([2]string{"username", strings.Repeat("u", 1<<20)}, [2]string{"password", "pw"})
			})},
		{name: "multipart_file_part_1MB", status: 413, detail: dBodyLarge, reason: reasonTooLarge, check: hookNotCalled,
			req: fixed(func() *http.Request {
				var body bytes.Buffer
				mw := multipart.NewWriter(&body)
				fw, _ := mw.CreateFormFile("upload", "big.bin")
				_, _ = fw.Write(bytes.Repeat([]byte{0}, 1<<20))
				_ = mw.WriteField("username", "ada")
				_ = mw.WriteField("password", "pw")
				_ = mw.Close()
				return badForm(mw.FormDataContentType(), body.String())
			})},
		{name: "fields_10000", status: 401, detail: dCreds, reason: reasonCredentials, check: hookGot("ada"),
			req: fixed(func() *http.Request { return badForm(urlencoded, manyFields(9998)) })},
		{name: "fields_10001", status: 400, detail: dBadBody, reason: reasonMissingField, check: hookNotCalled,
			req: fixed(func() *http.Request { return badForm(urlencoded, manyFields(9999)) })},
		{name: "fields_in_query_10001", status: 400, detail: dBadBody, reason: reasonMissingField, check: hookNotCalled,
			req: fixed(func() *http.Request {
				req := badForm(urlencoded, "username=ada&password=wrong")
				req.URL.RawQuery = manyFields(9999)
				return req
			})},
		{name: "multipart_parts_1001", status: 400, detail: dBadBody, reason: reasonMissingField, check: hookNotCalled,
			req: fixed(func() *http.Request {
				// 1001 parts in 50 KB: mime/multipart allows 1000
				// (GODEBUG multipartmaxparts).
				part := func(name, value string) string {
					return "--B\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n"
				}
				body := strings.Repeat(part("f", ""), 999) + part("username", "ada") + part("password", "pw") + "--B--\r\n"
				return badForm("multipart/form-data; boundary=B", body)
			})},
		{name: "multipart_parts_1000", status: 401, detail: dCreds, reason: reasonCredentials, check: hookGot("ada"),
			req: fixed(func() *http.Request {
				part := func(name, value string) string {
					return "--B\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n"
				}
				body := strings.Repeat(part("f", ""), 998) + part("username", "ada") + part("password", "wrong") + "--B--\r\n"
				return badForm("multipart/form-data; boundary=B", body)
			})},
		{name: "duplicate_username_fields", status: 401, detail: dCreds, reason: reasonCredentials, check: hookGot("first"),
			req: fixed(func() *http.Request { return badForm(urlencoded, "username=first&username=ada&password="+badPassword) })},
		{name: "bad_percent_escape", status: 400, detail: dBadBody, reason: reasonMissingField, check: hookNotCalled,
			req: fixed(func() *http.Request { return badForm(urlencoded, "username=%zz&password=pw") })},
		{name: "semicolon_separator", status: 400, detail: dBadBody, reason: reasonMissingField, check: hookNotCalled,
			req: fixed(func() *http.Request { return badForm(urlencoded, "username=ada;password=pw") })},
		{name: "multipart_no_boundary", status: 400, detail: "malformed form: bad multipart body", reason: reasonMissingField,
			check: hookNotCalled,
			req:   fixed(func() *http.Request { return badForm("multipart/form-data", "x") })},
		{name: "multipart_truncated", status: 400, detail: dBadBody, reason: reasonMissingField, check: hookNotCalled,
			req: fixed(func() *http.Request {
				return badForm("multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nada")
			})},
		{name: "json_body", status: 400, detail: "missing field: username and password", reason: reasonMissingField,
			check: hookNotCalled,
			req: fixed(func() *http.Request {
				return badForm("application/json", `{"username":"ada","password":"`+badPassword+`"}`)
			})},
	}

	cases["json"] = []badCase{
		{name: "jwt_login_body_1MB", status: 401, detail: dNoAuthzHdr, reason: reasonNoHeader,
			req: fixed(func() *http.Request {
				req := httptest.NewRequest(http.MethodPost, "/auth/jwt", strings.NewReader(`{"token":"`+strings.Repeat("t", 1<<20)+`"}`))
				req.Header.Set("Content-Type", "application/json")
				return req
			})},
		{name: "jwt_login_body_malformed", status: 401, detail: dNoAuthzHdr, reason: reasonNoHeader,
			req: fixed(func() *http.Request {
				req := httptest.NewRequest(http.MethodPost, "/auth/jwt", strings.NewReader(`{"token":`))
				req.Header.Set("Content-Type", "application/json")
				return req
			})},
		{name: "jwt_login_token_in_body", status: 401, detail: dNoAuthzHdr, reason: reasonNoHeader,
			req: func(t *testing.T, app *badApp) *http.Request {
				req := httptest.NewRequest(http.MethodPost, "/auth/jwt", strings.NewReader(`{"token":"`+app.valid(t)+`"}`))
				req.Header.Set("Content-Type", "application/json")
				return req
			}},
		{name: "header_login_body_1MB", status: 401, detail: dCreds, reason: reasonCredentials,
			req: fixed(func() *http.Request {
				return httptest.NewRequest(http.MethodPost, "/auth/header", strings.NewReader(strings.Repeat("{", 1<<20)))
			})},
		{name: "logout_body_1MB", status: 200, reason: reasonOK,
			req: fixed(func() *http.Request {
				return httptest.NewRequest(http.MethodPost, "/logout", strings.NewReader(strings.Repeat("[", 1<<20)))
			})},
	}

	lookalike := func(name, username string) badCase {
		return badCase{name: name, status: 401, detail: dCreds, reason: reasonCredentials, check: hookGot(username),
			req: fixed(func() *http.Request { return loginRequest("", username, badPassword) })}
	}
	cases["unicode"] = []badCase{
		lookalike("cyrillic_a", "\u0430dmin"),
		lookalike("fullwidth", "\uff41\uff44\uff4d\uff49\uff4e"),
		lookalike("nfc_e_acute", "andr\u00e9"),
		lookalike("nfd_e_acute", "andre\u0301"),
		lookalike("zero_width_joiner", "ad\u200dmin"),
		lookalike("zero_width_space", "\u200badmin"),
		lookalike("trailing_space", "admin "),
		lookalike("nbsp", "admin\u00a0"),
		lookalike("right_to_left_override", "\u202eadmin"),
		// The hook gets "ada " unmodified, and does not match it to "ada".
		lookalike("trailing_space_real_user", "ada "),
	}

	cases["authorization"] = []badCase{
		{name: "oversized/user", status: 431, detail: dTooLarge, reason: reasonTooLarge,
			req: fixed(func() *http.Request {
				return withHeader(badGet("/user"), "Authorization", "Bearer "+strings.Repeat("a", 100<<10))
			})},
		{name: "oversized/jwt_login", status: 431, detail: dTooLarge, reason: reasonTooLarge,
			req: fixed(func() *http.Request {
				return withHeader(httptest.NewRequest(http.MethodPost, "/auth/jwt", nil), "Authorization", "Bearer "+strings.Repeat("a", 100<<10))
			})},
		{name: "oversized_over_http", wire: true, status: 431, rawBody: "431 Request Header Fields Too Large",
			req: fixed(func() *http.Request {
				return withHeader(badGet("/user"), "Authorization", "Bearer "+strings.Repeat("a", 2<<20))
			})},
		{name: "bearer_no_token/user", status: 401, detail: dSession, reason: reasonBadFormat,
			req: fixed(func() *http.Request { return withHeader(badGet("/user"), "Authorization", "Bearer") })},
		{name: "bearer_no_token/jwt_login", status: 401, detail: dBadFormat, reason: reasonBadFormat,
			req: fixed(func() *http.Request {
				return withHeader(httptest.NewRequest(http.MethodPost, "/auth/jwt", nil), "Authorization", "Bearer")
			})},
		{name: "bearer_only_spaces/jwt_login", status: 401, detail: dBadFormat, reason: reasonBadFormat,
			req: fixed(func() *http.Request {
				return withHeader(httptest.NewRequest(http.MethodPost, "/auth/jwt", nil), "Authorization", "Bearer    ")
			})},
		{name: "bearer_two_words/user", status: 401, detail: dSession, reason: reasonBadFormat,
			req: func(t *testing.T, app *badApp) *http.Request {
				return withHeader(badGet("/user"), "Authorization", "Bearer "+app.valid(t)+" extra")
			}},
		{name: "bearer_two_words/jwt_login", status: 401, detail: dBadFormat, reason: reasonBadFormat,
			req: func(t *testing.T, app *badApp) *http.Request {
				return withHeader(httptest.NewRequest(http.MethodPost, "/auth/jwt", nil), "Authorization", "Bearer "+app.valid(t)+" extra")
			}},
		{name: "bearer_comma_list/jwt_login", status: 401, detail: dBadFormat, reason: reasonBadFormat,
			req: func(t *testing.T, app *badApp) *http.Request {
				return withHeader(httptest.NewRequest(http.MethodPost, "/auth/jwt", nil), "Authorization", "Bearer "+app.valid(t)+", Bearer x")
			}},
		{name: "bearer_comma_in_token/jwt_login", status: 401, detail: dToken, reason: reasonInvalidToken,
			req: func(t *testing.T, app *badApp) *http.Request {
				return withHeader(httptest.NewRequest(http.MethodPost, "/auth/jwt", nil), "Authorization", "Bearer "+app.valid(t)+",x")
			}},
		{name: "bearer_extra_spaces/user", status: 200, user: "ada", reason: reasonOK,
			req: func(t *testing.T, app *badApp) *http.Request {
				return withHeader(badGet("/user"), "Authorization", "  bEaReR \t "+app.valid(t)+"  ")
			}},
		{name: "basic_scheme/user", status: 401, detail: dOtherAuth, reason: reasonBadScheme,
			req: fixed(func() *http.Request { return withHeader(badGet("/user"), "Authorization", "Basic YWRhOnB3") })},
		{name: "basic_scheme/jwt_login", status: 401, detail: "Invalid authentication scheme. Please use Bearer", reason: reasonBadScheme,
			req: fixed(func() *http.Request {
				return withHeader(httptest.NewRequest(http.MethodPost, "/auth/jwt", nil), "Authorization", "Basic YWRhOnB3")
			})},
		{name: "websocket_bearer_garbage", status: 401, detail: dSession, reason: reasonInvalidToken,
			req: fixed(func() *http.Request { return wsUpgrade("chat, bearer.garbage") })},
		{name: "websocket_bearer_empty", status: 401, detail: dNoToken, reason: reasonNoSession,
			req: fixed(func() *http.Request { return wsUpgrade("chat, bearer.") })},
		{name: "websocket_bearer_with_space", status: 401, detail: dSession, reason: reasonInvalidToken,
			req: func(t *testing.T, app *badApp) *http.Request { return wsUpgrade("bearer." + app.valid(t)[:20] + " x") }},
		{name: "websocket_bearer_100KB", status: 431, detail: dTooLarge, reason: reasonTooLarge,
			req: fixed(func() *http.Request { return wsUpgrade("chat, bearer." + strings.Repeat("a", 100<<10)) })},
		{name: "websocket_bearer_wrong_case", status: 401, detail: dNoToken, reason: reasonNoSession,
			req: func(t *testing.T, app *badApp) *http.Request { return wsUpgrade("Bearer." + app.valid(t)) }},
		{name: "websocket_ignores_authorization", status: 401, detail: dNoToken, reason: reasonNoSession,
			req: func(t *testing.T, app *badApp) *http.Request {
				return withHeader(wsUpgrade("chat"), "Authorization", "Bearer "+app.valid(t))
			}},
	}
	return cases
}

// TestBadInput sends every malformed input of the catalogue to the mounted
// routes and checks the exact answer, that nothing 5xx's, that no session
// is issued, and that no response header carries a CR, an LF or "evil".
func TestBadInput(t *testing.T) {
	for group, cases := range badCases() {
		t.Run(group, func(t *testing.T) {
			t.Parallel()
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					app := newBadApp(t, tc.cfg)
					req := tc.req(t, app)
					resp := sendBad(t, app, req, tc.wire)
					checkBad(t, app, tc, resp)
				})
			}
		})
	}
	t.Run("unicode/throttle", testLookalikeThrottle)
	t.Run("form/multipart_over_bound_every_offset", testMultipartBound)
	t.Run("token/forged_headers_concurrent", testForgedHeadersConcurrent)
}

// testForgedHeadersConcurrent: tokens with distinct forged headers, sent
// at once to one Auth, are each refused; under -race this also checks the
// fast path's cache of headers.
func testForgedHeadersConcurrent(t *testing.T) {
	app := newBadApp(t, Config{})
	const workers, each = 4, 40
	errs := make(chan string, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				head := map[string]any{"alg": "HS256", "typ": "JWT", "kid": fmt.Sprintf("forged-%d-%d", w, i)}
				req := badGet("/user")
				req.AddCookie(&http.Cookie{Name: "access_token", Value: rawToken(head, app.claims(), testSecret)})
				rec := httptest.NewRecorder()
				app.mux.ServeHTTP(rec, req)
				if body := strings.TrimSpace(rec.Body.String()); rec.Code != 401 || body != `{"detail":"`+dSession+`"}` {
					errs <- fmt.Sprintf("%d %s", rec.Code, body)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("forged header: %s", e)
	}
}

// testMultipartBound: a multipart body that ends anywhere around the 64 KiB
// bound, inside a part's value, boundary or headers, gets the hook's answer
// when it fits and 413 "http: request body too large" when it does not,
// never 400 "malformed form" nor a wrapped detail.
func testMultipartBound(t *testing.T) {
	app := newBadApp(t, Config{Login: LoginConfig{Limits: PasswordLimits{PerUsername: 1 << 20, PerAddress: 1 << 20}}})
	part := func(name, value string) string {
		return "--B\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n"
	}
	tail := part("username", "ada") + part("password", "wrong") + "--B--\r\n"
	head := len(part("pad", ""))
	for n := maxBodyBytes - len(tail) - head - 200; n < maxBodyBytes-head+50; n++ {
		body := part("pad", strings.Repeat("p", n)) + tail
		resp := sendBad(t, app, badForm("multipart/form-data; boundary=B", body), false)
		if len(body) <= maxBodyBytes {
			wantError(t, resp, 401, dCreds)
		} else {
			wantError(t, resp, 413, dBodyLarge)
		}
		if t.Failed() {
			t.Fatalf("body of %d bytes", len(body))
		}
	}
}

// sendBad runs req through the app's mux, in process or over loopback.
func sendBad(t *testing.T, app *badApp, req *http.Request, wire bool) *http.Response {
	t.Helper()
	if !wire {
		rec := httptest.NewRecorder()
		app.mux.ServeHTTP(rec, req)
		return rec.Result()
	}
	srv := httptest.NewServer(app.mux)
	t.Cleanup(srv.Close)
	out, err := http.NewRequest(req.Method, srv.URL+req.URL.RequestURI(), req.Body)
	if err != nil {
		t.Fatal(err)
	}
	out.Header = req.Header.Clone()
	resp, err := srv.Client().Do(out)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}

// checkBad checks resp against the case's expectations and the rules every
// answer to bad input follows.
func checkBad(t *testing.T, app *badApp, tc badCase, resp *http.Response) {
	t.Helper()
	body := readBody(t, resp)
	if resp.StatusCode >= 500 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	switch {
	case tc.rawBody != "":
		if resp.StatusCode != tc.status || !strings.HasPrefix(body, tc.rawBody) {
			t.Errorf("answer %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.rawBody)
		}
	case tc.detail != "":
		wantError(t, resp, tc.status, tc.detail)
	case tc.status == http.StatusOK && tc.user != "":
		if resp.StatusCode != 200 {
			t.Fatalf("status %d, want 200: %s", resp.StatusCode, body)
		}
		var u User
		if err := json.Unmarshal([]byte(body), &u); err != nil || u.Identifier != tc.user {
			t.Errorf("body %s, want the user %q", body, tc.user)
		}
	case tc.status == http.StatusOK:
		wantSuccess(t, resp)
	default:
		if resp.StatusCode != tc.status {
			t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
		}
	}
	logs := app.logs.String()
	if tc.reason != "" && !strings.Contains(logs, "auth.reason="+tc.reason+" ") {
		t.Errorf("reason %s not logged:\n%.2000s", tc.reason, logs)
	}
	if tc.reason == "" && strings.Contains(logs, "auth.reason=") {
		t.Errorf("the library logged a decision for a request it should never see:\n%.2000s", logs)
	}
	for _, c := range resp.Cookies() {
		if name, ok := strings.CutPrefix(c.Name, "access_token"); ok && c.MaxAge >= 0 && c.Value != "" {
			if _, err := strconv.Atoi(strings.TrimPrefix(name, "_")); name == "" || err == nil {
				t.Errorf("session issued: Set-Cookie %s", c.Name)
			}
		}
	}
	for name, values := range resp.Header {
		for _, v := range values {
			if strings.ContainsAny(name+v, "\r\n") || strings.Contains(strings.ToLower(name+v), "evil") {
				t.Errorf("header %s: %q", name, v)
			}
		}
	}
	if tc.check != nil {
		tc.check(t, app, resp)
	}
}

// testLookalikeThrottle: failures against "admin" from many addresses use
// up its per-username budget; a look-alike of "admin" that an app's own
// normalisation (TrimSpace, ToLower, NFKC) would turn into "admin" shares
// that budget, and every other look-alike is a different account, bounded
// by the per-address budget.
func testLookalikeThrottle(t *testing.T) {
	cfg := Config{Login: LoginConfig{Limits: PasswordLimits{PerUsername: 3, PerAddress: 5, Window: time.Hour}}}
	for _, tt := range []struct {
		name, username string
		throttled      bool
	}{
		{"same", "admin", true},
		{"upper_case", "ADMIN", true},
		{"fullwidth", "\uff41\uff44\uff4d\uff49\uff4e", true},
		{"fullwidth_upper", "\uff21\uff24\uff2d\uff29\uff2e", true},
		{"trailing_space", "admin ", true},
		{"leading_tab", "\tadmin", true},
		{"nbsp", "admin\u00a0", true},
		{"ideographic_space", "\u3000admin", true},
		{"zero_width_joiner", "ad\u200dmin", true},
		{"zero_width_space", "\u200badmin", true},
		{"byte_order_mark", "\ufeffadmin", true},
		{"soft_hyphen", "ad\u00admin", true},
		{"right_to_left_override", "\u202eadmin", true},
		// Not folded: no app maps these to "admin" without a confusables
		// table; the per-address budget bounds them.
		{"cyrillic_a", "\u0430dmin", false},
		{"interior_space", "ad min", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := newBadApp(t, cfg)
			for i := range cfg.Login.Limits.PerUsername {
				req := loginRequest("", "admin", "wrong")
				req.RemoteAddr = fmt.Sprintf("192.0.2.%d:1234", i+1)
				wantError(t, sendBad(t, app, req, false), 401, dCreds)
			}
			req := loginRequest("", tt.username, "wrong")
			req.RemoteAddr = "198.51.100.7:1234"
			resp := sendBad(t, app, req, false)
			if tt.throttled {
				wantError(t, resp, 429, "too many login attempts, try again later")
				if got := app.hookUsernames(); len(got) != cfg.Login.Limits.PerUsername {
					t.Errorf("hook called %d times", len(got))
				}
			} else {
				wantError(t, resp, 401, dCreds)
			}
		})
	}
	t.Run("address_bounds_lookalikes", func(t *testing.T) {
		app := newBadApp(t, cfg)
		variants := []string{"\u0430dmin", "adm\u0456n", "\u0430dm\u0456n", "ad min", "a dmin"}
		for _, u := range variants {
			req := loginRequest("", u, "wrong")
			req.RemoteAddr = "203.0.113.9:1"
			wantError(t, sendBad(t, app, req, false), 401, dCreds)
		}
		req := loginRequest("", "\u0430\u0501min", "wrong")
		req.RemoteAddr = "203.0.113.9:2"
		wantError(t, sendBad(t, app, req, false), 429, "too many login attempts, try again later")
		if got := app.hookUsernames(); len(got) != len(variants) {
			t.Errorf("hook called %d times, want %d", len(got), len(variants))
		}
	})
}
