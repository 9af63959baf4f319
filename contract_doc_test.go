package chatauth

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// docs/contract.md is the contract users read; these tests keep its
// tables true to the code. A failure names the exact row to add or remove.

// contractSections reads docs/contract.md into its "## " sections.
func contractSections(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("docs/contract.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string][]string{}
	var current string
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			current = h
			continue
		}
		sections[current] = append(sections[current], line)
	}
	return sections
}

// tableRows are the cells of the table rows of lines, header and rule
// excluded. Cells are split on " | ", so that "\|" inside a cell stays.
func tableRows(lines []string) [][]string {
	var rows [][]string
	for _, line := range lines {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		rows = append(rows, cells)
	}
	if len(rows) > 0 {
		rows = rows[1:] // the header
	}
	return rows
}

// unquote strips the backticks around a cell.
func unquote(cell string) string { return strings.Trim(cell, "`") }

// packageFiles parses the root package's non-test files.
func packageFiles(t *testing.T) []*ast.File {
	t.Helper()
	names, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// stringLit is the value of a string literal expression, if it is one.
func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

var routeMethod = regexp.MustCompile(`^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) $`)

// codeRoutes finds the route patterns of the code: every
// "METHOD " + root + "/path" expression, as "METHOD /path".
func codeRoutes(t *testing.T) []string {
	var routes []string
	for _, f := range packageFiles(t) {
		ast.Inspect(f, func(n ast.Node) bool {
			bin, ok := n.(*ast.BinaryExpr)
			if !ok || bin.Op != token.ADD {
				return true
			}
			var parts []ast.Expr
			var flatten func(e ast.Expr)
			flatten = func(e ast.Expr) {
				if b, ok := e.(*ast.BinaryExpr); ok && b.Op == token.ADD {
					flatten(b.X)
					flatten(b.Y)
					return
				}
				parts = append(parts, e)
			}
			flatten(bin)
			method, ok1 := stringLit(parts[0])
			path, ok2 := stringLit(parts[len(parts)-1])
			if ok1 && ok2 && len(parts) == 3 && routeMethod.MatchString(method) && strings.HasPrefix(path, "/") {
				routes = append(routes, method+path)
			}
			return false
		})
	}
	slices.Sort(routes)
	return slices.Compact(routes)
}

// docRoutes are the routes of the table, as "METHOD /path" without R.
func docRoutes(t *testing.T) []string {
	var routes []string
	for _, row := range tableRows(contractSections(t)["Routes"]) {
		path := strings.TrimPrefix(unquote(row[1]), "R")
		for _, m := range strings.Split(row[0], ", ") {
			routes = append(routes, m+" "+path)
		}
	}
	slices.Sort(routes)
	return routes
}

func TestContractDocRoutes(t *testing.T) {
	doc, code := docRoutes(t), codeRoutes(t)
	if len(code) < 8 {
		t.Fatalf("found only %d routes in the code (%v): the scan broke", len(code), code)
	}
	for _, r := range code {
		if !slices.Contains(doc, r) {
			method, path, _ := strings.Cut(r, " ")
			t.Errorf("route %s is missing from docs/contract.md: add the row | %s | `R%s` | ... |", r, method, path)
		}
	}
	// Each documented route is served, under a root path too.
	a, _, _ := newTestAuth(t, Config{RootPath: "/r", Origins: OriginsConfig{Embed: []string{"https://host.example"}}})
	mux := http.NewServeMux()
	a.Mount(mux)
	for _, r := range doc {
		method, path, _ := strings.Cut(r, " ")
		req := httptest.NewRequest(method, "/r"+strings.ReplaceAll(path, "{provider}", "github"), nil)
		if _, pattern := mux.Handler(req); pattern != method+" /r"+path {
			t.Errorf("docs/contract.md lists %s, which Mount does not serve (pattern %q): remove its row", r, pattern)
		}
	}
}

// codeDetails finds the detail strings of the code, with their status
// when it is written beside them: the detail argument of every reject
// call (a literal, a constant, or fmt.Sprintf's format with %s read as
// {name}), what sessionDetail returns, and the errors.New texts of var
// blocks whose comment says they are details.
func codeDetails(t *testing.T) map[string]int {
	files := packageFiles(t)
	consts := map[string]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if s, ok := stringLit(vs.Values[i]); ok {
							consts[name.Name] = s
						}
					}
				}
			}
		}
	}
	text := func(e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.Ident:
			s, ok := consts[e.Name]
			return s, ok
		case *ast.CallExpr:
			if sel, ok := e.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Sprintf" && len(e.Args) > 0 {
				if format, ok := stringLit(e.Args[0]); ok {
					return regexp.MustCompile(`%[sqdv]`).ReplaceAllString(format, "{}"), true
				}
			}
		}
		return stringLit(e)
	}
	details := map[string]int{}
	add := func(detail string, status int) {
		if old, ok := details[detail]; !ok || old == 0 {
			details[detail] = status
		}
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				// refused(method, status, reason, detail, ...) makes every
				// denial with a fixed detail (respond.go).
				fn, ok := n.Fun.(*ast.Ident)
				if !ok || fn.Name != "refused" || len(n.Args) < 4 {
					return true
				}
				if d, ok := text(n.Args[3]); ok && d != "" {
					status := 0
					if s, ok := n.Args[1].(*ast.SelectorExpr); ok {
						status = httpStatus[s.Sel.Name]
					}
					add(d, status)
				}
			case *ast.FuncDecl:
				// sessionDetail, and checkRefused.detail (throttled, busy).
				if n.Name.Name != "sessionDetail" && n.Name.Name != "detail" {
					return true
				}
				ast.Inspect(n.Body, func(m ast.Node) bool {
					if ret, ok := m.(*ast.ReturnStmt); ok && len(ret.Results) == 1 {
						if d, ok := text(ret.Results[0]); ok {
							add(d, 0)
						}
					}
					return true
				})
				return false
			case *ast.GenDecl:
				if n.Tok != token.VAR || n.Doc == nil || !strings.Contains(n.Doc.Text(), "detail") {
					return true
				}
				ast.Inspect(n, func(m ast.Node) bool {
					if call, ok := m.(*ast.CallExpr); ok && len(call.Args) == 1 {
						if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "New" {
							if d, ok := stringLit(call.Args[0]); ok {
								add(d, http.StatusUnauthorized)
							}
						}
					}
					return true
				})
			}
			return true
		})
	}
	return details
}

