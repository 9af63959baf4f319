package chatauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatauth/chatauth/internal/statelog"
	"github.com/chatauth/chatauth/internal/testutil"
	"golang.org/x/oauth2"
)

// openTestStateDir opens a StateDir at dir, logging into logs (when not
// nil), and closes it when the test ends.
func openTestStateDir(t testing.TB, dir string, logs *syncBuffer, logOpts statelog.Options, opts ...func(*StateDirOptions)) *StateDir {
	t.Helper()
	o := StateDirOptions{Secret: testSecret, Logger: slog.New(slog.DiscardHandler)}
	if logs != nil {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for _, f := range opts {
		f(&o)
	}
	sd, err := openStateDir(dir, o, logOpts)
	if err != nil {
		t.Fatalf("OpenStateDir: %v", err)
	}
	t.Cleanup(func() { _ = sd.Close() })
	return sd
}

func closeStateDir(t testing.TB, sd *StateDir) {
	t.Helper()
	if err := sd.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func mustRevoke(t testing.TB, s RevocationStore, r Revocation) {
	t.Helper()
	if err := s.Revoke(context.Background(), r); err != nil {
		t.Fatalf("Revoke(%s): %v", r.ID, err)
	}
}

// dirBytes is the size of the files in dir.
func dirBytes(t testing.TB, dir string) int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += info.Size()
	}
	return n
}

// TestStateDirSurvivesRestart: everything a StateDir acknowledged is there
// after Close and a new OpenStateDir, through the log and through a
// snapshot.
func TestStateDirSurvivesRestart(t *testing.T) {
	for _, compacted := range []bool{false, true} {
		t.Run(fmt.Sprintf("compacted=%v", compacted), func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			sd := openTestStateDir(t, dir, nil, statelog.Options{})
			now := time.Now()
			day := now.Add(24 * time.Hour)
			mustRevoke(t, sd, Revocation{ID: "sid-logged-out", User: "ada", IssuedAt: now, Expires: day})
			if err := sd.RevokeUser(ctx, UserRevocation{User: "bob", Before: now.Add(time.Millisecond), Keep: "jti-kept", Expires: day}); err != nil {
				t.Fatal(err)
			}
			if first, err := sd.FirstUse(ctx, "state-1", day); !first || err != nil {
				t.Fatalf("FirstUse = %v, %v", first, err)
			}
			tok := (&oauth2.Token{AccessToken: "at", RefreshToken: "rt", TokenType: "Bearer", Expiry: day.Truncate(time.Second)}).
				WithExtra(map[string]any{"id_token": "idt"})
			for _, p := range []string{"github", "google"} {
				if err := sd.SaveToken(ctx, "ada", p, tok); err != nil {
					t.Fatal(err)
				}
			}
			if err := sd.DeleteToken(ctx, "ada", "google"); err != nil {
				t.Fatal(err)
			}
			if compacted {
				if err := sd.compact(); err != nil {
					t.Fatalf("compact: %v", err)
				}
			}
			closeStateDir(t, sd)

			sd = openTestStateDir(t, dir, nil, statelog.Options{})
			wants := []struct {
				name    string
				sess    *Session
				revoked bool
			}{
				{"logged-out session", sessionOfUser("ada", "sid-logged-out", "jti-1", now), true},
				{"another session", sessionOfUser("ada", "sid-other", "jti-2", now), false},
				{"bob's other device", sessionOfUser("bob", "sid-b", "jti-b", now), true},
				{"bob's kept session", sessionOfUser("bob", "sid-k", "jti-kept", now), false},
			}
			for _, w := range wants {
				if got := revoked(t, sd, w.sess); got != w.revoked {
					t.Errorf("%s: revoked = %v, want %v", w.name, got, w.revoked)
				}
			}
			if first, err := sd.FirstUse(ctx, "state-1", day); first || err != nil {
				t.Errorf("an OAuth state used before the restart is usable again: %v, %v", first, err)
			}
			got, err := sd.Token(ctx, "ada", "github")
			if err != nil || got.AccessToken != "at" || got.RefreshToken != "rt" || !got.Expiry.Equal(tok.Expiry) || got.Extra("id_token") != "idt" {
				t.Errorf("Token after restart = %+v, %v", got, err)
			}
			if _, err := sd.Token(ctx, "ada", "google"); !errors.Is(err, ErrNoToken) {
				t.Errorf("a deleted token came back: %v", err)
			}
		})
	}
}

