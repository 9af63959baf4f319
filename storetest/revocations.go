package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
)

// RevocationStore checks a chatauth.RevocationStore: revocation of token
// ids and session ids, expiry, user cuts with and without a kept session
// and how they combine, single use under concurrency, and nil or zero
// inputs.
func RevocationStore(t *testing.T, newStore func(t *testing.T) chatauth.RevocationStore) {
	checks := []struct {
		name  string
		check func(t *testing.T, s chatauth.RevocationStore)
	}{
		{"revoke_token_id", revokeTokenID},
		{"revoke_session_id", revokeSessionID},
		{"revocation_lasts_until_expires", revocationLasts},
		{"user_cut", userCut},
		{"user_cuts_combine", userCutsCombine},
		{"first_use", firstUse},
		{"first_use_concurrent", firstUseConcurrent},
		{"concurrent", revokeConcurrent},
		{"nil_and_zero", revocationsNilAndZero},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.check(t, newStore(t)) })
	}
}

// session is a verified session as the store sees it.
func session(user, sessionID, tokenID string, issued time.Time) *chatauth.Session {
	return &chatauth.Session{User: &chatauth.User{Identifier: user}, ID: sessionID, TokenID: tokenID,
		IssuedAt: issued, ExpiresAt: issued.Add(24 * time.Hour), AbsoluteExpiresAt: issued.Add(24 * time.Hour)}
}

func isRevoked(t *testing.T, s chatauth.RevocationStore, sess *chatauth.Session) bool {
	t.Helper()
	got, err := s.Revoked(ctx, sess)
	if err != nil {
		t.Fatalf("Revoked: %v", err)
	}
	return got
}

func revoke(t *testing.T, s chatauth.RevocationStore, r chatauth.Revocation) {
	t.Helper()
	if err := s.Revoke(ctx, r); err != nil {
		t.Fatalf("Revoke(%+v): %v", r, err)
	}
}

func cut(t *testing.T, s chatauth.RevocationStore, r chatauth.UserRevocation) {
	t.Helper()
	if r.Expires.IsZero() {
		r.Expires = time.Now().Add(time.Hour)
	}
	if err := s.RevokeUser(ctx, r); err != nil {
		t.Fatalf("RevokeUser(%+v): %v", r, err)
	}
}

type want struct {
	name    string
	sess    *chatauth.Session
	revoked bool
}

func expect(t *testing.T, s chatauth.RevocationStore, wants []want) {
	t.Helper()
	for _, w := range wants {
		if got := isRevoked(t, s, w.sess); got != w.revoked {
			t.Errorf("%s: Revoked = %v, want %v", w.name, got, w.revoked)
		}
	}
}

func revokeTokenID(t *testing.T, s chatauth.RevocationStore) {
	now := time.Now()
	user, fam, tok := newID("user"), newID("session"), newID("token")
	revoke(t, s, chatauth.Revocation{ID: tok, User: user, IssuedAt: now, Expires: now.Add(time.Hour)})
	expect(t, s, []want{
		{"the revoked token", session(user, fam, tok, now), true},
		{"another token of its session", session(user, fam, newID("token"), now), false},
		{"a token of another session", session(user, newID("session"), newID("token"), now), false},
	})
}

func revokeSessionID(t *testing.T, s chatauth.RevocationStore) {
	now := time.Now()
	user, fam := newID("user"), newID("session")
	revoke(t, s, chatauth.Revocation{ID: fam, User: user, IssuedAt: now, Expires: now.Add(time.Hour)})
	expect(t, s, []want{
		{"a token of the revoked session", session(user, fam, newID("token"), now), true},
		{"another token of it, renewed later", session(user, fam, newID("token"), now.Add(time.Minute)), true},
		{"a session whose token id is the revoked session id", session(user, newID("session"), fam, now), true},
		{"another session", session(user, newID("session"), newID("token"), now), false},
		{"another user's session", session(newID("user"), newID("session"), newID("token"), now), false},
	})
}

