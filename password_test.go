package chatauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chatauth/chatauth/internal/testutil"
	"golang.org/x/crypto/bcrypt"
)

// countingPassword accepts "ada"/"pw" and counts its calls.
func countingPassword(calls *atomic.Int32) PasswordFunc {
	return func(_ context.Context, username, password string) (*User, error) {
		calls.Add(1)
		if username == "ada" && password == "pw" {
			return &User{Identifier: "ada"}, nil
		}
		return nil, nil
	}
}

func TestPasswordLogin(t *testing.T) {
	a, _, logs := newTestAuth(t, Config{})
	var got struct{ user, pw string }
	a.OnPassword(func(ctx context.Context, username, password string) (*User, error) {
		got.user, got.pw = username, password
		if ctx == nil {
			t.Error("nil context")
		}
		return &User{Identifier: username}, nil
	})
	resp := serve(t, a, loginRequest("", "ada@example.com", "p&ss=w ord"))
	wantSuccess(t, resp)
	if got.user != "ada@example.com" || got.pw != "p&ss=w ord" {
		t.Errorf("hook got %+v", got)
	}
	if c := cookieNamed(resp, "access_token"); c == nil || c.Value == "" {
		t.Fatal("no session cookie")
	}
	if id := userOf(t, a, addCookies(httptest.NewRequest(http.MethodGet, "/user", nil), resp)); id != "ada@example.com" {
		t.Errorf("user %q", id)
	}
	if !strings.Contains(logs.String(), "auth.outcome=success") || !strings.Contains(logs.String(), "user=ada@example.com") {
		t.Errorf("success not logged:\n%s", logs)
	}
}

func TestPasswordLoginMultipart(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	var calls atomic.Int32
	a.OnPassword(countingPassword(&calls))
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("username", "ada")
	mw.WriteField("password", "pw")
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/login", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	wantSuccess(t, serve(t, a, req))
}

