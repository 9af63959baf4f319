package chatauth

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatauth/chatauth/internal/siphash"
)

// defaultMaxRevocations is the bound of newMemoryRevocationStore(0).
const defaultMaxRevocations = 1 << 20

// memoryRevocationStore is the in-process RevocationStore. It is bounded
// in entries and bytes, and never forgets a revocation before its
// Expires: when full, it degrades toward more logging out.
//
// Each revocation is kept as a 64-bit hash of its id under a per-store
// random key (hash/maphash), with its user's hash and its issue and expiry
// times in seconds: about 56 bytes of heap per revoked session (see
// BENCHMARKS.md). A collision of two hashes can only revoke more.
//
// When max revocations are held, expired ones are dropped first; then the
// oldest revocations (by issue time) are folded into a cut of their user:
// every session of that user issued up to the folded revocation's issue
// time is revoked, which includes the revoked one. User cuts (from folds
// and RevokeUser) are bounded too (max/8, at least 16): past that, the
// oldest are folded into one store-wide cut, which revokes every session
// issued before it. Each fold is logged once per pass, at warning level,
// with auth.reason store_full. One-time ids (FirstUse) are bounded by max
// as well; when that table is full of live ids, FirstUse fails closed with
// an error wrapping ErrStoreUnavailable and the OAuth login is refused.
// Make one with newMemoryRevocationStore.
type memoryRevocationStore struct {
	mu       sync.RWMutex
	seed     maphash.Seed
	revoked  map[uint64]revokedEntry // hash of a session or token id
	users    map[uint64]userCut      // userHash of an identifier
	everyone storeCut                // user cuts folded when users is full
	used     map[uint64]uint32       // hash of a one-time id -> expiry, Unix s
	sip      *siphash.Key            // keys the hashes instead of seed (StateDir)
	max      int
	maxUsers int
	usedFull bool // the "one-time ids full" line was logged
	now      func() time.Time
	logger   atomic.Pointer[slog.Logger]
}

// revokedEntry is one revocation, packed: 16 bytes.
type revokedEntry struct {
	user    uint64 // userHash of the user; 0: fold into the store-wide cut
	issued  uint32 // IssuedAt, Unix seconds rounded up
	expires uint32 // Expires, Unix seconds rounded up
}

// userCut revokes a user's sessions issued before before (Unix ms),
// except those of token id keep issued at or after keepAfter.
type userCut struct {
	before, keepAfter int64
	expires           int64 // Unix s
	keep              string
}

// storeCut revokes every session issued before before (Unix ms), until
// expires (Unix s).
type storeCut struct {
	before, expires int64
}

// newMemoryRevocationStore returns a memoryRevocationStore holding at most
// limit revocations one by one (0 means 1,048,576, about 56 MB when full);
// past that it folds the oldest into per-user cuts, as the type's doc
// says.
func newMemoryRevocationStore(limit int) *memoryRevocationStore {
	if limit <= 0 {
		limit = defaultMaxRevocations
	}
	return &memoryRevocationStore{
		seed:     maphash.MakeSeed(),
		revoked:  make(map[uint64]revokedEntry),
		users:    make(map[uint64]userCut),
		used:     make(map[uint64]uint32),
		max:      limit,
		maxUsers: max(limit/8, 16),
		now:      time.Now,
	}
}

// setLogger gives a store New made, or was given, the Auth's logger, when
// it has none yet.
func (s *memoryRevocationStore) setLogger(l *slog.Logger) { s.logger.CompareAndSwap(nil, l) }

func (s *memoryRevocationStore) log(level slog.Level, msg string, attrs ...slog.Attr) {
	l := s.logger.Load()
	if l == nil {
		l = slog.Default()
	}
	l.LogAttrs(context.Background(), level, msg, attrs...)
}

func (s *memoryRevocationStore) hash(id string) uint64 {
	if s.sip != nil {
		return s.sip.String(id) // a key that can be stored: StateDir's hashes outlive the process
	}
	return maphash.String(s.seed, id)
}

// userHash is the key of a user's cut, never 0.
func (s *memoryRevocationStore) userHash(identifier string) uint64 { return max(s.hash(identifier), 1) }

// Revoke implements RevocationStore. A zero IssuedAt counts as now; a zero
// Expires keeps the revocation until it must be folded.
func (s *memoryRevocationStore) Revoke(_ context.Context, r Revocation) error {
	now := s.now()
	k, e, record, err := s.entryOf(r, now)
	if record {
		s.add(k, e, now)
	}
	return err
}

// entryOf is the record of r, false when it needs none.
func (s *memoryRevocationStore) entryOf(r Revocation, now time.Time) (uint64, revokedEntry, bool, error) {
	if r.ID == "" {
		return 0, revokedEntry{}, false, errors.New("chatauth: revocation without an id")
	}
	if !r.Expires.IsZero() && !r.Expires.After(now) {
		return 0, revokedEntry{}, false, nil // every token it names has expired
	}
	if r.IssuedAt.IsZero() {
		r.IssuedAt = now
	}
	e := revokedEntry{issued: unixCeil(r.IssuedAt), expires: math.MaxUint32}
	if !r.Expires.IsZero() {
		e.expires = unixCeil(r.Expires)
	}
	if r.User != "" {
		e.user = s.userHash(r.User)
	}
	return s.hash(r.ID), e, true, nil
}

