package redistest_test

import (
	"context"
	"strconv"
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

// Three masters, each serving a third of the slots: keys of every node are
// reachable through one Cluster client, and NodeOf names the node that
// holds a key.
func TestStartClusterOf(t *testing.T) {
	c := redistest.StartClusterOf(t, 3)
	ctx := context.Background()
	client := c.Client()
	seen := map[string]bool{}
	for i := range 30 {
		key := "k" + strconv.Itoa(i)
		if err := client.Set(ctx, key, "v", 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", key, err)
		}
		node := c.NodeOf(key)
		seen[node.Addr()] = true
		direct := redis.NewClient(&redis.Options{Addr: node.Addr()})
		if v, err := direct.Get(ctx, key).Result(); err != nil || v != "v" {
			t.Errorf("GET %s on %s, the node NodeOf names: %q, %v", key, node.Addr(), v, err)
		}
		_ = direct.Close()
	}
	if len(seen) != 3 {
		t.Errorf("30 keys landed on %d nodes, want all 3", len(seen))
	}
}
