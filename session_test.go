package chatauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestSessionCookieAttributes(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		remote   string
		headers  map[string]string
		cookie   string
		path     string
		sameSite http.SameSite
		secure   bool
		maxAge   int
	}{
		{name: "defaults", path: "/", sameSite: http.SameSiteLaxMode, maxAge: 1296000},
		{name: "root path", cfg: Config{RootPath: "/chat"}, path: "/chat", sameSite: http.SameSiteLaxMode, maxAge: 1296000},
		{name: "strict", cfg: Config{Cookie: CookieConfig{SameSite: http.SameSiteStrictMode}}, path: "/", sameSite: http.SameSiteStrictMode, maxAge: 1296000},
		{name: "none forces Secure", cfg: Config{Cookie: CookieConfig{SameSite: http.SameSiteNoneMode}}, path: "/", sameSite: http.SameSiteNoneMode, secure: true, maxAge: 1296000},
		{name: "https BaseURL", cfg: Config{BaseURL: "https://chat.example.com"}, path: "/", sameSite: http.SameSiteLaxMode, secure: true, maxAge: 1296000},
		{name: "http BaseURL", cfg: Config{BaseURL: "http://chat.example.com"}, path: "/", sameSite: http.SameSiteLaxMode, maxAge: 1296000},
		{name: "forced Secure", cfg: Config{Cookie: CookieConfig{Secure: true}}, path: "/", sameSite: http.SameSiteLaxMode, secure: true, maxAge: 1296000},
		{name: "session timeout", cfg: Config{Session: SessionConfig{Timeout: time.Hour}}, path: "/", sameSite: http.SameSiteLaxMode, maxAge: 3600},
		{name: "cookie name", cfg: Config{Cookie: CookieConfig{Name: "sid"}}, cookie: "sid", path: "/", sameSite: http.SameSiteLaxMode, maxAge: 1296000},
		{
			name: "https behind trusted proxy", cfg: Config{Proxy: ProxyConfig{Trusted: []string{"10.0.0.0/8"}}},
			remote: "10.1.1.1:4000", headers: map[string]string{"X-Forwarded-Proto": "https"},
			path: "/", sameSite: http.SameSiteLaxMode, secure: true, maxAge: 1296000,
		},
		{
			name: "X-Forwarded-Proto from untrusted peer", cfg: Config{Proxy: ProxyConfig{Trusted: []string{"10.0.0.0/8"}}},
			remote: "203.0.113.1:4000", headers: map[string]string{"X-Forwarded-Proto": "https"},
			path: "/", sameSite: http.SameSiteLaxMode, maxAge: 1296000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, _ := newTestAuth(t, tt.cfg)
			a.OnPassword(acceptUser(&User{Identifier: "ada"}))
			name := tt.cookie
			if name == "" {
				name = "access_token"
			}
			prepare := func(req *http.Request) *http.Request {
				if tt.remote != "" {
					req.RemoteAddr = tt.remote
				}
				for k, v := range tt.headers {
					req.Header.Set(k, v)
				}
				return req
			}
			check := func(what string, c *http.Cookie, maxAge int) {
				t.Helper()
				if c == nil {
					t.Fatalf("%s: no %s cookie", what, name)
				}
				if c.Path != tt.path || c.SameSite != tt.sameSite || c.Secure != tt.secure || !c.HttpOnly || c.MaxAge != maxAge || c.Domain != "" {
					t.Errorf("%s: cookie %s, want Path=%s SameSite=%v Secure=%v HttpOnly Max-Age=%d",
						what, c.String(), tt.path, tt.sameSite, tt.secure, maxAge)
				}
			}

			resp := serve(t, a, prepare(loginRequest(a.RootPath(), "ada", "pw")))
			wantSuccess(t, resp)
			set := cookieNamed(resp, name)
			check("set", set, tt.maxAge)
			if set.Value == "" || len(resp.Cookies()) != 1 {
				t.Errorf("set cookies %v", resp.Cookies())
			}

			logout := prepare(httptest.NewRequest(http.MethodPost, a.RootPath()+"/logout", nil))
			logout.AddCookie(&http.Cookie{Name: name, Value: set.Value})
			resp = serve(t, a, logout)
			wantSuccess(t, resp)
			cleared := cookieNamed(resp, name)
			check("clear", cleared, -1)
			if cleared.Value != "" {
				t.Errorf("cleared cookie keeps a value")
			}
		})
	}
}

// userWithTokenLength returns a user whose session token is about n
// characters, or as short as it gets when n is smaller.
func userWithTokenLength(t *testing.T, a *Auth, id string, n int) *User {
	t.Helper()
	u := &User{Identifier: id}
	base := len(issue(t, a, u))
	if n > base {
		u.Metadata = map[string]any{"pad": strings.Repeat("x", (n-base)*3/4)}
	}
	got := len(issue(t, a, u))
	if n > base && (got < n-20 || got > n+20) {
		t.Fatalf("token of %d characters, want about %d", got, n)
	}
	return u
}

