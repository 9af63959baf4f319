package chatauth_test

import (
	"testing"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/storetest"
)

// The memory stores New makes by default keep the storetest contract
// (they are unexported: export_test.go makes them for this test).
func TestMemoryStoresConformance(t *testing.T) {
	t.Run("RevocationStore", func(t *testing.T) {
		storetest.RevocationStore(t, func(*testing.T) chatauth.RevocationStore { return chatauth.NewMemoryRevocationStore(0) })
	})
	t.Run("Throttle", func(t *testing.T) {
		storetest.Throttle(t, func(*testing.T) chatauth.Throttle { return chatauth.NewMemoryThrottle(0) })
	})
	t.Run("TokenStore", func(t *testing.T) {
		storetest.TokenStore(t, func(*testing.T) chatauth.TokenStore { return chatauth.NewMemoryTokenStore() })
	})
}
