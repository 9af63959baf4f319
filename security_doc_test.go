package chatauth

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestSecurityDocNamesExistingTests keeps SECURITY.md honest: every test it
// cites (TestName or TestName/subtest) must be a test function of the root
// package, the loadtest package or an internal package. Whether the
// subtests exist and pass is checked by running them (see SECURITY.md).
func TestSecurityDocNamesExistingTests(t *testing.T) {
	doc, err := os.ReadFile("SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	files, _ := filepath.Glob("*_test.go")
	for _, dir := range []string{"loadtest/*_test.go", "internal/*/*_test.go", "storetest/*_test.go", "redisstore/*_test.go", "providers/*_test.go"} {
		more, _ := filepath.Glob(dir)
		files = append(files, more...)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil {
				defined[fn.Name.Name] = true
			}
		}
	}
	cited := regexp.MustCompile("`((?:Test|Fuzz)[A-Za-z0-9_]+)").FindAllStringSubmatch(string(doc), -1)
	if len(cited) < 50 {
		t.Fatalf("SECURITY.md cites %d tests; the pattern must have broken", len(cited))
	}
	for _, m := range cited {
		if !defined[m[1]] {
			t.Errorf("SECURITY.md cites %s, which is not a test function", m[1])
		}
	}
}
