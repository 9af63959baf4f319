package cookiechunk

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func header(cookies ...string) http.Header {
	return http.Header{"Cookie": {strings.Join(cookies, "; ")}}
}

func TestLookup(t *testing.T) {
	for _, tt := range []struct {
		name   string
		h      http.Header
		cookie string
		want   string
		found  bool
	}{
		{"only", header("tok=abc"), "tok", "abc", true},
		{"among others", header("a=1", "tok=abc", "b=2"), "tok", "abc", true},
		{"spaces", http.Header{"Cookie": {" a=1 ;  tok=abc ; b=2"}}, "tok", "abc", true},
		{"quoted", header(`tok="abc"`), "tok", "abc", true},
		{"first wins", header("tok=first", "tok=second"), "tok", "first", true},
		{"several Cookie lines", http.Header{"Cookie": {"a=1", "tok=abc"}}, "tok", "abc", true},
		{"empty value", header("tok="), "tok", "", true},
		{"prefix is not a match", header("tok_0=abc", "xtok=1"), "tok", "", false},
		{"no cookies", http.Header{}, "tok", "", false},
		{"valueless part", header("tok", "a=1"), "tok", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, found := Lookup(tt.h, tt.cookie)
			if got != tt.want || found != tt.found {
				t.Errorf("Lookup = %q, %v; want %q, %v", got, found, tt.want, tt.found)
			}
		})
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	h := header("a=1", "theme=dark", "tok=abcdef", "b=2")
	if n := testing.AllocsPerRun(100, func() { Lookup(h, "tok") }); n != 0 {
		t.Errorf("Lookup allocates %v times", n)
	}
}

func TestSplit(t *testing.T) {
	for _, n := range []int{0, 1, Size - 1, Size, Size + 1, 2 * Size, 2*Size + 1, 8000} {
		v := strings.Repeat("x", n)
		chunks := Split(http.Cookie{Name: "access_token", Path: "/"}, v)
		want := 1
		if n > Size {
			want = (n + Size - 1) / Size
		}
		if len(chunks) != want || strings.Join(chunks, "") != v {
			t.Errorf("Split(%d chars) = %d chunks, want %d", n, len(chunks), want)
		}
		for _, c := range chunks {
			if len(c) > Size {
				t.Errorf("chunk of %d chars", len(c))
			}
		}
	}
}

func TestRead(t *testing.T) {
	long := strings.Repeat("a", Size) + strings.Repeat("b", Size) + "c"
	chunks := Split(http.Cookie{Name: "access_token", Path: "/"}, long)
	var chunkCookies []string
	for i, c := range chunks {
		chunkCookies = append(chunkCookies, ChunkName("tok", i)+"="+c)
	}
	for _, tt := range []struct {
		name            string
		h               http.Header
		max             int
		want            string
		found, tooLarge bool
	}{
		{"unchunked", header("tok=abc"), 100, "abc", true, false},
		{"chunks", header(chunkCookies...), 10000, long, true, false},
		{"chunks in any order", header(chunkCookies[2], chunkCookies[0], chunkCookies[1]), 10000, long, true, false},
		{"unchunked wins", header(append([]string{"tok=abc"}, chunkCookies...)...), 10000, "abc", true, false},
		{"empty unchunked falls back to chunks", header(append([]string{"tok="}, chunkCookies...)...), 10000, long, true, false},
		{"empty unchunked alone", header("tok="), 100, "", false, false},
		{"stops at a gap", header("tok_0=a", "tok_1=b", "tok_3=d"), 100, "ab", true, false},
		{"no chunk 0", header("tok_1=b"), 100, "", false, false},
		{"nothing", header("other=1"), 100, "", false, false},
		{"unchunked too large", header("tok=" + strings.Repeat("x", 101)), 100, "", true, true},
		{"chunks too large", header(chunkCookies...), 6000, "", true, true},
		{"too many chunks", manyChunks(MaxChunks + 1), 1 << 20, "", true, true},
		{"many chunks within limits", manyChunks(MaxChunks), 1 << 20, strings.Repeat("v", MaxChunks), true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, found, tooLarge := Read(tt.h, "tok", tt.max)
			if tooLarge != tt.tooLarge || found != tt.found || (!tooLarge && got != tt.want) {
				t.Errorf("Read = %.20q (%d chars), %v, %v; want %.20q, %v, %v", got, len(got), found, tooLarge, tt.want, tt.found, tt.tooLarge)
			}
		})
	}
}

func manyChunks(n int) http.Header {
	var cookies []string
	for i := range n {
		cookies = append(cookies, ChunkName("tok", i)+"=v")
	}
	return header(cookies...)
}

func TestReadTenThousandChunks(t *testing.T) {
	h := manyChunks(10000)
	if _, found, tooLarge := Read(h, "tok", 16<<10); !found || !tooLarge {
		t.Errorf("10000 chunks: found %v, tooLarge %v", found, tooLarge)
	}
}