// add records the revocation of hash k, making room if needed.
func (s *memoryRevocationStore) add(k uint64, e revokedEntry, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.revoked[k]; ok {
		e = old.merge(e)
	} else if len(s.revoked) >= s.max {
		s.makeRoomLocked(now)
	}
	s.revoked[k] = e
}

// merge is one entry for two revocations of one hash: the later issue
// and expiry, and, if they name different users, the store-wide cut.
func (e revokedEntry) merge(o revokedEntry) revokedEntry {
	if e.user != o.user {
		e.user = 0
	}
	e.issued, e.expires = max(e.issued, o.issued), max(e.expires, o.expires)
	return e
}

// makeRoomLocked brings the revocations down to 7/8 of max: expired ones
// are dropped, then the oldest are folded into their users' cuts.
func (s *memoryRevocationStore) makeRoomLocked(now time.Time) {
	nowSec := now.Unix()
	for k, e := range s.revoked {
		if nowSec >= int64(e.expires) {
			delete(s.revoked, k)
		}
	}
	low := s.max - s.max/8
	if len(s.revoked) < low {
		return
	}
	// The issue time below which about enough entries fall, from a
	// sample (map order is random): fold those first, then any.
	sample := make([]uint32, 0, 1024)
	for _, e := range s.revoked {
		if sample = append(sample, e.issued); len(sample) == cap(sample) {
			break
		}
	}
	slices.Sort(sample)
	need := len(s.revoked) - low
	oldest := sample[min(len(sample)-1, need*len(sample)/len(s.revoked)+len(sample)/32)]
	folded, usersBefore := 0, len(s.users)
	for pass := 0; pass < 2 && len(s.revoked) > low; pass++ {
		for k, e := range s.revoked {
			if len(s.revoked) <= low {
				break
			}
			if pass == 1 || e.issued <= oldest {
				s.foldLocked(e, nowSec)
				delete(s.revoked, k)
				folded++
			}
		}
	}
	s.log(slog.LevelWarn, "chatauth: revocation store full: oldest revocations folded into user cuts",
		slog.String("auth.method", "session"), slog.String("auth.outcome", "degraded"),
		slog.String("auth.reason", reasonStoreFull), slog.Int("folded", folded),
		slog.Int("user_cuts_added", len(s.users)-usersBefore), slog.Int("held", len(s.revoked)))
}

// foldLocked turns one revocation into a cut of its user's sessions
// issued up to its issue time (or of everyone's, without a user).
func (s *memoryRevocationStore) foldLocked(e revokedEntry, nowSec int64) {
	c := userCut{before: int64(e.issued)*1000 + 1, expires: int64(e.expires)}
	if e.user == 0 {
		s.everyone = s.everyone.merge(c)
		return
	}
	s.cutUserLocked(e.user, c, nowSec)
}

// cutUserLocked merges c into the user's cut, making room if needed.
func (s *memoryRevocationStore) cutUserLocked(user uint64, c userCut, nowSec int64) {
	if old, ok := s.users[user]; ok {
		s.users[user] = c.merge(old)
		return
	}
	if len(s.users) >= s.maxUsers {
		s.makeUserRoomLocked(nowSec)
	}
	s.users[user] = c
}

// makeUserRoomLocked brings the user cuts down to 7/8 of their bound:
// expired ones are dropped, then the oldest are folded into the
// store-wide cut.
func (s *memoryRevocationStore) makeUserRoomLocked(nowSec int64) {
	for k, c := range s.users {
		if nowSec >= c.expires {
			delete(s.users, k)
		}
	}
	low := s.maxUsers - s.maxUsers/8
	if len(s.users) < low {
		return
	}
	befores := make([]int64, 0, len(s.users))
	for _, c := range s.users {
		befores = append(befores, c.before)
	}
	slices.Sort(befores)
	oldest := befores[len(s.users)-low]
	folded := 0
	for k, c := range s.users {
		if len(s.users) <= low {
			break
		}
		if c.before <= oldest {
			s.everyone = s.everyone.merge(c)
			delete(s.users, k)
			folded++
		}
	}
	s.log(slog.LevelWarn, "chatauth: revocation store full: oldest user cuts folded into a store-wide cut",
		slog.String("auth.method", "session"), slog.String("auth.outcome", "degraded"),
		slog.String("auth.reason", reasonStoreFull), slog.Int("folded", folded),
		slog.Time("revoked_before", time.UnixMilli(s.everyone.before)))
}

