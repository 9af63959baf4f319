package cookiechunk

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// modelJar is the cookies of Cookie header lines the way a reader of
// RFC 6265 pairs sees them: split at ";", trimmed, cut at the first "=",
// surrounding double quotes removed; the first cookie of a name wins.
// Parts without "=" are not cookies.
func modelJar(lines []string) map[string]string {
	jar := map[string]string{}
	for _, line := range lines {
		for _, part := range strings.Split(line, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if _, seen := jar[k]; !seen {
				jar[k] = v
			}
		}
	}
	return jar
}

// modelRead is what Read must answer for jar: the unchunked cookie when
// not empty, else chunks 0, 1, ... up to the first missing one, refused
// past MaxChunks chunks or maxLen bytes.
func modelRead(jar map[string]string, name string, maxLen int) (value string, found, tooLarge bool) {
	if v, ok := jar[name]; ok && v != "" {
		return v, true, len(v) > maxLen
	}
	var joined string
	for i := 0; ; i++ {
		v, ok := jar[ChunkName(name, i)]
		if !ok {
			break
		}
		if i == MaxChunks || len(joined)+len(v) > maxLen {
			return "", true, true
		}
		joined += v
	}
	return joined, joined != "", false
}

// fuzzTemplates are cookie templates of different line budgets: the
// session cookie's, a bare one, and one whose long Path leaves little room
// per chunk.
var fuzzTemplates = []http.Cookie{
	{Name: "tok", Path: "/"},
	{Name: "tok", Path: "/app", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode, MaxAge: 1296000, Partitioned: true},
	{Name: "tok", Path: "/" + strings.Repeat("p", 3400), Domain: "chat.example.com", Secure: true},
}

// tokenAlphabet is what session tokens are made of (base64url and dots):
// cookie-safe bytes that Set-Cookie carries unchanged.
const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."

// FuzzChunkReassembly: for arbitrary Cookie headers (lines separated by
// "\n" in header), Read never panics, agrees with modelRead, and never
// returns more than maxLen bytes or MaxChunks chunks unless it reports
// tooLarge. For an arbitrary token-alphabet value (value stretched by
// grow*64 bytes), Split's chunks join back to it and each fits a
// Set-Cookie line; and after Write over a browser holding the cookies of
// header, the browser's cookies read back exactly the value: no stale chunk
// or unchunked cookie survives to corrupt it. Write's Set-Cookie lines are
// bounded whatever the request carries.
func FuzzChunkReassembly(f *testing.F) {
	long := strings.Repeat("a", Size) + strings.Repeat("b", Size) + "c"
	for _, s := range []struct {
		header, value string
		grow, tmpl    uint8
		maxLen        uint16
	}{
		{"tok=abc", "eyJhbGciOiJIUzI1NiJ9.e30.sig", 0, 0, 100},
		{"tok_0=a; tok_1=b; tok_3=d", "x", 100, 1, 1000},
		{"tok=; tok_0=" + long[:Size] + "; tok_1=" + long[Size:], "y", 200, 0, 16384},
		{`tok="quoted"; tok=second`, "", 0, 2, 5},
		{"a=1\ntok_0=x; tok_1=y\ntok_2=z", "zz", 255, 2, 16384},
		{"tok_0=\xc3\xa9; tok_1=v; tok_2=w", "v", 60, 0, 16384},
		{"tok_1=b; tok_0=a; tok_00=zz; tok_-1=q; tok_+2=r", "q", 10, 1, 3},
		{strings.Repeat("tok_9=v; ", 50), "w", 47, 0, 65535},
	} {
		f.Add(s.header, s.value, s.grow, s.tmpl, s.maxLen)
	}
	f.Fuzz(func(t *testing.T, header, value string, grow, tmpl uint8, maxLen uint16) {
		// Reading arbitrary headers.
		lines := strings.Split(header, "\n")
		h := http.Header{"Cookie": lines}
		got, found, tooLarge := Read(h, "tok", int(maxLen))
		want, wantFound, wantTooLarge := modelRead(modelJar(lines), "tok", int(maxLen))
		if got != want || found != wantFound || tooLarge != wantTooLarge {
			t.Fatalf("Read = %d bytes, %v, %v; want %d bytes, %v, %v", len(got), found, tooLarge, len(want), wantFound, wantTooLarge)
		}
		if !tooLarge && len(got) > int(maxLen) {
			t.Fatalf("Read returned %d bytes, over %d, without tooLarge", len(got), maxLen)
		}

		// Splitting and writing a token-like value.
		var b strings.Builder
		for i := 0; i < len(value)+int(grow)*64; i++ {
			if len(value) == 0 {
				break
			}
			b.WriteByte(tokenAlphabet[int(value[i%len(value)])%len(tokenAlphabet)])
		}
		v := b.String()
		template := fuzzTemplates[int(tmpl)%len(fuzzTemplates)]
		size := chunkSize(template)
		chunks := Split(template, v)
		if strings.Join(chunks, "") != v || (len(chunks) == 1) != (len(v) <= size) {
			t.Fatalf("Split of %d bytes (chunk size %d) into %d chunks does not join back", len(v), size, len(chunks))
		}
		for i, c := range chunks {
			line := template
			line.Name, line.Value = ChunkName(template.Name, i), c
			if len(chunks) > 1 && (c == "" || len(c) > size || (i < 100 && len(line.String()) > MaxLine)) {
				t.Fatalf("chunk %d of %d: %d bytes, Set-Cookie line of %d", i, len(chunks), len(c), len(line.String()))
			}
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header["Cookie"] = lines
		rec := httptest.NewRecorder()
		Write(rec, req, template, v)
		set := rec.Result().Cookies()
		if len(set) > len(chunks)+1+maxCleared {
			t.Fatalf("%d Set-Cookie lines for %d chunks", len(set), len(chunks))
		}
		// The browser: its cookies were those of the request; apply the
		// response and send them back.
		jar := modelJar(lines)
		for _, c := range set {
			if c.MaxAge < 0 {
				delete(jar, c.Name)
			} else {
				jar[c.Name] = c.Value
			}
		}
		var next []string
		for k, val := range jar {
			next = append(next, k+"="+val)
		}
		slices.Sort(next)
		back, found, tooLarge := Read(http.Header{"Cookie": {strings.Join(next, "; ")}}, "tok", 1<<20)
		if len(chunks) > MaxChunks {
			if !tooLarge {
				t.Fatalf("%d chunks read back without tooLarge", len(chunks))
			}
			return
		}
		if back != v || found != (v != "") || tooLarge {
			t.Fatalf("wrote %d bytes in %d chunks over %q, read back %d bytes (found %v, tooLarge %v)",
				len(v), len(chunks), header, len(back), found, tooLarge)
		}
	})
}