// revocationLasts: a revocation holds until its Expires, to the
// millisecond (a store rounding to whole seconds down would drop it
// early), and one whose Expires passed needs no record.
func revocationLasts(t *testing.T, s chatauth.RevocationStore) {
	now := time.Now()
	user, short, long := newID("user"), newID("session"), newID("session")
	revoke(t, s, chatauth.Revocation{ID: short, User: user, IssuedAt: now, Expires: now.Add(1500 * time.Millisecond)})
	revoke(t, s, chatauth.Revocation{ID: long, User: user, IssuedAt: now, Expires: now.Add(400 * 24 * time.Hour)})
	revoke(t, s, chatauth.Revocation{ID: newID("dead"), User: user, IssuedAt: now, Expires: now.Add(-time.Second)})
	if !isRevoked(t, s, session(user, long, newID("token"), now)) {
		t.Error("a revocation for 400 days is not held")
	}
	if time.Since(now) < time.Second && !isRevoked(t, s, session(user, short, newID("token"), now)) {
		t.Error("a revocation for 1.5 s is not held right away")
	}
}

// userCut: RevokeUser revokes the user's sessions issued before Before,
// to the millisecond, and nothing else.
func userCut(t *testing.T, s chatauth.RevocationStore) {
	before := time.Now().Truncate(time.Millisecond)
	user := newID("user")
	cut(t, s, chatauth.UserRevocation{User: user, Before: before})
	sess := func(issued time.Time) *chatauth.Session {
		return session(user, newID("session"), newID("token"), issued)
	}
	expect(t, s, []want{
		{"issued an hour before", sess(before.Add(-time.Hour)), true},
		{"issued a millisecond before", sess(before.Add(-time.Millisecond)), true},
		{"issued at the cut", sess(before), false},
		{"issued after", sess(before.Add(time.Second)), false},
		{"another user's, before", session(newID("user"), newID("session"), newID("token"), before.Add(-time.Hour)), false},
	})
}

