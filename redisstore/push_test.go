package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/redisstore/redistest"
	"github.com/redis/go-redis/v9"
)

// topology is a Redis set-up the push tests run on: client makes another
// instance's own client; addrs are every node's address.
type topology struct {
	name   string
	client func() redis.UniversalClient
	addrs  []string
}

// topologies starts a single node and a Cluster of three masters.
func topologies(t *testing.T) []topology {
	t.Helper()
	single := startRedis(t)
	cluster := redistest.StartClusterOf(t, 3)
	return []topology{
		{"single", func() redis.UniversalClient { return single.Client() }, []string{single.Addr()}},
		{"cluster", func() redis.UniversalClient { return cluster.Client() }, cluster.Addrs()},
	}
}

// pushStore is a Store on its own client of tp with a ten-minute
// not-revoked cache, subscribed.
func (tp topology) pushStore(t *testing.T, opts Options) *Store {
	t.Helper()
	if opts.Secret == nil {
		opts.Secret = testSecret
	}
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.NotRevokedCacheTTL == 0 {
		opts.NotRevokedCacheTTL = 10 * time.Minute
	}
	s := openStore(t, tp.client(), opts)
	waitListening(t, s)
	return s
}

// onEveryNode runs a command on each node of tp.
func (tp topology) onEveryNode(t *testing.T, args ...any) {
	t.Helper()
	for _, addr := range tp.addrs {
		c := redis.NewClient(&redis.Options{Addr: addr})
		err := c.Do(context.Background(), args...).Err()
		_ = c.Close()
		if err != nil {
			t.Fatalf("%v on %s: %v", args, addr, err)
		}
	}
}

// commandCalls sums INFO commandstats over tp's nodes: calls per command.
func (tp topology) commandCalls(t *testing.T) map[string]int64 {
	t.Helper()
	calls := map[string]int64{}
	for _, addr := range tp.addrs {
		c := redis.NewClient(&redis.Options{Addr: addr})
		info, err := c.Info(context.Background(), "commandstats").Result()
		_ = c.Close()
		if err != nil {
			t.Fatalf("INFO commandstats on %s: %v", addr, err)
		}
		for line := range strings.Lines(info) {
			// cmdstat_get:calls=3,usec=...
			name, rest, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":calls=")
			if !ok || !strings.HasPrefix(line, "cmdstat_") {
				continue
			}
			n, _ := strconv.ParseInt(rest[:strings.IndexByte(rest, ',')], 10, 64)
			calls[name] += n
		}
	}
	return calls
}

// revocationCase is a session and how to revoke it.
type revocationCase struct {
	name   string
	sess   *chatauth.Session
	revoke func() error
}

// A revocation through one Store drops the other Store's cached answers
// at once (its cache lives ten minutes): by token id, by session id, by
// user cut, for keys on every node of a Cluster; other sessions stay
// cached.
func TestAnnouncementsDropCachedAnswers(t *testing.T) {
	for _, tp := range topologies(t) {
		t.Run(tp.name, func(t *testing.T) {
			a, b := tp.pushStore(t, Options{}), tp.pushStore(t, Options{})
			ctx := context.Background()
			iat := time.Now()
			bystander := sessionOf("bob", "bob-token", iat)
			var cases []revocationCase
			for i := range 6 { // ids whose keys spread over the Cluster's nodes
				s := sessionOf("alice", fmt.Sprint("token-", i), iat)
				s.ID = fmt.Sprint("family-", i)
				id := s.ID
				if i%2 == 0 {
					id = s.TokenID
				}
				cases = append(cases, revocationCase{"revoke " + id, s, func() error { return a.Revoke(ctx, revocationOf(id, time.Now().Add(time.Hour))) }})
			}
			carol := sessionOf("carol", "carol-token", iat)
			cases = append(cases, revocationCase{"cut carol", carol, func() error { return a.RevokeUser(ctx, cutOf("carol", iat.Add(time.Second))) }})

			for _, tc := range append(cases, revocationCase{"bystander", bystander, nil}) {
				if got, err := b.Revoked(ctx, tc.sess); err != nil || got {
					t.Fatalf("%s: Revoked before = %v, %v", tc.name, got, err)
				}
				if !b.cache.notRevoked(tc.sess, tc.sess.User.Identifier, time.Now()) {
					t.Fatalf("%s: not cached", tc.name)
				}
			}
			for _, tc := range cases {
				if err := tc.revoke(); err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				waitFor(t, 5*time.Second, tc.name+" to reach the other Store", func() bool {
					return !b.cache.notRevoked(tc.sess, tc.sess.User.Identifier, time.Now())
				})
				if got, err := b.Revoked(ctx, tc.sess); err != nil || !got {
					t.Errorf("%s: Revoked on the other Store = %v, %v; want true", tc.name, got, err)
				}
			}
			if !b.cache.notRevoked(bystander, "bob", time.Now()) {
				t.Error("bob's cached answer was dropped by others' revocations")
			}
		})
	}
}

