package redisstore

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The snippets of the README's "Running several instances" and of the
// package documentation are the examples' code, line for line, so that
// what they show compiles.
func TestSnippetsAreExamples(t *testing.T) {
	example, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for line := range strings.Lines(string(example)) {
		have[strings.TrimSpace(line)] = true
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## Running several instances\n")
	if !ok {
		t.Fatal(`README.md has no section "## Running several instances"`)
	}
	block := regexp.MustCompile("(?s)```go\n(.*?)```").FindStringSubmatch(section)
	if block == nil {
		t.Fatal("the README's Running several instances shows no Go code")
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	_, wiring, _ := strings.Cut(string(doc), "// Wire it in with one value:\n")
	wiring, _, _ = strings.Cut(wiring, "\n//\n// The client is")
	for name, snippet := range map[string]string{"README.md": block[1], "doc.go": strings.ReplaceAll(wiring, "//\t", "")} {
		lines := 0
		for line := range strings.Lines(snippet) {
			line = strings.TrimSpace(line)
			if line == "" || line == "..." || line == "//" {
				continue
			}
			lines++
			if !have[line] {
				t.Errorf("%s's snippet line not in example_test.go: %s", name, line)
			}
		}
		if lines < 5 {
			t.Errorf("%s's snippet: %d lines found", name, lines)
		}
	}
}