func TestPasswordLoginFailures(t *testing.T) {
	tests := []struct {
		name        string
		noHook      bool
		req         func() *http.Request
		status      int
		detail      string
		hookCalled  bool
		contentType string
	}{
		{name: "wrong password", req: func() *http.Request { return loginRequest("", "ada", "nope") }, status: 401, detail: "credentialssignin", hookCalled: true},
		{name: "not enabled", noHook: true, req: func() *http.Request { return loginRequest("", "ada", "pw") }, status: 404, detail: "password login not enabled"},
		{name: "missing username", req: func() *http.Request { return loginRequest("", "", "pw") }, status: 400, detail: "missing field: username"},
		{name: "missing password", req: func() *http.Request { return loginRequest("", "ada", "") }, status: 400, detail: "missing field: password"},
		{name: "empty form", req: func() *http.Request { return loginRequest("", "", "") }, status: 400, detail: "missing field: username and password"},
		{name: "JSON body", req: func() *http.Request {
			req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"username":"ada","password":"pw"}`))
			req.Header.Set("Content-Type", "application/json")
			return req
		}, status: 400, detail: "missing field: username and password"},
		{name: "fields in the query only", req: func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/login?username=ada&password=pw", nil)
		}, status: 400, detail: "missing field: username and password"},
		{name: "multipart without boundary", req: func() *http.Request {
			req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader("x"))
			req.Header.Set("Content-Type", "multipart/form-data")
			return req
		}, status: 400, detail: "malformed form: bad multipart body"},
		{name: "bad urlencoding", req: func() *http.Request {
			req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader("username=%zz&password=pw"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req
		}, status: 400, detail: "malformed form: cannot parse body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, _ := newTestAuth(t, Config{})
			var calls atomic.Int32
			if !tt.noHook {
				a.OnPassword(countingPassword(&calls))
			}
			resp := serve(t, a, tt.req())
			wantError(t, resp, tt.status, tt.detail)
			if (calls.Load() > 0) != tt.hookCalled {
				t.Errorf("hook called %d times", calls.Load())
			}
		})
	}
}

func TestPasswordLoginOversizedBody(t *testing.T) {
	for _, tt := range []struct {
		name, contentType string
		body              func() *bytes.Buffer
	}{
		{"urlencoded", "application/x-www-form-urlencoded", func() *bytes.Buffer {
			return bytes.NewBufferString("username=ada&password=" + strings.Repeat("a", 70<<10))
		}},
		{"multipart", "", func() *bytes.Buffer { return nil }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, _, logs := newTestAuth(t, Config{})
			var calls atomic.Int32
			a.OnPassword(countingPassword(&calls))
			body, ct := tt.body(), tt.contentType
			if body == nil {
				body = &bytes.Buffer{}
				mw := multipart.NewWriter(body)
				mw.WriteField("username", "ada")
				mw.WriteField("password", strings.Repeat("a", 70<<10))
				mw.Close()
				ct = mw.FormDataContentType()
			}
			req := httptest.NewRequest(http.MethodPost, "/login", body)
			req.Header.Set("Content-Type", ct)
			resp := serve(t, a, req)
			readBody(t, resp)
			if resp.StatusCode < 400 || resp.StatusCode > 499 || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("status %d, Content-Type %q; want a 4xx JSON error", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if calls.Load() != 0 {
				t.Error("hook called")
			}
			if !strings.Contains(logs.String(), "auth.reason=too_large") {
				t.Errorf("reason too_large not logged:\n%s", logs)
			}
		})
	}
}

func TestPasswordThrottlePerUsername(t *testing.T) {
	a, clk, logs := newTestAuth(t, Config{Login: LoginConfig{Limits: PasswordLimits{PerUsername: 3, PerAddress: 100, Window: time.Minute}}})
	var calls atomic.Int32
	a.OnPassword(countingPassword(&calls))
	for range 3 {
		wantError(t, serve(t, a, loginRequest("", "ada", "wrong")), 401, "credentialssignin")
	}
	for _, pw := range []string{"wrong", "pw"} {
		resp := serve(t, a, loginRequest("", "ada", pw))
		wantError(t, resp, http.StatusTooManyRequests, "too many login attempts, try again later")
		if ra := resp.Header.Get("Retry-After"); ra != "60" {
			t.Errorf("Retry-After = %q, want 60", ra)
		}
	}
	if calls.Load() != 3 {
		t.Errorf("hook called %d times, want 3 (never once throttled)", calls.Load())
	}
	if !strings.Contains(logs.String(), "auth.reason=throttled") {
		t.Errorf("reason not logged:\n%s", logs)
	}
	// Another username from the same address is not throttled.
	wantError(t, serve(t, a, loginRequest("", "bob", "wrong")), 401, "credentialssignin")

	clk.Advance(45 * time.Second)
	if ra := serve(t, a, loginRequest("", "ada", "pw")).Header.Get("Retry-After"); ra != "15" {
		t.Errorf("Retry-After later in the window = %q, want 15", ra)
	}
	clk.Advance(15 * time.Second)
	wantSuccess(t, serve(t, a, loginRequest("", "ada", "pw")))
}

// TestPasswordThrottleRefusalsDoNotCount: a refused attempt checks no
// password, so it does not count against the username or the address, and
// the budget is whole again when the window ends however often the client
// was refused meanwhile. Neither does a hit on the username spend the
// address's budget when the address refuses.
func TestPasswordThrottleRefusalsDoNotCount(t *testing.T) {
	throttle := newMemoryThrottle(0)
	a, clk, _ := newTestAuth(t, Config{
		Stores: StoresConfig{
			Throttle: throttle,
		},
		Login: LoginConfig{
			Limits: PasswordLimits{PerUsername: 2, PerAddress: 3, Window: time.Minute},
		},
	})
	var calls atomic.Int32
	a.OnPassword(countingPassword(&calls))
	for _, u := range []string{"ada", "ada", "bob"} {
		wantError(t, serve(t, a, loginRequest("", u, "wrong")), 401, "credentialssignin")
	}
	for range 20 {
		wantError(t, serve(t, a, loginRequest("", "ada", "pw")), http.StatusTooManyRequests, "too many login attempts, try again later")
		wantError(t, serve(t, a, loginRequest("", "cy", "pw")), http.StatusTooManyRequests, "too many login attempts, try again later")
	}
	for key, want := range map[string]int{usernameKey("ada"): 2, usernameKey("cy"): 0, addressKey("192.0.2.1"): 3} {
		throttle.mu.Lock()
		got := 0
		if w, ok := throttle.windows[throttle.key(key)]; ok {
			got = int(w.count)
		}
		throttle.mu.Unlock()
		if got != want {
			t.Errorf("attempts counted for %s = %d, want %d", key, got, want)
		}
	}
	clk.Advance(time.Minute)
	wantSuccess(t, serve(t, a, loginRequest("", "ada", "pw")))
	if calls.Load() != 4 {
		t.Errorf("hook called %d times, want 4", calls.Load())
	}
}

func TestPasswordThrottlePerAddress(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{
		Login: LoginConfig{
			Limits: PasswordLimits{PerUsername: 100, PerAddress: 3, Window: time.Minute},
		},
		Proxy: ProxyConfig{
			Trusted: []string{"10.0.0.0/8"},
		},
	})
	var calls atomic.Int32
	a.OnPassword(countingPassword(&calls))
	from := func(remote, xff, user string) *http.Request {
		req := loginRequest("", user, "wrong")
		req.RemoteAddr = remote
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		return req
	}
	for _, user := range []string{"u1", "u2", "u3"} {
		wantError(t, serve(t, a, from("203.0.113.5:1000", "", user)), 401, "credentialssignin")
	}
	resp := serve(t, a, from("203.0.113.5:2000", "", "u4"))
	wantError(t, resp, http.StatusTooManyRequests, "too many login attempts, try again later")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// X-Forwarded-For from an untrusted peer does not change its address.
	wantError(t, serve(t, a, from("203.0.113.5:2000", "198.51.100.1", "u5")), http.StatusTooManyRequests, "too many login attempts, try again later")
	// Another address is not throttled, nor a client behind a trusted proxy.
	wantError(t, serve(t, a, from("203.0.113.6:1000", "", "u6")), 401, "credentialssignin")
	for _, user := range []string{"u7", "u8", "u9"} {
		wantError(t, serve(t, a, from("10.0.0.1:1000", "198.51.100.1", user)), 401, "credentialssignin")
	}
	wantError(t, serve(t, a, from("10.0.0.2:1000", "198.51.100.1", "u10")), http.StatusTooManyRequests, "too many login attempts, try again later")
	wantError(t, serve(t, a, from("10.0.0.2:1000", "198.51.100.2", "u11")), 401, "credentialssignin")
	if calls.Load() != 8 {
		t.Errorf("hook called %d times, want 8", calls.Load())
	}
}

func TestPasswordSuccessResetsUsernameCount(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{Login: LoginConfig{Limits: PasswordLimits{PerUsername: 3, Window: time.Hour}}})
	var calls atomic.Int32
	a.OnPassword(countingPassword(&calls))
	for range 2 {
		wantError(t, serve(t, a, loginRequest("", "ada", "wrong")), 401, "credentialssignin")
	}
	wantSuccess(t, serve(t, a, loginRequest("", "ada", "pw")))
	for range 3 {
		wantError(t, serve(t, a, loginRequest("", "ada", "wrong")), 401, "credentialssignin")
	}
	wantError(t, serve(t, a, loginRequest("", "ada", "pw")), http.StatusTooManyRequests, "too many login attempts, try again later")
	if calls.Load() != 6 {
		t.Errorf("hook called %d times, want 6", calls.Load())
	}
}

func TestHashAndCheckPassword(t *testing.T) {
	hash, err := HashPassword("pw1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$2a$") || strings.Contains(hash, "pw1") {
		t.Errorf("hash %q", hash)
	}
	for _, tt := range []struct {
		hash, password string
		want           bool
	}{
		{hash, "pw1", true},
		{hash, "PW1", false},
		{"", "pw1", false},
		{"not a bcrypt hash", "pw1", false},
	} {
		if got := CheckPassword(tt.hash, tt.password); got != tt.want {
			t.Errorf("CheckPassword(%.8q, %q) = %v, want %v", tt.hash, tt.password, got, tt.want)
		}
	}
	if _, err := HashPassword(strings.Repeat("a", 73)); err == nil {
		t.Error("HashPassword accepted 73 bytes")
	}
}

func TestCheckPasswordUnknownUserSpendsTheSameWork(t *testing.T) {
	// The dummy hash is at HashPassword's cost, so an unknown user costs one
	// full bcrypt comparison, like a known one.
	if cost := bcryptCost(t, string(dummyHash())); cost != bcrypt.DefaultCost {
		t.Errorf("dummy hash cost %d, want %d", cost, bcrypt.DefaultCost)
	}
}

func bcryptCost(t *testing.T, hash string) int {
	t.Helper()
	parts := strings.Split(hash, "$")
	if len(parts) < 4 {
		t.Fatalf("not a bcrypt hash: %q", hash)
	}
	var cost int
	for _, c := range parts[2] {
		cost = cost*10 + int(c-'0')
	}
	return cost
}

func TestPasswordThrottleKeys(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{Login: LoginConfig{Limits: PasswordLimits{PerUsername: 2, PerAddress: 2}}})
	var calls atomic.Int32
	a.OnPassword(countingPassword(&calls))
	t.Run("username case", func(t *testing.T) {
		for _, u := range []string{"Ada", "ADA"} {
			wantError(t, serve(t, a, from("192.0.2.1:1", u)), 401, "credentialssignin")
		}
		wantError(t, serve(t, a, from("192.0.2.2:1", "aDa")), 429, "too many login attempts, try again later")
	})
	t.Run("IPv6 /64", func(t *testing.T) {
		for _, remote := range []string{"[2001:db8:1:2::1]:1", "[2001:db8:1:2::2]:1"} {
			wantError(t, serve(t, a, from(remote, "u-"+remote)), 401, "credentialssignin")
		}
		wantError(t, serve(t, a, from("[2001:db8:1:2:ffff::9]:1", "someone")), 429, "too many login attempts, try again later")
		wantError(t, serve(t, a, from("[2001:db8:1:3::1]:1", "someone-else")), 401, "credentialssignin")
	})
	for in, want := range map[string]string{
		"Ada":                    "user:ada",
		strings.Repeat("A", 200): "user:sha256:",
	} {
		if got := usernameKey(in); !strings.HasPrefix(got, want) || len(got) > 200 {
			t.Errorf("usernameKey(%.10q) = %q", in, got)
		}
	}
	for in, want := range map[string]string{
		"192.0.2.1": "addr:192.0.2.1", "2001:db8::1": "addr:2001:db8::/64", "::ffff:192.0.2.1": "addr:::ffff:192.0.2.1",
	} {
		if got := addressKey(in); got != want {
			t.Errorf("addressKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// from is a failing login for user from the peer remote.
func from(remote, user string) *http.Request {
	req := loginRequest("", user, "wrong")
	req.RemoteAddr = remote
	return req
}

// TestSuccessesDoNotCountTowardTheAddressLimit: the limit is on failures,
// so many people logging in from one office address are not locked out.
func TestSuccessesDoNotCountTowardTheAddressLimit(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{Login: LoginConfig{Limits: PasswordLimits{PerAddress: 3}}})
	a.OnPassword(func(_ context.Context, username, password string) (*User, error) {
		if password == "right" {
			return &User{Identifier: username}, nil
		}
		return nil, nil
	})
	for i := range 10 {
		if resp := serve(t, a, loginRequest("", fmt.Sprintf("user%d", i), "right")); resp.StatusCode != 200 {
			t.Fatalf("login %d from the shared address: %d", i, resp.StatusCode)
		}
	}
	for i := range 3 {
		serve(t, a, loginRequest("", fmt.Sprintf("guess%d", i), "wrong"))
	}
	if resp := serve(t, a, loginRequest("", "guess9", "wrong")); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after 3 failures: %d, want 429", resp.StatusCode)
	}
}

// TestPasswordsOver72Bytes: bcrypt reads only the first 72 bytes of a
// password, so "the right 72 bytes plus anything" would match; chatauth
// refuses to hash such a password and never matches one.
func TestPasswordsOver72Bytes(t *testing.T) {
	at72 := strings.Repeat("A", 72)
	hash, err := HashPassword(at72)
	if err != nil {
		t.Fatalf("HashPassword of 72 bytes: %v", err)
	}
	for _, tt := range []struct {
		name, password string
		want           bool
	}{
		{"exactly_72_bytes", at72, true},
		{"72_bytes_plus_garbage", at72 + "garbage", false},
		{"73_bytes", at72 + "A", false},
		{"72_bytes_plus_multibyte", at72 + "é", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckPassword(hash, tt.password); got != tt.want {
				t.Errorf("CheckPassword = %v, want %v", got, tt.want)
			}
		})
	}
	for _, long := range []string{at72 + "A", strings.Repeat("é", 37)} {
		_, err := HashPassword(long)
		if !errors.Is(err, ErrPasswordTooLong) || !strings.Contains(err.Error(), "bcrypt would ignore the rest") {
			t.Errorf("HashPassword(%d bytes) error %v, want ErrPasswordTooLong saying why", len(long), err)
		}
	}
}

// pythonBcryptFixture is testdata/python-bcrypt.json: hashes made by
// Debian's python3-bcrypt, the library Chainlit apps hash passwords with.
type pythonBcryptFixture struct {
	Hashes []struct{ Password, Hash string }
}

// TestPythonBcryptHashesVerify: hashes made by Python's bcrypt ($2b$12$,
// as a Chainlit app stores them) verify with CheckPassword, from a
// committed fixture and from hashes the test has Debian's python3-bcrypt
// make; a wrong password and, for a 72-byte password, the password plus
// garbage (which Python's bcrypt 3 accepts: it truncates) do not. Cost-12
// hashes are checked with the right password only: each check is a full
// bcrypt run, slow under -race.
func TestPythonBcryptHashesVerify(t *testing.T) {
	b, err := os.ReadFile("testdata/python-bcrypt.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx pythonBcryptFixture
	if err := json.Unmarshal(b, &fx); err != nil || len(fx.Hashes) == 0 {
		t.Fatalf("fixture: %v", err)
	}
	for i, h := range fx.Hashes {
		t.Run("fixture_"+strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			checkPythonHash(t, h.Hash, h.Password)
		})
	}
	t.Run("live", func(t *testing.T) {
		t.Parallel()
		python := debianPython(t, "bcrypt", "python3-bcrypt")
		password := "Chainlit ünïcode ✓ " + strconv.Itoa(os.Getpid())
		const script = `import bcrypt, sys
pw = sys.stdin.buffer.read()
print(bcrypt.hashpw(pw, bcrypt.gensalt(12)).decode())
print(bcrypt.hashpw(b"A" * 72, bcrypt.gensalt(4)).decode())`
		cmd := exec.Command(python, "-c", script)
		cmd.Stdin = strings.NewReader(password)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("python3-bcrypt: %v", err)
		}
		lines := strings.Fields(string(out))
		if len(lines) != 2 {
			t.Fatalf("python3-bcrypt printed %q", out)
		}
		checkPythonHash(t, lines[0], password)
		checkPythonHash(t, lines[1], strings.Repeat("A", 72))
	})
}

// checkPythonHash checks that hash, made by Python's bcrypt ($2b$), verifies
// password; cheap hashes (cost under 10) are also checked against a wrong
// password and, for 72-byte passwords, the password plus garbage.
func checkPythonHash(t *testing.T, hash, password string) {
	t.Helper()
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil || !strings.HasPrefix(hash, "$2b$") {
		t.Fatalf("hash %q is not $2b$ (%v)", hash, err)
	}
	if !CheckPassword(hash, password) {
		t.Errorf("CheckPassword refused the right password for %q", hash)
	}
	if cost >= bcrypt.DefaultCost {
		return
	}
	if CheckPassword(hash, password+"x") && len(password) < MaxPasswordBytes {
		t.Errorf("CheckPassword accepted a wrong password for %q", hash)
	}
	if CheckPassword(hash, "wrong") {
		t.Errorf("CheckPassword accepted a wrong password for %q", hash)
	}
	if len(password) == MaxPasswordBytes && CheckPassword(hash, password+"garbage") {
		t.Errorf("CheckPassword accepted 72 bytes plus garbage for %q", hash)
	}
}

// debianPython returns /usr/bin/python3 when it can import module (from
// the Debian package pkg). Without it the test is skipped, except under
// CI=true, where it fails. (python3 on PATH may be a build without
// Debian's modules.)
func debianPython(t *testing.T, module, pkg string) string {
	t.Helper()
	const python = "/usr/bin/python3"
	err := exec.Command(python, "-c", "import "+module).Run()
	if err == nil {
		return python
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s cannot import %s (%v); .ci/run installs it (apt-get install %s)", python, module, err, pkg)
	}
	t.Skipf("%s cannot import %s (%v): install the Debian package %s", python, module, err, pkg)
	return ""
}

// notUTF8Cases are credentials that are not UTF-8.
func notUTF8Cases() []badCase {
	return []badCase{
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
}

// TestCredentialsNotUTF8: a login whose username or password is not UTF-8
// is refused before the hook; a header credential reaches it as sent.
func TestCredentialsNotUTF8(t *testing.T) { runBadCases(t, notUTF8Cases()) }

// malformedFormCases are login bodies over the bounds or malformed.
func malformedFormCases() []badCase {
	bigForm := func(n int) string {
		// A form body of exactly n bytes with username padded.
		prefix, suffix := "username=", "&password=wrong"
		return prefix + strings.Repeat("u", n-len(prefix)-len(suffix)) + suffix
	}
	manyFields := func(n int) string {
		return strings.Repeat("f=1&", n) + "username=ada&password=wrong"
	}
	return []badCase{
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
}

// TestMalformedLoginForms: login bodies over the 64 KiB bound, with too
// many fields or parts, or malformed, get an exact answer.
func TestMalformedLoginForms(t *testing.T) { runBadCases(t, malformedFormCases()) }

// TestLoginFormMultipartBound checks that a multipart body that ends anywhere around the 64 KiB
// bound, inside a part's value, boundary or headers, gets the hook's answer
// when it fits and 413 "http: request body too large" when it does not,
// never 400 "malformed form" nor a wrapped detail.
func TestLoginFormMultipartBound(t *testing.T) {
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

// unicodeUsernameCases are usernames that look like others.
func unicodeUsernameCases() []badCase {
	lookalike := func(name, username string) badCase {
		return badCase{name: name, status: 401, detail: dCreds, reason: reasonCredentials, check: hookGot(username),
			req: fixed(func() *http.Request { return loginRequest("", username, badPassword) })}
	}
	return []badCase{
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
}

// TestLookalikeUsernames: look-alike usernames reach the hook unmodified.
func TestLookalikeUsernames(t *testing.T) { runBadCases(t, unicodeUsernameCases()) }

// TestLookalikeUsernamesThrottle checks that failures against "admin" from many addresses use
// up its per-username budget; a look-alike of "admin" that an app's own
// normalisation (TrimSpace, ToLower, NFKC) would turn into "admin" shares
// that budget, and every other look-alike is a different account, bounded
// by the per-address budget.
func TestLookalikeUsernamesThrottle(t *testing.T) {
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

// fuzzThrottle answers every attempt with the same wait.
type fuzzThrottle struct{ wait time.Duration }

func (th fuzzThrottle) Hit(context.Context, string, int, time.Duration) (time.Duration, error) {
	return th.wait, nil
}
func (fuzzThrottle) Reset(context.Context, string) error   { return nil }
func (fuzzThrottle) Forgive(context.Context, string) error { return nil }

// decodeLoginForm decodes a POST /login body with the standard library,
// independently of the route: a multipart body when the Content-Type says
// multipart/form-data with a boundary, an urlencoded one when it says so,
// else no fields. ok is false when the body cannot be decoded.
func decodeLoginForm(body []byte, contentType string) (username, password string, ok bool) {
	if strings.HasPrefix(contentType, "multipart/form-data") {
		mt, params, err := mime.ParseMediaType(contentType)
		boundary, hasBoundary := params["boundary"]
		if err != nil || mt != "multipart/form-data" || !hasBoundary {
			return "", "", false
		}
		form, err := multipart.NewReader(bytes.NewReader(body), boundary).ReadForm(maxBodyBytes)
		if err != nil {
			return "", "", false
		}
		defer form.RemoveAll()
		first := func(vs []string) string {
			if len(vs) == 0 {
				return ""
			}
			return vs[0]
		}
		return first(form.Value["username"]), first(form.Value["password"]), true
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", "", false
	}
	if mt != "application/x-www-form-urlencoded" {
		return "", "", true
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return "", "", false
	}
	return vals.Get("username"), vals.Get("password"), true
}

// Modes of FuzzLoginForm.
const (
	loginAccept    = 1 << iota // the password hook accepts
	loginThrottled             // the throttle refuses every attempt
)

// FuzzLoginForm posts arbitrary bodies with arbitrary Content-Types to
// POST /login. It never panics or answers 5xx; the hook runs exactly when
// the decoded username and password are both non-empty valid UTF-8 (and
// the throttle allows), and receives exactly them; the status is 400 for
// an unusable form, 429 when throttled, 200 or 401 as the hook says, 413
// only for a body over the limit.
func FuzzLoginForm(f *testing.F) {
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.SetBoundary("fuzzboundary")
	_ = mw.WriteField("username", "ada")
	_ = mw.WriteField("password", "p&ss w0rd")
	_ = mw.Close()
	for _, s := range []struct {
		body, contentType string
		mode              uint8
	}{
		{"username=ada&password=pw", "application/x-www-form-urlencoded", loginAccept},
		{"username=ada&password=pw", "application/x-www-form-urlencoded", 0},
		{"username=ada&password=pw", "application/x-www-form-urlencoded; charset=utf-8", loginThrottled},
		{mp.String(), mw.FormDataContentType(), loginAccept},
		{mp.String(), "multipart/form-data", 0},
		{mp.String(), "Multipart/Form-Data; boundary=fuzzboundary", loginAccept},
		{"username=%zz&password=pw", "application/x-www-form-urlencoded", loginAccept},
		{"username=%ff&password=pw", "application/x-www-form-urlencoded", loginAccept},
		{"username=&password=pw", "application/x-www-form-urlencoded", loginAccept},
		{`{"username":"ada","password":"pw"}`, "application/json", loginAccept},
		{"username=ada;password=pw", "", loginAccept},
	} {
		f.Add([]byte(s.body), s.contentType, s.mode)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string, mode uint8) {
		var th fuzzThrottle
		if mode&loginThrottled != 0 {
			th.wait = time.Minute
		}
		a := newFuzzAuth(t, Config{Stores: StoresConfig{Throttle: th}})
		var calls int
		var gotUser, gotPassword string
		a.OnPassword(func(_ context.Context, username, password string) (*User, error) {
			calls++
			gotUser, gotPassword = username, password
			if mode&loginAccept != 0 {
				return &User{Identifier: "fuzz-user"}, nil
			}
			return nil, nil
		})
		req := httptest.NewRequest(http.MethodPost, "/login", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)

		if rec.Code >= 500 {
			t.Fatalf("status %d", rec.Code)
		}
		if calls > 1 {
			t.Fatalf("hook called %d times", calls)
		}
		if calls == 1 && (gotUser == "" || gotPassword == "" || !utf8.ValidString(gotUser) || !utf8.ValidString(gotPassword)) {
			t.Fatalf("hook got a username of %d and a password of %d bytes, empty or not UTF-8", len(gotUser), len(gotPassword))
		}
		if len(body) > maxBodyBytes {
			switch rec.Code {
			case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
			default:
				t.Fatalf("status %d for a %d-byte body", rec.Code, len(body))
			}
			return
		}
		username, password, ok := decodeLoginForm(body, contentType)
		usable := ok && username != "" && password != "" && utf8.ValidString(username) && utf8.ValidString(password)
		want, wantCalls := http.StatusBadRequest, 0
		switch {
		case !usable:
		case mode&loginThrottled != 0:
			want = http.StatusTooManyRequests
		case mode&loginAccept != 0:
			want, wantCalls = http.StatusOK, 1
		default:
			want, wantCalls = http.StatusUnauthorized, 1
		}
		if rec.Code != want || calls != wantCalls {
			t.Fatalf("status %d with %d hook calls, want %d with %d (Content-Type %q)", rec.Code, calls, want, wantCalls, contentType)
		}
		if calls == 1 && (gotUser != username || gotPassword != password) {
			t.Fatalf("hook got a username of %d and a password of %d bytes, not the decoded %d and %d",
				len(gotUser), len(gotPassword), len(username), len(password))
		}
		switch want {
		case http.StatusOK:
			if c := rec.Result().Cookies(); len(c) == 0 || c[0].Name != a.CookieName() || c[0].Value == "" {
				t.Fatal("200 without a session cookie")
			}
		case http.StatusTooManyRequests:
			if rec.Header().Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
		if want != http.StatusOK && rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("status %d without a JSON body", rec.Code)
		}
	})
}

// TestSecurityLogin covers ASVS 6.2.8, 6.3.1 and 6.3.8 for password login:
// credential stuffing is throttled alike for every username, an unknown
// user cannot be told from a wrong password, and the hook gets the
// password as sent. (ASVS 7.2.4, a login ends the session the browser had,
// is TestLoginEndsThePreviousSession's.)
func TestSecurityLogin(t *testing.T) {
	t.Run("unknown_user_and_wrong_password_look_alike", func(t *testing.T) {
		a := passwordApp(t, Config{Login: LoginConfig{Limits: PasswordLimits{PerUsername: 100, PerAddress: 1000}}})
		a.OnPassword(bcryptPasswordHook(t))
		type answer struct {
			status  int
			body    string
			headers http.Header
		}
		var answers [2]answer
		var fastest [2]time.Duration
		for round := range 2 {
			for i, username := range []string{"ada", "nobody"} {
				start := time.Now()
				resp := postLogin(t, a, username, "wrong password")
				took := time.Since(start)
				body, _ := io.ReadAll(resp.Body)
				h := resp.Header.Clone()
				h.Del("Date")
				answers[i] = answer{resp.StatusCode, string(body), h}
				if round == 0 || took < fastest[i] {
					fastest[i] = took
				}
			}
		}
		if answers[0].status != http.StatusUnauthorized || answers[0].status != answers[1].status || answers[0].body != answers[1].body {
			t.Errorf("wrong password %d %q, unknown user %d %q", answers[0].status, answers[0].body, answers[1].status, answers[1].body)
		}
		if !equalHeaders(answers[0].headers, answers[1].headers) {
			t.Errorf("headers differ: %v vs %v", answers[0].headers, answers[1].headers)
		}
		// Both spend one bcrypt comparison at the same cost; allow a wide
		// margin for a busy machine.
		slow, fast := max(fastest[0], fastest[1]), min(fastest[0], fastest[1])
		if testutil.RaceEnabled {
			t.Logf("race detector on: wrong password %v, unknown user %v; the ratio is reported, not checked", fastest[0], fastest[1])
		} else if slow > 2*fast {
			t.Errorf("response times differ: wrong password %v, unknown user %v", fastest[0], fastest[1])
		}
	})
	t.Run("password_passed_unmodified", func(t *testing.T) {
		// ASVS 6.2.8: no trimming, case folding or truncation before the hook.
		a, err := New(Config{Secret: testSecret, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan [2]string, 1)
		a.OnPassword(func(_ context.Context, username, password string) (*User, error) {
			got <- [2]string{username, password}
			return nil, nil
		})
		password := " Pass Wörd\t" + strings.Repeat("x", 100) + " "
		postLogin(t, a, " Ada ", password)
		if g := <-got; g[0] != " Ada " || g[1] != password {
			t.Errorf("hook got %q / %d bytes, want the form's values as sent", g[0], len(g[1]))
		}
	})
	t.Run("throttled_alike_for_unknown_users", func(t *testing.T) {
		a := passwordApp(t, Config{Login: LoginConfig{Limits: PasswordLimits{PerUsername: 2, PerAddress: 1000}}})
		for _, username := range []string{"ada", "nobody"} {
			var statuses []int
			var retry string
			for range 3 {
				resp := postLogin(t, a, username, "wrong password")
				statuses = append(statuses, resp.StatusCode)
				retry = resp.Header.Get("Retry-After")
			}
			if !slices.Equal(statuses, []int{401, 401, 429}) || retry == "" {
				t.Errorf("%s: statuses %v, Retry-After %q", username, statuses, retry)
			}
		}
	})
}
