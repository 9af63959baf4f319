package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Key kinds under the prefix.
const (
	kindRevoked   = "revoked"   // revoked:<jti> = "1", expiring at the token's exp
	kindNotBefore = "notbefore" // notbefore:<identifier> = unix ms, sessions issued before are revoked
	kindThrottle  = "throttle"  // throttle:<key> = attempts in the current window
	kindToken     = "token"     // token:<len(provider)>:<provider>:<identifier> = sealed provider token
)

// Revoke implements chatauth.RevocationStore: the jti is revoked until
// expires (rounded up to the millisecond), when Redis drops the key by
// itself (SET with PXAT).
func (s *Store) Revoke(ctx context.Context, jti string, expires time.Time) error {
	if !expires.After(s.now()) {
		return nil // already dead
	}
	key := s.key(kindRevoked, jti)
	err := s.call(ctx, "revoke", func(ctx context.Context) error {
		return s.client.Do(ctx, "set", key, "1", "pxat", unixMilliCeil(expires)).Err()
	})
	if s.cache != nil {
		s.cache.forget(jti)
	}
	return err
}

// raiseNotBefore sets the user's not-before time unless a later one is
// stored: two instances revoking at once must not move it back. The key
// lives until before + the longest session, when every session it could
// revoke has expired anyway.
var raiseNotBefore = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then
	redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
end
return 0
`)

// RevokeUser implements chatauth.RevocationStore ("log out everywhere"):
// every session of identifier issued before the given time is revoked, on
// every instance sharing the Redis. The record is kept RevokeUserTTL past
// before.
func (s *Store) RevokeUser(ctx context.Context, identifier string, before time.Time) error {
	key := s.key(kindNotBefore, identifier)
	until := before.Add(s.revokeUserTTL)
	if !until.After(s.now()) {
		return nil // every session it could revoke has expired
	}
	err := s.call(ctx, "revoke user", func(ctx context.Context) error {
		return raiseNotBefore.Run(ctx, s.client, []string{key}, unixMilliCeil(before), unixMilliCeil(until)).Err()
	})
	if s.cache != nil {
		s.cache.forgetUser(identifier)
	}
	return err
}

// Revoked implements chatauth.RevocationStore with one Redis command, an
// MGET of the session's and the user's keys, or none when the local cache
// answers. (On a Cluster or Ring client, where the two keys may live on
// two nodes, it is two GETs in one pipeline instead.) When Redis cannot be
// asked it returns an error wrapping chatauth.ErrStoreUnavailable (503),
// or false when RevocationsFailOpen is set.
func (s *Store) Revoked(ctx context.Context, jti, identifier string, issuedAt time.Time) (bool, error) {
	var asked time.Time
	var gen uint64
	if s.cache != nil {
		asked = s.now()
		if s.cache.notRevoked(jti, identifier, issuedAt, asked) {
			return false, nil
		}
		gen = s.cache.generation()
	}
	var vals []any
	err := s.call(ctx, "revocation check", func(ctx context.Context) (err error) {
		vals, err = s.getBoth(ctx, s.key(kindRevoked, jti), s.key(kindNotBefore, identifier))
		return err
	})
	var revoked bool
	if err == nil {
		revoked, err = revokedBy(vals, issuedAt)
	}
	if err != nil {
		if s.failOpen.revocations && ctx.Err() == nil {
			return false, nil
		}
		return false, err
	}
	if revoked {
		return true, nil
	}
	if s.cache != nil {
		s.cache.put(jti, identifier, issuedAt, asked, gen)
	}
	return false, nil
}

// getBoth reads two keys in one round trip: one MGET, or, when the client
// shards keys (Cluster, Ring) and they may live on different nodes, two
// GETs in one pipeline, which the client sends to each node at once.
func (s *Store) getBoth(ctx context.Context, k1, k2 string) ([]any, error) {
	if !s.sharded {
		return s.client.MGet(ctx, k1, k2).Result()
	}
	cmds, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, k1)
		p.Get(ctx, k2)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	vals := make([]any, len(cmds))
	for i, c := range cmds {
		if v, err := c.(*redis.StringCmd).Result(); err == nil {
			vals[i] = v
		}
	}
	return vals, nil
}

// revokedBy reads the MGET reply: the jti key exists, or the user's
// not-before time is after issuedAt.
func revokedBy(vals []any, issuedAt time.Time) (bool, error) {
	if len(vals) != 2 {
		return false, &unavailableError{op: "revocation check", err: fmt.Errorf("MGET answered %d values for 2 keys", len(vals))}
	}
	if vals[0] != nil {
		return true, nil
	}
	if vals[1] == nil {
		return false, nil
	}
	nb, _ := vals[1].(string)
	ms, err := strconv.ParseInt(nb, 10, 64)
	if err != nil {
		return false, &unavailableError{op: "revocation check", err: fmt.Errorf("not-before record %q is not a time", nb)}
	}
	return issuedAt.Before(time.UnixMilli(ms)), nil
}

// unixMilliCeil is t in Unix milliseconds, rounded up: a revocation may
// last a little longer than asked, never shorter.
func unixMilliCeil(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).Before(t) {
		ms++
	}
	return ms
}
