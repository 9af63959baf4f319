package statelog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var ctx = context.Background()

// open opens dir and returns the records it replayed.
func open(t *testing.T, dir string, opts Options) (*Dir, []string, Replayed) {
	t.Helper()
	var recs []string
	d, rep, err := Open(dir, opts, func(rec []byte) { recs = append(recs, string(rec)) })
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d, recs, rep
}

// appendAll appends each record and waits until it is durable.
func appendAll(t *testing.T, d *Dir, recs ...string) {
	t.Helper()
	for _, r := range recs {
		if err := d.Append([]byte(r)).Wait(ctx); err != nil {
			t.Fatalf("Append(%q): %v", r, err)
		}
	}
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestAppendReplayInOrder(t *testing.T) {
	dir := t.TempDir()
	d, recs, _ := open(t, dir, Options{})
	if len(recs) != 0 {
		t.Fatalf("new directory replayed %q", recs)
	}
	want := numbered("rec-", 100)
	appendAll(t, d, want...)
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, got, rep := open(t, dir, Options{})
	if !slices.Equal(got, want) || len(rep.Damage) != 0 {
		t.Fatalf("replayed %d records (damage %+v), want %d in order", len(got), rep.Damage, len(want))
	}
}

// lastLog is the path of the highest-numbered log in dir.
func lastLog(t *testing.T, dir string) string {
	t.Helper()
	var logs []string
	for _, n := range files(t, dir) {
		if strings.HasPrefix(n, logPrefix) {
			logs = append(logs, n)
		}
	}
	slices.Sort(logs)
	return filepath.Join(dir, logs[len(logs)-1])
}

// TestTornTailSkipped: whatever a crash leaves at the end of the last log
// (a record cut anywhere, zeros, garbage, a flipped bit), the whole
// records before it replay, the damage is reported once as a tail, and
// the next start finds the log whole.
func TestTornTailSkipped(t *testing.T) {
	before := numbered("kept-", 5)
	last := "the-record-being-written"
	frame := AppendFrame(nil, []byte(last))
	cases := []struct {
		name     string
		damage   func(b []byte) []byte // b: the log's bytes, ending with frame
		wantLast bool                  // the last record survives
	}{
		{"zeros appended", func(b []byte) []byte { return append(b, make([]byte, 4096)...) }, true},
		{"garbage appended", func(b []byte) []byte { return append(b, "\x13\x37garbage that is not a frame"...) }, true},
		{"bit flipped in last record", func(b []byte) []byte { b[len(b)-3] ^= 0x20; return b }, false},
		{"length field too large", func(b []byte) []byte {
			b[len(b)-len(frame)+7] = 0xff
			return b
		}, false},
	}
	for cut := 1; cut < len(frame); cut++ {
		cases = append(cases, struct {
			name     string
			damage   func(b []byte) []byte
			wantLast bool
		}{fmt.Sprintf("cut %d bytes into the last record", cut), func(b []byte) []byte { return b[:len(b)-len(frame)+cut] }, false})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			d, _, _ := open(t, dir, Options{})
			appendAll(t, d, append(slices.Clone(before), last)...)
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			path := lastLog(t, dir)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(before)
			if tc.wantLast {
				want = append(want, last)
			}
			d, got, rep := open(t, dir, Options{})
			if !slices.Equal(got, want) {
				t.Fatalf("replayed %q, want %q", got, want)
			}
			if len(rep.Damage) != 1 || !rep.Damage[0].Tail || rep.Damage[0].Skipped <= 0 {
				t.Fatalf("damage %+v, want one tail", rep.Damage)
			}
			appendAll(t, d, "after-restart")
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			_, got, rep = open(t, dir, Options{})
			if want = append(want, "after-restart"); !slices.Equal(got, want) || len(rep.Damage) != 0 {
				t.Fatalf("second start: replayed %q (damage %+v), want %q and none", got, rep.Damage, want)
			}
		})
	}
}

