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
//	a, err := chatauth.New(chatauth.Config{
//		Secret:      secret,
//		Revocations: store,
//		Throttle:    store,
//		Tokens:      store,
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
// bounded local cache for that long, and most requests ask Redis nothing:
// the price is that a logout made through another instance takes up to
// NotRevokedCacheTTL to reach this one. Revocations made through the same
// Store clear its cache at once. BENCHMARKS.md has the numbers.
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
// request. A Store starts no goroutines. (go-redis also reports failed
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