// httpStatus maps the net/http constants the code passes to refused.
var httpStatus = map[string]int{
	"StatusBadRequest": 400, "StatusUnauthorized": 401, "StatusForbidden": 403, "StatusNotFound": 404,
	"StatusRequestTimeout": 408, "StatusRequestEntityTooLarge": 413, "StatusTooManyRequests": 429, "StatusRequestHeaderFieldsTooLarge": 431,
	"StatusInternalServerError": 500, "StatusServiceUnavailable": 503,
}

// drivenDetails are details the code builds at run time (the password
// form's errors), found by sending the requests that cause them.
func drivenDetails(t *testing.T) map[string]int {
	a, _, _ := newTestAuth(t, Config{})
	a.OnPassword(acceptUser(&User{Identifier: "ada"}))
	form := func(ct, body string) *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		return req
	}
	const urlencoded = "application/x-www-form-urlencoded"
	details := map[string]int{}
	for _, req := range []*http.Request{
		form(urlencoded, ""),
		form(urlencoded, "username=ada"),
		form(urlencoded, "password=pw"),
		form(urlencoded, "username=%ff&password=pw"),
		form(urlencoded, "username=%zz"),
		form("multipart/form-data", "x"),
		form(urlencoded, "username=ada&password="+strings.Repeat("p", maxBodyBytes)),
	} {
		resp := serve(t, a, req)
		body := readBody(t, resp)
		var detail struct{ Detail string }
		if err := json.Unmarshal([]byte(body), &detail); err != nil || detail.Detail == "" {
			t.Fatalf("%d %s: no detail", resp.StatusCode, body)
		}
		details[detail.Detail] = resp.StatusCode
	}
	return details
}

