// Package cookiechunk stores a value too large for one cookie in several,
// the way Chainlit does: NAME when it fits, else NAME_0, NAME_1, ...
package cookiechunk

import (
	"net/http"
	"strconv"
	"strings"
)

// Size is the largest value put in one cookie (Chainlit's chunk size).
const Size = 3000

// MaxChunks bounds how many chunks Read will join, so a request carrying
// thousands of chunk cookies costs no more than a normal one.
const MaxChunks = 16

// Lookup returns the value of the first cookie called name in the request's
// Cookie headers, without allocating.
func Lookup(h http.Header, name string) (string, bool) {
	for _, line := range h["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || k != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v, true
		}
	}
	return "", false
}

// Read returns the value stored under name: the unchunked cookie when
// present and not empty (as in Chainlit), else the chunks NAME_0, NAME_1, ...
// joined in order up to the first missing one. It reports false when there
// is neither. Joining stops at MaxChunks chunks or maxLen bytes; tooLarge is
// then true.
func Read(h http.Header, name string, maxLen int) (value string, found, tooLarge bool) {
	if v, ok := Lookup(h, name); ok && v != "" {
		return v, true, len(v) > maxLen
	}
	var b strings.Builder
	for i := 0; ; i++ {
		v, ok := Lookup(h, ChunkName(name, i))
		if !ok {
			break
		}
		if i == MaxChunks || b.Len()+len(v) > maxLen {
			return "", true, true
		}
		b.WriteString(v)
	}
	return b.String(), b.Len() > 0, false
}

// ChunkName is the name of chunk i of the cookie called name.
func ChunkName(name string, i int) string { return name + "_" + strconv.Itoa(i) }

// MaxLine is the largest Set-Cookie line (name, value and attributes)
// browsers are sure to keep (RFC 6265 section 6.1).
const MaxLine = 4096

// chunkSize is how much of a value goes in one cookie: Size, or less when
// the attributes of template would push a line past MaxLine.
func chunkSize(template http.Cookie) int {
	template.Name, template.Value = ChunkName(template.Name, 99), ""
	return max(min(Size, MaxLine-len(template.String())), 1)
}

// Split cuts value into the cookie values Write would set with template:
// one when it fits, else chunks whose whole Set-Cookie line fits MaxLine.
func Split(template http.Cookie, value string) []string {
	size := chunkSize(template)
	if len(value) <= size {
		return []string{value}
	}
	chunks := make([]string, 0, len(value)/size+1)
	for len(value) > size {
		chunks = append(chunks, value[:size])
		value = value[size:]
	}
	return append(chunks, value)
}

// Write sets value under template.Name (attributes from template), chunked
// when longer than Size, and deletes whatever the request carries that the
// new value does not replace: the unchunked cookie or stale chunks.
func Write(w http.ResponseWriter, r *http.Request, template http.Cookie, value string) {
	name := template.Name
	chunks := Split(template, value)
	if len(chunks) == 1 {
		set(w, template, name, value)
		clearChunks(w, r, template, 0)
		return
	}
	for i, c := range chunks {
		set(w, template, ChunkName(name, i), c)
	}
	if _, ok := Lookup(r.Header, name); ok {
		clearOne(w, template, name)
	}
	clearChunks(w, r, template, len(chunks))
}

// Clear deletes the cookie and every chunk the request carries, with the
// same attributes (Path, Domain, SameSite, Secure, Partitioned) as template,
// so that the browser matches and drops them. The unchunked cookie is always
// cleared, even when the request did not carry it.
func Clear(w http.ResponseWriter, r *http.Request, template http.Cookie) {
	clearOne(w, template, template.Name)
	clearChunks(w, r, template, 0)
}

// clearChunks deletes the chunks from index from on that the request carries.
// Chunks are found the way Lookup (and so Read) finds them, not with
// r.Cookies(): a chunk whose value net/http refuses (a lone '"', non-ASCII)
// would otherwise survive and be joined to the new value. Each index is
// deleted once, however often a forged request repeats it.
func clearChunks(w http.ResponseWriter, r *http.Request, template http.Cookie, from int) {
	prefix := template.Name + "_"
	var done [maxCleared]bool
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			name, _, isCookie := strings.Cut(strings.TrimSpace(part), "=")
			n, isChunk := strings.CutPrefix(name, prefix)
			if !isCookie || !isChunk {
				continue
			}
			if i, err := strconv.Atoi(n); err == nil && i >= from && i < maxCleared && strconv.Itoa(i) == n && !done[i] {
				done[i] = true
				clearOne(w, template, name)
			}
		}
	}
}

func set(w http.ResponseWriter, template http.Cookie, name, value string) {
	c := template
	c.Name, c.Value = name, value
	http.SetCookie(w, &c)
}

func clearOne(w http.ResponseWriter, template http.Cookie, name string) {
	c := template
	c.Name, c.Value, c.MaxAge = name, "", -1
	http.SetCookie(w, &c)
}

// maxCleared bounds the chunk indexes Write and Clear delete: browsers keep
// no more than about 180 cookies per site, and a request forged with
// thousands must not make a response with thousands of Set-Cookie lines.
const maxCleared = 64

// Capacity is the longest value Write stores in at most n cookies with the
// attributes of template.
func Capacity(template http.Cookie, n int) int { return n * chunkSize(template) }

// ClearCarried deletes, with the attributes of template, the cookie and
// the chunks that the request carries, and nothing else: for copies under
// another Path that may or may not exist.
func ClearCarried(w http.ResponseWriter, r *http.Request, template http.Cookie) {
	if _, ok := Lookup(r.Header, template.Name); ok {
		clearOne(w, template, template.Name)
	}
	clearChunks(w, r, template, 0)
}
