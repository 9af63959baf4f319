package apifile

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite api/*.txt from the code")

// TestAPIFiles fails when api/*.txt and the exported API differ; with
// -update it rewrites them (and removes a file whose module is gone).
func TestAPIFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds export data of every module")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(root, "api", "*.txt"))
	if *update {
		for _, f := range old {
			rel, _ := filepath.Rel(root, f)
			if _, ok := want[filepath.ToSlash(rel)]; !ok {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := os.MkdirAll(filepath.Join(root, "api"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, text := range want {
			if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(name)), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	for _, f := range old {
		rel, _ := filepath.Rel(root, f)
		if _, ok := want[filepath.ToSlash(rel)]; !ok {
			t.Errorf("%s: no module has this API any more; run: go test ./internal/apifile -update", rel)
		}
	}
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%s: %v; run: go test ./internal/apifile -update", name, err)
			continue
		}
		if d := diff(string(got), want[name]); d != "" {
			t.Errorf("%s differs from the code (- in the file only, + in the code only);\n"+
				"if the change is meant, run: go test ./internal/apifile -update\n%s", name, d)
		}
	}
}

// diff lists the lines of file missing from code (-) and of code missing
// from file (+): both are sorted sets of lines.
func diff(file, code string) string {
	in := func(text string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			m[l] = true
		}
		return m
	}
	f, c := in(file), in(code)
	var out []string
	for l := range f {
		if !c[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range c {
		if !f[l] {
			out = append(out, "+ "+l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][2:] < out[j][2:] || out[i][2:] == out[j][2:] && out[i] < out[j] })
	return strings.Join(out, "\n")
}

func TestDiff(t *testing.T) {
	for _, tc := range []struct{ file, code, want string }{
		{"a\nb\n", "a\nb\n", ""},
		{"a\nb\n", "a\nc\n", "- b\n+ c"},
		{"a\n", "a\nb\n", "+ b"},
	} {
		if got := diff(tc.file, tc.code); got != tc.want {
			t.Errorf("diff(%q, %q) = %q, want %q", tc.file, tc.code, got, tc.want)
		}
	}
}
