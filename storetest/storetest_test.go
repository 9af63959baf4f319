package storetest_test

import (
	"log/slog"
	"testing"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/storetest"
)

// The memory stores are unexported; their conformance run is in chatauth's
// own tests (memstores_conformance_test.go).

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