// TestStateDirTokensSealed: provider tokens never reach the disk in clear,
// and a token sealed under a previous secret still opens.
func TestStateDirTokensSealed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sd := openTestStateDir(t, dir, nil, statelog.Options{})
	if err := sd.SaveToken(ctx, "ada", "github", &oauth2.Token{AccessToken: "gho_SECRETACCESS", RefreshToken: "ghr_SECRETREFRESH"}); err != nil {
		t.Fatal(err)
	}
	if err := sd.compact(); err != nil {
		t.Fatal(err)
	}
	if err := sd.SaveToken(ctx, "ada", "gitlab", &oauth2.Token{AccessToken: "glpat_SECRETACCESS"}); err != nil {
		t.Fatal(err)
	}
	closeStateDir(t, sd)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if strings.Contains(string(b), "SECRET") {
			t.Errorf("%s holds a provider token in clear", e.Name())
		}
	}
	newSecret := []byte("a-new-secret-for-chatauth-0123456789abcdef")
	var logs syncBuffer
	sd = openTestStateDir(t, dir, &logs, statelog.Options{}, func(o *StateDirOptions) {
		o.Secret, o.PreviousSecrets = newSecret, [][]byte{testSecret}
	})
	for _, p := range []string{"github", "gitlab"} {
		if _, err := sd.Token(ctx, "ada", p); err != nil {
			t.Errorf("token of %s sealed under the previous secret: %v", p, err)
		}
	}
	closeStateDir(t, sd)
	logs = syncBuffer{}
	sd = openTestStateDir(t, dir, &logs, statelog.Options{}, func(o *StateDirOptions) { o.Secret = newSecret })
	if _, err := sd.Token(ctx, "ada", "github"); !errors.Is(err, ErrNoToken) {
		t.Errorf("token opened without the secret it was sealed with: %v", err)
	}
	if !strings.Contains(logs.String(), "tokens=2") {
		t.Errorf("the dropped tokens were not reported:\n%s", logs.String())
	}
}

