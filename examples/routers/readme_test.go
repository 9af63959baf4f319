package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestReadmeSnippetsAreTheExample checks that every Go snippet of the
// README's "Other routers" section is the example's code, so that what
// the README shows is what these tests compile and run: each paragraph of
// a snippet must appear in one of the router files as consecutive lines
// (indentation aside), and every router must be shown.
func TestReadmeSnippetsAreTheExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Other routers\n")
	if !ok {
		t.Fatal(`README.md has no section "## Other routers"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	files := map[string][]string{}
	for _, name := range []string{"servemux.go", "chi.go", "gorillamux.go", "echo.go", "gin.go"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = trimmedLines(string(b))
	}
	shown := map[string]bool{}
	snippets := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(section, -1)
	for _, snippet := range snippets {
		for _, paragraph := range strings.Split(snippet[1], "\n\n") {
			lines := trimmedLines(paragraph)
			found := false
			for name, fileLines := range files {
				if containsRun(fileLines, lines) {
					found, shown[name] = true, true
				}
			}
			if !found {
				t.Errorf("README snippet not found verbatim in examples/routers:\n%s", paragraph)
			}
		}
	}
	for name := range files {
		if !shown[name] {
			t.Errorf("README's Other routers shows nothing of %s", name)
		}
	}
}

// trimmedLines splits s into lines without their indentation, leaving out
// blank ones.
func trimmedLines(s string) []string {
	var lines []string
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

// containsRun reports whether run appears in lines as consecutive lines.
func containsRun(lines, run []string) bool {
	for i := range lines {
		if len(lines)-i >= len(run) && slices.Equal(lines[i:i+len(run)], run) {
			return true
		}
	}
	return false
}