// setCookies summarises the Set-Cookie lines of rec as "name=value" or
// "name deleted", in order.
func setCookies(rec *httptest.ResponseRecorder) []string {
	var out []string
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			out = append(out, c.Name+" deleted")
		} else {
			out = append(out, fmt.Sprintf("%s=%d", c.Name, len(c.Value)))
		}
	}
	slices.Sort(out)
	return out
}

func request(cookies ...string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if len(cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
	}
	return req
}

var template = http.Cookie{Name: "tok", Path: "/app", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode, MaxAge: 3600}

func TestWrite(t *testing.T) {
	short := strings.Repeat("s", 10)
	long := strings.Repeat("l", 2*Size+5)
	for _, tt := range []struct {
		name  string
		req   *http.Request
		value string
		want  []string
	}{
		{"short, fresh", request(), short, []string{"tok=10"}},
		{"short over chunks", request("tok_0=a", "tok_1=b", "tok_2=c", "other_0=x"), short, []string{"tok=10", "tok_0 deleted", "tok_1 deleted", "tok_2 deleted"}},
		{"long, fresh", request(), long, []string{"tok_0=3000", "tok_1=3000", "tok_2=5"}},
		{"long over unchunked", request("tok=old"), long, []string{"tok deleted", "tok_0=3000", "tok_1=3000", "tok_2=5"}},
		{"long over more chunks", request("tok_0=a", "tok_1=b", "tok_2=c", "tok_3=d", "tok_4=e"), long, []string{"tok_0=3000", "tok_1=3000", "tok_2=5", "tok_3 deleted", "tok_4 deleted"}},
		{"ignores look-alikes", request("tok_x=1", "tok_01=1", "tok_-1=1", "tok_5=1"), short, []string{"tok=10", "tok_5 deleted"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Write(rec, tt.req, template, tt.value)
			if got := setCookies(rec); !slices.Equal(got, tt.want) {
				t.Errorf("Set-Cookie %v, want %v", got, tt.want)
			}
			for _, c := range rec.Result().Cookies() {
				if c.Path != "/app" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode {
					t.Errorf("cookie %s lost the template's attributes", c)
				}
				if c.MaxAge > 0 && c.MaxAge != 3600 {
					t.Errorf("cookie %s Max-Age %d", c.Name, c.MaxAge)
				}
			}
		})
	}
}

