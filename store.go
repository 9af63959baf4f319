package chatauth

import (
	"context"
	"errors"
	"time"

	"golang.org/x/oauth2"
)

// RevocationStore remembers ended sessions until they would have expired
// anyway, and the one-time ids (OAuth states) already used. Every
// authenticated request asks it, so Revoked must be cheap. The default is
// in memory (sized by Config.Stores.MaxRevocations); redisstore has one shared by
// several instances; storetest checks any implementation.
//
// Sessions come in families. A family is what one login started: the
// session id (Session.ID, the token's sid claim) is kept by sliding
// renewal, by POST /auth/jwt with one of our own tokens, and by a later
// login of the same user in the same browser. Each token also has its own
// id (Session.TokenID, the jti). Logout revokes the family, so no copy
// made from a stolen token outlives it; a login that replaces a session
// revokes the replaced token only.
//
// The fail-safe rule every implementation keeps: a revocation is never
// forgotten before its Expires. A store that runs out of room may revoke
// more than it was asked (fold revocations into a per-user or store-wide
// cut, as the memory store does) or fail with an error (answered 503), but
// never answer "not revoked" for a revoked session.
type RevocationStore interface {
	// Revoke records that every session whose token id or session id is
	// r.ID is revoked until r.Expires. An Expires already past needs no
	// record.
	Revoke(ctx context.Context, r Revocation) error
	// RevokeUser revokes every session of r.User issued before r.Before,
	// except the one whose token id is r.Keep ("log out my other
	// devices"). Cuts of the same user combine: a later call never undoes
	// what an earlier one revoked, except for the session it keeps.
	RevokeUser(ctx context.Context, r UserRevocation) error
	// Revoked reports whether s was revoked by either method: its token id
	// or session id revoked, or its user's cut after its IssuedAt. A nil
	// session is reported revoked.
	Revoked(ctx context.Context, s *Session) (bool, error)
	// FirstUse records id as used until expires and reports whether this
	// was its first use, atomically: of concurrent calls with one id, on
	// any instance sharing the store, exactly one gets true. chatauth uses
	// it for the single use of OAuth states. An id whose expires has passed
	// is never usable (false). A store that cannot record the use returns
	// an error: the caller refuses, never allows a replay.
	FirstUse(ctx context.Context, id string, expires time.Time) (bool, error)
}

// Revocation is one revoked session id (a family) or token id.
type Revocation struct {
	// ID is the session id (Session.ID) or token id (Session.TokenID)
	// revoked.
	ID string
	// User is the identifier of the session's user. A store that must
	// forget the revocation folds it into this user's cut instead.
	User string
	// IssuedAt is the latest issue time of any token ID can name: a fold
	// revokes the user's sessions issued up to it. chatauth passes the
	// time of the revocation, after which no token of a revoked family is
	// issued.
	IssuedAt time.Time
	// Expires is when every token ID can name has expired: the record may
	// be forgotten after it.
	Expires time.Time
}

// UserRevocation is a cut across a user's sessions ("log out everywhere").
type UserRevocation struct {
	// User is the identifier whose sessions are revoked.
	User string
	// Before: sessions issued before it are revoked (in milliseconds, the
	// precision of the iatms claim; tokens with whole seconds only,
	// Chainlit's, count as issued at the start of their second).
	Before time.Time
	// Keep, when set, is the token id (Session.TokenID) of the one session
	// spared, with its renewals: "log out my other devices". A copy made
	// from it with POST /auth/jwt has another token id and is revoked.
	Keep string
	// Expires is when every session the cut can revoke has expired: the
	// record may be forgotten after it.
	Expires time.Time
}

// Throttle counts attempts per key in a window. chatauth uses it for
// password logins, with one key per username and one per client address.
// The fail-safe rule: a throttle may count more attempts than were made
// (a full memory throttle does, for new keys), never fewer.
type Throttle interface {
	// Hit records an attempt for key. When the attempts in the current
	// window exceed limit, it returns how long to wait before trying again,
	// and a positive wait means the attempt is refused.
	Hit(ctx context.Context, key string, limit int, window time.Duration) (retryAfter time.Duration, err error)
	// Reset forgets the attempts for key, after a successful login.
	Reset(ctx context.Context, key string) error
	// Forgive takes back one attempt counted for key, because it succeeded:
	// the limit is on failures, so a busy office behind one address is not
	// locked out by its own successful logins.
	Forgive(ctx context.Context, key string) error
}

// ErrStoreUnavailable wraps errors of a RevocationStore or Throttle that
// could not be reached, or could not record what it was asked (full); the
// request is answered 503.
var ErrStoreUnavailable = errors.New("chatauth: session store unavailable")

// TokenStore keeps the provider tokens (access and refresh) of OAuth logins,
// keyed by user identifier and provider id, for apps that call the
// provider's API after login. They never travel in the session cookie.
type TokenStore interface {
	// SaveToken stores tok for the user and provider, replacing any other.
	SaveToken(ctx context.Context, identifier, provider string, tok *oauth2.Token) error
	// Token returns the stored token, or an error wrapping ErrNoToken.
	Token(ctx context.Context, identifier, provider string) (*oauth2.Token, error)
	// DeleteToken forgets the token; deleting a missing one is not an error.
	DeleteToken(ctx context.Context, identifier, provider string) error
}

// ErrNoToken is returned by TokenStore.Token when nothing is stored.
var ErrNoToken = errors.New("chatauth: no provider token stored")

// reasonStoreFull is the reason code of a bounded in-memory store that
// reached its bound and degraded safely (revocations folded into wider
// cuts, new throttle keys counted approximately) or refused (one-time
// ids).
const reasonStoreFull = "store_full"

// giveLogger hands the Auth's logger to the memory stores that log when
// full, unless they have one.
func giveLogger(cfg settings) {
	if s, ok := cfg.Revocations.(*memoryRevocationStore); ok {
		s.setLogger(cfg.Logger)
	}
	if t, ok := cfg.Throttle.(*memoryThrottle); ok {
		t.setLogger(cfg.Logger)
	}
}

// RevocationWatcher is an optional interface of a RevocationStore shared
// by several instances that is told of revocations made through the
// others: redisstore's Store, whose instances announce every revocation
// over Redis pub/sub. WatchSession waits on it beside this instance's own
// logouts, so that an open connection ends within milliseconds of a
// logout or RevokeUser on any instance, not at its next
// Config.Session.CheckInterval poll. A store without it (the memory store)
// is polled.
type RevocationWatcher interface {
	// WatchRevocations returns a channel that is closed as soon as the
	// store learns of a revocation, made through any instance, after the
	// call; each call after that returns the channel for the next one. It
	// is closed, too, when the store may have missed some (its link to
	// the others was down), so that the watchers check again. Revoked
	// already answers for the revocation by the time the channel closes.
	WatchRevocations() <-chan struct{}
}