// startSessionServer serves the Auth's routes and GET /start?id=...&len=...,
// which starts a session for a user with a token of about len characters.
func startSessionServer(t *testing.T, a *Auth) *httptest.Server {
	t.Helper()
	users := map[string]*User{}
	for _, n := range []int{0, 1000, 4000, 8000} {
		id := fmt.Sprintf("user%d", n)
		users[id] = userWithTokenLength(t, a, id, n)
	}
	mux := http.NewServeMux()
	a.Mount(mux)
	mux.HandleFunc("GET /start", func(w http.ResponseWriter, r *http.Request) {
		if _, err := a.StartSession(w, r, users[r.URL.Query().Get("id")]); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestChunkedSessionRoundTrip(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	a.OnPassword(acceptUser(&User{Identifier: "x"}))
	srv := startSessionServer(t, a)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	srvURL, _ := url.Parse(srv.URL)

	steps := []struct {
		id      string
		cookies []string
	}{
		{"user1000", []string{"access_token"}},
		{"user4000", []string{"access_token_0", "access_token_1"}},
		{"user8000", []string{"access_token_0", "access_token_1", "access_token_2"}},
		{"user4000", []string{"access_token_0", "access_token_1"}},
		{"user0", []string{"access_token"}},
		{"user8000", []string{"access_token_0", "access_token_1", "access_token_2"}},
		{"user1000", []string{"access_token"}},
	}
	for i, step := range steps {
		resp, err := client.Get(srv.URL + "/start?id=" + step.id)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var names []string
		for _, c := range jar.Cookies(srvURL) {
			names = append(names, c.Name)
			if len(c.Value) > 3000 {
				t.Errorf("step %d: cookie %s has %d characters", i, c.Name, len(c.Value))
			}
		}
		slices.Sort(names)
		if !slices.Equal(names, step.cookies) {
			t.Errorf("step %d (%s): browser holds %v, want %v", i, step.id, names, step.cookies)
		}
		resp, err = client.Get(srv.URL + "/user")
		if err != nil {
			t.Fatal(err)
		}
		var u User
		err = json.NewDecoder(resp.Body).Decode(&u)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || u.Identifier != step.id {
			t.Errorf("step %d: GET /user = %d %+v %v, want %s", i, resp.StatusCode, u.Identifier, err, step.id)
		}
	}
}

func TestStaleChunksClearedWithSameAttributes(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{RootPath: "/chat", Cookie: CookieConfig{SameSite: http.SameSiteStrictMode}, BaseURL: "https://chat.example.com"})
	short := &User{Identifier: "ada"}
	long := userWithTokenLength(t, a, "ada", 4000)

	t.Run("short token clears every chunk", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/chat/app", nil)
		for i := range 3 {
			req.AddCookie(&http.Cookie{Name: fmt.Sprintf("access_token_%d", i), Value: "stale"})
		}
		req.AddCookie(&http.Cookie{Name: "other_cookie", Value: "keep"})
		req.AddCookie(&http.Cookie{Name: "access_token_x", Value: "not a chunk"})
		rec := httptest.NewRecorder()
		if _, err := a.StartSession(rec, req, short); err != nil {
			t.Fatal(err)
		}
		got := setCookieSummary(onPath(rec.Result(), "/chat"))
		want := []string{"access_token set", "access_token_0 deleted", "access_token_1 deleted", "access_token_2 deleted"}
		if !slices.Equal(got, want) {
			t.Errorf("Set-Cookie %v, want %v", got, want)
		}
		wantAttributes(t, onPath(rec.Result(), "/chat"), "/chat", http.SameSiteStrictMode, true)
		wantRootCopiesDeleted(t, rec.Result(), "access_token_0", "access_token_1", "access_token_2")
	})
	t.Run("long token clears unchunked and extra chunks", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/chat/app", nil)
		req.AddCookie(&http.Cookie{Name: "access_token", Value: "stale"})
		for i := range 4 {
			req.AddCookie(&http.Cookie{Name: fmt.Sprintf("access_token_%d", i), Value: "stale"})
		}
		rec := httptest.NewRecorder()
		if _, err := a.StartSession(rec, req, long); err != nil {
			t.Fatal(err)
		}
		got := setCookieSummary(onPath(rec.Result(), "/chat"))
		want := []string{"access_token deleted", "access_token_0 set", "access_token_1 set", "access_token_2 deleted", "access_token_3 deleted"}
		if !slices.Equal(got, want) {
			t.Errorf("Set-Cookie %v, want %v", got, want)
		}
		wantAttributes(t, onPath(rec.Result(), "/chat"), "/chat", http.SameSiteStrictMode, true)
		wantRootCopiesDeleted(t, rec.Result(), "access_token", "access_token_0", "access_token_1", "access_token_2", "access_token_3")
	})
	t.Run("logout clears unchunked and every chunk", func(t *testing.T) {
		token := issue(t, a, long)
		req := httptest.NewRequest(http.MethodPost, "/chat/logout", nil)
		req.AddCookie(&http.Cookie{Name: "access_token_0", Value: token[:3000]})
		req.AddCookie(&http.Cookie{Name: "access_token_1", Value: token[3000:]})
		resp := serve(t, a, req)
		wantSuccess(t, resp)
		got := setCookieSummary(onPath(resp, "/chat"))
		want := []string{"access_token deleted", "access_token_0 deleted", "access_token_1 deleted"}
		if !slices.Equal(got, want) {
			t.Errorf("Set-Cookie %v, want %v", got, want)
		}
		wantAttributes(t, onPath(resp, "/chat"), "/chat", http.SameSiteStrictMode, true)
		wantRootCopiesDeleted(t, resp, "access_token_0", "access_token_1")
		if _, err := a.VerifyToken(context.Background(), token); !errors.Is(err, ErrRevoked) {
			t.Errorf("chunked token after logout: %v, want ErrRevoked", err)
		}
	})
}

// setCookieSummary lists "name set" or "name deleted" per Set-Cookie, sorted.
func setCookieSummary(resp *http.Response) []string {
	var out []string
	for _, c := range resp.Cookies() {
		state := "set"
		if c.MaxAge < 0 {
			state = "deleted"
		}
		out = append(out, c.Name+" "+state)
	}
	slices.Sort(out)
	return out
}

// onPath is resp with only its Set-Cookie lines for path.
func onPath(resp *http.Response, path string) *http.Response {
	kept := &http.Response{Header: http.Header{}}
	for _, c := range resp.Cookies() {
		if c.Path == path {
			kept.Header.Add("Set-Cookie", c.String())
		}
	}
	return kept
}

// wantRootCopiesDeleted checks that resp deletes exactly names at Path=/,
// with the session cookie's other attributes: the copies a Chainlit
// deployment leaves there.
func wantRootCopiesDeleted(t *testing.T, resp *http.Response, names ...string) {
	t.Helper()
	root := onPath(resp, "/")
	var want []string
	for _, n := range names {
		want = append(want, n+" deleted")
	}
	if got := setCookieSummary(root); !slices.Equal(got, want) {
		t.Errorf("Set-Cookie at Path=/ %v, want %v", got, want)
	}
	wantAttributes(t, root, "/", http.SameSiteStrictMode, true)
}

func wantAttributes(t *testing.T, resp *http.Response, path string, sameSite http.SameSite, secure bool) {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Path != path || c.SameSite != sameSite || c.Secure != secure || !c.HttpOnly {
			t.Errorf("cookie %s, want Path=%s SameSite=%v Secure=%v HttpOnly", c.String(), path, sameSite, secure)
		}
	}
}

