// Package apifile writes down the exported API of every module of the
// repository, one line per name, in the spirit of the Go project's own
// api/ directory: api/<module>.txt, where <module> is "chatauth" for the
// root module and the directory of a nested one ("redisstore").
//
// The files are generated, never edited: `go test ./internal/apifile
// -update` (or `make api`) rewrites them, and `go test ./internal/apifile`
// fails with the lines that differ when the code and the files disagree,
// so that an API change is a reviewed diff of api/.
//
// Packages are found by walking the repository: every directory holding
// non-test Go files of a package other than main, except under internal/,
// testdata/, examples/ and hidden directories. Their types come from the
// compiler's export data (go list -export), so the generator needs only
// the standard library and the go command.
package apifile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Generate returns the API files of the repository rooted at root, keyed
// by their path relative to root (api/chatauth.txt, ...).
func Generate(root string) (map[string]string, error) {
	modules, err := findPackages(root)
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for modDir, dirs := range modules {
		lines, err := moduleAPI(modDir, dirs)
		if err != nil {
			return nil, err
		}
		name := "chatauth"
		if rel, _ := filepath.Rel(root, modDir); rel != "." {
			name = strings.ReplaceAll(filepath.ToSlash(rel), "/", "-")
		}
		files[filepath.ToSlash(filepath.Join("api", name+".txt"))] = strings.Join(lines, "\n") + "\n"
	}
	return files, nil
}

// findPackages walks root and returns, for each module directory, the
// directories of its candidate packages.
func findPackages(root string) (map[string][]string, error) {
	modules := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
			name == "internal" || name == "testdata" || name == "examples" || name == "node_modules") {
			return filepath.SkipDir
		}
		entries, err := os.ReadDir(path)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if n := e.Name(); !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
				mod, err := moduleOf(root, path)
				if err != nil {
					return err
				}
				modules[mod] = append(modules[mod], path)
				break
			}
		}
		return nil
	})
	return modules, err
}

// moduleOf is the nearest directory at or above dir, within root, that
// holds a go.mod.
func moduleOf(root, dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if d == root || d == filepath.Dir(d) {
			return "", fmt.Errorf("apifile: no go.mod above %s", dir)
		}
	}
}

// listed is what go list says of one package.
type listed struct {
	ImportPath, Name, Export, Dir string
	Error                         *struct{ Err string }
}

// moduleAPI lists the API lines of the packages in dirs, all of the module
// in modDir, sorted.
func moduleAPI(modDir string, dirs []string) ([]string, error) {
	args := []string{"list", "-e", "-deps", "-export", "-json=ImportPath,Name,Export,Dir,Error"}
	for _, d := range dirs {
		rel, err := filepath.Rel(modDir, d)
		if err != nil {
			return nil, err
		}
		args = append(args, "./"+filepath.ToSlash(rel))
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = modDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("apifile: go list in %s: %v\n%s", modDir, err, stderr.Bytes())
	}
	exports := map[string]string{}
	byDir := map[string]listed{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("apifile: go list output: %v", err)
		}
		if p.Error != nil {
			if strings.Contains(p.Error.Err, "build constraints exclude all Go files") {
				continue // a package of tests only, such as loadtest: no API
			}
			return nil, fmt.Errorf("apifile: %s: %s", p.ImportPath, p.Error.Err)
		}
		exports[p.ImportPath] = p.Export
		byDir[filepath.Clean(p.Dir)] = p
	}
	imp := importer.ForCompiler(token.NewFileSet(), "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok || f == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
	var lines []string
	for _, d := range dirs {
		p, ok := byDir[filepath.Clean(d)]
		if !ok || p.Name == "main" {
			continue
		}
		pkg, err := imp.Import(p.ImportPath)
		if err != nil {
			return nil, fmt.Errorf("apifile: %s: %v", p.ImportPath, err)
		}
		lines = append(lines, packageAPI(pkg)...)
	}
	sort.Strings(lines)
	return lines, nil
}

