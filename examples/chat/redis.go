package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/chatauth/chatauth"
	"github.com/chatauth/chatauth/redisstore"
	"github.com/redis/go-redis/v9"
)

// defaultRedisCache is how long an instance believes a session "not
// revoked" without asking Redis again. Revocations made on other instances
// are pushed to this one (redisstore's listener) and drop the answer at
// once, so this bounds how long an answer is kept, not how stale it is.
const defaultRedisCache = time.Second

// useRedis makes cfg keep revocations, the password throttle and provider
// tokens in the Redis at url (CHATAUTH_REDIS_URL, as redis.ParseURL reads
// it), shared by every instance pointed at it. cache is
// CHATAUTH_REDIS_CACHE, the staleness bound of the "not revoked" cache
// ("0s" turns it off). It returns what the caller closes: the store's
// listener, then the client. Redis need not be up yet: an instance starts
// anyway and says so.
func useRedis(cfg *chatauth.Config, url, cache string, secretGenerated bool, log *slog.Logger) (io.Closer, error) {
	if secretGenerated {
		return nil, errors.New("CHATAUTH_REDIS_URL is set but CHAINLIT_AUTH_SECRET is not: instances sharing a Redis " +
			"must share the secret too; make one with: go run github.com/chatauth/chatauth/cmd/chatauth@latest create-secret")
	}
	ttl := defaultRedisCache
	if cache != "" {
		d, err := time.ParseDuration(cache)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("CHATAUTH_REDIS_CACHE=%q: want a duration such as 1s or 0s", cache)
		}
		ttl = d
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("CHATAUTH_REDIS_URL: %w", err)
	}
	client := redis.NewClient(opts)
	store, err := redisstore.New(client, redisstore.Options{
		Secret:             cfg.Secret,
		NotRevokedCacheTTL: ttl,
		Logger:             log,
	})
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	cfg.Stores.Revocations, cfg.Stores.Throttle, cfg.Stores.Tokens = store, store, store
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		log.Warn("chat: redis not reachable yet; session checks answer 503 until it is", "addr", opts.Addr, "error", err)
	} else {
		log.Info("chat: sessions shared through redis, logouts pushed to every instance", "addr", opts.Addr, "not_revoked_cache", ttl)
	}
	return storeAndClient{store, client}, nil
}

// storeAndClient closes the store's listener, then the client it uses.
type storeAndClient struct {
	store  *redisstore.Store
	client *redis.Client
}

func (sc storeAndClient) Close() error { return errors.Join(sc.store.Close(), sc.client.Close()) }