// userCutsCombine: cuts of one user combine into exactly what either
// revokes: an older cut never undoes a newer one, a kept session stays
// kept only where every cut spared it.
func userCutsCombine(t *testing.T, s chatauth.RevocationStore) {
	t0 := time.Now().Truncate(time.Millisecond)
	ms := time.Millisecond
	tests := []struct {
		name   string
		cuts   []chatauth.UserRevocation // Keep "k" is the kept token
		token  string
		issued time.Time
		want   bool
	}{
		{"an older cut after a newer one", []chatauth.UserRevocation{{Before: t0}, {Before: t0.Add(-time.Hour)}}, "x", t0.Add(-time.Minute), true},
		{"the kept session", []chatauth.UserRevocation{{Before: t0, Keep: "k"}}, "k", t0.Add(-time.Hour), false},
		{"another session of a keeping cut", []chatauth.UserRevocation{{Before: t0, Keep: "k"}}, "x", t0.Add(-time.Hour), true},
		{"kept, then a cut keeping nothing", []chatauth.UserRevocation{{Before: t0, Keep: "k"}, {Before: t0.Add(ms)}}, "k", t0.Add(-time.Hour), true},
		{"kept by two cuts", []chatauth.UserRevocation{{Before: t0, Keep: "k"}, {Before: t0.Add(ms), Keep: "k"}}, "k", t0.Add(-time.Hour), false},
		{"revoked, then kept by a later cut", []chatauth.UserRevocation{{Before: t0}, {Before: t0.Add(time.Minute), Keep: "k"}}, "k", t0.Add(-ms), true},
		{"issued between, kept by the later cut", []chatauth.UserRevocation{{Before: t0}, {Before: t0.Add(time.Minute), Keep: "k"}}, "k", t0.Add(time.Second), false},
		{"kept, then an older cut arriving late", []chatauth.UserRevocation{{Before: t0, Keep: "k"}, {Before: t0.Add(-time.Minute)}}, "k", t0.Add(-time.Hour), true},
		{"kept, then another kept by a later cut", []chatauth.UserRevocation{{Before: t0, Keep: "k"}, {Before: t0.Add(time.Minute), Keep: "j"}}, "k", t0.Add(-time.Hour), true},
	}
	for _, tt := range tests {
		user, kept := newID("user"), newID("kept")
		ids := map[string]string{"k": kept, "j": newID("other-kept"), "x": newID("token")}
		for _, c := range tt.cuts {
			c.User, c.Keep = user, ids[c.Keep]
			cut(t, s, c)
		}
		if got := isRevoked(t, s, session(user, newID("session"), ids[tt.token], tt.issued)); got != tt.want {
			t.Errorf("%s: Revoked = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func firstUse(t *testing.T, s chatauth.RevocationStore) {
	id, exp := newID("state"), time.Now().Add(time.Minute)
	use := func(id string, exp time.Time) bool {
		t.Helper()
		first, err := s.FirstUse(ctx, id, exp)
		if err != nil {
			t.Fatalf("FirstUse: %v", err)
		}
		return first
	}
	if !use(id, exp) {
		t.Error("first use: false")
	}
	if use(id, exp) {
		t.Error("second use: true")
	}
	if use(id, exp.Add(time.Hour)) {
		t.Error("second use with a later expiry: true")
	}
	if !use(newID("state"), exp) {
		t.Error("first use of another id: false")
	}
	if use(newID("state"), time.Now().Add(-time.Second)) {
		t.Error("use of an id already expired: true")
	}
}

// firstUseConcurrent: of concurrent uses of one id, exactly one wins.
func firstUseConcurrent(t *testing.T, s chatauth.RevocationStore) {
	for range 20 {
		id, exp := newID("state"), time.Now().Add(time.Minute)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				if first, err := s.FirstUse(ctx, id, exp); err != nil {
					t.Errorf("FirstUse: %v", err)
				} else if first {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("%d of 16 concurrent uses of one id were first", n)
		}
	}
}

// revokeConcurrent: revocations and checks from many goroutines; each
// revocation holds once Revoke returned.
func revokeConcurrent(t *testing.T, s chatauth.RevocationStore) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			user := newID("user")
			for i := range 25 {
				now := time.Now()
				id := fmt.Sprint(newID("session"), g, i)
				if err := s.Revoke(ctx, chatauth.Revocation{ID: id, User: user, IssuedAt: now, Expires: now.Add(time.Hour)}); err != nil {
					t.Errorf("Revoke: %v", err)
					return
				}
				if got, err := s.Revoked(ctx, session(user, id, newID("token"), now)); err != nil || !got {
					t.Errorf("right after Revoke: %v, %v", got, err)
				}
				if err := s.RevokeUser(ctx, chatauth.UserRevocation{User: user, Before: now, Expires: now.Add(time.Hour)}); err != nil {
					t.Errorf("RevokeUser: %v", err)
				}
			}
		})
	}
	wg.Wait()
}

// revocationsNilAndZero: nil and zero inputs never panic, a nil session
// is never reported valid, an empty id is never a first use.
func revocationsNilAndZero(t *testing.T, s chatauth.RevocationStore) {
	noPanic(t, "Revoked(nil)", func() {
		if got, err := s.Revoked(ctx, nil); err == nil && !got {
			t.Error("Revoked(nil) = false, nil: a nil session reported valid")
		}
	})
	for _, sess := range []*chatauth.Session{{}, {ID: newID("session")}, {User: &chatauth.User{}}} {
		noPanic(t, fmt.Sprintf("Revoked(%+v)", sess), func() { _, _ = s.Revoked(ctx, sess) })
	}
	noPanic(t, "Revoke(zero)", func() { _ = s.Revoke(ctx, chatauth.Revocation{}) })
	noPanic(t, "RevokeUser(zero)", func() { _ = s.RevokeUser(ctx, chatauth.UserRevocation{}) })
	noPanic(t, "FirstUse(empty, zero)", func() {
		if first, _ := s.FirstUse(ctx, "", time.Time{}); first {
			t.Error("FirstUse with a zero expiry: true")
		}
	})
	// A zero revocation or cut must not revoke everyone.
	if isRevoked(t, s, session(newID("user"), newID("session"), newID("token"), time.Now())) {
		t.Error("after zero inputs, an unrelated session is revoked")
	}
}
