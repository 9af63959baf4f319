package cookiechunk

import (
	"net/http"
	"strconv"
	"strings"
)

// A browser sends one copy of a cookie for every Path and Domain that
// match the request, so a cookie planted beside the real one (by a page on
// another port of the same host, or a sibling subdomain with a Domain
// attribute) arrives as a second copy under the same name. The Cookie
// header does not say which copy is which.

// copies is what a request's Cookie headers hold under one name: the
// distinct non-empty values of the unchunked cookie, and for each chunk
// index below MaxChunks whether it is present and its first and last
// non-empty values.
type copies struct {
	whole       [MaxValues]string
	nWhole      int
	moreWhole   bool // distinct values beyond MaxValues
	present     [MaxChunks]bool
	first, last [MaxChunks]string
	chunkDiffer bool // some chunk index has two different values
}

// MaxValues bounds the values Values returns.
const MaxValues = 4

// scan reads the Cookie headers once, without allocating.
func (c *copies) scan(h http.Header, name string) {
	for _, line := range h["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if k == name {
				c.addWhole(v)
			} else if i := chunkIndex(k, name); i >= 0 {
				c.addChunk(i, v)
			}
		}
	}
}

func (c *copies) addWhole(v string) {
	if v == "" {
		return
	}
	for _, w := range c.whole[:c.nWhole] {
		if w == v {
			return
		}
	}
	if c.nWhole == MaxValues {
		c.moreWhole = true
		return
	}
	c.whole[c.nWhole] = v
	c.nWhole++
}

func (c *copies) addChunk(i int, v string) {
	c.present[i] = true
	if v == "" {
		return
	}
	if c.first[i] == "" {
		c.first[i] = v
	} else if c.first[i] != v {
		c.chunkDiffer = true
	}
	c.last[i] = v
}

// chunkIndex is i when k is the name of chunk i (below MaxChunks) of the
// cookie called name, else -1.
func chunkIndex(k, name string) int {
	if len(k) < len(name)+2 || len(k) > len(name)+3 || k[len(name)] != '_' || k[:len(name)] != name {
		return -1
	}
	n := k[len(name)+1:]
	if n[0] == '0' && n != "0" {
		return -1
	}
	i, err := strconv.Atoi(n)
	if err != nil || i < 0 || i >= MaxChunks {
		return -1
	}
	return i
}

// joined is the chunks from 0 up to the first missing one, from chunks.
func (c *copies) joined(chunks *[MaxChunks]string) string {
	var b strings.Builder
	for i := 0; i < MaxChunks && c.present[i]; i++ {
		b.WriteString(chunks[i])
	}
	return b.String()
}

// Ambiguous reports whether the request's Cookie headers give two
// different values for the cookie called name: two different non-empty
// copies of it, or two different non-empty copies of one of its chunks
// (NAME_0 to NAME_15). Identical copies are not ambiguous; empty ones
// (deleted cookies) are ignored. An unchunked cookie beside chunks is not
// ambiguous either: the unchunked one wins, as the contract and Chainlit
// read them (chunks left behind by a larger token must not lock a session
// out).
func Ambiguous(h http.Header, name string) bool {
	var c copies
	c.scan(h, name)
	return c.nWhole > 1 || c.chunkDiffer
}

// Values returns the distinct non-empty values the request's Cookie
// headers could mean for the cookie called name, at most MaxValues: each
// copy of the unchunked cookie, then the chunks joined taking the first
// copy of each, then taking the last copy of each (two chunk sets at two
// paths arrive in that order). Values longer than maxLen are left out.
func Values(h http.Header, name string, maxLen int) []string {
	var c copies
	c.scan(h, name)
	var out []string
	add := func(v string) {
		if v == "" || len(v) > maxLen || len(out) == MaxValues {
			return
		}
		for _, o := range out {
			if o == v {
				return
			}
		}
		out = append(out, v)
	}
	for _, v := range c.whole[:c.nWhole] {
		add(v)
	}
	if c.present[0] {
		add(c.joined(&c.first))
		add(c.joined(&c.last))
	}
	return out
}

// maxPaths bounds the paths AncestorPaths returns.
const maxPaths = 8

// AncestorPaths returns the cookie paths a browser sends to a request for
// path (an escaped URL path), shallowest first: "/", then each ancestor
// with and without its trailing slash, then path itself; at most 8. A
// cookie the request carried was set with one of them (or a Domain
// attribute the server cannot know).
func AncestorPaths(path string) []string {
	paths := []string{"/"}
	for i := 1; i < len(path) && len(paths) < maxPaths; i++ {
		if path[i] == '/' {
			paths = append(paths, path[:i])
			if len(paths) < maxPaths {
				paths = append(paths, path[:i+1])
			}
		}
	}
	if len(path) > 1 && !strings.HasSuffix(path, "/") && len(paths) < maxPaths {
		paths = append(paths, path)
	}
	return paths
}

// ClearCopies deletes the cookie and each of its chunks the request
// carries (below MaxChunks) at each of paths, with template's other
// attributes: every copy the request could have carried, when paths are
// AncestorPaths of its path. A __Host- cookie only lives at "/".
func ClearCopies(w http.ResponseWriter, r *http.Request, template http.Cookie, paths []string) {
	var c copies
	c.scan(r.Header, template.Name)
	for _, p := range paths {
		if strings.HasPrefix(template.Name, "__Host-") && p != "/" {
			continue
		}
		template.Path = p
		clearOne(w, template, template.Name)
		for i := 0; i < MaxChunks; i++ {
			if c.present[i] {
				clearOne(w, template, ChunkName(template.Name, i))
			}
		}
	}
}
