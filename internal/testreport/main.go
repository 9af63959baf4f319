// Command testreport makes `make test` say what it ran and what it
// skipped. It reads the event stream of `go test -json`:
//
//	go test -json ./... | testreport print LOG   prints what plain go test would, appends the events to LOG
//	testreport summary LOG                        tests run, failed and skipped, and what each skip needs
//
// Tests that need a program the machine lacks skip with a fixed marker,
// "needs <what> (<how to install it>)", for example
// "needs redis-server (apt-get install redis-server)"; the summary groups
// the skipped tests by it, so that a fresh machine learns exactly what to
// install for the full run.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

const usage = `usage: testreport print LOG < go-test-json
       testreport summary LOG`

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "print":
		err = printStream(os.Stdin, os.Stdout, os.Args[2])
	case "summary":
		err = printSummary(os.Stdout, os.Args[2])
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(1)
	}
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output events
	Test       string
	Output     string
}

// printStream copies the events of in to the log file and writes to out
// what go test without -json would show: each package's result line,
// the output of failed tests and build errors. Lines that are not JSON
// (go test's own errors) are shown as they are.
func printStream(in io.Reader, out io.Writer, logPath string) error {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	p := printer{out: out, held: map[string][]string{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if json.Unmarshal(line, &e) != nil || e.Action == "" {
			fmt.Fprintln(out, string(line))
			continue
		}
		if _, err := logFile.Write(append(line, '\n')); err != nil {
			return err
		}
		p.event(e)
	}
	return sc.Err()
}

// printer holds each running test's output until the test ends, and shows
// it only if the test failed.
type printer struct {
	out  io.Writer
	held map[string][]string // package + " " + test -> output lines
}

func (p *printer) event(e event) {
	key := e.Package + " " + e.Test
	switch {
	case e.Action == "build-output":
		fmt.Fprint(p.out, e.Output)
	case e.Action == "output" && e.Test == "":
		if !strings.HasPrefix(e.Output, "PASS") && !strings.HasPrefix(e.Output, "testing: warning: no tests to run") {
			fmt.Fprint(p.out, e.Output)
		}
	case e.Action == "output":
		if !strings.HasPrefix(e.Output, "=== ") {
			p.held[key] = append(p.held[key], e.Output)
		}
	case e.Action == "fail" && e.Test != "":
		for _, line := range p.held[key] {
			fmt.Fprint(p.out, line)
		}
		delete(p.held, key)
	case e.Action == "fail":
		// The package failed with tests still running (a time-out, a
		// crash): their output says why.
		for k, lines := range p.held {
			if strings.HasPrefix(k, e.Package+" ") {
				for _, line := range lines {
					fmt.Fprint(p.out, line)
				}
				delete(p.held, k)
			}
		}
	case e.Action == "pass" || e.Action == "skip" || e.Action == "fail":
		delete(p.held, key)
	}
}

// skipNeed is the fixed marker of a test skipped for want of a program.
var skipNeed = regexp.MustCompile(`needs ([^()\n]+?) \(([^()\n]+)\)`)

// result is what the log says of one test or subtest.
type result struct {
	pkg, name, action string
	output            []string
	unfinished        bool // still running when its package failed
}

// readLog reads the log's tests, in the order they ended; a package that
// failed as a whole (a build error, a panic outside any test) is a result
// without a name.
func readLog(path string) ([]result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var results []result
	output := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		if e.Test == "" {
			if e.Action == "fail" {
				for key, out := range output { // tests that never ended
					if pkg, name, _ := strings.Cut(key, " "); pkg == e.Package {
						results = append(results, result{pkg: pkg, name: name, action: "fail", output: out, unfinished: true})
						delete(output, key)
					}
				}
				results = append(results, result{pkg: e.Package, action: "fail"})
			}
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "run", "output":
			output[key] = append(output[key], e.Output)
		case "pass", "fail", "skip":
			results = append(results, result{pkg: e.Package, name: e.Test, action: e.Action, output: output[key]})
			delete(output, key)
		}
	}
	return results, sc.Err()
}

// summary is what a run did, for printSummary.
type summary struct {
	run, passed, failed, skipped int
	failures, failedPackages     []string
	needs                        map[string]*need // what -> need
	otherSkips                   []string
}

