package redisstore

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/internal/testutil"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind: a Store's
// listener must be gone once Close returns, and every client and server
// the tests make is closed.
// go-redis logs each failed dial through its own global logger; the
// tests kill Redis on purpose, so they keep that quiet.
func TestMain(m *testing.M) {
	redis.SetLogger(quietRedisLog{})
	goleak.VerifyTestMain(m)
}

type quietRedisLog struct{}

func (quietRedisLog) Printf(context.Context, string, ...any) {}

var testSecret = []byte("test-secret-test-secret-test-secret-0123")

// newStore makes a Store on its own client of srv, as one instance of an
// app would.
func newStore(t testing.TB, srv *redisServer, opts Options) *Store {
	t.Helper()
	if opts.Secret == nil {
		opts.Secret = testSecret
	}
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second // generous: -race on a shared machine
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return openStore(t, srv.Client(), opts)
}

// openStore is New, failing t on error, with the Store closed when the
// test ends (before its client).
func openStore(t testing.TB, client redis.UniversalClient, opts Options) *Store {
	t.Helper()
	s, err := New(client, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// instance is one app instance: an Auth on its own Store, served over
// loopback, with a password hook that accepts "right" and counts its calls.
type instance struct {
	auth      *chatauth.Auth
	store     *Store
	srv       *httptest.Server
	hookCalls atomic.Int64
}

func newInstance(t testing.TB, redisSrv *redisServer, opts Options, limits chatauth.PasswordLimits) *instance {
	t.Helper()
	return newInstanceOn(t, newStore(t, redisSrv, opts), limits)
}

// newInstanceOn is an instance on store.
func newInstanceOn(t testing.TB, store *Store, limits chatauth.PasswordLimits) *instance {
	t.Helper()
	in := &instance{store: store}
	a, err := chatauth.New(chatauth.Config{
		Secret: testSecret,
		Stores: chatauth.StoresConfig{
			Revocations: in.store,
			Throttle:    in.store,
			Tokens:      in.store,
		},
		Login: chatauth.LoginConfig{
			Limits: limits,
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	a.OnPassword(func(_ context.Context, username, password string) (*chatauth.User, error) {
		in.hookCalls.Add(1)
		if password != "right" {
			return nil, nil
		}
		return &chatauth.User{Identifier: username}, nil
	})
	in.auth = a
	in.srv = httptest.NewServer(a)
	t.Cleanup(in.srv.Close)
	return in
}

// login posts the password form and returns the status and session
// cookie; status 0 when the request failed (reported with t.Error, so that
// login may run in other goroutines).
func (in *instance) login(t testing.TB, username, password string) (int, *http.Cookie) {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}
	resp, err := in.srv.Client().PostForm(in.srv.URL+"/login", form)
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	for _, c := range resp.Cookies() {
		if c.Name == "access_token" && c.Value != "" {
			return resp.StatusCode, c
		}
	}
	return resp.StatusCode, nil
}

// mustLogin logs in with the right password.
func (in *instance) mustLogin(t testing.TB, username string) *http.Cookie {
	t.Helper()
	status, c := in.login(t, username, "right")
	if status != http.StatusOK || c == nil {
		t.Fatalf("login of %s: status %d, cookie %v", username, status, c)
	}
	return c
}

// do sends a request with the session cookie and returns status and body;
// status 0 when the request failed (reported with t.Error, as in login).
func (in *instance) do(t testing.TB, method, path string, c *http.Cookie) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, in.srv.URL+path, nil)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	if c != nil {
		req.AddCookie(c)
	}
	resp, err := in.srv.Client().Do(req)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}

// user is GET /user with the cookie: its status.
func (in *instance) user(t testing.TB, c *http.Cookie) int {
	t.Helper()
	status, _ := in.do(t, http.MethodGet, "/user", c)
	return status
}

// clock is a settable time for the Store's time-dependent parts: the
// repository's one test clock.
type clock = testutil.Clock

func newClock() *clock { return testutil.NewClock(time.Now()) }

// logRecorder is a slog.Handler keeping every record.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.records = append(h.records, r.Clone())
	h.mu.Unlock()
	return nil
}

// lines returns the records with message msg.
func (h *logRecorder) lines(msg string) []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []slog.Record
	for _, r := range h.records {
		if r.Message == msg {
			out = append(out, r)
		}
	}
	return out
}

// attr returns the value of the record's attribute key.
func attr(r slog.Record, key string) slog.Value {
	var v slog.Value
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value
			return false
		}
		return true
	})
	return v
}

// commandLog is a go-redis hook recording the commands a client sends,
// pipelined ones included.
type commandLog struct {
	mu   sync.Mutex
	cmds [][]string // one entry per round trip
}

func (l *commandLog) DialHook(next redis.DialHook) redis.DialHook { return next }

func (l *commandLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		l.record(cmd)
		return next(ctx, cmd)
	}
}

func (l *commandLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		l.record(cmds...)
		return next(ctx, cmds)
	}
}

func (l *commandLog) record(cmds ...redis.Cmder) {
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name())
	}
	l.mu.Lock()
	l.cmds = append(l.cmds, names)
	l.mu.Unlock()
}

// take returns the recorded round trips and forgets them.
func (l *commandLog) take() [][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.cmds
	l.cmds = nil
	return out
}

// sessionOf is a verified session of user whose token id and session id
// are both jti, as an older chatauth token has.
func sessionOf(user, jti string, iat time.Time) *chatauth.Session {
	return &chatauth.Session{User: &chatauth.User{Identifier: user}, ID: jti, TokenID: jti, IssuedAt: iat}
}

// revocationOf revokes id until expires.
func revocationOf(id string, expires time.Time) chatauth.Revocation {
	return chatauth.Revocation{ID: id, User: "alice", IssuedAt: time.Now(), Expires: expires}
}

// cutOf revokes user's sessions issued before before.
func cutOf(user string, before time.Time) chatauth.UserRevocation {
	return chatauth.UserRevocation{User: user, Before: before, Expires: before.Add(time.Hour)}
}

// firstUseErr keeps FirstUse's error.
func firstUseErr(_ bool, err error) error { return err }
