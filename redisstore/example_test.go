package redisstore_test

import (
	"log"
	"net/http"
	"os"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/redisstore"
	"github.com/redis/go-redis/v9"
)

// Two or more instances of an app share logouts, the password throttle
// and provider tokens through one Redis (the package documentation's
// snippet).
func Example() {
	secret := []byte(os.Getenv("CHAINLIT_AUTH_SECRET"))
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.Options{Secret: secret})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // its listener, before the client
	a, err := chatauth.New(chatauth.Config{
		Secret: secret,
		Stores: chatauth.StoresConfig{
			Revocations: store,
			Throttle:    store,
			Tokens:      store,
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("127.0.0.1:8000", a))
}

// With revocations pushed to every instance, a session's "not revoked"
// answer can be kept for minutes: a logout on another instance drops it at
// once (README's "Running several instances").
func Example_notRevokedCache() {
	secret := []byte(os.Getenv("CHAINLIT_AUTH_SECRET"))
	cfg := chatauth.Config{Secret: secret}
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.Options{
		Secret:             secret,           // encrypts provider tokens at rest
		NotRevokedCacheTTL: 10 * time.Minute, // optional: see below
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // its listener, before the client
	cfg.Stores.Revocations, cfg.Stores.Throttle, cfg.Stores.Tokens = store, store, store
	a, err := chatauth.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("127.0.0.1:8000", a))
}
