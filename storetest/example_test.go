package storetest_test

import (
	"testing"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/storetest"
)

// The examples are compiled, not run: each is the body of a test of a
// store implementation, t stands for that test's *testing.T, and the
// checks run as its subtests.

// myStore stands for a store of one's own that keeps all three.
type myStore struct {
	chatauth.RevocationStore
	chatauth.Throttle
	chatauth.TokenStore
}

// openMyStore stands for the constructor of one's store, cleaned up by t.
var openMyStore func(t *testing.T) *myStore

// A store that implements all three interfaces runs the three suites,
// each check with a fresh store from the constructor.
func Example() {
	var t *testing.T // the test's t

	storetest.RevocationStore(t, func(t *testing.T) chatauth.RevocationStore { return openMyStore(t) })
	storetest.Throttle(t, func(t *testing.T) chatauth.Throttle { return openMyStore(t) })
	storetest.TokenStore(t, func(t *testing.T) chatauth.TokenStore { return openMyStore(t) })
}

// A revocation store checked against the contract of RevocationStore:
// revocations kept until they expire, user cuts that combine, and a nil
// session reported revoked.
func ExampleRevocationStore() {
	var t *testing.T // the test's t

	storetest.RevocationStore(t, func(t *testing.T) chatauth.RevocationStore {
		return openMyStore(t).RevocationStore
	})
}