// percentile is the p-th percentile (0 < p ≤ 100) of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)]
}

// Two instances sharing one Redis, B with a ten-minute not-revoked cache:
// a logout on A is refused on B, and ends the stream B watches with
// WatchSession (SessionCheckInterval 30 s), within milliseconds. Over 200
// trials, after 20 that dial the clients' connections and load the
// scripts on every node, it logs p50, p99 and the maximum; BENCHMARKS.md
// has the figures of a run without -race. The bound checked here is generous, for -race
// on a loaded machine.
func TestPropagation(t *testing.T) {
	const warmUp, trials = 20, 200
	const bound = 500 * time.Millisecond
	for _, tp := range topologies(t) {
		t.Run(tp.name, func(t *testing.T) {
			a := newInstanceOn(t, tp.pushStore(t, Options{}), chatauth.PasswordLimits{})
			b := newInstanceOn(t, tp.pushStore(t, Options{}), chatauth.PasswordLimits{})
			refused := make([]time.Duration, 0, trials)
			watched := make([]time.Duration, 0, trials)
			for i := range warmUp + trials {
				if i == warmUp { // connections dialled, scripts loaded
					refused, watched = refused[:0], watched[:0]
				}
				user := &chatauth.User{Identifier: fmt.Sprint("user-", i%10)}
				token, _, err := a.auth.IssueToken(user)
				if err != nil {
					t.Fatal(err)
				}
				c := &http.Cookie{Name: "access_token", Value: token}
				if got := b.user(t, c); got != http.StatusOK { // B caches it
					t.Fatalf("GET /user on B: %d", got)
				}
				sess, err := b.auth.VerifyToken(context.Background(), token)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				ended := b.auth.WatchSession(ctx, sess)
				start := time.Now()
				watchedIn := make(chan time.Duration, 1)
				go func() {
					if err := <-ended; err != nil {
						watchedIn <- time.Since(start)
					}
					close(watchedIn)
				}()
				if status, _ := a.do(t, http.MethodPost, "/logout", c); status != http.StatusOK {
					t.Fatalf("logout on A: %d", status)
				}
				for b.user(t, c) != http.StatusUnauthorized {
					if time.Since(start) > 10*time.Second {
						t.Fatal("B still accepts the session 10 s after the logout")
					}
				}
				refused = append(refused, time.Since(start))
				timer := time.NewTimer(10 * time.Second)
				select {
				case d, ok := <-watchedIn:
					if !ok {
						t.Fatal("WatchSession on B ended without an error")
					}
					watched = append(watched, d)
				case <-timer.C:
					t.Fatal("WatchSession on B silent 10 s after the logout")
				}
				timer.Stop()
				cancel()
			}
			for _, m := range []struct {
				what string
				d    []time.Duration
			}{{"refused on B", refused}, {"WatchSession on B fired", watched}} {
				slices.Sort(m.d)
				p50, p99, worst := percentile(m.d, 50), percentile(m.d, 99), m.d[len(m.d)-1]
				t.Logf("%s: %s after the logout on A began: p50 %v, p99 %v, max %v (%d trials)", tp.name, m.what, p50, p99, worst, len(m.d))
				if p99 > bound {
					t.Errorf("%s: p99 %v, bound %v", m.what, p99, bound)
				}
			}
		})
	}
}

