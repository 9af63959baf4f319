package chatauth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// protected is a RequireUser'd handler answering the user's identifier.
func protected(a *Auth) http.Handler {
	return a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, UserFrom(r.Context()).Identifier)
	}))
}

func getWithCookie(t *testing.T, h http.Handler, a *Auth, token string) *http.Response {
	t.Helper()
	req := httptest.NewRequest("GET", "/chat", nil)
	req.AddCookie(&http.Cookie{Name: a.CookieName(), Value: token})
	return serve(t, h, req)
}

func TestSlidingRenewal(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{Session: SessionConfig{IdleTimeout: time.Hour, Timeout: 3 * time.Hour}})
	a.OnPassword(acceptUser(&User{Identifier: "ada"}))
	start := clk.Now()
	login := serve(t, a, loginRequest("", "ada", "pw"))
	c := cookieNamed(login, "access_token")
	if c == nil || c.MaxAge != 3600 {
		t.Fatalf("login cookie %+v: want Max-Age of the idle timeout", c)
	}
	first, _ := a.VerifyToken(context.Background(), c.Value)
	if !first.AbsoluteExpiresAt.Equal(start.Add(3*time.Hour).Truncate(time.Second)) || !first.ExpiresAt.Equal(start.Add(time.Hour).Truncate(time.Second)) {
		t.Fatalf("first token exp %v abs %v", first.ExpiresAt, first.AbsoluteExpiresAt)
	}
	h := protected(a)
	token := c.Value

	clk.Advance(20 * time.Minute) // before half the window: nothing
	if resp := getWithCookie(t, h, a, token); resp.StatusCode != 200 || cookieNamed(resp, "access_token") != nil {
		t.Fatalf("renewed before half the idle window: %d %v", resp.StatusCode, resp.Cookies())
	}
	var renewals int
	for step := 0; step < 12; step++ {
		clk.Advance(31 * time.Minute)
		resp := getWithCookie(t, h, a, token)
		if clk.Now().Sub(start) >= 3*time.Hour {
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("served past the absolute limit: %d", resp.StatusCode)
			}
			break
		}
		nc := cookieNamed(resp, "access_token")
		if nc == nil {
			// Only once the token's exp is the absolute end is there nothing to renew.
			s, err := a.VerifyToken(context.Background(), token)
			if err != nil || !s.ExpiresAt.Equal(s.AbsoluteExpiresAt) {
				t.Fatalf("step %d: no renewal, and token exp %v is not the absolute end (%v)", step, s, err)
			}
			continue
		}
		renewals++
		// The same old cookie again, in the same window: not renewed twice.
		if again := getWithCookie(t, h, a, token); cookieNamed(again, "access_token") != nil {
			t.Fatalf("step %d: renewed twice in one window", step)
		}
		s, err := a.VerifyToken(context.Background(), nc.Value)
		if err != nil {
			t.Fatal(err)
		}
		if s.ID != first.ID {
			t.Errorf("renewal changed the session id: %s -> %s", first.ID, s.ID)
		}
		if s.ExpiresAt.After(first.AbsoluteExpiresAt) || !s.AbsoluteExpiresAt.Equal(first.AbsoluteExpiresAt) {
			t.Errorf("renewed past the absolute limit: exp %v abs %v", s.ExpiresAt, first.AbsoluteExpiresAt)
		}
		if want := int(s.ExpiresAt.Sub(clk.Now()) / time.Second); nc.MaxAge != want {
			t.Errorf("renewed cookie Max-Age %d, want %d", nc.MaxAge, want)
		}
		token = nc.Value
	}
	if renewals < 4 {
		t.Errorf("%d renewals in 3 hours with a 1 hour idle window", renewals)
	}
}

func TestIdleTimeoutEndsUnusedSession(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{Session: SessionConfig{IdleTimeout: time.Hour}})
	token := issueWithGrant(t, a, &User{Identifier: "ada"})
	clk.Advance(61 * time.Minute)
	wantError(t, getWithCookie(t, protected(a), a, token), http.StatusUnauthorized, "Invalid authentication token")
}

