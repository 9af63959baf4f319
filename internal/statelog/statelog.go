// Package statelog keeps a program's state in a directory, as a snapshot
// and an append-only log of records, so that what was acknowledged
// survives a crash. It knows nothing of what the records mean; chatauth's
// StateDir gives them meaning.
//
// # Format, and why
//
// Every file is a sequence of framed records: the CRC-32C (Castagnoli) of
// the record's length and bytes, the length (both little-endian uint32),
// then the bytes. The first record of a file names the format, the kind of
// file and its number. A crash can only leave the end of the file being
// appended to unfinished: a record cut short, or bytes that fail their
// checksum (a power cut may leave zeros or stale blocks). Reading stops
// there and reports the damage, with the offset where the whole records
// end; it never refuses the records before it. Length and checksum make
// each record self-delimiting, so no other index has to be kept in step.
//
// The directory holds at most a few files:
//
//	LOCK                  held with flock while a process owns the directory
//	snap-<n>              the state before log n, written whole
//	log-<n>, log-<n+1>... records appended since, replayed in order
//
// A record is durable once Wait on its Batch returns nil: the batch was
// written and fsynced. Records appended while an fsync is running share
// the next one (group commit), so a thousand concurrent appends cost a
// handful of fsyncs, not a thousand. A new log file and its directory entry
// are fsynced before any record goes into it.
//
// Compaction writes a new snapshot from the caller's state: Rotate starts
// log n+1 (new records go there), the caller encodes its state as of that
// moment, and WriteSnapshot writes it to snap-<n+1>.tmp, fsyncs it, renames
// it to snap-<n+1> (atomic) and fsyncs the directory; only then are the
// older snapshot and logs removed. A crash at any step leaves either the
// old snapshot with every log after it, or the new snapshot with the logs
// after it: both replay to the same state. Leftover .tmp files are removed
// at start-up.
//
// A write or fsync that fails leaves the file's end unknown, so nothing
// more is written to that file: every later batch for it fails, until the
// next Rotate starts a fresh one.
package statelog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// maxBatch is the most bytes one write carries; records beyond it wait for
// the next batch.
const maxBatch = 1 << 20

// ErrClosed is the error of an Append after Close.
var ErrClosed = errors.New("statelog: closed")

// ErrLocked means another process owns the directory.
var ErrLocked = errors.New("locked")

// Options tune a Dir; the zero value is what production uses.
type Options struct {
	// NoSync skips fsync, for tests and benchmarks that are not about
	// durability.
	NoSync bool
	// BeforeSync, when set, runs before each fsync of a batch; an error it
	// returns is taken as the fsync's (tests).
	BeforeSync func() error
}

// Damage is a file whose end was skipped at replay.
type Damage struct {
	File    string // path
	Offset  int64  // where the whole records end
	Skipped int64  // bytes after Offset
	Reason  string
	// Tail is true when the damage is in the last log, where a crash
	// leaves the write it interrupted: records there were never
	// acknowledged, except after a disk error. Damage elsewhere lost
	// records that were.
	Tail bool
}

// Replayed says what Open read.
type Replayed struct {
	Records int      // records passed to apply
	Bytes   int64    // size of the files read
	Logs    int      // log files read
	Damage  []Damage // files whose end was skipped
}

// Dir is an open state directory. Append, Batch.Wait and the accessors
// may be called concurrently; Rotate and WriteSnapshot by one goroutine
// at a time.
type Dir struct {
	path string
	lock interface{ Close() error }
	opts Options

	mu      sync.Mutex
	wake    sync.Cond // tells the flusher a batch is queued, or Close
	queue   []*Batch  // oldest first
	cur     *logFile  // where new batches go
	retired []*logFile
	closed  bool
	done    chan struct{} // closed when the flusher returns

	appended atomic.Int64
	syncs    atomic.Int64
	snapSize atomic.Int64
}