// After warm-up, 10,000 authenticated requests on an instance with the
// cache and the listener send Redis nothing but the listener's heartbeat
// PINGs, which depend on time, not on requests (INFO commandstats on every
// node, before and after).
func TestSteadyStateSendsNoRedisCommands(t *testing.T) {
	const requests = 10000
	for _, tp := range topologies(t) {
		t.Run(tp.name, func(t *testing.T) {
			b := newInstanceOn(t, tp.pushStore(t, Options{}), chatauth.PasswordLimits{})
			var cookies []*http.Cookie
			for i := range 8 {
				token, _, err := b.auth.IssueToken(&chatauth.User{Identifier: fmt.Sprint("user-", i)})
				if err != nil {
					t.Fatal(err)
				}
				c := &http.Cookie{Name: "access_token", Value: token}
				if got := b.user(t, c); got != http.StatusOK {
					t.Fatalf("warm-up GET /user: %d", got)
				}
				cookies = append(cookies, c)
			}
			before := tp.commandCalls(t)
			start := time.Now()
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					for i := w; i < requests; i += 4 {
						if got := b.user(t, cookies[i%len(cookies)]); got != http.StatusOK {
							t.Errorf("GET /user: %d", got)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			after := tp.commandCalls(t)
			var sent []string
			for name, n := range after {
				// INFO and HELLO are the measurement's own.
				if d := n - before[name]; d > 0 && name != "info" && name != "hello" {
					sent = append(sent, fmt.Sprintf("%s=%d", name, d))
				}
			}
			slices.Sort(sent)
			t.Logf("%d requests in %v; commands Redis ran meanwhile (the measurement's INFO and HELLO excluded): %v", requests, elapsed, sent)
			pings := after["ping"] - before["ping"]
			// One PING per idle heartbeat per Store, on each of the
			// instance's and the node's clocks.
			if maxPings := int64(elapsed/DefaultHeartbeatInterval) + 2; pings > maxPings {
				t.Errorf("%d PINGs in %v, want at most %d", pings, elapsed, maxPings)
			}
			if len(sent) > 0 && !(len(sent) == 1 && strings.HasPrefix(sent[0], "ping=")) {
				t.Errorf("steady-state requests sent Redis %v, want nothing but heartbeat PINGs", sent)
			}
		})
	}
}

// A subscription killed by Redis (CLIENT KILL TYPE pubsub) is taken up
// again at once; the cache is flushed, so that a revocation whose
// announcement was missed is refused from then on; the gap is logged once,
// with its duration.
func TestGapAfterClientKillFlushesCache(t *testing.T) {
	for _, tp := range topologies(t) {
		t.Run(tp.name, func(t *testing.T) {
			rec := &logRecorder{}
			b := tp.pushStore(t, Options{Logger: slog.New(rec)})
			ctx := context.Background()
			sess := sessionOf("alice", "token-1", time.Now())
			if got, err := b.Revoked(ctx, sess); err != nil || got {
				t.Fatalf("Revoked = %v, %v", got, err)
			}
			// Revoked in Redis without an announcement, as one made while
			// the subscription is down: the cache still answers for it.
			raw := tp.client()
			if err := raw.Set(ctx, b.key(kindRevoked, sess.TokenID), "1", time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
			if got, _ := b.Revoked(ctx, sess); got {
				t.Fatal("refused before the gap: the cache was not used")
			}
			tp.onEveryNode(t, "client", "kill", "type", "pubsub")
			waitFor(t, 10*time.Second, "the gap to be logged", func() bool { return len(rec.lines(lineGap)) > 0 })
			if got, err := b.Revoked(ctx, sess); err != nil || !got {
				t.Errorf("after the gap: Revoked = %v, %v; want true", got, err)
			}
			lines := rec.lines(lineGap)
			if len(lines) != 1 {
				t.Fatalf("%d gap lines, want 1", len(lines))
			}
			if d := attr(lines[0], "gap").Duration(); d <= 0 || d > 10*time.Second {
				t.Errorf("gap logged as %v", d)
			}
			if cause := attr(lines[0], "cause").String(); cause == "" {
				t.Error("gap logged without its cause")
			}
		})
	}
}

const lineGap = "redisstore: revocation announcements resumed after a gap; every check asked redis meanwhile"

// A revocation made while a Store cannot subscribe (Redis refuses it: an
// ACL without the channel) is refused by that Store during the gap (every
// check asks Redis; nothing is cached) and after it; the refusal is logged
// once, the gap once when it ends.
func TestRevocationDuringGapNeverAccepted(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	admin := srv.Client()
	if err := admin.Do(ctx, "acl", "setuser", "b", "on", ">pw-of-b", "~*", "&*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	rec := &logRecorder{}
	bClient := redis.NewClient(&redis.Options{Addr: srv.Addr(), Username: "b", Password: "pw-of-b"})
	t.Cleanup(func() { _ = bClient.Close() })
	b := openStore(t, bClient, Options{Secret: testSecret, Timeout: 5 * time.Second, Logger: slog.New(rec),
		NotRevokedCacheTTL: 10 * time.Minute})
	waitListening(t, b)
	a := newStore(t, srv, Options{})

	iat := time.Now()
	s1, s2 := sessionOf("alice", "token-1", iat), sessionOf("alice", "token-2", iat)
	for _, s := range []*chatauth.Session{s1, s2} {
		if got, err := b.Revoked(ctx, s); err != nil || got {
			t.Fatalf("Revoked(%s) = %v, %v", s.TokenID, got, err)
		}
	}
	// The gap: b may no longer listen, and its subscription is killed.
	if err := admin.Do(ctx, "acl", "setuser", "b", "resetchannels").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "client", "kill", "type", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the subscription to be down", func() bool { return !b.listener.up.Load() })
	if err := a.Revoke(ctx, revocationOf(s1.TokenID, time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the refusal to be logged", func() bool {
		return len(rec.lines("redisstore: cannot subscribe to revocation announcements; asking redis on every check until it can")) == 1
	})
	for range 20 {
		if got, err := b.Revoked(ctx, s1); err != nil || !got {
			t.Fatalf("during the gap: Revoked(revoked) = %v, %v; want true", got, err)
		}
		if got, err := b.Revoked(ctx, s2); err != nil || got {
			t.Fatalf("during the gap: Revoked(live) = %v, %v", got, err)
		}
	}
	if c, _ := b.trustedCache(); c != nil {
		t.Error("the cache is trusted during the gap")
	}
	// The gap ends.
	if err := admin.Do(ctx, "acl", "setuser", "b", "allchannels").Err(); err != nil {
		t.Fatal(err)
	}
	waitListening(t, b)
	if got, err := b.Revoked(ctx, s1); err != nil || !got {
		t.Errorf("after the gap: Revoked = %v, %v; want true", got, err)
	}
	if n := len(rec.lines("redisstore: cannot subscribe to revocation announcements; asking redis on every check until it can")); n != 1 {
		t.Errorf("the refusal logged %d times, want once", n)
	}
	waitFor(t, 5*time.Second, "the gap line", func() bool { return len(rec.lines(lineGap)) == 1 })
	if d := attr(rec.lines(lineGap)[0], "gap").Duration(); d <= 0 {
		t.Errorf("gap logged as %v", d)
	}
	t.Logf("gap logged: %v (cause %s); 20 checks of the revoked session during it, all refused",
		attr(rec.lines(lineGap)[0], "gap").Duration(), attr(rec.lines(lineGap)[0], "cause"))
}

// A Redis restart is a gap too: while Redis is away the instance answers
// 503, never 200 from its cache; a logout made as soon as Redis is back,
// before or after the instance subscribes again, is refused; the gap is
// logged once.
func TestGapAcrossRedisRestart(t *testing.T) {
	srv := startRedis(t)
	rec := &logRecorder{}
	tp := topology{"single", func() redis.UniversalClient { return srv.Client() }, []string{srv.Addr()}}
	a := newInstanceOn(t, tp.pushStore(t, Options{}), chatauth.PasswordLimits{})
	b := newInstanceOn(t, tp.pushStore(t, Options{Logger: slog.New(rec)}), chatauth.PasswordLimits{})
	token, _, err := a.auth.IssueToken(&chatauth.User{Identifier: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Cookie{Name: "access_token", Value: token}
	if got := b.user(t, c); got != http.StatusOK {
		t.Fatalf("GET /user on B: %d", got)
	}

	srv.Kill()
	waitFor(t, 10*time.Second, "B to notice", func() bool { return !b.store.listener.up.Load() })
	if got := b.user(t, c); got != http.StatusServiceUnavailable {
		t.Errorf("GET /user on B with Redis away: %d, want 503", got)
	}
	srv.Restart()
	waitFor(t, 10*time.Second, "A to reach Redis", func() bool { return a.user(t, c) == http.StatusOK })
	if status, _ := a.do(t, http.MethodPost, "/logout", c); status != http.StatusOK {
		t.Fatalf("logout on A: %d", status)
	}
	during := map[int]int{}
	for !b.store.listener.up.Load() {
		got := b.user(t, c)
		if got == http.StatusOK {
			t.Fatal("B accepted the logged-out session during the gap")
		}
		during[got]++
	}
	if got := b.user(t, c); got != http.StatusUnauthorized {
		t.Errorf("GET /user on B after the gap: %d, want 401", got)
	}
	waitFor(t, 5*time.Second, "the gap line", func() bool { return len(rec.lines(lineGap)) == 1 })
	t.Logf("gap logged: %v (cause %s); GET /user on B after the logout, during the gap: %v (status: count); first request after it: 401",
		attr(rec.lines(lineGap)[0], "gap").Duration(), attr(rec.lines(lineGap)[0], "cause"), during)
}

// A connection that goes silent (here: Redis paused, so that the PING
// gets no answer) is given up after two heartbeats, and the cache is
// bypassed until a new subscription answers.
func TestHeartbeatNoticesSilentConnection(t *testing.T) {
	srv := startRedis(t)
	tp := topology{"single", func() redis.UniversalClient { return srv.Client() }, []string{srv.Addr()}}
	b := tp.pushStore(t, Options{HeartbeatInterval: 50 * time.Millisecond})
	tp.onEveryNode(t, "client", "pause", "3000", "all")
	waitFor(t, 2500*time.Millisecond, "the silent subscription to be given up", func() bool { return !b.listener.up.Load() })
	if c, _ := b.trustedCache(); c != nil {
		t.Error("the cache is trusted without a subscription")
	}
	tp.onEveryNode(t, "client", "unpause")
	waitListening(t, b)
}

// Close stops the listener and its goroutine; the Store still answers,
// from Redis. Close is idempotent; a Store without a listener (a Ring
// client, or DisableListener) has nothing to stop and WatchRevocations is
// nil.
func TestCloseStopsListener(t *testing.T) {
	srv := startRedis(t)
	tp := topology{"single", func() redis.UniversalClient { return srv.Client() }, []string{srv.Addr()}}
	s := tp.pushStore(t, Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.listener.done:
	default:
		t.Error("listener goroutine still running after Close")
	}
	if c, _ := s.trustedCache(); c != nil {
		t.Error("cache trusted after Close")
	}
	if got, err := s.Revoked(context.Background(), sessionOf("alice", "j", time.Now())); err != nil || got {
		t.Errorf("Revoked after Close = %v, %v", got, err)
	}
	_ = s.Close()

	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": srv.Addr()}})
	t.Cleanup(func() { _ = ring.Close() })
	for name, s := range map[string]*Store{
		"ring":            openStore(t, ring, Options{}),
		"DisableListener": openStore(t, srv.Client(), Options{DisableListener: true}),
	} {
		if s.listener != nil || s.WatchRevocations() != nil || s.Close() != nil {
			t.Errorf("%s: a listener", name)
		}
	}
	// The client closed first: the listener stops by itself.
	early := srv.Client()
	s = openStore(t, early, Options{})
	waitListening(t, s)
	_ = early.Close()
	waitFor(t, 10*time.Second, "the listener to stop with its client", func() bool {
		select {
		case <-s.listener.done:
			return true
		default:
			return false
		}
	})

	var nilStore *Store
	if nilStore.Close() != nil || nilStore.WatchRevocations() != nil {
		t.Error("nil Store")
	}
}
