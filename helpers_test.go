package chatauth

// The helpers of package chatauth's own tests: one Auth constructor
// (newTestAuth) and the requests and checks most tests share. Helpers that
// need no Auth are in internal/testutil, shared with the other packages.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatauth/chatauth/internal/testutil"
)

// testSecret is a valid signing secret (32 bytes or more).
var testSecret = []byte("chatauth-test-secret-0123456789abcdef")

// testClock and syncBuffer are the shared test clock and log buffer
// (internal/testutil), under the names this package's tests use.
type (
	testClock  = testutil.Clock
	syncBuffer = testutil.LogBuffer
)

// newTestAuth makes an Auth from cfg (Secret defaulting to testSecret) that
// logs at debug level into the returned buffer and runs on the returned
// clock, together with its in-memory stores.
func newTestAuth(t *testing.T, cfg Config) (*Auth, *testClock, *syncBuffer) {
	t.Helper()
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	logs := &syncBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// Every Auth here keeps revocations in memory and warns so at
	// start-up: tests read the lines of their own requests.
	logs.DropLines("auth.reason=" + reasonMemoryOnly)
	clk := testutil.NewClock(time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC))
	a.now = clk.Now
	if s, ok := a.cfg.Revocations.(*memoryRevocationStore); ok {
		s.now = clk.Now
	}
	if th, ok := a.cfg.Throttle.(*memoryThrottle); ok {
		th.now = clk.Now
	}
	return a, clk, logs
}

// serve runs req through h and returns the response.
func serve(t *testing.T, h http.Handler, req *http.Request) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return string(b)
}

// wantError checks an error answer: status, JSON content type and
// {"detail": detail}.
func wantError(t *testing.T, resp *http.Response, status int, detail string) {
	t.Helper()
	body := readBody(t, resp)
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("body %q is not JSON: %v", body, err)
	}
	if len(got) != 1 || got["detail"] != detail {
		t.Errorf("body = %s, want {\"detail\": %q}", body, detail)
	}
}

