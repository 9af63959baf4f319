package loginpage

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeSnippetIsTheExample keeps the README's three lines and the
// package doc's the same code as Example, which runs them.
func TestReadmeSnippetIsTheExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## A sign-in page in three lines.*?```go\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no sign-in page snippet")
	}
	lines := strings.Split(strings.TrimSpace(string(m[1])), "\n")
	if len(lines) != 3 {
		t.Errorf("the README's snippet has %d lines", len(lines))
	}
	example, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range lines {
		if !strings.Contains(string(example), "\t"+line+"\n") {
			t.Errorf("Example does not run the README's line %q", line)
		}
		if !strings.Contains(string(doc), "//\t"+line+"\n") {
			t.Errorf("the package doc lacks the README's line %q", line)
		}
	}
}
