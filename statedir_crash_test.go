package chatauth

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatauth/chatauth/internal/statelog"
)

// The crash test's child: the test binary run again with these set.
const (
	crashChildDir = "CHATAUTH_STATEDIR_CRASH_DIR" // the state directory to flood
	crashChildRun = "CHATAUTH_STATEDIR_CRASH_RUN" // makes this run's ids unique
)

// crashIssued is the issue time of the sessions the crash test checks:
// before every cut the children make, after none.
var crashIssued = time.Now().Add(-time.Hour)

// TestStateDirCrash kills a process flooding a StateDir with SIGKILL at
// random points, 50 times, and checks after each kill that everything it
// acknowledged is still there: every revocation, user cut and one-time id
// it reported done (the one being written when it died may be lost, but
// it was never reported). The child is this test binary, run again
// (TestStateDirCrashChild); it compacts often, so kills land in
// compactions too. A control session checks that no damage was found and
// answered by revoking everyone, which would hide a loss.
func TestStateDirCrash(t *testing.T) {
	if os.Getenv(crashChildDir) != "" {
		t.Skip("running as the child")
	}
	const runs = 50
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var acked []string
	start := time.Now()
	for run := range runs {
		killAfter := rng.IntN(800) // acknowledgements; 0 kills it while it opens the directory
		lines, childLog := runCrashChild(t, dir, run, killAfter)
		acked = append(acked, lines...)
		checkAcknowledged(t, dir, run, acked, childLog)
		if t.Failed() {
			return
		}
	}
	t.Logf("%d runs killed, %d acknowledged changes kept, in %v", runs, len(acked), time.Since(start).Round(time.Millisecond))
}

// runCrashChild starts the child, kills it after killAfter
// acknowledgements, and returns every whole line it acknowledged, and
// its log.
func runCrashChild(t *testing.T, dir string, run, killAfter int) ([]string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStateDirCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildDir+"="+dir, crashChildRun+"="+strconv.Itoa(run))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A child that stops acknowledging is killed anyway, and fails below.
	stuck := time.AfterFunc(time.Minute, func() { _ = cmd.Process.Kill() })
	defer stuck.Stop()
	if killAfter == 0 {
		_ = cmd.Process.Kill()
	}
	var lines []string
	r := bufio.NewReader(out)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			break // the pipe closes when the child dies; a line without its \n was never whole
		}
		lines = append(lines, strings.TrimSuffix(line, "\n"))
		if len(lines) == killAfter {
			_ = cmd.Process.Kill()
		}
	}
	_ = cmd.Wait()
	if len(lines) < killAfter {
		t.Fatalf("run %d: the child acknowledged %d changes and stopped, want %d; its log:\n%s", run, len(lines), killAfter, stderr.String())
	}
	return lines, stderr.String()
}

// checkAcknowledged opens the directory as a restarted process would and
// checks every acknowledged change.
func checkAcknowledged(t *testing.T, dir string, run int, acked []string, childLog string) {
	t.Helper()
	var logs syncBuffer
	sd := openTestStateDir(t, dir, &logs, statelog.Options{})
	defer closeStateDir(t, sd)
	ctx := context.Background()
	if revoked(t, sd, sessionOfUser("control", "control-sid", "control-jti", crashIssued)) {
		t.Fatalf("run %d: a session never revoked is revoked: the directory was found damaged; log:\n%s\nchild's log:\n%s", run, logs.String(), childLog)
	}
	for _, line := range acked {
		kind, id, _ := strings.Cut(line, " ")
		var ok bool
		switch kind {
		case "r": // a session revoked
			ok = revoked(t, sd, sessionOfUser("someone", id, "jti-"+id, crashIssued))
		case "c": // a user cut
			ok = revoked(t, sd, sessionOfUser(id, "sid-"+id, "jti-"+id, crashIssued))
		case "f": // a one-time id used
			first, err := sd.FirstUse(ctx, id, time.Now().Add(time.Hour))
			ok = err == nil && !first
		default:
			t.Fatalf("run %d: the child said %q", run, line)
		}
		if !ok {
			t.Fatalf("run %d: acknowledged %q lost after SIGKILL; log:\n%s\nchild's log:\n%s", run, line, logs.String(), childLog)
		}
	}
}

// TestStateDirCrashChild is the child of TestStateDirCrash, and skips in
// any other run. It floods the directory with revocations, user cuts and
// one-time ids from 16 goroutines, and prints each one on stdout once it
// is acknowledged, until it is killed.
func TestStateDirCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildDir)
	if dir == "" {
		t.Skip("the child process of TestStateDirCrash; runs only when it starts it")
	}
	run := os.Getenv(crashChildRun)
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	sd, err := openStateDir(dir, StateDirOptions{Secret: testSecret, Logger: logger}, statelog.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	sd.compactBytes = 8 << 10 // compact often, so that kills land in compactions
	ctx := context.Background()
	var wg sync.WaitGroup
	var out sync.Mutex
	say := func(w io.Writer, line string) {
		out.Lock()
		defer out.Unlock()
		_, _ = io.WriteString(w, line+"\n") // one write: a line is whole or absent
	}
	for g := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("%s-%d-%d", run, g, i)
				now := time.Now()
				var err error
				line := ""
				switch i % 8 {
				case 0:
					err = sd.RevokeUser(ctx, UserRevocation{User: "user-" + id, Before: now, Expires: now.Add(2 * time.Hour)})
					line = "c user-" + id
				case 1:
					var first bool
					first, err = sd.FirstUse(ctx, "state-"+id, now.Add(2*time.Hour))
					if err == nil && !first {
						err = fmt.Errorf("a new one-time id %s was not its first use", id)
					}
					line = "f state-" + id
				default:
					err = sd.Revoke(ctx, Revocation{ID: "sid-" + id, User: "someone", IssuedAt: now, Expires: now.Add(2 * time.Hour)})
					line = "r sid-" + id
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, "child:", err)
					os.Exit(3)
				}
				say(os.Stdout, line)
			}
		})
	}
	wg.Wait()
}
