package redisstore

import (
	"testing"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/redisstore/redistest"
	"github.com/chatauth/chatauth/storetest"
)

// The Store keeps the contract of chatauth's store interfaces (storetest),
// against a real redis-server, single node and Cluster (one node, and three
// masters), with and without the not-revoked cache (with the listener,
// subscribed, and without).
func TestConformance(t *testing.T) {
	single := startRedis(t)
	cluster := startRedisCluster(t)
	cluster3 := redistest.StartClusterOf(t, 3)
	setups := []struct {
		name string
		new  func(t *testing.T) *Store
	}{
		{"single", func(t *testing.T) *Store { return newStore(t, single, Options{}) }},
		{"single_cached", func(t *testing.T) *Store {
			s := newStore(t, single, Options{NotRevokedCacheTTL: time.Minute})
			waitListening(t, s)
			return s
		}},
		{"single_cached_without_listener", func(t *testing.T) *Store {
			return newStore(t, single, Options{NotRevokedCacheTTL: time.Minute, DisableListener: true})
		}},
		{"cluster", func(t *testing.T) *Store {
			return openStore(t, redisClusterClient(t, cluster), Options{Secret: testSecret, Timeout: 5 * time.Second})
		}},
		{"cluster3_cached", func(t *testing.T) *Store {
			s := openStore(t, cluster3.Client(), Options{Secret: testSecret, Timeout: 5 * time.Second, NotRevokedCacheTTL: time.Minute})
			waitListening(t, s)
			return s
		}},
	}
	for _, setup := range setups {
		t.Run(setup.name, func(t *testing.T) {
			storetest.RevocationStore(t, func(t *testing.T) chatauth.RevocationStore { return setup.new(t) })
			storetest.Throttle(t, func(t *testing.T) chatauth.Throttle { return setup.new(t) })
			storetest.TokenStore(t, func(t *testing.T) chatauth.TokenStore { return setup.new(t) })
		})
	}
}
