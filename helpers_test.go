package chatauth

// The helpers of package chatauth's own tests: one Auth constructor
// (newTestAuth) and the requests and checks most tests share. Helpers that
// need no Auth are in internal/testutil, shared with the other packages.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
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
