package redisstore

import (
	"testing"
	"time"

	"github.com/chatauth/chatauth/redisstore/redistest"
	"github.com/redis/go-redis/v9"
)

// redisServer is a real redis-server for a test (see redistest).
type redisServer = redistest.Server

// startRedis starts a redis-server for t; see redistest.Start.
func startRedis(t testing.TB) *redisServer { return redistest.Start(t) }

// startRedisCluster starts a one-node Redis Cluster; see redistest.StartCluster.
func startRedisCluster(t testing.TB) *redisServer { return redistest.StartCluster(t) }

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

// redisClusterClient is a Cluster client of a one-node cluster, closed
// when the test ends.
func redisClusterClient(t testing.TB, r *redisServer) *redis.ClusterClient {
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{r.Addr()}})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// waitListening waits until s's listener is subscribed, when its cache
// answers.
func waitListening(t testing.TB, s *Store) {
	t.Helper()
	waitFor(t, 20*time.Second, "the listener to subscribe", func() bool { return s.listener.up.Load() })
}