// logFile is one log file being written.
type logFile struct {
	f       *os.File
	n       uint64
	size    int64 // written and queued bytes (Dir.mu)
	batches int   // queued or being written (Dir.mu)
	failed  error // a write or fsync failed: nothing more is written (Dir.mu)
	retired bool  // Rotate moved on; closed once batches reaches 0 (Dir.mu)
	// drained is closed, and isDrained set, once a retired log is closed.
	drained   chan struct{}
	isDrained bool
}

// Batch is the records of one write and fsync.
type Batch struct {
	file   *logFile
	buf    []byte
	sealed bool // taken by the flusher: no more appends (Dir.mu)
	done   chan struct{}
	err    error
}

// Wait returns once the batch is durable (nil), failed, or ctx is done. A
// record whose Wait returned ctx's error may still be written.
func (b *Batch) Wait(ctx context.Context) error {
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func failedBatch(err error) *Batch {
	b := &Batch{done: make(chan struct{}), err: err}
	close(b.done)
	return b
}

// File names.
const (
	lockName   = "LOCK"
	snapPrefix = "snap-"
	logPrefix  = "log-"
	tmpSuffix  = ".tmp"
)

func snapName(n uint64) string { return fmt.Sprintf("%s%016x", snapPrefix, n) }
func logName(n uint64) string  { return fmt.Sprintf("%s%016x", logPrefix, n) }

// Open creates path if needed, takes its lock, replays the latest snapshot
// and every log after it through apply (rec is valid during the call
// only), and starts a new log for the records to come. A second process
// opening the directory gets an error wrapping ErrLocked.
func Open(path string, opts Options, apply func(rec []byte)) (*Dir, Replayed, error) {
	var rep Replayed
	if path == "" {
		return nil, rep, errors.New("statelog: no directory given")
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, rep, err
	}
	lock, err := lockDir(filepath.Join(path, lockName))
	if err != nil {
		return nil, rep, err
	}
	d := &Dir{path: path, lock: lock, opts: opts, done: make(chan struct{})}
	d.wake.L = &d.mu
	next, err := d.replay(apply, &rep)
	if err == nil {
		d.cur, err = d.createLog(next)
	}
	if err != nil {
		_ = lock.Close()
		return nil, rep, err
	}
	go d.flush()
	return d, rep, nil
}

// listing is the numbered files of the directory.
type listing struct{ snaps, logs []uint64 }

func (d *Dir) list() (listing, error) {
	var l listing
	entries, err := os.ReadDir(d.path)
	if err != nil {
		return l, err
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, tmpSuffix) {
			// A compaction that did not finish: never part of the state.
			_ = os.Remove(filepath.Join(d.path, name))
			continue
		}
		for _, p := range []struct {
			prefix string
			into   *[]uint64
		}{{snapPrefix, &l.snaps}, {logPrefix, &l.logs}} {
			if rest, ok := strings.CutPrefix(name, p.prefix); ok && len(rest) == 16 {
				if n, err := strconv.ParseUint(rest, 16, 64); err == nil {
					*p.into = append(*p.into, n)
				}
			}
		}
	}
	slices.Sort(l.snaps)
	slices.Sort(l.logs)
	return l, nil
}

// replay reads the latest snapshot and the logs from its number on, and
// returns the number of the log to start.
func (d *Dir) replay(apply func([]byte), rep *Replayed) (uint64, error) {
	l, err := d.list()
	if err != nil {
		return 0, err
	}
	var from uint64 // the snapshot's number: logs before it are in it
	read := func(name string, kind byte, n uint64, last bool) error {
		recs, size, dmg, err := readFile(filepath.Join(d.path, name), kind, n, apply)
		if err != nil {
			return fmt.Errorf("statelog: reading %s: %w", name, err)
		}
		rep.Records += recs
		rep.Bytes += size
		if dmg != nil {
			dmg.Tail = last
			rep.Damage = append(rep.Damage, *dmg)
			if last {
				// Cut the unfinished write off, so that the log is whole
				// when a later log follows it.
				return d.cutTail(name, dmg.Offset)
			}
		}
		return nil
	}
	if len(l.snaps) > 0 {
		from = l.snaps[len(l.snaps)-1]
		if err := read(snapName(from), kindSnapshot, from, false); err != nil {
			return 0, err
		}
		d.snapSize.Store(rep.Bytes)
	}
	next := max(from, 1)
	for i, n := range l.logs {
		if n < from {
			continue
		}
		if err := read(logName(n), kindLog, n, i == len(l.logs)-1); err != nil {
			return 0, err
		}
		rep.Logs++
		next = n + 1
	}
	return next, nil
}

