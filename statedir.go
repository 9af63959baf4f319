package chatauth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatauth/chatauth/internal/seal"
	"github.com/chatauth/chatauth/internal/siphash"
	"github.com/chatauth/chatauth/internal/statelog"
	"golang.org/x/oauth2"
)

// StateDir is the durable store of one instance: what it must not forget
// when it restarts, kept in a directory. It is a RevocationStore (logouts,
// RevokeUser cuts, the single use of OAuth states), a TokenStore (provider
// tokens, sealed with the secret) and a Throttle, with no server to run.
// Set Config.Stores.StateDir (CHATAUTH_STATE_DIR) and New opens one; or open it
// with OpenStateDir and set it as Revocations, Tokens and Throttle. For
// several instances, share a Redis instead (the redisstore module).
//
// Every request is answered from memory: the index is a
// memoryRevocationStore, bounded and folding in the same way, keyed with
// SipHash under a key kept in the directory so that its hashes mean the
// same after a restart. Each change is also appended to a log on disk and
// acknowledged only once fsynced; changes made while an fsync runs share
// the next one (group commit), so a thousand concurrent logouts cost a
// few fsyncs. At start-up the latest snapshot and the log after it are
// replayed. In the background, when the log has grown past the snapshot
// (at least 1 MiB) and once an hour, the state is written to a new
// snapshot (temporary file, fsync, atomic rename, fsync of the directory)
// without what has expired, and the old files are removed.
//
// Every record is framed with its length and a CRC-32C. A crash (even
// SIGKILL or a power cut in the middle of a write) loses at most the
// changes not yet acknowledged: at start-up an unfinished end of the log is
// cut off with one warning line, never a refusal to start. Damage anywhere
// else (a snapshot or older log failing its checksum) may have lost
// acknowledged revocations, so the store then revokes every session issued
// before the start (logged as an error, reason state_damaged): more
// logging out, never less.
//
// One process owns the directory at a time: it holds a lock (flock) on its
// LOCK file, and a second OpenStateDir gets an error wrapping
// ErrStateDirInUse naming the directory and the lock. Files are created
// 0600 in a 0700 directory. Throttle counts are kept in memory only: a
// restart gives every username and address a fresh window.
type StateDir struct {
	log      *statelog.Dir
	revs     *memoryRevocationStore
	throttle *memoryThrottle
	tokens   *memoryTokenStore
	sealKeys atomic.Pointer[[][]byte] // [0] seals, all open; swapped by setSecrets
	logger   *slog.Logger

	// order makes each change in memory and its record in the log happen
	// in one order, so that a snapshot taken under it misses none.
	order sync.Mutex

	compactBytes int64         // least log size that triggers a compaction
	compactEvery time.Duration // the hourly compaction
	// compactMu makes one compaction run at a time, and guards the fields
	// after it.
	compactMu      sync.Mutex
	lastCompact    time.Time
	appendedAtSnap int64 // log.Appended() when the last snapshot was taken
	snapExpiry     int64 // Unix s of the first expiry in the snapshot, 0 if none
	kick           chan struct{}
	stop           chan struct{}
	stopped        chan struct{}
	closeOnce      sync.Once
	closeErr       error
}

// StateDirOptions configure OpenStateDir. The zero value of each field but
// Secret is a working default.
type StateDirOptions struct {
	// Secret seals the provider tokens written to disk (AES-256-GCM under
	// a key derived from it); required, at least 32 bytes: pass
	// Config.Secret.
	Secret []byte
	// PreviousSecrets still open tokens sealed under an older Secret.
	PreviousSecrets [][]byte
	// MaxRevocations bounds the revocations held one by one, in memory
	// and so on disk, as Config.Stores.MaxRevocations does: past it the
	// oldest are folded into per-user cuts. Default 1,048,576.
	MaxRevocations int
	// Logger receives the start-up summary, damage and compaction errors;
	// default slog.Default().
	Logger *slog.Logger
}

// ErrStateDirInUse means another process (or another StateDir of this
// one) has the state directory open.
var ErrStateDirInUse = errors.New("chatauth: state directory in use")