func TestStateDirSecondOpenIsRefused(t *testing.T) {
	dir := t.TempDir()
	openTestStateDir(t, dir, nil, statelog.Options{})
	_, err := OpenStateDir(dir, StateDirOptions{Secret: testSecret, Logger: slog.New(slog.DiscardHandler)})
	if !errors.Is(err, ErrStateDirInUse) {
		t.Fatalf("second OpenStateDir: %v, want ErrStateDirInUse", err)
	}
	for _, want := range []string{dir, filepath.Join(dir, "LOCK"), "process " + strconv.Itoa(os.Getpid())} {
		if runtime.GOOS == "windows" && strings.HasPrefix(want, "process") {
			continue // the lock file cannot be read while it is held
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestOpenStateDirRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		opts StateDirOptions
		want string
	}{
		{"no secret", t.TempDir(), StateDirOptions{}, "Secret is 0 bytes"},
		{"short secret", t.TempDir(), StateDirOptions{Secret: []byte("short")}, "Secret is 5 bytes"},
		{"no directory", "", StateDirOptions{Secret: testSecret}, "no directory"},
		{"a file, not a directory", writeFile(t, "not-a-dir"), StateDirOptions{Secret: testSecret}, "not-a-dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := OpenStateDir(tt.dir, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("OpenStateDir: %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

func writeFile(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestStateDirZeroValueAndNilInputs: a StateDir not made by OpenStateDir,
// and nil or empty inputs, give errors, never panics.
func TestStateDirZeroValueAndNilInputs(t *testing.T) {
	ctx := context.Background()
	var zero StateDir
	if err := zero.Revoke(ctx, Revocation{ID: "x"}); err == nil {
		t.Error("Revoke on a zero StateDir succeeded")
	}
	if revoked, err := zero.Revoked(ctx, &Session{}); !revoked || err == nil {
		t.Errorf("Revoked on a zero StateDir = %v, %v", revoked, err)
	}
	if err := zero.RevokeUser(ctx, UserRevocation{}); err == nil {
		t.Error("RevokeUser on a zero StateDir succeeded")
	}
	if first, err := zero.FirstUse(ctx, "x", time.Now().Add(time.Hour)); first || err == nil {
		t.Error("FirstUse on a zero StateDir succeeded")
	}
	if _, err := zero.Hit(ctx, "k", 1, time.Minute); err == nil {
		t.Error("Hit on a zero StateDir succeeded")
	}
	if zero.Reset(ctx, "k") == nil || zero.Forgive(ctx, "k") == nil {
		t.Error("Reset or Forgive on a zero StateDir succeeded")
	}
	if zero.SaveToken(ctx, "u", "p", &oauth2.Token{}) == nil || zero.DeleteToken(ctx, "u", "p") == nil {
		t.Error("SaveToken or DeleteToken on a zero StateDir succeeded")
	}
	if _, err := zero.Token(ctx, "u", "p"); err == nil {
		t.Error("Token on a zero StateDir succeeded")
	}
	if err := zero.Close(); err != nil {
		t.Errorf("Close on a zero StateDir: %v", err)
	}
	sd := openTestStateDir(t, t.TempDir(), nil, statelog.Options{})
	if err := sd.SaveToken(ctx, "u", "p", nil); err == nil {
		t.Error("SaveToken(nil) succeeded")
	}
	if err := sd.Revoke(ctx, Revocation{}); err == nil {
		t.Error("Revoke without an id succeeded")
	}
	if revoked, err := sd.Revoked(ctx, nil); !revoked || err != nil {
		t.Errorf("Revoked(nil) = %v, %v, want revoked", revoked, err)
	}
	closeStateDir(t, sd)
	if err := sd.Revoke(ctx, Revocation{ID: "after-close", Expires: time.Now().Add(time.Hour)}); !errors.Is(err, ErrStoreUnavailable) {
		t.Errorf("Revoke after Close: %v, want ErrStoreUnavailable", err)
	}
	if err := sd.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestStateDirCompactionDropsExpired: a compaction leaves what has
// expired off the disk, and the snapshot replaces the logs.
func TestStateDirCompactionDropsExpired(t *testing.T) {
	dir := t.TempDir()
	sd := openTestStateDir(t, dir, nil, statelog.Options{NoSync: true})
	clk := testutil.NewClock(time.Now())
	sd.revs.now = clk.Now
	now := clk.Now()
	for i := range 2000 {
		mustRevoke(t, sd, Revocation{ID: "short-" + strconv.Itoa(i), User: "ada", IssuedAt: now, Expires: now.Add(time.Hour)})
	}
	mustRevoke(t, sd, Revocation{ID: "long", User: "ada", IssuedAt: now, Expires: now.Add(48 * time.Hour)})
	if err := sd.compact(); err != nil {
		t.Fatal(err)
	}
	full := dirBytes(t, dir)
	clk.Advance(2 * time.Hour)
	if !sd.compactDueAfter(time.Hour) {
		t.Error("no compaction due an hour later, with expired entries in the snapshot")
	}
	if err := sd.compact(); err != nil {
		t.Fatal(err)
	}
	if after := dirBytes(t, dir); after*10 > full {
		t.Errorf("%d bytes on disk after the short revocations expired, %d before: want a tenth at most", after, full)
	}
	closeStateDir(t, sd)
	sd = openTestStateDir(t, dir, nil, statelog.Options{NoSync: true})
	if !revoked(t, sd, sessionOfUser("ada", "long", "j", now)) {
		t.Error("the live revocation was dropped")
	}
	if revoked(t, sd, sessionOfUser("ada", "short-7", "j", now)) {
		t.Error("an expired revocation is still on disk") // by the wall clock it has not expired: only a drop removes it
	}
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// LOCK, the snapshot, the log of the first run (until this run's
	// first compaction) and this run's.
	if len(names) > 4 || !strings.HasPrefix(names[len(names)-1], "snap-") {
		t.Errorf("files %q, want the lock, one snapshot and at most two logs", names)
	}
}

// compactDueAfter is compactDue as it will be once the hourly period has
// passed.
func (d *StateDir) compactDueAfter(period time.Duration) bool {
	d.compactMu.Lock()
	d.lastCompact = d.lastCompact.Add(-period)
	d.compactMu.Unlock()
	return d.compactDue()
}

// TestStateDirCompactsWhenTheLogOutgrowsTheSnapshot: the log is folded
// into a snapshot in the background once it passes its threshold.
func TestStateDirCompactsWhenTheLogOutgrowsTheSnapshot(t *testing.T) {
	dir := t.TempDir()
	sd := openTestStateDir(t, dir, nil, statelog.Options{NoSync: true})
	sd.compactBytes = 4 << 10
	now := time.Now()
	for i := 0; sd.log.SnapshotSize() == 0; i++ {
		if i > 100000 {
			t.Fatal("no compaction after 100,000 revocations")
		}
		mustRevoke(t, sd, Revocation{ID: "r-" + strconv.Itoa(i), User: "ada", IssuedAt: now, Expires: now.Add(time.Hour)})
	}
}

// TestStateDirGroupCommit: 1,000 concurrent logouts share fsyncs. The
// first fsync is held until every logout is queued: the thousand take two
// fsyncs, not a thousand.
func TestStateDirGroupCommit(t *testing.T) {
	var armed atomic.Bool
	release := make(chan struct{})
	var hold sync.Once
	sd := openTestStateDir(t, t.TempDir(), nil, statelog.Options{BeforeSync: func() error {
		if armed.Load() {
			hold.Do(func() { <-release })
		}
		return nil
	}})
	armed.Store(true)
	syncsBefore, appendedBefore := sd.log.Syncs(), sd.log.Appended()
	const n = 1000
	now := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- sd.Revoke(context.Background(), Revocation{ID: "sid-" + strconv.Itoa(i), User: "u" + strconv.Itoa(i),
				IssuedAt: now, Expires: now.Add(time.Hour)})
		})
	}
	deadline := time.Now().Add(time.Minute)
	for sd.log.Appended()-appendedBefore < n { // every logout queues behind the held fsync
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d logouts queued", sd.log.Appended()-appendedBefore, n)
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := sd.log.Syncs() - syncsBefore; got > 2 {
		t.Fatalf("%d fsyncs for %d concurrent logouts, want at most 2", got, n)
	}
}

// TestStateDirBounded100k: 100,000 distinct revocations (distinct users
// too) into a StateDir bounded at 1,000 hold at most that many in memory,
// and so little on disk after compaction, while every one of them stays
// revoked across a restart: the oldest are folded into user cuts, and
// those into the store-wide cut.
func TestStateDirBounded100k(t *testing.T) {
	dir := t.TempDir()
	limit := func(o *StateDirOptions) { o.MaxRevocations = 1000 }
	sd := openTestStateDir(t, dir, nil, statelog.Options{NoSync: true}, limit)
	const n = 100000
	const workers = 16
	issued := time.Now().Add(-time.Minute)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				mustRevoke(t, sd, Revocation{ID: "sid-" + strconv.Itoa(i), User: "user-" + strconv.Itoa(i),
					IssuedAt: issued, Expires: issued.Add(24 * time.Hour)})
			}
		})
	}
	wg.Wait()
	if held := sd.revs.held(); held > 1000 {
		t.Fatalf("%d revocations held, bound 1,000", held)
	}
	if err := sd.compact(); err != nil {
		t.Fatal(err)
	}
	if size := dirBytes(t, dir); size > 64<<10 {
		t.Errorf("%d bytes on disk after compaction, want at most 64 KiB", size)
	}
	closeStateDir(t, sd)
	sd = openTestStateDir(t, dir, nil, statelog.Options{NoSync: true}, limit)
	for i := 0; i < n; i += 97 {
		if !revoked(t, sd, sessionOfUser("user-"+strconv.Itoa(i), "sid-"+strconv.Itoa(i), "jti", issued)) {
			t.Fatalf("revocation %d forgotten", i)
		}
	}
}