func TestContractDocDetails(t *testing.T) {
	doc := map[string]string{} // detail pattern -> status cell
	for _, row := range tableRows(contractSections(t)["Error details"]) {
		detail := regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(unquote(row[1]), "{}")
		doc[detail] = row[0]
	}
	code := codeDetails(t)
	if len(code) < 15 {
		t.Fatalf("found only %d details in the code (%v): the scan broke", len(code), code)
	}
	for d, status := range drivenDetails(t) {
		code[d] = status
	}
	// A body that stops arriving (TestSlowBodyIsCut drives it).
	code[errBodyTimeout.Error()] = http.StatusRequestTimeout
	for d, status := range code {
		docStatus, ok := doc[d]
		switch {
		case !ok:
			st := "<status>"
			if status != 0 {
				st = strconv.Itoa(status)
			}
			t.Errorf("detail %q is missing from docs/contract.md's error details: add the row | %s | `%s` | ... |", d, st, d)
		case status != 0 && docStatus != strconv.Itoa(status):
			t.Errorf("detail %q: docs/contract.md says status %s, the code answers %d", d, docStatus, status)
		}
	}
	for d := range doc {
		if _, ok := code[d]; !ok {
			t.Errorf("docs/contract.md lists the detail %q, which the code never answers: remove its row", d)
		}
	}
}

// TestContractDocEnvironment: every variable ConfigFromEnv reads is in the
// environment table, by name or by a family such as OAUTH_<ID>_PROMPT
// (package providers checks FromEnv's the same way).
func TestContractDocEnvironment(t *testing.T) {
	var patterns []*regexp.Regexp
	for _, row := range tableRows(contractSections(t)["Environment"]) {
		for _, name := range regexp.MustCompile("`([A-Z0-9_<>*]+)`").FindAllStringSubmatch(row[0], -1) {
			p := regexp.QuoteMeta(name[1])
			p = strings.NewReplacer(`\*`, `[A-Z0-9_]+`, `<ID>`, `[A-Z0-9_]+`).Replace(p)
			patterns = append(patterns, regexp.MustCompile("^"+p+"$"))
		}
	}
	read := map[string]bool{}
	_, _ = ConfigFromEnv(func(k string) string { read[k] = true; return "" })
	if len(read) < 10 {
		t.Fatalf("recorded only %d variables: the recording broke", len(read))
	}
	for name := range read {
		if !slices.ContainsFunc(patterns, func(p *regexp.Regexp) bool { return p.MatchString(name) }) {
			t.Errorf("%s is read from the environment but missing from docs/contract.md: add the row | `%s` | ... |", name, name)
		}
	}
}

// TestDocsLinkInsideRepository: every relative link of the repository's
// Markdown resolves to a file of the repository; nothing points outside it
// (a reader of the README has the repository, nothing beside it).
func TestDocsLinkInsideRepository(t *testing.T) {
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	var docs []string
	_ = filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if d != nil && d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if err == nil && strings.HasSuffix(path, ".md") {
			docs = append(docs, path)
		}
		return nil
	})
	if len(docs) < 3 {
		t.Fatalf("found only %v", docs)
	}
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "../shared") {
			t.Errorf("%s refers to ../shared, outside the repository", doc)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if u, err := url.Parse(target); err != nil || u.Scheme != "" || strings.HasPrefix(target, "#") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			abs := filepath.Join(filepath.Dir(filepath.Join(root, doc)), target)
			if rel, err := filepath.Rel(root, abs); err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s links %s, outside the repository", doc, m[1])
				continue
			}
			if _, err := os.Stat(abs); err != nil {
				t.Errorf("%s links %s, which does not exist", doc, m[1])
			}
		}
	}
}