func TestTokenReadingOrder(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	a.OnPassword(acceptUser(&User{Identifier: "x"}))
	cookieUser := issue(t, a, &User{Identifier: "cookie"})
	chunked := issue(t, a, userWithTokenLength(t, a, "chunks", 4000))
	bearer := issue(t, a, &User{Identifier: "bearer"})

	tests := []struct {
		name          string
		unchunked     string
		chunks        []string
		authorization string
		want          string
	}{
		{name: "unchunked cookie", unchunked: cookieUser, want: "cookie"},
		{name: "chunks", chunks: []string{chunked[:3000], chunked[3000:]}, want: "chunks"},
		// Chunks saying something else make the request ambiguous
		// (TestAmbiguousSessionCookies); the same token twice is fine.
		{name: "unchunked beside identical chunks", unchunked: cookieUser, chunks: []string{cookieUser[:100], cookieUser[100:]}, want: "cookie"},
		{name: "cookie wins over bearer", unchunked: cookieUser, authorization: "Bearer " + bearer, want: "cookie"},
		{name: "chunks win over bearer", chunks: []string{chunked[:3000], chunked[3000:]}, authorization: "Bearer " + bearer, want: "chunks"},
		{name: "bearer fallback", authorization: "Bearer " + bearer, want: "bearer"},
		{name: "bearer lower case", authorization: "bearer " + bearer, want: "bearer"},
		{name: "bearer upper case", authorization: "BEARER " + bearer, want: "bearer"},
		{name: "bearer mixed case", authorization: "BeArEr " + bearer, want: "bearer"},
		{name: "empty cookie falls back to bearer", unchunked: "", chunks: nil, authorization: "Bearer " + bearer, want: "bearer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/user", nil)
			if tt.unchunked != "" {
				req.AddCookie(&http.Cookie{Name: "access_token", Value: tt.unchunked})
			}
			for i, c := range tt.chunks {
				req.AddCookie(&http.Cookie{Name: fmt.Sprintf("access_token_%d", i), Value: c})
			}
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			if got := userOf(t, a, req); got != tt.want {
				t.Errorf("user = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUserRouteRejections(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{})
	a.OnPassword(acceptUser(&User{Identifier: "x"}))
	valid := issue(t, a, &User{Identifier: "ada"})
	revoked := issue(t, a, &User{Identifier: "bob"})
	s, _ := a.VerifyToken(context.Background(), revoked)
	if err := a.cfg.Revocations.Revoke(context.Background(), Revocation{ID: s.ID, User: s.User.Identifier, Expires: s.ExpiresAt}); err != nil {
		t.Fatal(err)
	}
	expiring, _, _ := a.issueToken(&User{Identifier: "eve"}, grant{issued: clk.Now().Add(-2 * time.Hour), expires: clk.Now().Add(-time.Hour)})

	authorization := func(h string) func() *http.Request {
		return func() *http.Request {
			req := userRequest(a, "")
			req.Header.Set("Authorization", h)
			return req
		}
	}
	// Chainlit's words (auth/cookie.py, auth/__init__.py): no token and
	// another scheme carry "WWW-Authenticate: Bearer"; a bad token does not.
	tests := []struct {
		name      string
		req       func() *http.Request
		status    int
		detail    string
		challenge string
	}{
		{"no token", func() *http.Request { return userRequest(a, "") }, 401, "Not authenticated", "Bearer"},
		{"garbage cookie", func() *http.Request { return userRequest(a, "garbage") }, 401, "Invalid authentication token", ""},
		{"tampered cookie", func() *http.Request { return userRequest(a, valid[:len(valid)-2]+"xx") }, 401, "Invalid authentication token", ""},
		{"expired cookie", func() *http.Request { return userRequest(a, expiring) }, 401, "Invalid authentication token", ""},
		{"revoked cookie", func() *http.Request { return userRequest(a, revoked) }, 401, "Invalid authentication token", ""},
		{"garbage bearer", authorization("Bearer garbage"), 401, "Invalid authentication token", ""},
		{"bearer without a token", authorization("Bearer"), 401, "Invalid authentication token", ""},
		{"bearer with two words", authorization("Bearer " + valid + " x"), 401, "Invalid authentication token", ""},
		{"basic auth", authorization("Basic " + valid), 401, "Invalid authentication credentials", "Bearer"},
		{"scheme alone", authorization("Token"), 401, "Invalid authentication credentials", "Bearer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := serve(t, a, tt.req())
			wantError(t, resp, tt.status, tt.detail)
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
		})
	}
	if got := userOf(t, a, userRequest(a, valid)); got != "ada" {
		t.Errorf("valid cookie: user %q", got)
	}
}

func TestUserRouteWithoutLoginMethod(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	for _, token := range []string{"", "garbage"} {
		resp := serve(t, a, userRequest(a, token))
		body := readBody(t, resp)
		if resp.StatusCode != 200 || strings.TrimSpace(body) != "null" || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("GET /user with token %q and no login method = %d %q", token, resp.StatusCode, body)
		}
	}
	// A session an app started itself still answers its user.
	if got := userOf(t, a, userRequest(a, issue(t, a, &User{Identifier: "ada"}))); got != "ada" {
		t.Errorf("user = %q", got)
	}
}

func TestUserRouteJSON(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	a.OnPassword(acceptUser(&User{Identifier: "ada@example.com", DisplayName: "Ada", Metadata: map[string]any{"role": "admin"}}))
	resp := serve(t, a, loginRequest("", "ada", "pw"))
	resp = serve(t, a, addCookies(httptest.NewRequest(http.MethodGet, "/user", nil), resp))
	body := strings.TrimSpace(readBody(t, resp))
	want := `{"identifier":"ada@example.com","display_name":"Ada","metadata":{"role":"admin"}}`
	if resp.StatusCode != 200 || body != want {
		t.Errorf("GET /user = %d %s, want %s", resp.StatusCode, body, want)
	}
}

func TestStartAndEndSession(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	rec := httptest.NewRecorder()
	s, err := a.StartSession(rec, httptest.NewRequest(http.MethodPost, "/sso", nil), &User{Identifier: "ada"})
	if err != nil {
		t.Fatal(err)
	}
	if s.ID == "" || s.User.Identifier != "ada" || !s.ExpiresAt.Equal(s.IssuedAt.Add(15*24*time.Hour)) {
		t.Errorf("session %+v", s)
	}
	req := addCookies(httptest.NewRequest(http.MethodGet, "/", nil), rec.Result())
	got, err := a.VerifyRequest(req)
	if err != nil || got.ID != s.ID {
		t.Fatalf("VerifyRequest = %+v, %v", got, err)
	}

	rec = httptest.NewRecorder()
	ended, err := a.EndSession(rec, req)
	if err != nil || ended == nil || ended.ID != s.ID {
		t.Fatalf("EndSession = %+v, %v", ended, err)
	}
	if c := cookieNamed(rec.Result(), "access_token"); c == nil || c.MaxAge != -1 {
		t.Errorf("EndSession did not clear the cookie: %v", c)
	}
	if _, err := a.VerifyRequest(req); !errors.Is(err, ErrRevoked) {
		t.Errorf("after EndSession: %v, want ErrRevoked", err)
	}
	ended, err = a.EndSession(httptest.NewRecorder(), req)
	if ended != nil || err != nil {
		t.Errorf("second EndSession = %+v, %v; want nil, nil", ended, err)
	}
	if _, err := a.StartSession(httptest.NewRecorder(), req, &User{}); err == nil {
		t.Error("StartSession accepted a user without identifier")
	}
	if _, err := a.VerifyRequest(httptest.NewRequest(http.MethodGet, "/", nil)); !errors.Is(err, ErrNoSession) {
		t.Errorf("no token: %v, want ErrNoSession", err)
	}
}

func TestRevokeUserLogsOutEverywhere(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{})
	ctx := context.Background()
	ada1 := issue(t, a, &User{Identifier: "ada"})
	clk.Advance(time.Minute)
	ada2 := issue(t, a, &User{Identifier: "ada"})
	bob := issue(t, a, &User{Identifier: "bob"})

	if err := a.EndUserSessions(ctx, "ada"); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{ada1, ada2} {
		if _, err := a.VerifyToken(ctx, tok); !errors.Is(err, ErrRevoked) {
			t.Errorf("ada's session after RevokeUser: %v, want ErrRevoked", err)
		}
	}
	if _, err := a.VerifyToken(ctx, bob); err != nil {
		t.Errorf("bob's session after RevokeUser(ada): %v", err)
	}
	clk.Advance(time.Second)
	if _, err := a.VerifyToken(ctx, issue(t, a, &User{Identifier: "ada"})); err != nil {
		t.Errorf("ada's new session: %v", err)
	}
}