// need is one missing program and the tests that skipped for want of it.
type need struct {
	install string
	tests   []string
}

func summarize(results []result) summary {
	s := summary{needs: map[string]*need{}}
	testFailed := map[string]bool{} // package -> one of its tests failed
	for _, r := range results {
		if r.name != "" && r.action == "fail" {
			testFailed[r.pkg] = true
		}
	}
	for _, r := range results {
		if r.name == "" {
			if !testFailed[r.pkg] && !slices.Contains(s.failedPackages, r.pkg) {
				s.failedPackages = append(s.failedPackages, r.pkg)
			}
			continue
		}
		name := r.name + " (" + shortPackage(r.pkg) + ")"
		switch r.action {
		case "pass":
			s.run++
			s.passed++
		case "fail":
			s.run++
			s.failed++
			if r.unfinished {
				name += ": did not finish (a time-out or a crash ended its package)"
			}
			s.failures = append(s.failures, name)
		case "skip":
			s.skipped++
			text := strings.Join(r.output, "")
			if m := skipNeed.FindStringSubmatch(text); m != nil {
				n := s.needs[m[1]]
				if n == nil {
					n = &need{install: m[2]}
					s.needs[m[1]] = n
				}
				n.tests = append(n.tests, name)
				continue
			}
			s.otherSkips = append(s.otherSkips, name+": "+skipReason(text))
		}
	}
	return s
}

// skipReason is the message a skipped test gave, on one line.
func skipReason(output string) string {
	var lines []string
	for _, l := range strings.Split(output, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) == 0 {
		return "no reason given"
	}
	return strings.Join(lines, " ")
}

// shortPackage names a package of this repository by its directory, the
// root module's own as "chatauth".
func shortPackage(pkg string) string {
	rest, ok := strings.CutPrefix(pkg, "github.com/chatauth/chatauth")
	switch {
	case !ok:
		return pkg
	case rest == "":
		return "chatauth"
	}
	return strings.TrimPrefix(rest, "/")
}

func printSummary(out io.Writer, logPath string) error {
	results, err := readLog(logPath)
	if err != nil {
		return err
	}
	writeSummary(out, summarize(results))
	return nil
}

// writeSummary prints s: the counts, each missing program with the tests
// it would run and how to install it, one command for them all, and the
// other skips and the failures by name.
func writeSummary(out io.Writer, s summary) {
	fmt.Fprintf(out, "\n== summary: %d tests run (subtests included): %d passed, %d failed; %d skipped\n",
		s.run, s.passed, s.failed, s.skipped)
	if len(s.needs) > 0 {
		fmt.Fprintln(out, "skipped for want of a program; install it and run again for the full run:")
		var whats []string
		for what := range s.needs {
			whats = append(whats, what)
		}
		slices.Sort(whats)
		var packages []string
		for _, what := range whats {
			n := s.needs[what]
			fmt.Fprintf(out, "  %-14s %3d skipped  %s: %s\n", what, len(n.tests), n.install, listNames(n.tests, 3))
			if pkgs, ok := strings.CutPrefix(n.install, "apt-get install "); ok {
				packages = append(packages, strings.Fields(pkgs)...)
			}
		}
		if len(packages) > 0 {
			slices.Sort(packages)
			fmt.Fprintf(out, "  all at once:   sudo apt-get install %s\n", strings.Join(slices.Compact(packages), " "))
		}
	}
	if len(s.otherSkips) > 0 {
		fmt.Fprintln(out, "skipped for other reasons:")
		for _, o := range s.otherSkips {
			fmt.Fprintln(out, "  "+o)
		}
	}
	if len(s.failures) > 0 {
		fmt.Fprintln(out, "failed:")
		for _, f := range s.failures {
			fmt.Fprintln(out, "  "+f)
		}
	}
	if len(s.failedPackages) > 0 {
		fmt.Fprintln(out, "failed packages (build errors, or a failure outside any test):")
		for _, p := range s.failedPackages {
			fmt.Fprintln(out, "  "+p)
		}
	}
}

// listNames shows the first n names and how many more there are.
func listNames(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}