// TestStateDirTornTailLogsOneLine: an unfinished write at the end of the
// log is skipped with one warning, and what came before it is kept.
func TestStateDirTornTailLogsOneLine(t *testing.T) {
	dir := t.TempDir()
	sd := openTestStateDir(t, dir, nil, statelog.Options{})
	now := time.Now()
	mustRevoke(t, sd, Revocation{ID: "kept", User: "ada", IssuedAt: now, Expires: now.Add(time.Hour)})
	closeStateDir(t, sd)
	log := lastFile(t, dir, "log-")
	f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte{0x12, 0x34, 0x56, 0x78, 40, 0, 0, 0, 'r', 1, 2}); err != nil { // a record cut short
		t.Fatal(err)
	}
	_ = f.Close()
	var logs syncBuffer
	sd = openTestStateDir(t, dir, &logs, statelog.Options{})
	if !revoked(t, sd, sessionOfUser("ada", "kept", "j", now)) {
		t.Error("the revocation before the torn tail was lost")
	}
	if got := strings.Count(logs.String(), "auth.reason="+reasonStateTail); got != 1 {
		t.Errorf("%d lines about the torn tail, want 1:\n%s", got, logs.String())
	}
	if strings.Contains(logs.String(), reasonStateDamaged) {
		t.Errorf("a torn tail was taken for lost records:\n%s", logs.String())
	}
	if revoked(t, sd, sessionOfUser("ada", "other", "j", now)) {
		t.Error("a torn tail revoked other sessions")
	}
}

