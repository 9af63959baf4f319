//go:build loadtest

package loadtest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
)

// Goroutine accounting: after a run, the count must come back to within
// goroutineMargin of the count before, within goroutineDeadline.
const (
	goroutineMargin   = 5
	goroutineDeadline = 15 * time.Second
)

// newAuth returns an Auth with a random secret and a discarding logger
// (the tests make hundreds of thousands of decisions), on top of cfg.
func newAuth(t *testing.T, cfg chatauth.Config) *chatauth.Auth {
	t.Helper()
	cfg.Secret = []byte(rand.Text() + rand.Text()) // 52 bytes
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a, err := chatauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// server is an httptest server whose http.Server error log is kept: a
// panic escaping a handler or a superfluous WriteHeader shows up there.
type server struct {
	*httptest.Server
	errLog *lineLog
}

func startServer(t *testing.T, h http.Handler) *server {
	t.Helper()
	s := &server{Server: httptest.NewUnstartedServer(h), errLog: &lineLog{}}
	s.Config.ErrorLog = log.New(s.errLog, "", 0)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// checkErrorLog fails the test when the server logged anything.
func (s *server) checkErrorLog(t *testing.T) {
	t.Helper()
	if lines := s.errLog.Lines(); len(lines) > 0 {
		t.Errorf("http.Server logged %d lines, first ones:\n%s", len(lines), strings.Join(lines[:min(5, len(lines))], "\n"))
	}
}

// lineLog collects written lines; safe for concurrent use.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) < 100 {
		l.lines = append(l.lines, strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// Lines returns the lines written so far.
func (l *lineLog) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

// newTransport is one transport for many clients of one loopback server:
// with the default two idle connections per host, 200 clients would open
// and close connections all the time and exhaust ephemeral ports.
func newTransport(conns int) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // loopback only
	tr.MaxIdleConns = 0
	tr.MaxIdleConnsPerHost = conns
	return tr
}

// waitGoroutines waits until the goroutine count is within
// goroutineMargin of before, polling, and fails the test with every
// goroutine's stack when it is not by goroutineDeadline. It returns the
// last count seen.
func waitGoroutines(t *testing.T, before int) int {
	t.Helper()
	deadline := time.Now().Add(goroutineDeadline)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		n := runtime.NumGoroutine()
		if n <= before+goroutineMargin {
			return n
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 256<<10)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("goroutines: %d before, still %d after %v (margin %d); stacks:\n%s",
				before, n, goroutineDeadline, goroutineMargin, buf)
			return n
		}
		<-tick.C
	}
}

// tally counts answers by step and status, and remembers the first few
// surprises. Safe for concurrent use.
type tally struct {
	total      atomic.Int64
	mu         sync.Mutex
	counts     map[string]map[int]int // step -> status -> answers
	unexpected int
	serverErrs int // unexpected 5xx answers
	transport  int
	notes      []string
}

func newTally() *tally { return &tally{counts: make(map[string]map[int]int)} }

// add counts one answer of step; ok says whether it was the one expected
// (status and body), note why not.
func (t *tally) add(step string, status int, ok bool, note string) {
	t.total.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts[step] == nil {
		t.counts[step] = make(map[int]int)
	}
	t.counts[step][status]++
	if !ok && status >= 500 {
		t.serverErrs++
	}
	if !ok {
		t.unexpected++
		t.noteLocked(fmt.Sprintf("%s: %d %s", step, status, note))
	}
}

// failed counts a request that got no answer.
func (t *tally) failed(step string, err error) {
	t.total.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.transport++
	t.noteLocked(fmt.Sprintf("%s: %v", step, err))
}

func (t *tally) noteLocked(s string) {
	if len(t.notes) < 10 {
		t.notes = append(t.notes, s)
	}
}

// String renders the counts, steps sorted by name, statuses ascending.
func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	for _, step := range slices.Sorted(maps.Keys(t.counts)) {
		fmt.Fprintf(&b, "\n\t%-26s", step)
		for _, st := range slices.Sorted(maps.Keys(t.counts[step])) {
			fmt.Fprintf(&b, " %d×%d", t.counts[step][st], st)
		}
	}
	return b.String()
}

// check fails the test on any unexpected answer (a 5xx is always one,
// but where a test wants it) or transport error.
func (t *tally) check(tt *testing.T) {
	tt.Helper()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.serverErrs > 0 || t.unexpected > 0 || t.transport > 0 {
		tt.Errorf("%d unexpected answers (%d of them 5xx), %d transport errors; first ones:\n\t%s",
			t.unexpected, t.serverErrs, t.transport, strings.Join(t.notes, "\n\t"))
	}
}

// do sends req with c and returns the status and body (at most 64 KiB),
// reading the body to the end so that the connection is reused.
func do(c *http.Client, req *http.Request) (*http.Response, []byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp, body, err
}

// snippet is the start of a body, for a failure message. The bodies the
// tests look at (user JSON, {"detail"}, {"success"}) carry no secret.
func snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 120 {
		return string(b[:120]) + "..."
	}
	return string(b)
}