// merge combines two cuts of one user into one that revokes exactly what
// either revokes. The cut reaching later wins; the session it keeps stays
// kept only where the other cut spared it too.
func (c userCut) merge(o userCut) userCut {
	win, lose := c, o
	if o.before > c.before {
		win, lose = o, c
	}
	out := win
	out.expires = max(c.expires, o.expires)
	if win.keep != "" {
		spared := lose.before // the other cut spared the kept token from here
		if lose.keep == win.keep {
			spared = lose.keepAfter
		}
		out.keepAfter = max(win.keepAfter, spared)
	}
	return out
}

// revokes reports whether the cut revokes a session of token id tokenID
// issued at iat (Unix ms).
func (c userCut) revokes(tokenID string, iat int64) bool {
	kept := c.keep != "" && tokenID == c.keep && iat >= c.keepAfter
	return iat < c.before && !kept
}

// merge folds a user cut into the store-wide cut, dropping what it keeps.
func (g storeCut) merge(c userCut) storeCut {
	return storeCut{before: max(g.before, c.before), expires: max(g.expires, c.expires)}
}

// RevokeUser implements RevocationStore. A zero Expires keeps the cut
// until it must be folded.
func (s *memoryRevocationStore) RevokeUser(_ context.Context, r UserRevocation) error {
	now := s.now()
	if user, c, record := s.cutOf(r, now); record {
		s.cutUser(user, c, now.Unix())
	}
	return nil
}

// cutOf is the user's hash and the cut of r, false when it needs none.
func (s *memoryRevocationStore) cutOf(r UserRevocation, now time.Time) (uint64, userCut, bool) {
	if !r.Expires.IsZero() && !r.Expires.After(now) {
		return 0, userCut{}, false // every session it could revoke has expired
	}
	c := userCut{before: ceilMillis(r.Before), keep: r.Keep, expires: math.MaxInt64}
	if !r.Expires.IsZero() {
		c.expires = int64(unixCeil(r.Expires))
	}
	return s.userHash(r.User), c, true
}

// cutUser merges c into the user's cut.
func (s *memoryRevocationStore) cutUser(user uint64, c userCut, nowSec int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cutUserLocked(user, c, nowSec)
}

// Revoked implements RevocationStore: two lookups of hashed ids, one of
// the user's cut, and the store-wide cut.
func (s *memoryRevocationStore) Revoked(_ context.Context, sess *Session) (bool, error) {
	if sess == nil {
		return true, nil
	}
	identifier := ""
	if sess.User != nil {
		identifier = sess.User.Identifier
	}
	tok, fam, user := s.hash(sess.TokenID), s.hash(sess.ID), s.userHash(identifier)
	iat := sess.IssuedAt.UnixMilli() // a zero IssuedAt is before every cut
	s.mu.RLock()
	defer s.mu.RUnlock()
	// The clock is read only when a record is found: the common request
	// finds none.
	var nowSec int64
	live := func(expires int64) bool {
		if nowSec == 0 {
			nowSec = s.now().Unix()
		}
		return nowSec < expires
	}
	for _, k := range [2]uint64{tok, fam} {
		if e, ok := s.revoked[k]; ok && live(int64(e.expires)) {
			return true, nil
		}
	}
	if c, ok := s.users[user]; ok && c.revokes(sess.TokenID, iat) && live(c.expires) {
		return true, nil
	}
	return iat < s.everyone.before && live(s.everyone.expires), nil
}

// FirstUse implements RevocationStore. When max one-time ids are live it
// fails closed: an error wrapping ErrStoreUnavailable, logged once.
func (s *memoryRevocationStore) FirstUse(_ context.Context, id string, expires time.Time) (bool, error) {
	now := s.now()
	if !expires.After(now) {
		return false, nil
	}
	return s.useOnce(s.hash(id), unixCeil(expires), now.Unix())
}

// useOnce records the one-time id of hash k as used until expires (Unix
// s), and reports whether it was its first use.
func (s *memoryRevocationStore) useOnce(k uint64, expires uint32, nowSec int64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if exp, ok := s.used[k]; ok && nowSec < int64(exp) {
		return false, nil
	}
	if len(s.used) >= s.max {
		for k, exp := range s.used {
			if nowSec >= int64(exp) {
				delete(s.used, k)
			}
		}
	}
	if len(s.used) >= s.max {
		if !s.usedFull {
			s.usedFull = true
			s.log(slog.LevelError, "chatauth: one-time ids full: logins refused until some expire",
				slog.String("auth.method", "oauth"), slog.String("auth.outcome", "rejected"),
				slog.String("auth.reason", reasonStoreFull), slog.Int("held", len(s.used)))
		}
		return false, fmt.Errorf("%w: %d one-time ids in use, the most the memory store holds", ErrStoreUnavailable, len(s.used))
	}
	s.usedFull = false
	s.used[k] = expires
	return true, nil
}

// unixCeil is t in Unix seconds rounded up, within uint32: a record
// may last longer than asked, never shorter.
func unixCeil(t time.Time) uint32 {
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return uint32(min(max(sec, 0), math.MaxUint32))
}

// ceilMillis is t in Unix milliseconds rounded up.
func ceilMillis(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).Before(t) {
		ms++
	}
	return ms
}
