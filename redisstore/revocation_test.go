package redisstore

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
)

func TestLogoutOnOneInstanceRejectsOnTheOther(t *testing.T) {
	srv := startRedis(t)
	a := newInstance(t, srv, Options{}, chatauth.PasswordLimits{})
	b := newInstance(t, srv, Options{}, chatauth.PasswordLimits{})

	c := a.mustLogin(t, "alice")
	if got := b.user(t, c); got != http.StatusOK {
		t.Fatalf("GET /user on B with A's cookie: %d, want 200", got)
	}
	if status, _ := a.do(t, http.MethodPost, "/logout", c); status != http.StatusOK {
		t.Fatalf("POST /logout on A: %d", status)
	}
	for name, in := range map[string]*instance{"A": a, "B": b} {
		if got := in.user(t, c); got != http.StatusUnauthorized {
			t.Errorf("GET /user on %s after logout: %d, want 401", name, got)
		}
	}
}

func TestRevokeUserRejectsEverySessionOnTheOther(t *testing.T) {
	srv := startRedis(t)
	a := newInstance(t, srv, Options{}, chatauth.PasswordLimits{})
	b := newInstance(t, srv, Options{}, chatauth.PasswordLimits{})

	alice := []*http.Cookie{a.mustLogin(t, "alice"), a.mustLogin(t, "alice"), b.mustLogin(t, "alice")}
	bob := b.mustLogin(t, "bob")
	for i, c := range alice {
		if got := b.user(t, c); got != http.StatusOK {
			t.Fatalf("alice's session %d before RevokeUser: %d", i, got)
		}
	}
	if err := a.auth.EndUserSessions(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	for i, c := range alice {
		if got := b.user(t, c); got != http.StatusUnauthorized {
			t.Errorf("alice's session %d on B after RevokeUser on A: %d, want 401", i, got)
		}
	}
	if got := b.user(t, bob); got != http.StatusOK {
		t.Errorf("bob's session after alice's RevokeUser: %d, want 200", got)
	}
}

func TestRevokeUserOnlyRevokesEarlierSessions(t *testing.T) {
	srv := startRedis(t)
	s := newStore(t, srv, Options{})
	ctx := context.Background()
	before := time.Now().Truncate(time.Second)
	if err := s.RevokeUser(ctx, cutOf("alice", before)); err != nil {
		t.Fatal(err)
	}
	// An earlier call arriving late (another instance) must not move the
	// time back.
	if err := s.RevokeUser(ctx, cutOf("alice", before.Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		iat  time.Time
		want bool
	}{
		{before.Add(-time.Second), true},
		{before.Add(-30 * time.Minute), true},
		{before, false},
		{before.Add(time.Second), false},
	} {
		got, err := s.Revoked(ctx, sessionOf("alice", "jti-"+strconv.FormatInt(tc.iat.Unix(), 10), tc.iat))
		if err != nil || got != tc.want {
			t.Errorf("Revoked(iat=before%+v) = %v, %v; want %v", tc.iat.Sub(before), got, err, tc.want)
		}
	}
	if got, err := s.Revoked(ctx, sessionOf("bob", "x", before.Add(-time.Hour))); err != nil || got {
		t.Errorf("bob Revoked = %v, %v; want false", got, err)
	}
}

func TestRevokedIsOneMGET(t *testing.T) {
	srv := startRedis(t)
	client := srv.Client()
	log := &commandLog{}
	client.AddHook(log)
	s := openStore(t, client, Options{})
	if err := client.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	log.take() // connection set-up
	sess := sessionOf("alice", "j", time.Now())
	sess.ID = "another session id" // three keys: the user's, the token's, the session's
	if _, err := s.Revoked(context.Background(), sess); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); !slices.EqualFunc(got, [][]string{{"mget"}}, slices.Equal) {
		t.Errorf("Revoked sent %v, want one round trip of one MGET", got)
	}
}

func TestRevocationKeysExpire(t *testing.T) {
	srv := startRedis(t)
	const ttl = time.Second // long enough to check before it passes, even under -race
	s := newStore(t, srv, Options{RevokeUserTTL: ttl})
	rdb := srv.Client()
	ctx := context.Background()

	if err := s.Revoke(ctx, revocationOf("short", time.Now().Add(ttl))); err != nil {
		t.Fatal(err)
	}
	// Without Expires, the cut is kept RevokeUserTTL.
	if err := s.RevokeUser(ctx, chatauth.UserRevocation{User: "alice", Before: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"chatauth:revoked:short", "chatauth:notbefore:alice"} {
		pttl, err := rdb.PTTL(ctx, key).Result()
		if err != nil || pttl <= 0 || pttl > ttl+time.Millisecond {
			t.Errorf("PTTL %s = %v, %v; want in (0, %v]", key, pttl, err, ttl)
		}
	}
	if got, _ := s.Revoked(ctx, sessionOf("bob", "short", time.Now())); !got {
		t.Error("jti not revoked before its exp")
	}
	waitFor(t, 10*time.Second, "revocation keys to expire", func() bool {
		n, err := rdb.Exists(ctx, "chatauth:revoked:short", "chatauth:notbefore:alice").Result()
		return err == nil && n == 0
	})
	if got, err := s.Revoked(ctx, sessionOf("bob", "short", time.Now())); err != nil || got {
		t.Errorf("Revoked after exp = %v, %v; want false", got, err)
	}
}

func TestRevokeOfExpiredSessionWritesNothing(t *testing.T) {
	srv := startRedis(t)
	s := newStore(t, srv, Options{RevokeUserTTL: time.Hour})
	ctx := context.Background()
	if err := s.Revoke(ctx, revocationOf("old", time.Now().Add(-time.Second))); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeUser(ctx, cutOf("alice", time.Now().Add(-2*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if first, err := s.FirstUse(ctx, "state", time.Now().Add(-time.Second)); first || err != nil {
		t.Fatalf("FirstUse of an expired id = %v, %v", first, err)
	}
	if n, err := srv.Client().DBSize(ctx).Result(); err != nil || n != 0 {
		t.Errorf("DBSIZE = %d, %v; want 0", n, err)
	}
}

// On a Cluster the session's and the user's keys live in different slots,
// where MGET would get CROSSSLOT.
func TestRevokedOnCluster(t *testing.T) {
	srv := startRedisCluster(t)
	client := redisClusterClient(t, srv)
	s := openStore(t, client, Options{Timeout: 5 * time.Second})
	ctx := context.Background()
	now := time.Now()
	if err := s.Revoke(ctx, revocationOf("j1", now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeUser(ctx, cutOf("alice", now)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		jti, user string
		iat       time.Time
		want      bool
	}{
		{"j1", "bob", now, true},
		{"j2", "alice", now.Add(-time.Second), true},
		{"j2", "alice", now.Add(time.Second), false},
		{"j3", "bob", now, false},
	} {
		got, err := s.Revoked(ctx, sessionOf(tc.user, tc.jti, tc.iat))
		if err != nil || got != tc.want {
			t.Errorf("Revoked(%s, %s) = %v, %v; want %v", tc.jti, tc.user, got, err, tc.want)
		}
	}
}

// A session made on B from A's token (POST /auth/jwt) belongs to A's
// session: logging out on A ends it on B too (issue 11, recipe 3).
func TestLogoutEndsSessionFamilyAcrossInstances(t *testing.T) {
	srv := startRedis(t)
	a := newInstance(t, srv, Options{}, chatauth.PasswordLimits{})
	b := newInstance(t, srv, Options{}, chatauth.PasswordLimits{})
	first := a.mustLogin(t, "alice")
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/auth/jwt", nil)
	req.Header.Set("Authorization", "Bearer "+first.Value)
	resp, err := b.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var copied *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "access_token" {
			copied = c
		}
	}
	if resp.StatusCode != http.StatusOK || copied == nil {
		t.Fatalf("POST /auth/jwt on B: %d, cookie %v", resp.StatusCode, copied)
	}
	if status, _ := a.do(t, http.MethodPost, "/logout", first); status != http.StatusOK {
		t.Fatalf("logout on A: %d", status)
	}
	if got := b.user(t, copied); got != http.StatusUnauthorized {
		t.Errorf("the copy on B after logout on A: %d, want 401", got)
	}
}

// "Log out my other devices" on A keeps A's session and ends the user's
// session on B.
func TestRevokeOtherSessionsAcrossInstances(t *testing.T) {
	srv := startRedis(t)
	a := newInstance(t, srv, Options{}, chatauth.PasswordLimits{})
	b := newInstance(t, srv, Options{}, chatauth.PasswordLimits{})
	here, there := a.mustLogin(t, "alice"), b.mustLogin(t, "alice")
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(here)
	s, err := a.auth.VerifyRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.auth.EndOtherSessions(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if got := b.user(t, here); got != http.StatusOK {
		t.Errorf("the kept session, on B: %d, want 200", got)
	}
	if got := a.user(t, there); got != http.StatusUnauthorized {
		t.Errorf("the other session, on A: %d, want 401", got)
	}
}