func TestWriteThenRead(t *testing.T) {
	for _, n := range []int{1, 1000, Size, Size + 1, 4000, 8000} {
		value := strings.Repeat("v", n-1) + "z"
		rec := httptest.NewRecorder()
		Write(rec, request(), template, value)
		req := request()
		for _, c := range rec.Result().Cookies() {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		got, found, tooLarge := Read(req.Header, "tok", 1<<20)
		if got != value || !found || tooLarge {
			t.Errorf("%d chars: read %d chars, %v, %v", n, len(got), found, tooLarge)
		}
	}
}

func TestClear(t *testing.T) {
	rec := httptest.NewRecorder()
	Clear(rec, request("tok_0=a", "tok_1=b", "other=1"), template)
	want := []string{"tok deleted", "tok_0 deleted", "tok_1 deleted"}
	if got := setCookies(rec); !slices.Equal(got, want) {
		t.Errorf("Set-Cookie %v, want %v", got, want)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Path != "/app" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Value != "" {
			t.Errorf("deletion %s does not match the cookie it deletes", c)
		}
	}
}

func TestClearIsBounded(t *testing.T) {
	var cookies []string
	for i := range 10000 {
		cookies = append(cookies, fmt.Sprintf("tok_%d=v", i))
	}
	rec := httptest.NewRecorder()
	Clear(rec, request(cookies...), template)
	if n := len(rec.Result().Header["Set-Cookie"]); n > maxCleared+1 {
		t.Errorf("%d Set-Cookie lines for a forged request", n)
	}
}

func TestAmbiguous(t *testing.T) {
	for _, tt := range []struct {
		name string
		h    http.Header
		want bool
	}{
		{"one cookie", header("tok=a"), false},
		{"identical copies", header("tok=a", "tok=a"), false},
		{"two values", header("tok=a", "x=1", "tok=b"), true},
		{"two values, quoted", header(`tok="a"`, "tok=b"), true},
		{"two values in two Cookie lines", http.Header{"Cookie": {"tok=a", "tok=b"}}, true},
		{"empty copy beside a value", header("tok=", "tok=a"), false},
		{"chunks", header("tok_0=a", "tok_1=b"), false},
		{"chunks identical twice", header("tok_0=a", "tok_1=b", "tok_0=a", "tok_1=b"), false},
		{"chunk with two values", header("tok_0=a", "tok_1=b", "tok_0=x"), true},
		{"two chunk sets", header("tok_0=a", "tok_1=b", "tok_0=c", "tok_1=d"), true},
		{"whole and chunks joining to it", header("tok=ab", "tok_0=a", "tok_1=b"), false},
		{"whole and differing chunks: the whole one wins", header("tok=alice", "tok_0=b", "tok_1=ob"), false},
		{"whole and a longer chunk set: the whole one wins", header("tok=ab", "tok_0=a", "tok_1=b", "tok_2=c"), false},
		{"empty whole and chunks", header("tok=", "tok_0=a", "tok_1=b"), false},
		{"other names", header("tok2=a", "xtok=b", "tok=c", "tok_x=d", "tok_00=e"), false},
		{"chunk index past MaxChunks", header("tok=a", "tok_16=x", "tok_16=y"), false},
		{"no cookie", http.Header{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Ambiguous(tt.h, "tok"); got != tt.want {
				t.Errorf("Ambiguous = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAmbiguousDoesNotAllocate(t *testing.T) {
	h := header("a=1", "theme=dark", "tok=abcdef", "b=2", "tok_0=abc", "tok_1=def")
	if n := testing.AllocsPerRun(100, func() { Ambiguous(h, "tok") }); n != 0 {
		t.Errorf("Ambiguous allocates %v times", n)
	}
}

func TestValues(t *testing.T) {
	for _, tt := range []struct {
		name string
		h    http.Header
		want []string
	}{
		{"one", header("tok=a"), []string{"a"}},
		{"two copies", header("tok=bob", "tok=alice", "tok=bob"), []string{"bob", "alice"}},
		{"two chunk sets", header("tok_0=al", "tok_0=b", "tok_1=ice", "tok_1=ob"), []string{"alice", "bob"}},
		{"whole and chunks", header("tok=bob", "tok_0=al", "tok_1=ice"), []string{"bob", "alice"}},
		{"at most MaxValues", header("tok=1", "tok=2", "tok=3", "tok=4", "tok=5"), []string{"1", "2", "3", "4"}},
		{"too long left out", header("tok=short", "tok="+strings.Repeat("x", 11)), []string{"short"}},
		{"none", header("x=1"), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Values(tt.h, "tok", 10); !slices.Equal(got, tt.want) {
				t.Errorf("Values = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAncestorPaths(t *testing.T) {
	for path, want := range map[string][]string{
		"/":                   {"/"},
		"/logout":             {"/", "/logout"},
		"/chat/stream":        {"/", "/chat", "/chat/", "/chat/stream"},
		"/chat/":              {"/", "/chat", "/chat/"},
		"/a/b/c/d/e/f/logout": {"/", "/a", "/a/", "/a/b", "/a/b/", "/a/b/c", "/a/b/c/", "/a/b/c/d"},
	} {
		if got := AncestorPaths(path); !slices.Equal(got, want) {
			t.Errorf("AncestorPaths(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestClearCopies(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/chat/logout", nil)
	r.Header.Set("Cookie", "tok=a; tok=b; tok_0=c; tok_3=d; tok_40=e; other=f")
	w := httptest.NewRecorder()
	ClearCopies(w, r, http.Cookie{Name: "tok", HttpOnly: true, Secure: true}, AncestorPaths(r.URL.EscapedPath()))
	var got []string
	for _, c := range w.Result().Cookies() {
		if c.MaxAge >= 0 || c.Value != "" || !c.HttpOnly || !c.Secure {
			t.Errorf("not a deletion with the template's attributes: %s", c)
		}
		got = append(got, c.Name+"@"+c.Path)
	}
	var want []string
	for _, p := range []string{"/", "/chat", "/chat/", "/chat/logout"} {
		want = append(want, "tok@"+p, "tok_0@"+p, "tok_3@"+p)
	}
	if !slices.Equal(got, want) {
		t.Errorf("deleted %q, want %q", got, want)
	}
	w = httptest.NewRecorder()
	ClearCopies(w, r, http.Cookie{Name: "__Host-tok"}, AncestorPaths("/chat/logout"))
	for _, c := range w.Result().Cookies() {
		if c.Path != "/" {
			t.Errorf("__Host- cookie deleted at %s", c.Path)
		}
	}
}

// BenchmarkAmbiguous is the cost the duplicate-cookie check adds to every
// authenticated request: one pass over a browser's Cookie header.
func BenchmarkAmbiguous(b *testing.B) {
	h := header("_ga=GA1.1.123456789.1700000000", "theme=dark", "access_token="+strings.Repeat("t", 400), "lang=en")
	b.ReportAllocs()
	for b.Loop() {
		if Ambiguous(h, "access_token") {
			b.Fatal("ambiguous")
		}
	}
}

// BenchmarkLookup is the cost of reading the session cookie, for scale.
func BenchmarkLookup(b *testing.B) {
	h := header("_ga=GA1.1.123456789.1700000000", "theme=dark", "access_token="+strings.Repeat("t", 400), "lang=en")
	b.ReportAllocs()
	for b.Loop() {
		Lookup(h, "access_token")
	}
}
