// Package redistest starts real redis-server processes for tests: one per
// test, on a free loopback port, in a temporary directory, without
// persistence, killed when the test ends. It is what redisstore's own tests
// use, and what an app's tests can use to run against the Redis stores.
//
// Start skips the test when redis-server is not installed, unless the
// environment has CI=true, where a missing binary fails the test instead.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a real redis-server on a free loopback port, in a temp
// dir, without persistence, killed when the test ends.
type Server struct {
	t       testing.TB
	port    int
	dir     string
	cluster bool

	mu   sync.Mutex
	proc *process
}

// process is one run of redis-server; exited is closed once it has
// exited and its output is read to the end.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start starts a redis-server for t, killed when the test ends. It skips the test when the
// binary is missing, unless CI=true, where it fails.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, false)
}

// StartCluster starts a one-node Redis Cluster serving every slot: the
// smallest set-up where multi-key commands across slots are refused.
func StartCluster(t testing.TB) *Server {
	t.Helper()
	return start(t, true)
}

func start(t testing.TB, cluster bool) *Server {
	t.Helper()
	r := launch(t, cluster)
	if cluster {
		r.assignAllSlots()
	}
	return r
}

// launch starts redis-server on a free port, killed when the test ends.
func launch(t testing.TB, cluster bool) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server not found, and CI=true: .ci/run should have installed it")
		}
		t.Skip("needs redis-server (apt-get install redis-server): not found on PATH, skipping the Redis tests")
	}
	r := &Server{t: t, dir: t.TempDir(), cluster: cluster}
	t.Cleanup(r.Kill)
	var err error
	for range 3 { // another process may take the free port before redis does
		r.port = freePort(t)
		if err = r.run(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// freePort finds a free loopback port by listening on :0 and closing.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Addr is the server's host:port.
func (r *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// URL is the server's address as a redis:// URL, as redis.ParseURL reads it.
func (r *Server) URL() string { return "redis://" + r.Addr() + "/0" }

// run runs redis-server on r.port and returns once it accepts
// connections, or with an error if it exits first or takes too long.
func (r *Server) run() error {
	args := []string{
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir,
	}
	if r.cluster {
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", fmt.Sprintf("nodes-%d.conf", r.port))
	}
	cmd := exec.Command("redis-server", args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	ready := make(chan struct{})
	var log strings.Builder
	go func() {
		// Read the output to the end (so Wait may close the pipe), noting
		// when Redis says it is ready.
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			if log.Len() < 8<<10 {
				log.WriteString(sc.Text() + "\n")
			}
			if !signalled && strings.Contains(sc.Text(), "Ready to accept connections") {
				close(ready)
				signalled = true
			}
		}
		_ = cmd.Wait()
		close(p.exited)
	}()
	select {
	case <-ready:
	case <-p.exited:
		return fmt.Errorf("redis-server on port %d exited at start:\n%s", r.port, log.String())
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("redis-server on port %d not ready after 20s", r.port)
	}
	r.mu.Lock()
	r.proc = p
	r.mu.Unlock()
	return r.ping()
}

// ping checks the server answers PING, with one short-lived client.
func (r *Server) ping() error {
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

// assignAllSlots makes the one node serve every slot and waits until the
// cluster says it is ok.
func (r *Server) assignAllSlots() {
	r.t.Helper()
	r.addSlots(0, clusterSlots-1)
	r.waitClusterOK(1)
}

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// addSlots makes the node serve slots first to last.
func (r *Server) addSlots(first, last int) {
	r.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer c.Close()
	if err := c.ClusterAddSlotsRange(context.Background(), first, last).Err(); err != nil {
		r.t.Fatalf("CLUSTER ADDSLOTSRANGE %d %d on %s: %v", first, last, r.Addr(), err)
	}
}

// waitClusterOK waits until the node says the cluster is ok, with every
// slot served and the given number of nodes known.
func (r *Server) waitClusterOK(nodes int) {
	r.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer c.Close()
	want := []string{"cluster_state:ok", "cluster_slots_ok:" + strconv.Itoa(clusterSlots),
		"cluster_known_nodes:" + strconv.Itoa(nodes)}
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err := c.ClusterInfo(context.Background()).Result()
		if err == nil && containsAll(info, want) {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("cluster not ok on %s after 30s: %v %s", r.Addr(), err, info)
		}
		<-tick.C
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// Cluster is a Redis Cluster of real redis-server processes, each on a
// free loopback port, all masters, no replicas; every node is killed when
// the test ends.
type Cluster struct {
	// Nodes are the masters, in the order of the slots they serve.
	Nodes []*Server
	t     testing.TB
}

// StartClusterOf starts a Redis Cluster of masters nodes (at least one):
// it starts each with --cluster-enabled yes, gives each an equal range of
// the 16384 slots, introduces them to each other (CLUSTER MEET) and waits
// until every node says the cluster is ok. It skips or fails as Start
// does when redis-server is missing.
func StartClusterOf(t testing.TB, masters int) *Cluster {
	t.Helper()
	if masters < 1 {
		t.Fatalf("redistest: a cluster of %d masters", masters)
	}
	c := &Cluster{t: t}
	for i := range masters {
		n := launch(t, true)
		n.addSlots(i*clusterSlots/masters, (i+1)*clusterSlots/masters-1)
		c.Nodes = append(c.Nodes, n)
	}
	first := redis.NewClient(&redis.Options{Addr: c.Nodes[0].Addr()})
	defer first.Close()
	for _, n := range c.Nodes[1:] {
		if err := first.ClusterMeet(context.Background(), "127.0.0.1", strconv.Itoa(n.port)).Err(); err != nil {
			t.Fatalf("CLUSTER MEET %s: %v", n.Addr(), err)
		}
	}
	for _, n := range c.Nodes {
		n.waitClusterOK(masters)
	}
	return c
}

// Addrs are the nodes' host:port addresses.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// Client returns a new Cluster client of the cluster, closed when the
// test ends.
func (c *Cluster) Client() *redis.ClusterClient {
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	c.t.Cleanup(func() { _ = client.Close() })
	return client
}

// NodeOf is the node serving key's slot.
func (c *Cluster) NodeOf(key string) *Server {
	c.t.Helper()
	client := redis.NewClient(&redis.Options{Addr: c.Nodes[0].Addr()})
	defer client.Close()
	slot, err := client.ClusterKeySlot(context.Background(), key).Result()
	if err != nil {
		c.t.Fatalf("CLUSTER KEYSLOT %q: %v", key, err)
	}
	n := len(c.Nodes)
	for i := range n {
		if int(slot) < (i+1)*clusterSlots/n {
			return c.Nodes[i]
		}
	}
	return c.Nodes[n-1]
}

// Kill stops the server, if running, and waits until it has exited.
func (r *Server) Kill() {
	r.mu.Lock()
	p := r.proc
	r.proc = nil
	r.mu.Unlock()
	if p == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// Restart starts a fresh, empty redis-server on the same port.
func (r *Server) Restart() {
	r.t.Helper()
	r.Kill()
	if err := r.run(); err != nil {
		r.t.Fatal(err)
	}
}

// Client returns a new client of the server, closed when the test ends.
func (r *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: r.Addr()})
	r.t.Cleanup(func() { _ = c.Close() })
	return c
}
