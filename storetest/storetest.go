// Package storetest checks that a store keeps the contract of chatauth's
// store interfaces: RevocationStore, Throttle and TokenStore. The memory
// stores of chatauth, its StateDir and the Redis store of redisstore run
// it; so should
// any other implementation, from one of its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.RevocationStore(t, func(t *testing.T) chatauth.RevocationStore {
//			return newMyStore(t)
//		})
//	}
//
// Each check runs as a subtest with a store from the constructor, and uses
// ids of its own, so a constructor may hand out stores sharing one backend.
// The checks read the wall clock only, with margins of seconds, so that
// stores need no injectable clock; the two that wait for time to pass
// (a throttle window ending) poll with a deadline.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"testing"
)

// newID is a fresh random id, so that checks sharing a backend never see
// each other's keys.
func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + base64.RawURLEncoding.EncodeToString(b[:])
}

// noPanic runs f in a subtest, failing it (not the process) on a panic.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s panicked: %v", what, p)
		}
	}()
	f()
}

var ctx = context.Background()