// TestRevokeUserThenLoginInTheSameSecond: sessions carry their issue time
// in milliseconds, so a login a moment after "log out everywhere", in the
// same second, is not revoked with the sessions before it; a Chainlit token
// (whole seconds only) issued in that second counts as issued at its start.
func TestRevokeUserThenLoginInTheSameSecond(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{})
	ctx := context.Background()
	clk.Advance(400 * time.Millisecond)
	before := issue(t, a, &User{Identifier: "ada"})
	chainlit := chainlitToken(t, testSecret, clk.Now(), time.Hour)
	for _, id := range []string{"ada", "ada@example.com"} { // chainlitToken's user
		if err := a.EndUserSessions(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for name, tok := range map[string]string{"session of the same millisecond": before, "Chainlit token of the same second": chainlit} {
		if _, err := a.VerifyToken(ctx, tok); !errors.Is(err, ErrRevoked) {
			t.Errorf("%s: %v, want ErrRevoked", name, err)
		}
	}
	clk.Advance(time.Millisecond)
	after := issue(t, a, &User{Identifier: "ada"})
	if s, err := a.VerifyToken(ctx, after); err != nil {
		t.Errorf("session a millisecond after, same second: %v", err)
	} else if !s.IssuedAt.Equal(clk.Now().Truncate(time.Millisecond)) {
		t.Errorf("IssuedAt = %v, want %v", s.IssuedAt, clk.Now())
	}
}

// failingStore is a RevocationStore and Throttle that cannot be reached.
type failingStore struct{}

var errStoreDown = errors.New("connection refused")

func (failingStore) Revoke(context.Context, Revocation) error         { return errStoreDown }
func (failingStore) RevokeUser(context.Context, UserRevocation) error { return errStoreDown }
func (failingStore) Revoked(context.Context, *Session) (bool, error)  { return false, errStoreDown }
func (failingStore) FirstUse(context.Context, string, time.Time) (bool, error) {
	return false, errStoreDown
}
func (failingStore) Hit(context.Context, string, int, time.Duration) (time.Duration, error) {
	return 0, errStoreDown
}
func (failingStore) Reset(context.Context, string) error   { return errStoreDown }
func (failingStore) Forgive(context.Context, string) error { return errStoreDown }

func TestStoreUnavailableIs503(t *testing.T) {
	a, _, logs := newTestAuth(t, Config{Stores: StoresConfig{Revocations: failingStore{}, Throttle: failingStore{}}})
	a.OnPassword(acceptUser(&User{Identifier: "ada"}))
	token := issue(t, a, &User{Identifier: "ada"})

	resp := serve(t, a, userRequest(a, token))
	wantError(t, resp, http.StatusServiceUnavailable, "session store unavailable")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	wantError(t, serve(t, a, loginRequest("", "ada", "pw")), http.StatusServiceUnavailable, "session store unavailable")

	logout := httptest.NewRequest(http.MethodPost, "/logout", nil)
	logout.AddCookie(&http.Cookie{Name: "access_token", Value: token})
	wantError(t, serve(t, a, logout), http.StatusServiceUnavailable, "session store unavailable")
	if !strings.Contains(logs.String(), "auth.reason=store_unavailable") {
		t.Errorf("reason not logged:\n%s", logs)
	}
}

func TestOversizedInputsAre4xx(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	a.OnPassword(acceptUser(&User{Identifier: "ada"}))
	valid := issue(t, a, &User{Identifier: "ada"})
	hugeCookie := func(req *http.Request) {
		req.AddCookie(&http.Cookie{Name: "access_token", Value: strings.Repeat("a", 17<<10)})
	}
	hugeChunks := func(req *http.Request) {
		req.AddCookie(&http.Cookie{Name: "access_token_0", Value: strings.Repeat("a", 3000)})
		for i := 1; i < 8; i++ {
			req.AddCookie(&http.Cookie{Name: fmt.Sprintf("access_token_%d", i), Value: strings.Repeat("a", 3000)})
		}
	}
	tenThousandChunks := func(req *http.Request) {
		var b strings.Builder
		for i := range 10000 {
			fmt.Fprintf(&b, "access_token_%d=v; ", i)
		}
		req.Header.Set("Cookie", b.String())
	}
	hugeBearer := func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+strings.Repeat("a", 1<<20)) }
	hugeBearerWords := func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+valid+strings.Repeat(" x", 1<<18)) }

	inputs := map[string]func(*http.Request){
		"cookie over 16 KiB": hugeCookie, "8 chunks of 3000": hugeChunks, "10000 chunk cookies": tenThousandChunks,
		"huge Authorization": hugeBearer, "Authorization of many words": hugeBearerWords,
	}
	routes := map[string]func() (*http.Request, http.Handler){
		"GET /user":    func() (*http.Request, http.Handler) { return httptest.NewRequest("GET", "/user", nil), a },
		"POST /logout": func() (*http.Request, http.Handler) { return httptest.NewRequest("POST", "/logout", nil), a },
		"POST /auth/jwt": func() (*http.Request, http.Handler) {
			return httptest.NewRequest("POST", "/auth/jwt", nil), a
		},
		"POST /login": func() (*http.Request, http.Handler) { return loginRequest("", "ada", "pw"), a },
		"RequireUser": func() (*http.Request, http.Handler) {
			return httptest.NewRequest("GET", "/chat", nil), a.RequireUser(whoAmI)
		},
		"WithUser": func() (*http.Request, http.Handler) {
			return httptest.NewRequest("GET", "/chat", nil), a.WithUser(whoAmI)
		},
	}
	for in, apply := range inputs {
		for route, newReq := range routes {
			t.Run(in+" "+route, func(t *testing.T) {
				req, h := newReq()
				apply(req)
				resp := serve(t, h, req)
				body := readBody(t, resp)
				if resp.StatusCode >= 500 {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				if route == "GET /user" || route == "RequireUser" {
					if resp.StatusCode < 400 || resp.Header.Get("Content-Type") != "application/json" {
						t.Errorf("status %d, Content-Type %q; want a 4xx JSON error", resp.StatusCode, resp.Header.Get("Content-Type"))
					}
				}
				if n := len(resp.Header["Set-Cookie"]); n > 70 {
					t.Errorf("%d Set-Cookie lines", n)
				}
			})
		}
	}
}

func TestOversizedHeadersOverHTTP(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/user", nil)
	req.Header.Set("Authorization", "Bearer "+strings.Repeat("a", 2<<20))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 || resp.StatusCode > 499 {
		t.Errorf("2 MiB header: %d, want 4xx", resp.StatusCode)
	}
}

// TestCookieMaxAgeRoundsUp: the cookie never goes before its token (a
// token with 3.4 s left used to get Max-Age=3), and outlives it by less
// than a second.
func TestCookieMaxAgeRoundsUp(t *testing.T) {
	for _, frac := range []time.Duration{0, time.Millisecond, 400 * time.Millisecond, 970 * time.Millisecond} {
		for name, start := range map[string]func(t *testing.T, a *Auth, now time.Time) *http.Response{
			"login": func(t *testing.T, a *Auth, now time.Time) *http.Response {
				return serve(t, a, loginRequest("", "ada", "pw"))
			},
			"/auth/jwt": func(t *testing.T, a *Auth, now time.Time) *http.Response {
				// The presented token ends 4 s after the start of this second.
				return jwtLogin(t, a, rawToken(hs256, map[string]any{"identifier": "ada",
					"iat": now.Unix(), "exp": now.Truncate(time.Second).Add(4 * time.Second).Unix()}, testSecret))
			},
		} {
			t.Run(fmt.Sprintf("%s at +%v", name, frac), func(t *testing.T) {
				a, clk, _ := newTestAuth(t, Config{Session: SessionConfig{Timeout: 3 * time.Second}})
				a.OnPassword(acceptUser(&User{Identifier: "ada"}))
				clk.Advance(frac)
				now := clk.Now()
				resp := start(t, a, now)
				c := cookieNamed(resp, "access_token")
				if c == nil {
					t.Fatalf("no cookie: %d", resp.StatusCode)
				}
				s, err := a.VerifyToken(context.Background(), c.Value)
				if err != nil {
					t.Fatal(err)
				}
				left := s.ExpiresAt.Sub(now)
				if maxAge := time.Duration(c.MaxAge) * time.Second; maxAge < left || maxAge >= left+time.Second {
					t.Errorf("Max-Age %d for a token with %v left", c.MaxAge, left)
				}
			})
		}
	}
}

// sessionStatus answers GET R/user with token as a bearer: 200 or 401.
func sessionStatus(t *testing.T, a *Auth, token string) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/user", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return serve(t, a, req).StatusCode
}

// exchange is POST R/auth/jwt with bearer (and cookie, if any): the new
// session cookie.
func exchange(t *testing.T, a *Auth, bearer, cookie string) string {
	t.Helper()
	req := jwtRequest("Bearer " + bearer)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "access_token", Value: cookie})
	}
	resp := serve(t, a, req)
	wantSuccess(t, resp)
	return cookieNamed(resp, "access_token").Value
}