// packageAPI is one line per exported name of pkg, and per exported field
// and method of its exported types.
func packageAPI(pkg *types.Package) []string {
	prefix := "pkg " + pkg.Path() + ", "
	qual := func(p *types.Package) string {
		if p == pkg {
			return ""
		}
		return p.Name()
	}
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, prefix+fmt.Sprintf(format, args...)) }
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		switch obj := obj.(type) {
		case *types.Const:
			add("const %s %s = %s", name, types.TypeString(obj.Type(), qual), obj.Val().ExactString())
		case *types.Var:
			add("var %s %s", name, types.TypeString(obj.Type(), qual))
		case *types.Func:
			add("func %s%s", name, signature(obj.Type().(*types.Signature), qual))
		case *types.TypeName:
			lines = append(lines, typeAPI(prefix, obj, qual)...)
		}
	}
	return lines
}

// typeAPI describes an exported type: its kind, then its exported fields,
// interface methods and methods, one line each.
func typeAPI(prefix string, obj *types.TypeName, qual types.Qualifier) []string {
	name := obj.Name()
	if obj.IsAlias() {
		return []string{prefix + fmt.Sprintf("type %s = %s", name, types.TypeString(types.Unalias(obj.Type()), qual))}
	}
	named, ok := obj.Type().(*types.Named)
	if !ok {
		return []string{prefix + "type " + name}
	}
	head := name + typeParams(named.TypeParams(), qual)
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, prefix+fmt.Sprintf(format, args...)) }
	switch u := named.Underlying().(type) {
	case *types.Struct:
		add("type %s struct", head)
		for i := range u.NumFields() {
			f := u.Field(i)
			if !f.Exported() {
				continue
			}
			if f.Embedded() {
				add("type %s struct, embedded %s", head, types.TypeString(f.Type(), qual))
			} else {
				add("type %s struct, %s %s", head, f.Name(), types.TypeString(f.Type(), qual))
			}
		}
	case *types.Interface:
		add("type %s interface", head)
		for i := range u.NumEmbeddeds() {
			add("type %s interface, embedded %s", head, types.TypeString(u.EmbeddedType(i), qual))
		}
		for i := range u.NumExplicitMethods() {
			m := u.ExplicitMethod(i)
			if m.Exported() {
				add("type %s interface, %s%s", head, m.Name(), signature(m.Type().(*types.Signature), qual))
			} else {
				add("type %s interface, unexported methods", head)
			}
		}
	default:
		add("type %s %s", head, types.TypeString(u, qual))
	}
	for i := range named.NumMethods() {
		m := named.Method(i)
		if !m.Exported() {
			continue
		}
		sig := m.Type().(*types.Signature)
		recv := name
		if _, ptr := sig.Recv().Type().(*types.Pointer); ptr {
			recv = "*" + name
		}
		add("method (%s) %s%s", recv, m.Name(), signature(sig, qual))
	}
	return lines
}

// signature is a function's type without the word func nor parameter
// names (renaming a parameter changes no caller): "([]byte, int) error".
func signature(sig *types.Signature, qual types.Qualifier) string {
	var params []string
	for i := range sig.Params().Len() {
		t := sig.Params().At(i).Type()
		if sig.Variadic() && i == sig.Params().Len()-1 {
			params = append(params, "..."+types.TypeString(t.(*types.Slice).Elem(), qual))
			continue
		}
		params = append(params, types.TypeString(t, qual))
	}
	var results []string
	for i := range sig.Results().Len() {
		results = append(results, types.TypeString(sig.Results().At(i).Type(), qual))
	}
	s := typeParams(sig.TypeParams(), qual) + "(" + strings.Join(params, ", ") + ")"
	switch len(results) {
	case 0:
		return s
	case 1:
		return s + " " + results[0]
	}
	return s + " (" + strings.Join(results, ", ") + ")"
}

// typeParams is "[T any, ...]", or nothing for a non-generic name.
func typeParams(list *types.TypeParamList, qual types.Qualifier) string {
	if list.Len() == 0 {
		return ""
	}
	var parts []string
	for i := range list.Len() {
		tp := list.At(i)
		parts = append(parts, tp.Obj().Name()+" "+types.TypeString(tp.Constraint(), qual))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
