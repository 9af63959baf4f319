package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/redis/go-redis/v9"
)

// Options configure a Store. The zero value of each field is a working
// default, documented on the field.
type Options struct {
	// Prefix starts every key the Store writes, so that several apps (or
	// several deployments of one) can share a Redis; default "chatauth:".
	Prefix string
	// Timeout bounds every Redis call, retries included; default 500 ms.
	// A revocation check or a throttle hit that runs out of time counts as
	// Redis being unavailable.
	Timeout time.Duration

	// Secret is the key material provider tokens are encrypted with
	// (AES-256-GCM under a key derived with HKDF-SHA256); at least 32
	// bytes. Pass chatauth's Config.Secret. Without it the Store still
	// works as RevocationStore and Throttle, and SaveToken and Token
	// return ErrNoSecret.
	Secret []byte
	// PreviousSecrets still decrypt tokens stored under an older Secret,
	// for rotation; tokens are always written under Secret.
	PreviousSecrets [][]byte
	// TokenTTL is how long a provider token is kept after SaveToken;
	// default 30 days.
	TokenTTL time.Duration

	// RevokeUserTTL is how long a "log out everywhere" record is kept at
	// least, past its cut (chatauth asks for longer when its sessions
	// last longer), and a revocation without Expires; default 30 days.
	RevokeUserTTL time.Duration

	// RevocationsFailOpen lets requests through as not revoked when Redis
	// cannot be asked. The default, fail-closed, answers them 503
	// "session store unavailable": a logged-out token must not work again
	// just because Redis is down.
	RevocationsFailOpen bool
	// ThrottleFailOpen lets password attempts through unthrottled when
	// Redis cannot be asked. The default, fail-closed, answers 503.
	ThrottleFailOpen bool

	// NotRevokedCacheTTL turns on a local cache of "not revoked" answers:
	// a session found not revoked is not asked about again for this long.
	// With the listener (the default), the announcements drop an entry
	// the moment its session is revoked through any instance, so the TTL
	// can be long (minutes): it bounds how long an entry is kept, and so
	// the harm of an announcement Redis would lose without closing the
	// connection. While the listener is not subscribed the cache is not
	// used. Without
	// the listener (DisableListener, or a Ring client) the TTL is the
	// staleness bound: a logout or RevokeUser made through another
	// instance takes effect here at most NotRevokedCacheTTL later
	// (through this Store, at once). 0, the default, asks Redis on every
	// request.
	NotRevokedCacheTTL time.Duration
	// NotRevokedCacheSize bounds the cache's entries, each at most 128
	// bytes (hashes of the ids, whatever their length); default 10000,
	// at most 1.3 MB.
	NotRevokedCacheSize int

	// DisableListener keeps the Store from subscribing to the revocation
	// announcements: it starts no goroutine and holds no connection of
	// its own, WatchSession polls, and the not-revoked cache is as stale
	// as NotRevokedCacheTTL. For a program that only revokes (an admin
	// tool); its revocations are still announced to the others.
	DisableListener bool
	// HeartbeatInterval is how long the listener waits for a message
	// before it sends a PING down its connection: a connection lost
	// without a word (a network partition) is noticed, and the cache
	// bypassed, within two intervals; default 1 s. The listener also
	// reads the clock cached answers are judged by at least this often,
	// so that a cached check reads none.
	HeartbeatInterval time.Duration

	// Logger receives the outage lines; default slog.Default().
	Logger *slog.Logger
	// LogInterval is the least time between two "redis unavailable" lines:
	// an outage is logged when it starts and then at most once per
	// interval, with the number of failed calls in between, however many
	// requests fail; default 10 s.
	LogInterval time.Duration
}

// Defaults of the Options fields.
const (
	DefaultPrefix              = "chatauth:"
	DefaultTimeout             = 500 * time.Millisecond
	DefaultTokenTTL            = 30 * 24 * time.Hour
	DefaultRevokeUserTTL       = 30 * 24 * time.Hour
	DefaultNotRevokedCacheSize = 10000
	DefaultLogInterval         = 10 * time.Second
	DefaultHeartbeatInterval   = time.Second
)

// minSecretBytes matches chatauth's own minimum for Config.Secret.
const minSecretBytes = 32

// ErrNoSecret is returned by SaveToken and Token of a Store made without
// Options.Secret.
var ErrNoSecret = errors.New("redisstore: Options.Secret is needed to store provider tokens")

// Store keeps chatauth's shared state in Redis: it is a
// chatauth.RevocationStore (and chatauth.RevocationWatcher), a
// chatauth.Throttle and a chatauth.TokenStore. It is safe for concurrent
// use. Unless DisableListener, it keeps one goroutine and one connection
// subscribed to the revocation announcements, until Close (or until the
// client is closed); the client is the caller's to close, after the
// Store.
type Store struct {
	client        redis.UniversalClient
	sharded       bool // client spreads keys over nodes: no multi-key commands
	prefix        string
	timeout       time.Duration
	tokenTTL      time.Duration
	revokeUserTTL time.Duration
	failOpen      struct{ revocations, throttle bool }
	tokenKeys     [][]byte // [0] seals, all open
	cache         *notRevokedCache
	channel       string    // where revocations are announced
	listener      *listener // nil with DisableListener or a Ring
	outage        *outageLog
	now           func() time.Time
}

var (
	_ chatauth.RevocationStore   = (*Store)(nil)
	_ chatauth.Throttle          = (*Store)(nil)
	_ chatauth.TokenStore        = (*Store)(nil)
	_ chatauth.RevocationWatcher = (*Store)(nil)
)

