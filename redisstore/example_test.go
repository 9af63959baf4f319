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
// and provider tokens through one Redis.
func Example() {
	secret := []byte(os.Getenv("CHAINLIT_AUTH_SECRET"))
	opt, err := redis.ParseURL("redis://localhost:6379/0")
	if err != nil {
		log.Fatal(err)
	}
	client := redis.NewClient(opt)
	defer client.Close()

	store, err := redisstore.New(client, redisstore.Options{
		Secret: secret, // encrypts provider tokens
		// Ask Redis about a session at most once in ten minutes: a logout
		// on another instance is announced, and reaches this one at once.
		NotRevokedCacheTTL: 10 * time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // its listener, before the client
	a, err := chatauth.New(chatauth.Config{
		Secret:      secret,
		Revocations: store,
		Throttle:    store,
		Tokens:      store,
	})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("127.0.0.1:8000", a))
}