func lastFile(t *testing.T, dir, prefix string) string {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	last := ""
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			last = filepath.Join(dir, e.Name())
		}
	}
	if last == "" {
		t.Fatalf("no %s* file in %s", prefix, dir)
	}
	return last
}

// TestStateDirDamageRevokesEveryone: a snapshot that fails its checksum
// may have lost acknowledged revocations, so every session issued before
// the start is revoked (fail-safe), and those started after are not.
func TestStateDirDamageRevokesEveryone(t *testing.T) {
	dir := t.TempDir()
	sd := openTestStateDir(t, dir, nil, statelog.Options{})
	now := time.Now()
	for i := range 100 {
		mustRevoke(t, sd, Revocation{ID: "r-" + strconv.Itoa(i), User: "ada", IssuedAt: now, Expires: now.Add(time.Hour)})
	}
	if err := sd.compact(); err != nil {
		t.Fatal(err)
	}
	closeStateDir(t, sd)
	snap := lastFile(t, dir, "snap-")
	b, _ := os.ReadFile(snap)
	b[len(b)/2] ^= 0x40
	if err := os.WriteFile(snap, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	sd = openTestStateDir(t, dir, &logs, statelog.Options{})
	if !revoked(t, sd, sessionOfUser("bob", "never-revoked", "j", now.Add(-time.Second))) {
		t.Error("a session issued before the damaged start is not revoked")
	}
	if revoked(t, sd, sessionOfUser("bob", "new", "j", time.Now().Add(time.Second))) {
		t.Error("a session issued after the start is revoked")
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "auth.reason="+reasonStateDamaged) {
		t.Errorf("no error line about the damage:\n%s", logs.String())
	}
	closeStateDir(t, sd)
	sd = openTestStateDir(t, dir, nil, statelog.Options{}) // the cut itself was made durable
	if !revoked(t, sd, sessionOfUser("bob", "never-revoked", "j", now.Add(-time.Second))) {
		t.Error("the cut made after the damage did not survive a restart")
	}
}

// TestStateDirWriteFailure: when the disk fails, a logout still takes
// effect in memory but reports the store unavailable (503); a compaction
// onto a fresh log makes it durable after all.
func TestStateDirWriteFailure(t *testing.T) {
	dir := t.TempDir()
	var failing atomic.Bool
	sd := openTestStateDir(t, dir, nil, statelog.Options{BeforeSync: func() error {
		if failing.Load() {
			return errors.New("input/output error")
		}
		return nil
	}})
	failing.Store(true)
	now := time.Now()
	err := sd.Revoke(context.Background(), Revocation{ID: "during-failure", User: "ada", IssuedAt: now, Expires: now.Add(time.Hour)})
	if !errors.Is(err, ErrStoreUnavailable) {
		t.Fatalf("Revoke on a failed disk: %v, want ErrStoreUnavailable", err)
	}
	sess := sessionOfUser("ada", "during-failure", "j", now)
	if !revoked(t, sd, sess) {
		t.Fatal("a logout that could not be written is not in force")
	}
	// Until a compaction starts a fresh log (the failure kicked one off in
	// the background), logouts fail the same way, or succeed on the new log.
	_ = sd.Revoke(context.Background(), Revocation{ID: "also-failing", User: "ada", IssuedAt: now, Expires: now.Add(time.Hour)})
	failing.Store(false)
	if err := sd.compact(); err != nil {
		t.Fatalf("compact: %v", err)
	}
	mustRevoke(t, sd, Revocation{ID: "after-recovery", User: "ada", IssuedAt: now, Expires: now.Add(time.Hour)})
	closeStateDir(t, sd)
	sd = openTestStateDir(t, dir, nil, statelog.Options{})
	for _, id := range []string{"during-failure", "also-failing", "after-recovery"} {
		if !revoked(t, sd, sessionOfUser("ada", id, "j", now)) {
			t.Errorf("%s lost", id)
		}
	}
}

// TestNewWithStateDir: an Auth with Config.Stores.StateDir keeps a logout across
// a restart (Close, then New on the same directory), and logs no
// memory-only warning; one without it logs exactly one.
func TestNewWithStateDir(t *testing.T) {
	dir := t.TempDir()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	a, err := New(Config{Secret: testSecret, Stores: StoresConfig{StateDir: dir}, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	anyone := func(_ context.Context, u, _ string) (*User, error) { return &User{Identifier: u}, nil }
	a.OnPassword(anyone)
	login := func(user string) string {
		resp := serve(t, a, loginRequest("", user, "pw"))
		wantSuccess(t, resp)
		return cookieNamed(resp, "access_token").Value
	}
	loggedOut, still := login("ada"), login("bob")
	logoutWith(t, a, loggedOut)
	if got := sessionStatus(t, a, loggedOut); got != http.StatusUnauthorized {
		t.Fatalf("logged-out token = %d, want 401", got)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), reasonMemoryOnly) {
		t.Errorf("warned about memory-only revocations with a StateDir:\n%s", logs.String())
	}

	a, err = New(Config{Secret: testSecret, Stores: StoresConfig{StateDir: dir}, Logger: logger})
	if err != nil {
		t.Fatalf("New after Close on the same directory: %v", err)
	}
	t.Cleanup(func() { _ = a.Close() })
	a.OnPassword(anyone)
	if got := sessionStatus(t, a, loggedOut); got != http.StatusUnauthorized {
		t.Errorf("logged-out token after a restart: %d, want 401", got)
	}
	if got := sessionStatus(t, a, still); got != http.StatusOK {
		t.Errorf("token still logged in after a restart: %d, want 200", got)
	}
	if _, err := New(Config{Secret: testSecret, Stores: StoresConfig{StateDir: dir}, Logger: logger}); !errors.Is(err, ErrStateDirInUse) {
		t.Errorf("a second Auth on the same directory: %v, want ErrStateDirInUse", err)
	}

	var memLogs syncBuffer
	if _, err := New(Config{Secret: testSecret, Logger: slog.New(slog.NewTextHandler(&memLogs, nil))}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(memLogs.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "auth.reason="+reasonMemoryOnly) ||
		!strings.Contains(lines[0], "StateDir") || !strings.Contains(lines[0], "CHATAUTH_STATE_DIR") || !strings.Contains(lines[0], "Redis") {
		t.Errorf("log %q, want one warning naming the state directory and Redis", memLogs.String())
	}
}

// BenchmarkStateDirMillion: 1,000,000 revocations (random 22-character
// session ids, 100,000 users, 15-day expiry) written through Revoke, then
// compacted; it reports the bytes on disk after compaction, and the time a
// restart takes to load them (OpenStateDir: lock, replay, new log).
func BenchmarkStateDirMillion(b *testing.B) {
	const n = 1_000_000
	dir := b.TempDir()
	sd := openTestStateDir(b, dir, nil, statelog.Options{NoSync: true})
	users := make([]string, 100000)
	for i := range users {
		users[i] = "user-" + strconv.Itoa(i) + "@example.com"
	}
	now := time.Now()
	const workers = 64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				mustRevoke(b, sd, Revocation{ID: randomToken(16), User: users[i%len(users)], IssuedAt: now, Expires: now.Add(15 * 24 * time.Hour)})
			}
		})
	}
	wg.Wait()
	if err := sd.compact(); err != nil {
		b.Fatal(err)
	}
	closeStateDir(b, sd)
	disk := dirBytes(b, dir)
	var load time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		sd, err := openStateDir(dir, StateDirOptions{Secret: testSecret, Logger: slog.New(slog.DiscardHandler)}, statelog.Options{NoSync: true})
		load = time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if held := sd.revs.held(); held != n {
			b.Fatalf("%d revocations loaded, want %d", held, n)
		}
		closeStateDir(b, sd)
	}
	b.ReportMetric(float64(disk)/1e6, "MB-on-disk")
	b.ReportMetric(float64(disk)/n, "B/revocation-on-disk")
	b.ReportMetric(load.Seconds(), "s-load")
}