// New returns a Store using client, which may be a single node, a Sentinel
// failover client or a Cluster client. It returns at once, so an app can
// start before Redis does: the listener subscribes in the background (and
// until it has, every check asks Redis). It returns an error naming every
// bad option.
func New(client redis.UniversalClient, opts Options) (*Store, error) {
	opts, err := opts.withDefaults(client)
	if err != nil {
		return nil, err
	}
	s := &Store{
		client:        client,
		sharded:       isSharded(client),
		prefix:        opts.Prefix,
		timeout:       opts.Timeout,
		tokenTTL:      opts.TokenTTL,
		revokeUserTTL: opts.RevokeUserTTL,
		now:           time.Now,
	}
	s.failOpen.revocations = opts.RevocationsFailOpen
	s.failOpen.throttle = opts.ThrottleFailOpen
	s.tokenKeys = tokenKeys(opts.Secret, opts.PreviousSecrets)
	if opts.NotRevokedCacheTTL > 0 {
		s.cache = newNotRevokedCache(opts.NotRevokedCacheTTL, opts.NotRevokedCacheSize)
	}
	s.outage = &outageLog{logger: opts.Logger, interval: opts.LogInterval, now: func() time.Time { return s.now() }}
	s.channel = opts.Prefix + channelRevocations
	if _, ring := client.(*redis.Ring); !opts.DisableListener && !ring {
		s.listener = startListener(&listener{client: client, channel: s.channel, heartbeat: opts.HeartbeatInterval,
			cache: s.cache, logger: opts.Logger, outage: s.outage, now: func() time.Time { return s.now() }})
	}
	return s, nil
}

// Close stops the listener and closes its connection, and waits until its
// goroutine has returned. The Store still works after Close, asking Redis
// on every check. It does not close the client. Close is idempotent and
// always returns nil.
func (s *Store) Close() error {
	if s != nil && s.listener != nil {
		s.listener.close()
	}
	return nil
}

// WatchRevocations implements chatauth.RevocationWatcher: the channel is
// closed when a revocation is announced through Redis by any instance
// (this one included), and when the listener subscribes again after a
// gap. Without a listener it is nil, which never fires: WatchSession then
// polls.
func (s *Store) WatchRevocations() <-chan struct{} {
	if s == nil || s.listener == nil {
		return nil
	}
	return s.listener.watch()
}

// isSharded reports whether client spreads keys over several nodes, where
// a multi-key command fails (Cluster: CROSSSLOT) or is sent to the first
// key's node only (Ring).
func isSharded(client redis.UniversalClient) bool {
	switch client.(type) {
	case *redis.ClusterClient, *redis.Ring:
		return true
	}
	return false
}

// withDefaults fills the zero fields and checks the rest, naming every
// problem at once.
func (o Options) withDefaults(client redis.UniversalClient) (Options, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if client == nil {
		bad("client is nil")
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	durations := []struct {
		name string
		d    *time.Duration
		def  time.Duration
	}{
		{"Timeout", &o.Timeout, DefaultTimeout},
		{"TokenTTL", &o.TokenTTL, DefaultTokenTTL},
		{"RevokeUserTTL", &o.RevokeUserTTL, DefaultRevokeUserTTL},
		{"LogInterval", &o.LogInterval, DefaultLogInterval},
		{"HeartbeatInterval", &o.HeartbeatInterval, DefaultHeartbeatInterval},
	}
	for _, f := range durations {
		switch {
		case *f.d == 0:
			*f.d = f.def
		case *f.d < time.Millisecond:
			bad("%s %v is shorter than a millisecond", f.name, *f.d)
		}
	}
	if o.NotRevokedCacheTTL < 0 {
		bad("NotRevokedCacheTTL %v is negative", o.NotRevokedCacheTTL)
	}
	if o.NotRevokedCacheSize < 0 {
		bad("NotRevokedCacheSize %d is negative", o.NotRevokedCacheSize)
	} else if o.NotRevokedCacheSize == 0 {
		o.NotRevokedCacheSize = DefaultNotRevokedCacheSize
	}
	if n := len(o.Secret); n > 0 && n < minSecretBytes {
		bad("Secret is %d bytes, needs at least %d", n, minSecretBytes)
	}
	for i, p := range o.PreviousSecrets {
		if len(p) < minSecretBytes {
			bad("PreviousSecrets[%d] is %d bytes, needs at least %d", i, len(p), minSecretBytes)
		}
	}
	if len(o.Secret) == 0 && len(o.PreviousSecrets) > 0 {
		bad("PreviousSecrets given without Secret")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if len(errs) > 0 {
		return o, fmt.Errorf("redisstore: bad options: %w", errors.Join(errs...))
	}
	return o, nil
}

// call runs one Redis operation under the Store's time-out and notes
// whether Redis answered, for the outage log.
func (s *Store) call(ctx context.Context, op string, f func(ctx context.Context) error) error {
	callCtx, cancel := context.WithTimeout(ctx, s.timeout)
	err := f(callCtx)
	cancel()
	switch {
	case err == nil || errors.Is(err, redis.Nil):
		s.outage.ok()
		return err
	case ctx.Err() != nil:
		// The request was cancelled: not Redis's fault, not an outage.
		return &unavailableError{op: op, err: ctx.Err()}
	default:
		s.outage.failed(op, err)
		return &unavailableError{op: op, err: err}
	}
}

// unavailableError is a failed Redis call. It wraps both the cause and
// chatauth.ErrStoreUnavailable, without repeating the latter's text, as
// chatauth adds it to the message itself.
type unavailableError struct {
	op  string
	err error
}

func (e *unavailableError) Error() string { return "redisstore: " + e.op + ": " + e.err.Error() }

func (e *unavailableError) Unwrap() []error {
	return []error{chatauth.ErrStoreUnavailable, e.err}
}

// key builds a key under the Store's prefix.
func (s *Store) key(kind, name string) string { return s.prefix + kind + ":" + name }