func issueWithGrant(t *testing.T, a *Auth, u *User) string {
	t.Helper()
	token, _, err := a.issueToken(u, a.newGrant(zeroTime, ""))
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func TestLogoutRevokesRenewedLineage(t *testing.T) {
	a, clk, _ := newTestAuth(t, Config{Session: SessionConfig{IdleTimeout: time.Hour}})
	old := issueWithGrant(t, a, &User{Identifier: "ada"})
	clk.Advance(31 * time.Minute)
	renewed := cookieNamed(getWithCookie(t, protected(a), a, old), "access_token")
	if renewed == nil {
		t.Fatal("not renewed")
	}
	req := httptest.NewRequest("POST", "/logout", nil)
	req.AddCookie(&http.Cookie{Name: "access_token", Value: renewed.Value})
	wantSuccess(t, serve(t, a, req))
	for name, tok := range map[string]string{"old": old, "renewed": renewed.Value} {
		if resp := getWithCookie(t, protected(a), a, tok); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s token still served after logout: %d", name, resp.StatusCode)
		}
	}
}

// sseApp streams "event: session_expired" when the session behind the
// stream ends, as a chat app's event stream would.
func sseApp(a *Auth) http.Handler {
	return a.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "event: ready\ndata: {}\n\n")
		w.(http.Flusher).Flush()
		select {
		case err := <-a.WatchSession(r.Context(), SessionFrom(r.Context())):
			reason := "expired"
			if errors.Is(err, ErrRevoked) {
				reason = "revoked"
			}
			fmt.Fprintf(w, "event: session_expired\ndata: %s\n\n", reason)
		case <-r.Context().Done():
		}
	}))
}

// openStream opens the SSE stream with token and returns a reader
// positioned after the ready event.
func openStream(t *testing.T, srv *httptest.Server, path, token string) *bufio.Reader {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.AddCookie(&http.Cookie{Name: "access_token", Value: token})
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	br := bufio.NewReader(resp.Body)
	if ev := nextEvent(t, br); !strings.Contains(ev, "ready") {
		t.Fatalf("first event %q", ev)
	}
	return br
}

func nextEvent(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var ev strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended: %v (so far %q)", err, ev.String())
		}
		if line == "\n" {
			return ev.String()
		}
		ev.WriteString(line)
	}
}

