package redisstore

import (
	"testing"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/storetest"
)

// The Store keeps the contract of chatauth's store interfaces (storetest),
// against a real redis-server, single node and Cluster, with and without
// the not-revoked cache.
func TestConformance(t *testing.T) {
	single := startRedis(t)
	cluster := startRedisCluster(t)
	setups := []struct {
		name string
		new  func(t *testing.T) *Store
	}{
		{"single", func(t *testing.T) *Store { return newStore(t, single, Options{}) }},
		{"single_cached", func(t *testing.T) *Store { return newStore(t, single, Options{NotRevokedCacheTTL: time.Minute}) }},
		{"cluster", func(t *testing.T) *Store {
			s, err := New(redisClusterClient(t, cluster), Options{Secret: testSecret, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
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