// TestDamageBeforeTheTailIsNotATail: a snapshot or an earlier log that
// fails its checksum lost acknowledged records; the caller is told.
func TestDamageBeforeTheTailIsNotATail(t *testing.T) {
	dir := t.TempDir()
	d, _, _ := open(t, dir, Options{})
	appendAll(t, d, numbered("a-", 10)...)
	n, err := d.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	var snap []byte
	for _, r := range numbered("a-", 10) {
		snap = AppendFrame(snap, []byte(r))
	}
	if err := d.WriteSnapshot(n, snap); err != nil {
		t.Fatal(err)
	}
	appendAll(t, d, "b-0")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, snapName(n))
	b, _ := os.ReadFile(path)
	b[len(b)/2] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, got, rep := open(t, dir, Options{})
	if len(rep.Damage) != 1 || rep.Damage[0].Tail || rep.Damage[0].File != path {
		t.Fatalf("damage %+v, want the snapshot, not a tail", rep.Damage)
	}
	if !slices.Contains(got, "b-0") {
		t.Fatalf("the log after a damaged snapshot was not replayed: %q", got)
	}
}

// TestCompaction: a snapshot replaces the logs before it, and the
// directory holds the snapshot and the current log only.
func TestCompaction(t *testing.T) {
	dir := t.TempDir()
	d, _, _ := open(t, dir, Options{})
	appendAll(t, d, numbered("old-", 50)...)
	n, err := d.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, d, "new-0") // after the rotation: in the new log only
	if err := d.WriteSnapshot(n, AppendFrame(nil, []byte("state"))); err != nil {
		t.Fatal(err)
	}
	if got, want := files(t, dir), []string{lockName, logName(n), snapName(n)}; !slices.Equal(got, want) {
		t.Fatalf("files %q, want %q", got, want)
	}
	if d.SnapshotSize() == 0 {
		t.Error("SnapshotSize is 0 after a snapshot")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	_, got, _ := open(t, dir, Options{})
	if want := []string{"state", "new-0"}; !slices.Equal(got, want) {
		t.Fatalf("replayed %q, want %q", got, want)
	}
}

