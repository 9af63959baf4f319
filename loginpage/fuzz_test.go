package loginpage

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chatauth/chatauth"
)

// FuzzPage feeds the page any query and Accept-Language: it answers 200
// or 303, never shows a message that is not one of its own, and never
// lets the query's text into the page but a safe redirect.
func FuzzPage(f *testing.F) {
	for _, seed := range [][2]string{
		{"error=invalid_state", "fr"}, {"error=throttled&retry_after=42", "ja;q=0.5,zh"},
		{"notice=logged_out&redirect=/t/1", "*"}, {"error=%3Cb%3E&redirect=//evil", "pt-PT;q=abc"},
		{"redirect=/a%22%3E%3Cscript%3E", "de-DE, en;q=0"},
	} {
		f.Add(seed[0], seed[1])
	}
	a := newAuth(f, chatauth.Config{})
	withPassword(a)
	withHeader(a)
	p, err := New(a, Options{})
	if err != nil {
		f.Fatal(err)
	}
	messages := map[string]bool{"": true}
	for _, m := range p.text.byTag {
		for _, text := range m {
			messages[text] = true
		}
	}
	f.Fuzz(func(t *testing.T, query, acceptLanguage string) {
		req := httptest.NewRequest(http.MethodGet, "/login", nil)
		req.URL.RawQuery = query
		req.Header.Set("Accept-Language", acceptLanguage)
		q := req.URL.Query()
		d := p.data(req, a.LoginMethods(), "/")
		if !messages[d.Notice] {
			t.Fatalf("notice %q is not one of the page's messages", d.Notice)
		}
		if !messages[d.Error] && !strings.Contains(d.Error, "{n}") {
			if n := q.Get("retry_after"); q.Get("error") != "throttled" || !strings.Contains(d.Error, " ") {
				t.Fatalf("error %q for %q (retry_after %q)", d.Error, q.Get("error"), n)
			}
		}
		w := httptest.NewRecorder()
		p.ServeHTTP(w, req)
		if w.Code != http.StatusOK && w.Code != http.StatusSeeOther {
			t.Fatalf("status %d", w.Code)
		}
		if r := q.Get("redirect"); r != "" && !a.IsSafeRedirect(r) && strings.Contains(w.Body.String(), url.QueryEscape(r)) && len(r) > 3 {
			t.Fatalf("an unsafe redirect %q reached the page", r)
		}
	})
}
