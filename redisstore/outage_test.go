package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
)

const (
	lineDown = "redisstore: redis unavailable"
	lineUp   = "redisstore: redis reachable again"
)

// Redis killed mid-test: the configured policy applies to session checks
// and password logins, the outage is logged once, and everything works
// again once a new Redis listens on the same port.
func TestRedisKilledMidTest(t *testing.T) {
	for _, tc := range []struct {
		name         string
		failOpen     bool
		wantUser     int
		wantLogin    int
		wantUserBody string
	}{
		{"fail-closed", false, http.StatusServiceUnavailable, http.StatusServiceUnavailable, `{"detail":"session store unavailable"}`},
		{"fail-open", true, http.StatusOK, http.StatusUnauthorized, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startRedis(t)
			rec := &logRecorder{}
			in := newInstance(t, srv, Options{
				RevocationsFailOpen: tc.failOpen,
				ThrottleFailOpen:    tc.failOpen,
				Timeout:             time.Second,
				Logger:              slog.New(rec),
				LogInterval:         time.Hour,
			}, chatauth.PasswordLimits{})
			c := in.mustLogin(t, "alice")

			srv.Kill()
			const requests = 8
			var wg sync.WaitGroup
			for range requests {
				wg.Go(func() {
					status, body := in.do(t, http.MethodGet, "/user", c)
					if status != tc.wantUser || (tc.wantUserBody != "" && body != tc.wantUserBody) {
						t.Errorf("GET /user with Redis down: %d %s, want %d %s", status, body, tc.wantUser, tc.wantUserBody)
					}
				})
			}
			wg.Wait()
			if status, _ := in.login(t, "alice", "wrong"); status != tc.wantLogin {
				t.Errorf("POST /login with Redis down: %d, want %d", status, tc.wantLogin)
			}
			if n := len(rec.lines(lineDown)); n != 1 {
				t.Errorf("%d %q lines for %d failed requests, want 1", n, lineDown, requests+1)
			}

			srv.Restart()
			waitFor(t, 10*time.Second, "session check to recover", func() bool {
				return in.user(t, c) == http.StatusOK && len(rec.lines(lineUp)) == 1
			})
			if n := len(rec.lines(lineDown)); n != 1 {
				t.Errorf("%d %q lines in all, want 1", n, lineDown)
			}
		})
	}
}

// However many calls fail, the outage is logged when it starts and then
// once per LogInterval, with the count of failures in between. (Without
// the listener, whose attempts to subscribe again would count too.)
func TestOutageLoggedOncePerInterval(t *testing.T) {
	srv := startRedis(t)
	rec := &logRecorder{}
	s := newStore(t, srv, Options{Timeout: time.Second, Logger: slog.New(rec), DisableListener: true})
	clk := newClock()
	s.now = clk.Now
	ctx := context.Background()
	revoked := func() error {
		_, err := s.Revoked(ctx, sessionOf("alice", "j", clk.Now()))
		return err
	}

	srv.Kill()
	for range 5 {
		err := revoked()
		if !errors.Is(err, chatauth.ErrStoreUnavailable) || !strings.HasPrefix(err.Error(), "redisstore: revocation check: ") {
			t.Fatalf("Revoked with Redis down: %v, want an error wrapping ErrStoreUnavailable", err)
		}
	}
	if got := rec.lines(lineDown); len(got) != 1 {
		t.Fatalf("%d lines after 5 failures in one interval, want 1", len(got))
	}
	clk.Advance(DefaultLogInterval - time.Millisecond)
	_ = revoked()
	if got := rec.lines(lineDown); len(got) != 1 {
		t.Fatalf("%d lines before the interval passed, want 1", len(got))
	}
	clk.Advance(time.Millisecond)
	_ = revoked()
	got := rec.lines(lineDown)
	if len(got) != 2 {
		t.Fatalf("%d lines after the interval, want 2", len(got))
	}
	if n := attr(got[1], "failures_since_last_line").Int64(); n != 5 {
		t.Errorf("second line counts %d failures since the first, want 5", n)
	}
	if op := attr(got[0], "op").String(); op != "revocation check" {
		t.Errorf("op = %q", op)
	}

	srv.Restart()
	waitFor(t, 10*time.Second, "Revoked to succeed", func() bool { return revoked() == nil })
	_ = revoked()
	if n := len(rec.lines(lineUp)); n != 1 {
		t.Errorf("%d %q lines, want 1", n, lineUp)
	}
}

// A request that went away is not a Redis outage, and fail-open does not
// turn it into a pass.
func TestCancelledRequestIsNotAnOutage(t *testing.T) {
	srv := startRedis(t)
	rec := &logRecorder{}
	s := newStore(t, srv, Options{Logger: slog.New(rec), RevocationsFailOpen: true, ThrottleFailOpen: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Revoked(ctx, sessionOf("alice", "j", time.Now())); !errors.Is(err, context.Canceled) {
		t.Errorf("Revoked on a cancelled request: %v, want context.Canceled", err)
	}
	if _, err := s.Hit(ctx, "user:alice", 1, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Hit on a cancelled request: %v, want context.Canceled", err)
	}
	if n := len(rec.lines(lineDown)); n != 0 {
		t.Errorf("%d outage lines for a cancelled request, want 0", n)
	}
}

// Writes always report a failure: a logout must not look done when the
// revocation was not stored.
func TestWritesFailWhenRedisDown(t *testing.T) {
	srv := startRedis(t)
	s := newStore(t, srv, Options{Timeout: 300 * time.Millisecond, RevocationsFailOpen: true, ThrottleFailOpen: true})
	srv.Kill()
	ctx := context.Background()
	for name, err := range map[string]error{
		"Revoke":     s.Revoke(ctx, revocationOf("j", time.Now().Add(time.Hour))),
		"RevokeUser": s.RevokeUser(ctx, cutOf("alice", time.Now())),
		"SaveToken":  s.SaveToken(ctx, "alice", "github", testToken()),
		"Reset":      s.Reset(ctx, "user:alice"),
		"FirstUse":   firstUseErr(s.FirstUse(ctx, "state", time.Now().Add(time.Minute))),
	} {
		if !errors.Is(err, chatauth.ErrStoreUnavailable) {
			t.Errorf("%s with Redis down: %v, want ErrStoreUnavailable", name, err)
		}
	}
	if wait, err := s.Hit(ctx, "user:alice", 1, time.Minute); err != nil || wait != 0 {
		t.Errorf("Hit fail-open: %v, %v; want 0, nil", wait, err)
	}
}