// BenchmarkStateDirRevoke: one logout after another, each acknowledged
// once fsynced: the latency of a logout, about one fsync.
func BenchmarkStateDirRevoke(b *testing.B) {
	sd := openTestStateDir(b, b.TempDir(), nil, statelog.Options{})
	now := time.Now()
	syncs := sd.log.Syncs()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		mustRevoke(b, sd, Revocation{ID: "sid-" + strconv.Itoa(i), User: "ada", IssuedAt: now, Expires: now.Add(time.Hour)})
	}
	b.ReportMetric(float64(sd.log.Syncs()-syncs)/float64(i), "fsyncs/op")
}

// BenchmarkStateDirRevokeParallel: 64 goroutines logging out at once:
// group commit shares each fsync between the logouts waiting for it.
func BenchmarkStateDirRevokeParallel(b *testing.B) {
	sd := openTestStateDir(b, b.TempDir(), nil, statelog.Options{})
	now := time.Now()
	syncs := sd.log.Syncs()
	var ids atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mustRevoke(b, sd, Revocation{ID: "sid-" + strconv.FormatInt(ids.Add(1), 10), User: "ada", IssuedAt: now, Expires: now.Add(time.Hour)})
		}
	})
	b.ReportMetric(float64(sd.log.Syncs()-syncs)/float64(ids.Load()), "fsyncs/op")
}

