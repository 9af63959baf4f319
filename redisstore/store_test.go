package redisstore

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/redis/go-redis/v9"
)

func TestNewNamesEveryBadOption(t *testing.T) {
	_, err := New(nil, Options{
		Timeout:             time.Microsecond,
		Secret:              []byte("short"),
		PreviousSecrets:     [][]byte{[]byte("also short")},
		NotRevokedCacheTTL:  -time.Second,
		NotRevokedCacheSize: -1,
		HeartbeatInterval:   time.Nanosecond,
	})
	if err == nil {
		t.Fatal("New accepted bad options")
	}
	for _, want := range []string{"client is nil", "Timeout", "Secret is 5 bytes", "PreviousSecrets[0]", "NotRevokedCacheTTL", "NotRevokedCacheSize", "HeartbeatInterval"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestNewDefaults(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = client.Close() })
	s := openStore(t, client, Options{})
	if s.prefix != DefaultPrefix || s.timeout != DefaultTimeout || s.tokenTTL != DefaultTokenTTL ||
		s.revokeUserTTL != DefaultRevokeUserTTL || s.outage.interval != DefaultLogInterval {
		t.Errorf("defaults not applied: %+v", s)
	}
	if s.cache != nil || s.failOpen.revocations || s.failOpen.throttle || s.sharded {
		t.Error("cache, fail-open or sharding on by default")
	}
	if s.listener == nil || s.listener.heartbeat != DefaultHeartbeatInterval || s.channel != "chatauth:revocations" {
		t.Error("no listener by default, or not on chatauth:revocations every second")
	}
}

func TestUnavailableErrorWrapsBoth(t *testing.T) {
	cause := errors.New("dial tcp: connection refused")
	err := error(&unavailableError{op: "revocation check", err: cause})
	if !errors.Is(err, chatauth.ErrStoreUnavailable) || !errors.Is(err, cause) {
		t.Error("unavailableError does not wrap ErrStoreUnavailable and its cause")
	}
	if got, want := err.Error(), "redisstore: revocation check: dial tcp: connection refused"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
