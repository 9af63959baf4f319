package redistest_test

import (
	"context"
	"testing"

	"github.com/chatauth/chatauth/redisstore/redistest"
	"github.com/redis/go-redis/v9"
)

func TestStartKillRestart(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	opts, err := redis.ParseURL(srv.URL())
	if err != nil || opts.Addr != srv.Addr() {
		t.Fatalf("ParseURL(%q) = %v, %v; want Addr %s", srv.URL(), opts, err, srv.Addr())
	}
	srv.Kill()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING answered after Kill")
	}
	srv.Restart()
	if n, err := c.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Fatalf("after Restart: EXISTS k = %d, %v; want an empty server", n, err)
	}
}