// passwordLogin is POST R/login as ada, with cookie (if any): the new
// session cookie.
func passwordLogin(t *testing.T, a *Auth, cookie string) string {
	t.Helper()
	req := loginRequest("", "ada", "pw")
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "access_token", Value: cookie})
	}
	resp := serve(t, a, req)
	wantSuccess(t, resp)
	return cookieNamed(resp, "access_token").Value
}

// logoutWith is POST R/logout with token as a bearer.
func logoutWith(t *testing.T, a *Auth, token string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/logout", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	wantSuccess(t, serve(t, a, req))
}

// TestLogoutEndsSessionFamily is recipe 11.3 and its relatives: a token
// made from another of ours (POST /auth/jwt, a login again in the same
// browser, a Chainlit token exchanged) joins its session, and logging out
// with any member ends every member. Other users' sessions live on.
func TestLogoutEndsSessionFamily(t *testing.T) {
	tests := []struct {
		name string
		// family returns the tokens of one session, and which logs out.
		family func(t *testing.T, a *Auth, clk *testClock) (members []string, logout string)
	}{
		{"recipe 11.3", func(t *testing.T, a *Auth, clk *testClock) ([]string, string) {
			A := passwordLogin(t, a, "")
			B := exchange(t, a, A, "")
			return []string{A, B}, A
		}},
		{"logout with B ends A", func(t *testing.T, a *Auth, clk *testClock) ([]string, string) {
			A := passwordLogin(t, a, "")
			B := exchange(t, a, A, "")
			return []string{A, B}, B
		}},
		{"a copy of a copy", func(t *testing.T, a *Auth, clk *testClock) ([]string, string) {
			A := passwordLogin(t, a, "")
			B := exchange(t, a, A, "")
			C := exchange(t, a, B, "")
			return []string{A, B, C}, C
		}},
		{"a login again in the same browser joins, a stolen copy ends with it", func(t *testing.T, a *Auth, clk *testClock) ([]string, string) {
			A := passwordLogin(t, a, "")
			stolen := exchange(t, a, A, "")
			clk.Advance(time.Hour)
			C := passwordLogin(t, a, A) // replaces A, which is revoked at once
			if got := sessionStatus(t, a, A); got != http.StatusUnauthorized {
				t.Errorf("replaced token: %d, want 401", got)
			}
			if got := sessionStatus(t, a, stolen); got != http.StatusOK {
				t.Errorf("copy before the logout: %d, want 200", got)
			}
			return []string{stolen, C}, C
		}},
		{"logout with the old copy ends the later login, whatever its end", func(t *testing.T, a *Auth, clk *testClock) ([]string, string) {
			A := passwordLogin(t, a, "")
			stolen := exchange(t, a, A, "")
			clk.Advance(14 * 24 * time.Hour)
			C := passwordLogin(t, a, A) // ends 15 days from now, past stolen's end
			return []string{stolen, C}, stolen
		}},
		{"Chainlit token without jti", func(t *testing.T, a *Auth, clk *testClock) ([]string, string) {
			chainlit := chainlitToken(t, testSecret, clk.Now(), time.Hour)
			B := exchange(t, a, chainlit, "")
			return []string{chainlit, B}, chainlit
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, clk, _ := newTestAuth(t, Config{})
			a.OnPassword(acceptUser(&User{Identifier: "ada"}))
			members, with := tt.family(t, a, clk)
			other := issue(t, a, &User{Identifier: "bob"})
			var ids []string
			for _, m := range members {
				s, err := a.VerifyToken(context.Background(), m)
				if err != nil {
					t.Fatalf("member before logout: %v", err)
				}
				ids = append(ids, s.ID)
			}
			if distinct := slices.Compact(slices.Clone(ids)); len(distinct) != 1 {
				t.Errorf("members have session ids %v, want one", ids)
			}
			logoutWith(t, a, with)
			clk.Advance(15 * 24 * time.Hour / 2)
			for i, m := range members {
				if got := sessionStatus(t, a, m); got != http.StatusUnauthorized {
					t.Errorf("member %d after logout: %d, want 401", i, got)
				}
			}
			if got := sessionStatus(t, a, other); got != http.StatusOK {
				t.Errorf("another user's session: %d, want 200", got)
			}
		})
	}
}

// TestLoginAsAnotherUserStartsItsOwnSession: a login of another user in
// the same browser ends the cookie's token but joins nothing.
func TestLoginAsAnotherUserStartsItsOwnSession(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	a.OnPassword(acceptUser(&User{Identifier: "ada"}))
	bob, bobSession, _ := a.IssueToken(&User{Identifier: "bob"})
	bobCopy := exchange(t, a, bob, "")
	ada := passwordLogin(t, a, bob)
	s, err := a.VerifyToken(context.Background(), ada)
	if err != nil || s.ID == bobSession.ID {
		t.Fatalf("ada's session %+v, %v: want a session of its own", s, err)
	}
	if got := sessionStatus(t, a, bob); got != http.StatusUnauthorized {
		t.Errorf("bob's replaced token: %d, want 401", got)
	}
	if got := sessionStatus(t, a, bobCopy); got != http.StatusOK {
		t.Errorf("bob's other token: %d, want 200 (only the replaced token ends)", got)
	}
}

// TestRevokeUserThenStartSession is issue 17.1: a session started after
// RevokeUser returns is never revoked by it, and every session started
// before is, whatever the clock says: frozen (every call in one
// millisecond) or real.
func TestRevokeUserThenStartSession(t *testing.T) {
	for _, frozen := range []bool{true, false} {
		t.Run(map[bool]string{true: "frozen_clock", false: "real_clock"}[frozen], func(t *testing.T) {
			a, _, _ := newTestAuth(t, Config{})
			if !frozen {
				a.now = time.Now
				a.cfg.Revocations.(*memoryRevocationStore).now = time.Now
			}
			ctx := context.Background()
			u := &User{Identifier: "ada"}
			var previous *http.Request
			for i := range 1000 {
				if err := a.EndUserSessions(ctx, "ada"); err != nil {
					t.Fatal(err)
				}
				if previous != nil {
					if _, err := a.VerifyRequest(previous); !errors.Is(err, ErrRevoked) {
						t.Fatalf("iteration %d: session started before RevokeUser: %v, want ErrRevoked", i, err)
					}
				}
				rec := httptest.NewRecorder()
				if _, err := a.StartSession(rec, httptest.NewRequest(http.MethodPost, "/my-login", nil), u); err != nil {
					t.Fatal(err)
				}
				previous = addCookies(httptest.NewRequest(http.MethodGet, "/", nil), rec.Result())
				if _, err := a.VerifyRequest(previous); err != nil {
					t.Fatalf("iteration %d: session started after RevokeUser returned: %v", i, err)
				}
			}
		})
	}
}

// chainlitSetCookie is the Set-Cookie line Chainlit 2.11.1 sends with a
// session (or one chunk of it), derived from its source: auth/cookie.py's
// set_auth_cookie calls Starlette's Response.set_cookie(key, value,
// httponly=True, secure=_cookie_secure, samesite=_cookie_samesite,
// max_age=config.project.user_session_timeout) and passes no path, so
// Starlette's default path="/" applies whatever CHAINLIT_ROOT_PATH is.
// Starlette formats it with Python's http.cookies.SimpleCookie, whose
// Morsel writes the attributes sorted by name: HttpOnly, Max-Age, Path,
// SameSite (the value as given, "lax" by default), and Secure only with
// CHAINLIT_COOKIE_SAMESITE=none. (clear_auth_cookie's delete_cookie line
// is access_token=""; expires=<now>; Max-Age=0; Path=<CHAINLIT_AUTH_COOKIE_PATH>; SameSite=lax.)
func chainlitSetCookie(name, value string) string {
	return name + "=" + value + "; HttpOnly; Max-Age=1296000; Path=/; SameSite=lax"
}

