package chatauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// errHeaderRejected means the header hook found no user for the request's
// headers (401 credentialssignin); errUntrustedPeer that the request
// carried a proxy's identity headers from a peer that is not a trusted
// proxy, which were ignored.
var (
	errHeaderRejected = errors.New("header login found no user")
	errUntrustedPeer  = errors.New("identity headers from a peer that is not a trusted proxy")
)

// headerSession authenticates r by the header login att: with the session
// these header values started before, when this instance remembers it,
// else with a new one from the hook. Either replaces current, a valid
// session of other header values or of another login; when the hook says
// no, current is ended (revoked, cookies cleared) and the error wraps
// errHeaderRejected.
func (a *Auth) headerSession(w http.ResponseWriter, r *http.Request, att headerAttempt, current *Session) (*Session, error) {
	if att.mode.name == modeCredential {
		if err := a.refuseThrottledAddress(r); err != nil {
			return nil, err
		}
	}
	s, err := a.rememberedHeaderSession(w, r, att.hash)
	if err != nil || s != nil {
		if s != nil {
			a.endPreviousSession(r, s)
		}
		return s, err
	}
	u, err := a.checkHeader(r, att.mode)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, a.endRejectedSession(w, r, current)
	}
	g := a.newGrant(zeroTime, "")
	g.headerHash = att.hash
	// A session of its own, never joined to the cookie's: the header
	// values are what it follows.
	g.family = randomToken(16)
	attrs := []slog.Attr{slog.String("mode", att.mode.name)}
	if current != nil {
		attrs = append(attrs, slog.String("replaced", current.ID))
	}
	s, token, d := a.startLogin(w, r, login{method: "header", user: u, grant: g, attrs: attrs})
	if d != nil {
		return nil, d
	}
	a.headerSessions.put(att.hash, token, s.ExpiresAt, a.now())
	return s, nil
}

// rememberedHeaderSession is the still valid session that the header
// values named by hash started on this instance, set again as the cookie;
// nil when there is none. Its error is the RevocationStore's.
func (a *Auth) rememberedHeaderSession(w http.ResponseWriter, r *http.Request, hash string) (*Session, error) {
	token, ok := a.headerSessions.get(hash)
	if !ok {
		return nil, nil
	}
	s, err := a.VerifyToken(r.Context(), token)
	switch {
	case errors.Is(err, ErrStoreUnavailable):
		return nil, err
	case err != nil: // expired, or revoked (a logout, RevokeUser)
		a.headerSessions.drop(hash, token)
		return nil, nil
	}
	if err := a.writeSessionCookie(w, r, token, s); err != nil {
		return nil, nil
	}
	if a.cfg.Logger.Enabled(r.Context(), slog.LevelDebug) {
		a.logDecision(r, slog.LevelDebug, "header", "success", reasonOK, slog.String("user", s.User.Identifier),
			slog.String("session", s.ID), slog.Bool("remembered", true))
	}
	return s, nil
}

// endRejectedSession ends current, when there is one, because the header
// hook rejected the headers of a request made with it: the proxy (or the
// credential) is the source of truth. It returns the error to answer.
func (a *Auth) endRejectedSession(w http.ResponseWriter, r *http.Request, current *Session) error {
	if current == nil {
		return errHeaderRejected
	}
	if _, err := a.EndSession(w, r); err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	return fmt.Errorf("%w: session %s ended", errHeaderRejected, current.ID)
}

// Bounds of the remembered header sessions: a forgotten entry costs one
// more hook call, never a wrong answer.
const (
	headerSessionsMaxEntries = 10000
	headerSessionsMaxBytes   = 8 << 20
	// headerSessionOverhead is what an entry costs besides its strings:
	// the map slot, the string headers, the time.
	headerSessionOverhead = 96
)

// headerSessions remembers, per header hash, the token of the session
// those header values started, so that a client sending its credential on
// every request and keeping no cookies is authenticated by one session
// rather than a new one per request. Bounded in entries and bytes.
type headerSessions struct {
	mu         sync.Mutex
	entries    map[string]headerSessionEntry
	bytes      int
	maxEntries int
	maxBytes   int
}

type headerSessionEntry struct {
	token   string
	expires time.Time
}

func newHeaderSessions(maxEntries, maxBytes int) *headerSessions {
	return &headerSessions{entries: make(map[string]headerSessionEntry), maxEntries: maxEntries, maxBytes: maxBytes}
}

func headerSessionSize(hash, token string) int { return len(hash) + len(token) + headerSessionOverhead }

func (c *headerSessions) get(hash string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	return e.token, ok
}

// put remembers token for hash until expires. When a bound would be
// passed, room is made (makeRoom): expired entries first.
func (c *headerSessions) put(hash, token string, expires, now time.Time) {
	size := headerSessionSize(hash, token)
	if size > c.maxBytes/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(hash)
	if len(c.entries) >= c.maxEntries || c.bytes+size > c.maxBytes {
		makeRoom(c.entries, func(e headerSessionEntry) bool { return !now.Before(e.expires) },
			func() bool { return len(c.entries) <= c.maxEntries*3/4 && c.bytes+size <= c.maxBytes*3/4 },
			func(h string, _ headerSessionEntry) { c.removeLocked(h) })
	}
	c.entries[hash] = headerSessionEntry{token: token, expires: expires}
	c.bytes += size
}

// drop forgets hash if it still names token.
func (c *headerSessions) drop(hash, token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[hash].token == token {
		c.removeLocked(hash)
	}
}

func (c *headerSessions) removeLocked(hash string) {
	if e, ok := c.entries[hash]; ok {
		c.bytes -= headerSessionSize(hash, e.token)
		delete(c.entries, hash)
	}
}

// size is the number of entries and their bytes, for tests.
func (c *headerSessions) size() (entries, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.bytes
}
