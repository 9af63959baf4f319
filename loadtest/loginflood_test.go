//go:build loadtest

package loadtest

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/internal/testutil"
	"golang.org/x/crypto/bcrypt"
)

var (
	floodPhase  = flag.Duration("loadtest.floodphase", 2*time.Second, "length of each phase of TestLoginFlood")
	floodRounds = flag.Int("loadtest.floodrounds", 3, "rounds (quiet phase, then flood phase) of TestLoginFlood")
	floodSlots  = flag.Int("loadtest.floodslots", 0, "PasswordConcurrency of TestLoginFlood; 0 for the default (64 shows the server without the bound)")
)

// The bounds TestLoginFlood checks (issue 11, recipe 6).
const (
	floodAddresses  = 64
	maxLoginLatency = 3 * time.Second
	maxP99Ratio     = 2.0
)

// TestLoginFlood floods POST /login with real bcrypt checks from 64 client
// addresses (X-Forwarded-For from a trusted proxy on loopback), half right
// passwords and half wrong, while one client measures GET /user with a
// session cookie. Quiet and flood phases alternate, so that the machine's
// other load falls on both alike. Every login must be answered (any
// status) within 3 s, and without the race detector, on a machine that is
// not oversubscribed, the p99 latency of GET /user under the flood must
// stay within 2x of the quiet one (BENCHMARKS.md has the figures and how
// they were measured on a shared machine).
func TestLoginFlood(t *testing.T) {
	a := newAuth(t, chatauth.Config{Proxy: chatauth.ProxyConfig{Trusted: []string{"127.0.0.1"}}, Login: chatauth.LoginConfig{PasswordConcurrency: *floodSlots}})
	// bcrypt at its default cost (chatauth.HashPassword's), but under the
	// race detector, where one comparison of that cost alone takes seconds
	// on a loaded machine, a cheaper one: the flood still saturates the
	// checks, and the 3 s bound is then about chatauth's waiting, not about
	// the instrumented hash.
	cost := bcrypt.DefaultCost
	if testutil.RaceEnabled {
		cost = bcrypt.MinCost
	}
	raw, err := bcrypt.GenerateFromPassword([]byte("pw"), cost)
	if err != nil {
		t.Fatal(err)
	}
	hash := string(raw)
	var checks atomic.Int64
	a.OnPassword(func(_ context.Context, username, password string) (*chatauth.User, error) {
		checks.Add(1)
		if !chatauth.CheckPassword(hash, password) { // a real bcrypt comparison per login
			return nil, nil
		}
		return &chatauth.User{Identifier: username}, nil
	})
	srv := startServer(t, a)
	token, _, err := a.IssueToken(&chatauth.User{Identifier: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	reader := &http.Client{Transport: newTransport(1)}
	floodTr := newTransport(floodAddresses + 8)
	t.Cleanup(floodTr.CloseIdleConnections)

	var quiet, flooded []time.Duration
	var slowest time.Duration
	logins := map[int]int{}
	for range *floodRounds {
		quiet = append(quiet, measureUser(t, reader, srv.URL, token, *floodPhase)...)
		stop := make(chan struct{})
		results := make(chan floodResult, floodAddresses)
		for i := range floodAddresses {
			go floodLogins(&http.Client{Transport: floodTr}, srv.URL, i, stop, results)
		}
		flooded = append(flooded, measureUser(t, reader, srv.URL, token, *floodPhase)...)
		close(stop)
		for range floodAddresses {
			r := <-results
			if r.err != nil {
				t.Fatalf("flood: %v", r.err)
			}
			slowest = max(slowest, r.slowest)
			for status, n := range r.statuses {
				logins[status] += n
			}
		}
	}
	pq, pf := p99(quiet), p99(flooded)
	ratio := float64(pf) / float64(pq)
	t.Logf("GET /user p99: %v quiet (%d requests), %v under the flood (%d requests): %.2fx; logins %v, %d bcrypt checks (cost %d), slowest login %v",
		pq, len(quiet), pf, len(flooded), ratio, logins, checks.Load(), cost, slowest)
	if slowest > maxLoginLatency {
		t.Errorf("slowest login took %v, bound %v", slowest, maxLoginLatency)
	}
	for status := range logins {
		if status != 200 && status != 401 && status != 503 {
			t.Errorf("login answered %d (%d times)", status, logins[status])
		}
	}
	switch {
	case logins[503] > 0:
	case testutil.RaceEnabled:
		// Under the race detector the flooding clients are as slow as the
		// server, and a cheap hash may keep up with them: whether the
		// checks saturate is then the machine's doing. The busy answer
		// itself is checked deterministically by TestLoginChecksBoundedAtOnce.
		t.Log("race detector on: the flood did not saturate the password checks (no 503); reported, not checked")
	default:
		t.Error("no login was turned away busy: the flood did not saturate the password checks")
	}
	load, busy := oversubscribed()
	switch {
	case testutil.RaceEnabled:
		t.Logf("race detector on: the p99 ratio (bound %.1fx) is reported, not checked", maxP99Ratio)
	case busy:
		t.Logf("load average %.1f on %d CPUs: the p99 ratio (bound %.1fx) would measure the other processes; reported, not checked", load, runtime.NumCPU(), maxP99Ratio)
	case ratio > maxP99Ratio:
		t.Errorf("GET /user p99 under the flood is %.2fx the quiet one, bound %.1fx", ratio, maxP99Ratio)
	}
}

// oversubscribed reports whether the machine has more runnable work than
// CPUs (the one-minute load average, on Linux): then any latency measured
// here is mostly the other processes' doing.
func oversubscribed() (float64, bool) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	var load float64
	if _, err := fmt.Sscan(string(b), &load); err != nil {
		return 0, false
	}
	return load, load > float64(runtime.NumCPU())
}

// measureUser sends GET /user with the session cookie, one request at a
// time, for d, and returns each request's latency.
func measureUser(t *testing.T, c *http.Client, base, token string, d time.Duration) []time.Duration {
	t.Helper()
	var lat []time.Duration
	for end := time.Now().Add(d); time.Now().Before(end); {
		req, _ := http.NewRequest("GET", base+"/user", nil)
		req.AddCookie(&http.Cookie{Name: "access_token", Value: token})
		start := time.Now()
		resp, body, err := do(c, req)
		lat = append(lat, time.Since(start))
		if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), `"reader"`) {
			t.Fatalf("GET /user: %v %v %s", err, resp, snippet(body))
		}
	}
	return lat
}

// floodResult is what one flooding address saw.
type floodResult struct {
	statuses map[int]int
	slowest  time.Duration
	err      error
}

// floodLogins logs in from client address 198.51.100.<i>, as fast as the
// answers come, right and wrong passwords in turn, until stop is closed.
func floodLogins(c *http.Client, base string, i int, stop <-chan struct{}, results chan<- floodResult) {
	r := floodResult{statuses: map[int]int{}}
	defer func() { results <- r }()
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		password := "pw"
		if n%2 == 1 {
			password = "wrong"
		}
		form := url.Values{"username": {fmt.Sprintf("user%d", i)}, "password": {password}}
		req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
		start := time.Now()
		resp, _, err := do(c, req)
		if err != nil {
			r.err = err
			return
		}
		r.slowest = max(r.slowest, time.Since(start))
		r.statuses[resp.StatusCode]++
	}
}

// p99 is the 99th percentile of lat.
func p99(lat []time.Duration) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[len(s)*99/100]
}