// BenchmarkStateDirRevoked: the per-request check, from memory, with a
// million revocations held: as MemoryRevocationStore's, with SipHash in
// place of maphash.
func BenchmarkStateDirRevoked(b *testing.B) {
	ctx := context.Background()
	for _, held := range []int{0, 1_000_000} {
		b.Run("held="+strconv.Itoa(held), func(b *testing.B) {
			sd := openTestStateDir(b, b.TempDir(), nil, statelog.Options{NoSync: true})
			now := time.Now()
			for range held {
				k, e, _, _ := sd.revs.entryOf(Revocation{ID: randomToken(16), User: "someone", IssuedAt: now, Expires: now.Add(time.Hour)}, now)
				sd.revs.add(k, e, now) // memory only: the check is what is measured
			}
			if err := sd.RevokeUser(ctx, UserRevocation{User: "ada@example.com", Before: now.Add(-time.Hour), Expires: now.Add(time.Hour)}); err != nil {
				b.Fatal(err)
			}
			sess := sessionOfUser("ada@example.com", randomToken(16), randomToken(16), now)
			b.ReportAllocs()
			for b.Loop() {
				if revoked, _ := sd.Revoked(ctx, sess); revoked {
					b.Fatal("revoked")
				}
			}
		})
	}
}

// BenchmarkStateDirThousandLogouts: 1,000 logouts arriving at once, each
// on its own goroutine, as a burst of requests would: the time until the
// last is acknowledged, and the fsyncs the thousand took (unlike
// TestStateDirGroupCommit, nothing holds the first fsync back).
func BenchmarkStateDirThousandLogouts(b *testing.B) {
	sd := openTestStateDir(b, b.TempDir(), nil, statelog.Options{})
	now := time.Now()
	syncs := sd.log.Syncs()
	round := 0
	b.ReportAllocs()
	for b.Loop() {
		round++
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 1000 {
			wg.Go(func() {
				<-start
				mustRevoke(b, sd, Revocation{ID: fmt.Sprintf("sid-%d-%d", round, i), User: "ada", IssuedAt: now, Expires: now.Add(time.Hour)})
			})
		}
		close(start)
		wg.Wait()
	}
	b.ReportMetric(float64(sd.log.Syncs()-syncs)/float64(round), "fsyncs/1000-logouts")
}