// Compaction and start-up constants.
const (
	stateCompactBytes = 1 << 20
	stateCompactEvery = time.Hour
	stateCompactCheck = time.Minute
	stateRetryAfter   = 5 * time.Second // between compactions while they fail
	// stateDamageCut is how long the cut made after damage lasts: longer
	// than any session it must end.
	stateDamageCut = 400 * 24 * time.Hour
	// reasonStateDamaged: a state file lost records; every older session
	// is revoked. reasonStateTail: the unfinished end of the log was cut.
	reasonStateDamaged = "state_damaged"
	reasonStateTail    = "state_tail_skipped"
	// reasonMemoryOnly: revocations are kept in memory only.
	reasonMemoryOnly = "memory_only"
)

// tokenSealPurpose names the key provider tokens are sealed with.
const tokenSealPurpose = "state dir provider tokens v1"

var (
	_ RevocationStore = (*StateDir)(nil)
	_ Throttle        = (*StateDir)(nil)
	_ TokenStore      = (*StateDir)(nil)
)

// setSecrets derives the keys that seal provider tokens on disk from the
// secrets: current seals from now on, every one opens. Auth.SetSecrets calls
// it for the state directory of Config.Stores.StateDir, so that a rotation
// reaches the tokens written after it.
func (d *StateDir) setSecrets(current []byte, previous [][]byte) {
	keys := make([][]byte, 0, 1+len(previous))
	for _, s := range append([][]byte{current}, previous...) {
		keys = append(keys, seal.DeriveKey(s, tokenSealPurpose))
	}
	d.sealKeys.Store(&keys)
}

// keys are the sealing keys: [0] seals, all open.
func (d *StateDir) keys() [][]byte { return *d.sealKeys.Load() }

// errStateDirNotOpen is the error of a StateDir not made by OpenStateDir.
var errStateDirNotOpen = errors.New("chatauth: StateDir not opened (use OpenStateDir)")

// OpenStateDir opens the state directory dir, creating it (0700) if
// needed, takes its lock, replays what it holds and starts the background
// compaction. Close it to release the directory. The error names every
// problem: a short Secret, a directory that cannot be created or read, or
// one in use (ErrStateDirInUse).
func OpenStateDir(dir string, opts StateDirOptions) (*StateDir, error) {
	return openStateDir(dir, opts, statelog.Options{})
}

