package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdata/stream.json is `go test -json ./...` of a module with a passing
// test, a failing subtest, a test skipped with the "needs" marker, one
// skipped for another reason, and a package that does not build.

func TestPrintShowsWhatPlainGoTestShows(t *testing.T) {
	out, log := printFile(t, "stream.json")
	got := out.String()
	for _, want := range []string{
		"b/b_test.go:5:32: undefined: undefined\n", // the build error
		"FAIL\ttr/b [build failed]\n",
		"a_test.go:7: broken\n", // the failed test's output
		"--- FAIL: TestFail/sub",
		"FAIL\ttr/a\t",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{"quiet", "=== RUN", "needs redis-server"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("output shows %q, which plain go test hides:\n%s", unwanted, got)
		}
	}
	logged, _ := os.ReadFile(log)
	stream, _ := os.ReadFile(filepath.Join("testdata", "stream.json"))
	if !bytes.Equal(logged, stream) {
		t.Errorf("the log holds %d bytes, want the %d of the stream", len(logged), len(stream))
	}
}

func TestSummary(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log.json")
	stream, _ := os.ReadFile(filepath.Join("testdata", "stream.json"))
	// Two runs append to one log: the summary covers both.
	if err := os.WriteFile(log, append(stream, stream...), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := printSummary(&out, log); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"6 tests run (subtests included): 2 passed, 4 failed; 4 skipped",
		"redis-server     2 skipped  apt-get install redis-server: TestRedis (tr/a), TestRedis (tr/a)",
		"all at once:   sudo apt-get install redis-server\n",
		"TestOther (tr/a): a_test.go:10: cannot use loopback address 127.0.0.2",
		"  TestFail/sub (tr/a)\n",
		"failed packages (build errors, or a failure outside any test):\n  tr/b\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}

func TestSummaryOfAMissingLog(t *testing.T) {
	if err := printSummary(&bytes.Buffer{}, filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("no error for a missing log")
	}
}

// testdata/timeout.json is `go test -json -timeout 1s` of a package whose
// TestHang never ends.
func TestTimeOutIsShownAndCounted(t *testing.T) {
	out, log := printFile(t, "timeout.json")
	if !strings.Contains(out.String(), "panic: test timed out after 1s") || !strings.Contains(out.String(), "TestHang") {
		t.Errorf("the time-out is not shown:\n%s", out.String())
	}
	out.Reset()
	if err := printSummary(out, log); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"2 tests run (subtests included): 1 passed, 1 failed",
		"TestHang (tr/c): did not finish",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}

// printFile runs printStream on testdata/name and returns what it printed
// and the path of the log it wrote.
func printFile(t *testing.T, name string) (out *bytes.Buffer, log string) {
	t.Helper()
	in, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	log = filepath.Join(t.TempDir(), "log.json")
	out = new(bytes.Buffer)
	if err := printStream(in, out, log); err != nil {
		t.Fatal(err)
	}
	return out, log
}