// TestSetSecretsReachesTheStateDir: after Auth.SetSecrets, the state
// directory of Config.Stores.StateDir seals the provider tokens it writes
// with the new secret (issue 16, bug 1: one keyring owns every key derived
// from the secrets), so that they open after a restart with the new secret
// alone, and the ones written before the rotation do not.
func TestSetSecretsReachesTheStateDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	newSecret := []byte("a-new-secret-for-chatauth-0123456789abcdef")
	a, err := New(Config{Secret: testSecret, Stores: StoresConfig{StateDir: dir}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.cfg.Tokens.SaveToken(ctx, "ada", "before", &oauth2.Token{AccessToken: "a1"}); err != nil {
		t.Fatal(err)
	}
	if err := a.SetSecrets(newSecret); err != nil {
		t.Fatal(err)
	}
	if err := a.cfg.Tokens.SaveToken(ctx, "ada", "after", &oauth2.Token{AccessToken: "a2"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	a, err = New(Config{Secret: newSecret, Stores: StoresConfig{StateDir: dir}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	if tok, err := a.cfg.Tokens.Token(ctx, "ada", "after"); err != nil || tok.AccessToken != "a2" {
		t.Errorf("token written after the rotation: %v %v, want it sealed with the new secret", tok, err)
	}
	if _, err := a.cfg.Tokens.Token(ctx, "ada", "before"); !errors.Is(err, ErrNoToken) {
		t.Errorf("token sealed with the removed secret: %v, want ErrNoToken", err)
	}
}