func TestWatchSessionToldOfRevocation(t *testing.T) {
	a, err := New(Config{Secret: testSecret, Session: SessionConfig{CheckInterval: time.Hour}, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Mount(mux)
	mux.Handle("GET /events", sseApp(a))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	token, _, _ := a.IssueToken(&User{Identifier: "ada"})
	stream := openStream(t, srv, "/events", token)
	// Logout from another tab: the open stream hears of it at once, long
	// before the hourly poll.
	req, _ := http.NewRequest("POST", srv.URL+"/logout", nil)
	req.AddCookie(&http.Cookie{Name: "access_token", Value: token})
	if resp, err := srv.Client().Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("logout: %v %v", resp, err)
	}
	if ev := nextEvent(t, stream); !strings.Contains(ev, "session_expired") || !strings.Contains(ev, "revoked") {
		t.Fatalf("event %q", ev)
	}
}

func TestWatchSessionPollsOtherInstances(t *testing.T) {
	shared := newMemoryRevocationStore(0)
	mk := func() *Auth {
		a, err := New(Config{Secret: testSecret, Stores: StoresConfig{Revocations: shared}, Session: SessionConfig{CheckInterval: 20 * time.Millisecond}, Logger: discardLogger()})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a, b := mk(), mk()
	s := httptest.NewServer(sseApp(a))
	defer s.Close()
	token, sess, _ := a.IssueToken(&User{Identifier: "ada"})
	stream := openStream(t, s, "/", token)
	// Revoked through instance b, which a's stream cannot hear directly.
	if err := b.cfg.Revocations.Revoke(context.Background(), Revocation{ID: sess.ID, User: sess.User.Identifier, Expires: sess.ExpiresAt}); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, stream); !strings.Contains(ev, "revoked") {
		t.Fatalf("event %q", ev)
	}
}

func TestWatchSessionToldOfExpiry(t *testing.T) {
	a, err := New(Config{Secret: testSecret, Session: SessionConfig{Timeout: 2 * time.Second}, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sseApp(a))
	defer srv.Close()
	token, _, _ := a.IssueToken(&User{Identifier: "ada"})
	stream := openStream(t, srv, "/", token)
	if ev := nextEvent(t, stream); !strings.Contains(ev, "expired") {
		t.Fatalf("event %q", ev)
	}
}

func TestCookieBudget(t *testing.T) {
	a, _, logs := newTestAuth(t, Config{})
	big := &User{Identifier: "ada", Metadata: map[string]any{"groups": strings.Repeat("g", 20000), "image": "https://x/y.png"}}
	a.OnPassword(acceptUser(big))
	resp := serve(t, a, loginRequest("", "ada", "pw"))
	if resp.StatusCode != http.StatusInternalServerError || len(resp.Cookies()) != 0 {
		t.Fatalf("oversized session: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	if !strings.Contains(logs.String(), `\"groups\"`) || !strings.Contains(logs.String(), "auth.reason=session_too_large") {
		t.Errorf("log does not name the field:\n%s", logs)
	}
	_, err := a.StartSession(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), big)
	if !errors.Is(err, ErrSessionTooLarge) || !strings.Contains(err.Error(), `"groups"`) {
		t.Errorf("StartSession error %v", err)
	}
	// A session of three chunks fits the default budget of four, and every
	// Set-Cookie line stays within the browser limit.
	fits := &User{Identifier: "ada", Metadata: map[string]any{"groups": strings.Repeat("g", 5000)}}
	rec := httptest.NewRecorder()
	if _, err := a.StartSession(rec, httptest.NewRequest("GET", "/", nil), fits); err != nil {
		t.Fatal(err)
	}
	lines := rec.Result().Header.Values("Set-Cookie")
	if len(lines) != 3 {
		t.Errorf("%d cookies, want 3", len(lines))
	}
	for _, l := range lines {
		if len(l) > 4096 {
			t.Errorf("Set-Cookie line of %d bytes", len(l))
		}
	}
}

func TestCookieBudgetWithLongAttributes(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{RootPath: "/" + strings.Repeat("p", 1500), Cookie: CookieConfig{MaxChunks: 5}})
	u := &User{Identifier: "ada", Metadata: map[string]any{"groups": strings.Repeat("g", 8000)}}
	rec := httptest.NewRecorder()
	if _, err := a.StartSession(rec, httptest.NewRequest("GET", "/", nil), u); err != nil {
		t.Fatal(err)
	}
	for _, l := range rec.Result().Header.Values("Set-Cookie") {
		if len(l) > 4096 {
			t.Errorf("Set-Cookie line of %d bytes with a long path", len(l))
		}
	}
}

// TestRenewalRecordsBounded: 100,000 distinct sessions renewed within one
// idle window (more than maxRenewals, all still live, so none can be
// pruned as old) never make the record hold more than maxRenewals entries;
// once the window has passed, old entries go first.
func TestRenewalRecordsBounded(t *testing.T) {
	var rn renewals
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	const idle = time.Hour
	claim := func(i int, at time.Time) bool {
		return rn.claim(&Session{TokenID: "token-" + strconv.Itoa(i), IssuedAt: at.Add(-idle / 2)}, at, idle)
	}
	for i := range maxRenewals + 50000 {
		if !claim(i, now) {
			t.Fatalf("session %d refused its first renewal", i)
		}
		if len(rn.last) > maxRenewals {
			t.Fatalf("%d records after %d sessions, bound %d", len(rn.last), i+1, maxRenewals)
		}
	}
	if claim(maxRenewals+49999, now) {
		t.Error("a session renewed twice in its window")
	}
	rn.mu.Lock()
	rn.prune(now.Add(2*idle), idle)
	rn.mu.Unlock()
	if len(rn.last) != 0 {
		t.Errorf("after the idle window, %d records survive pruning, want 0", len(rn.last))
	}
}

// TestWatchSessionWithoutSession is issue 11's recipe 10: the README's
// pattern under WithUser, for an anonymous request, calls
// WatchSession(ctx, nil); that crashed the process from WatchSession's
// goroutine. The channel now says ErrNoSession at once.
func TestWatchSessionWithoutSession(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{})
	got := make(chan error, 1)
	h := a.WithUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := SessionFrom(r.Context()) // nil: anonymous
		got <- <-a.WatchSession(r.Context(), s)
	}))
	serve(t, h, httptest.NewRequest(http.MethodGet, "/chat", nil))
	if err := <-got; !errors.Is(err, ErrNoSession) {
		t.Errorf("WatchSession(ctx, nil) = %v, want ErrNoSession", err)
	}
}

