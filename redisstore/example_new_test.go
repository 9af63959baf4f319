package redisstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/redisstore"
	"github.com/chatauth/chatauth/redisstore/redistest"
	"github.com/redis/go-redis/v9"
)

// New checks the options before anything reaches Redis, and names every
// bad one at once. (It does not wait for Redis: this example runs without
// a server.)
func ExampleNew() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled here
	defer client.Close()
	_, err := redisstore.New(client, redisstore.Options{
		Secret:  []byte("too short"),
		Timeout: time.Microsecond,
	})
	fmt.Println(err)
	// Output:
	// redisstore: bad options: Timeout 1µs is shorter than a millisecond
	// Secret is 9 bytes, needs at least 32
}

// An app's test runs against a real Redis: redistest starts a
// redis-server for the test (and skips it where none is installed).
// This example is compiled, not run: it needs redis-server, and t stands
// for the test's *testing.T.
func ExampleNew_inTests() {
	var t *testing.T // the test's t

	srv := redistest.Start(t) // killed when the test ends
	client := srv.Client()
	store, err := redisstore.New(client, redisstore.Options{Secret: []byte("a test secret of at least 32 bytes")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })

	a, err := chatauth.New(chatauth.Config{
		Secret: []byte("a test secret of at least 32 bytes"),
		Stores: chatauth.StoresConfig{
			Revocations: store,
			Throttle:    store,
			Tokens:      store,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = a // ... the app's handlers, then requests to them ...
}