// chainlitTokenFor is a token as Chainlit's create_jwt makes it for
// identifier with metadata given as JSON text: the user's to_dict() plus
// exp and iat, HS256, no kid, no jti.
func chainlitTokenFor(clk *testClock, identifier, metadataJSON string) string {
	now := clk.Now()
	return signedJSON(`{"alg":"HS256","typ":"JWT"}`,
		fmt.Sprintf(`{"identifier":%q,"display_name":null,"metadata":%s,"exp":%d,"iat":%d}`,
			identifier, metadataJSON, now.Add(15*24*time.Hour).Unix(), now.Unix()), testSecret)
}

// jarNames lists the names of the cookies jar sends to u, sorted.
func jarNames(t *testing.T, jar http.CookieJar, u string) []string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range jar.Cookies(parsed) {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	return names
}

// TestChainlitRootCookieIsDeleted: under a root path, a browser that
// still holds the Path=/ session cookie of the Chainlit deployment that
// ran before loses it at logout and at its next login, as a real cookie
// jar sees it; with CookiePath "/" our cookie simply replaces it.
func TestChainlitRootCookieIsDeleted(t *testing.T) {
	type step struct{ method, path string }
	for _, tt := range []struct {
		name    string
		cfg     Config
		chunked bool
		do      step
		atRoot  []string // cookies the browser then sends to "/"
		atChat  []string // and to "/chat/"
	}{
		{"logout under a root path", Config{RootPath: "/chat"}, false, step{"POST", "/chat/logout"}, nil, nil},
		{"logout, chunked", Config{RootPath: "/chat"}, true, step{"POST", "/chat/logout"}, nil, nil},
		{"login under a root path", Config{RootPath: "/chat"}, false, step{"POST", "/chat/login"}, nil, []string{"access_token"}},
		{"login, chunked", Config{RootPath: "/chat"}, true, step{"POST", "/chat/login"}, nil, []string{"access_token"}},
		{"login with CookiePath /", Config{RootPath: "/chat", Cookie: CookieConfig{Path: "/"}}, true, step{"POST", "/chat/login"},
			[]string{"access_token"}, []string{"access_token"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, clk, _ := newTestAuth(t, tt.cfg)
			a.OnPassword(acceptUser(&User{Identifier: "ada"}))
			srv := httptest.NewServer(a)
			t.Cleanup(srv.Close)
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar}

			token := chainlitTokenFor(clk, "grace", `{}`)
			lines := []string{chainlitSetCookie("access_token", token)}
			if tt.chunked {
				token = chainlitTokenFor(clk, "grace", fmt.Sprintf(`{"notes":%q}`, strings.Repeat("n", 4000)))
				lines = []string{chainlitSetCookie("access_token_0", token[:3000]), chainlitSetCookie("access_token_1", token[3000:])}
			}
			var cookies []*http.Cookie
			for _, line := range lines {
				c, err := http.ParseSetCookie(line)
				if err != nil {
					t.Fatal(err)
				}
				cookies = append(cookies, c)
			}
			root, _ := url.Parse(srv.URL + "/")
			jar.SetCookies(root, cookies)

			if got := userOfClient(t, client, srv.URL+"/chat/user"); got != "grace" {
				t.Fatalf("Chainlit's cookie: GET /chat/user = %q, want grace", got)
			}
			var body url.Values
			if tt.do.path == "/chat/login" {
				body = url.Values{"username": {"ada"}, "password": {"pw"}}
			}
			resp, err := client.PostForm(srv.URL+tt.do.path, body)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s %s = %d", tt.do.method, tt.do.path, resp.StatusCode)
			}
			if got := jarNames(t, jar, srv.URL+"/"); !slices.Equal(got, tt.atRoot) {
				t.Errorf("cookies for /: %v, want %v", got, tt.atRoot)
			}
			if got := jarNames(t, jar, srv.URL+"/chat/"); !slices.Equal(got, tt.atChat) {
				t.Errorf("cookies for /chat/: %v, want %v", got, tt.atChat)
			}
			// Logout, and a login that replaces a session, also revoke it.
			if _, err = a.VerifyToken(t.Context(), token); !errors.Is(err, ErrRevoked) {
				t.Errorf("Chainlit's token afterwards: %v, want ErrRevoked", err)
			}
			if tt.atChat != nil {
				if got := userOfClient(t, client, srv.URL+"/chat/user"); got != "ada" {
					t.Errorf("after login: GET /chat/user = %q, want ada", got)
				}
			}
		})
	}
}

// TestRevokeOtherSessions is "log out my other devices": the session it
// is given, and its renewals, live; every other session of the user ends,
// a copy made from the kept one at POST /auth/jwt included.
func TestRevokeOtherSessions(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{Session: SessionConfig{IdleTimeout: time.Hour}, RequireLogin: true})
	ctx := context.Background()
	this, thisSession, _ := a.issueToken(&User{Identifier: "ada"}, a.newGrant(zeroTime, ""))
	copied := exchange(t, a, this, "")
	phone := issue(t, a, &User{Identifier: "ada"})
	bob := issue(t, a, &User{Identifier: "bob"})
	if err := a.EndOtherSessions(ctx, thisSession); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		token string
		want  int
	}{
		"this session":         {this, http.StatusOK},
		"a copy of it":         {copied, http.StatusUnauthorized},
		"another device":       {phone, http.StatusUnauthorized},
		"another user":         {bob, http.StatusOK},
		"a session after that": {issue(t, a, &User{Identifier: "ada"}), http.StatusOK},
	} {
		if got := sessionStatus(t, a, tc.token); got != tc.want {
			t.Errorf("%s: %d, want %d", name, got, tc.want)
		}
	}
	clk.Advance(31 * time.Minute) // past half the idle timeout: renewed
	renewed := cookieNamed(getWithCookie(t, protected(a), a, this), "access_token")
	if renewed == nil || sessionStatus(t, a, renewed.Value) != http.StatusOK {
		t.Fatalf("renewal of the kept session: %v", renewed)
	}
	if err := a.EndUserSessions(ctx, "ada"); err != nil {
		t.Fatal(err)
	}
	if got := sessionStatus(t, a, renewed.Value); got != http.StatusUnauthorized {
		t.Errorf("kept session after RevokeUser: %d, want 401", got)
	}
	for _, s := range []*Session{nil, {}, {User: &User{Identifier: "ada"}}} {
		if err := a.EndOtherSessions(ctx, s); err == nil {
			t.Errorf("EndOtherSessions(%+v): no error", s)
		}
	}
	if err := a.EndUserSessions(ctx, ""); err == nil {
		t.Error("RevokeUser(\"\"): no error")
	}
}

