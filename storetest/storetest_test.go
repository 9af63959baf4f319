package storetest_test

import (
	"log/slog"
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

// chatauth's StateDir keeps the same contract, on disk.
func TestStateDir(t *testing.T) {
	open := func(t *testing.T) *chatauth.StateDir {
		sd, err := chatauth.OpenStateDir(t.TempDir(), chatauth.StateDirOptions{
			Secret: []byte("storetest-secret-storetest-secret-0123"), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sd.Close() })
		return sd
	}
	t.Run("RevocationStore", func(t *testing.T) {
		storetest.RevocationStore(t, func(t *testing.T) chatauth.RevocationStore { return open(t) })
	})
	t.Run("Throttle", func(t *testing.T) {
		storetest.Throttle(t, func(t *testing.T) chatauth.Throttle { return open(t) })
	})
	t.Run("TokenStore", func(t *testing.T) {
		storetest.TokenStore(t, func(t *testing.T) chatauth.TokenStore { return open(t) })
	})
}
