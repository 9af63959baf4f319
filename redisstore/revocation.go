package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/redis/go-redis/v9"
)

// Key kinds under the prefix.
const (
	kindRevoked   = "revoked"   // revoked:<session or token id> = "1", expiring at the revocation's Expires
	kindNotBefore = "notbefore" // notbefore:<identifier> = the user's cut, see userCut
	kindUsed      = "used"      // used:<one-time id> = "1", set once (SET NX), expiring with the id
	kindThrottle  = "throttle"  // throttle:<key> = attempts in the current window
	kindToken     = "token"     // token:<len(provider)>:<provider>:<identifier> = sealed provider token
)

// Revoke implements chatauth.RevocationStore: the session or token id is
// revoked until r.Expires (rounded up to the millisecond; a zero Expires
// keeps it RevokeUserTTL), when Redis drops the key by itself (SET with
// PXAT).
func (s *Store) Revoke(ctx context.Context, r chatauth.Revocation) error {
	if r.ID == "" {
		return errors.New("redisstore: revocation without an id")
	}
	now := s.now()
	expires := r.Expires
	if expires.IsZero() {
		expires = now.Add(s.revokeUserTTL)
	}
	if !expires.After(now) {
		return nil // every token it names has expired
	}
	key := s.key(kindRevoked, r.ID)
	err := s.call(ctx, "revoke", func(ctx context.Context) error {
		return revokeID.Run(ctx, s.client, []string{key}, unixMilliCeil(expires), s.channel, announceID+r.ID).Err()
	})
	if s.cache != nil {
		s.cache.forget(r.ID)
	}
	return err
}

// revokeID records a revocation and announces it, atomically: KEYS[1] is
// the revoked:<id> key; ARGV: expiry (Unix ms), channel, message.
var revokeID = redis.NewScript(`
redis.call('SET', KEYS[1], '1', 'PXAT', ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 0
`)

// cutUser merges a cut into the user's record, atomically, so that two
// instances cutting at once lose nothing: the cut reaching later wins, and
// the token it keeps stays kept only from where the other cut spared it
// too (chatauth.UserRevocation). The record lives until the later of its
// expiry and the new one, and the cut is announced. KEYS[1] is the
// record; ARGV: before (Unix ms), keep (token id, or empty), expiry (Unix
// ms), channel, message.
var cutUser = redis.NewScript(`
local function parse(v)
	if not v then return nil end
	local b, a, k = string.match(v, '^(%d+) (%d+) (.+)$')
	if b then return tonumber(b), tonumber(a), k end
	return tonumber(v), 0, ''
end
local wb, wa, wk = tonumber(ARGV[1]), 0, ARGV[2]
local ob, oa, ok = parse(redis.call('GET', KEYS[1]))
if ob then
	local lb, la, lk = ob, oa, ok
	if ob > wb then
		wb, wa, wk, lb, la, lk = ob, oa, ok, wb, wa, wk
	end
	if wk ~= '' then
		local spared = lb
		if lk == wk then spared = la end
		wa = math.max(wa, spared)
	end
end
local exp = tonumber(ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
	local t = redis.call('TIME')
	exp = math.max(exp, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + ttl)
end
local v = string.format('%.0f', wb)
if wk ~= '' then v = v .. ' ' .. string.format('%.0f', wa) .. ' ' .. wk end
redis.call('SET', KEYS[1], v, 'PXAT', string.format('%.0f', exp))
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 0
`)

// RevokeUser implements chatauth.RevocationStore ("log out everywhere"):
// every session of r.User issued before r.Before, except the kept one, is
// revoked on every instance sharing the Redis. The record is kept until
// r.Expires, and at least RevokeUserTTL past r.Before.
func (s *Store) RevokeUser(ctx context.Context, r chatauth.UserRevocation) error {
	before := unixMilliCeil(r.Before)
	if before <= 0 {
		return nil // revokes nothing
	}
	until := r.Before.Add(s.revokeUserTTL)
	if r.Expires.After(until) {
		until = r.Expires
	}
	if !until.After(s.now()) {
		return nil // every session it could revoke has expired
	}
	key := s.key(kindNotBefore, r.User)
	err := s.call(ctx, "revoke user", func(ctx context.Context) error {
		return cutUser.Run(ctx, s.client, []string{key}, before, r.Keep, unixMilliCeil(until), s.channel, announceUser+r.User).Err()
	})
	if s.cache != nil {
		s.cache.forgetUser(r.User)
	}
	return err
}

