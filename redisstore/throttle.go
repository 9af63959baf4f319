package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// countAttempt counts one attempt in a fixed window, atomically: the first
// attempt of a window sets its expiry (as PEXPIRE NX would, and on Redis
// older than 7 too), later ones only count. A counter left without expiry
// by anything else gets one. It answers {count, milliseconds left}.
var countAttempt = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
	redis.call('PEXPIRE', KEYS[1], ARGV[1])
	ttl = tonumber(ARGV[1])
end
return {n, ttl}
`)

// Hit implements chatauth.Throttle with a fixed window per key, counted in
// Redis so that every instance shares it, in one round trip (a Lua script).
// Once the count passes limit it returns the time left in the window. When
// Redis cannot be asked it returns an error wrapping
// chatauth.ErrStoreUnavailable (503), or 0 when ThrottleFailOpen is set.
func (s *Store) Hit(ctx context.Context, key string, limit int, window time.Duration) (time.Duration, error) {
	window = max(window, time.Millisecond)
	var reply []int64
	err := s.call(ctx, "throttle", func(ctx context.Context) (err error) {
		reply, err = countAttempt.Run(ctx, s.client, []string{s.key(kindThrottle, key)}, window.Milliseconds()).Int64Slice()
		return err
	})
	if err == nil && len(reply) != 2 {
		err = &unavailableError{op: "throttle", err: fmt.Errorf("script answered %d values, want 2", len(reply))}
	}
	if err != nil {
		if s.failOpen.throttle && ctx.Err() == nil {
			return 0, nil
		}
		return 0, err
	}
	if count, left := reply[0], reply[1]; count > int64(limit) {
		return max(time.Duration(left)*time.Millisecond, time.Millisecond), nil
	}
	return 0, nil
}

// Reset implements chatauth.Throttle: the key's count is deleted.
func (s *Store) Reset(ctx context.Context, key string) error {
	return s.call(ctx, "throttle reset", func(ctx context.Context) error {
		return s.client.Del(ctx, s.key(kindThrottle, key)).Err()
	})
}

// forgiveAttempt takes one attempt back, never below zero and never
// touching the window's expiry.
var forgiveAttempt = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then
	redis.call('DECR', KEYS[1])
end
return 0
`)

// Forgive implements chatauth.Throttle: one attempt of the key's window is
// taken back, because it succeeded.
func (s *Store) Forgive(ctx context.Context, key string) error {
	return s.call(ctx, "throttle forgive", func(ctx context.Context) error {
		return forgiveAttempt.Run(ctx, s.client, []string{s.key(kindThrottle, key)}).Err()
	})
}