// cutTail truncates a log to its whole records, or removes it when not
// even its header is whole.
func (d *Dir) cutTail(name string, offset int64) error {
	path := filepath.Join(d.path, name)
	if offset == 0 {
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("statelog: removing %s: %w", name, err)
		}
		return d.syncDir()
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("statelog: cutting %s: %w", name, err)
	}
	err = f.Truncate(offset)
	if err == nil {
		err = d.sync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("statelog: cutting %s: %w", name, err)
	}
	return nil
}

// createLog starts log n: its header, fsynced with the directory entry,
// before any record is acknowledged in it.
func (d *Dir) createLog(n uint64) (*logFile, error) {
	f, err := os.OpenFile(filepath.Join(d.path, logName(n)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	hdr := AppendFrame(nil, fileHeader(kindLog, n))
	if _, err = f.Write(hdr); err == nil {
		err = d.sync(f)
	}
	if err == nil {
		err = d.syncDir()
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return nil, fmt.Errorf("statelog: starting %s: %w", logName(n), err)
	}
	return &logFile{f: f, n: n, size: int64(len(hdr)), drained: make(chan struct{})}, nil
}

func (d *Dir) sync(f *os.File) error {
	if d.opts.NoSync {
		return nil
	}
	return f.Sync()
}

func (d *Dir) syncDir() error {
	if d.opts.NoSync {
		return nil
	}
	return syncDir(d.path)
}

// Append queues rec (at most MaxRecord bytes) for the next write and
// returns the batch it joined: Wait on it before acknowledging the record.
func (d *Dir) Append(rec []byte) *Batch {
	if len(rec) == 0 || len(rec) > MaxRecord {
		return failedBatch(fmt.Errorf("statelog: record of %d bytes (1 to %d)", len(rec), MaxRecord))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return failedBatch(ErrClosed)
	}
	if d.cur.retired {
		return failedBatch(errors.New("statelog: Append during Rotate"))
	}
	var b *Batch
	if n := len(d.queue); n > 0 {
		if last := d.queue[n-1]; !last.sealed && last.file == d.cur && len(last.buf) < maxBatch {
			b = last
		}
	}
	if b == nil {
		b = &Batch{file: d.cur, done: make(chan struct{})}
		d.queue = append(d.queue, b)
		d.cur.batches++
		d.wake.Signal()
	}
	before := len(b.buf)
	b.buf = AppendFrame(b.buf, rec)
	d.cur.size += int64(len(b.buf) - before)
	d.appended.Add(1)
	return b
}

// flush writes the queued batches in order, one write and one fsync each,
// until Close.
func (d *Dir) flush() {
	defer close(d.done)
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		for len(d.queue) == 0 && !d.closed {
			d.wake.Wait()
		}
		if len(d.queue) == 0 {
			return
		}
		b := d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		b.sealed = true
		lf := b.file
		err := lf.failed
		d.mu.Unlock()
		if err == nil {
			err = d.write(lf, b.buf)
		}
		d.mu.Lock()
		if err != nil && lf.failed == nil {
			lf.failed = err
		}
		b.err, b.buf = err, nil
		close(b.done)
		lf.batches--
		d.closeIfDrained(lf)
	}
}

// write writes one batch and fsyncs it.
func (d *Dir) write(lf *logFile, buf []byte) error {
	_, err := lf.f.Write(buf)
	if err == nil && !d.opts.NoSync {
		if d.opts.BeforeSync != nil {
			err = d.opts.BeforeSync()
		}
		if err == nil {
			err = lf.f.Sync()
		}
		d.syncs.Add(1)
	}
	if err != nil {
		return fmt.Errorf("statelog: writing %s: %w", logName(lf.n), err)
	}
	return nil
}

// closeIfDrained closes a retired log once its last batch is written.
func (d *Dir) closeIfDrained(lf *logFile) {
	if !lf.retired || lf.batches > 0 || lf.isDrained {
		return
	}
	if lf.f != nil {
		_ = lf.f.Close()
		lf.f = nil
	}
	lf.isDrained = true
	close(lf.drained)
}

// Rotate starts a new log: records appended from now on go to it. It
// first waits until every record queued for the current log is written,
// so that only the last log can ever end in an unfinished write. It
// returns the new log's number, which is the number WriteSnapshot must
// give the snapshot of the state as it is now. Append must not be called
// while Rotate runs.
func (d *Dir) Rotate() (uint64, error) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return 0, ErrClosed
	}
	old := d.cur
	old.retired = true
	d.closeIfDrained(old)
	d.retired = append(d.retired, old)
	d.mu.Unlock()
	<-old.drained
	lf, err := d.createLog(old.n + 1)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		// Keep appending nowhere but to a log that fails: the records stay
		// unacknowledged until a Rotate succeeds.
		d.cur = &logFile{n: old.n, failed: err, drained: make(chan struct{})}
		return 0, err
	}
	d.cur = lf
	return lf.n, nil
}

