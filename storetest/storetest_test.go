package storetest_test

import (
	"testing"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/storetest"
)

// The memory stores chatauth ships keep the contract.
func TestMemoryStores(t *testing.T) {
	t.Run("MemoryRevocationStore", func(t *testing.T) {
		storetest.RevocationStore(t, func(*testing.T) chatauth.RevocationStore { return chatauth.NewMemoryRevocationStore(0) })
	})
	t.Run("MemoryThrottle", func(t *testing.T) {
		storetest.Throttle(t, func(*testing.T) chatauth.Throttle { return chatauth.NewMemoryThrottle(0) })
	})
	t.Run("MemoryTokenStore", func(t *testing.T) {
		storetest.TokenStore(t, func(*testing.T) chatauth.TokenStore { return chatauth.NewMemoryTokenStore() })
	})
}