// TestTokensWithoutSessionIDReplacedSafely: a token that is its own
// session (Chainlit's, or an older chatauth token without sid) is not
// joined by a login that replaces it, which revokes it; exchanged at POST
// /auth/jwt while also the cookie, it does not end the session just made
// from it.
func TestTokensWithoutSessionIDReplacedSafely(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{})
	a.OnPassword(acceptUser(&User{Identifier: "ada@example.com"}))
	chainlit := chainlitToken(t, testSecret, clk.Now(), time.Hour)
	relogin := loginRequest("", "ada@example.com", "pw")
	relogin.AddCookie(&http.Cookie{Name: "access_token", Value: chainlit})
	resp := serve(t, a, relogin)
	wantSuccess(t, resp)
	if got := sessionStatus(t, a, cookieNamed(resp, "access_token").Value); got != http.StatusOK {
		t.Errorf("login replacing a Chainlit token: new session %d, want 200", got)
	}
	if got := sessionStatus(t, a, chainlit); got != http.StatusUnauthorized {
		t.Errorf("the replaced Chainlit token: %d, want 401", got)
	}

	other := chainlitToken(t, testSecret, clk.Now().Add(time.Second), time.Hour)
	exchanged := exchange(t, a, other, other)
	for name, tok := range map[string]string{"exchanged": exchanged, "presented": other} {
		if got := sessionStatus(t, a, tok); got != http.StatusOK {
			t.Errorf("%s token after POST /auth/jwt with it as bearer and cookie: %d, want 200", name, got)
		}
	}
	logoutWith(t, a, other)
	if got := sessionStatus(t, a, exchanged); got != http.StatusUnauthorized {
		t.Errorf("exchanged token after logout with the Chainlit token: %d, want 401", got)
	}
}

// userOfClient is the identifier GET u answers with client's cookies, or
// "" when it is not a 200.
func userOfClient(t *testing.T, client *http.Client, u string) string {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var user User
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&user) != nil {
		return ""
	}
	return user.Identifier
}

func TestCookiePathFromEnv(t *testing.T) {
	for _, tt := range []struct{ root, path, want string }{
		{"", "", "/"},
		{"/chat", "", "/chat"},
		{"/chat", "/", "/"},
		{"/chat/app", "/chat", "/chat"},
		{"/chat", "/chat/", "/chat"},
	} {
		cfg, err := ConfigFromEnv(func(k string) string {
			return map[string]string{"CHAINLIT_AUTH_SECRET": string(testSecret), "CHAINLIT_ROOT_PATH": tt.root,
				"CHAINLIT_AUTH_COOKIE_PATH": tt.path}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		a, _, _ := newTestAuth(t, cfg)
		rec := httptest.NewRecorder()
		if _, err := a.StartSession(rec, httptest.NewRequest(http.MethodGet, "/", nil), &User{Identifier: "ada"}); err != nil {
			t.Fatal(err)
		}
		if c := cookieNamed(rec.Result(), "access_token"); c == nil || c.Path != tt.want {
			t.Errorf("root %q, CHAINLIT_AUTH_COOKIE_PATH %q: cookie %v, want Path=%s", tt.root, tt.path, c, tt.want)
		}
	}
}

// malformedCookieCases are bad session cookies and chunks.
func malformedCookieCases() []badCase {
	return []badCase{
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
}

// TestMalformedSessionCookies: duplicated, gapped, oversized or countless
// session cookies and chunks get an exact answer, never a session.
func TestMalformedSessionCookies(t *testing.T) { runBadCases(t, malformedCookieCases()) }

// malformedAuthorizationCases are bad Authorization and WebSocket
// bearer headers.
func malformedAuthorizationCases() []badCase {
	return []badCase{
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
}

// TestMalformedAuthorizationHeaders: bad Bearer headers and WebSocket
// bearer subprotocols get an exact answer.
func TestMalformedAuthorizationHeaders(t *testing.T) { runBadCases(t, malformedAuthorizationCases()) }

// fuzzToken signs claims (valid at fuzzNow unless mod changes them) with
// secret, the way Chainlit does (no kid) or with extra header fields.
// Deterministic, so that its tokens can live in the seed corpus.
func fuzzToken(secret []byte, header map[string]any, mod func(map[string]any)) string {
	h := map[string]any{"alg": "HS256", "typ": "JWT"}
	for k, v := range header {
		h[k] = v
	}
	c := map[string]any{"identifier": "ada", "display_name": "Ada", "metadata": map[string]any{"role": "admin"},
		"iat": fuzzNow.Unix(), "exp": fuzzNow.Add(24 * time.Hour).Unix()}
	if mod != nil {
		mod(c)
	}
	return rawToken(h, c, secret)
}

// respellSignature changes the low bits of the signature's last base64url
// character, which carry no data: the same signature, spelled otherwise.
func respellSignature(token string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, token[len(token)-1])
	return token[:len(token)-1] + string(alphabet[i^1])
}

// refIdentifier verifies a session token the way the contract defines one,
// with golang-jwt alone: HS256 with testSecret (named by its kid, or by
// none as in Chainlit's tokens), exp required and after now, iat not in the
// future beyond the 5 s leeway, and a non-empty identifier.
func refIdentifier(token string) (string, bool) {
	p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithStrictDecoding(), jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), jwt.WithLeeway(5*time.Second), jwt.WithTimeFunc(func() time.Time { return fuzzNow }))
	var c tokenClaims
	_, err := p.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		if kid, ok := t.Header["kid"]; ok && kid != keyID(testSecret) {
			return nil, errors.New("unknown kid")
		}
		return testSecret, nil
	})
	if err != nil || c.Identifier == "" || c.ExpiresAt == nil || !fuzzNow.Before(c.ExpiresAt.Time) {
		return "", false
	}
	return c.Identifier, true
}

// cookieOctets reports whether v is made of RFC 6265 cookie-octets only,
// so that a Cookie header carries it unchanged.
func cookieOctets(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}

// specBearer reads an Authorization value by the contract: exactly two
// words, the first "Bearer" in any case. determinable is false when the
// value holds whitespace other than spaces and tabs, or non-ASCII, where
// "word" is open to interpretation.
func specBearer(h string) (token string, determinable bool) {
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < ' ' && c != '\t') || c >= 0x7f {
			return "", false
		}
	}
	words := strings.FieldsFunc(h, func(r rune) bool { return r == ' ' || r == '\t' })
	if len(words) == 2 && strings.EqualFold(words[0], "bearer") {
		return words[1], true
	}
	return "", true
}

// tokenCandidates is every string a lenient reader could take for the
// session token in these headers: each cookie value (trimmed, unquoted),
// the chunks joined, and the second word of Authorization.
func tokenCandidates(cookieHeader, authorization string) []string {
	out := []string{authorization}
	chunks := map[int]string{}
	for _, part := range strings.Split(cookieHeader, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		out = append(out, v)
		if n, ok := strings.CutPrefix(k, "access_token_"); ok {
			if i, err := strconv.Atoi(n); err == nil {
				if _, seen := chunks[i]; !seen {
					chunks[i] = v
				}
			}
		}
	}
	var joined strings.Builder
	for i := 0; ; i++ {
		v, ok := chunks[i]
		if !ok {
			break
		}
		joined.WriteString(v)
	}
	out = append(out, joined.String())
	h := strings.TrimSpace(authorization)
	if i := strings.IndexAny(h, " \t"); i >= 0 {
		out = append(out, strings.TrimSpace(h[i+1:]))
	}
	return out
}

// Modes of FuzzSessionToken: which headers the request carries and how.
const (
	tokCookie        = 1 << iota // send the cookie argument as the session cookie
	tokAuthorization             // send the authorization argument as Authorization
	tokChunked                   // send the cookie as two chunks, access_token_0 and _1
	tokChunksReverse             // ... with _1 first in the header
	tokValidCookie               // replace the cookie argument with a valid token
	tokValidBearer               // replace the authorization argument with "Bearer <valid token>"
)

