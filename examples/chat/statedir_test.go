package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain moves the demo's default state directory (a folder in the
// user's cache directory) into a temporary directory of this process:
// tests that start the demo as `go run` does must neither share the real
// one with other test runs nor lock it against a demo the developer runs.
func TestMain(m *testing.M) {
	if userCache, err := os.UserCacheDir(); err == nil && os.Getenv("GOCACHE") == "" {
		// go build (TestRestartKeepsLogout) keeps using the real build cache.
		os.Setenv("GOCACHE", filepath.Join(userCache, "go-build"))
	}
	cache, err := os.MkdirTemp("", "chatauth-demo-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", cache) // what os.UserCacheDir reads on Linux and the BSDs
	code := m.Run()
	os.RemoveAll(cache)
	os.Exit(code)
}

// withStateDir is getenv with CHATAUTH_STATE_DIR set to dir, unless getenv
// sets it or CHATAUTH_REDIS_URL (Redis then keeps the state).
func withStateDir(getenv func(string) string, dir string) func(string) string {
	if getenv("CHATAUTH_REDIS_URL") != "" {
		return getenv
	}
	return func(k string) string {
		if v := getenv(k); v != "" || k != "CHATAUTH_STATE_DIR" {
			return v
		}
		return dir
	}
}

// TestRestartKeepsLogout is issue 20's acceptance test: a real demo
// process (built here with go build) logs alice and bob in and alice out,
// is killed with SIGKILL and started again with the same secret and state
// directory: alice's logged-out token is still 401, bob's session still
// 200. A second process on the same directory is refused with an error
// naming the directory and its lock.
func TestRestartKeepsLogout(t *testing.T) {
	bin := buildDemo(t)
	stateDir := t.TempDir()
	env := []string{
		"CHAINLIT_AUTH_SECRET=" + testSecret,
		"CHATAUTH_DEMO_USERS=alice:pw1,bob:pw2",
		"CHATAUTH_STATE_DIR=" + stateDir,
		"HOME=" + t.TempDir(),
	}
	first := startDemoProcess(t, bin, env)
	alice, bob := loginToken(t, first.url, "alice", "pw1"), loginToken(t, first.url, "bob", "pw2")
	resp, body := do(t, http.DefaultClient, "POST", first.url+"/logout", nil, "Cookie", "access_token="+alice)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logout = %d %s", resp.StatusCode, body)
	}
	wantUserStatus(t, first.url, alice, http.StatusUnauthorized, "alice's token after logout")

	second := exec.Command(bin, "-addr", "127.0.0.1:0")
	second.Env = env
	out, err := second.CombinedOutput()
	if err == nil || !strings.Contains(string(out), stateDir) || !strings.Contains(string(out), filepath.Join(stateDir, "LOCK")) {
		t.Errorf("a second demo on the same state directory: %v\n%s\nwant a refusal naming the directory and its lock", err, out)
	}

	first.kill(t)
	restarted := startDemoProcess(t, bin, env)
	wantUserStatus(t, restarted.url, alice, http.StatusUnauthorized, "alice's logged-out token after a restart")
	wantUserStatus(t, restarted.url, bob, http.StatusOK, "bob's token after a restart")
}

// buildDemo builds this package into a temporary directory.
func buildDemo(t *testing.T) string {
	t.Helper()
	gotool, err := exec.LookPath("go")
	if err != nil {
		gotool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "chat")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	if out, err := exec.Command(gotool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// demoProcess is the demo running as its own process.
type demoProcess struct {
	cmd  *exec.Cmd
	url  string
	logs *logBuffer
}

// startDemoProcess starts bin on a free loopback port and waits until it
// says where it listens.
func startDemoProcess(t *testing.T, bin string, env []string) *demoProcess {
	t.Helper()
	p := &demoProcess{cmd: exec.Command(bin, "-addr", "127.0.0.1:0"), logs: &logBuffer{}}
	p.cmd.Env = env
	p.cmd.Stderr = p.logs
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.kill(t)
		if t.Failed() {
			t.Logf("demo log:\n%s", p.logs.String())
		}
	})
	found := make(chan string, 1)
	go func() {
		open := regexp.MustCompile(`Open +(\S+)/login`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := open.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case p.url = <-found:
	case <-time.After(time.Minute):
		t.Fatalf("the demo did not say where it listens; log:\n%s", p.logs.String())
	}
	return p
}

// kill ends the process with SIGKILL: nothing is flushed at exit.
func (p *demoProcess) kill(t *testing.T) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Kill() // SIGKILL
	_ = p.cmd.Wait()
}

// loginToken logs in with a password and returns the session token.
func loginToken(t *testing.T, base, username, password string) string {
	t.Helper()
	c := newClient(t)
	login(t, c, base, username, password)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "access_token" {
			return ck.Value
		}
	}
	t.Fatalf("no access_token cookie after logging in as %s", username)
	return ""
}

func wantUserStatus(t *testing.T, base, token string, want int, what string) {
	t.Helper()
	if resp, body := do(t, http.DefaultClient, "GET", base+"/user", nil, "Cookie", "access_token="+token); resp.StatusCode != want {
		t.Errorf("%s: GET /user = %d %s, want %d", what, resp.StatusCode, body, want)
	}
}

// TestDefaultStateDir: started as `go run` does, with nothing set, the
// demo keeps its state in the user's cache directory and says so; a
// second demo at the same time is refused with an error naming the
// directory and its lock, and the cures.
func TestDefaultStateDir(t *testing.T) {
	var stdout, stderr logBuffer
	d, err := start([]string{"-addr", "127.0.0.1:0"}, env("CHAINLIT_AUTH_SECRET", testSecret), &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	want := demoStateDir("127.0.0.1:0")
	if !strings.HasPrefix(want, os.Getenv("XDG_CACHE_HOME")) || !strings.Contains(stdout.String(), want) {
		t.Errorf("state directory %q, welcome:\n%s", want, stdout.String())
	}
	if strings.Contains(stderr.String(), "revocations are kept in memory") {
		t.Errorf("warned about memory-only revocations with a state directory:\n%s", stderr.String())
	}
	_, err = start([]string{"-addr", "127.0.0.1:0"}, env("CHAINLIT_AUTH_SECRET", testSecret), &logBuffer{}, &logBuffer{})
	if err == nil {
		t.Fatal("a second demo on the same state directory started")
	}
	for _, part := range []string{want, filepath.Join(want, "LOCK"), "its own directory", "Redis"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not name %q", err, part)
		}
	}
}

// TestDefaultStateDirPerAddress: two demos on two addresses, started with
// nothing set, each get their own default state directory, so both start
// (test harnesses and the README's two-instance recipe run several).
func TestDefaultStateDirPerAddress(t *testing.T) {
	if demoStateDir("127.0.0.1:8000") == demoStateDir("127.0.0.1:8001") {
		t.Fatal("one default state directory for two addresses")
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		d, err := start([]string{"-addr", addr}, env("CHAINLIT_AUTH_SECRET", testSecret), &logBuffer{}, &logBuffer{})
		if err != nil {
			t.Fatalf("demo on %s: %v", addr, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = d.Shutdown(ctx)
		})
	}
}