// WriteSnapshot writes snap-<n> from framed (records made with
// AppendFrame), durably and atomically, then removes the snapshots and
// logs it replaces, once nothing more is being written to them.
func (d *Dir) WriteSnapshot(n uint64, framed []byte) error {
	final := filepath.Join(d.path, snapName(n))
	tmp := final + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("statelog: snapshot: %w", err)
	}
	hdr := AppendFrame(nil, fileHeader(kindSnapshot, n))
	_, err = f.Write(hdr)
	if err == nil {
		_, err = f.Write(framed)
	}
	if err == nil {
		err = d.sync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err == nil {
		err = d.syncDir()
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("statelog: writing %s: %w", snapName(n), err)
	}
	d.snapSize.Store(int64(len(hdr) + len(framed)))
	return d.removeBefore(n)
}

// removeBefore removes the snapshots and logs numbered below n, after the
// flusher is done with the logs.
func (d *Dir) removeBefore(n uint64) error {
	d.mu.Lock()
	var wait []*logFile
	keep := d.retired[:0]
	for _, lf := range d.retired {
		if lf.n < n {
			wait = append(wait, lf)
		} else {
			keep = append(keep, lf)
		}
	}
	d.retired = keep
	d.mu.Unlock()
	for _, lf := range wait {
		<-lf.drained
	}
	l, err := d.list()
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range l.snaps {
		if s < n {
			errs = append(errs, os.Remove(filepath.Join(d.path, snapName(s))))
		}
	}
	for _, g := range l.logs {
		if g < n {
			errs = append(errs, os.Remove(filepath.Join(d.path, logName(g))))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("statelog: removing replaced files: %w", err)
	}
	return d.syncDir()
}

// Close writes what is queued, stops, closes the files and releases the
// lock. Appends after Close fail with ErrClosed.
func (d *Dir) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.wake.Signal()
	d.mu.Unlock()
	<-d.done
	var errs []error
	for _, lf := range append(d.retired, d.cur) {
		if lf.f != nil {
			errs = append(errs, lf.f.Close())
			lf.f = nil
		}
	}
	errs = append(errs, d.lock.Close())
	return errors.Join(errs...)
}

// Path is the directory.
func (d *Dir) Path() string { return d.path }

// LogSize is the bytes in the current log, queued records included.
func (d *Dir) LogSize() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cur.size
}

// Failed reports the error that stopped writes to the current log, if any:
// the next Rotate starts a fresh one.
func (d *Dir) Failed() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cur.failed
}

// SnapshotSize is the size of the latest snapshot, 0 without one.
func (d *Dir) SnapshotSize() int64 { return d.snapSize.Load() }

// Syncs counts the fsyncs of batches since Open.
func (d *Dir) Syncs() int64 { return d.syncs.Load() }

// Appended counts the records appended since Open.
func (d *Dir) Appended() int64 { return d.appended.Load() }
