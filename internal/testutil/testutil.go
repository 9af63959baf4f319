// Package testutil holds the test helpers that chatauth's packages share:
// a log buffer, a clock moved by hand, a cookie finder, an HS256 token
// forger, the status of a GET, and the exported functions of a package for
// nil-safety tables. It must not import chatauth: package chatauth's own tests use it,
// and an import of chatauth would be a cycle. Helpers that need an Auth
// live in each test package's helpers_test.go.
package testutil

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// LogBuffer is a bytes.Buffer safe for a logger writing from server
// goroutines while the test reads it. The zero value is ready to use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Reset empties the buffer.
func (b *LogBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// DropLines removes the lines containing s.
func (b *LogBuffer) DropLines(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var kept bytes.Buffer
	for _, line := range bytes.SplitAfter(b.buf.Bytes(), []byte("\n")) {
		if !bytes.Contains(line, []byte(s)) {
			kept.Write(line)
		}
	}
	b.buf = kept
}

// Clock is a clock tests move by hand; safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Cookie returns the cookie called name among cookies, or nil.
func Cookie(cookies []*http.Cookie, name string) *http.Cookie {
	for _, c := range cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// SignHS256 forges a compact JWS of header and claims (marshalled as JSON,
// base64url without padding) signed with HMAC-SHA256 under secret. The
// header is used as given: alg, typ and kid are the caller's to choose.
func SignHS256(header, claims map[string]any, secret []byte) string {
	return SignSegments(secret, base64.RawURLEncoding, Segment(base64.RawURLEncoding, header), Segment(base64.RawURLEncoding, claims))
}

// SignSegments signs "head.payload" as given (however encoded) with
// HMAC-SHA256 under secret; the signature is encoded with enc.
func SignSegments(secret []byte, enc *base64.Encoding, head, payload string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(head + "." + payload))
	return head + "." + payload + "." + enc.EncodeToString(m.Sum(nil))
}

// Segment is the JSON of v encoded with enc; it panics if v cannot be
// marshalled (a bug in the test).
func Segment(enc *base64.Encoding, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return enc.EncodeToString(b)
}

// ExportedFuncs lists the exported functions ("New") and the exported
// methods of exported types ("Auth.Mount") declared in the non-test Go
// files of dir: what a nil-safety table must cover.
func ExportedFuncs(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || !fn.Name.IsExported() {
				continue
			}
			if fn.Recv == nil {
				names = append(names, fn.Name.Name)
				continue
			}
			recv := fn.Recv.List[0].Type
			if star, ok := recv.(*ast.StarExpr); ok {
				recv = star.X
			}
			if id, ok := recv.(*ast.Ident); ok && id.IsExported() {
				names = append(names, id.Name+"."+fn.Name.Name)
			}
		}
	}
	return names
}

// UserStatus is the status h answers GET path with the given cookies (name
// and value only, as a browser sends them).
func UserStatus(t testing.TB, h http.Handler, path string, cookies ...*http.Cookie) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}