// FuzzSessionToken drives GET /user with arbitrary session cookies (whole or
// chunked) and Authorization headers. It never panics and answers 200 only
// for a token that verifies under golang-jwt with the test key (and then
// with that token's user), 401 otherwise, 431 only for oversized input;
// where the contract decides which token the request presents (cookie,
// then chunks, then Bearer), the answer is exactly that token's verdict.
func FuzzSessionToken(f *testing.F) {
	a := newFuzzAuth(f, Config{RequireLogin: true})
	valid := fuzzToken(testSecret, nil, nil)
	withKid := fuzzToken(testSecret, map[string]any{"kid": keyID(testSecret)}, nil)
	for _, s := range []struct {
		cookie, authorization string
		mode                  uint8
	}{
		{valid, "", tokCookie},
		{withKid, "", tokCookie | tokChunked},
		{"", "Bearer " + valid, tokAuthorization},
		{"garbage", "bearer\t" + valid, tokCookie | tokAuthorization},
		{"", "", tokCookie | tokAuthorization | tokValidBearer},
		{`"` + valid + `"`, "Basic YTpi", tokCookie | tokAuthorization},
		{fuzzToken(testSecret, nil, func(c map[string]any) { c["exp"] = fuzzNow.Unix() }), "", tokCookie},
		{fuzzToken([]byte(strings.Repeat("o", 32)), nil, nil), "", tokCookie},
		{fuzzToken(testSecret, map[string]any{"alg": "none"}, nil), "", tokCookie},
		{"x;access_token_0=" + valid, "", tokCookie},
		// One spelling per token: a revoked Chainlit token (named by its
		// hash) must not come back with other trailing bits.
		{respellSignature(valid), "", tokCookie},
		{"", "Bearer " + respellSignature(valid), tokAuthorization},
	} {
		f.Add(s.cookie, s.authorization, s.mode)
	}
	f.Fuzz(func(t *testing.T, cookie, authorization string, mode uint8) {
		if mode&tokValidCookie != 0 {
			cookie = valid
		}
		if mode&tokValidBearer != 0 {
			authorization = "Bearer " + valid
		}
		req := httptest.NewRequest(http.MethodGet, "/user", nil)
		var cookieHeader string
		if mode&tokCookie != 0 {
			cookieHeader = "access_token=" + cookie
			if mode&tokChunked != 0 {
				half := len(cookie) / 2
				c0, c1 := "access_token_0="+cookie[:half], "access_token_1="+cookie[half:]
				cookieHeader = c0 + "; " + c1
				if mode&tokChunksReverse != 0 {
					cookieHeader = c1 + "; " + c0
				}
			}
			req.Header.Set("Cookie", cookieHeader)
		}
		if mode&tokAuthorization != 0 {
			req.Header.Set("Authorization", authorization)
		} else {
			authorization = ""
		}
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		body := rec.Body.String()

		oversized := len(cookieHeader) > MaxTokenBytes || len(authorization) > MaxTokenBytes
		switch rec.Code {
		case http.StatusOK:
		case http.StatusUnauthorized:
			// Chainlit's three answers: no token, another scheme, a bad token.
			switch d := strings.TrimSpace(rec.Body.String()); d {
			case `{"detail":"Not authenticated"}`, `{"detail":"Invalid authentication credentials"}`:
			default:
				wantDetail(t, rec, "Invalid authentication token")
			}
		case http.StatusRequestHeaderFieldsTooLarge:
			if !oversized {
				t.Fatalf("431 for a cookie of %d and a header of %d bytes", len(cookieHeader), len(authorization))
			}
		default:
			t.Fatalf("status %d (mode %#x), want 200, 401 or 431", rec.Code, mode)
		}

		// The token the contract says the request presents, when that is
		// clear-cut: the cookie (whole or joined chunks), else Bearer.
		presented, exact := "", true
		if mode&tokCookie != 0 && cookie != "" {
			presented, exact = cookie, cookieOctets(cookie)
		}
		if exact && presented == "" && mode&tokAuthorization != 0 {
			presented, exact = specBearer(authorization)
		}
		if exact {
			want := http.StatusUnauthorized
			if len(presented) > MaxTokenBytes {
				want = http.StatusRequestHeaderFieldsTooLarge
			} else if _, ok := refIdentifier(presented); ok {
				want = http.StatusOK
			}
			if rec.Code != want {
				t.Fatalf("status %d, want %d for the presented token (%d bytes, mode %#x)", rec.Code, want, len(presented), mode)
			}
		}
		if rec.Code != http.StatusOK {
			return
		}
		var u User
		if err := json.Unmarshal([]byte(body), &u); err != nil || u.Identifier == "" {
			t.Fatalf("200 without a user: %v", err)
		}
		for _, c := range tokenCandidates(cookieHeader, authorization) {
			if id, ok := refIdentifier(c); ok && id == u.Identifier {
				return
			}
		}
		t.Fatalf("200 for user %q, but no token in the request verifies for it (mode %#x)", u.Identifier, mode)
	})
}

// wantDetail checks a JSON error body {"detail": detail}.
func wantDetail(t *testing.T, rec *httptest.ResponseRecorder, detail string) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("status %d with Content-Type %q", rec.Code, ct)
	}
	var got map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got["detail"] != detail {
		t.Fatalf("status %d body %q, want detail %q", rec.Code, rec.Body.String(), detail)
	}
}

// TestSecurityCookiePrefixes covers ASVS 3.3.1 and 3.3.3: a session cookie
// named with the __Host- or __Secure- prefix gets the attributes browsers
// demand of it (Secure; for __Host-, Path=/ and no Domain), under a root
// path and over plain http too, on every chunk and when cleared.
func TestSecurityCookiePrefixes(t *testing.T) {
	for _, name := range []string{"__Host-access_token", "__Secure-access_token"} {
		t.Run(name, func(t *testing.T) {
			a := passwordApp(t, Config{Cookie: CookieConfig{Name: name}, RootPath: "/chat"})
			wantPath := "/chat"
			if strings.HasPrefix(name, "__Host-") {
				wantPath = "/"
			}
			check := func(what string, resp *http.Response) {
				t.Helper()
				cookies := resp.Cookies()
				if len(cookies) == 0 {
					t.Fatalf("%s: no cookies", what)
				}
				for _, c := range cookies {
					// Under a root path, deletions also go to the Path=/
					// copies a Chainlit deployment leaves.
					rootCopy := c.MaxAge < 0 && c.Path == "/"
					if !c.Secure || (c.Path != wantPath && !rootCopy) || c.Domain != "" || !c.HttpOnly {
						t.Errorf("%s: %s, want Secure, Path=%s, no Domain, HttpOnly", what, c, wantPath)
					}
				}
			}
			login := postLogin(t, a, "ada", "correct horse")
			check("login", login)
			session := mustCookie(t, login, name)
			if s := userStatus(t, a, session); s != http.StatusOK {
				t.Errorf("session cookie %s not read back: %d", name, s)
			}
			// A large session is chunked: every chunk has the attributes.
			rec := httptest.NewRecorder()
			big := User{Identifier: "ada", Metadata: map[string]any{"notes": strings.Repeat("n", 5000)}}
			if _, err := a.StartSession(rec, httptest.NewRequest(http.MethodGet, "/chat/", nil), &big); err != nil {
				t.Fatal(err)
			}
			if len(rec.Result().Cookies()) < 2 {
				t.Errorf("expected chunks, got %v", rec.Result().Cookies())
			}
			check("chunks", rec.Result())
			logout := httptest.NewRequest(http.MethodPost, "/chat/logout", nil)
			logout.AddCookie(&http.Cookie{Name: name, Value: session.Value})
			rec = httptest.NewRecorder()
			a.ServeHTTP(rec, logout)
			check("logout", rec.Result())
		})
	}
}