// TestCompactionInterrupted: each point where a crash can stop a
// compaction replays to the same records.
func TestCompactionInterrupted(t *testing.T) {
	cases := []struct {
		name  string
		after func(t *testing.T, dir string, d *Dir, n uint64, snap []byte)
	}{
		{"after rotate", func(*testing.T, string, *Dir, uint64, []byte) {}},
		{"temp file half written", func(t *testing.T, dir string, _ *Dir, n uint64, snap []byte) {
			tmp := filepath.Join(dir, snapName(n)+tmpSuffix)
			if err := os.WriteFile(tmp, snap[:len(snap)/2], 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"renamed, old files not yet removed", func(t *testing.T, dir string, _ *Dir, n uint64, snap []byte) {
			whole := append(AppendFrame(nil, fileHeader(kindSnapshot, n)), snap...)
			if err := os.WriteFile(filepath.Join(dir, snapName(n)), whole, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			d, _, _ := open(t, dir, Options{})
			old := numbered("r-", 20)
			appendAll(t, d, old...)
			n, err := d.Rotate()
			if err != nil {
				t.Fatal(err)
			}
			appendAll(t, d, "after")
			var snap []byte
			for _, r := range old {
				snap = AppendFrame(snap, []byte(r))
			}
			tc.after(t, dir, d, n, snap)
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			_, got, rep := open(t, dir, Options{})
			if want := append(old, "after"); !slices.Equal(got, want) || len(rep.Damage) != 0 {
				t.Fatalf("replayed %q (damage %+v), want %q", got, rep.Damage, want)
			}
			for _, f := range files(t, dir) {
				if strings.HasSuffix(f, tmpSuffix) {
					t.Errorf("%s left behind", f)
				}
			}
		})
	}
}

func TestSecondOpenIsRefused(t *testing.T) {
	dir := t.TempDir()
	open(t, dir, Options{})
	_, _, err := Open(dir, Options{}, func([]byte) {})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	for _, want := range []string{filepath.Join(dir, lockName), "process " + strconv.Itoa(os.Getpid())} {
		if runtime.GOOS == "windows" && strings.HasPrefix(want, "process") {
			continue // the lock file cannot be read while it is held
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestLockReleasedByClose(t *testing.T) {
	dir := t.TempDir()
	d, _, _ := open(t, dir, Options{})
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	open(t, dir, Options{})
}

// TestGroupCommit: appends made while an fsync runs share the next one.
// The first fsync is held until 1,000 concurrent appends are queued:
// they take one fsync between them.
func TestGroupCommit(t *testing.T) {
	release := make(chan struct{})
	var hold sync.Once
	d, _, _ := open(t, t.TempDir(), Options{BeforeSync: func() error { hold.Do(func() { <-release }); return nil }})
	const n = 1000
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() { errs <- d.Append([]byte("logout-" + strconv.Itoa(i))).Wait(ctx) })
	}
	deadline := time.Now().Add(time.Minute)
	for d.Appended() < n { // every append queues behind the held fsync
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d appends queued", d.Appended(), n)
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
	if got := d.Syncs(); got > 2 {
		t.Fatalf("%d fsyncs for %d concurrent appends, want at most 2", got, n)
	}
}

// TestFailedWriteStopsTheLog: after a write fails, nothing more goes into
// that log (its end is unknown); Rotate starts a fresh one.
func TestFailedWriteStopsTheLog(t *testing.T) {
	dir := t.TempDir()
	d, _, _ := open(t, dir, Options{})
	appendAll(t, d, "before")
	d.mu.Lock()
	_ = d.cur.f.Close() // the disk goes away under the open file
	d.mu.Unlock()
	if err := d.Append([]byte("lost")).Wait(ctx); err == nil {
		t.Fatal("append to a closed file succeeded")
	}
	if d.Failed() == nil {
		t.Fatal("Failed() is nil after a failed write")
	}
	if err := d.Append([]byte("also-lost")).Wait(ctx); err == nil {
		t.Fatal("append after a failed write succeeded")
	}
	n, err := d.Rotate()
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if err := d.WriteSnapshot(n, AppendFrame(nil, []byte("state"))); err != nil {
		t.Fatal(err)
	}
	appendAll(t, d, "after")
	if d.Failed() != nil {
		t.Fatalf("Failed() = %v after Rotate", d.Failed())
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	_, got, _ := open(t, dir, Options{})
	if want := []string{"state", "after"}; !slices.Equal(got, want) {
		t.Fatalf("replayed %q, want %q", got, want)
	}
}

func TestAppendAfterCloseAndBadSizes(t *testing.T) {
	d, _, _ := open(t, t.TempDir(), Options{})
	for _, rec := range [][]byte{nil, {}, make([]byte, MaxRecord+1)} {
		if err := d.Append(rec).Wait(ctx); err == nil {
			t.Errorf("Append of %d bytes succeeded", len(rec))
		}
	}
	_ = d.Close()
	if err := d.Append([]byte("x")).Wait(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v, want ErrClosed", err)
	}
	if _, err := d.Rotate(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Rotate after Close: %v, want ErrClosed", err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, _, err := Open("", Options{}, func([]byte) {}); err == nil {
		t.Fatal("Open(\"\") succeeded")
	}
}

// FuzzReplay: whatever bytes follow a log's header, replay returns a
// prefix of whole records and never fails or panics.
func FuzzReplay(f *testing.F) {
	f.Add(AppendFrame(AppendFrame(nil, []byte("one")), []byte("two")))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{1, 2, 3, 4, 255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, tail []byte) {
		dir := t.TempDir()
		body := append(AppendFrame(nil, fileHeader(kindLog, 1)), tail...)
		if err := os.WriteFile(filepath.Join(dir, logName(1)), body, 0o600); err != nil {
			t.Fatal(err)
		}
		var got [][]byte
		d, rep, err := Open(dir, Options{NoSync: true}, func(rec []byte) { got = append(got, bytes.Clone(rec)) })
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer d.Close()
		var whole []byte
		for _, r := range got {
			whole = AppendFrame(whole, r)
		}
		if !bytes.HasPrefix(tail, whole) {
			t.Fatalf("replayed records are not a prefix of the log")
		}
		if len(whole) < len(tail) && len(rep.Damage) != 1 {
			t.Fatalf("%d bytes skipped without a damage report", len(tail)-len(whole))
		}
	})
}
