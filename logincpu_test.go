package chatauth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// loginCheckCase is a login whose check runs under the login CPU bounds.
type loginCheckCase struct {
	name     string
	register func(a *Auth, check func() (*User, error))
	request  func(n int) *http.Request // the n-th login, from one address
}

var loginCheckCases = []loginCheckCase{
	{"password",
		func(a *Auth, check func() (*User, error)) {
			a.OnPassword(func(context.Context, string, string) (*User, error) { return check() })
		},
		func(n int) *http.Request { return loginRequest("", fmt.Sprintf("user%d", n), "pw") }},
	{"header credential",
		func(a *Auth, check func() (*User, error)) {
			a.OnHeaderCredential(func(context.Context, http.Header) (*User, error) { return check() }, "X-Api-Key")
		},
		func(n int) *http.Request {
			r := httptest.NewRequest("GET", "/user", nil)
			r.Header.Set("X-Api-Key", fmt.Sprintf("key-%d", n)) // a new key each time: no remembered session
			return r
		}},
}

// TestLoginChecksBoundedAtOnce: with every slot taken by a slow check, the
// next login waits its bounded time, then gets 503 busy with Retry-After,
// and its check never runs; once the slot is free, logins pass again.
func TestLoginChecksBoundedAtOnce(t *testing.T) {
	for _, tt := range loginCheckCases {
		t.Run(tt.name, func(t *testing.T) {
			a, _, logs := newTestAuth(t, Config{Login: LoginConfig{PasswordConcurrency: 1, HeaderConcurrency: 1}})
			a.checkWait = 20 * time.Millisecond
			entered, release := make(chan struct{}), make(chan struct{})
			var calls atomic.Int32
			tt.register(a, func() (*User, error) {
				if calls.Add(1) == 1 {
					close(entered)
					<-release
				}
				return &User{Identifier: "ada"}, nil
			})
			slow := make(chan *http.Response)
			go func() { slow <- serve(t, a, tt.request(0)) }()
			<-entered

			resp := serve(t, a, tt.request(1))
			wantError(t, resp, http.StatusServiceUnavailable, "too many logins in progress, try again later")
			if resp.Header.Get("Retry-After") != "1" || calls.Load() != 1 || !strings.Contains(logs.String(), "auth.reason=busy") {
				t.Errorf("busy answer: Retry-After %q, checks %d, logs:\n%s", resp.Header.Get("Retry-After"), calls.Load(), logs)
			}
			close(release)
			if resp := <-slow; resp.StatusCode != http.StatusOK {
				t.Errorf("slow login: %d", resp.StatusCode)
			}
			if resp := serve(t, a, tt.request(2)); resp.StatusCode != http.StatusOK {
				t.Errorf("login after the slot is free: %d", resp.StatusCode)
			}
		})
	}
}

// TestChecksPerAddressWhateverOutcome: one address may cause only
// ChecksPerAddress checks per window, even all successful; other addresses
// keep theirs, and refused or busy logins do not spend it.
func TestChecksPerAddressWhateverOutcome(t *testing.T) {
	for _, tt := range loginCheckCases {
		t.Run(tt.name, func(t *testing.T) {
			a, clk, _ := newTestAuth(t, Config{Login: LoginConfig{Limits: PasswordLimits{ChecksPerAddress: 3}}})
			var calls atomic.Int32
			tt.register(a, func() (*User, error) {
				calls.Add(1)
				return &User{Identifier: "ada"}, nil
			})
			from := func(n int, addr string) *http.Response {
				r := tt.request(n)
				r.RemoteAddr = addr + ":1"
				return serve(t, a, r)
			}
			for n := range 3 {
				if resp := from(n, "203.0.113.9"); resp.StatusCode != http.StatusOK {
					t.Fatalf("check %d: %d", n, resp.StatusCode)
				}
			}
			for n := 3; n < 6; n++ {
				resp := from(n, "203.0.113.9")
				wantError(t, resp, http.StatusTooManyRequests, "too many login attempts, try again later")
				if resp.Header.Get("Retry-After") == "" {
					t.Error("no Retry-After")
				}
			}
			if calls.Load() != 3 {
				t.Errorf("%d checks ran, want 3", calls.Load())
			}
			if resp := from(6, "198.51.100.7"); resp.StatusCode != http.StatusOK {
				t.Errorf("another address: %d", resp.StatusCode)
			}
			clk.Advance(a.cfg.PasswordLimits.Window)
			if resp := from(7, "203.0.113.9"); resp.StatusCode != http.StatusOK {
				t.Errorf("next window: %d", resp.StatusCode)
			}
		})
	}
}

func TestLoginCPUDefaults(t *testing.T) {
	cores := max(1, runtime.GOMAXPROCS(0)-1)
	tests := []struct {
		name                     string
		cfg                      Config
		password, header, checks int
	}{
		{"defaults", Config{}, cores, cores, 1000},
		{"high failure budget", Config{Login: LoginConfig{Limits: PasswordLimits{PerAddress: 5000}}}, cores, cores, 10000},
		{"set", Config{Login: LoginConfig{PasswordConcurrency: 7, HeaderConcurrency: 3, Limits: PasswordLimits{ChecksPerAddress: 5}}}, 7, 3, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, _ := newTestAuth(t, tt.cfg)
			if cap(a.passwordSlots) != tt.password || cap(a.headerSlots) != tt.header || a.cfg.PasswordLimits.ChecksPerAddress != tt.checks {
				t.Errorf("slots %d/%d, checks per address %d; want %d/%d, %d",
					cap(a.passwordSlots), cap(a.headerSlots), a.cfg.PasswordLimits.ChecksPerAddress, tt.password, tt.header, tt.checks)
			}
		})
	}
	for _, cfg := range []Config{{Login: LoginConfig{PasswordConcurrency: -1}}, {Login: LoginConfig{HeaderConcurrency: -1}}, {Login: LoginConfig{Limits: PasswordLimits{ChecksPerAddress: -1}}}} {
		cfg.Secret = testSecret
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted a negative bound", cfg)
		}
	}
}