// announcingStore is a shared RevocationStore that tells every instance of
// each revocation, as redisstore's announcements over Redis pub/sub do.
type announcingStore struct {
	*memoryRevocationStore
	mu   sync.Mutex
	next chan struct{}
}

func newAnnouncingStore() *announcingStore {
	return &announcingStore{memoryRevocationStore: newMemoryRevocationStore(0), next: make(chan struct{})}
}

func (s *announcingStore) WatchRevocations() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

func (s *announcingStore) Revoke(ctx context.Context, r Revocation) error {
	defer s.announce()
	return s.memoryRevocationStore.Revoke(ctx, r)
}

func (s *announcingStore) RevokeUser(ctx context.Context, r UserRevocation) error {
	defer s.announce()
	return s.memoryRevocationStore.RevokeUser(ctx, r)
}

func (s *announcingStore) announce() {
	s.mu.Lock()
	close(s.next)
	s.next = make(chan struct{})
	s.mu.Unlock()
}

// With a RevocationWatcher store, a stream on one instance ends as soon as
// another instance revokes its session, long before the hourly poll.
func TestWatchSessionToldByRevocationWatcher(t *testing.T) {
	shared := newAnnouncingStore()
	mk := func() *Auth {
		a, err := New(Config{Secret: testSecret, Stores: StoresConfig{Revocations: shared}, Session: SessionConfig{CheckInterval: time.Hour}, Logger: discardLogger()})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a, b := mk(), mk()
	s := httptest.NewServer(sseApp(a))
	defer s.Close()
	token, sess, _ := a.IssueToken(&User{Identifier: "ada"})
	other, _, _ := a.IssueToken(&User{Identifier: "bob"})
	stream, otherStream := openStream(t, s, "/", token), openStream(t, s, "/", other)
	// Another session's revocation wakes the watchers, which find their
	// own sessions alive and keep watching.
	_, bobSess, _ := b.IssueToken(&User{Identifier: "bob"})
	if err := b.cfg.Revocations.Revoke(context.Background(), Revocation{ID: bobSess.ID, User: "bob", Expires: bobSess.ExpiresAt}); err != nil {
		t.Fatal(err)
	}
	if err := b.cfg.Revocations.Revoke(context.Background(), Revocation{ID: sess.ID, User: "ada", Expires: sess.ExpiresAt}); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, stream); !strings.Contains(ev, "revoked") {
		t.Fatalf("event %q", ev)
	}
	// Bob's other session is still watched: its stream ends at its own
	// revocation, not at ada's.
	if err := b.EndUserSessions(context.Background(), "bob"); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, otherStream); !strings.Contains(ev, "revoked") {
		t.Fatalf("bob's event %q", ev)
	}
}

// A session revoked after the request was authenticated but before
// WatchSession was called is reported at once, not at the next poll.
func TestWatchSessionRevokedBeforeWatching(t *testing.T) {
	a, _, _ := newTestAuth(t, Config{Session: SessionConfig{CheckInterval: time.Hour}})
	_, sess, err := a.IssueToken(&User{Identifier: "ada"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.cfg.Revocations.Revoke(context.Background(), Revocation{ID: sess.ID, User: "ada", Expires: sess.ExpiresAt}); err != nil {
		t.Fatal(err)
	}
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case err := <-a.WatchSession(context.Background(), sess):
		if !errors.Is(err, ErrRevoked) {
			t.Errorf("WatchSession = %v, want ErrRevoked", err)
		}
	case <-timer.C:
		t.Error("WatchSession silent about a session revoked before it was called")
	}
}
