package chatauth

import (
	"net/http"
	"path"
	"strings"
)

// CleanPathsOnly serves next only requests whose path is in canonical
// form, and answers 404 {"detail": "not found"} to the others ("//login",
// "/./login", "/chat/../login"). http.ServeMux answers such a path with a
// 307 to the cleaned one, and a browser follows a 307 by sending the same
// POST again, body and credentials included; RFC 9700 (4.12) advises
// against a 307 after a POST carrying credentials, and chatauth answers
// none. Auth.ServeHTTP applies it to its own routes; an app that Mounts
// them on its own mux wraps that mux:
//
//	srv := &http.Server{Handler: chatauth.CleanPathsOnly(mux)}
func CleanPathsOnly(next http.Handler) http.Handler {
	if next == nil {
		next = http.NotFoundHandler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !cleanRequestPath(r) {
			refuseUncleanPath(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refuseUncleanPath answers a path not in canonical form: 404, as for a
// path no route has.
func refuseUncleanPath(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]string{"detail": "not found"})
}

// cleanRequestPath reports whether ServeMux would take r's path as it is,
// rather than redirect to its cleaned form. CONNECT requests are not
// cleaned by ServeMux.
func cleanRequestPath(r *http.Request) bool {
	if r == nil || r.URL == nil || r.Method == http.MethodConnect {
		return true
	}
	p := r.URL.EscapedPath()
	return p == cleanPath(p)
}

// cleanPath is ServeMux's canonical form of a path: rooted, without empty,
// "." or ".." segments, a trailing slash kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}