// Revoked implements chatauth.RevocationStore with one Redis command, an
// MGET of the token's, the session's and the user's keys, or none when
// the local cache answers (with the listener, only while it is
// subscribed). (On a Cluster or Ring client, where the keys
// may live on several nodes, it is GETs in one pipeline instead.) When
// Redis cannot be asked it returns an error wrapping
// chatauth.ErrStoreUnavailable (503), or false when RevocationsFailOpen is
// set.
func (s *Store) Revoked(ctx context.Context, sess *chatauth.Session) (bool, error) {
	if sess == nil {
		return true, nil
	}
	identifier := ""
	if sess.User != nil {
		identifier = sess.User.Identifier
	}
	var gen uint64
	cache, asked := s.trustedCache()
	if cache != nil {
		if cache.notRevoked(sess, identifier, asked) {
			return false, nil
		}
		gen = cache.generation()
	}
	keys := []string{s.key(kindNotBefore, identifier), s.key(kindRevoked, sess.TokenID)}
	if sess.ID != sess.TokenID {
		keys = append(keys, s.key(kindRevoked, sess.ID))
	}
	var vals []any
	err := s.call(ctx, "revocation check", func(ctx context.Context) (err error) {
		vals, err = s.getAll(ctx, keys)
		return err
	})
	var revoked bool
	if err == nil {
		revoked, err = revokedBy(vals, len(keys), sess)
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
	if cache != nil {
		cache.put(sess, identifier, asked, gen)
	}
	return false, nil
}

// FirstUse implements chatauth.RevocationStore with SET NX: of concurrent
// uses of one id, on any instance, Redis lets exactly one set the key.
// It never fails open: when Redis cannot be asked the use is refused.
func (s *Store) FirstUse(ctx context.Context, id string, expires time.Time) (bool, error) {
	if !expires.After(s.now()) {
		return false, nil
	}
	key := s.key(kindUsed, id)
	err := s.call(ctx, "first use", func(ctx context.Context) error {
		return s.client.Do(ctx, "set", key, "1", "nx", "pxat", unixMilliCeil(expires)).Err()
	})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, redis.Nil): // the key was there: used before
		return false, nil
	default:
		return false, err
	}
}

// getAll reads keys in one round trip: one MGET, or, when the client
// shards keys (Cluster, Ring) and they may live on different nodes, GETs
// in one pipeline, which the client sends to each node at once.
func (s *Store) getAll(ctx context.Context, keys []string) ([]any, error) {
	if !s.sharded {
		return s.client.MGet(ctx, keys...).Result()
	}
	cmds, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Get(ctx, k)
		}
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

// revokedBy reads the reply: the user's cut revokes the session, or a
// token or session key exists.
func revokedBy(vals []any, n int, sess *chatauth.Session) (bool, error) {
	if len(vals) != n {
		return false, &unavailableError{op: "revocation check", err: fmt.Errorf("MGET answered %d values for %d keys", len(vals), n)}
	}
	for _, v := range vals[1:] {
		if v != nil {
			return true, nil
		}
	}
	if vals[0] == nil {
		return false, nil
	}
	record, _ := vals[0].(string)
	c, err := parseCut(record)
	if err != nil {
		return false, &unavailableError{op: "revocation check", err: err}
	}
	return c.revokes(sess), nil
}

// userCut is a notbefore record: "<before>" or "<before> <keepAfter>
// <keep>", times in Unix ms. It revokes the user's sessions issued before
// before, except those of token id keep issued at or after keepAfter.
type userCut struct {
	before, keepAfter int64
	keep              string
}

func parseCut(record string) (userCut, error) {
	fields := strings.SplitN(record, " ", 3)
	var c userCut
	var err error
	c.before, err = strconv.ParseInt(fields[0], 10, 64)
	if err == nil && len(fields) == 3 {
		c.keep = fields[2]
		c.keepAfter, err = strconv.ParseInt(fields[1], 10, 64)
	}
	if err != nil || len(fields) == 2 {
		return c, fmt.Errorf("not-before record %q is not a cut", record)
	}
	return c, nil
}

func (c userCut) revokes(sess *chatauth.Session) bool {
	iat := sess.IssuedAt.UnixMilli()
	kept := c.keep != "" && sess.TokenID == c.keep && iat >= c.keepAfter
	return iat < c.before && !kept
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

// trustedCache is the not-revoked cache when it may answer, and the time
// its entries are judged by: always without a listener, by the clock
// (answers are then as stale as NotRevokedCacheTTL allows); only while
// subscribed with one (answers are then exact), by the listener's clock,
// which it reads at least once a heartbeat, so that a request reads none.
// A check that finds no cache asks Redis and caches nothing.
func (s *Store) trustedCache() (*notRevokedCache, time.Time) {
	switch {
	case s.cache == nil:
		return nil, time.Time{}
	case s.listener == nil:
		return s.cache, s.now()
	}
	now, ok := s.listener.subscribedAt()
	if !ok {
		return nil, time.Time{}
	}
	return s.cache, now
}
