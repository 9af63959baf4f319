// Package redisstore keeps chatauth's shared state in Redis, for apps that
// run several instances behind a load balancer.
//
// chatauth sessions are stateless signed tokens and the OAuth state travels
// in its own sealed cookie, so most of a login needs nothing shared. Three
// things do, and a Store holds all three:
//
//   - the revocation list (chatauth.RevocationStore): a logout on one
//     instance, or RevokeUser ("log out everywhere"), rejects the session
//     on every instance;
//   - the password throttle (chatauth.Throttle): N instances must not give
//     a guesser N times the attempts;
//   - the OAuth provider tokens the app keeps (chatauth.TokenStore).
//
// Wire it in with one value:
//
//	client := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	store, err := redisstore.New(client, redisstore.Options{Secret: secret})
//	...
//	defer store.Close() // its listener, before the client
//	a, err := chatauth.New(chatauth.Config{
//		Secret: secret,
//		Stores: chatauth.StoresConfig{
//			Revocations: store,
//			Throttle:    store,
//			Tokens:      store,
//		},
//	})
//
// The client is any redis.UniversalClient: a single node, a Sentinel
// failover client or a Cluster client.
//
// # Keys
//
// Every key starts with Options.Prefix ("chatauth:"):
//
//	revoked:<id>             "1": the session id (a logout: every token of
//	                         the session) or token id (a token a login
//	                         replaced) is revoked; expiring when the last
//	                         token it names does (SET PXAT)
//	notbefore:<identifier>   the user's cut ("log out everywhere"): "<ms>",
//	                         sessions issued before that Unix ms time are
//	                         revoked, or "<ms> <after> <token id>", all but
//	                         that token (from <after> on: "log out my other
//	                         devices"); merged by a Lua script, kept until
//	                         the longest session it can revoke ends, at
//	                         least RevokeUserTTL (30 days)
//	used:<id>                "1": a one-time id (an OAuth state) was used;
//	                         SET NX, expiring with the id
//	throttle:<key>           attempts in the current window, expiring
//	                         with it (INCR and PEXPIRE in one Lua script)
//	token:<n>:<provider>:<identifier>
//	                         the provider token, AES-256-GCM encrypted,
//	                         kept TokenTTL (30 days)
//
// and one pub/sub channel, under the same prefix, revocations
// ("chatauth:revocations"), where every revocation is announced: "r:<id>" for a session or token id, "u:<identifier>" for a
// user's cut.
//
// Nothing needs cleaning up: every key expires by itself. Give the Redis
// maxmemory-policy noeviction (or volatile-* with room to spare): a Redis
// that evicts keys may drop a revocation, bringing a logged-out session
// back; a full noeviction Redis refuses the write instead, and the logout
// reports the error.
//
// # Cost per request
//
// chatauth checks revocation on every authenticated request. Store.Revoked
// is one Redis command, an MGET of the token's, the session's and the
// user's keys, pipelined with nothing else. (With a Cluster or Ring
// client, where the keys may live on different nodes, it is GETs in one
// pipeline, which the client sends to each node at once.) With
// Options.NotRevokedCacheTTL set, "not revoked" answers are also kept in a
// bounded local cache for that long, and requests ask Redis nothing: see
// the next section for why that is safe. BENCHMARKS.md has the numbers.
//
// # Revocations pushed to every instance
//
// Every Revoke and RevokeUser announces itself on the revocations channel
// (PUBLISH), in the same Lua script as its write: a revocation is stored
// if and only if it is announced, and no instance can die between the
// two. Every Store keeps one connection subscribed to the channel (the
// listener, one goroutine, started by New, stopped by Close) and, for
// each announcement, drops the affected entries of its not-revoked cache
// and wakes the WatchSession of every open connection
// (chatauth.RevocationWatcher). A logout on one instance is refused on
// every other within milliseconds, so the cache's TTL can be long
// (minutes): it no longer bounds staleness. Each announcement makes every
// open connection's WatchSession check its session again: with the cache,
// those not named answer from it; without it (NotRevokedCacheTTL 0), each
// open connection costs a Redis command per revocation made anywhere, so
// an app with many open connections sets the TTL.
//
// Nothing is missed: the cache answers only while the subscription is
// confirmed. While it is down (Redis restarting, a failover, CLIENT KILL,
// a network blip) every check asks Redis, and fails closed or open as
// configured; once Redis confirms a new subscription the cache is flushed
// and watchers check again, so a revocation announced during the gap is
// refused from the first check after it. The gap is logged once, with its
// length and cause, when it ends. A connection that goes silent without
// closing is noticed by a PING after HeartbeatInterval (1 s) without
// messages, unanswered for another interval: within two intervals.
//
// Why pub/sub, and classic pub/sub on a Cluster too. The announcement
// must be atomic with the write, which only a script on the key's node
// can do: PUBLISH may be called from a script on any node, and a Cluster
// forwards it to every node over the cluster bus, so one channel serves
// single node, Sentinel and Cluster alike (go-redis subscribes on the
// node of the channel's slot; after a failover, on the new one, once it
// has learned the new topology).
// Sharded pub/sub (SPUBLISH) delivers within one shard only, so on a
// Cluster it could not share a script with a key of another slot: it
// would be a second command, lost if the instance died in between.
// RESP3 client-side caching invalidates keys a client read, but needs a
// tracking connection per node (or RESP3 on every connection) and reports
// by key, not by session family or user cut. Logouts are rare, so the cluster bus's copy to
// every node costs little. A Ring client has no shared pub/sub: a Store on
// one does not listen (as with DisableListener), and its cache's TTL is
// the staleness bound again.
//
// # When Redis is unavailable
//
// Every call has a time-out (Options.Timeout, 500 ms). A revocation check
// or throttle hit that fails returns an error wrapping
// chatauth.ErrStoreUnavailable, which chatauth answers 503 "session store
// unavailable": fail-closed, so that a logged-out session cannot come back
// and guessing cannot go unthrottled while Redis is away.
// Options.RevocationsFailOpen and Options.ThrottleFailOpen choose to let
// requests through instead. Revoke, RevokeUser, FirstUse (the single use
// of an OAuth state, which never fails open) and the token methods always
// return their error. The outage is logged when it starts, then at
// most once per Options.LogInterval (10 s) with the count of failures in
// between, and once more when Redis answers again: never once per
// request. The listener's failed attempts to subscribe again count as
// failed calls. (go-redis also reports failed
// dials through its own global logger, redis.SetLogger; this package
// leaves that setting to the app.)
//
// # Provider tokens
//
// Tokens are stored as the JSON of the *oauth2.Token (with its id_token,
// if any) encrypted with AES-256-GCM under a key derived from
// Options.Secret with HKDF-SHA256, the user and provider bound as
// additional data: reading Redis, or copying a value to another user's
// key, reveals nothing. Options.PreviousSecrets keep older tokens readable
// across a secret rotation.
package redisstore