// wantSuccess checks a 200 {"success": true} answer.
func wantSuccess(t *testing.T, resp *http.Response) {
	t.Helper()
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200 (body %s)", resp.StatusCode, body)
	}
	if strings.TrimSpace(body) != `{"success":true}` {
		t.Errorf("body = %s, want {\"success\":true}", body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
}

// loginRequest is a same-origin POST /login with an urlencoded form.
func loginRequest(root, username, password string) *http.Request {
	form := url.Values{}
	if username != "" {
		form.Set("username", username)
	}
	if password != "" {
		form.Set("password", password)
	}
	req := httptest.NewRequest(http.MethodPost, root+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// addCookies adds the cookies of resp that are set (not deleted) to req.
func addCookies(req *http.Request, resp *http.Response) *http.Request {
	for _, c := range resp.Cookies() {
		if c.MaxAge >= 0 {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return req
}

// cookieNamed returns the cookie called name set by resp, or nil.
func cookieNamed(resp *http.Response, name string) *http.Cookie {
	return testutil.Cookie(resp.Cookies(), name)
}

// issue signs a session token for u.
func issue(t *testing.T, a *Auth, u *User) string {
	t.Helper()
	token, _, err := a.IssueToken(u)
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	return token
}

// userRequest is GET R/user carrying token as the session cookie.
func userRequest(a *Auth, token string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, a.RootPath()+"/user", nil)
	if token != "" {
		req.AddCookie(&http.Cookie{Name: a.CookieName(), Value: token})
	}
	return req
}

// userOf returns the identifier GET R/user answers for req, failing the
// test on anything but 200 with a user.
func userOf(t *testing.T, a *Auth, req *http.Request) string {
	t.Helper()
	resp := serve(t, a, req)
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /user: status %d, body %s", resp.StatusCode, body)
	}
	var u User
	if err := json.Unmarshal([]byte(body), &u); err != nil {
		t.Fatalf("GET /user: %v in %s", err, body)
	}
	return u.Identifier
}

func acceptUser(u *User) PasswordFunc {
	return func(context.Context, string, string) (*User, error) { return u, nil }
}

// The bad-input catalogue (issue 6): every malformed input goes to the
// routes as Mount registers them, and gets an exact status, JSON detail and
// logged reason code; none gets a 5xx, a session, or a header that the input
// could have spelled. SECURITY.md lists the same cases; each group of cases
// is a test beside the code it exercises (TestMalformedTokens in
// keys_test.go, ...), run by runBadCases below.

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
	return testutil.SignSegments(testSecret, enc, head, payload)
}

// segment is the JSON of v encoded with enc.
func segment(enc *base64.Encoding, v any) string { return testutil.Segment(enc, v) }

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

// userCookie is GET /user with the token as the session cookie.
func userCookie(token func(t *testing.T, app *badApp) string) func(t *testing.T, app *badApp) *http.Request {
	return func(t *testing.T, app *badApp) *http.Request {
		req := badGet("/user")
		req.AddCookie(&http.Cookie{Name: "access_token", Value: token(t, app)})
		return req
	}
}

// userBearer is GET /user with the token as a Bearer credential.
func userBearer(token func(t *testing.T, app *badApp) string) func(t *testing.T, app *badApp) *http.Request {
	return func(t *testing.T, app *badApp) *http.Request {
		return withHeader(badGet("/user"), "Authorization", "Bearer "+token(t, app))
	}
}

// jwtLoginWith is POST /auth/jwt with the token as a Bearer credential.
func jwtLoginWith(token func(t *testing.T, app *badApp) string) func(t *testing.T, app *badApp) *http.Request {
	return func(t *testing.T, app *badApp) *http.Request {
		return withHeader(httptest.NewRequest(http.MethodPost, "/auth/jwt", nil), "Authorization", "Bearer "+token(t, app))
	}
}

// fixed makes a request that needs neither the test nor the app.
func fixed(req func() *http.Request) func(*testing.T, *badApp) *http.Request {
	return func(*testing.T, *badApp) *http.Request { return req() }
}

// hookNotCalled checks that the password hook was not called.
func hookNotCalled(t *testing.T, app *badApp, _ *http.Response) {
	if got := app.hookUsernames(); len(got) > 0 {
		t.Errorf("password hook called with %d usernames", len(got))
	}
}

// hookGot checks that the password hook got exactly want.
func hookGot(want string) func(t *testing.T, app *badApp, _ *http.Response) {
	return func(t *testing.T, app *badApp, _ *http.Response) {
		if got := app.hookUsernames(); len(got) != 1 || got[0] != want {
			t.Errorf("password hook got %+q, want exactly %+q", got, want)
		}
	}
}

// runBadCases sends each malformed input to a fresh badApp's routes and
// checks the exact answer with checkBad. The tests that call it are the
// bad-input catalogue of SECURITY.md, each beside the code it exercises.
func runBadCases(t *testing.T, cases []badCase) {
	t.Parallel()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := newBadApp(t, tc.cfg)
			req := tc.req(t, app)
			resp := sendBad(t, app, req, tc.wire)
			checkBad(t, app, tc, resp)
		})
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

// Fuzz targets live beside the code they fuzz (FuzzSessionToken in
// session_test.go, FuzzOAuthStateCallback in oauthflow_test.go,
// FuzzSafeRedirect in signin_test.go, FuzzLoginForm in password_test.go);
// each compares what the library does with what the contract says,
// computed independently where that is practical. Seeds are in
// testdata/fuzz/<Target>; a short run of one target:
// go test -run '^$' -fuzz '^FuzzSafeRedirect$' -fuzztime 10s .

// fuzzNow is the fixed clock of the fuzz targets, so that the seed tokens
// and state cookies stay valid however long a run takes.
var fuzzNow = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// newFuzzAuth is an Auth from cfg (Secret defaulting to testSecret) that
// logs nowhere and lives at fuzzNow, stores included.
func newFuzzAuth(tb testing.TB, cfg Config) *Auth {
	tb.Helper()
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	a, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	now := func() time.Time { return fuzzNow }
	a.now = now
	if s, ok := a.cfg.Revocations.(*memoryRevocationStore); ok {
		s.now = now
	}
	if th, ok := a.cfg.Throttle.(*memoryThrottle); ok {
		th.now = now
	}
	return a
}

// passwordApp is an Auth whose password hook knows one user, "ada",
// with the password "correct horse" (compared as plain text: cheap under
// -race; bcryptPasswordHook is the real thing).
func passwordApp(t *testing.T, cfg Config) *Auth {
	t.Helper()
	a, _, _ := newTestAuth(t, cfg)
	a.OnPassword(func(_ context.Context, username, password string) (*User, error) {
		if username == "ada" && password == "correct horse" {
			return &User{Identifier: username}, nil
		}
		return nil, nil
	})
	return a
}

// bcryptPasswordHook checks passwords the way the docs tell apps to: with
// CheckPassword against the stored bcrypt hash, or against "" for an
// unknown user. It knows "ada".
func bcryptPasswordHook(t *testing.T) PasswordFunc {
	t.Helper()
	hash, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]string{"ada": hash}
	return func(_ context.Context, username, password string) (*User, error) {
		if CheckPassword(users[username], password) {
			return &User{Identifier: username}, nil
		}
		return nil, nil
	}
}

// postLogin POSTs R/login with the form and the given cookies, same-origin.
func postLogin(t *testing.T, a *Auth, username, password string, cookies ...*http.Cookie) *http.Response {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}
	req := httptest.NewRequest(http.MethodPost, a.RootPath()+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	return rec.Result()
}

// userStatus is the status of GET R/user with the given cookies.
func userStatus(t *testing.T, a *Auth, cookies ...*http.Cookie) int {
	return testutil.UserStatus(t, a, a.RootPath()+"/user", cookies...)
}

// mustCookie returns the cookie called name that resp sets, or fails.
func mustCookie(t *testing.T, resp *http.Response, name string) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", name, resp.Header["Set-Cookie"])
	return nil
}

// equalHeaders compares two headers, order of values included.
func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// discardLogger is a logger that writes nothing.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