func openStateDir(dir string, opts StateDirOptions, logOpts statelog.Options) (*StateDir, error) {
	if len(opts.Secret) < minSecretBytes {
		return nil, fmt.Errorf("chatauth: OpenStateDir: Secret is %d bytes, needs at least %d", len(opts.Secret), minSecretBytes)
	}
	if dir == "" {
		return nil, errors.New("chatauth: OpenStateDir: no directory given")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	d := &StateDir{
		revs:         newMemoryRevocationStore(opts.MaxRevocations),
		throttle:     newMemoryThrottle(0),
		tokens:       newMemoryTokenStore(0, 0),
		logger:       opts.Logger,
		compactBytes: stateCompactBytes,
		compactEvery: stateCompactEvery,
		kick:         make(chan struct{}, 1),
		stop:         make(chan struct{}),
		stopped:      make(chan struct{}),
	}
	d.revs.setLogger(opts.Logger)
	d.throttle.setLogger(opts.Logger)
	d.setSecrets(opts.Secret, opts.PreviousSecrets)
	start := time.Now()
	r := &replay{d: d, nowSec: d.revs.now().Unix()}
	lg, rep, err := statelog.Open(dir, logOpts, r.apply)
	if errors.Is(err, statelog.ErrLocked) {
		return nil, fmt.Errorf("%w: %s (%v): one process owns a state directory; "+
			"give each instance its own directory, or share state through Redis", ErrStateDirInUse, dir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("chatauth: opening state directory %s: %w", dir, err)
	}
	d.log = lg
	if err := d.afterReplay(r, rep, time.Since(start)); err != nil {
		_ = lg.Close()
		return nil, fmt.Errorf("chatauth: opening state directory %s: %w", dir, err)
	}
	d.lastCompact = time.Now()
	if r.expired > 0 {
		d.snapExpiry = r.nowSec // the files hold expired entries: the hourly compaction drops them
	}
	d.appendedAtSnap = lg.Appended()
	go d.compactLoop()
	if rep.Logs > 1 || len(rep.Damage) > 0 {
		d.kickCompaction() // fold the logs of earlier runs into one snapshot
	}
	return d, nil
}

// afterReplay sets the hash key (a new one for a new directory), reports
// what was read, and revokes every older session if revocations were lost.
func (d *StateDir) afterReplay(r *replay, rep statelog.Replayed, took time.Duration) error {
	ctx := context.Background()
	if r.key == nil {
		if r.hashed > 0 {
			r.lost++ // hashes under a key that is gone mean nothing
		}
		var b [16]byte
		_, _ = rand.Read(b[:])
		k, _ := siphash.KeyFromBytes(b[:])
		r.key = &k
		if err := d.log.Append(appendKeyRecord(nil, k)).Wait(ctx); err != nil {
			return err
		}
	}
	d.revs.sip = r.key
	lost := r.lost
	for _, dmg := range rep.Damage {
		attrs := []slog.Attr{slog.String("auth.method", "session"), slog.String("file", dmg.File),
			slog.Int64("offset", dmg.Offset), slog.Int64("bytes_skipped", dmg.Skipped), slog.String("cause", dmg.Reason)}
		if dmg.Tail {
			d.logger.LogAttrs(ctx, slog.LevelWarn, "chatauth: state directory: skipped the unfinished end of the log (a write a crash interrupted, never acknowledged)",
				append(attrs, slog.String("auth.outcome", "degraded"), slog.String("auth.reason", reasonStateTail))...)
			continue
		}
		lost++
		d.logger.LogAttrs(ctx, slog.LevelError, "chatauth: state directory: a file is damaged before its end",
			append(attrs, slog.String("auth.outcome", "degraded"), slog.String("auth.reason", reasonStateDamaged))...)
	}
	if r.badTokens > 0 {
		d.logger.LogAttrs(ctx, slog.LevelWarn, "chatauth: state directory: provider tokens that do not open with Secret or PreviousSecrets were dropped",
			slog.String("auth.method", "oauth"), slog.Int("tokens", r.badTokens))
	}
	if lost > 0 {
		if err := d.revokeEveryoneBefore(ctx, time.Now()); err != nil {
			return err
		}
		d.logger.LogAttrs(ctx, slog.LevelError, "chatauth: state directory lost records: every session issued before now is revoked",
			slog.String("auth.method", "session"), slog.String("auth.outcome", "degraded"),
			slog.String("auth.reason", reasonStateDamaged), slog.Int("damaged", lost))
	}
	d.logger.LogAttrs(ctx, slog.LevelInfo, "chatauth: state directory opened",
		slog.String("dir", d.log.Path()), slog.Int("records", rep.Records), slog.Int64("bytes", rep.Bytes),
		slog.Int("revocations", d.revs.held()), slog.Duration("took", took))
	return nil
}

// revokeEveryoneBefore revokes every session issued before t, durably.
func (d *StateDir) revokeEveryoneBefore(ctx context.Context, t time.Time) error {
	c := storeCut{before: ceilMillis(t), expires: t.Add(stateDamageCut).Unix()}
	return d.commit(ctx, appendEveryoneRecord(nil, c), func() error {
		d.revs.mergeEveryone(c)
		return nil
	})
}

// commit makes a change in memory and appends its record, in one order,
// then waits until the record is durable. A change whose record cannot be
// written stays in force in memory (it only revokes more) and the caller
// gets an error wrapping ErrStoreUnavailable.
func (d *StateDir) commit(ctx context.Context, rec []byte, apply func() error) error {
	if d == nil || d.log == nil {
		return errStateDirNotOpen
	}
	ctx = orBackground(ctx)
	d.order.Lock()
	if err := apply(); err != nil {
		d.order.Unlock()
		return err
	}
	b := d.log.Append(rec)
	d.order.Unlock()
	if d.log.LogSize() >= max(d.compactBytes, d.log.SnapshotSize()) {
		d.kickCompaction()
	}
	if err := b.Wait(ctx); err != nil {
		d.kickCompaction() // a fresh log and snapshot may cure it
		return fmt.Errorf("%w: state directory %s: %w", ErrStoreUnavailable, d.log.Path(), err)
	}
	return nil
}

func (d *StateDir) kickCompaction() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Revoke implements RevocationStore: in memory at once, and on disk
// (fsynced) before it returns.
func (d *StateDir) Revoke(ctx context.Context, r Revocation) error {
	if d == nil || d.log == nil {
		return errStateDirNotOpen
	}
	now := d.revs.now()
	k, e, record, err := d.revs.entryOf(r, now)
	if !record {
		return err
	}
	return d.commit(ctx, appendRevokeRecord(nil, k, e), func() error {
		d.revs.add(k, e, now)
		return nil
	})
}

// RevokeUser implements RevocationStore, durably as Revoke.
func (d *StateDir) RevokeUser(ctx context.Context, r UserRevocation) error {
	if d == nil || d.log == nil {
		return errStateDirNotOpen
	}
	now := d.revs.now()
	user, c, record := d.revs.cutOf(r, now)
	if !record {
		return nil
	}
	return d.commit(ctx, appendCutRecord(nil, user, c), func() error {
		d.revs.cutUser(user, c, now.Unix())
		return nil
	})
}

// Revoked implements RevocationStore, from memory: no disk read.
func (d *StateDir) Revoked(ctx context.Context, s *Session) (bool, error) {
	if d == nil || d.revs == nil {
		return true, errStateDirNotOpen
	}
	return d.revs.Revoked(ctx, s)
}

// FirstUse implements RevocationStore: a first use is reported only once
// it is on disk, so that a restart cannot make an OAuth state usable
// again.
func (d *StateDir) FirstUse(ctx context.Context, id string, expires time.Time) (bool, error) {
	if d == nil || d.log == nil {
		return false, errStateDirNotOpen
	}
	now := d.revs.now()
	if !expires.After(now) {
		return false, nil
	}
	k, exp := d.revs.hash(id), unixCeil(expires)
	first := false
	err := d.commit(ctx, appendUsedRecord(nil, k, exp), func() error {
		var err error
		if first, err = d.revs.useOnce(k, exp, now.Unix()); err == nil && !first {
			err = errAlreadyUsed
		}
		return err
	})
	if errors.Is(err, errAlreadyUsed) {
		return false, nil
	}
	return first && err == nil, err
}

// errAlreadyUsed tells commit that a one-time id needs no record.
var errAlreadyUsed = errors.New("already used")

// Hit implements Throttle, in memory.
func (d *StateDir) Hit(ctx context.Context, key string, limit int, window time.Duration) (time.Duration, error) {
	if d == nil || d.throttle == nil {
		return 0, errStateDirNotOpen
	}
	return d.throttle.Hit(ctx, key, limit, window)
}

// Reset implements Throttle, in memory.
func (d *StateDir) Reset(ctx context.Context, key string) error {
	if d == nil || d.throttle == nil {
		return errStateDirNotOpen
	}
	return d.throttle.Reset(ctx, key)
}

// Forgive implements Throttle, in memory.
func (d *StateDir) Forgive(ctx context.Context, key string) error {
	if d == nil || d.throttle == nil {
		return errStateDirNotOpen
	}
	return d.throttle.Forgive(ctx, key)
}

// SaveToken implements TokenStore: the token is sealed (AES-256-GCM,
// bound to the user and provider) before it reaches the disk, and kept in
// memory for Token.
func (d *StateDir) SaveToken(ctx context.Context, identifier, provider string, tok *oauth2.Token) error {
	if d == nil || d.log == nil {
		return errStateDirNotOpen
	}
	if tok == nil {
		return errors.New("chatauth: SaveToken: token is nil")
	}
	rec, err := d.appendTokenRecord(nil, identifier, provider, tok)
	if err != nil {
		return err
	}
	return d.commit(ctx, rec, func() error { return d.tokens.SaveToken(ctx, identifier, provider, tok) })
}

// Token implements TokenStore, from memory.
func (d *StateDir) Token(ctx context.Context, identifier, provider string) (*oauth2.Token, error) {
	if d == nil || d.tokens == nil {
		return nil, errStateDirNotOpen
	}
	return d.tokens.Token(ctx, identifier, provider)
}

// DeleteToken implements TokenStore, durably.
func (d *StateDir) DeleteToken(ctx context.Context, identifier, provider string) error {
	if d == nil || d.log == nil {
		return errStateDirNotOpen
	}
	return d.commit(ctx, appendTokenKey(nil, recDeleteToken, identifier, provider), func() error {
		return d.tokens.DeleteToken(ctx, identifier, provider)
	})
}

// Close stops the background compaction, writes what is queued, closes
// the files and releases the directory. The StateDir still answers
// Revoked and Token from memory; changes fail.
func (d *StateDir) Close() error {
	if d == nil || d.log == nil {
		return nil
	}
	d.closeOnce.Do(func() {
		close(d.stop)
		<-d.stopped
		d.closeErr = d.log.Close()
	})
	return d.closeErr
}

// compactLoop compacts when kicked (the log outgrew the snapshot, a write
// failed) and once an hour if that drops anything, until Close.
func (d *StateDir) compactLoop() {
	defer close(d.stopped)
	tick := time.NewTicker(stateCompactCheck)
	defer tick.Stop()
	failing := false
	var lastFailure time.Time
	for {
		kicked := false
		select {
		case <-d.stop:
			return
		case <-d.kick:
			kicked = true
		case <-tick.C:
		}
		if kicked && failing && time.Since(lastFailure) < stateRetryAfter {
			continue // every failed logout kicks: retry at most this often
		}
		if !d.compactDue() {
			continue
		}
		err := d.compact()
		if err != nil {
			lastFailure = time.Now()
		}
		switch {
		case err != nil && !failing:
			d.logger.LogAttrs(context.Background(), slog.LevelError, "chatauth: state directory: compaction failed; retrying",
				slog.String("auth.method", "session"), slog.String("dir", d.log.Path()), slog.String("error", err.Error()))
		case err == nil && failing:
			d.logger.LogAttrs(context.Background(), slog.LevelInfo, "chatauth: state directory: compaction works again",
				slog.String("dir", d.log.Path()))
		}
		failing = err != nil
	}
}

// compactDue: the log outgrew the snapshot, writes are failing, or an
// hour passed and the log holds records or something in the snapshot
// expired.
func (d *StateDir) compactDue() bool {
	size := d.log.LogSize()
	if size >= max(d.compactBytes, d.log.SnapshotSize()) || d.log.Failed() != nil {
		return true
	}
	d.compactMu.Lock()
	defer d.compactMu.Unlock()
	if time.Since(d.lastCompact) < d.compactEvery {
		return false
	}
	expired := d.snapExpiry != 0 && d.revs.now().Unix() >= d.snapExpiry
	return expired || d.log.Appended() > d.appendedAtSnap
}

// compact writes the state to a new snapshot and removes the files it
// replaces. The log is rotated and the state copied under order, so no
// change falls between them; the tokens are sealed and the file written
// after.
func (d *StateDir) compact() error {
	d.compactMu.Lock()
	defer d.compactMu.Unlock()
	d.lastCompact = time.Now()
	d.order.Lock()
	n, err := d.log.Rotate()
	if err != nil {
		d.order.Unlock()
		return err
	}
	appended := d.log.Appended()
	snap, firstExpiry := d.revs.appendSnapshot(statelog.AppendFrame(nil, appendKeyRecord(nil, *d.revs.sip)))
	toks := d.tokens.all()
	d.order.Unlock()
	snap, err = d.appendTokenSnapshot(snap, toks)
	if err == nil {
		err = d.log.WriteSnapshot(n, snap)
	}
	if err == nil {
		d.snapExpiry, d.appendedAtSnap = firstExpiry, appended
	}
	return err
}

// openStores opens Config.Stores.StateDir as the three stores, when set, and
// warns once when logouts are kept in memory only.
func (a *Auth) openStores() error {
	if dir := a.cfg.StateDir; dir != "" {
		sd, err := OpenStateDir(dir, StateDirOptions{Secret: a.cfg.Secret, PreviousSecrets: a.cfg.PreviousSecrets,
			MaxRevocations: a.cfg.MaxRevocations, Logger: a.cfg.Logger})
		if err != nil {
			return err
		}
		a.stateDir = sd
		a.cfg.Revocations, a.cfg.Throttle, a.cfg.Tokens = sd, sd, sd
	}
	if _, ok := a.cfg.Revocations.(*memoryRevocationStore); ok {
		a.cfg.Logger.LogAttrs(context.Background(), slog.LevelWarn,
			"chatauth: revocations are kept in memory: a restart forgets every logout, and logged-out sessions work again until they expire; "+
				"keep them with Config.Stores.StateDir (CHATAUTH_STATE_DIR) on one instance, or share them through Redis (redisstore)",
			slog.String("auth.method", "session"), slog.String("auth.outcome", "degraded"), slog.String("auth.reason", reasonMemoryOnly))
	}
	return nil
}

// Close releases what New opened: the state directory of Config.Stores.StateDir
// (its lock, files and background compaction). Without StateDir it does
// nothing. After Close requests are still answered, from memory, but
// logouts fail with ErrStoreUnavailable (503).
func (a *Auth) Close() error {
	if a == nil || a.stateDir == nil {
		return nil
	}
	return a.stateDir.Close()
}
